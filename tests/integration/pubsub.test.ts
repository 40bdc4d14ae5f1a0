// Pub/sub against a real redis-server (the shared one of the globalSetup, and private ones where a
// server must be stopped or needs a password), in RESP2 and RESP3. Subscriptions are opened with
// openSubscription directly; a GoCacheClient publishes. Channel names are prefixed with this file's name.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { GoCacheArgumentError, GoCacheClient, GoCacheCommandError, GoCacheConnectionError } from '../../src/index.js';
import { resolveOptions, type ResolvedOptions } from '../../src/client/options.js';
import { openSubscription, type ChannelMessage, type PatternMessage, type Subscription } from '../../src/client/pubsub.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { within } from '../../testkit/promises.js';

const P = 'it:pubsub:';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(predicate: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
}

/** Takes `n` messages from the subscription, failing instead of hanging. */
async function take<M>(sub: AsyncIterable<M>, n: number, ms = 5_000): Promise<M[]> {
  const iterator = sub[Symbol.asyncIterator]();
  const out: M[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const left = deadline - Date.now();
    const result = await Promise.race([
      iterator.next(),
      sleep(Math.max(left, 0)).then(() => {
        throw new Error(`only ${out.length} of ${n} messages within ${ms} ms`);
      }),
    ]);
    if (result.done) throw new Error(`iteration ended after ${out.length} of ${n} messages`);
    out.push(result.value);
  }
  return out;
}

/** Settles within `ms`, or fails the test: nothing may hang. */
const opened: Array<Subscription<ChannelMessage<string | Buffer> | PatternMessage<string | Buffer>>> = [];
afterEach(async () => {
  for (const sub of opened.splice(0)) await sub.close();
});

describe.each([2, 3] as const)('pub/sub on redis-server, RESP%i', (protocol) => {
  let client: GoCacheClient<'redis'>;
  const options = (): ResolvedOptions => resolveOptions({ host: inject('redisHost'), port: inject('redisPort'), connectTimeout: 2_000, server: 'redis', protocol });
  const channelSub = async (names: string[], config = {}) => {
    const sub = await openSubscription(options(), 'channel', names, config);
    opened.push(sub);
    return sub;
  };
  const patternSub = async (names: string[]) => {
    const sub = await openSubscription(options(), 'pattern', names);
    opened.push(sub);
    return sub;
  };

  beforeAll(async () => {
    client = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis', protocol });
  });
  afterAll(async () => {
    await client.close();
  });

  it('delivers typed channel messages, and messages published before iteration starts', async () => {
    const ch = `${P}${protocol}:news`;
    const sub = await channelSub([ch]);
    expect(sub.channels).toEqual([ch]);
    // Published before anyone iterates: buffered from the confirmation on.
    expect(await client.publish(ch, 'one')).toBe(1);
    expect(await client.publish(ch, 'two')).toBe(1);
    expect(await client.publish(ch, 3)).toBe(1);
    await eventually(() => sub.buffered === 3, 'three buffered');
    const messages: ChannelMessage[] = await take(sub, 3);
    expect(messages).toEqual([
      { channel: ch, message: 'one' },
      { channel: ch, message: 'two' },
      { channel: ch, message: '3' },
    ]);
  });

  it('serves several subscribers and patterns; publish returns the receiver counts', async () => {
    const ch = `${P}${protocol}:multi:a`;
    const other = `${P}${protocol}:multi:b`;
    const first = await channelSub([ch, other]);
    const second = await channelSub([ch]);
    const pattern = await patternSub([`${P}${protocol}:multi:*`, `${P}${protocol}:nomatch:*`]);
    expect(pattern.channels).toEqual([`${P}${protocol}:multi:*`, `${P}${protocol}:nomatch:*`]);

    expect(await client.publish(ch, 'to three')).toBe(3);
    expect(await client.publish(other, 'to two')).toBe(2);
    expect(await client.publish(`${P}${protocol}:elsewhere`, 'to none')).toBe(0);

    expect(await take(first, 2)).toEqual([
      { channel: ch, message: 'to three' },
      { channel: other, message: 'to two' },
    ]);
    expect(await take(second, 1)).toEqual([{ channel: ch, message: 'to three' }]);
    const patternMessages: PatternMessage[] = await take(pattern, 2);
    expect(patternMessages).toEqual([
      { pattern: `${P}${protocol}:multi:*`, channel: ch, message: 'to three' },
      { pattern: `${P}${protocol}:multi:*`, channel: other, message: 'to two' },
    ]);

    await second.unsubscribe(ch);
    expect(await client.publish(ch, 'to two again')).toBe(2);
    await pattern.unsubscribe(`${P}${protocol}:multi:*`);
    expect(pattern.channels).toEqual([`${P}${protocol}:nomatch:*`]);
    expect(pattern.isOpen).toBe(true);
    expect(await client.publish(ch, 'to one')).toBe(1);
  });

  it('subscribes to more channels later, and tolerates a channel held twice', async () => {
    const a = `${P}${protocol}:later:a`;
    const b = `${P}${protocol}:later:b`;
    const sub = await channelSub([a]);
    await sub.subscribe(b, a);
    expect(sub.channels).toEqual([a, b]);
    expect(await client.publish(b, 'b!')).toBe(1);
    expect(await client.publish(a, 'a!')).toBe(1);
    expect(await take(sub, 2)).toEqual([
      { channel: b, message: 'b!' },
      { channel: a, message: 'a!' },
    ]);
  });

  it('is binary-safe with buffers: true (channels, patterns, payloads)', async () => {
    const ch = Buffer.concat([Buffer.from(`${P}${protocol}:bin:`), Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a])]);
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const sub = await openSubscription(options(), 'channel', [ch], { buffers: true });
    opened.push(sub);
    const patternBuffers = await openSubscription(options(), 'pattern', [Buffer.from(`${P}${protocol}:bin:*`)], { buffers: true });
    opened.push(patternBuffers);
    expect(await client.publish(ch, payload)).toBe(2);
    expect(await client.publish(ch, '')).toBe(2);
    const [message, empty] = await take(sub, 2);
    expect(Buffer.isBuffer(message!.channel) && message!.channel.equals(ch)).toBe(true);
    expect(Buffer.isBuffer(message!.message) && message!.message.equals(payload)).toBe(true);
    expect(empty!.message).toEqual(Buffer.alloc(0));
    const [patterned] = await take(patternBuffers, 1);
    expect(patterned!.pattern).toEqual(Buffer.from(`${P}${protocol}:bin:*`));
    expect(patterned!.channel.equals(ch) && patterned!.message.equals(payload)).toBe(true);
    expect(sub.channels[0]).toEqual(ch);
  });

  it('unsubscribing from everything ends the iteration and closes the connection', async () => {
    const a = `${P}${protocol}:end:a`;
    const b = `${P}${protocol}:end:b`;
    const sub = await channelSub([a, b]);
    const seen: ChannelMessage[] = [];
    const loop = (async () => {
      for await (const m of sub) seen.push(m);
      return 'ended';
    })();
    expect(await client.publish(a, 'x')).toBe(1);
    await eventually(() => seen.length === 1, 'first message');
    await sub.unsubscribe(a);
    expect(sub.channels).toEqual([b]);
    expect(await client.publish(a, 'not delivered')).toBe(0);
    expect(await client.publish(b, 'y')).toBe(1);
    await eventually(() => seen.length === 2, 'second message');
    await sub.unsubscribe();
    expect(await within(loop, 2_000, 'the loop')).toBe('ended');
    expect(seen.map((m) => m.message)).toEqual(['x', 'y']);
    expect(sub.isOpen).toBe(false);
    expect(sub.channels).toEqual([]);
    expect(await client.publish(b, 'gone')).toBe(0);
    // Calls after the end neither hang nor throw; subscribing again is refused.
    await within(sub.unsubscribe(), 1_000, 'unsubscribe after the end');
    await within(sub.close(), 1_000, 'close after the end');
    await expect(sub.subscribe(a)).rejects.toBeInstanceOf(GoCacheConnectionError);
  });

  it('leaving a for-await loop early closes the subscription; await using disposes it', async () => {
    const ch = `${P}${protocol}:break`;
    const sub = await channelSub([ch]);
    await client.publish(ch, '1');
    await client.publish(ch, '2');
    for await (const m of sub) {
      expect(m.message).toBe('1');
      break;
    }
    expect(sub.isOpen).toBe(false);
    expect(await client.publish(ch, 'after break')).toBe(0);

    {
      await using disposed = await openSubscription(options(), 'channel', [ch]);
      expect(await client.publish(ch, 'in scope')).toBe(1);
      expect(disposed.isOpen).toBe(true);
    }
    expect(await client.publish(ch, 'out of scope')).toBe(0);
  });

  it('answers ping in subscriber mode', async () => {
    const sub = await channelSub([`${P}${protocol}:ping`]);
    await expect(sub.ping()).resolves.toBe('PONG');
    // A message racing the PONG is still delivered.
    const [pong] = await Promise.all([sub.ping(), client.publish(`${P}${protocol}:ping`, 'm')]);
    expect(pong).toBe('PONG');
    expect(await take(sub, 1)).toEqual([{ channel: `${P}${protocol}:ping`, message: 'm' }]);
  });

  it('keeps draining a burst for a slow consumer: 20,000 messages, highWaterMark 1,000, the oldest dropped and counted', async () => {
    const ch = `${P}${protocol}:burst`;
    const sub = await channelSub([ch], { highWaterMark: 1_000 });
    const publisher = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis', protocol });
    try {
      // Nobody reads while 20,000 messages arrive: the socket is still drained, and at most 1,000 stay.
      let maxBuffered = 0;
      const watcher = setInterval(() => (maxBuffered = Math.max(maxBuffered, sub.buffered)), 1);
      const counts = await Promise.all(Array.from({ length: 20_000 }, (_, i) => publisher.publish(ch, `m${i}`)));
      expect(counts.every((n) => n === 1)).toBe(true);
      await eventually(() => sub.dropped + sub.buffered === 20_000, 'every message read from the socket');
      clearInterval(watcher);
      expect(sub.buffered).toBe(1_000);
      expect(maxBuffered).toBeLessThanOrEqual(1_000);
      expect(sub.dropped).toBe(19_000);
      // The newest are kept, in order.
      const kept = await take(sub, 1_000);
      expect(kept[0]!.message).toBe('m19000');
      expect(kept[999]!.message).toBe('m19999');

      // A consumer slower than the publisher: it still sees the newest messages, and nothing blocks.
      const received: string[] = [];
      const slow = (async () => {
        for await (const m of sub) {
          received.push(m.message);
          if (m.message === 'last') return;
          await sleep(1);
        }
      })();
      await Promise.all(Array.from({ length: 5_000 }, (_, i) => publisher.publish(ch, `s${i}`)));
      await publisher.publish(ch, 'last');
      await within(slow, 10_000, 'the slow consumer');
      expect(received.at(-1)).toBe('last');
      expect(received.length + sub.dropped - 19_000).toBe(5_001);
    } finally {
      await publisher.close();
    }
  });

  it('leaves the main client unaffected while a subscription is open', async () => {
    const ch = `${P}${protocol}:main`;
    const sub = await channelSub([ch]);
    // The client's connection is not in subscriber mode: ordinary commands work.
    expect(await client.set(`${P}${protocol}:key`, 'v')).toBe('OK');
    expect(await client.get(`${P}${protocol}:key`)).toBe('v');
    expect(await client.ping()).toBe('PONG');
    expect(await client.publish(ch, 'hi')).toBe(1);
    expect(await take(sub, 1)).toEqual([{ channel: ch, message: 'hi' }]);
    await sub.close();
    expect(await client.get(`${P}${protocol}:key`)).toBe('v');
    expect(client.isOpen).toBe(true);
  });

  it('rejects invalid calls before connecting', async () => {
    await expect(openSubscription(options(), 'channel', [])).rejects.toBeInstanceOf(GoCacheArgumentError);
    await expect(openSubscription(options(), 'channel', [42 as unknown as string])).rejects.toBeInstanceOf(GoCacheArgumentError);
    await expect(openSubscription(options(), 'channel', ['a'], { highWaterMark: 0 })).rejects.toBeInstanceOf(GoCacheArgumentError);
    const sub = await channelSub([`${P}${protocol}:args`]);
    await expect(sub.subscribe()).rejects.toBeInstanceOf(GoCacheArgumentError);
  });
});

describe('pub/sub on a private redis-server', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
    // Set after start: the harness checks readiness with a PING that a password would refuse.
    const admin = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis' });
    await admin.sendCommand(['CONFIG', 'SET', 'requirepass', 'secret']);
    await admin.close();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it.each([2, 3] as const)('authenticates before subscribing (RESP%i), and a refused password leaves nothing open', async (protocol) => {
    const base = { host: server.host, port: server.port, connectTimeout: 2_000, server: 'redis' as const, protocol };
    const sub = await openSubscription(resolveOptions({ ...base, password: 'secret' }), 'channel', ['auth']);
    opened.push(sub);
    const publisher = await GoCacheClient.connect({ ...base, password: 'secret' });
    try {
      expect(await publisher.publish('auth', 'ok')).toBe(1);
      expect(await take(sub, 1)).toEqual([{ channel: 'auth', message: 'ok' }]);
      const refused = await openSubscription(resolveOptions({ ...base, password: 'wrong' }), 'channel', ['auth']).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(GoCacheCommandError);
      expect((refused as Error).message).toMatch(/WRONGPASS/);
      expect(await publisher.publish('auth', 'one receiver')).toBe(1);
    } finally {
      await publisher.close();
    }
  });

  it('ends the iteration with GoCacheConnectionError when the connection drops (no hang), calling onError', async () => {
    const own = await startRedisServer();
    try {
      // Reconnect off: the subscription ends (with the default it would resubscribe: tests/integration/resilience.test.ts).
      const sub = await openSubscription(resolveOptions({ host: own.host, port: own.port, connectTimeout: 2_000, server: 'redis', protocol: 2, reconnect: false }), 'channel', ['drop']);
      const errors: Error[] = [];
      sub.onError = (error) => errors.push(error);
      const publisher = await GoCacheClient.connect({ host: own.host, port: own.port, server: 'redis' });
      expect(await publisher.publish('drop', 'before')).toBe(1);
      await eventually(() => sub.buffered === 1, 'buffered');
      const received: string[] = [];
      const loop = (async () => {
        for await (const m of sub) received.push(m.message);
        return 'ended';
      })().catch((e: unknown) => e);
      // The server holds every client's commands from now on, so this PING is never answered: the
      // drop, not the server, settles it (SIGTERM still stops a paused server at once).
      expect(await publisher.sendCommand(['CLIENT', 'PAUSE', '60000', 'ALL'])).toBe('OK');
      const pending = sub.ping().catch((e: unknown) => e);
      publisher.disconnect();
      await own.stop();
      const outcome = await within(loop, 5_000, 'the iteration');
      expect(outcome).toBeInstanceOf(GoCacheConnectionError);
      expect(received).toEqual(['before']);
      expect(await within(pending, 5_000, 'the ping')).toBeInstanceOf(GoCacheConnectionError);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(GoCacheConnectionError);
      expect(sub.isOpen).toBe(false);
      // Later calls neither hang nor throw where they should not.
      await within(sub.close(), 1_000, 'close after the drop');
      await expect(sub.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
    } finally {
      await own.stop();
    }
  }, 20_000);

  it('a refused connection says where', async () => {
    const own = await startRedisServer();
    const port = own.port;
    await own.stop();
    const error = await openSubscription(resolveOptions({ host: '127.0.0.1', port, connectTimeout: 2_000, server: 'redis', protocol: 2 }), 'channel', ['x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheConnectionError);
    expect((error as Error).message).toBe(`Could not connect to Redis at 127.0.0.1:${port}. Is the server running?`);
  }, 20_000);
});
