import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['testkit/global-setup.ts'],
    // Every worker refuses connections outside loopback (testkit/loopback-guard.ts), and every test
    // must make at least one assertion (testkit/assertions.ts).
    setupFiles: ['testkit/loopback-guard.ts', 'testkit/assertions.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
