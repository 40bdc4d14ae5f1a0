// Pub/sub against the SCRIPTED GoCache peer (testkit/gocache-peer.ts), not a real GoCache
// server: the peer replays GoCache's documented pub/sub behaviour from shared/gocache-wire.md (one
// confirmation frame per channel, the unchanged count when subscribing twice, `+PONG` in subscriber
// mode, no reply at all to a bare UNSUBSCRIBE when nothing is held, PSUBSCRIBE unknown, pushes and
// replies written independently, a 100-message buffer per subscriber) and records every byte the SDK
// sends. Which of a push and a reply goes first, and when a subscriber is slow, is set per test with the
// peer's pauseReplies() / pauseDelivery(), so every outcome is determined. What no GoCache sends but a
// client must survive (no answer at all, garbage, an error instead of a confirmation, frames in an order
// other than asked) is scripted with the peer's `script` option.
import { connect as netConnect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GoCacheArgumentError, GoCacheClient, GoCacheCommandError, GoCacheConnectionError, GoCacheProtocolError, GoCacheTimeoutError } from '../../src/index.js';
import type { ClientOptions } from '../../src/client/options.js';
import { openSubscription, type ChannelMessage, type Subscription } from '../../src/client/pubsub.js';
import { startGoCachePeer, type GoCachePeer, type PeerConnection } from '../../testkit/gocache-peer.js';
import { within } from '../../testkit/promises.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const bulk = (text: string | Buffer): string => {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return `$${bytes.length}\r\n${bytes.toString('latin1')}\r\n`;
};
const frame = (...parts: Array<string | Buffer | number>): string =>
  `*${parts.length}\r\n${parts.map((p) => (typeof p === 'number' ? `:${p}\r\n` : bulk(p))).join('')}`;
const SUBSCRIBER_ONLY = '-ERR only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context\r\n';

/**
 * Situations a client must survive that the peer does not produce by itself, keyed by channel name:
 * - `reversed:*`: UNSUBSCRIBE answers its frames in the reverse of the order asked (a client must match
 *   frames by channel, not by position; GoCache's bare UNSUBSCRIBE answers in random order);
 * - `refused`: SUBSCRIBE answers GoCache's subscriber-mode error text;
 * - `silent:*`: SUBSCRIBE (and UNSUBSCRIBE) get no answer at all;
 * - `garbage`: SUBSCRIBE answers bytes that are not RESP.
 */
function script(args: Buffer[], conn: PeerConnection): string | null | undefined {
  const [name, ...rest] = args.map((a) => a.toString('latin1'));
  if (name === 'SUBSCRIBE') {
    if (rest.includes('refused')) return SUBSCRIBER_ONLY;
    if (rest.some((c) => c.startsWith('silent:'))) {
      for (const c of rest) conn.subscriptions.add(c);
      return null;
    }
    if (rest.includes('garbage')) return '?garbage\r\n';
    return undefined;
  }
  if (name === 'UNSUBSCRIBE' && rest.length > 0) {
    if (rest.some((c) => c.startsWith('silent:'))) return null;
    if (!rest.some((c) => c.startsWith('reversed:'))) return undefined;
    const frames = rest.map((c) => {
      conn.subscriptions.delete(c);
      return frame('unsubscribe', Buffer.from(c, 'latin1'), conn.subscriptions.size);
    });
    return frames.reverse().join('');
  }
  return undefined;
}

let peer: GoCachePeer;
let client: GoCacheClient;
const opened: Array<Subscription<ChannelMessage<string | Buffer>>> = [];
// Reconnect off: these tests check how a subscription fails; resubscribing after a lost connection
// is tested in tests/integration/resilience.test.ts.
const options = (extra: ClientOptions = {}): ClientOptions => ({
  host: peer.host,
  port: peer.port,
  connectTimeout: 10_000,
  server: 'gocache',
  protocol: 2,
  reconnect: false,
  ...extra,
});

async function subscribe(names: string[], config: { replyTimeout?: number; highWaterMark?: number } = {}): Promise<Subscription<ChannelMessage>> {
  const sub = await openSubscription(options(), 'channel', names, config);
  opened.push(sub);
  return sub;
}

/** The next `n` messages; the bound only turns a hang into a named failure. */
async function take<M>(sub: AsyncIterable<M>, n: number, ms = 10_000): Promise<M[]> {
  const iterator = sub[Symbol.asyncIterator]();
  const out: M[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const result = await Promise.race([
      iterator.next(),
      sleep(Math.max(deadline - Date.now(), 0)).then(() => {
        throw new Error(`only ${out.length} of ${n} messages within ${ms} ms`);
      }),
    ]);
    if (result.done) throw new Error(`iteration ended after ${out.length} of ${n} messages`);
    out.push(result.value);
  }
  return out;
}

/** The peer's connection serving `sub` (the newest one holding `channel`). */
function connectionOf(channel: string): PeerConnection {
  const conn = [...peer.connections].reverse().find((c) => c.requests.some((r) => r[0]!.toString() === 'SUBSCRIBE' && r.slice(1).some((a) => a.toString('latin1') === channel)));
  if (conn === undefined) throw new Error(`no connection subscribed to ${channel}`);
  return conn;
}

/** Every request the SDK sent, decoded strictly: non-empty arrays of bulk strings, upper-case names. */
function checkWire(): void {
  expect(peer.violations).toEqual([]);
  const wire = peer.received();
  let offset = 0;
  const line = (): string => {
    const end = wire.indexOf('\r\n', offset);
    if (end < 0) throw new Error(`no CRLF after offset ${offset}`);
    const text = wire.toString('latin1', offset, end);
    offset = end + 2;
    return text;
  };
  while (offset < wire.length) {
    const header = line();
    expect(header).toMatch(/^\*[1-9][0-9]*$/);
    const words: Buffer[] = [];
    for (let i = 0; i < Number(header.slice(1)); i++) {
      const length = line();
      expect(length).toMatch(/^\$(0|[1-9][0-9]*)$/);
      const n = Number(length.slice(1));
      words.push(wire.subarray(offset, offset + n));
      expect(wire.toString('latin1', offset + n, offset + n + 2)).toBe('\r\n');
      offset += n + 2;
    }
    expect(words[0]!.toString('latin1')).toMatch(/^[A-Z]+$/);
  }
}

/** Set by a test: the next connection the peer accepts holds its replies (see pauseReplies). */
let pauseRepliesOfNextConnection = false;

beforeAll(async () => {
  peer = await startGoCachePeer({
    script,
    onConnection: (conn) => {
      if (!pauseRepliesOfNextConnection) return;
      pauseRepliesOfNextConnection = false;
      conn.pauseReplies();
    },
  });
  client = await GoCacheClient.connect({ host: peer.host, port: peer.port });
});
afterEach(async () => {
  for (const sub of opened.splice(0)) await within(sub.close(), 10_000, 'close');
  checkWire();
  expect(peer.crashed).toBe(false);
});
afterAll(async () => {
  await client.close();
  await peer.close();
});

describe('pub/sub against the GoCache peer', () => {
  it('subscribes with one SUBSCRIBE and resolves on one confirmation frame per channel', async () => {
    const sub = await subscribe(['a', 'b', 'c']);
    expect(peer.requests.at(-1)).toEqual(['SUBSCRIBE', 'a', 'b', 'c']);
    expect(sub.channels).toEqual(['a', 'b', 'c']);
    expect(connectionOf('a').subscriptions.size).toBe(3);
    // GoCache answers the unchanged count for a channel already held: still one frame, still confirmed.
    await within(sub.subscribe('a', 'd'), 10_000, 'subscribe again');
    expect(peer.requests.at(-1)).toEqual(['SUBSCRIBE', 'a', 'd']);
    expect(sub.channels).toEqual(['a', 'b', 'c', 'd']);
  });

  it('delivers messages, binary-safe, and PUBLISH counts the receivers', async () => {
    const first = await subscribe(['news']);
    const second = await subscribe(['news', 'other']);
    expect(await client.publish('news', 'hello')).toBe(2);
    expect(await client.publish('other', 'only one')).toBe(1);
    expect(await take(first, 1)).toEqual([{ channel: 'news', message: 'hello' }]);
    expect(await take(second, 2)).toEqual([
      { channel: 'news', message: 'hello' },
      { channel: 'other', message: 'only one' },
    ]);

    const channel = Buffer.from([0x62, 0x00, 0xff, 0x0d, 0x0a]);
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    const binary = await openSubscription(options(), 'channel', [channel], { buffers: true });
    opened.push(binary);
    expect(await client.publish(channel, payload)).toBe(1);
    const [message] = await take(binary, 1);
    expect(message!.channel.equals(channel)).toBe(true);
    expect(message!.message.equals(payload)).toBe(true);
  });

  it('keeps a message pushed before the confirmation of its channel (told apart by shape, not position)', async () => {
    // GoCache writes pushes and replies independently: hold the confirmations, publish, then release them.
    pauseRepliesOfNextConnection = true;
    const opening = subscribe(['plain', 'early:x']);
    await peer.waitFor(() => peer.connections.at(-1)!.subscriptions.has('early:x'));
    const conn = peer.connections.at(-1)!;
    expect(conn.pendingReplies).toBe(1);
    expect(await client.publish('early:x', 'before the confirmation')).toBe(1);
    conn.resumeReplies();
    const sub = await opening;
    expect(await take(sub, 1)).toEqual([{ channel: 'early:x', message: 'before the confirmation' }]);

    conn.pauseReplies();
    const confirming = sub.subscribe('early:y');
    await peer.waitFor(() => conn.subscriptions.has('early:y'));
    expect(await client.publish('early:y', 'before the confirmation')).toBe(1);
    conn.resumeReplies();
    await within(confirming, 10_000, 'the confirmation of early:y');
    expect(await take(sub, 1)).toEqual([{ channel: 'early:y', message: 'before the confirmation' }]);
    expect(sub.channels).toEqual(['plain', 'early:x', 'early:y']);
  });

  it('answers PING with +PONG in subscriber mode, before or after pending messages', async () => {
    const sub = await subscribe(['pinged']);
    const conn = connectionOf('pinged');
    await expect(sub.ping()).resolves.toBe('PONG');
    // The reply overtakes a message GoCache has not delivered yet...
    conn.pauseDelivery();
    expect(await client.publish('pinged', 'held')).toBe(1);
    expect(await within(sub.ping(), 10_000, 'PING with a message pending')).toBe('PONG');
    expect(sub.buffered).toBe(0);
    conn.resumeDelivery();
    expect(await take(sub, 1)).toEqual([{ channel: 'pinged', message: 'held' }]);
    // ...and a message overtakes a pending reply.
    conn.pauseReplies();
    const pong = sub.ping();
    await peer.waitFor(() => conn.pendingReplies === 1);
    expect(await client.publish('pinged', 'first')).toBe(1);
    await peer.waitFor(() => sub.buffered === 1);
    conn.resumeReplies();
    expect(await within(pong, 10_000, 'the held PONG')).toBe('PONG');
    expect(await take(sub, 1)).toEqual([{ channel: 'pinged', message: 'first' }]);
    expect(conn.requests.filter((r) => r[0]!.toString() === 'PING')).toHaveLength(3);
  });

  it("a slow subscriber loses what overflows GoCache's 100-message buffer: PUBLISH counts it out, the subscriber is not told", async () => {
    const slow = await subscribe(['busy']);
    const slowConn = connectionOf('busy');
    const fast = await subscribe(['busy']);
    slowConn.pauseDelivery();
    const counts = await Promise.all(Array.from({ length: 105 }, (_, i) => client.publish('busy', `m${i}`)));
    expect(counts).toEqual([...Array<number>(100).fill(2), ...Array<number>(5).fill(1)]);
    expect(slowConn.pendingPushes).toBe(100);
    expect(slowConn.droppedPushes).toBe(5);
    expect((await take(fast, 105)).map((m) => m.message)).toEqual(Array.from({ length: 105 }, (_, i) => `m${i}`));
    slowConn.resumeDelivery();
    expect((await take(slow, 100)).map((m) => m.message)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    // No notice: the client saw nothing it could count as dropped, and the stream goes on.
    expect(slow.dropped).toBe(0);
    expect(await client.publish('busy', 'after')).toBe(2);
    expect(await take(slow, 1)).toEqual([{ channel: 'busy', message: 'after' }]);
  });

  it('unsubscribes by explicit names only (never a bare UNSUBSCRIBE), whatever the answer order, and then closes', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `reversed:u${i}`);
    const sub = await subscribe(names);
    const conn = connectionOf('reversed:u0');
    const ended = (async () => {
      for await (const _ of sub) void _;
      return 'ended';
    })();
    await within(sub.unsubscribe('reversed:u3', 'reversed:u7', 'not-held'), 10_000, 'partial unsubscribe');
    expect(conn.requests.at(-1)!.map(String)).toEqual(['UNSUBSCRIBE', 'reversed:u3', 'reversed:u7']);
    expect(sub.channels).toHaveLength(8);
    await within(sub.unsubscribe(), 10_000, 'unsubscribe all');
    expect(await within(ended, 10_000, 'the iteration')).toBe('ended');
    // By name, in the order they were subscribed (the peer answers them in the reverse order).
    expect(conn.requests.at(-1)!.map(String)).toEqual(['UNSUBSCRIBE', ...names.filter((n) => n !== 'reversed:u3' && n !== 'reversed:u7')]);
    expect(conn.requests.some((r) => r.length === 1 && r[0]!.toString() === 'UNSUBSCRIBE')).toBe(false);
    await peer.waitFor(() => conn.closed);
    expect(conn.subscriptions.size).toBe(0);
    // With nothing held, more unsubscribing and disposing send nothing and wait for no reply (none would
    // come: without a reply timeout such a wait would hang, and this bound would catch it).
    const requests = peer.requests.length;
    await within(sub.unsubscribe(), 10_000, 'unsubscribe with nothing held');
    await within(sub[Symbol.asyncDispose](), 10_000, 'dispose with nothing held');
    expect(peer.requests.length).toBe(requests);
  });

  it('GoCache answers nothing to a bare UNSUBSCRIBE with none held: our unsubscribe never hangs', async () => {
    // The documented behaviour, shown on a raw connection to the peer: no reply at all.
    const raw = netConnect({ host: peer.host, port: peer.port });
    const replies: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => replies.push(chunk));
    await new Promise((resolve) => raw.once('connect', resolve));
    raw.write('*1\r\n$11\r\nUNSUBSCRIBE\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
    await peer.waitFor(() => Buffer.concat(replies).length >= 5);
    expect(Buffer.concat(replies).toString('latin1')).toBe('$-1\r\n'); // the only reply is the GET's
    raw.destroy();
    const bare = peer.requests.length;

    // Our side never sends it, and a subscription whose UNSUBSCRIBE goes unanswered still closes:
    // the wait is bounded by replyTimeout (generous here, so that the confirmed subscribe never hits it).
    const silent = await openSubscription(options(), 'channel', ['x'], { replyTimeout: 1_500 });
    opened.push(silent);
    const silentConn = connectionOf('x');
    await expect(silent.subscribe('silent:y')).rejects.toBeInstanceOf(GoCacheTimeoutError);
    await within(silent.unsubscribe(), 10_000, 'unsubscribe answered by nothing');
    expect(silentConn.requests.at(-1)!.map(String)).toEqual(['UNSUBSCRIBE', 'x', 'silent:y']);
    expect(silent.isOpen).toBe(false);
    await peer.waitFor(() => silentConn.closed);
    expect(peer.requests.slice(bare).some((r) => r.length === 1 && r[0] === 'UNSUBSCRIBE')).toBe(false);
  });

  it('bounds every wait: an unconfirmed subscribe rejects with GoCacheTimeoutError and leaves nothing open', async () => {
    const before = peer.connectionCount;
    const error = await openSubscription(options(), 'channel', ['silent:open'], { replyTimeout: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheTimeoutError);
    expect(peer.connectionCount).toBe(before + 1);
    await peer.waitFor(() => peer.connections.at(-1)!.closed);

    // Generous: the confirmation of 'kept' must never hit it, only the silences below.
    const sub = await subscribe(['kept'], { replyTimeout: 1_500 });
    await expect(sub.subscribe('silent:later')).rejects.toBeInstanceOf(GoCacheTimeoutError);
    // A partial unsubscribe that is never confirmed rejects too; the subscription stays usable.
    await expect(sub.unsubscribe('silent:later')).rejects.toBeInstanceOf(GoCacheTimeoutError);
    expect(sub.channels).toEqual(['kept']);
    expect(await client.publish('kept', 'still here')).toBe(1);
    expect(await take(sub, 1)).toEqual([{ channel: 'kept', message: 'still here' }]);
  });

  it('an error reply rejects the waiting operation with the server text intact', async () => {
    const refused = await openSubscription(options(), 'channel', ['refused']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GoCacheCommandError);
    expect((refused as GoCacheCommandError).message).toBe('ERR only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context');
    expect((refused as GoCacheCommandError).command).toBe('SUBSCRIBE');

    const sub = await subscribe(['fine']);
    await expect(sub.subscribe('refused')).rejects.toBeInstanceOf(GoCacheCommandError);
    expect(sub.channels).toEqual(['fine']);
    expect(sub.isOpen).toBe(true);
    expect(await client.publish('fine', 'ok')).toBe(1);
    expect(await take(sub, 1)).toEqual([{ channel: 'fine', message: 'ok' }]);
  });

  it('rejects pattern subscriptions and handshakes for GoCache before connecting', async () => {
    const before = peer.connectionCount;
    const pattern = await openSubscription(options(), 'pattern', ['news.*']).catch((e: unknown) => e);
    expect(pattern).toBeInstanceOf(GoCacheArgumentError);
    expect((pattern as Error).message).toMatch(/PSUBSCRIBE is not served by GoCache/);
    await expect(openSubscription(options({ protocol: 3 }), 'channel', ['a'])).rejects.toBeInstanceOf(GoCacheArgumentError);
    await expect(openSubscription(options({ password: 'x' }), 'channel', ['a'])).rejects.toBeInstanceOf(GoCacheArgumentError);
    await expect(openSubscription(options(), 'channel', [])).rejects.toBeInstanceOf(GoCacheArgumentError);
    // A subscription opened after the refusals owns the next connection the peer accepts.
    await subscribe(['after-refusals']);
    expect(peer.connectionCount).toBe(before + 1);
    expect(peer.connections[before]!.requests.map((r) => r.map(String))).toEqual([['SUBSCRIBE', 'after-refusals']]);
    expect(peer.requests.some((r) => r[0] === 'PSUBSCRIBE' || r[0] === 'HELLO' || r[0] === 'AUTH')).toBe(false);
  });

  it('a cut connection ends the iteration with GoCacheConnectionError, after the buffered messages', async () => {
    const sub = await subscribe(['cut']);
    const errors: Error[] = [];
    sub.onError = (error) => errors.push(error);
    expect(await client.publish('cut', 'kept')).toBe(1);
    await peer.waitFor(() => sub.buffered === 1);
    const conn = connectionOf('cut');
    conn.pauseReplies(); // the PING is read but its reply never leaves: the cut comes first
    const ping = sub.ping().catch((e: unknown) => e);
    await peer.waitFor(() => conn.pendingReplies === 1);
    conn.reset();
    const received: string[] = [];
    const outcome = await within(
      (async () => {
        for await (const m of sub) received.push(m.message);
        return 'ended';
      })().catch((e: unknown) => e),
      10_000,
      'the iteration',
    );
    expect(received).toEqual(['kept']);
    expect(outcome).toBeInstanceOf(GoCacheConnectionError);
    expect(errors).toHaveLength(1);
    expect(await within(ping, 10_000, 'the ping')).toBeInstanceOf(GoCacheConnectionError);
    // A consumer already waiting when the connection drops is woken, not left hanging.
    const waiting = await subscribe(['cut2']);
    const next = waiting[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    connectionOf('cut2').destroy();
    expect(await within(next, 10_000, 'the waiting next()')).toBeInstanceOf(GoCacheConnectionError);
  });

  it('bytes that are not RESP fail the subscription with GoCacheProtocolError', async () => {
    const error = await openSubscription(options(), 'channel', ['garbage']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheProtocolError);
    const sub = await subscribe(['odd']);
    const next = sub[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    connectionOf('odd').write(':42\r\n'); // an integer reply: never a pub/sub frame
    expect(await within(next, 10_000, 'next()')).toBeInstanceOf(GoCacheProtocolError);
  });

  it('drains a burst the consumer does not read, keeping the newest highWaterMark messages', async () => {
    const sub = await subscribe(['burst'], { highWaterMark: 100 });
    const conn = connectionOf('burst');
    conn.write(Array.from({ length: 5_000 }, (_, i) => frame('message', 'burst', `m${i}`)).join(''));
    await peer.waitFor(() => sub.dropped + sub.buffered === 5_000);
    expect(sub.buffered).toBe(100);
    expect(sub.dropped).toBe(4_900);
    const kept = await take(sub, 100);
    expect(kept[0]!.message).toBe('m4900');
    expect(kept[99]!.message).toBe('m4999');
  });
});
