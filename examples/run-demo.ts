/**
 * `make demo`: runs examples/ against GOCACHE_URL when it is set (gocache://host:port or
 * redis://host:port), otherwise against a redis-server started here on a free port and stopped after.
 */
import { startRedisServer } from '../testkit/redis-server.js';
import { connectionRefused, quickstart, redisTour } from './quickstart.js';

const url = process.env['GOCACHE_URL'];
if (url?.startsWith('redis://')) {
  await quickstart({ url: url.replace(/^redis:/, 'gocache:') });
  await redisTour({ url, server: 'redis' });
} else if (url) {
  await quickstart({ url });
} else {
  const server = await startRedisServer();
  console.log(`Started redis-server ${server.version} on ${server.host}:${server.port} (set GOCACHE_URL to use your own server)`);
  try {
    // redis-server answers GoCache's subset with the same bytes, so the GoCache client runs against it too.
    await quickstart({ host: server.host, port: server.port });
    await redisTour({ host: server.host, port: server.port, server: 'redis' });
  } finally {
    await server.stop();
  }
}
await connectionRefused();
