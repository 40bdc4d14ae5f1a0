// These tests run against the SCRIPTED GoCache peer (testkit/gocache-peer.ts), not a real
// GoCache server: a real GoCache cannot be built here. The peer replays GoCache's documented
// MULTI/EXEC behaviour from shared/gocache-wire.md (Transactions): `+QUEUED`, its unprefixed
// queue-time arity error and EXECABORT, its texts inside EXEC, the commands it refuses inside MULTI,
// and the DBSIZE deadlock. It records every byte the SDK sends, so these tests show that what GoCache
// cannot take inside a transaction is refused client-side, before anything is sent. The peer fails
// closed (what the document does not describe is recorded, not answered): every test ends with no
// violation, no crash and no deadlocked keyspace.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GoCacheArgumentError,
  GoCacheClient,
  GoCacheCommandError,
  GoCachePipelineError,
  GoCacheProtocolError,
  type ClientOptions,
  type Settled,
  type ServerKind,
} from '../../src/index.js';
import { startGoCachePeer, type GoCachePeer, type PeerConnection } from '../../testkit/gocache-peer.js';
import { rejection } from '../../testkit/promises.js';

/**
 * The client as a JavaScript caller sees it: every method, no compile-time check. These tests check
 * what such a caller gets at run time against GoCache (a TypeScript caller's GoCache client does not
 * even have INCR, PX or DBSIZE-in-MULTI: tests/types/gocache.typecheck.ts).
 */
type JsClient = GoCacheClient<'redis'>;

const ARITY_GET = "wrong number of arguments for 'get' command";

/**
 * GoCache answers a queued GET of the wrong arity with an unprefixed error and then EXECABORT; the
 * typed API cannot send a GET of the wrong arity, so the peer answers a queued `GET tx:arity` as if.
 */
function script(args: Buffer[], conn: PeerConnection): string | undefined {
  const [name, key] = args.map((a) => a.toString('latin1'));
  if (name === 'GET' && key === 'tx:arity' && conn.transaction !== null) {
    conn.transaction.aborted = true;
    return `-${ARITY_GET}\r\n`;
  }
  // A broken server whose EXEC answers one reply too few or too many for the queued commands (those
  // that read `tx:count:short` or `tx:count:long`): the SDK must not pair the replies with commands.
  if (name === 'EXEC' && conn.transaction !== null) {
    const keys = conn.transaction.queue.map((request) => request[1]?.toString('latin1'));
    const count = conn.transaction.queue.length;
    const wrong = keys.includes('tx:count:short') ? count - 1 : keys.includes('tx:count:long') ? count + 1 : undefined;
    if (wrong !== undefined) {
      conn.transaction = null;
      return `*${wrong}\r\n` + '+OK\r\n'.repeat(wrong);
    }
  }
  return undefined;
}

let peer: GoCachePeer;
const clients: Array<{ disconnect(): void }> = [];
/** 'data' events per peer connection: the requests complete after each. */
const dataEvents = new Map<PeerConnection, number[]>();

beforeAll(async () => {
  peer = await startGoCachePeer({
    script,
    onConnection: (conn) => {
      const events: number[] = [];
      dataEvents.set(conn, events);
      // Registered after the peer's own listener: the requests of this chunk are recorded by now.
      conn.socket.on('data', () => events.push(conn.requests.length));
    },
  });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
  // Nothing the SDK sent would have made GoCache close a connection, crash, or deadlock.
  expect(peer.violations).toEqual([]);
  expect(peer.crashed).toBe(false);
  expect(peer.keyspaceDeadlocked).toBe(false);
});

afterAll(async () => {
  await peer.close();
});

/** A client (server: 'gocache' unless told) on a new peer connection, and that connection. */
async function connect(options: ClientOptions = {}): Promise<{ client: JsClient; conn: PeerConnection }> {
  const before = peer.connectionCount;
  const client = (await GoCacheClient.connect({ host: peer.host, port: peer.port, ...options } as ClientOptions & { server: ServerKind })) as unknown as JsClient;
  clients.push(client);
  await peer.waitFor(() => peer.connectionCount === before + 1);
  return { client, conn: peer.connections[before]! };
}

const words = (conn: PeerConnection): string[][] => conn.requests.map((r) => r.map((a) => a.toString('utf8')));

/** Nothing reached the peer before this PING: its bytes are the first the connection received. */
async function nothingSentBefore(client: JsClient, conn: PeerConnection): Promise<void> {
  expect(await client.ping()).toBe('PONG');
  expect(conn.received.toString('latin1')).toBe('*1\r\n$4\r\nPING\r\n');
}

describe('transactions GoCache serves', () => {
  it('multi().set().get().exec() works, MULTI ... EXEC in one write', async () => {
    const { client, conn } = await connect();
    const [ok, value, missing] = await client.multi().set('tx:a', 'one').get('tx:a').get('tx:missing').exec();
    expect(ok).toBe('OK');
    expect(value).toBe('one');
    expect(missing).toBeNull();
    expect(words(conn)).toEqual([['MULTI'], ['SET', 'tx:a', 'one'], ['GET', 'tx:a'], ['GET', 'tx:missing'], ['EXEC']]);
    expect(dataEvents.get(conn)).toEqual([5]);
    expect(conn.transaction).toBeNull();
  });

  it('SET with ex, single-key DEL and PING inside a transaction', async () => {
    const { client, conn } = await connect();
    const results = await client.multi().set('tx:ex', 'v', { ex: 60 }).del('tx:ex').get('tx:ex').ping().exec();
    expect(results).toEqual(['OK', 1, null, 'PONG']);
    expect(words(conn)[1]).toEqual(['SET', 'tx:ex', 'v', 'EX', '60']);
  });

  it.each([
    ['short', 1],
    ['long', 3],
  ])('an EXEC reply with %s count (%i replies for 2 commands) rejects with GoCacheProtocolError, no result paired', async (which, replies) => {
    const { client } = await connect();
    const error = await rejection(client.multi().set(`tx:count:${which}`, 'v').get('tx:count:other').execSettled());
    expect(error).toBeInstanceOf(GoCacheProtocolError);
    expect((error as Error).message).toBe(`EXEC answered ${replies} replies for 2 queued commands`);
  });

  it('an empty transaction: EXEC answers *0', async () => {
    const { client } = await connect();
    expect(await client.multi().exec()).toEqual([]);
  });

  it('the buffers view answers Buffers inside EXEC', async () => {
    const { client } = await connect();
    const bytes = Buffer.from([0, 0xff, 0x0d, 0x0a]);
    const [ok, value] = await client.buffers.multi().set('tx:bin', bytes).get('tx:bin').exec();
    expect(ok).toBe('OK');
    expect(Buffer.isBuffer(value) && value.equals(bytes)).toBe(true);
  });

  it('a pipeline (no MULTI) may hold DBSIZE and multi-key DEL: DEL goes out as single-key DELs', async () => {
    const { client, conn } = await connect();
    const results = await client.pipeline().set('tx:p1', '1').set('tx:p2', '2').del('tx:p1', 'tx:p2', 'tx:p3').dbsize().exec();
    expect(results.slice(0, 3)).toEqual(['OK', 'OK', 3]);
    expect(results[3]).toBe(peer.store.size);
    expect(words(conn)).toEqual([['SET', 'tx:p1', '1'], ['SET', 'tx:p2', '2'], ['DEL', 'tx:p1'], ['DEL', 'tx:p2'], ['DEL', 'tx:p3'], ['DBSIZE']]);
    expect(dataEvents.get(conn)).toEqual([6]);
  });
});

describe('what GoCache cannot take inside MULTI is refused before anything is sent', () => {
  it('DBSIZE (it deadlocks GoCache): GoCacheArgumentError, no MULTI sent', async () => {
    const { client, conn } = await connect();
    const error = await rejection(client.multi().set('tx:d', '1').dbsize().get('tx:d').exec());
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/DBSIZE is never sent to GoCache inside a transaction: DBSIZE inside MULTI deadlocks GoCache/);
    expect(await rejection(client.multi().dbsize().execSettled())).toBeInstanceOf(GoCacheArgumentError);
    await nothingSentBefore(client, conn);
    // The keyspace still answers (it would hang everywhere after MULTI, DBSIZE, EXEC).
    expect(await client.dbsize()).toBe(peer.store.size);
    expect(await client.get('tx:d')).toBeNull();
    expect(words(conn)).toEqual([['PING'], ['DBSIZE'], ['GET', 'tx:d']]);
    expect(peer.keyspaceDeadlocked).toBe(false);
  });

  it.each([
    ['PUBLISH', (c: JsClient) => c.multi().set('tx:pub', '1').publish('chan', 'msg').exec(), /PUBLISH is never sent to GoCache inside a transaction: GoCache refuses it there/],
    ['CLUSTER NODES', (c: JsClient) => c.multi().clusterNodes().get('tx:c').exec(), /CLUSTER NODES is never sent to GoCache inside a transaction: GoCache refuses it there/],
  ])('%s: GoCacheArgumentError, nothing sent', async (_name, run, message) => {
    const { client, conn } = await connect();
    const error = await rejection(run(client));
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(message);
    await nothingSentBefore(client, conn);
  });

  it('multi-key DEL: a clear GoCacheArgumentError, nothing sent', async () => {
    const { client, conn } = await connect();
    const error = await rejection(client.multi().del('tx:x', 'tx:y').exec());
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/DEL of several keys is several commands on GoCache, which a transaction cannot hold; send one key per call/);
    await nothingSentBefore(client, conn);
    // One key per call is fine.
    expect(await client.multi().del('tx:x').del('tx:y').exec()).toEqual([1, 1]);
  });

  it('a command GoCache does not serve at all (INCR) or an option it lacks (PX): GoCacheArgumentError, nothing sent', async () => {
    const { client, conn } = await connect();
    expect(await rejection(client.multi().set('tx:n', '1').incr('tx:n').exec())).toBeInstanceOf(GoCacheArgumentError);
    expect(await rejection(client.multi().set('tx:n', '1', { px: 100 }).exec())).toBeInstanceOf(GoCacheArgumentError);
    await nothingSentBefore(client, conn);
  });

  it('watch() rejects with GoCacheArgumentError (GoCache has no WATCH): no request, no new connection', async () => {
    const { client, conn } = await connect();
    const before = peer.connectionCount;
    let built = false;
    const error = await rejection(
      client.watch(['tx:w'], (tx) => {
        built = true;
        return tx.multi().set('tx:w', 'v');
      }),
    );
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/WATCH/);
    expect(built).toBe(false);
    await nothingSentBefore(client, conn);
    expect(peer.connectionCount).toBe(before);
  });
});

describe('errors GoCache answers', () => {
  it('a queued arity error, then EXECABORT: GoCacheCommandError code EXECABORT, server text intact', async () => {
    const { client, conn } = await connect();
    const error = await rejection(client.multi().set('tx:abort', 'v').get('tx:arity').get('tx:abort').exec());
    expect(error).toBeInstanceOf(GoCacheCommandError);
    const abort = error as GoCacheCommandError;
    expect(abort.code).toBe('EXECABORT');
    expect(abort.message.startsWith('EXECABORT Transaction discarded because of previous errors.')).toBe(true);
    // The refused command and GoCache's unprefixed text are named.
    expect(abort.message).toContain(`#1 GET: ${ARITY_GET}`);
    expect(words(conn).map((w) => w[0])).toEqual(['MULTI', 'SET', 'GET', 'GET', 'EXEC']);
    // Nothing ran, and the connection is usable.
    expect(peer.store.has('tx:abort')).toBe(false);
    expect(await client.multi().set('tx:abort', 'later').get('tx:abort').exec()).toEqual(['OK', 'later']);
  });

  it('execSettled() rejects with EXECABORT too', async () => {
    const { client } = await connect();
    const error = await rejection(client.multi().get('tx:arity').execSettled());
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).code).toBe('EXECABORT');
  });

  // A client configured for Redis sends what GoCache queues and then fails inside EXEC: the texts
  // inside EXEC's array arrive per element.
  it("inside EXEC: '-ERR syntax error', '-ERR unknown command', not-an-integer, each a GoCacheCommandError", async () => {
    const { client, conn } = await connect({ server: 'redis' });
    const settled = await client
      .multi()
      .set('tx:in', 'before')
      .set('tx:in', 'px', { px: 100 })
      .incr('tx:in')
      .set('tx:in', 'nx', { nx: true })
      .get('tx:in')
      .execSettled();
    expect(words(conn)).toEqual([
      ['MULTI'],
      ['SET', 'tx:in', 'before'],
      ['SET', 'tx:in', 'px', 'PX', '100'],
      ['INCR', 'tx:in'],
      ['SET', 'tx:in', 'nx', 'NX'],
      ['GET', 'tx:in'],
      ['EXEC'],
    ]);
    expect(settled[0]).toEqual({ ok: true, value: 'OK' });
    const failed = (i: number) => (settled[i] as Extract<Settled<unknown>, { ok: false }>).error as GoCacheCommandError;
    expect(settled[1].ok).toBe(false);
    expect(failed(1)).toBeInstanceOf(GoCacheCommandError);
    expect(failed(1).message).toBe('ERR syntax error');
    expect(failed(1).code).toBe('ERR');
    expect(failed(1).command).toBe('SET');
    expect(failed(2)).toBeInstanceOf(GoCacheCommandError);
    expect(failed(2).message).toBe("ERR unknown command 'INCR'");
    expect(failed(2).command).toBe('INCR');
    expect(failed(3).message).toBe('ERR value is not an integer or out of range');
    expect(settled[4]).toEqual({ ok: true, value: 'before' });
  });

  it('exec() of the same rejects with GoCachePipelineError that keeps the other results', async () => {
    const { client } = await connect({ server: 'redis' });
    const error = await rejection(client.multi().set('tx:keep', 'v').incr('tx:keep').get('tx:keep').exec());
    expect(error).toBeInstanceOf(GoCachePipelineError);
    const failure = error as GoCachePipelineError;
    expect(failure.errors.map((e) => e.index)).toEqual([1]);
    expect(failure.errors[0]!.error.message).toBe("ERR unknown command 'INCR'");
    expect(failure.results[0]).toEqual({ ok: true, value: 'OK' });
    expect(failure.results[2]).toEqual({ ok: true, value: 'v' });
  });
});
