// These tests run against the SCRIPTED GoCache peer (testkit/gocache-peer.ts), not a real
// GoCache server: a real GoCache cannot be built here. The peer replays GoCache's documented wire
// behaviour from shared/gocache-wire.md byte for byte (its replies, its unprefixed error texts, its
// strict framing, a simple-mode follower, a cluster's MOVED and CLUSTER NODES) and records every byte
// the SDK sends, so these tests show what the SDK puts on the wire for GoCache and how it handles what
// GoCache (or a broken peer) sends back. The peer fails closed: what the document does not describe is
// recorded as a violation, and every test ends with none.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PORT,
  GoCacheArgumentError,
  GoCacheClient,
  GoCacheCommandError,
  GoCacheConnectionError,
  GoCacheError,
  GoCacheProtocolError,
  GoCacheTimeoutError,
  type ClientOptions,
  type ServerKind,
} from '../../src/index.js';
import { startGoCacheCluster, type GoCacheCluster } from '../../testkit/gocache-cluster.js';
import { startGoCachePeer, type GoCachePeer, type PeerConnection } from '../../testkit/gocache-peer.js';
import { within } from '../../testkit/promises.js';

/**
 * The client as a JavaScript caller sees it: every method, no compile-time check. These tests check
 * what such a caller gets at run time against GoCache (a TypeScript caller's GoCache client does not
 * even have INCR, PX or DBSIZE-in-MULTI: tests/types/gocache.typecheck.ts).
 */
type JsClient = GoCacheClient<'redis'>;

const READONLY = "ERR READONLY You can't write against a read only replica";

/** Broken replies no GoCache sends but a client must survive, keyed by the GET key. */
function script(args: Buffer[], conn: PeerConnection): string | null | undefined {
  const [name, key] = args.map((a) => a.toString('latin1'));
  if (name !== 'GET') return undefined;
  switch (key) {
    case 'wrong-shape':
      return ':1\r\n';
    case 'garbage':
      return '?garbage\r\n';
    case 'extra-reply':
      return '$1\r\na\r\n+OK\r\n';
    case 'silent':
      return null;
    case 'cut':
      conn.write('$10\r\nhel');
      conn.destroy();
      return null;
    default:
      return undefined;
  }
}

/** A strict reader of what GoCache accepts: non-empty arrays of bulk strings with honest lengths, nothing else. */
function decodeRequests(wire: Buffer): Buffer[][] {
  const requests: Buffer[][] = [];
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
    if (!/^\*[1-9]\d*$/.test(header)) throw new Error(`not a non-empty array header: ${JSON.stringify(header)}`);
    const args: Buffer[] = [];
    for (let i = Number(header.slice(1)); i > 0; i--) {
      const bulk = line();
      if (!/^\$(0|[1-9]\d*)$/.test(bulk)) throw new Error(`not a bulk string header: ${JSON.stringify(bulk)}`);
      const length = Number(bulk.slice(1));
      if (wire.length < offset + length + 2) throw new Error('a bulk string longer than the bytes sent');
      args.push(wire.subarray(offset, offset + length));
      offset += length;
      if (wire.toString('latin1', offset, offset + 2) !== '\r\n') throw new Error('a bulk string not followed by CRLF');
      offset += 2;
    }
    requests.push(args);
  }
  return requests;
}

const text = (requests: Buffer[][]): string[][] => requests.map((r) => r.map((a) => a.toString('utf8')));

let peer: GoCachePeer;
const clients: Array<{ disconnect(): void }> = [];

beforeAll(async () => {
  peer = await startGoCachePeer({ script });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
  // Nothing the SDK sent would have made GoCache close a connection, crash, or misread a request.
  expect(peer.violations).toEqual([]);
  expect(peer.crashed).toBe(false);
});

afterAll(async () => {
  await peer.close();
});

/** The bytes of one request as a correct client writes it. */
const wire = (...words: string[]): Buffer =>
  Buffer.concat([Buffer.from(`*${words.length}\r\n`), ...words.map((w) => Buffer.from(`$${Buffer.byteLength(w)}\r\n${w}\r\n`))]);

/** A default client (server: 'gocache') on a new peer connection, and that connection. */
async function connect(options: ClientOptions = {}): Promise<{ client: JsClient; conn: PeerConnection }> {
  const before = peer.connectionCount;
  const client = (await GoCacheClient.connect({ host: peer.host, port: peer.port, ...options } as ClientOptions & { server: ServerKind })) as unknown as JsClient;
  clients.push(client);
  await peer.waitFor(() => peer.connectionCount === before + 1);
  return { client, conn: peer.connections[before]! };
}

describe('what the SDK sends to GoCache', () => {
  it('nothing on connect: the first bytes the peer receives are the first command', async () => {
    const { client, conn } = await connect();
    expect(client.options.server).toBe('gocache');
    expect(await client.ping()).toBe('PONG');
    expect(conn.received).toEqual(wire('PING'));
  });

  it('GoCache is the default server and 7000 the default port', () => {
    expect(DEFAULT_PORT).toBe(7000);
  });

  it('a gocache:// URL connects with server gocache, and sends nothing on connect', async () => {
    const before = peer.connectionCount;
    const client = await GoCacheClient.connect(`gocache://${peer.host}:${peer.port}`);
    clients.push(client);
    expect(client.options.server).toBe('gocache');
    await peer.waitFor(() => peer.connectionCount === before + 1);
    expect(await client.ping()).toBe('PONG');
    expect(peer.connections[before]!.received).toEqual(wire('PING'));
  });

  it('a series of calls: only non-empty arrays of upper-case bulk strings, nothing GoCache rejects', async () => {
    const { client, conn } = await connect();
    expect(await client.ping()).toBe('PONG');
    expect(await client.ping('ignored by GoCache')).toBe('PONG');
    expect(await client.set('series:a', 'one')).toBe('OK');
    expect(await client.set('series:b', 'two', { ex: 60 })).toBe('OK');
    expect(await client.get('series:a')).toBe('one');
    expect(await client.get('series:missing')).toBeNull();
    expect(await client.del('series:a', 'series:b', 'series:c')).toBe(3);
    expect(await client.dbsize()).toBe(peer.store.size);
    expect(await client.publish('series:channel', 'hello')).toBe(0);
    const cluster = await client.clusterNodes().catch((e: unknown) => e);
    expect(cluster).toBeInstanceOf(GoCacheCommandError);
    expect((cluster as GoCacheCommandError).message).toBe('Cluster is not initialized');

    const requests = decodeRequests(conn.received);
    expect(requests).toEqual(conn.requests);
    for (const request of requests) {
      expect(request.length).toBeGreaterThan(0);
      expect(request[0]!.toString('latin1')).toMatch(/^[A-Z]+$/);
    }
    expect(text(requests)).toEqual([
      ['PING'],
      ['PING', 'ignored by GoCache'],
      ['SET', 'series:a', 'one'],
      ['SET', 'series:b', 'two', 'EX', '60'],
      ['GET', 'series:a'],
      ['GET', 'series:missing'],
      ['DEL', 'series:a'],
      ['DEL', 'series:b'],
      ['DEL', 'series:c'],
      ['DBSIZE'],
      ['PUBLISH', 'series:channel', 'hello'],
      ['CLUSTER', 'NODES'],
    ]);
  });

  it("del of three keys goes out as three single-key DELs and resolves 3 (GoCache's DEL takes one key)", async () => {
    const { client, conn } = await connect();
    await client.set('del:k1', 'v');
    await client.set('del:k2', 'v');
    expect(await client.del('del:k1', 'del:k2', 'del:k3')).toBe(3);
    expect(await client.delete('del:k1')).toBe(1); // GoCache answers 1 even for a missing key
    expect(text(conn.requests).slice(2)).toEqual([['DEL', 'del:k1'], ['DEL', 'del:k2'], ['DEL', 'del:k3'], ['DEL', 'del:k1']]);
    expect(peer.store.has('del:k1')).toBe(false);
    expect(peer.store.has('del:k2')).toBe(false);
  });

  it('sendCommand upper-cases the command name', async () => {
    const { client, conn } = await connect();
    expect(await client.sendCommand(['ping'])).toBe('PONG');
    expect(text(conn.requests)).toEqual([['PING']]);
  });

  const redisOnly: Array<[string, (c: JsClient) => Promise<unknown>]> = [
    ['incr', (c) => c.incr('k')],
    ['decr', (c) => c.decr('k')],
    ['incrby', (c) => c.incrby('k', 2)],
    ['mget', (c) => c.mget('k')],
    ['mset', (c) => c.mset({ k: 'v' })],
    ['hset', (c) => c.hset('h', { f: 'v' })],
    ['hget', (c) => c.hget('h', 'f')],
    ['hgetall', (c) => c.hgetall('h')],
    ['exists', (c) => c.exists('k')],
    ['expire', (c) => c.expire('k', 10)],
    ['ttl', (c) => c.ttl('k')],
    ['echo', (c) => c.echo('m')],
    ['set with px', (c) => c.set('k', 'v', { px: 100 })],
    ['set with exat', (c) => c.set('k', 'v', { exat: new Date(Date.now() + 60_000) })],
    ['set with pxat', (c) => c.set('k', 'v', { pxat: Date.now() + 60_000 })],
    ['set with keepttl', (c) => c.set('k', 'v', { keepttl: true })],
    ['set with nx', (c) => c.set('k', 'v', { nx: true })],
    ['set with xx', (c) => c.set('k', 'v', { xx: true })],
    ['set with get', (c) => c.set('k', 'v', { get: true })],
    ['set with ex and nx', (c) => c.set('k', 'v', { ex: 10, nx: true })],
  ];

  it.each(redisOnly)('%s rejects with GoCacheArgumentError and sends nothing', async (_title, call) => {
    const { client, conn } = await connect();
    const error = await call(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/GoCache|server: 'redis'/);
    // The connection is untouched: the first bytes the peer sees are the PING after.
    expect(await client.ping()).toBe('PONG');
    expect(conn.received).toEqual(wire('PING'));
  });

  it.each<[string, ClientOptions]>([
    ['a password', { password: 'secret' }],
    ['a database', { database: 1 }],
    ['a client name', { clientName: 'me' }],
    ['RESP3', { protocol: 3, server: 'gocache' }],
  ])('connecting with %s to GoCache is refused before connecting', async (_title, options) => {
    const before = peer.connectionCount;
    await expect(GoCacheClient.connect({ host: peer.host, port: peer.port, ...options } as ClientOptions & { server: ServerKind })).rejects.toBeInstanceOf(GoCacheArgumentError);
    // A client connected after the refusal owns the next connection the peer accepts.
    const { client } = await connect();
    expect(await client.ping()).toBe('PONG');
    expect(peer.connections[before]!.received).toEqual(wire('PING'));
    expect(peer.connectionCount).toBe(before + 1);
  });
});

describe("GoCache's error replies", () => {
  it.each<[string, string[], string, string | undefined]>([
    ['DEL of two keys', ['DEL', 'a', 'b'], "Length of command doesn't match", undefined],
    ['SET with a bare NX', ['SET', 'k', 'v', 'NX'], "Couldn't convert seconds to a string", undefined],
    ['SET with a non-integer EX', ['SET', 'k', 'v', 'EX', 'abc'], 'ERR value is not an integer', 'ERR'],
    ['SET with PX', ['SET', 'k', 'v', 'PX', '100'], 'ERR syntax error', 'ERR'],
    ['an unknown command', ['INCR', 'k'], "ERR Unknown command 'INCR'", 'ERR'],
    ['an unknown CLUSTER subcommand', ['CLUSTER', 'SLOTS'], 'Unknown CLUSTER subcommand', undefined],
  ])('%s: the text intact, a code only for an upper-case first word', async (_title, args, message, code) => {
    const { client } = await connect();
    const error = await client.sendCommand(args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect(error).toBeInstanceOf(GoCacheError);
    expect((error as GoCacheCommandError).message).toBe(message);
    expect((error as GoCacheCommandError).code).toBe(code);
    expect((error as GoCacheCommandError).command).toBe(args[0]);
    expect((error as GoCacheCommandError).readOnly).toBe(false);
    // An error reply leaves the connection in step.
    expect(client.isOpen).toBe(true);
    expect(await client.ping()).toBe('PONG');
  });

  it("a simple-mode follower's `ERR READONLY` is recognised as read-only; it still serves reads", async () => {
    const follower = await startGoCachePeer({ followerOf: peer });
    try {
      const leader = await connect();
      await leader.client.set('replicated:k', 'v');
      const client = await GoCacheClient.connect({ host: follower.host, port: follower.port });
      clients.push(client);
      for (const write of [() => client.set('readonly:k', 'v'), () => client.del('replicated:k')]) {
        const error = await write().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GoCacheCommandError);
        expect((error as GoCacheCommandError).message).toBe(READONLY);
        expect((error as GoCacheCommandError).code).toBe('ERR');
        expect((error as GoCacheCommandError).readOnly).toBe(true);
      }
      expect(await client.get('replicated:k')).toBe('v');
      expect(follower.requests).toEqual([['SET', 'readonly:k', 'v'], ['DEL', 'replicated:k'], ['GET', 'replicated:k']]);
      expect(follower.violations).toEqual([]);
    } finally {
      await follower.close();
    }
  });
});

describe('a GoCache cluster node', () => {
  let cluster: GoCacheCluster;

  beforeAll(async () => {
    cluster = await startGoCacheCluster({ shards: 2 });
  });

  afterEach(() => {
    expect(cluster.violations).toEqual([]);
  });

  afterAll(async () => {
    await cluster.close();
  });

  it('CLUSTER NODES parses to typed nodes (itself listed dead, as GoCache does), with no Redis-only fields', async () => {
    const [node1, node2] = cluster.nodes;
    const client = await GoCacheClient.connect({ host: node1!.host, port: node1!.port });
    clients.push(client);
    const nodes = await client.clusterNodes();
    expect(nodes).toEqual([
      { id: 'node1', host: '127.0.0.1', port: node1!.port, status: 'dead' },
      { id: 'node2', host: '127.0.0.1', port: node2!.port, status: 'alive' },
    ]);
    expect(nodes[0]).not.toHaveProperty('flags');
    expect(node1!.peer.requests).toEqual([['CLUSTER', 'NODES']]);
  });

  it("another shard's key answers MOVED <nodeId> <host:port>: a GoCacheCommandError with code MOVED, the text intact", async () => {
    const node1 = cluster.node('node1');
    const client = await GoCacheClient.connect({ host: node1.host, port: node1.port });
    clients.push(client);
    const foreign = cluster.keyOn('shard2', 'user:');
    const error = await client.get(foreign).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).message).toBe(`MOVED node2 ${cluster.node('node2').address}`);
    expect((error as GoCacheCommandError).code).toBe('MOVED');
    const local = cluster.keyOn('shard1', 'user:');
    expect(await client.set(local, 'v')).toBe('OK');
    expect(await client.get(local)).toBe('v');
  });
});

describe('broken replies and lost connections', () => {
  // With reconnect off, a broken connection closes the client for good; with the default, the next
  // command runs on a new connection (the last test here; more in tests/integration/resilience.test.ts).
  it('a connection cut mid-reply rejects that command and every other pending one with GoCacheConnectionError', async () => {
    const { client } = await connect({ reconnect: false });
    const before = client.ping();
    const settled = Promise.allSettled([client.get('cut'), client.get('after-cut'), client.set('after-cut', 'v'), client.buffers.get('after-cut')]);
    expect(await before).toBe('PONG');
    const outcomes = await settled;
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(GoCacheConnectionError);
    }
    expect(client.isOpen).toBe(false);
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
  });

  it('garbage bytes reject with GoCacheProtocolError, and, with reconnect off, the client is closed afterwards', async () => {
    const { client, conn } = await connect({ reconnect: false });
    const settled = Promise.allSettled([client.get('garbage'), client.get('behind-garbage')]);
    const [garbage, behind] = await settled;
    expect(garbage.status).toBe('rejected');
    expect((garbage as PromiseRejectedResult).reason).toBeInstanceOf(GoCacheProtocolError);
    expect(behind!.status).toBe('rejected');
    expect((behind as PromiseRejectedResult).reason).toBeInstanceOf(GoCacheError);
    expect(client.isOpen).toBe(false);
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheError);
    await peer.waitFor(() => conn.closed);
  });

  it('a reply nobody asked for closes the client with a protocol error (reconnect off)', async () => {
    const { client, conn } = await connect({ reconnect: false });
    expect(await client.get('extra-reply')).toBe('a');
    expect(client.isOpen).toBe(false);
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheProtocolError);
    await peer.waitFor(() => conn.closed);
  });

  it('a reply on an idle connection closes the client (reconnect off)', async () => {
    const { client, conn } = await connect({ reconnect: false });
    conn.write('+OK\r\n');
    await peer.waitFor(() => conn.closed);
    expect(client.isOpen).toBe(false);
    await expect(client.get('k')).rejects.toBeInstanceOf(GoCacheError);
  });

  it('a reply of the wrong shape (GET answered :1) is a protocol error and closes the connection', async () => {
    const { client, conn } = await connect({ reconnect: false });
    const settled = Promise.allSettled([client.get('wrong-shape'), client.get('behind-wrong-shape')]);
    const [wrong, behind] = await settled;
    expect(wrong.status).toBe('rejected');
    expect((wrong as PromiseRejectedResult).reason).toBeInstanceOf(GoCacheProtocolError);
    expect(((wrong as PromiseRejectedResult).reason as Error).message).toMatch(/^GET: /);
    expect(behind!.status).toBe('rejected');
    expect(client.isOpen).toBe(false);
    await expect(client.ping()).rejects.toBeInstanceOf(GoCacheError);
    await peer.waitFor(() => conn.closed);
  });

  it('with reconnect on (the default), garbage closes that connection only: the next command runs on a new one', async () => {
    const { client, conn } = await connect();
    const [garbage] = await Promise.allSettled([client.get('garbage')]);
    expect((garbage as PromiseRejectedResult).reason).toBeInstanceOf(GoCacheProtocolError);
    await peer.waitFor(() => conn.closed);
    expect(await client.ping()).toBe('PONG');
    expect(client.isOpen).toBe(true);
    expect(client.status).toBe('ready');
  });

  it('a command GoCache never answers times out, and the connection stays usable', async () => {
    const { client } = await connect({ commandTimeout: 100 });
    await expect(client.get('silent')).rejects.toBeInstanceOf(GoCacheTimeoutError);
    expect(client.isOpen).toBe(true);
  });

  it('close() does not wait forever for the reply to a command that already timed out', async () => {
    // GoCache sends no reply at all to some requests (bare UNSUBSCRIBE holding nothing, REMOVENODE of
    // an unknown node): with a command timeout set, every wait must be bounded, close() included.
    const { client } = await connect({ commandTimeout: 100 });
    await expect(client.get('silent')).rejects.toBeInstanceOf(GoCacheTimeoutError);
    // No reply will ever come: a close() that waited for one would hang, and this bound would catch it.
    await within(client.close(), 10_000, 'close() after a command that timed out');
    expect(client.isOpen).toBe(false);
  });
});

describe('binary values through GoCache', () => {
  it('keys and values with every byte 0x00–0xFF, invalid UTF-8 and the empty value round-trip', async () => {
    const { client, conn } = await connect();
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const invalidUtf8 = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80]);
    const key = Buffer.concat([Buffer.from('bin:'), allBytes]);

    expect(await client.set(key, allBytes)).toBe('OK');
    expect(await client.set('bin:invalid', invalidUtf8, { ex: 60 })).toBe('OK');
    expect(await client.set('bin:empty', '')).toBe('OK');
    expect(await client.set('bin:u8', new Uint8Array([7, 0, 7]))).toBe('OK');

    expect((await client.buffers.get(key))!.equals(allBytes)).toBe(true);
    expect((await client.buffers.get('bin:invalid'))!.equals(invalidUtf8)).toBe(true);
    expect(await client.get('bin:empty')).toBe('');
    expect(await client.buffers.get('bin:u8')).toEqual(Buffer.from([7, 0, 7]));
    expect(peer.store.get(key.toString('latin1'))?.value.equals(allBytes)).toBe(true);
    // The bytes went out as sent: the request's key and value are the exact bytes.
    const setRequest = conn.requests[0]!;
    expect(setRequest[1]!.equals(key)).toBe(true);
    expect(setRequest[2]!.equals(allBytes)).toBe(true);
  });
});
