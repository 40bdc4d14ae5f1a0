/**
 * Part two: `{ server: 'redis' }` gives a client with the whole Redis surface, typed per command and
 * per option.
 */
import { GoCacheClient, GoCacheCommandError, type RedisServerOptions } from '../src/index.js';
import { heading, rejection, show } from './print.js';

/** Every key this part writes: deleted first (so a second run prints the same) and at the end. */
const KEYS = ['visits', 'counter', 'balance', 'product:1', 'product:2', 'product:3', 'user:1', 'user:1000', 'board', 'events'] as const;

export async function redisMode(options: RedisServerOptions): Promise<void> {
  await using redis = await GoCacheClient.connect(options);
  console.log(`\n=== Part two: Redis mode, { server: 'redis' }: redis.server is '${redis.server}' ===`);
  await redis.del(...KEYS);

  heading('Pipeline: typed per position');
  const replies: ['OK' | null, number, string | null] = await redis.pipeline().set('visits', '10').incr('visits').get('visits').exec();
  show("redis.pipeline().set('visits', '10').incr('visits').get('visits').exec()", replies);

  heading('Transactions');
  show("redis.multi().set('counter', '1').incr('counter').exec()", await redis.multi().set('counter', '1').incr('counter').exec());
  show("redis.set('balance', '100')", await redis.set('balance', '100'));
  let attempts = 0;
  const [, balance] = await redis.watch(['balance'], async (tx) => {
    const before = Number(await tx.get('balance'));
    // Another client changes the watched key, once: EXEC then answers null and watch() starts over.
    if (++attempts === 1) await redis.incrby('balance', 5);
    return tx.multi().set('balance', String(before - 10)).get('balance');
  });
  show("redis.watch(['balance'], (tx) => withdraw 10 from balance)", balance);
  show('  attempts (the first one lost the race)', attempts);

  heading('Pattern subscription');
  await using orders = await redis.psubscribe('orders:*');
  show("redis.psubscribe('orders:*')", orders);
  show("redis.publish('orders:eu', 'order #1')", await redis.publish('orders:eu', 'order #1'));
  for await (const message of orders) {
    show('for await (const message of subscription)', message);
    break;
  }

  heading('Iterating keys with SCAN');
  await redis.mset({ 'product:1': 'pen', 'product:2': 'ink', 'product:3': 'pad' });
  const products: string[] = [];
  for await (const key of redis.scanIterator({ match: 'product:*' })) products.push(key);
  show("redis.scanIterator({ match: 'product:*' }), sorted", products.sort());

  heading('Hashes, sorted sets, and options that change the reply type');
  show("redis.hset('user:1', { name: 'Ada', lang: 'en' })", await redis.hset('user:1', { name: 'Ada', lang: 'en' }));
  show("redis.hgetall('user:1')", await redis.hgetall('user:1'));
  show("redis.zadd('board', [{ score: 3, member: 'ada' }, { score: 1, member: 'bob' }])", await redis.zadd('board', [{ score: 3, member: 'ada' }, { score: 1, member: 'bob' }]));
  show("redis.zrange('board', 0, -1)", await redis.zrange('board', 0, -1));
  show("redis.zrange('board', 0, -1, { withscores: true })", await redis.zrange('board', 0, -1, { withscores: true }));
  show("redis.set('user:1000', 'Eric')", await redis.set('user:1000', 'Eric'));
  show("redis.set('user:1000', 'Ada', { get: true })", await redis.set('user:1000', 'Ada', { get: true }));

  heading('Streams');
  show("redis.xadd('events', '1-1', { type: 'login', user: 'ada' })", await redis.xadd('events', '1-1', { type: 'login', user: 'ada' }));
  show("redis.xadd('events', '2-1', { type: 'logout', user: 'ada' })", await redis.xadd('events', '2-1', { type: 'logout', user: 'ada' }));
  show("redis.xrange('events', '-', '+', { count: 1 })", await redis.xrange('events', '-', '+', { count: 1 }));
  show("redis.xread({ events: '1-1' })", await redis.xread({ events: '1-1' }));

  heading('A raw command: sent as given, its reply typed by the caller');
  show("redis.objectEncoding('counter')", await redis.objectEncoding('counter'));
  show("redis.sendCommand<string>(['OBJECT', 'ENCODING', 'counter'])", await redis.sendCommand<string>(['OBJECT', 'ENCODING', 'counter']));

  heading("Errors: the server's text intact, and its code");
  const error = await rejection(redis.hgetall('user:1000'));
  if (!(error instanceof GoCacheCommandError)) throw error;
  show("redis.hgetall('user:1000')", error);
  show('  error.code', error.code);

  heading('Clean up');
  show(`redis.del(...keys) (the ${KEYS.length} keys written above)`, await redis.del(...KEYS));
}
