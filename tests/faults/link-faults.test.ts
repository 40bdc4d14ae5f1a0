// Stall, slow drip, RST and one corrupted byte, through the fault proxy, against a redis-server of
// this file's own. Each command reads a key whose value names it, so a reply handed to the wrong
// command is seen; every promise must settle; a corrupted reply is a GoCacheProtocolError for that
// command and those after it on the connection (which then reconnects), or, when the corruption
// keeps valid RESP, the damaged value for that one command only.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GoCacheClient, GoCacheConnectionError, GoCacheProtocolError, GoCacheTimeoutError, type ClientOptions, type RedisClient } from '../../src/index.js';
import { startFaultProxy, type FaultProxy, type ProxyConnection } from '../../testkit/fault-proxy.js';
import { within } from '../../testkit/promises.js';
import { redisCommand, startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { nextEvent, prng, SEED, sleep, watchAll, type Outcome } from './helpers.js';

// Each wait inside a test is bounded (at most 20 s) and fails with its own message; the tests'
// timeout sits above them.
vi.setConfig({ testTimeout: 60_000 });

let server: RedisServerHandle;
let proxy: FaultProxy;
/** Keys and their values: each value starts with its key's index; lengths vary (some long). */
const KEYS = 400;
const values: string[] = [];
const key = (i: number): string => `lf:${i}`;

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
  const random = prng(SEED ^ 0x11);
  for (let i = 0; i < KEYS; i++) {
    const length = i % 50 === 7 ? random.int(20_000, 200_000) : random.int(0, 60);
    values.push(`${i}:${'x'.repeat(length)}${i % 3 === 0 ? 'é' : ''}`);
  }
  const seeder = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis' });
  await seeder.mset(values.map((v, i) => [key(i), v] as const));
  await seeder.close();
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

async function connect(options: Partial<ClientOptions> = {}): Promise<{ client: RedisClient; conn: ProxyConnection }> {
  const next = proxy.nextConnection();
  const client = await GoCacheClient.connect({ host: proxy.host, port: proxy.port, server: 'redis', retryStrategy: () => 20, ...options } as ClientOptions & { server: 'redis' });
  return { client, conn: await next };
}

/** Bytes of a bulk-string reply. */
const bulkBytes = (value: string): number => {
  const n = Buffer.byteLength(value);
  return 1 + String(n).length + 2 + n + 2;
};

/** GETs of keys `indices` (every third through the buffers view), watched from the start. */
function reads(client: RedisClient, indices: number[]): { indices: number[]; watch: ReturnType<typeof watchAll<unknown>>; replyBytes: number } {
  const promises = indices.map((i, j) => (j % 3 === 2 ? client.buffers.get(key(i)) : client.get(key(i))));
  return { indices, watch: watchAll<unknown>(promises), replyBytes: indices.reduce((sum, i) => sum + bulkBytes(values[i]!), 0) };
}

/** Each read resolved to its own key's value (a Buffer through the buffers view). */
function expectOwnValues(indices: number[], outcomes: Outcome<unknown>[]): void {
  const wrong = outcomes.flatMap((outcome, j) => {
    const want = values[indices[j]!]!;
    if (outcome.state !== 'fulfilled') return [`#${j} (${key(indices[j]!)}) ${outcome.state}${outcome.state === 'rejected' ? `: ${String(outcome.error)}` : ''}`];
    const got = j % 3 === 2 ? (Buffer.isBuffer(outcome.value) ? outcome.value.toString('utf8') : `not a Buffer: ${String(outcome.value)}`) : outcome.value;
    return got === want ? [] : [`#${j} (${key(indices[j]!)}) got ${JSON.stringify(String(got).slice(0, 40))}`];
  });
  expect(wrong.slice(0, 5)).toEqual([]);
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await sleep(2);
  }
};

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('stall', () => {
  it.each(['down', 'up'] as const)('replies (or requests) held in %s and then released: every command gets its own value', async (direction) => {
    const { client, conn } = await connect();
    try {
      conn.stall(direction);
      const first = reads(client, range(0, 200));
      if (direction === 'down') await until(() => conn.held('down') === first.replyBytes, 'all replies held at the proxy');
      else await until(() => conn.held('up') > 0, 'requests held at the proxy');
      await sleep(100);
      expect(first.watch.outcomes.every((o) => o.state === 'pending')).toBe(true);
      const second = reads(client, range(200, KEYS));
      await sleep(20);
      conn.release(direction);
      expectOwnValues(first.indices, await first.watch.settled(15_000));
      expectOwnValues(second.indices, await second.watch.settled(15_000));
      expect(conn.open).toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it('with commandTimeout: commands held past it reject with GoCacheTimeoutError, their late replies are dropped, and the next commands get their own', async () => {
    const { client, conn } = await connect({ commandTimeout: 500 });
    let reconnects = 0;
    client.on('reconnecting', () => reconnects++);
    try {
      conn.stall('down');
      const late = reads(client, range(0, 100));
      const lateOutcomes = await late.watch.settled(15_000);
      for (const o of lateOutcomes) {
        expect(o.state).toBe('rejected');
        expect((o as { error: unknown }).error).toBeInstanceOf(GoCacheTimeoutError);
      }
      // Sent behind the timed-out ones; the held replies (of the timed-out commands first) now flow.
      const next = reads(client, range(100, 300));
      conn.release('down');
      expectOwnValues(next.indices, await next.watch.settled(15_000));
      expect(reconnects).toBe(0);
      expect(conn.open).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});

describe('slow drip', () => {
  it.each([
    ['down', 3, 0],
    ['down', 4096, 0],
    ['up', 5, 0],
    ['down', 64, 1],
  ] as const)('%s direction at %i bytes per tick (interval %i ms): every command gets its own value', async (direction, bytes, interval) => {
    const { client, conn } = await connect();
    try {
      conn.drip(direction, bytes, interval);
      // Small values when dripping a few bytes at a time (the long ones would take minutes).
      const indices = bytes < 100 ? range(0, KEYS).filter((i) => values[i]!.length < 100).slice(0, 120) : range(0, KEYS);
      const batch = reads(client, indices);
      expectOwnValues(batch.indices, await batch.watch.settled(20_000));
      expect(conn.open).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});

describe('RST', () => {
  it('a reset with every reply held: all reject with GoCacheConnectionError, the client reconnects and serves', async () => {
    const { client, conn } = await connect();
    try {
      conn.stall('down');
      const batch = reads(client, range(0, 200));
      await until(() => conn.held('down') === batch.replyBytes, 'all replies held at the proxy');
      const lost = nextEvent(client, 'reconnecting', 10_000);
      conn.reset();
      const outcomes = await batch.watch.settled(15_000);
      for (const o of outcomes) {
        expect(o.state).toBe('rejected');
        expect((o as { error: unknown }).error).toBeInstanceOf(GoCacheConnectionError);
      }
      await lost;
      expect(await within(client.get(key(5)), 10_000, 'a read after the reset')).toBe(values[5]);
    } finally {
      client.disconnect();
    }
  });

  it('a reset in the middle of the replies: a prefix of the commands got their own values, the rest rejected with GoCacheConnectionError', async () => {
    const { client, conn } = await connect();
    try {
      const indices = range(0, KEYS).filter((i) => values[i]!.length < 100);
      conn.drip('down', 7);
      const batch = reads(client, indices);
      await until(() => conn.forwarded('down') >= batch.replyBytes / 2, 'half the replies forwarded');
      conn.reset();
      const outcomes = await batch.watch.settled(15_000);
      const answered = outcomes.findIndex((o) => o.state !== 'fulfilled');
      expect(answered).toBeGreaterThan(0);
      expectOwnValues(indices.slice(0, answered), outcomes.slice(0, answered));
      for (const o of outcomes.slice(answered)) {
        expect(o.state).toBe('rejected');
        expect((o as { error: unknown }).error).toBeInstanceOf(GoCacheConnectionError);
      }
      expect(await within(client.get(key(9)), 10_000, 'a read after the reset')).toBe(values[9]);
    } finally {
      client.disconnect();
    }
  });
});

describe('one corrupted byte', () => {
  // Twenty GETs of 8-byte values: each reply is `$8\r\n<8 bytes>\r\n` (14 bytes); reply 10 is damaged.
  const SHORT = 20;
  const shortKey = (i: number): string => `lf:short:${i}`;
  const shortValue = (i: number): string => `v${String(i).padStart(2, '0')}-abcd`;
  const REPLY = 14;
  const DAMAGED = 10;

  beforeAll(async () => {
    for (let i = 0; i < SHORT; i++) await redisCommand(server.host, server.port, ['SET', shortKey(i), shortValue(i)]);
  });

  it.each([
    ['the type byte', 0, '?'],
    ['a length digit, up', 1, '9'],
    ['a length digit, down', 1, '7'],
    ['the CR after the payload', 12, 'X'],
    ['the LF after the payload', 13, 'X'],
  ] as const)('%s of a reply: GoCacheProtocolError for it and every command after it on that connection, the earlier ones answered, the link reconnects', async (_what, at, replacement) => {
    const { client, conn } = await connect();
    try {
      const base = conn.forwarded('down');
      conn.corrupt('down', base + DAMAGED * REPLY + at, replacement.charCodeAt(0));
      const lost = nextEvent(client, 'reconnecting', 10_000);
      const watch = watchAll<unknown>(Array.from({ length: SHORT }, (_, i) => client.get(shortKey(i))));
      const outcomes = await watch.settled(15_000);
      outcomes.forEach((o, i) => {
        if (i < DAMAGED) expect(o).toEqual({ state: 'fulfilled', value: shortValue(i) });
        else {
          expect(o.state).toBe('rejected');
          expect((o as { error: unknown }).error).toBeInstanceOf(GoCacheProtocolError);
        }
      });
      expect(conn.corruptions.length).toBe(1);
      const [event] = await lost;
      expect(event.error).toBeInstanceOf(GoCacheProtocolError);
      expect(await within(client.get(shortKey(3)), 10_000, 'a read after the protocol error')).toBe(shortValue(3));
    } finally {
      client.disconnect();
    }
  });

  it('a payload byte of a reply (still valid RESP): that command alone gets the damaged value', async () => {
    const { client, conn } = await connect();
    let reconnects = 0;
    client.on('reconnecting', () => reconnects++);
    try {
      const base = conn.forwarded('down');
      conn.corrupt('down', base + DAMAGED * REPLY + 4 + 5, 'Z'.charCodeAt(0));
      const outcomes = await watchAll<unknown>(Array.from({ length: SHORT }, (_, i) => client.get(shortKey(i)))).settled(15_000);
      const damaged = shortValue(DAMAGED).slice(0, 5) + 'Z' + shortValue(DAMAGED).slice(6);
      expect(outcomes).toEqual(Array.from({ length: SHORT }, (_, i) => ({ state: 'fulfilled', value: i === DAMAGED ? damaged : shortValue(i) })));
      expect(reconnects).toBe(0);
      expect(await client.get(shortKey(DAMAGED))).toBe(shortValue(DAMAGED));
    } finally {
      client.disconnect();
    }
  });

  it('a payload byte of a request (still valid RESP): the server stores the damaged value for that key only', async () => {
    const { client, conn } = await connect();
    try {
      const base = conn.forwarded('up');
      // SET lf:w:<i> w<i>-xyz: `*3\r\n$3\r\nSET\r\n$6\r\nlf:w:i\r\n$6\r\nwi-xyz\r\n` is 37 bytes for i < 10.
      const request = (i: number): string => `*3\r\n$3\r\nSET\r\n$6\r\nlf:w:${i}\r\n$6\r\nw${i}-xyz\r\n`;
      expect(request(0).length).toBe(37);
      conn.corrupt('up', base + 5 * 37 + request(5).indexOf('w5-xyz') + 3, 'Q'.charCodeAt(0));
      const outcomes = await watchAll<unknown>(Array.from({ length: 10 }, (_, i) => client.set(`lf:w:${i}`, `w${i}-xyz`))).settled(15_000);
      expect(outcomes.every((o) => o.state === 'fulfilled' && o.value === 'OK')).toBe(true);
      const stored = await redisCommand(server.host, server.port, ['MGET', ...Array.from({ length: 10 }, (_, i) => `lf:w:${i}`)]);
      expect(stored).toEqual(Array.from({ length: 10 }, (_, i) => (i === 5 ? 'w5-Qyz' : `w${i}-xyz`)));
    } finally {
      client.disconnect();
    }
  });
});
