import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/harness/global-setup.ts'],
    // Every worker refuses connections outside loopback (tests/harness/loopback-guard.ts).
    setupFiles: ['tests/harness/loopback-guard.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
