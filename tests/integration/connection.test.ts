// The connection's behaviour: pipelining, batching of writes, connect and command timeouts, lost
// connections, close/disconnect, RESP3 and URLs. Against the shared redis-server of the globalSetup
// (keys prefixed with this file's name), private servers where a server is stopped, and the scripted
// GoCache peer where the bytes on the wire are observed.
import { Socket, connect as netConnect, type LookupFunction } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  GoCacheClient,
  GoCacheCommandError,
  GoCacheConnectionError,
  GoCacheError,
  GoCacheTimeoutError,
  type ClientOptions,
} from '../../src/index.js';
import { startGoCachePeer, type GoCachePeer, type PeerConnection } from '../../testkit/gocache-peer.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';

const P = 'it:connection:';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function redis(options: ClientOptions = {}): Promise<GoCacheClient<'redis'>> {
  return GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), ...options, server: 'redis' });
}

/**
 * Watches commands from the moment they are issued (so a rejection is never unhandled), and later
 * gives their outcomes, failing when one is still pending after `ms` (a hang).
 */
function watch(promises: Promise<unknown>[]): { outcomes(ms: number, what: string): Promise<PromiseSettledResult<unknown>[]> } {
  const settled = Promise.allSettled(promises);
  return {
    outcomes: (ms, what) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
        void settled.then((results) => {
          clearTimeout(timer);
          resolve(results);
        });
      }),
  };
}

/** Expects every outcome to be a rejection with GoCacheConnectionError. */
function expectAllConnectionErrors(outcomes: PromiseSettledResult<unknown>[]): void {
  for (const outcome of outcomes) {
    expect(outcome.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(GoCacheConnectionError);
  }
}

/** The client's socket (a private field): only read here to count the writes handed to it. */
function socketOf(client: object): Socket {
  return (client as unknown as { core: { link: { current: { socket: Socket } } } }).core.link.current.socket;
}

const clients: Array<{ disconnect(): void }> = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});
async function track<C extends { disconnect(): void }>(client: Promise<C>): Promise<C> {
  const c = await client;
  clients.push(c);
  return c;
}

describe('pipelining', () => {
  it('1,000 concurrent commands on one client each resolve with their own value', async () => {
    const client = await track(redis());
    const n = 1_000;
    const key = (i: number): string => `${P}many:${i}`;
    await client.mset(Array.from({ length: n }, (_, i) => [key(i), `value-${i}`] as const));
    await client.set(`${P}many:not-a-number`, 'x');

    const calls = Array.from({ length: n }, (_, i): Promise<unknown> => {
      switch (i % 5) {
        case 0:
          return client.get(key(i));
        case 1:
          return client.buffers.get(key(i));
        case 2:
          return client.echo(`echo-${i}`);
        case 3:
          return client.incrby(`${P}many:counter:${i}`, i);
        default:
          return client.incr(`${P}many:not-a-number`).then(
            () => 'unexpected success',
            (error: unknown) => (error instanceof GoCacheCommandError ? `error-${i}` : error),
          );
      }
    });
    const results = await Promise.all(calls);
    results.forEach((result, i) => {
      switch (i % 5) {
        case 0:
          expect(result).toBe(`value-${i}`);
          break;
        case 1:
          expect(result).toEqual(Buffer.from(`value-${i}`));
          break;
        case 2:
          expect(result).toBe(`echo-${i}`);
          break;
        case 3:
          expect(result).toBe(i);
          break;
        default:
          expect(result).toBe(`error-${i}`);
      }
    });
  });

  it('large replies split across chunks, alternating strings and Buffers, go to their own callers', async () => {
    const client = await track(redis());
    const values = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(3, '0')}:${'é'.repeat(10_000 + i)}`);
    await Promise.all(values.map((value, i) => client.set(`${P}large:${i}`, value)));
    const results = await Promise.all(values.map((_, i) => (i % 2 === 0 ? client.get(`${P}large:${i}`) : client.buffers.get(`${P}large:${i}`))));
    results.forEach((result, i) => {
      if (i % 2 === 0) expect(result === values[i]).toBe(true);
      else expect((result as Buffer).equals(Buffer.from(values[i]!, 'utf8'))).toBe(true);
    });
  });
});

describe('write batching, observed at the GoCache peer', () => {
  let peer: GoCachePeer;
  /** 'data' events per peer connection, and the requests complete after each. */
  const dataEvents = new Map<PeerConnection, number[]>();

  beforeAll(async () => {
    peer = await startGoCachePeer({
      onConnection: (conn) => {
        const events: number[] = [];
        dataEvents.set(conn, events);
        // Registered after the peer's own listener: the requests of this chunk are recorded by now.
        conn.socket.on('data', () => events.push(conn.requests.length));
      },
    });
  });

  afterAll(async () => {
    await peer.close();
  });

  async function connectToPeer(): Promise<{ client: GoCacheClient; conn: PeerConnection }> {
    const before = peer.connectionCount;
    const client = await track(GoCacheClient.connect({ port: peer.port, host: peer.host }));
    await peer.waitFor(() => peer.connectionCount === before + 1);
    return { client, conn: peer.connections[before]! };
  }

  it('commands issued in one tick leave in one write and arrive together', async () => {
    const { client, conn } = await connectToPeer();
    const socket = socketOf(client);
    const write = vi.spyOn(socket, '_write');
    const writev = vi.spyOn(socket, '_writev');

    const n = 100;
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) calls.push(i % 2 === 0 ? client.set(`${P}batch:${i}`, `v${i}`) : client.get(`${P}batch:${i - 1}`));
    const replies = await Promise.all(calls);
    expect(replies.filter((_, i) => i % 2 === 0).every((r) => r === 'OK')).toBe(true);
    expect(replies.filter((_, i) => i % 2 === 1)).toEqual(Array.from({ length: n / 2 }, (_, j) => `v${2 * j}`));

    // One write handed to the socket for the whole tick...
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(1);
    // ...and the peer read all 100 requests from one chunk.
    expect(conn.requests.length).toBe(n);
    expect(dataEvents.get(conn)).toEqual([n]);
  });

  it('binary arguments mixed with text in one tick are still one write', async () => {
    const { client, conn } = await connectToPeer();
    const socket = socketOf(client);
    const write = vi.spyOn(socket, '_write');
    const writev = vi.spyOn(socket, '_writev');

    const calls = [
      client.set(`${P}mixed:text`, 'text'),
      client.set(Buffer.from(`${P}mixed:bin`), Buffer.from([0, 1, 2, 255])),
      client.get(`${P}mixed:text`),
      client.buffers.get(Buffer.from(`${P}mixed:bin`)),
      client.ping(),
    ];
    expect(await Promise.all(calls)).toEqual(['OK', 'OK', 'text', Buffer.from([0, 1, 2, 255]), 'PONG']);
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(1);
    expect(dataEvents.get(conn)).toEqual([5]);
  });

  it('commands issued in later ticks go out in later writes', async () => {
    const { client } = await connectToPeer();
    const socket = socketOf(client);
    const write = vi.spyOn(socket, '_write');
    const writev = vi.spyOn(socket, '_writev');
    await client.ping();
    await client.ping();
    await Promise.all([client.ping(), client.ping()]);
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(3);
  });
});

/**
 * A listening socket that never accepts (its thread is blocked), with its accept queue filled: a new
 * connection attempt then gets no answer at all, as with an unreachable host. (Connecting to a
 * non-routable address is not a reliable way to get there: some sandboxes accept every connection.)
 */
async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       setImmediate(() => { Atomics.wait(workerData, 0, 0); server.close(); });
     });`,
    { eval: true, workerData: gate },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await worker.terminate();
  };
  for (let i = 0; i < 64; i++) {
    const socket = netConnect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 150);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return { port, close };
  }
  await close();
  throw new Error('blackhole: the accept queue never filled');
}

describe('connecting', () => {
  it('a connection attempt that gets no answer times out after connectTimeout', async () => {
    const blackhole = await startBlackhole();
    try {
      const started = Date.now();
      const error = await GoCacheClient.connect({ host: '127.0.0.1', port: blackhole.port, server: 'redis', connectTimeout: 200 }).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(GoCacheConnectionError);
      expect((error as Error).message).toMatch(/timed out/i);
      expect((error as Error).message).toContain(`127.0.0.1:${blackhole.port}`);
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      await blackhole.close();
    }
  });

  it('a DNS failure is a GoCacheConnectionError naming the host (an injected lookup, not the network\'s DNS)', async () => {
    const asked: string[] = [];
    const lookup = ((hostname: string, _options: unknown, callback: (error: NodeJS.ErrnoException) => void) => {
      asked.push(hostname);
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }));
    }) as unknown as LookupFunction;
    const error = await GoCacheClient.connect({ host: 'cache.service.test', port: 6379, server: 'redis', lookup }).catch((e: unknown) => e);
    expect(asked).toEqual(['cache.service.test']);
    expect(error).toBeInstanceOf(GoCacheConnectionError);
    expect((error as Error).message).toBe('Could not resolve the Redis host "cache.service.test" (ENOTFOUND)');
  });

  it('an injected lookup decides where a name goes', async () => {
    // Node asks for every address (`all: true`) when it may try several families.
    const lookup = ((_hostname: string, options: { all?: boolean }, callback: (error: null, address: unknown, family?: number) => void) =>
      options.all ? callback(null, [{ address: inject('redisHost'), family: 4 }]) : callback(null, inject('redisHost'), 4)) as unknown as LookupFunction;
    const client = await track(GoCacheClient.connect({ host: 'cache.service.test', port: inject('redisPort'), server: 'redis', lookup }));
    expect(await client.ping()).toBe('PONG');
  });

  it('a redis:// URL connects to Redis (server: redis implied)', async () => {
    const client = await track(GoCacheClient.connect(`redis://${inject('redisHost')}:${inject('redisPort')}`));
    expect(client.options.server).toBe('redis');
    expect(await client.echo('via url')).toBe('via url');
  });

  it('a redis:// URL with a database selects it', async () => {
    const client = await track(GoCacheClient.connect({ url: `redis://${inject('redisHost')}:${inject('redisPort')}/3` }));
    expect(await client.sendCommand(['CLIENT', 'INFO'])).toMatch(/ db=3\b/);
    await client.set(`${P}url:db3`, 'in db 3');
    const db0 = await track(redis());
    expect(await db0.get(`${P}url:db3`)).toBeNull();
    await client.del(`${P}url:db3`);
  });

  it('clientName is set on connect', async () => {
    const client = await track(redis({ clientName: 'it-connection-name' }));
    expect(await client.sendCommand(['CLIENT', 'GETNAME'])).toBe('it-connection-name');
  });
});

describe('RESP3', () => {
  it('protocol: 3 sends HELLO 3 and the commands answer the same as under RESP2', async () => {
    const v3 = await track(redis({ protocol: 3 }));
    const v2 = await track(redis());
    expect(await v3.sendCommand(['CLIENT', 'INFO'])).toMatch(/ resp=3\b/);
    expect(await v2.sendCommand(['CLIENT', 'INFO'])).toMatch(/ resp=2\b/);

    const hash = `${P}resp3:hash`;
    await v2.hset(hash, { name: 'Ada', lang: 'en', __proto__field: 'x', '': 'empty' });
    const h3 = await v3.hgetall(hash);
    const h2 = await v2.hgetall(hash);
    expect(Object.getPrototypeOf(h3)).toBeNull();
    expect(Object.getPrototypeOf(h2)).toBeNull();
    expect({ ...h3 }).toEqual({ ...h2 });
    expect({ ...h3 }).toEqual({ name: 'Ada', lang: 'en', __proto__field: 'x', '': 'empty' });
    expect({ ...(await v3.buffers.hgetall(hash)) }).toEqual({ ...(await v2.buffers.hgetall(hash)) });

    const k = `${P}resp3:k`;
    const run = async (c: GoCacheClient<'redis'>, tag: string): Promise<unknown[]> => [
      await c.set(`${k}:${tag}`, 'v'),
      await c.set(`${k}:${tag}`, 'w', { nx: true }),
      await c.set(`${k}:${tag}`, 'x', { get: true }),
      await c.get(`${k}:${tag}`),
      await c.get(`${k}:missing`),
      await c.mget(`${k}:${tag}`, `${k}:missing`),
      await c.exists(`${k}:${tag}`, `${k}:${tag}`),
      await c.expire(`${k}:${tag}`, 100),
      await c.expire(`${k}:missing`, 100),
      await c.ttl(`${k}:${tag}`),
      await c.incr(`${k}:${tag}:n`),
      await c.ping(),
      await c.ping('msg'),
      await c.echo('e'),
      await c.publish(`${k}:chan`, 'm'),
      await c.hgetall(`${k}:nohash`).then((o) => ({ ...o })),
      await c.del(`${k}:${tag}`, `${k}:${tag}:n`),
    ];
    expect(await run(v3, 'v3')).toEqual(await run(v2, 'v2'));
  });
});

describe('command timeouts', () => {
  it('a slow command rejects with GoCacheTimeoutError; after its late reply, the next command gets its own reply', async () => {
    const client = await track(redis({ commandTimeout: 100 }));
    const started = Date.now();
    // BLPOP only blocks this connection, not the shared server (DEBUG SLEEP would block every file).
    const error = await client.sendCommand(['BLPOP', `${P}timeout:list`, '0.5']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheTimeoutError);
    expect(error).toBeInstanceOf(GoCacheError);
    expect((error as Error).message).toMatch(/BLPOP timed out after 100 ms/);
    expect(Date.now() - started).toBeLessThan(450);
    expect(client.isOpen).toBe(true);

    await sleep(650 - (Date.now() - started)); // the late null reply of BLPOP arrives, and is dropped
    expect(await client.echo('mine')).toBe('mine');
    expect(await client.get(`${P}timeout:missing`)).toBeNull();
    expect(await client.ping()).toBe('PONG');
  });

  it('a late reply that arrives while the next command waits goes to nobody', async () => {
    // BLPOP blocks 450 ms; it times out at 300 ms; ECHO, sent then, is answered at 450 ms (< 600 ms).
    const client = await track(redis({ commandTimeout: 300 }));
    const blpop = client.sendCommand(['BLPOP', `${P}timeout:list2`, '0.45']);
    const error = await blpop.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheTimeoutError);
    const [echo, get] = await Promise.all([client.echo('my own reply'), client.get(`${P}timeout:missing`)]);
    expect(echo).toBe('my own reply');
    expect(get).toBeNull();
  });

  it('commands answered in time are not affected', async () => {
    const client = await track(redis({ commandTimeout: 2_000 }));
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.echo(`t${i}`)));
    expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => `t${i}`));
    await sleep(50);
    expect(await client.ping()).toBe('PONG');
  });
});

describe('closing', () => {
  it('close() waits for the replies in flight; commands after it reject', async () => {
    const client = await track(redis());
    const slow = client.sendCommand(['BLPOP', `${P}close:list`, '0.2']);
    const echo = client.echo('in flight');
    const closing = client.close();
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
    await closing;
    await expect(slow).resolves.toBeNull();
    await expect(echo).resolves.toBe('in flight');
    expect(client.isOpen).toBe(false);
    await expect(client.get(`${P}close:k`)).rejects.toBeInstanceOf(GoCacheConnectionError);
    await client.close(); // idempotent
  });

  it('close() in the same tick as a command still sends it and waits for its reply', async () => {
    const client = await track(redis());
    const set = client.set(`${P}close:same-tick`, 'v');
    await client.close();
    await expect(set).resolves.toBe('OK');
    const other = await track(redis());
    expect(await other.get(`${P}close:same-tick`)).toBe('v');
  });

  it('disconnect() rejects every pending command at once', async () => {
    const client = await track(redis());
    const pending = watch([
      client.sendCommand(['BLPOP', `${P}disconnect:list`, '5']),
      client.echo('queued behind BLPOP'),
      client.get(`${P}disconnect:k`),
    ]);
    await sleep(20);
    const started = Date.now();
    client.disconnect();
    expectAllConnectionErrors(await pending.outcomes(1_000, 'a command pending at disconnect()'));
    expect(Date.now() - started).toBeLessThan(500);
    expect(client.isOpen).toBe(false);
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
  });

  it('disconnect() during a close() that waits for a reply ends the close at once', async () => {
    const client = await track(redis());
    const pending = watch([client.sendCommand(['BLPOP', `${P}close-then-disconnect:list`, '5'])]);
    const closing = watch([client.close()]);
    await sleep(20);
    client.disconnect();
    const [closed] = await closing.outcomes(1_000, 'close() after disconnect()');
    expect(closed!.status).toBe('fulfilled');
    expectAllConnectionErrors(await pending.outcomes(1_000, 'BLPOP pending at disconnect()'));
    expect(client.isOpen).toBe(false);
  });

  it('a connection killed by the server rejects what is pending with GoCacheConnectionError (never re-sent); the client reconnects', async () => {
    const client = await track(redis());
    const id = await client.sendCommand(['CLIENT', 'ID']);
    const pending = watch([client.sendCommand(['BLPOP', `${P}killed:list`, '5']), client.echo('after'), client.set(`${P}killed:k`, 'written once?')]);
    const admin = await track(redis());
    await vi.waitFor(async () => expect(await admin.sendCommand(['CLIENT', 'LIST', 'ID', String(id)])).toMatch(/cmd=blpop/), { timeout: 2_000, interval: 10 });
    expect(await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(id)])).toBe(1);
    expectAllConnectionErrors(await pending.outcomes(2_000, 'a command pending at CLIENT KILL'));
    // The SET behind the blocked BLPOP was never run, and is not re-sent after the reconnect.
    expect(await client.ping()).toBe('PONG');
    expect(client.status).toBe('ready');
    expect(await client.sendCommand(['CLIENT', 'ID'])).not.toBe(id);
    expect(await admin.exists(`${P}killed:k`)).toBe(0);
  });

  it('with reconnect off, a connection killed by the server closes the client for good', async () => {
    const client = await track(redis({ reconnect: false }));
    const id = await client.sendCommand(['CLIENT', 'ID']);
    const ended = new Promise<Error>((resolve) => client.once('end', resolve));
    const admin = await track(redis());
    expect(await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(id)])).toBe(1);
    expect(await ended).toBeInstanceOf(GoCacheConnectionError);
    expect(client.isOpen).toBe(false);
    expect(client.status).toBe('closed');
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
  });
});

describe('the server dies mid-flight (private redis-server)', () => {
  let server: RedisServerHandle;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('every pending command rejects with GoCacheConnectionError, none hangs (reconnect off: the client then closes)', async () => {
    const client = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', reconnect: false }));
    const pending = watch([
      client.sendCommand(['BLPOP', 'list', '0']), // blocks until the server goes
      ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? client.set(`k${i}`, 'v') : client.get(`k${i - 1}`))),
      client.buffers.get('k0'),
    ]);
    const admin = await track(GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', reconnect: false }));
    await vi.waitFor(async () => expect(await admin.sendCommand(['INFO', 'clients'])).toMatch(/blocked_clients:1/), { timeout: 2_000, interval: 10 });

    await server.stop();
    expectAllConnectionErrors(await pending.outcomes(3_000, 'a command pending when the server stopped'));
    expect(client.isOpen).toBe(false);
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
    await expect(admin.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
  });
});
