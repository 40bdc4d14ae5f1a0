import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['testkit/global-setup.ts'],
    // Every worker refuses connections outside loopback (testkit/loopback-guard.ts), and every test
    // must make at least one assertion (testkit/assertions.ts).
    setupFiles: ['testkit/loopback-guard.ts', 'testkit/assertions.ts'],
    // One worker per core, at least two (vitest's default leaves one core idle): much of the suite
    // waits on redis-server, child compilers and sockets, so on this 2-core machine two workers took
    // the suite from 138 s to 77 s.
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
