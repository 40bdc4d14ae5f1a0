/**
 * The calls a GoCache user makes every day, each printed with its result, as GoCache's Python
 * client examples do. Run by `make demo` against a local server, or against GOCACHE_URL.
 */
import { GoCacheClient, GoCacheCommandError, GoCacheConnectionError, type GoCacheClientOptions, type RedisServerOptions } from '../src/index.js';

function show(call: string, result: unknown): void {
  console.log(`${call.padEnd(58)} -> ${typeof result === 'string' ? JSON.stringify(result) : inspectValue(result)}`);
}

function inspectValue(value: unknown): string {
  if (Buffer.isBuffer(value)) return `<Buffer ${value.toString('hex').replace(/(..)/g, '$1 ').trim()}>`;
  return JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && !Array.isArray(v) ? { ...v } : v));
}

/** GoCache's commands, through a client typed for GoCache (the default). */
export async function quickstart(options: GoCacheClientOptions): Promise<void> {
  await using cache = await GoCacheClient.connect(options);
  console.log(`Connected to ${cache.options.host}:${cache.options.port} (server: ${cache.options.server})\n`);

  show("await cache.ping()", await cache.ping());
  show("await cache.set('user:1000', 'Eric')", await cache.set('user:1000', 'Eric'));
  show("await cache.set('session:token', 'abc123', { ex: 60 })", await cache.set('session:token', 'abc123', { ex: 60 }));
  show("await cache.get('user:1000')", await cache.get('user:1000'));
  show("await cache.get('user:9999')", await cache.get('user:9999'));
  show("await cache.set('greeting', 'こんにちは')", await cache.set('greeting', 'こんにちは'));
  show("await cache.buffers.get('greeting')", await cache.buffers.get('greeting'));
  show("await cache.del('user:1000', 'greeting', 'nope')", await cache.del('user:1000', 'greeting', 'nope'));
  show("await Promise.all([3 gets, one socket write])", await Promise.all(Array.from({ length: 3 }, () => cache.get('session:token'))));

  try {
    await cache.sendCommand(['NOSUCHCOMMAND']);
  } catch (error) {
    if (error instanceof GoCacheCommandError) show("await cache.sendCommand(['NOSUCHCOMMAND'])", `${error.name}: ${error.message}`);
  }
  try {
    // @ts-expect-error -- a JavaScript caller's mistake: rejected before a byte is sent
    await cache.set('k', 'v', { ex: '60' });
  } catch (error) {
    show("await cache.set('k', 'v', { ex: '60' })", `${(error as Error).name}: ${(error as Error).message}`);
  }

}

/** What a client connected with `server: 'redis'` adds: every Redis command, typed. */
export async function redisTour(options: RedisServerOptions): Promise<void> {
  await using cache = await GoCacheClient.connect(options);
  console.log('\nRedis-only commands (they do not compile against a GoCache client):');
  show("await cache.set('user:1000', 'Ada', { px: 5000, get: true })", await cache.set('user:1000', 'Ada', { px: 5000, get: true }));
  show("await cache.incrby('visits', 5)", await cache.incrby('visits', 5));
  show("await cache.hset('user:1', { name: 'Ada', lang: 'en' })", await cache.hset('user:1', { name: 'Ada', lang: 'en' }));
  show("await cache.hgetall('user:1')", await cache.hgetall('user:1'));
  show("await cache.mget('user:1000', 'visits', 'nope')", await cache.mget('user:1000', 'visits', 'nope'));
  show("await cache.ttl('session:token')", await cache.ttl('session:token'));
  await cache.del('user:1000', 'visits', 'user:1', 'session:token');
}

export async function connectionRefused(): Promise<void> {
  try {
    await GoCacheClient.connect({ host: 'localhost', port: 19999 });
  } catch (error) {
    if (error instanceof GoCacheConnectionError) show('await GoCacheClient.connect({ port: 19999 })', `${error.name}: ${error.message}`);
  }
}
