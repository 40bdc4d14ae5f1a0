// vitest globalSetup: one real redis-server for the whole run, shared with tests through provide/inject:
//   import { inject } from 'vitest';
//   const port = inject('redisPort');
// If the server cannot be started (for example redis-server is not installed) setup throws and the
// whole run fails: integration tests are never skipped, locally or in CI.
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisHost: string;
    redisPort: number;
    redisVersion: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server;
  try {
    server = await startRedisServer();
  } catch (err) {
    throw new Error(`test harness: cannot start redis-server for the test run: ${(err as Error).message}`, { cause: err });
  }
  project.provide('redisHost', server.host);
  project.provide('redisPort', server.port);
  project.provide('redisVersion', server.version);
  return async () => {
    await server.stop();
  };
}
