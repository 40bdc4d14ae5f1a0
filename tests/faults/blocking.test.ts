// Blocking commands run on connections of their own (the client's isolation pool), seen through the
// fault proxy, which tells the client's connections apart: a GET beside a BLPOP is answered first,
// and a BLPOP that is aborted (or times out client-side) closes its own connection and no other.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { GoCacheAbortError, GoCacheClient, GoCacheTimeoutError, type ClientOptions, type RedisClient } from '../../src/index.js';
import { startFaultProxy, type FaultProxy, type ProxyConnection } from '../../testkit/fault-proxy.js';
import { within } from '../../testkit/promises.js';
import { redisCommand, startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { sleep } from './helpers.js';

// Each wait inside a test is bounded (at most 20 s) and fails with its own message; the tests'
// timeout sits above them.
vi.setConfig({ testTimeout: 60_000 });

let server: RedisServerHandle;
let proxy: FaultProxy;
beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

async function connect(options: Partial<ClientOptions> = {}): Promise<{ client: RedisClient; main: ProxyConnection }> {
  const next = proxy.nextConnection();
  const client = await GoCacheClient.connect({ host: proxy.host, port: proxy.port, server: 'redis', ...options } as ClientOptions & { server: 'redis' });
  return { client, main: await next };
}

/** The open proxied connection whose requests include `text` (e.g. the BLPOP of one key). */
async function connectionSending(text: string): Promise<ProxyConnection> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = proxy.connections.filter((c) => c.recorded('up').includes(text));
    if (found.length === 1) return found[0]!;
    expect(found.length).toBeLessThanOrEqual(1);
    if (Date.now() > deadline) throw new Error(`no proxied connection sent ${JSON.stringify(text)} within 10 s`);
    await sleep(5);
  }
}

async function blockedClients(): Promise<number> {
  const info = (await redisCommand(server.host, server.port, ['INFO', 'clients'])) as string;
  return Number(/blocked_clients:(\d+)/.exec(info)![1]);
}

/** Waits until the server counts `n` blocked clients (asked directly, not through the SDK). */
async function untilBlocked(n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let now = await blockedClients(); now !== n; now = await blockedClients()) {
    if (Date.now() > deadline) throw new Error(`the server counts ${now} blocked clients, not ${n}, after 10 s`);
    await sleep(5);
  }
}

it('a GET issued beside a 1 s BLPOP is answered before the BLPOP ends, on another connection', async () => {
  const { client, main } = await connect();
  try {
    await client.set('blk:k', 'v');
    const order: string[] = [];
    const blpop = client.blpop(['blk:empty'], 1).then((value) => {
      order.push('blpop');
      return value;
    });
    const get = client.get('blk:k').then((value) => {
      order.push('get');
      return value;
    });
    expect(await within(Promise.all([get, blpop]), 10_000, 'the GET and the BLPOP')).toEqual(['v', null]);
    expect(order).toEqual(['get', 'blpop']);
    const blocking = await connectionSending('blk:empty');
    expect(blocking).not.toBe(main);
    expect(main.recorded('up').includes('BLPOP')).toBe(false);
  } finally {
    client.disconnect();
  }
});

it('a BLPOP aborted with an AbortSignal closes only its own connection; the client and the pool keep serving', async () => {
  const { client, main } = await connect();
  try {
    const controller = new AbortController();
    const aborted = client.withSignal(controller.signal).blpop(['blk:forever'], 0).catch((e: unknown) => e);
    const blocking = await connectionSending('blk:forever');
    await untilBlocked(1);
    const others = proxy.connections.filter((c) => c !== blocking);
    controller.abort(new Error('enough'));
    expect(await within(aborted, 10_000, 'the aborted BLPOP')).toBeInstanceOf(GoCacheAbortError);
    await within(blocking.closed, 10_000, 'its connection closing');
    expect(blocking.end?.by).toBe('client');
    // Nothing else closed: the main connection still serves, and the server holds no blocked client.
    expect(others.every((c) => c.open)).toBe(true);
    expect(main.open).toBe(true);
    expect(await client.set('blk:after', 'x')).toBe('OK');
    expect(main.recorded('up').includes('blk:after')).toBe(true);
    expect(await blockedClients()).toBe(0);
    // The pool opens a new connection for the next blocking command.
    await client.rpush('blk:ready', 'item');
    expect(await within(client.blpop(['blk:ready'], 1), 10_000, 'the next BLPOP')).toEqual(['blk:ready', 'item']);
  } finally {
    client.disconnect();
  }
});

it('a BLPOP that times out client-side (commandTimeout) closes only its own connection', async () => {
  const { client, main } = await connect({ commandTimeout: 300 });
  try {
    const timedOut = client.blpop(['blk:never'], 0).catch((e: unknown) => e);
    const blocking = await connectionSending('blk:never');
    expect(await within(timedOut, 10_000, 'the BLPOP')).toBeInstanceOf(GoCacheTimeoutError);
    await within(blocking.closed, 10_000, 'its connection closing');
    expect(main.open).toBe(true);
    expect(await client.get('blk:k')).toBe('v');
    expect(main.recorded('up').includes('blk:never')).toBe(false);
    await untilBlocked(0);
  } finally {
    client.disconnect();
  }
});
