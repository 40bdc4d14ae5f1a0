/** Cursor iterators (declared in the spec) and runScript, against a real redis-server. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GoCacheArgumentError, GoCacheClient } from '../../src/index.js';

const prefix = 'it:iter:';
let client: GoCacheClient<'redis'>;

beforeAll(async () => {
  client = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
  await client.mset(Array.from({ length: 250 }, (_, i) => [`${prefix}k${i}`, String(i)] as const));
  await client.hset(`${prefix}hash`, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`])));
  await client.sadd(`${prefix}set`, 'm0', ...Array.from({ length: 299 }, (_, i) => `m${i + 1}`));
  await client.zadd(`${prefix}zset`, Array.from({ length: 300 }, (_, i) => ({ score: i, member: `z${i}` })));
});

afterAll(async () => {
  await client.close();
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('cursor iterators follow the cursor to the end', () => {
  it('scanIterator with MATCH and a small COUNT visits every matching key', async () => {
    const keys = await collect(client.scanIterator({ match: `${prefix}k*`, count: 10 }));
    expect(new Set(keys)).toEqual(new Set(Array.from({ length: 250 }, (_, i) => `${prefix}k${i}`)));
  });

  it('scanIterator with TYPE only yields keys of that type', async () => {
    const keys = await collect(client.scanIterator({ match: `${prefix}*`, type: 'hash' }));
    expect(keys).toEqual([`${prefix}hash`]);
  });

  it('hscanIterator yields [field, value] pairs', async () => {
    const pairs = await collect(client.hscanIterator(`${prefix}hash`, { count: 7 }));
    expect(new Map(pairs)).toEqual(new Map(Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`])));
  });

  it('sscanIterator yields members', async () => {
    const members = await collect(client.sscanIterator(`${prefix}set`, { match: 'm1*' }));
    expect(new Set(members)).toEqual(new Set(Array.from({ length: 300 }, (_, i) => `m${i}`).filter((m) => m.startsWith('m1'))));
  });

  it('zscanIterator yields [member, score] pairs with numeric scores', async () => {
    const pairs = await collect(client.zscanIterator(`${prefix}zset`));
    expect(pairs).toHaveLength(300);
    expect(new Map(pairs).get('z42')).toBe(42);
  });

  it('the buffers view iterates Buffers', async () => {
    const keys = await collect(client.buffers.scanIterator({ match: `${prefix}hash` }));
    expect(keys.map((k) => Buffer.isBuffer(k) && k.toString())).toEqual([`${prefix}hash`]);
  });

  it('an iterator of a missing key yields nothing', async () => {
    expect(await collect(client.hscanIterator(`${prefix}missing`))).toEqual([]);
  });

  it('a bad option rejects the iteration before anything is sent', async () => {
    await expect(collect(client.scanIterator({ count: 0 }))).rejects.toBeInstanceOf(GoCacheArgumentError);
  });
});

describe('runScript', () => {
  const script = `return {KEYS[1], ARGV[1], '${Date.now()}'}`;

  it('loads the script with EVAL on NOSCRIPT, then runs it by SHA', async () => {
    await client.scriptFlush();
    const first = await client.runScript(script, [`${prefix}s`], ['a']);
    expect((first as string[]).slice(0, 2)).toEqual([`${prefix}s`, 'a']);
    const sha = (await client.scriptLoad(script)) as string;
    expect(await client.scriptExists(sha)).toEqual([true]);
    const again = await client.runScript(script, [`${prefix}s`], ['b']);
    expect((again as string[]).slice(0, 2)).toEqual([`${prefix}s`, 'b']);
  });

  it('passes other errors through', async () => {
    await expect(client.runScript('return redis.call("NOSUCH")')).rejects.toThrow(/Unknown Redis command|unknown command/i);
  });
});
