/**
 * `make demo`: part one (GoCache mode, the default client) and part two (Redis mode), each call
 * printed with its result. Against GOCACHE_URL when it is set: a gocache:// URL runs part one only
 * (GoCache does not serve the Redis commands of part two), a redis:// URL runs both. Otherwise
 * against a redis-server started here on a free loopback port and stopped after.
 * Exits non-zero, with the error, when anything fails.
 */
import { startRedisServer } from '../testkit/redis-server.js';
import { gocacheMode } from './gocache-mode.js';
import { redisMode } from './redis-mode.js';

async function main(url: string | undefined): Promise<void> {
  if (url?.startsWith('redis://')) {
    console.log(`Using GOCACHE_URL=${url}`);
    await gocacheMode({ url: url.replace(/^redis:/, 'gocache:') });
    await redisMode({ url, server: 'redis' });
  } else if (url !== undefined) {
    console.log(`Using GOCACHE_URL=${url}: part two (Redis mode) needs a redis:// URL, and is skipped`);
    await gocacheMode({ url });
  } else {
    const server = await startRedisServer();
    console.log(`Started redis-server ${server.version} on a free loopback port (set GOCACHE_URL to use your own server)`);
    try {
      await gocacheMode({ host: server.host, port: server.port });
      await redisMode({ host: server.host, port: server.port, server: 'redis' });
    } finally {
      await server.stop();
    }
  }
}

try {
  await main(process.env['GOCACHE_URL'] || undefined);
  console.log('\nDone.');
} catch (error) {
  console.error('\nThe demo failed:', error);
  process.exitCode = 1;
}
