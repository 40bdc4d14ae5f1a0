/**
 * `make demo`: runs examples/ against GOCACHE_URL when it is set (gocache://host:port or
 * redis://host:port), otherwise against a redis-server started here on a free port and stopped after.
 */
import { startRedisServer } from '../testkit/redis-server.js';
import { connectionRefused, quickstart } from './quickstart.js';

const url = process.env['GOCACHE_URL'];
if (url) {
  await quickstart({ url });
} else {
  const server = await startRedisServer();
  console.log(`Started redis-server ${server.version} on ${server.host}:${server.port} (set GOCACHE_URL to use your own server)`);
  try {
    await quickstart({ host: server.host, port: server.port, server: 'redis' });
  } finally {
    await server.stop();
  }
}
await connectionRefused();
