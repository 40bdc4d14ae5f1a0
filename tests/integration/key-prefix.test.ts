// keyPrefix against a real redis-server: every argument the spec marks as a key gets the prefix (in
// commands, pipelines, transactions, scripts' KEYS and watch()), values and channel names never do,
// KEYS/SCAN patterns are prefixed so a client sees only its own keys, and the keys replies name come
// back without the prefix. What is stored is checked through a client without a prefix.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { GoCacheArgumentError, GoCacheClient, type RedisClient } from '../../src/index.js';
import { rejection, within } from '../../testkit/promises.js';

const P = 'it:prefix:';
let raw: RedisClient;
let tenant: RedisClient;
let other: RedisClient;

/** Where the clients connect: the harness's redis-server, database 5 (6 for RANDOMKEY's own). */
const at = () => ({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' as const, database: 5 });

beforeAll(async () => {
  raw = await GoCacheClient.connect(at());
  await raw.flushdb();
  tenant = await GoCacheClient.connect({ ...at(), keyPrefix: `${P}a:` });
  other = await GoCacheClient.connect({ ...at(), keyPrefix: Buffer.from(`${P}b:`) });
});
afterAll(() => {
  raw?.disconnect();
  tenant?.disconnect();
  other?.disconnect();
});

it('keys get the prefix, values do not; each tenant reads its own', async () => {
  expect(await tenant.set('user', 'a:value')).toBe('OK');
  expect(await other.set('user', 'b:value')).toBe('OK');
  expect(await raw.get(`${P}a:user`)).toBe('a:value');
  expect(await raw.get(`${P}b:user`)).toBe('b:value');
  expect(await tenant.get('user')).toBe('a:value');
  expect(await other.buffers.get('user')).toEqual(Buffer.from('b:value'));
  expect(await tenant.mset({ m1: '1', m2: '2' })).toBe('OK');
  expect(await tenant.mget('m1', 'm2', 'user')).toEqual(['1', '2', 'a:value']);
  expect(await raw.exists(`${P}a:m1`, `${P}a:m2`)).toBe(2);
  // RENAME: both of its keys are keys.
  await tenant.rename('m2', 'm3');
  expect(await raw.get(`${P}a:m3`)).toBe('2');
});

it('in pipelines, transactions, scripts and watch()', async () => {
  expect(await tenant.pipeline().set('p', '1').incr('p').get('p').exec()).toEqual(['OK', 2, '2']);
  expect(await tenant.multi().set('t', 'x').get('t').exec()).toEqual(['OK', 'x']);
  expect(await raw.mget(`${P}a:p`, `${P}a:t`)).toEqual(['2', 'x']);
  expect(await tenant.eval('return KEYS[1]', ['s'], 'arg-not-a-key')).toBe(`${P}a:s`);
  expect(await tenant.eval('return ARGV[1]', ['s'], 'arg-not-a-key')).toBe('arg-not-a-key');
  const [result] = await tenant.watch(['w'], (tx) => tx.multi().set('w', 'watched'));
  expect(result).toBe('OK');
  expect(await raw.get(`${P}a:w`)).toBe('watched');
});

it('KEYS and SCAN see only the prefixed keys and answer them without the prefix; RANDOMKEY and BLPOP too', async () => {
  await raw.set('it:unprefixed', 'x');
  expect((await tenant.keys('*')).sort()).toEqual(['m1', 'm3', 'p', 't', 'user', 'w']);
  expect((await other.keys('*')).sort()).toEqual(['user']);
  const scanned: string[] = [];
  for await (const key of tenant.scanIterator({ match: 'm*' })) scanned.push(key);
  expect(scanned.sort()).toEqual(['m1', 'm3']);
  const [, page] = await other.scan('0', { count: 1000 });
  expect(page).toEqual(['user']);
  // RANDOMKEY picks from the whole database: a key of another prefix comes back as null, never as
  // a name that would read as the tenant's own. A database with one key makes the pick certain.
  const single = await GoCacheClient.connect({ ...at(), database: 6, keyPrefix: `${P}a:` });
  const singleRaw = await GoCacheClient.connect({ ...at(), database: 6 });
  try {
    await singleRaw.flushdb();
    await singleRaw.set('it:unprefixed', 'x');
    expect(await single.randomkey()).toBeNull();
    await singleRaw.flushdb();
    await single.set('mine', 'x');
    expect(await singleRaw.randomkey()).toBe(`${P}a:mine`);
    expect(await single.randomkey()).toBe('mine');
    await singleRaw.flushdb();
  } finally {
    single.disconnect();
    singleRaw.disconnect();
  }
  await tenant.rpush('queue', 'job');
  expect(await within(tenant.blpop(['queue'], 1), 10_000, 'BLPOP')).toEqual(['queue', 'job']);
  expect(await tenant.lmpop(['empty', 'queue'], 'LEFT')).toBeNull();
});

it('channel names are never prefixed: publish, subscribe, spublish and ssubscribe use them as given', async () => {
  const sub = await tenant.subscribe(`${P}news`);
  const shard = await tenant.ssubscribe(`${P}shard`);
  try {
    expect(await raw.publish(`${P}news`, 'hello')).toBe(1);
    expect(await tenant.publish(`${P}news`, 'again')).toBe(1);
    expect(await tenant.spublish(`${P}shard`, 'sharded')).toBe(1);
    const iterator = sub[Symbol.asyncIterator]();
    expect((await within(iterator.next(), 10_000, 'a message')).value).toEqual({ channel: `${P}news`, message: 'hello' });
    expect((await within(iterator.next(), 10_000, 'a message')).value).toEqual({ channel: `${P}news`, message: 'again' });
    expect((await within(shard.next(), 10_000, 'a shard message')).value).toEqual({ channel: `${P}shard`, message: 'sharded' });
  } finally {
    await sub.close();
    await shard.close();
  }
});

it('a keyPrefix that is neither a string nor a Buffer is refused', async () => {
  const error = await rejection(GoCacheClient.connect({ host: '127.0.0.1', port: 1, server: 'redis', keyPrefix: 42 as unknown as string }));
  expect(error).toBeInstanceOf(GoCacheArgumentError);
  expect((error as Error).message).toBe('keyPrefix must be a string or a Buffer, got number');
});
