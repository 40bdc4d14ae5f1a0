// vitest setupFiles: every test must make at least one assertion. A test that asserts nothing passes
// whatever the code does (a missing `expect`, an `expect` in a callback that never runs, a check
// written as a bare expression), so it fails instead: `expect.hasAssertions()` before each test.
// There is no opt-out: a test that really checks nothing by assertion should say what it checks with one.
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});
