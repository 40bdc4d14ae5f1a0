// Subscriptions come back after their connection is cut (FIN) or reset (RST) by the fault proxy:
// the subscription reconnects, subscribes again with SUBSCRIBE only (checked on the bytes the proxy
// recorded), counts the gap (`reconnects`, `onReconnect`), and messages published after it arrive.
// `onReconnect` means "subscribed again" (so it comes after the server confirmed, which a stalled
// SUBSCRIBE shows), and a resubscribe that is never confirmed is bounded by replyTimeout like every
// other wait of a subscription.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { openSubscription } from '../../src/client/pubsub.js';
import { GoCacheClient, type ChannelMessage, type RedisClient, type Subscription } from '../../src/index.js';
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

/** The open proxied connection whose first request is a SUBSCRIBE: the subscription's own. */
function subscriberConnection(): ProxyConnection {
  const found = proxy.connections.filter((c) => c.recorded('up').subarray(0, 32).includes('SUBSCRIBE'));
  expect(found.length).toBe(1);
  return found[0]!;
}

/** The bytes of SUBSCRIBE for these channels, as an array of bulk strings. */
const subscribeBytes = (channels: string[]): string =>
  `*${channels.length + 1}\r\n$9\r\nSUBSCRIBE\r\n${channels.map((c) => `$${Buffer.byteLength(c)}\r\n${c}\r\n`).join('')}`;

async function numsub(channel: string): Promise<number> {
  const reply = (await redisCommand(server.host, server.port, ['PUBSUB', 'NUMSUB', channel])) as [string, number];
  return reply[1];
}

/** Waits until the server has one subscriber on each channel (asked directly, not through the SDK). */
async function untilSubscribed(channels: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const counts = await Promise.all(channels.map(numsub));
    if (counts.every((n) => n === 1)) return;
    if (Date.now() > deadline) throw new Error(`the server holds ${counts.join(', ')} subscribers on ${channels.join(', ')} 10 s after the reconnect`);
    await sleep(10);
  }
}

/** The next message of a subscription, or a failure after `ms` (a hang). */
function nextMessage(sub: Subscription<ChannelMessage>, ms: number): Promise<ChannelMessage> {
  return within(
    sub.next().then((r) => {
      if (r.done) throw new Error('the subscription ended');
      return r.value;
    }),
    ms,
    'the next message',
  );
}

it('a cut (FIN) and then a reset (RST) of the subscription: it resubscribes with SUBSCRIBE only, counts each gap, and messages published once it is back arrive', async () => {
  const client: RedisClient = await GoCacheClient.connect({ host: proxy.host, port: proxy.port, server: 'redis', retryStrategy: () => 20 });
  const sub = await client.subscribe('news', 'sport');
  const reconnected: number[] = [];
  let signal: (() => void) | undefined;
  sub.onReconnect = (n) => {
    reconnected.push(n);
    signal?.();
  };
  const waitReconnect = (): Promise<void> => within(new Promise<void>((resolve) => (signal = resolve)), 10_000, 'onReconnect');
  try {
    expect(await client.publish('news', 'before')).toBe(1);
    expect(await nextMessage(sub, 10_000)).toEqual({ channel: 'news', message: 'before' });

    for (const [round, fault] of [['cut', (c: ProxyConnection) => c.cut()], ['reset', (c: ProxyConnection) => c.reset()]] as const) {
      const conn = subscriberConnection();
      const nextConn = proxy.nextConnection();
      const back = waitReconnect();
      fault(conn);
      await back;
      const fresh = await nextConn;
      expect(sub.reconnects).toBe(round === 'cut' ? 1 : 2);
      expect(reconnected).toEqual(round === 'cut' ? [1] : [1, 2]);
      expect(sub.isOpen).toBe(true);
      // Once the server holds the subscriber again (when onReconnect is called is the next test's
      // subject), messages published to both channels arrive, each to one receiver.
      await untilSubscribed(['news', 'sport']);
      expect(await within(client.publish('sport', `after-${round}`), 10_000, 'publish')).toBe(1);
      expect(await within(client.publish('news', `after-${round}-2`), 10_000, 'publish')).toBe(1);
      expect(await nextMessage(sub, 10_000)).toEqual({ channel: 'sport', message: `after-${round}` });
      expect(await nextMessage(sub, 10_000)).toEqual({ channel: 'news', message: `after-${round}-2` });
      // The new connection carried SUBSCRIBE for the held channels, and nothing else.
      expect(fresh.recorded('up').toString('latin1')).toBe(subscribeBytes(['news', 'sport']));
    }
  } finally {
    await sub.close();
    client.disconnect();
  }
});

it('onReconnect is called once the channels are subscribed again: not while the new SUBSCRIBE cannot have reached the server', async () => {
  const client: RedisClient = await GoCacheClient.connect({ host: proxy.host, port: proxy.port, server: 'redis', retryStrategy: () => 20 });
  const sub = await client.subscribe('held');
  let calls = 0;
  let subscribedAtCall: Promise<number> | undefined;
  let fresh: ProxyConnection | undefined;
  sub.onReconnect = () => {
    calls++;
    subscribedAtCall ??= numsub('held');
  };
  try {
    const conn = subscriberConnection();
    // The resubscribing connection's requests are held at the proxy.
    const nextConn = new Promise<ProxyConnection>((resolve) => {
      const stop = proxy.onConnection((c) => {
        stop();
        c.stall('up');
        resolve(c);
      });
    });
    conn.cut();
    fresh = await within(nextConn, 10_000, 'the reconnect');
    await sleep(300);
    // The SUBSCRIBE is still held at the proxy, so the server has no subscriber for 'held'.
    expect(await numsub('held')).toBe(0);
    expect(fresh.held('up')).toBeGreaterThan(0);
    expect(calls).toBe(0);
    fresh.release('up');
    const deadline = Date.now() + 10_000;
    while (calls === 0 && Date.now() < deadline) await sleep(10);
    expect(calls).toBe(1);
    expect(await subscribedAtCall).toBe(1);
    expect(await within(client.publish('held', 'after'), 10_000, 'publish')).toBe(1);
    expect(await nextMessage(sub, 10_000)).toEqual({ channel: 'held', message: 'after' });
  } finally {
    fresh?.release('up');
    await sub.close();
    client.disconnect();
  }
});

it('a resubscribe that is never confirmed (its connection black-holed) is bounded by replyTimeout: the subscription reconnects again and comes back', async () => {
  // replyTimeout bounds every wait of a subscription; client.subscribe() takes the default (10 s),
  // so the subscription is opened directly with a short one.
  const REPLY_TIMEOUT = 300;
  const client: RedisClient = await GoCacheClient.connect({ host: proxy.host, port: proxy.port, server: 'redis', retryStrategy: () => 20 });
  const sub = await openSubscription({ host: proxy.host, port: proxy.port, server: 'redis', retryStrategy: () => 20 }, 'channel', ['resub'], { replyTimeout: REPLY_TIMEOUT });
  try {
    // The resubscribing connection is black-holed; the ones after it are forwarded.
    const dark = new Promise<ProxyConnection>((resolve) => {
      const stop = proxy.onConnection((c) => {
        stop();
        c.blackHole();
        resolve(c);
      });
    });
    subscriberConnection().cut();
    const darkConn = await within(dark, 10_000, 'the resubscribing connection');
    // The server holds the subscriber again (without the bound it never would: the wait is generous
    // so that a loaded machine cannot fail it), and a message published then arrives.
    const deadline = Date.now() + 20_000;
    while ((await numsub('resub')) !== 1 && Date.now() < deadline) await sleep(20);
    expect(await numsub('resub')).toBe(1);
    expect(darkConn.end?.by).toBe('client');
    expect(await within(client.publish('resub', 'back'), 10_000, 'publish')).toBe(1);
    expect(await nextMessage(sub, 10_000)).toEqual({ channel: 'resub', message: 'back' });
  } finally {
    sub.destroy();
    client.disconnect();
  }
});

it('an idle subscriber whose link goes half-open (black hole): the health-check PING gets no PONG, the subscription reconnects and serves again', async () => {
  const client: RedisClient = await GoCacheClient.connect({ host: proxy.host, port: proxy.port, server: 'redis', retryStrategy: () => 20 });
  const sub = await openSubscription({ host: proxy.host, port: proxy.port, server: 'redis', retryStrategy: () => 20, healthCheckInterval: 100 }, 'channel', ['idle'], { replyTimeout: 300 });
  const reconnected = new Promise<void>((resolve) => (sub.onReconnect = () => resolve()));
  try {
    const dark = subscriberConnection();
    dark.blackHole();
    // Nothing is published: only the health check can notice (without it this never settles).
    await within(reconnected, 20_000, 'the subscription to reconnect after its link went dark');
    expect(dark.end?.by).toBe('client');
    expect(dark.recorded('up').toString('latin1')).toContain('PING');
    expect(sub.reconnects).toBe(1);
    expect(await within(client.publish('idle', 'back'), 10_000, 'publish')).toBe(1);
    expect(await nextMessage(sub, 10_000)).toEqual({ channel: 'idle', message: 'back' });
  } finally {
    sub.destroy();
    client.disconnect();
  }
});
