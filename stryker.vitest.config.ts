// The vitest configuration `make mutate` (StrykerJS, stryker.config.mjs) runs: the project's own
// (global redis-server, loopback guard, an assertion in every test), restricted to the tests that
// exercise the mutated files (chosen in stryker.config.mjs, passed in STRYKER_TEST_FILES), without
// the few tests too slow to rerun for each mutant (stryker.setup.ts).
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

const files = process.env['STRYKER_TEST_FILES'];
if (files === undefined) throw new Error('stryker.vitest.config.ts is for `make mutate` (stryker.config.mjs sets STRYKER_TEST_FILES)');

// The include list is replaced, not merged (mergeConfig would append to the project's).
export default defineConfig({
  ...base,
  // isolate: false keeps the imported modules between Stryker's many runs in a worker: a mutant is
  // switched on at run time, not by importing the file again.
  test: {
    ...base.test,
    include: JSON.parse(files) as string[],
    isolate: false,
    // Tests too slow to rerun for each mutant are left out by name (stryker.setup.ts).
    setupFiles: [...(base.test?.setupFiles as string[]), 'stryker.setup.ts'],
  },
});
