// Every command of the spec against the real redis-server of the globalSetup (server: 'redis').
// Keys carry this file's prefix: the shared server is used by other files in parallel, so nothing
// here flushes it or assumes its size. DBSIZE, "nothing was sent" (INFO commandstats) and CLUSTER
// NODES use private servers started in this file.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  GoCacheArgumentError,
  GoCacheClient,
  GoCacheCommandError,
} from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';

const P = 'it:commands:';
const MiB = 1024 * 1024;

let client: GoCacheClient<'redis'>;

beforeAll(async () => {
  client = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
});

afterAll(async () => {
  await client?.close();
});

/** Milliseconds left before `key` expires (PTTL; -1 no expiry, -2 missing). */
async function pttl(key: string): Promise<number> {
  return (await client.sendCommand(['PTTL', key])) as number;
}

describe('SET', () => {
  it('answers OK and stores the value', async () => {
    expect(await client.set(`${P}set:plain`, 'v')).toBe('OK');
    expect(await client.get(`${P}set:plain`)).toBe('v');
    expect(await pttl(`${P}set:plain`)).toBe(-1);
  });

  it('ex sets a TTL in seconds', async () => {
    expect(await client.set(`${P}set:ex`, 'v', { ex: 100 })).toBe('OK');
    const ttl = await client.ttl(`${P}set:ex`);
    expect(ttl).toBeGreaterThanOrEqual(99);
    expect(ttl).toBeLessThanOrEqual(100);
  });

  it('px sets a TTL in milliseconds', async () => {
    expect(await client.set(`${P}set:px`, 'v', { px: 50_000 })).toBe('OK');
    const ms = await pttl(`${P}set:px`);
    expect(ms).toBeGreaterThan(45_000);
    expect(ms).toBeLessThanOrEqual(50_000);
  });

  it('px expires after the milliseconds', async () => {
    await client.set(`${P}set:px-short`, 'v', { px: 60 });
    expect(await client.get(`${P}set:px-short`)).toBe('v');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await client.get(`${P}set:px-short`)).toBeNull();
  });

  it('exat with a Date expires at that second', async () => {
    const at = new Date(Date.now() + 100_000);
    expect(await client.set(`${P}set:exat-date`, 'v', { exat: at })).toBe('OK');
    const expireTime = (await client.sendCommand(['EXPIRETIME', `${P}set:exat-date`])) as number;
    expect(expireTime).toBe(Math.floor(at.getTime() / 1000));
  });

  it('exat with a number of seconds', async () => {
    const at = Math.floor(Date.now() / 1000) + 200;
    await client.set(`${P}set:exat-num`, 'v', { exat: at });
    expect(await client.sendCommand(['EXPIRETIME', `${P}set:exat-num`])).toBe(at);
  });

  it('pxat with a Date and with a number of milliseconds', async () => {
    const date = new Date(Date.now() + 100_000);
    await client.set(`${P}set:pxat-date`, 'v', { pxat: date });
    expect(await client.sendCommand(['PEXPIRETIME', `${P}set:pxat-date`])).toBe(date.getTime());
    const ms = Date.now() + 300_000;
    await client.set(`${P}set:pxat-num`, 'v', { pxat: ms });
    expect(await client.sendCommand(['PEXPIRETIME', `${P}set:pxat-num`])).toBe(ms);
  });

  it('an exat in the past deletes the key at once', async () => {
    await client.set(`${P}set:exat-past`, 'v', { exat: new Date(Date.now() - 10_000) });
    expect(await client.get(`${P}set:exat-past`)).toBeNull();
  });

  it('keepttl keeps the TTL; a plain SET clears it', async () => {
    await client.set(`${P}set:keepttl`, 'a', { ex: 100 });
    expect(await client.set(`${P}set:keepttl`, 'b', { keepttl: true })).toBe('OK');
    expect(await client.get(`${P}set:keepttl`)).toBe('b');
    expect(await client.ttl(`${P}set:keepttl`)).toBeGreaterThan(90);
    await client.set(`${P}set:keepttl`, 'c');
    expect(await client.ttl(`${P}set:keepttl`)).toBe(-1);
  });

  it('nx writes only a missing key, answering null otherwise', async () => {
    expect(await client.set(`${P}set:nx`, 'first', { nx: true })).toBe('OK');
    expect(await client.set(`${P}set:nx`, 'second', { nx: true })).toBeNull();
    expect(await client.get(`${P}set:nx`)).toBe('first');
  });

  it('xx writes only an existing key, answering null otherwise', async () => {
    expect(await client.set(`${P}set:xx`, 'first', { xx: true })).toBeNull();
    expect(await client.get(`${P}set:xx`)).toBeNull();
    await client.set(`${P}set:xx`, 'first');
    expect(await client.set(`${P}set:xx`, 'second', { xx: true })).toBe('OK');
    expect(await client.get(`${P}set:xx`)).toBe('second');
  });

  it('get answers the old value (null when there was none)', async () => {
    expect(await client.set(`${P}set:get`, 'one', { get: true })).toBeNull();
    expect(await client.set(`${P}set:get`, 'two', { get: true })).toBe('one');
    expect(await client.get(`${P}set:get`)).toBe('two');
    const asBuffer = await client.buffers.set(`${P}set:get`, 'three', { get: true });
    expect(asBuffer).toEqual(Buffer.from('two'));
  });

  it('get combines with ex and with nx', async () => {
    await client.set(`${P}set:get-ex`, 'old');
    expect(await client.set(`${P}set:get-ex`, 'new', { get: true, ex: 100 })).toBe('old');
    expect(await client.ttl(`${P}set:get-ex`)).toBeGreaterThan(90);
    // NX + GET (Redis ≥ 7.0): the key exists, so nothing is written and the old value comes back.
    expect(await client.set(`${P}set:get-ex`, 'newer', { get: true, nx: true })).toBe('new');
    expect(await client.get(`${P}set:get-ex`)).toBe('new');
  });

  it('get on a key of another type is the server error, with its code', async () => {
    await client.hset(`${P}set:get-wrongtype`, { f: 'v' });
    const error = await client.set(`${P}set:get-wrongtype`, 'v', { get: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).code).toBe('WRONGTYPE');
    expect((error as GoCacheCommandError).command).toBe('SET');
  });

  it('false flags are the same as absent ones', async () => {
    await client.set(`${P}set:false-flags`, 'a');
    expect(await client.set(`${P}set:false-flags`, 'b', { nx: false, xx: false, get: false } as any)).toBe('OK');
    expect(await client.get(`${P}set:false-flags`)).toBe('b');
  });
});

describe('rejected calls: runtime checks for callers without types', () => {
  // A private server: its command statistics only move with what this file sends.
  let server: RedisServerHandle;
  let own: GoCacheClient<'redis'>;

  beforeAll(async () => {
    server = await startRedisServer();
    own = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis' });
  });

  afterAll(async () => {
    await own?.close();
    await server?.stop();
  });

  /** Calls per command, from INFO commandstats, without INFO itself. */
  async function commandCalls(): Promise<Record<string, number>> {
    const info = (await own.sendCommand(['INFO', 'commandstats'])) as string;
    const calls: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (match[1] !== 'info') calls[match[1]!] = Number(match[2]);
    }
    return calls;
  }

  const setCases: Array<[string, unknown, RegExp]> = [
    ['ex with px', { ex: 1, px: 5 }, /ex and px cannot be used together/],
    ['ex with keepttl', { ex: 1, keepttl: true }, /cannot be used together/],
    ['exat with pxat', { exat: 1, pxat: 1 }, /cannot be used together/],
    ['nx with xx', { nx: true, xx: true }, /nx and xx cannot be used together/],
    ['a negative ex', { ex: -1 }, /ex must be a positive integer/],
    ['ex of 0', { ex: 0 }, /ex must be a positive integer/],
    ['a fractional ex', { ex: 1.5 }, /ex must be an integer/],
    ['ex NaN', { ex: NaN }, /ex must be an integer/],
    ['ex Infinity', { ex: Infinity }, /ex must be an integer/],
    ['ex as a string', { ex: '10' }, /ex must be an integer/],
    ['ex null', { ex: null }, /ex must be an integer/],
    ['a negative px', { px: -5 }, /px must be a positive integer/],
    ['an invalid Date for exat', { exat: new Date(Number.NaN) }, /exat must be a Unix time/],
    ['a negative pxat', { pxat: -1 }, /pxat must be a Unix time/],
    ['an unknown option (EX in capitals)', { EX: 60 }, /unknown option "EX"/],
    ['an unknown option', { ttl: 60 }, /unknown option "ttl"/],
    ['a non-boolean flag', { nx: 'yes' }, /nx must be true or false/],
    ['keepttl: 1', { keepttl: 1 }, /keepttl must be true or false/],
    ['options null', null, /options must be an object/],
    ['options as a string', 'EX 10', /options must be an object/],
  ];

  it.each(setCases)('set with %s rejects with GoCacheArgumentError and sends nothing', async (_title, options, message) => {
    const before = await commandCalls();
    const call = own.set(`${P}rejected`, 'v', options as any);
    await expect(call).rejects.toBeInstanceOf(GoCacheArgumentError);
    await expect(call).rejects.toThrow(message);
    expect(await commandCalls()).toEqual(before);
  });

  const otherCases: Array<[string, () => Promise<unknown>]> = [
    ['a value that is an object', () => own.set(`${P}rejected`, { a: 1 } as any)],
    ['a value that is null', () => own.set(`${P}rejected`, null as any)],
    ['a value that is NaN', () => own.set(`${P}rejected`, NaN)],
    ['a value that is Infinity', () => own.set(`${P}rejected`, Infinity)],
    ['a key that is a number', () => own.get(42 as any)],
    ['a key that is undefined', () => own.get(undefined as any)],
    ['del with no key', () => (own.del as any)()],
    ['mget with no key', () => (own.mget as any)()],
    ['mset with no pair', () => own.mset({})],
    ['hset with no field', () => own.hset(`${P}rejected`, {})],
    ['hset with a bad pair', () => own.hset(`${P}rejected`, [['f'] as any])],
    ['incrby with a fraction', () => own.incrby(`${P}rejected`, 1.5)],
    ['expire with a fraction', () => own.expire(`${P}rejected`, 1.5)],
    ['expire with nx and xx', () => own.expire(`${P}rejected`, 10, { nx: true, xx: true } as any)],
    ['expire with gt and lt', () => own.expire(`${P}rejected`, 10, { gt: true, lt: true } as any)],
    ['expire with an unknown option', () => own.expire(`${P}rejected`, 10, { NX: true } as any)],
    ['sendCommand with no name', () => own.sendCommand([])],
    ['sendCommand with an object argument', () => own.sendCommand(['SET', 'k', {} as any])],
  ];

  it.each(otherCases)('%s rejects with GoCacheArgumentError and sends nothing', async (_title, call) => {
    const before = await commandCalls();
    await expect(call()).rejects.toBeInstanceOf(GoCacheArgumentError);
    expect(await commandCalls()).toEqual(before);
  });

  it('a rejected call in a batch leaves the other commands of the batch intact', async () => {
    const before = await commandCalls();
    const results = await Promise.allSettled([
      own.set(`${P}batch`, 'ok'),
      own.set(`${P}batch`, 'bad', { ex: 1, px: 5 } as any),
      own.get(`${P}batch`),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'OK' });
    expect(results[1]?.status).toBe('rejected');
    expect(results[2]).toEqual({ status: 'fulfilled', value: 'ok' });
    const after = await commandCalls();
    expect(after['set']).toBe((before['set'] ?? 0) + 1);
    expect(after['get']).toBe((before['get'] ?? 0) + 1);
  });

  it('the commandstats probe does see what is sent', async () => {
    const before = await commandCalls();
    await own.set(`${P}probe`, 'v', { ex: 10 });
    const after = await commandCalls();
    expect(after['set']).toBe((before['set'] ?? 0) + 1);
  });
});

describe('values', () => {
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

  it('all 256 byte values round-trip byte for byte through buffers', async () => {
    await client.set(`${P}bin:all`, allBytes);
    const back = await client.buffers.get(`${P}bin:all`);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back!.equals(allBytes)).toBe(true);
  });

  it('binary keys: all 256 byte values as a key', async () => {
    const key = Buffer.concat([Buffer.from(P), allBytes]);
    await client.set(key, 'binary-key');
    expect(await client.get(key)).toBe('binary-key');
    expect(await client.exists(key)).toBe(1);
    expect(await client.del(key)).toBe(1);
  });

  it('invalid UTF-8 round-trips through buffers; the string view replaces it', async () => {
    const invalid = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x00]);
    await client.set(`${P}bin:invalid-utf8`, invalid);
    expect((await client.buffers.get(`${P}bin:invalid-utf8`))!.equals(invalid)).toBe(true);
    expect(await client.get(`${P}bin:invalid-utf8`)).toBe(invalid.toString('utf8'));
  });

  it('CR, LF and CRLF inside values do not break framing', async () => {
    const value = '\r\n$5\r\nhello\r\n*1\r\n\n\r';
    await client.set(`${P}crlf`, value);
    expect(await client.get(`${P}crlf`)).toBe(value);
    expect(await client.ping()).toBe('PONG');
  });

  it('a Uint8Array value, also a view at an offset into a larger buffer', async () => {
    await client.set(`${P}u8`, new Uint8Array([1, 2, 3, 0, 255]));
    expect(await client.buffers.get(`${P}u8`)).toEqual(Buffer.from([1, 2, 3, 0, 255]));
    const backing = new Uint8Array([9, 9, 9, 10, 20, 30, 9, 9]);
    await client.set(`${P}u8-view`, backing.subarray(3, 6));
    expect(await client.buffers.get(`${P}u8-view`)).toEqual(Buffer.from([10, 20, 30]));
    await client.set(new Uint8Array(Buffer.from(`${P}u8-key`)), 'by-u8-key');
    expect(await client.get(`${P}u8-key`)).toBe('by-u8-key');
  });

  it.each([
    [42, '42'],
    [-7, '-7'],
    [0, '0'],
    [3.25, '3.25'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
  ])('the number %s is stored as %j', async (value, text) => {
    await client.set(`${P}num:${text}`, value);
    expect(await client.get(`${P}num:${text}`)).toBe(text);
  });

  it('the empty value (the empty key: on a private server, below)', async () => {
    await client.set(`${P}empty-value`, '');
    expect(await client.get(`${P}empty-value`)).toBe('');
    expect(await client.buffers.get(`${P}empty-value`)).toEqual(Buffer.alloc(0));
    expect(await client.buffers.get(`${P}no-such-key`)).toBeNull();
  });

  it('unicode keys and values (multi-byte, astral, combining)', async () => {
    const cases = ['こんにちは', '👍🏽 family: 👨‍👩‍👧‍👦', 'e\u0301 vs é', 'Ωmega ∑ ½ ß', '\u0000nul inside'];
    await Promise.all(cases.map((value, i) => client.set(`${P}uni:${i}:${value}`, value)));
    expect(await Promise.all(cases.map((value, i) => client.get(`${P}uni:${i}:${value}`)))).toEqual(cases);
    expect(await client.buffers.get(`${P}uni:0:こんにちは`)).toEqual(Buffer.from('こんにちは', 'utf8'));
  });

  it('a 1 MiB value of two-byte characters', async () => {
    const value = 'é'.repeat(MiB / 2);
    expect(Buffer.byteLength(value)).toBe(MiB);
    await client.set(`${P}big:1m`, value);
    const back = await client.get(`${P}big:1m`);
    expect(back?.length).toBe(value.length);
    expect(back === value).toBe(true);
  });

  it('a 16 MiB binary value round-trips byte for byte', async () => {
    const value = randomBytes(16 * MiB);
    await client.set(`${P}big:16m`, value);
    const back = await client.buffers.get(`${P}big:16m`);
    expect(back?.length).toBe(value.length);
    expect(back!.equals(value)).toBe(true);
    expect(await client.sendCommand(['STRLEN', `${P}big:16m`])).toBe(16 * MiB);
    await client.del(`${P}big:16m`);
  });
});

describe('GET / MGET / MSET', () => {
  it('mget answers null for missing keys, in order', async () => {
    await client.set(`${P}mget:a`, 'A');
    await client.set(`${P}mget:c`, 'C');
    expect(await client.mget(`${P}mget:a`, `${P}mget:b`, `${P}mget:c`, `${P}mget:a`)).toEqual(['A', null, 'C', 'A']);
    expect(await client.buffers.mget(`${P}mget:a`, `${P}mget:b`)).toEqual([Buffer.from('A'), null]);
    expect(await client.mget(`${P}mget:none`)).toEqual([null]);
  });

  it('mset takes a record, a Map and an array of pairs', async () => {
    expect(await client.mset({ [`${P}mset:r1`]: 'a', [`${P}mset:r2`]: 2 })).toBe('OK');
    expect(await client.mset(new Map<string, string | Buffer>([[`${P}mset:m1`, 'b'], [`${P}mset:m2`, Buffer.from([0, 1])]]))).toBe('OK');
    expect(await client.mset([[`${P}mset:p1`, 'c'], [Buffer.from(`${P}mset:p2`), 'd']])).toBe('OK');
    expect(await client.mget(`${P}mset:r1`, `${P}mset:r2`, `${P}mset:m1`, `${P}mset:p1`, `${P}mset:p2`)).toEqual(['a', '2', 'b', 'c', 'd']);
    expect(await client.buffers.get(`${P}mset:m2`)).toEqual(Buffer.from([0, 1]));
  });
});

describe('DEL / EXISTS', () => {
  it('del counts only the keys removed', async () => {
    await client.mset({ [`${P}del:a`]: '1', [`${P}del:b`]: '2' });
    expect(await client.del(`${P}del:a`, `${P}del:b`, `${P}del:c`)).toBe(2);
    expect(await client.del(`${P}del:a`)).toBe(0);
  });

  it('exists counts a key named twice twice', async () => {
    await client.set(`${P}exists:a`, '1');
    expect(await client.exists(`${P}exists:a`)).toBe(1);
    expect(await client.exists(`${P}exists:a`, `${P}exists:a`)).toBe(2);
    expect(await client.exists(`${P}exists:a`, `${P}exists:missing`, `${P}exists:a`)).toBe(2);
    expect(await client.exists(`${P}exists:missing`)).toBe(0);
  });
});

describe('INCR / DECR / INCRBY', () => {
  it.each<[string, (key: string) => Promise<number>, number]>([
    ['incr', (key) => client.incr(key), 1],
    ['decr', (key) => client.decr(key), -1],
    ['incrby 5', (key) => client.incrby(key, 5), 5],
    ['incrby -3', (key) => client.incrby(key, -3), -3],
    ['incrby 0', (key) => client.incrby(key, 0), 0],
  ])('%s on a missing key counts from 0', async (title, call, expected) => {
    expect(await call(`${P}counter:missing:${title}`)).toBe(expected);
  });

  it('counts up and down from a stored value', async () => {
    await client.set(`${P}counter`, 10);
    expect(await client.incr(`${P}counter`)).toBe(11);
    expect(await client.incrby(`${P}counter`, 100)).toBe(111);
    expect(await client.decr(`${P}counter`)).toBe(110);
    expect(await client.incrby(`${P}counter`, -120)).toBe(-10);
    expect(await client.get(`${P}counter`)).toBe('-10');
  });

  it('a large increment within the safe integer range', async () => {
    await client.set(`${P}counter:large`, 0);
    expect(await client.incrby(`${P}counter:large`, 2 ** 52)).toBe(2 ** 52);
  });

  it('a non-integer value is the server error ERR, and the connection goes on', async () => {
    await client.set(`${P}counter:text`, 'abc');
    const error = await client.incr(`${P}counter:text`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).code).toBe('ERR');
    expect((error as GoCacheCommandError).message).toBe('ERR value is not an integer or out of range');
    expect((error as GoCacheCommandError).command).toBe('INCR');
    expect(await client.get(`${P}counter:text`)).toBe('abc');
  });

  it('an overflow is the server error', async () => {
    await client.set(`${P}counter:max`, '9223372036854775807');
    await expect(client.incr(`${P}counter:max`)).rejects.toThrow(/overflow/);
  });
});

describe('EXPIRE / TTL', () => {
  it('ttl: -2 for a missing key, -1 without expiry, seconds left otherwise', async () => {
    expect(await client.ttl(`${P}ttl:missing`)).toBe(-2);
    await client.set(`${P}ttl:plain`, 'v');
    expect(await client.ttl(`${P}ttl:plain`)).toBe(-1);
    expect(await client.expire(`${P}ttl:plain`, 50)).toBe(true);
    expect(await client.ttl(`${P}ttl:plain`)).toBeGreaterThanOrEqual(49);
  });

  it('expire of a missing key is false', async () => {
    expect(await client.expire(`${P}expire:missing`, 10)).toBe(false);
  });

  it('expire with a negative time deletes the key', async () => {
    await client.set(`${P}expire:negative`, 'v');
    expect(await client.expire(`${P}expire:negative`, -1)).toBe(true);
    expect(await client.get(`${P}expire:negative`)).toBeNull();
  });

  // [title, TTL set first (null: none), seconds, options, result, TTL range after]
  const conditionCases: Array<[string, number | null, number, Parameters<GoCacheClient<'redis'>['expire']>[2], boolean, [number, number]]> = [
    ['nx without a TTL sets it', null, 100, { nx: true }, true, [99, 100]],
    ['nx with a TTL does nothing', 100, 500, { nx: true }, false, [99, 100]],
    ['xx without a TTL does nothing', null, 100, { xx: true }, false, [-1, -1]],
    ['xx with a TTL replaces it', 100, 500, { xx: true }, true, [499, 500]],
    ['gt with a greater TTL replaces it', 100, 500, { gt: true }, true, [499, 500]],
    ['gt with a smaller TTL does nothing', 100, 50, { gt: true }, false, [99, 100]],
    ['gt without a TTL does nothing (no TTL is infinite)', null, 100, { gt: true }, false, [-1, -1]],
    ['lt with a smaller TTL replaces it', 100, 50, { lt: true }, true, [49, 50]],
    ['lt with a greater TTL does nothing', 100, 500, { lt: true }, false, [99, 100]],
    ['lt without a TTL sets it', null, 100, { lt: true }, true, [99, 100]],
    ['an empty options object is a plain expire', 100, 500, {}, true, [499, 500]],
  ];

  it.each(conditionCases)('expire: %s', async (title, initial, seconds, options, result, [low, high]) => {
    const key = `${P}expire:cond:${title}`;
    await client.set(key, 'v', initial === null ? undefined : { ex: initial });
    expect(await client.expire(key, seconds, options)).toBe(result);
    const ttl = await client.ttl(key);
    expect(ttl).toBeGreaterThanOrEqual(low);
    expect(ttl).toBeLessThanOrEqual(high);
  });
});

describe('hashes', () => {
  it('hset counts new fields only; hget answers the value or null', async () => {
    expect(await client.hset(`${P}hash`, { name: 'Ada', lang: 'en' })).toBe(2);
    expect(await client.hset(`${P}hash`, { lang: 'fr', age: 36 })).toBe(1);
    expect(await client.hget(`${P}hash`, 'lang')).toBe('fr');
    expect(await client.hget(`${P}hash`, 'age')).toBe('36');
    expect(await client.hget(`${P}hash`, 'missing')).toBeNull();
    expect(await client.hget(`${P}hash:missing`, 'name')).toBeNull();
    expect(await client.buffers.hget(`${P}hash`, 'name')).toEqual(Buffer.from('Ada'));
  });

  it('hset takes a Map and pairs too, with binary values', async () => {
    expect(await client.hset(`${P}hash:forms`, new Map([['m', 'map']]))).toBe(1);
    expect(await client.hset(`${P}hash:forms`, [['p', Buffer.from([0xff, 0x00])]])).toBe(1);
    expect((await client.buffers.hget(`${P}hash:forms`, 'p'))!.equals(Buffer.from([0xff, 0x00]))).toBe(true);
  });

  it('hgetall answers a null-prototype object; empty for a missing key', async () => {
    await client.hset(`${P}hash:all`, { a: '1', b: '2' });
    const all = await client.hgetall(`${P}hash:all`);
    expect(Object.getPrototypeOf(all)).toBeNull();
    expect({ ...all }).toEqual({ a: '1', b: '2' });
    const none = await client.hgetall(`${P}hash:all:missing`);
    expect(Object.keys(none)).toEqual([]);
    const asBuffers = await client.buffers.hgetall(`${P}hash:all`);
    expect(asBuffers['a']).toEqual(Buffer.from('1'));
  });

  it('hgetall with __proto__, constructor and prototype fields: own keys, prototypes untouched', async () => {
    const fields = Object.fromEntries([
      ['__proto__', '{"polluted":"yes"}'],
      ['constructor', 'ctor'],
      ['prototype', 'proto'],
      ['toString', 'str'],
      ['hasOwnProperty', 'own'],
    ]) as Record<string, string>;
    expect(Object.keys(fields)).toContain('__proto__');
    expect(await client.hset(`${P}hash:proto`, fields)).toBe(5);
    const all = await client.hgetall(`${P}hash:proto`);
    expect(Object.getPrototypeOf(all)).toBeNull();
    expect(Object.keys(all).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'prototype', 'toString']);
    expect(Object.hasOwn(all, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(all, '__proto__')?.value).toBe('{"polluted":"yes"}');
    expect(all['constructor']).toBe('ctor');
    expect(all['toString']).toBe('str');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(({} as { constructor: unknown }).constructor).toBe(Object);
  });

  it('a hash command on a string key is WRONGTYPE', async () => {
    await client.set(`${P}hash:string`, 'v');
    const error = await client.hgetall(`${P}hash:string`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).code).toBe('WRONGTYPE');
  });
});

describe('connection commands', () => {
  it('ping answers PONG, or the message', async () => {
    expect(await client.ping()).toBe('PONG');
    expect(await client.ping('hello world')).toBe('hello world');
    expect(await client.ping('')).toBe('');
    expect(await client.buffers.ping(Buffer.from([0, 255]))).toEqual(Buffer.from([0, 255]));
  });

  it('echo answers the message, also binary and unicode', async () => {
    expect(await client.echo('Hello World!')).toBe('Hello World!');
    expect(await client.echo('こんにちは')).toBe('こんにちは');
    expect(await client.echo('')).toBe('');
    expect(await client.buffers.echo(Buffer.from([0xc3, 0x28]))).toEqual(Buffer.from([0xc3, 0x28]));
  });

  it('publish to a channel nobody listens to answers 0', async () => {
    expect(await client.publish(`${P}channel`, 'hello')).toBe(0);
    expect(await client.publish(Buffer.from(`${P}channel`), Buffer.from([0, 1, 2]))).toBe(0);
  });
});

describe('private servers: DBSIZE and a read-only replica', () => {
  let server: RedisServerHandle;
  let replica: RedisServerHandle;
  let own: GoCacheClient<'redis'>;

  beforeAll(async () => {
    server = await startRedisServer();
    replica = await startRedisServer({ args: ['--replicaof', server.host, String(server.port)] });
    own = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis' });
  });

  afterAll(async () => {
    await own?.close();
    await replica?.stop();
    await server?.stop();
  });

  it('dbsize counts the keys', async () => {
    expect(await own.dbsize()).toBe(0);
    await own.mset({ a: '1', b: '2', c: '3' });
    expect(await own.dbsize()).toBe(3);
    await own.del('a');
    expect(await own.dbsize()).toBe(2);
  });

  it('the empty key (here, because the shared server has only one)', async () => {
    expect(await own.set('', 'under the empty key')).toBe('OK');
    expect(await own.get('')).toBe('under the empty key');
    expect(await own.exists('')).toBe(1);
    expect(await own.del('')).toBe(1);
    expect(await own.get('')).toBeNull();
  });

  it("a write to a replica is Redis's READONLY error, recognised as read-only", async () => {
    await using onReplica = await GoCacheClient.connect({ host: replica.host, port: replica.port, server: 'redis' });
    const error = await onReplica.set('k', 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).code).toBe('READONLY');
    expect((error as GoCacheCommandError).readOnly).toBe(true);
    expect((error as GoCacheCommandError).message).toMatch(/^READONLY You can't write against a read only replica/);
    // The primary still takes writes.
    expect(await own.incr('counter')).toBe(1);
  });
});

describe('CLUSTER NODES (private one-node cluster)', () => {
  let server: RedisServerHandle;
  let own: GoCacheClient<'redis'>;

  beforeAll(async () => {
    server = await startRedisServer({ cluster: true });
    own = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis' });
  });

  afterAll(async () => {
    await own?.close();
    await server?.stop();
  });

  it('lists one node: itself, a master serving every slot', async () => {
    const nodes = await own.clusterNodes();
    expect(nodes).toHaveLength(1);
    const [node] = nodes;
    expect(node!.id).toMatch(/^[0-9a-f]{40}$/);
    // A node that has met no other node does not know its own IP: Redis sends `:port@cport`.
    expect(['', server.host]).toContain(node!.host);
    expect(node!.port).toBe(server.port);
    expect(node!.flags).toContain('myself');
    expect(node!.flags).toContain('master');
    expect(node!.status).toBe('connected');
    expect(node!.master).toBeUndefined();
    expect(node!.slots).toEqual(['0-16383']);
    const myId = await own.sendCommand(['CLUSTER', 'MYID']);
    expect(node!.id).toBe(myId);
  });

  it('on a server not in cluster mode it is the server error', async () => {
    const error = await client.clusterNodes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).message).toMatch(/cluster support disabled/);
  });
});
