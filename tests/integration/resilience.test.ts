// A connection that survives production: reconnects (states, events, the offline queue, the retry
// strategy, the handshake rerun), close() bounded, AbortSignal, blocking commands on connections of
// their own, reply limits, TLS, Unix sockets, IPv6 and URLs, secrets kept out of sight. Against
// private redis-servers (started, stopped and restarted here), the shared one, and the scripted
// GoCache peer where GoCache's own behaviour matters. The fault proxy suite is in tests/faults/.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  GoCacheAbortError,
  GoCacheArgumentError,
  GoCacheClient,
  GoCacheConnectionError,
  GoCacheProtocolError,
  GoCacheTimeoutError,
  type ClientOptions,
  type RetryStrategy,
} from '../../src/index.js';
import { startGoCachePeer, type GoCachePeer } from '../../testkit/gocache-peer.js';
import { rejection, within } from '../../testkit/promises.js';
import { startRedisServer, TLS_FILES, type RedisServerHandle } from '../../testkit/redis-server.js';

const P = 'it:resilience:';
const opened: Array<{ disconnect(): void }> = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.disconnect();
});

async function track<C extends { disconnect(): void }>(client: Promise<C>): Promise<C> {
  const c = await client;
  opened.push(c);
  return c;
}

/** A retry strategy with a fixed delay, counting its calls. */
function fixedDelay(ms: number): RetryStrategy & { attempts: number[] } {
  const attempts: number[] = [];
  const strategy = ((attempt: number) => {
    attempts.push(attempt);
    return ms;
  }) as unknown as RetryStrategy & { attempts: number[] };
  strategy.attempts = attempts;
  return strategy;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const nextEvent = <T extends unknown[]>(client: { once(event: any, listener: (...args: any[]) => void): unknown }, event: string): Promise<T> =>
  new Promise((resolve) => client.once(event, (...args: unknown[]) => resolve(args as T)));

describe('reconnecting after a server restart (a private redis-server, restarted on the same port)', () => {
  let server: RedisServerHandle;

  beforeAll(async () => {
    server = await startRedisServer({ password: 'secret' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function restart(): Promise<void> {
    await server.stop();
    server = await startRedisServer({ port: server.port, password: 'secret' });
  }

  it('commands issued during the outage wait and then run; the handshake (AUTH, SELECT, CLIENT SETNAME) runs again; events tell the story', async () => {
    const strategy = fixedDelay(50);
    const client = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', password: 'secret', database: 3, clientName: 'resilient', retryStrategy: strategy }));
    const events: string[] = [];
    for (const event of ['connect', 'ready', 'reconnecting', 'end'] as const) client.on(event, () => events.push(event));
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await client.set(`${P}before`, 'kept in db 3');

    const reconnecting = nextEvent<[{ attempt: number; delay: number; error: Error }]>(client, 'reconnecting');
    await server.stop();
    const [info] = await reconnecting;
    expect(info).toMatchObject({ attempt: 1, delay: 50 });
    expect(info.error).toBeInstanceOf(GoCacheConnectionError);
    expect(client.status).toBe('reconnecting');
    expect(client.isOpen).toBe(true);

    // Issued while the server is down: queued, in order.
    const queued = [client.set(`${P}during`, '1'), client.incr(`${P}during`), client.get(`${P}during`)];
    const ready = nextEvent(client, 'ready');
    server = await startRedisServer({ port: server.port, password: 'secret' });
    await within(ready, 10_000, 'the client to be ready again');
    expect(await within(Promise.all(queued), 10_000, 'the queued commands')).toEqual(['OK', 2, '2']);
    expect(client.status).toBe('ready');
    // The handshake ran again: authenticated (or nothing would work), database 3, named.
    const clientInfo = await client.sendCommand<string>(['CLIENT', 'INFO']);
    expect(clientInfo).toMatch(/ db=3 /);
    expect(clientInfo).toMatch(/ name=resilient /);
    expect(strategy.attempts[0]).toBe(1);
    expect(events.filter((e) => e === 'reconnecting').length).toBe(strategy.attempts.length);
    expect(events.at(-1)).toBe('ready');
    expect(events).not.toContain('end');
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(String(error)).not.toContain('secret');
  });

  it('with offlineQueue: false, commands issued while reconnecting reject at once', async () => {
    const client = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', password: 'secret', offlineQueue: false, retryStrategy: fixedDelay(50) }));
    const reconnecting = nextEvent(client, 'reconnecting');
    const ready = nextEvent(client, 'ready');
    await server.stop();
    await reconnecting;
    const error = await rejection(client.get(`${P}offline`));
    expect(error).toBeInstanceOf(GoCacheConnectionError);
    expect((error as Error).message).toMatch(/offlineQueue is off/);
    server = await startRedisServer({ port: server.port, password: 'secret' });
    await within(ready, 10_000, 'ready after the restart');
    expect(await client.ping()).toBe('PONG');
  });

  it('the offline queue is bounded in length and in time', async () => {
    const client = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', password: 'secret', offlineQueue: { maxLength: 2, timeout: 300 }, retryStrategy: fixedDelay(20) }));
    const reconnecting = nextEvent(client, 'reconnecting');
    await server.stop();
    await reconnecting;
    const first = rejection(client.get(`${P}q1`));
    const second = rejection(client.get(`${P}q2`));
    const third = await rejection(client.get(`${P}q3`));
    expect((third as Error).message).toMatch(/offline queue is full \(2 commands\)/);
    for (const queued of [await first, await second]) {
      expect(queued).toBeInstanceOf(GoCacheConnectionError);
      expect((queued as Error).message).toMatch(/after 300 ms \(offlineQueue.timeout\)/);
    }
    await restart();
    await within(nextEvent(client, 'ready'), 10_000, 'ready after the restart');
  });

  it('a retry strategy that gives up closes the client: queued commands reject, `end` says why', async () => {
    const client = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', password: 'secret', retryStrategy: (attempt) => (attempt <= 2 ? 20 : false) }));
    const ended = nextEvent<[Error]>(client, 'end');
    await server.stop();
    const queued = rejection(client.get(`${P}given-up`));
    const [reason] = await within(ended, 10_000, 'the end event');
    expect(reason).toBeInstanceOf(GoCacheConnectionError);
    expect(reason.message).toMatch(/Gave up reconnecting to Redis at 127\.0\.0\.1:\d+ after 2 attempts: the retry strategy gave up/);
    expect(await queued).toBe(reason);
    expect(client.status).toBe('closed');
    expect(client.isOpen).toBe(false);
    expect(await rejection(client.ping())).toBeInstanceOf(GoCacheConnectionError);
    server = await startRedisServer({ port: server.port, password: 'secret' });
  });

  it('a client without an error listener does not crash when its link drops (no unhandled error event)', async () => {
    const client = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', password: 'secret', retryStrategy: fixedDelay(20) }));
    const ready = nextEvent(client, 'ready');
    await restart();
    await within(ready, 10_000, 'ready after the restart');
    expect(await client.ping()).toBe('PONG');
  });
});

describe('GoCache: reconnecting sends nothing but what is configured; resubscribing uses SUBSCRIBE only', () => {
  let peer: GoCachePeer;
  beforeAll(async () => {
    peer = await startGoCachePeer();
  });
  afterAll(async () => {
    await peer.close();
  });
  afterEach(() => {
    expect(peer.takeViolations()).toEqual([]);
  });

  it('after the peer cuts a connection, the client and its subscription come back; the peer sees only the commands asked for', async () => {
    const client = await track(GoCacheClient.connect({ host: peer.host, port: peer.port, retryStrategy: fixedDelay(20) }));
    const sub = await client.subscribe('news');
    const reconnects: number[] = [];
    sub.onReconnect = (n) => reconnects.push(n);
    const before = peer.requests.length;
    for (const connection of peer.connections) connection.reset();
    await within(nextEvent(client, 'ready'), 10_000, 'the client ready again');
    await peer.waitFor(() => reconnects.length === 1);
    expect(sub.reconnects).toBe(1);
    expect(await client.set(`${P}after`, 'v')).toBe('OK');
    // Messages published after the reconnect arrive.
    await peer.waitFor(() => peer.requests.slice(before).some((r) => r[0] === 'SUBSCRIBE'));
    expect(await client.publish('news', 'back')).toBe(1);
    const iterator = sub[Symbol.asyncIterator]();
    expect((await within(iterator.next(), 5_000, 'a message after the reconnect')).value).toEqual({ channel: 'news', message: 'back' });
    // What was sent after the cut: exactly SUBSCRIBE news, SET and PUBLISH (no HELLO, CLIENT, PING...).
    expect(peer.requests.slice(before).map((r) => r[0]).sort()).toEqual(['PUBLISH', 'SET', 'SUBSCRIBE']);
    await sub.close();
  });

  it('a health check PINGs an idle link (only when configured)', async () => {
    const before = peer.requests.length;
    const client = await track(GoCacheClient.connect({ host: peer.host, port: peer.port, healthCheckInterval: 50 }));
    await peer.waitFor(() => peer.requests.slice(before).filter((r) => r[0] === 'PING').length >= 2);
    expect(client.status).toBe('ready');
    const quiet = await track(GoCacheClient.connect({ host: peer.host, port: peer.port }));
    const mark = peer.requests.length;
    await quiet.set(`${P}quiet`, 'v');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(peer.requests.slice(mark).filter((r) => r[0] === 'PING').length).toBeLessThanOrEqual(peer.requests.slice(mark).length);
  });
});

describe('closing, aborting, blocking (the shared redis-server)', () => {
  const redis = (options: Partial<ClientOptions> = {}) => track(GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), ...options, server: 'redis' }));

  it('close() with an unanswered command resolves within closeTimeout, and the command rejects', async () => {
    const client = await redis({ closeTimeout: 200 });
    const blocked = rejection(client.sendCommand(['BLPOP', `${P}never`, '0']));
    await within(client.close(), 10_000, 'close() with a reply that never comes');
    const error = await blocked;
    expect(error).toBeInstanceOf(GoCacheConnectionError);
    expect((error as Error).message).toMatch(/closed with 1 replies still awaited after 200 ms/);
    expect(client.status).toBe('closed');
  });

  it('withSignal: a command aborted in flight rejects with GoCacheAbortError; its late reply goes to nobody', async () => {
    const client = await redis();
    await client.set(`${P}abort:a`, 'A');
    const controller = new AbortController();
    const viewed = client.withSignal(controller.signal);
    const slow = rejection(viewed.sendCommand(['DEBUG', 'SLEEP', '0.2']));
    const after = client.get(`${P}abort:a`);
    controller.abort(new Error('user gave up'));
    const error = await slow;
    expect(error).toBeInstanceOf(GoCacheAbortError);
    expect((error as GoCacheAbortError).cause).toEqual(new Error('user gave up'));
    expect(await after).toBe('A');
    expect(await client.withSignal(new AbortController().signal).get(`${P}abort:a`)).toBe('A');
    // An already aborted signal: nothing is sent.
    expect(await rejection(client.withSignal(AbortSignal.abort()).get(`${P}abort:a`))).toBeInstanceOf(GoCacheAbortError);
  });

  it('a blocking command runs on a connection of its own: a get beside a 1 s BLPOP is answered first', async () => {
    const client = await redis();
    await client.set(`${P}beside`, 'now');
    const order: string[] = [];
    const blocked = client.blpop([`${P}empty-list`], 1).then((reply) => {
      order.push('blpop');
      return reply;
    });
    const get = client.get(`${P}beside`).then((reply) => {
      order.push('get');
      return reply;
    });
    expect(await get).toBe('now');
    expect(await blocked).toBeNull();
    expect(order).toEqual(['get', 'blpop']);
  });

  it('an aborted blocking command closes its own connection only', async () => {
    const client = await redis();
    const controller = new AbortController();
    const blocked = rejection(client.withSignal(controller.signal).blpop([`${P}abort-list`], 0));
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await blocked).toBeInstanceOf(GoCacheAbortError);
    expect(await client.ping()).toBe('PONG');
    // A new blocking command gets a new connection and works.
    await client.rpush(`${P}abort-list`, 'x');
    expect(await client.blpop([`${P}abort-list`], 1)).toEqual([`${P}abort-list`, 'x']);
  });

  it('a blocking command that times out client-side closes its connection only; the client goes on', async () => {
    const client = await redis({ commandTimeout: 150 });
    expect(await rejection(client.blpop([`${P}timeout-list`], 0))).toBeInstanceOf(GoCacheTimeoutError);
    expect(await client.ping()).toBe('PONG');
    await client.rpush(`${P}timeout-list`, 'y');
    expect(await client.blpop([`${P}timeout-list`], 1)).toEqual([`${P}timeout-list`, 'y']);
  });

  it('reply limits from the options: a reply past one is a GoCacheProtocolError naming it; the link reconnects', async () => {
    const client = await redis({ limits: { maxBulkLength: 10 } });
    await client.set(`${P}big`, 'x'.repeat(11));
    const error = await rejection(client.get(`${P}big`));
    expect(error).toBeInstanceOf(GoCacheProtocolError);
    expect((error as Error).message).toMatch(/maxBulkLength/);
    expect(await client.set(`${P}small`, 'x'.repeat(10))).toBe('OK');
    expect(await client.get(`${P}small`)).toBe('xxxxxxxxxx');
  });
});

describe('TLS, Unix sockets, IPv6 and URLs', () => {
  let server: RedisServerHandle;
  let v6: Server;
  beforeAll(async () => {
    server = await startRedisServer({ tls: true, unixSocket: true });
  });
  afterAll(async () => {
    await server?.stop();
    v6?.close();
  });

  it('rediss:// with the CA connects over TLS', async () => {
    const client = await track(GoCacheClient.connect({ url: `rediss://localhost:${server.tlsPort}`, tls: { ca: readFileSync(TLS_FILES.ca) } }));
    expect(await client.ping()).toBe('PONG');
    expect(await client.sendCommand<string>(['CLIENT', 'INFO'])).toMatch(/ laddr=127\.0\.0\.1:\d+ /);
  });

  it('TLS without trusting the server certificate fails with a GoCacheConnectionError that says so', async () => {
    const error = await rejection(GoCacheClient.connect({ host: '127.0.0.1', port: server.tlsPort!, server: 'redis', tls: true }));
    expect(error).toBeInstanceOf(GoCacheConnectionError);
    expect((error as Error).message).toMatch(/over TLS: .*(self.signed|unable to verify|certificate)/i);
  });

  it('asking GoCache for TLS is a clear error before connecting', async () => {
    const error = await rejection(GoCacheClient.connect({ port: server.port, tls: true, server: 'gocache' } as ClientOptions & { server: 'gocache' }));
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/GoCache has no tls/);
  });

  it('a Unix socket, by path and by unix:// URL with ?db=', async () => {
    const byPath = await track(GoCacheClient.connect({ path: server.socketPath!, server: 'redis' }));
    expect(await byPath.ping()).toBe('PONG');
    const byUrl = await track(GoCacheClient.connect(`unix://${server.socketPath!}?db=2`));
    expect(await byUrl.sendCommand<string>(['CLIENT', 'INFO'])).toMatch(/ db=2 /);
  });

  it('an IPv6 literal in a URL: redis://[::1]:port', async () => {
    // redis-server here binds 127.0.0.1 only: a minimal RESP listener on ::1 answers PING.
    v6 = createServer((socket) => socket.on('data', () => socket.write('+PONG\r\n')));
    await new Promise<void>((resolve) => v6.listen(0, '::1', resolve));
    const port = (v6.address() as { port: number }).port;
    const client = await track(GoCacheClient.connect(`redis://[::1]:${port}`));
    expect(client.options.host).toBe('::1');
    expect(await client.ping()).toBe('PONG');
    expect(inspect(client)).toContain(`[::1]:${port}`);
  });

  it.each([
    ['a database in the query', 'redis://localhost:6379?db=3', { database: 3 }],
    ['a database in the path', 'redis://localhost:6379/4', { database: 4 }],
    ['rediss implies TLS and Redis', 'rediss://localhost:6380', { server: 'redis', port: 6380 }],
    ['gocache: defaults to 7000', 'gocache://cache.local', { server: 'gocache', port: 7000, host: 'cache.local' }],
    ['redis: defaults to 6379', 'redis://cache.local', { server: 'redis', port: 6379 }],
  ])('URL: %s', async (_title, url, expected) => {
    // resolveOptions only: nothing connects, no name is resolved.
    const { resolveOptions } = await import('../../src/client/options.js');
    expect(resolveOptions(url)).toMatchObject(expected);
  });

  it.each([
    ['a non-numeric database path', 'redis://localhost:6379/cache', /The database in the path of redis:\/\/localhost:6379\/cache must be a number/],
    ['a non-numeric ?db', 'redis://localhost:6379?db=x', /must be a number/],
    ['an unknown URL parameter', 'redis://localhost?timeout=1', /Unknown URL parameter "timeout"/],
    ['an unknown scheme', 'http://localhost', /Unsupported URL scheme "http:"/],
  ])('URL refused: %s', async (_title, url, message) => {
    const error = await rejection(GoCacheClient.connect(url as `redis://${string}`));
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(message);
  });

  it('an unknown option from a JavaScript caller is refused, not ignored', async () => {
    const error = await rejection(GoCacheClient.connect({ port: 7000, tsl: true } as unknown as ClientOptions & { server: 'redis' }));
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/Unknown option "tsl"/);
  });
});

describe('secrets never show', () => {
  it('inspect, console.log, JSON.stringify of the client and its options, and the invalid-URL error leave the password out', async () => {
    const client = await track(GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis', username: 'default', password: 'hunter2-secret' }).catch((error: unknown) => {
      // The shared server has no password: AUTH is refused, which is fine here (the error must not show it either).
      expect(String(error)).not.toContain('hunter2-secret');
      return GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
    }));
    void client;
    const { resolveOptions } = await import('../../src/client/options.js');
    const options = resolveOptions({ server: 'redis', password: 'hunter2-secret', url: 'redis://user:hunter2-secret@localhost:6379' });
    expect(options.password).toBe('hunter2-secret');
    for (const shown of [inspect(options), JSON.stringify(options), inspect(options, { depth: 10 }), `${options as unknown as string}`]) expect(shown).not.toContain('hunter2-secret');
    const invalid = await rejection(GoCacheClient.connect('redis://user:hunter2-secret@local host:6379' as `redis://${string}`));
    expect(String(invalid)).not.toContain('hunter2-secret');
    expect(String(invalid)).toContain('redis://***@');
  });

  it('a connected client shows where and its state, nothing more', async () => {
    const server = await startRedisServer({ password: 'hunter2-secret' });
    try {
      const client = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', password: 'hunter2-secret' }));
      expect(await client.ping()).toBe('PONG');
      for (const shown of [inspect(client), inspect(client, { depth: 10, showHidden: false }), JSON.stringify(client), JSON.stringify(client.options)]) {
        expect(shown).not.toContain('hunter2-secret');
      }
      expect(inspect(client)).toBe(`GoCacheClient<redis> { address: '127.0.0.1:${server.port}', status: 'ready' }`);
      expect(JSON.parse(JSON.stringify(client))).toEqual({ server: 'redis', address: `127.0.0.1:${server.port}`, status: 'ready' });
    } finally {
      await server.stop();
    }
  });
});
