// Tests of the scripted GoCache peer itself (testkit/gocache-peer.ts, gocache-cluster.ts, gocache-ring.ts):
// each documented fact of shared/gocache-wire.md, by its tag in the peer's header ([B1]..[V7]), checked
// byte for byte over a raw TCP connection; and that input the document does not describe is recorded
// and gets no invented reply. Every test ends with no unexpected violation: what a test provokes on
// purpose it takes with takeViolations() and compares exactly.
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGoCacheCluster, type GoCacheCluster } from '../../testkit/gocache-cluster.js';
import {
  GOCACHE_DEFAULT_PORT,
  startGoCachePeer,
  SUBSCRIBER_BUFFER_MESSAGES,
  type GoCachePeer,
  type GoCachePeerOptions,
  type PeerConnection,
} from '../../testkit/gocache-peer.js';
import { GoCacheRing, ringHash, VIRTUAL_NODES_PER_SHARD } from '../../testkit/gocache-ring.js';

// ---------------------------------------------------------------------------------------------------
// A raw RESP client: exact bytes out, exact bytes (or decoded replies) in.

type Reply = string | number | null | Buffer | Reply[] | { error: string };

/** Encodes a request the way a correct client does: an array of bulk strings. */
function cmd(...words: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${words.length}\r\n`)];
  for (const w of words) {
    const bytes = typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const bulkText = (text: string | Buffer): string => {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return `$${bytes.length}\r\n${bytes.toString('latin1')}\r\n`;
};
const frame = (kind: string, channel: string, last: string | number): string =>
  `*3\r\n${bulkText(kind)}${bulkText(channel)}${typeof last === 'number' ? `:${last}\r\n` : bulkText(last)}`;

/** One RESP2 reply from `buf` at `pos`, or null when incomplete. Simple strings and errors as text. */
function decode(buf: Buffer, pos: number): { value: Reply; end: number } | null {
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd < 0) return null;
  const line = buf.toString('latin1', pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (buf[pos]) {
    case 0x2b:
      return { value: line, end: next };
    case 0x2d:
      return { value: { error: line }, end: next };
    case 0x3a:
      return { value: Number(line), end: next };
    case 0x24: {
      const n = Number(line);
      if (n === -1) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: Buffer.from(buf.subarray(next, next + n)), end: next + n + 2 };
    }
    case 0x2a: {
      const items: Reply[] = [];
      let at = next;
      for (let i = Number(line); i > 0; i--) {
        const item = decode(buf, at);
        if (item === null) return null;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`not RESP: ${JSON.stringify(buf.toString('latin1', pos, pos + 20))}`);
  }
}

/** Decoded replies with bulk strings as latin1 text, for toEqual. */
function text(value: Reply): unknown {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) return value.map(text);
  return value;
}

class RawClient {
  private data = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.isClosed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.connect(port, host, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  get unread(): Buffer {
    return this.data;
  }

  send(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Exactly `n` bytes; fails if the connection closes first. Waits as long as the test may run. */
  async read(n: number): Promise<Buffer> {
    await this.until(() => this.data.length >= n || this.isClosed);
    if (this.data.length < n) throw new Error(`closed after ${this.data.length} of ${n} bytes: ${JSON.stringify(this.data.toString('latin1'))}`);
    const out = this.data.subarray(0, n);
    this.data = this.data.subarray(n);
    return out;
  }

  /** Sends `request` and returns as many bytes as `expected` has, as latin1. */
  async exchange(request: string | Buffer, expected: string): Promise<string> {
    this.send(request);
    return (await this.read(Buffer.byteLength(expected, 'latin1'))).toString('latin1');
  }

  /** The next whole reply, decoded (bulk strings as latin1 text). */
  async reply(): Promise<unknown> {
    let decoded: { value: Reply; end: number } | null = null;
    await this.until(() => (decoded = decode(this.data, 0)) !== null || this.isClosed);
    if (decoded === null) throw new Error(`closed before a whole reply: ${JSON.stringify(this.data.toString('latin1'))}`);
    const { value, end } = decoded as { value: Reply; end: number };
    this.data = this.data.subarray(end);
    return text(value);
  }

  async waitClosed(): Promise<void> {
    await this.until(() => this.isClosed);
  }

  close(): void {
    this.socket.destroy();
  }

  private until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (ready()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

// ---------------------------------------------------------------------------------------------------
// Fixtures: every peer and cluster a test starts is checked for unexpected violations, then closed.

const peers: GoCachePeer[] = [];
const clusters: GoCacheCluster[] = [];
const raws: RawClient[] = [];

async function peerWith(options: GoCachePeerOptions = {}): Promise<GoCachePeer> {
  const peer = await startGoCachePeer(options);
  peers.push(peer);
  return peer;
}

async function clusterWith(options: Parameters<typeof startGoCacheCluster>[0] = {}): Promise<GoCacheCluster> {
  const cluster = await startGoCacheCluster(options);
  clusters.push(cluster);
  return cluster;
}

async function raw(target: { port: number }): Promise<RawClient> {
  const client = await RawClient.connect(target.port);
  raws.push(client);
  return client;
}

/** The peer's side of the newest raw connection. */
async function lastConnection(peer: GoCachePeer, count: number): Promise<PeerConnection> {
  await peer.waitFor(() => peer.connectionCount >= count);
  return peer.connections[count - 1]!;
}

afterEach(async () => {
  for (const client of raws.splice(0)) client.close();
  const left = [...peers.flatMap((p) => p.violations), ...clusters.flatMap((c) => c.violations)];
  for (const peer of peers.splice(0)) await peer.close();
  for (const cluster of clusters.splice(0)) await cluster.close();
  // Nothing unexpected: a test takes what it provokes on purpose.
  expect(left).toEqual([]);
});

const UNKNOWN = (name: string): string => `-ERR Unknown command '${name}'\r\n`;
const LENGTH = "-Length of command doesn't match\r\n";
const READONLY = "-ERR READONLY You can't write against a read only replica\r\n";
const SUBSCRIBER_ONLY = '-ERR only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context\r\n';
const EXECABORT = '-EXECABORT Transaction discarded because of previous errors.\r\n';
const undocumented = (conn: number, what: string): RegExp =>
  new RegExp(`^conn ${conn}: undocumented input: ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*no reply, connection closed$`);

/** Sends `request`, expects no reply and the connection closed, and returns the violation texts. */
async function expectUndocumented(peer: GoCachePeer, client: RawClient, request: Buffer | string): Promise<string[]> {
  client.send(request);
  await client.waitClosed();
  expect(client.unread.length).toBe(0);
  expect(peer.violationLog.map((v) => v.kind)).toEqual(['undocumented']);
  return peer.takeViolations();
}

// ---------------------------------------------------------------------------------------------------

describe('Server basics', () => {
  it('[B1] 7000 is GoCache default port; each peer listens on a free port of its own', async () => {
    expect(GOCACHE_DEFAULT_PORT).toBe(7000);
    const [a, b] = [await peerWith(), await peerWith()];
    expect(a.port).not.toBe(b.port);
    expect(a.address).toBe(`127.0.0.1:${a.port}`);
  });

  it('[B2] AUTH and SELECT are unknown commands', async () => {
    const client = await raw(await peerWith());
    expect(await client.exchange(cmd('AUTH', 'secret'), UNKNOWN('AUTH'))).toBe(UNKNOWN('AUTH'));
    expect(await client.exchange(cmd('SELECT', '1'), UNKNOWN('SELECT'))).toBe(UNKNOWN('SELECT'));
  });

  it('[B3] evicts the least recently used key past maxKeys; expired keys count and are evicted like others', async () => {
    const peer = await peerWith({ maxKeys: 3 });
    const client = await raw(peer);
    for (const key of ['a', 'b', 'c']) await client.exchange(cmd('SET', key, key, 'EX', '100'), '+OK\r\n');
    peer.store.get('a')!.expiresAt = Date.now() - 1; // expired, still counted
    expect(await client.exchange(cmd('GET', 'a'), '$-1\r\n')).toBe('$-1\r\n');
    expect(await client.exchange(cmd('DBSIZE'), ':3\r\n')).toBe(':3\r\n');
    await client.exchange(cmd('GET', 'b'), '$1\r\nb\r\n'); // b is now the most recently used
    await client.exchange(cmd('SET', 'd', 'd'), '+OK\r\n'); // evicts a (expired, least recently used)
    await client.exchange(cmd('SET', 'e', 'e'), '+OK\r\n'); // evicts c
    expect([...peer.store.keys()]).toEqual(['b', 'd', 'e']);
  });

  it('[B4] a restarted node keeps its data (its append-only file) and listens on the same port', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    await client.exchange(cmd('SET', 'kept', 'v'), '+OK\r\n');
    const port = peer.port;
    await peer.kill();
    await client.waitClosed();
    expect(peer.running).toBe(false);
    await expect(RawClient.connect(port)).rejects.toThrow(/ECONNREFUSED/);
    await peer.restart();
    expect(peer.port).toBe(port);
    const again = await raw(peer);
    expect(await again.exchange(cmd('GET', 'kept'), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
  });
});

describe('Framing', () => {
  it('[F1] HELLO, HELLO 2 and HELLO 3 are unknown', async () => {
    const client = await raw(await peerWith());
    for (const request of [cmd('HELLO'), cmd('HELLO', '2'), cmd('HELLO', '3')]) {
      expect(await client.exchange(request, UNKNOWN('HELLO'))).toBe(UNKNOWN('HELLO'));
    }
  });

  const crashes: Array<[string, string, RegExp]> = [
    ['an empty array', '*0\r\n', /^conn 1: empty array \*0 \(crashes the GoCache process\)$/],
    ['a null array', '*-1\r\n', /^conn 1: null array \*-1 \(crashes/],
    ['a bulk length of -2', '*1\r\n$-2\r\n', /^conn 1: bulk length \$-2 \(crashes/],
    ['an integer element', '*2\r\n$3\r\nGET\r\n:1\r\n', /^conn 1: integer element in request.*\(crashes/],
    ['a nested array element', '*2\r\n$3\r\nGET\r\n*1\r\n$1\r\na\r\n', /^conn 1: nested array element.*\(crashes/],
    ['an absurd declared length', '*1\r\n$99999999999999\r\n', /^conn 1: absurd bulk length \$99999999999999 \(out of memory\) \(crashes/],
  ];
  it.each(crashes)('[F2] %s crashes GoCache: every connection cut, no longer listening', async (_title, bytes, violation) => {
    const peer = await peerWith();
    const client = await raw(peer);
    await lastConnection(peer, 1);
    const other = await raw(peer);
    await lastConnection(peer, 2);
    expect(await other.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    client.send(bytes);
    await Promise.all([client.waitClosed(), other.waitClosed()]);
    expect(peer.crashed).toBe(true);
    expect(peer.running).toBe(false);
    await expect(RawClient.connect(peer.port)).rejects.toThrow(/ECONNREFUSED/);
    expect(peer.violationLog.map((v) => [v.kind, v.connectionId])).toEqual([['crash', 1]]);
    expect(peer.takeViolations()).toEqual([expect.stringMatching(violation)]);
  });

  it('[F2] with simulateCrash false only the offending connection is closed', async () => {
    const peer = await peerWith({ simulateCrash: false });
    const client = await raw(peer);
    await lastConnection(peer, 1);
    const other = await raw(peer);
    client.send('*0\r\n');
    await client.waitClosed();
    expect(peer.crashed).toBe(true);
    expect(await other.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    expect(peer.takeViolations()).toEqual(['conn 1: empty array *0 (crashes the GoCache process)']);
  });

  const closes: Array<[string, string, RegExp]> = [
    ['an inline command', 'PING\r\n', /^conn 1: inline command "PING\\r\\n.*" \(GoCache closes the connection\)$/],
    ['a bare bulk string', '$4\r\nPING\r\n', /^conn 1: bare bulk string, not an array.*\(GoCache closes/],
    ['LF-only framing', '*1\n$4\nPING\n', /^conn 1: LF-only framing.*\(GoCache closes/],
    ['a missing CRLF after bulk data', '*1\r\n$4\r\nPINGxx', /^conn 1: missing CRLF after 4 bytes of bulk data \(GoCache closes/],
  ];
  it.each(closes)('[F3] %s: earlier replies flushed, then the connection is closed; the process survives', async (_title, bytes, violation) => {
    const peer = await peerWith();
    const client = await raw(peer);
    client.send(Buffer.concat([cmd('PING'), Buffer.from(bytes, 'latin1'), cmd('PING')]));
    await client.waitClosed();
    expect(client.unread.toString('latin1')).toBe('+PONG\r\n');
    expect(peer.crashed).toBe(false);
    const other = await raw(peer);
    expect(await other.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    expect(peer.violationLog.map((v) => v.kind)).toEqual(['close']);
    expect(peer.takeViolations()).toEqual([expect.stringMatching(violation)]);
  });

  it('[F4] tolerates a simple-string element and a null bulk element, answering, but records both', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    expect(await client.exchange('*3\r\n$3\r\nSET\r\n+k\r\n$-1\r\n', '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('GET', 'k'), '$0\r\n\r\n')).toBe('$0\r\n\r\n');
    expect(peer.violationLog.map((v) => [v.kind, v.request?.map(String)])).toEqual([
      ['tolerated', ['SET', 'k', '']],
      ['tolerated', ['SET', 'k', '']],
    ]);
    expect(peer.takeViolations()).toEqual([
      'conn 1: simple-string element +k (GoCache reads it as a string)',
      "conn 1: null bulk element $-1 (GoCache reads it as '')",
    ]);
  });

  const strange: Array<[string, string]> = [
    ['an array length with a leading zero', '*01\r\n$4\r\nPING\r\n'],
    ['a non-numeric array length', '*x\r\n'],
    ['an array length of -2', '*-2\r\n'],
    ['a bulk length of -3', '*1\r\n$-3\r\n'],
    ['an error element', '*1\r\n-ERR\r\n'],
    ['a request starting with +', '+PING\r\n'],
    ['an array of 2^20 + 1 elements', `*${(1 << 20) + 1}\r\n`],
  ];
  it.each(strange)('[F5] %s is undocumented: recorded, no reply, connection closed, process alive', async (_title, bytes) => {
    const peer = await peerWith();
    const client = await raw(peer);
    const [violation] = await expectUndocumented(peer, client, bytes);
    expect(violation).toMatch(/^conn 1: undocumented input: .*; no reply, connection closed$/);
    expect(peer.running).toBe(true);
  });

  it('[F6] lower-case names are unknown, the name echoed; each is recorded as misuse', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    for (const name of ['ping', 'Ping', 'get']) {
      expect(await client.exchange(cmd(name, 'k'), UNKNOWN(name))).toBe(UNKNOWN(name));
    }
    expect(peer.violationLog.map((v) => v.kind)).toEqual(['misuse', 'misuse', 'misuse']);
    expect(peer.takeViolations()).toEqual([
      'conn 1: command name not upper-case: "ping" (GoCache: unknown command)',
      'conn 1: command name not upper-case: "Ping" (GoCache: unknown command)',
      'conn 1: command name not upper-case: "get" (GoCache: unknown command)',
    ]);
  });

  it('[F7] a lower-case subcommand is unknown: CLUSTER nodes', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    const reply = '-Unknown CLUSTER subcommand\r\n';
    expect(await client.exchange(cmd('CLUSTER', 'nodes'), reply)).toBe(reply);
    expect(peer.takeViolations()).toEqual(['conn 1: CLUSTER subcommand not upper-case: "nodes"']);
  });

  it('[F8] EX and ex both set a TTL; another spelling is undocumented', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    const before = Date.now();
    expect(await client.exchange(cmd('SET', 'a', 'v', 'EX', '100'), '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('SET', 'b', 'v', 'ex', '100'), '+OK\r\n')).toBe('+OK\r\n');
    for (const key of ['a', 'b']) expect(peer.store.get(key)!.expiresAt).toBeGreaterThanOrEqual(before + 100_000);
    const [violation] = await expectUndocumented(peer, client, cmd('SET', 'c', 'v', 'Ex', '100'));
    expect(violation).toMatch(undocumented(1, 'SET with option token "Ex"'));
  });

  it('[F9] reply types: simple, error, integer, bulk, null bulk, array, the empty array', async () => {
    const client = await raw(await peerWith());
    expect(await client.exchange(cmd('SET', 'k', 'v'), '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('DEL', 'x', 'y'), LENGTH)).toBe(LENGTH);
    expect(await client.exchange(cmd('DBSIZE'), ':1\r\n')).toBe(':1\r\n');
    expect(await client.exchange(cmd('GET', 'k'), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
    expect(await client.exchange(cmd('GET', 'nope'), '$-1\r\n')).toBe('$-1\r\n');
    expect(await client.exchange(cmd('SUBSCRIBE', 'c'), frame('subscribe', 'c', 1))).toBe(frame('subscribe', 'c', 1));
    expect(await client.exchange(cmd('UNSUBSCRIBE', 'c'), frame('unsubscribe', 'c', 0))).toBe(frame('unsubscribe', 'c', 0));
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    expect(await client.exchange(cmd('EXEC'), '*0\r\n')).toBe('*0\r\n');
  });

  it('[F10] 100,000 pipelined PINGs in one write are answered in order', async () => {
    const client = await raw(await peerWith({ recordBytes: false }));
    client.send(Buffer.concat(Array.from({ length: 100_000 }, () => cmd('PING'))));
    expect((await client.read(7 * 100_000)).toString('latin1')).toBe('+PONG\r\n'.repeat(100_000));
  });

  it('[F10] while its replies are not read, the peer stops reading; it resumes once they are', async () => {
    const peer = await peerWith({ recordBytes: false });
    const client = await raw(peer);
    const value = Buffer.alloc(1 << 20, 0x61);
    expect(await client.exchange(cmd('SET', 'big', value), '+OK\r\n')).toBe('+OK\r\n');
    const conn = await lastConnection(peer, 1);
    client.socket.pause(); // the client stops reading
    client.send(Buffer.concat(Array.from({ length: 32 }, () => cmd('GET', 'big')))); // 32 MiB of replies
    await peer.waitFor(() => conn.requests.length === 33);
    expect(conn.socket.isPaused()).toBe(true); // more than the kernel buffers: GoCache would block in write
    client.socket.resume();
    const reply = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
    for (let i = 0; i < 32; i++) expect((await client.read(reply.length)).equals(reply)).toBe(true);
    expect(await client.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    expect(conn.socket.isPaused()).toBe(false);
  });

  it('[F11] any bytes, empty keys and values, and an 8 MiB value round-trip', async () => {
    const client = await raw(await peerWith({ recordBytes: false }));
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await client.exchange(cmd('SET', all, all), '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('GET', all), bulkText(all))).toBe(bulkText(all));
    expect(await client.exchange(cmd('SET', '', ''), '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('GET', ''), '$0\r\n\r\n')).toBe('$0\r\n\r\n');
    const big = Buffer.alloc(8 << 20, 0xfe);
    expect(await client.exchange(cmd('SET', 'big', big), '+OK\r\n')).toBe('+OK\r\n');
    client.send(cmd('GET', 'big'));
    const reply = Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n')]);
    expect((await client.read(reply.length)).equals(reply)).toBe(true);
  });
});

describe('The commands GoCache serves', () => {
  it('[C1] PING answers +PONG always, with or without arguments', async () => {
    const client = await raw(await peerWith());
    for (const request of [cmd('PING'), cmd('PING', 'hello'), cmd('PING', 'a', 'b')]) {
      expect(await client.exchange(request, '+PONG\r\n')).toBe('+PONG\r\n');
    }
  });

  it('[C2] GET: the value, or $-1 when missing or expired', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    expect(await client.exchange(cmd('GET', 'k'), '$-1\r\n')).toBe('$-1\r\n');
    await client.exchange(cmd('SET', 'k', 'value', '100'), '+OK\r\n');
    expect(await client.exchange(cmd('GET', 'k'), '$5\r\nvalue\r\n')).toBe('$5\r\nvalue\r\n');
    peer.store.get('k')!.expiresAt = Date.now() - 1;
    expect(await client.exchange(cmd('GET', 'k'), '$-1\r\n')).toBe('$-1\r\n');
  });

  it('[C3] SET forms: plain, EX seconds, bare seconds; a TTL of 0 or below means no expiry', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    const before = Date.now();
    for (const request of [
      cmd('SET', 'plain', 'v'),
      cmd('SET', 'ex', 'v', 'EX', '10'),
      cmd('SET', 'bare', 'v', '10'),
      cmd('SET', 'zero', 'v', 'EX', '0'),
      cmd('SET', 'negative', 'v', '-5'),
    ]) {
      expect(await client.exchange(request, '+OK\r\n')).toBe('+OK\r\n');
    }
    expect(peer.store.get('plain')!.expiresAt).toBeNull();
    expect(peer.store.get('ex')!.expiresAt).toBeGreaterThanOrEqual(before + 10_000);
    expect(peer.store.get('bare')!.expiresAt).toBeGreaterThanOrEqual(before + 10_000);
    expect(peer.store.get('zero')!.expiresAt).toBeNull();
    expect(peer.store.get('negative')!.expiresAt).toBeNull();
  });

  it('[C4] DEL answers :1 always', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    await client.exchange(cmd('SET', 'k', 'v'), '+OK\r\n');
    expect(await client.exchange(cmd('DEL', 'k'), ':1\r\n')).toBe(':1\r\n');
    expect(await client.exchange(cmd('DEL', 'k'), ':1\r\n')).toBe(':1\r\n');
    expect(peer.store.size).toBe(0);
  });

  it('[C5] DBSIZE ignores extra arguments and counts expired keys (GET does not purge them)', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    await client.exchange(cmd('SET', 'a', 'v', 'EX', '100'), '+OK\r\n');
    await client.exchange(cmd('SET', 'b', 'v'), '+OK\r\n');
    peer.store.get('a')!.expiresAt = Date.now() - 1;
    await client.exchange(cmd('GET', 'a'), '$-1\r\n');
    expect(await client.exchange(cmd('DBSIZE'), ':2\r\n')).toBe(':2\r\n');
    expect(await client.exchange(cmd('DBSIZE', 'x', 'y'), ':2\r\n')).toBe(':2\r\n');
  });

  it('[C7] PUBLISH channel message counts receivers; any other word count is undocumented', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    expect(await client.exchange(cmd('PUBLISH', 'ch', 'm'), ':0\r\n')).toBe(':0\r\n');
    for (const [i, request] of [cmd('PUBLISH', 'ch'), cmd('PUBLISH'), cmd('PUBLISH', 'a', 'b', 'c')].entries()) {
      const c = i === 0 ? client : await raw(peer);
      const [violation] = await expectUndocumented(peer, c, request);
      expect(violation).toMatch(/undocumented input: PUBLISH with \d argument\(s\)/);
    }
  });

  const unknown = ['HELLO', 'CLIENT', 'COMMAND', 'SELECT', 'AUTH', 'INFO', 'ECHO', 'EXISTS', 'QUIT', 'RESET', 'READONLY', 'ASKING', 'WATCH', 'UNWATCH', 'PSUBSCRIBE', 'PUNSUBSCRIBE', 'KEYS', 'FLUSHDB', 'FLUSHALL', 'EXPIRE', 'TTL', 'INCR', 'MGET', 'FOO'];
  it('[C10] everything else is an unknown command, the name echoed', async () => {
    const client = await raw(await peerWith());
    for (const name of unknown) expect(await client.exchange(cmd(name, 'x'), UNKNOWN(name)), name).toBe(UNKNOWN(name));
    expect(await client.exchange(cmd('COMMAND', 'DOCS'), UNKNOWN('COMMAND'))).toBe(UNKNOWN('COMMAND'));
  });

  it('[C11] QUIT is unknown and does not close the connection', async () => {
    const client = await raw(await peerWith());
    expect(await client.exchange(cmd('QUIT'), UNKNOWN('QUIT'))).toBe(UNKNOWN('QUIT'));
    expect(await client.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    expect(client.isClosed).toBe(false);
  });
});

describe('Errors, exactly', () => {
  const errors: Array<[string, Buffer, string]> = [
    ['[E1] DEL of three keys', cmd('DEL', 'a', 'b', 'c'), LENGTH],
    ['[E1] DEL of no key', cmd('DEL'), LENGTH],
    ['[E1] GET of no key', cmd('GET'), LENGTH],
    ['[E1] GET of two keys', cmd('GET', 'a', 'b'), LENGTH],
    ['[E1] SET without a value', cmd('SET', 'k'), LENGTH],
    ['[E1] SET k v EX 10 NX (6 words)', cmd('SET', 'k', 'v', 'EX', '10', 'NX'), LENGTH],
    ['[E2] SET k v EX notanumber', cmd('SET', 'k', 'v', 'EX', 'notanumber'), '-ERR value is not an integer\r\n'],
    ['[E2] SET k v EX 1.5', cmd('SET', 'k', 'v', 'EX', '1.5'), '-ERR value is not an integer\r\n'],
    ['[E3] SET k v PX 100', cmd('SET', 'k', 'v', 'PX', '100'), '-ERR syntax error\r\n'],
    ...['NX', 'XX', 'GET', 'KEEPTTL', 'abc', '1.5'].map((word): [string, Buffer, string] => [
      `[E3] SET k v ${word}`,
      cmd('SET', 'k', 'v', word),
      "-Couldn't convert seconds to a string\r\n",
    ]),
  ];
  it.each(errors)('%s', async (_title, request, reply) => {
    const peer = await peerWith();
    const client = await raw(peer);
    expect(await client.exchange(request, reply)).toBe(reply);
    expect(peer.store.size).toBe(0);
  });

  it('[E4] a simple-mode follower refuses writes with ERR READONLY before checking arity; reads its leader data', async () => {
    const leader = await peerWith();
    const follower = await peerWith({ followerOf: leader });
    expect(follower.mode).toBe('follower');
    expect(follower.replicationSource).toBe(leader);
    const toLeader = await raw(leader);
    const toFollower = await raw(follower);
    await toLeader.exchange(cmd('SET', 'k', 'v'), '+OK\r\n');
    expect(await toFollower.exchange(cmd('GET', 'k'), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
    for (const request of [cmd('SET', 'k', 'x'), cmd('SET', 'k'), cmd('SET'), cmd('DEL', 'k'), cmd('DEL', 'a', 'b')]) {
      expect(await toFollower.exchange(request, READONLY)).toBe(READONLY);
    }
    expect(await toFollower.exchange(cmd('set', 'k', 'x'), UNKNOWN('set'))).toBe(UNKNOWN('set'));
    expect(follower.takeViolations()).toEqual(['conn 1: command name not upper-case: "set" (GoCache: unknown command)']);
    await toLeader.exchange(cmd('DEL', 'k'), ':1\r\n');
    expect(await toFollower.exchange(cmd('GET', 'k'), '$-1\r\n')).toBe('$-1\r\n');
    expect(await toFollower.exchange(cmd('CLUSTER', 'NODES'), '-Cluster is not initialized\r\n')).toBe('-Cluster is not initialized\r\n');
  });

  it('[E3] an undocumented SET option token gets no invented reply', async () => {
    const peer = await peerWith();
    const [violation] = await expectUndocumented(peer, await raw(peer), cmd('SET', 'k', 'v', 'EXAT', '100'));
    expect(violation).toMatch(undocumented(1, 'SET with option token "EXAT"'));
  });
});

describe('Transactions', () => {
  it('[T1] MULTI +OK, +QUEUED, EXEC the array', async () => {
    const client = await raw(await peerWith());
    expect(await client.exchange(cmd('MULTI'), '+OK\r\n')).toBe('+OK\r\n');
    for (const request of [cmd('SET', 'a', '1'), cmd('GET', 'a'), cmd('DEL', 'a'), cmd('PING', 'x')]) {
      expect(await client.exchange(request, '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    }
    const reply = '*4\r\n+OK\r\n$1\r\n1\r\n:1\r\n+PONG\r\n';
    expect(await client.exchange(cmd('EXEC'), reply)).toBe(reply);
  });

  it.each([
    ['get', cmd('GET')],
    ['get', cmd('GET', 'a', 'b')],
    ['set', cmd('SET', 'k')],
    ['set', cmd('SET', 'k', 'v', 'EX', '10', 'NX')],
    ['del', cmd('DEL', 'a', 'b')],
    ['dbsize', cmd('DBSIZE', 'x')],
    ['ping', cmd('PING', 'a', 'b')],
  ])("[T2] a queue-time arity error (%s) answers without prefix; later commands queue; EXEC aborts", async (name, request) => {
    const peer = await peerWith();
    const client = await raw(peer);
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    await client.exchange(cmd('SET', 'before', 'v'), '+QUEUED\r\n');
    const arity = `-wrong number of arguments for '${name}' command\r\n`;
    expect(await client.exchange(request, arity)).toBe(arity);
    expect(await client.exchange(cmd('SET', 'after', 'v'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    expect(await client.exchange(cmd('EXEC'), EXECABORT)).toBe(EXECABORT);
    expect(peer.store.size).toBe(0);
    expect(await client.exchange(cmd('GET', 'after'), '$-1\r\n')).toBe('$-1\r\n'); // the transaction is over
  });

  it('[T3] texts inside EXEC differ from outside', async () => {
    const client = await raw(await peerWith());
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    for (const request of [cmd('FOO'), cmd('SET', 'k', 'v', 'PX', '100'), cmd('SET', 'k', 'v', 'NX'), cmd('SET', 'k', 'v', 'EX', 'abc'), cmd('SET', 'k', 'v', 'EX', '1.5'), cmd('GET', 'k')]) {
      expect(await client.exchange(request, '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    }
    const notInteger = '-ERR value is not an integer or out of range\r\n';
    const reply = `*6\r\n-ERR unknown command 'FOO'\r\n-ERR syntax error\r\n${notInteger}${notInteger}${notInteger}$-1\r\n`;
    expect(await client.exchange(cmd('EXEC'), reply)).toBe(reply);
  });

  it('[T4] commands refused inside MULTI (no closing quote) do not abort it', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    await client.exchange(cmd('SET', 'k', 'v'), '+QUEUED\r\n');
    for (const [name, ...rest] of [['MULTI'], ['SUBSCRIBE', 'c'], ['UNSUBSCRIBE'], ['PSUBSCRIBE', 'p*'], ['PUNSUBSCRIBE'], ['PUBLISH', 'c', 'm'], ['CLUSTER', 'NODES']] as string[][]) {
      const refused = `-ERR command '${name} cannot be used in a transaction\r\n`;
      expect(await client.exchange(cmd(name!, ...rest), refused)).toBe(refused);
    }
    expect(await client.exchange(cmd('EXEC'), '*1\r\n+OK\r\n')).toBe('*1\r\n+OK\r\n');
    expect(peer.store.has('k')).toBe(true);
  });

  it('[T5] EXEC and DISCARD without MULTI; lower-case exec and discard are queued and the transaction stays open', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    expect(await client.exchange(cmd('EXEC'), '-ERR EXEC without MULTI\r\n')).toBe('-ERR EXEC without MULTI\r\n');
    expect(await client.exchange(cmd('DISCARD'), '-ERR DISCARD without MULTI\r\n')).toBe('-ERR DISCARD without MULTI\r\n');
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    expect(await client.exchange(cmd('exec'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    expect(await client.exchange(cmd('discard'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    const reply = "*2\r\n-ERR unknown command 'exec'\r\n-ERR unknown command 'discard'\r\n";
    expect(await client.exchange(cmd('EXEC'), reply)).toBe(reply);
    // DISCARD inside MULTI: the doc names it without its reply; the peer answers Redis's +OK.
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    await client.exchange(cmd('SET', 'k', 'v'), '+QUEUED\r\n');
    expect(await client.exchange(cmd('DISCARD'), '+OK\r\n')).toBe('+OK\r\n');
    expect(peer.store.size).toBe(0);
    expect(peer.takeViolations()).toEqual([
      'conn 1: command name not upper-case: "exec" (GoCache: unknown command)',
      'conn 1: command name not upper-case: "discard" (GoCache: unknown command)',
    ]);
  });

  it('[T6] MULTI, DBSIZE, EXEC: that connection goes silent; GET, SET, DBSIZE hang everywhere; PING, PUBLISH, MULTI answer', async () => {
    const peer = await peerWith();
    const culprit = await raw(peer);
    await culprit.exchange(cmd('MULTI'), '+OK\r\n');
    await culprit.exchange(cmd('SET', 'before', 'v'), '+QUEUED\r\n');
    await culprit.exchange(cmd('DBSIZE'), '+QUEUED\r\n');
    culprit.send(Buffer.concat([cmd('EXEC'), cmd('PING')]));
    const culpritConn = await lastConnection(peer, 1);
    await peer.waitFor(() => culpritConn.requests.length === 5);
    expect(peer.keyspaceDeadlocked).toBe(true);
    expect(culpritConn.silent).toBe(true);
    expect(peer.store.has('before')).toBe(true); // what EXEC ran before DBSIZE took effect

    const other = await raw(peer);
    expect(await other.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    expect(await other.exchange(cmd('PUBLISH', 'c', 'm'), ':0\r\n')).toBe(':0\r\n');
    expect(await other.exchange(cmd('MULTI'), '+OK\r\n')).toBe('+OK\r\n');
    const hung: PeerConnection[] = [];
    for (const request of [cmd('GET', 'k'), cmd('SET', 'k', 'v'), cmd('DBSIZE')]) {
      const client = await raw(peer);
      client.send(Buffer.concat([request, cmd('PING')]));
      const conn = await lastConnection(peer, peer.connectionCount);
      await peer.waitFor(() => conn.requests.length === 2);
      expect(conn.hungOn?.map(String)).toEqual(request.toString().split('\r\n').filter((_, i) => i > 1 && i % 2 === 0));
      hung.push(conn);
    }
    // A round trip elsewhere, then: nothing arrived on the silent connections, PING included.
    const last = await raw(peer);
    expect(await last.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    expect(culprit.unread.length).toBe(0);
    for (const client of raws.slice(2, 5)) expect(client.unread.length).toBe(0);
    expect(peer.takeViolations()).toEqual([
      'conn 1: DBSIZE inside MULTI/EXEC: GoCache deadlocks its keyspace (no reply; GET/SET/DBSIZE hang everywhere)',
    ]);
    // What else the deadlocked keyspace does is not documented.
    const [violation] = await expectUndocumented(peer, last, cmd('DEL', 'k'));
    expect(violation).toMatch(/undocumented input: "DEL" while the keyspace is deadlocked/);
  });

  it('[T7] a simple-mode follower runs queued writes at EXEC, locally; a leader EXEC reaches its follower', async () => {
    const leader = await peerWith();
    const follower = await peerWith({ followerOf: leader });
    const toFollower = await raw(follower);
    await toFollower.exchange(cmd('MULTI'), '+OK\r\n');
    expect(await toFollower.exchange(cmd('SET', 'local', 'v'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    expect(await toFollower.exchange(cmd('EXEC'), '*1\r\n+OK\r\n')).toBe('*1\r\n+OK\r\n');
    expect(follower.store.has('local')).toBe(true);
    expect(leader.store.has('local')).toBe(false); // not passed on: the follower drifts
    const toLeader = await raw(leader);
    await toLeader.exchange(cmd('MULTI'), '+OK\r\n');
    await toLeader.exchange(cmd('SET', 'replicated', 'v'), '+QUEUED\r\n');
    await toLeader.exchange(cmd('EXEC'), '*1\r\n+OK\r\n');
    expect(await toFollower.exchange(cmd('GET', 'replicated'), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
  });
});

describe('Pub/sub', () => {
  it('[P1] one confirmation per channel, the unchanged count for a held one; no channel is an arity error', async () => {
    const client = await raw(await peerWith());
    const expected = frame('subscribe', 'a', 1) + frame('subscribe', 'b', 2) + frame('subscribe', 'a', 2);
    expect(await client.exchange(cmd('SUBSCRIBE', 'a', 'b', 'a'), expected)).toBe(expected);
    const arity = "-ERR wrong number of arguments for 'subscribe' command\r\n";
    expect(await client.exchange(cmd('SUBSCRIBE'), arity)).toBe(arity);
  });

  it('[P2] UNSUBSCRIBE of a channel, held or never subscribed, answers the current count', async () => {
    const client = await raw(await peerWith());
    await client.exchange(cmd('SUBSCRIBE', 'a', 'b'), frame('subscribe', 'a', 1) + frame('subscribe', 'b', 2));
    expect(await client.exchange(cmd('UNSUBSCRIBE', 'never'), frame('unsubscribe', 'never', 2))).toBe(frame('unsubscribe', 'never', 2));
    expect(await client.exchange(cmd('UNSUBSCRIBE', 'a'), frame('unsubscribe', 'a', 1))).toBe(frame('unsubscribe', 'a', 1));
    const fresh = await raw(await peerWith());
    expect(await fresh.exchange(cmd('UNSUBSCRIBE', 'x'), frame('unsubscribe', 'x', 0))).toBe(frame('unsubscribe', 'x', 0));
  });

  /** The channels of a bare UNSUBSCRIBE's frames, in the order they came, after subscribing to `held`. */
  async function bareUnsubscribeOrder(seed: number | undefined, held: string[]): Promise<string[]> {
    const client = await raw(await peerWith(seed === undefined ? {} : { seed }));
    client.send(cmd('SUBSCRIBE', ...held));
    for (const _ of held) await client.reply();
    client.send(cmd('UNSUBSCRIBE'));
    const order: string[] = [];
    for (let i = held.length - 1; i >= 0; i--) {
      const [kind, channel, count] = (await client.reply()) as [string, string, number];
      expect([kind, count]).toEqual(['unsubscribe', i]);
      order.push(channel);
    }
    return order;
  }

  it('[P3] bare UNSUBSCRIBE: one frame per held channel, in a random order fixed by the seed', async () => {
    const held = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const first = await bareUnsubscribeOrder(undefined, held);
    expect([...first].sort()).toEqual(held);
    expect(first).not.toEqual(held); // not the subscription order (for the default seed)
    expect(await bareUnsubscribeOrder(undefined, held)).toEqual(first); // the same seed, the same order
    expect(await bareUnsubscribeOrder(1234, held)).not.toEqual(first); // another seed, another order
  });

  it('[P3] bare UNSUBSCRIBE with nothing held answers nothing at all', async () => {
    const client = await raw(await peerWith());
    client.send(Buffer.concat([cmd('UNSUBSCRIBE'), cmd('GET', 'k')]));
    expect((await client.read(5)).toString('latin1')).toBe('$-1\r\n'); // the first bytes answer the GET
  });

  it('[P4] at count 0 normal commands work again', async () => {
    const client = await raw(await peerWith());
    await client.exchange(cmd('SUBSCRIBE', 'a'), frame('subscribe', 'a', 1));
    expect(await client.exchange(cmd('GET', 'k'), SUBSCRIBER_ONLY)).toBe(SUBSCRIBER_ONLY);
    await client.exchange(cmd('UNSUBSCRIBE'), frame('unsubscribe', 'a', 0));
    expect(await client.exchange(cmd('GET', 'k'), '$-1\r\n')).toBe('$-1\r\n');
  });

  it('[P5] messages are *3 message <channel> <payload>, binary-safe', async () => {
    const peer = await peerWith();
    const subscriber = await raw(peer);
    const channel = Buffer.from([0x63, 0x00, 0xff, 0x0d, 0x0a]);
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    subscriber.send(cmd('SUBSCRIBE', channel));
    await subscriber.reply();
    const publisher = await raw(peer);
    expect(await publisher.exchange(cmd('PUBLISH', channel, payload), ':1\r\n')).toBe(':1\r\n');
    const expected = `*3\r\n$7\r\nmessage\r\n${bulkText(channel)}${bulkText(payload)}`;
    expect((await subscriber.read(expected.length)).toString('latin1')).toBe(expected);
  });

  it('[P6] PSUBSCRIBE is unknown, in subscriber mode too', async () => {
    const client = await raw(await peerWith());
    expect(await client.exchange(cmd('PSUBSCRIBE', 'a*'), UNKNOWN('PSUBSCRIBE'))).toBe(UNKNOWN('PSUBSCRIBE'));
    await client.exchange(cmd('SUBSCRIBE', 'a'), frame('subscribe', 'a', 1));
    expect(await client.exchange(cmd('PSUBSCRIBE', 'a*'), UNKNOWN('PSUBSCRIBE'))).toBe(UNKNOWN('PSUBSCRIBE'));
  });

  it('[P7] subscriber mode refuses the other served commands; PING answers +PONG', async () => {
    const client = await raw(await peerWith());
    await client.exchange(cmd('SUBSCRIBE', 'a'), frame('subscribe', 'a', 1));
    for (const words of [['GET', 'k'], ['SET', 'k', 'v'], ['DEL', 'k'], ['DBSIZE'], ['MULTI'], ['EXEC'], ['DISCARD'], ['PUBLISH', 'a', 'm'], ['CLUSTER', 'NODES']]) {
      expect(await client.exchange(cmd(...words), SUBSCRIBER_ONLY), words[0]).toBe(SUBSCRIBER_ONLY);
    }
    expect(await client.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
  });

  it.each([['QUIT'], ['FOO'], ['ping']])('[P7] %s in subscriber mode is undocumented', async (name) => {
    const peer = await peerWith();
    const client = await raw(peer);
    await client.exchange(cmd('SUBSCRIBE', 'a'), frame('subscribe', 'a', 1));
    client.send(cmd(name));
    await client.waitClosed();
    expect(client.unread.length).toBe(0);
    const texts = peer.takeViolations();
    expect(texts.at(-1)).toMatch(undocumented(1, `"${name}" in subscriber mode`));
  });

  it('[P8] a reply overtakes pending pushes while delivery is paused; a push overtakes pending replies while replies are', async () => {
    const peer = await peerWith();
    const subscriber = await raw(peer);
    await subscriber.exchange(cmd('SUBSCRIBE', 'a'), frame('subscribe', 'a', 1));
    const conn = await lastConnection(peer, 1);
    const publisher = await raw(peer);

    conn.pauseDelivery();
    expect(await publisher.exchange(cmd('PUBLISH', 'a', 'one'), ':1\r\n')).toBe(':1\r\n');
    expect(conn.pendingPushes).toBe(1);
    expect(await subscriber.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n'); // before the pending message
    conn.resumeDelivery();
    expect(await subscriber.reply()).toEqual(['message', 'a', 'one']);

    conn.pauseReplies();
    subscriber.send(cmd('PING'));
    await peer.waitFor(() => conn.pendingReplies === 1);
    expect(await publisher.exchange(cmd('PUBLISH', 'a', 'two'), ':1\r\n')).toBe(':1\r\n');
    expect(await subscriber.reply()).toEqual(['message', 'a', 'two']); // before the pending +PONG
    conn.resumeReplies();
    expect(await subscriber.reply()).toBe('PONG');
  });

  it('[P9] a slow subscriber buffers 100 messages; later ones are dropped, uncounted, without notice', async () => {
    const peer = await peerWith();
    const slow = await raw(peer);
    await slow.exchange(cmd('SUBSCRIBE', 'news'), frame('subscribe', 'news', 1));
    const slowConn = await lastConnection(peer, 1);
    const fast = await raw(peer);
    await fast.exchange(cmd('SUBSCRIBE', 'news'), frame('subscribe', 'news', 1));
    slowConn.pauseDelivery();

    const publisher = await raw(peer);
    const total = SUBSCRIBER_BUFFER_MESSAGES + 5;
    publisher.send(Buffer.concat(Array.from({ length: total }, (_, i) => cmd('PUBLISH', 'news', `m${i}`))));
    const counts = (await publisher.read(4 * total)).toString('latin1');
    expect(counts).toBe(':2\r\n'.repeat(SUBSCRIBER_BUFFER_MESSAGES) + ':1\r\n'.repeat(5));
    expect(slowConn.pendingPushes).toBe(100);
    expect(slowConn.droppedPushes).toBe(5);
    for (let i = 0; i < total; i++) expect(await fast.reply()).toEqual(['message', 'news', `m${i}`]);

    slowConn.resumeDelivery();
    for (let i = 0; i < SUBSCRIBER_BUFFER_MESSAGES; i++) expect(await slow.reply()).toEqual(['message', 'news', `m${i}`]);
    expect(await slow.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n'); // nothing else came: no notice
    expect(await publisher.exchange(cmd('PUBLISH', 'news', 'later'), ':2\r\n')).toBe(':2\r\n');
  });
});

describe('Cluster: the ring', () => {
  const sha = (bytes: Buffer): number => createHash('sha256').update(bytes).digest().readUInt32BE(0);
  const shards = ['shard1', 'shard2', 'shard3'];
  /** Computed here from node:crypto, from the document's words: every virtual node, by position. */
  const vnodes = shards
    .flatMap((shardId) => Array.from({ length: 150 }, (_, i) => ({ hash: sha(Buffer.from(`${shardId}-${i}`)), shardId, index: i })))
    .sort((a, b) => a.hash - b.hash);
  /** The document's rule, naively: the first virtual node at or after the hash, else the lowest. */
  const owner = (hash: number): string => (vnodes.find((v) => v.hash >= hash) ?? vnodes[0]!).shardId;
  const ring = new GoCacheRing(shards);

  it('[K1] 150 virtual nodes per shard at SHA-256(<shardId>-<i>)[0..4] big-endian', () => {
    expect(VIRTUAL_NODES_PER_SHARD).toBe(150);
    expect(ring.points).toHaveLength(450);
    expect(new Set(vnodes.map((v) => v.hash)).size).toBe(450); // no two at one position for these ids
    expect(ring.points.map((p) => [p.hash, p.shardId, p.index])).toEqual(vnodes.map((v) => [v.hash, v.shardId, v.index]));
    expect(ringHash('shard1-0')).toBe(sha(Buffer.from('shard1-0')));
  });

  it('[K1] every arc boundary: a position at a virtual node, just before it and just after it', () => {
    vnodes.forEach((v, i) => {
      const previous = vnodes[i - 1];
      const next = vnodes[i + 1] ?? vnodes[0]!; // past the last virtual node: the first (wrap-around)
      expect(ring.pointFor(v.hash)).toMatchObject({ hash: v.hash, shardId: v.shardId }); // at: this one
      if (v.hash > 0) {
        const before = v.hash - 1 === previous?.hash ? previous : v; // just before: this one, unless that is the previous one
        expect(ring.pointFor(v.hash - 1)).toMatchObject({ hash: before.hash, shardId: before.shardId });
      }
      if (v.hash < 0xffffffff) expect(ring.pointFor(v.hash + 1)).toMatchObject({ hash: next.hash, shardId: next.shardId }); // just after: the next
      for (const position of [v.hash - 1, v.hash, v.hash + 1]) {
        if (position >= 0 && position <= 0xffffffff) expect(ring.pointFor(position).shardId).toBe(owner(position));
      }
    });
    // The wrap-around arc: past the last virtual node (and from 0 to the first) belongs to the first.
    expect(ring.pointFor(0xffffffff).shardId).toBe(vnodes.at(-1)!.hash === 0xffffffff ? vnodes.at(-1)!.shardId : vnodes[0]!.shardId);
    expect(ring.pointFor(0).shardId).toBe(vnodes[0]!.shardId);
  });

  it('[K1][V1] 200 keys (ASCII, non-ASCII as UTF-8, raw bytes) go where the document says; the empty key nowhere', () => {
    let seed = 42;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const keys: Array<string | Buffer> = [];
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 0) keys.push(`user:${next()}`);
      else if (i % 4 === 1) keys.push(`ключ-${next()}-é-日本`);
      else if (i % 4 === 2) keys.push(Buffer.from(Array.from({ length: 1 + (next() % 40) }, () => next() & 0xff)));
      else keys.push(String.fromCodePoint(0x1f600 + (next() % 64)) + String(next()));
    }
    const seen = new Set<string>();
    for (const key of keys) {
      const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
      expect(ring.shardOf(key)).toBe(owner(sha(bytes)));
      seen.add(ring.shardOf(key)!);
    }
    expect(seen).toEqual(new Set(shards));
    expect(ring.shardOf('')).toBeNull();
    expect(ring.shardOf(Buffer.alloc(0))).toBeNull();
    expect(ring.shardOf(ring.keyOn('shard2', 'x'))).toBe('shard2');
  });

  it('[V1] a cluster of peers routes 200 keys as the reference computed here says', async () => {
    const cluster = await clusterWith({ shards: shards.map((id) => ({ id })) });
    const port = (shardId: string): number => cluster.nodes.find((n) => n.shardId === shardId && n.role === 'leader')!.port;
    const keys = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? `k${i}` : `clé-${i}-ü`));
    const client = await raw(cluster.node('node1'));
    client.send(Buffer.concat(keys.map((k) => cmd('GET', k))));
    for (const key of keys) {
      const shardId = owner(sha(Buffer.from(key, 'utf8')));
      const expected = shardId === 'shard1' ? null : { error: `MOVED node${shardId.slice(5)} 127.0.0.1:${port(shardId)}` };
      expect(await client.reply(), key).toEqual(expected);
    }
  });
});

describe('Cluster: routing, followers, CLUSTER, failover', () => {
  const moved = (node: { id: string; address: string }): string => `-MOVED ${node.id} ${node.address}\r\n`;

  it('[K2][V2] a command of 2+ words whose first argument is another shard answers MOVED, whatever the command', async () => {
    const cluster = await clusterWith({ shards: 3 });
    const node1 = cluster.node('node1');
    const client = await raw(node1);
    const foreign = cluster.keyOn('shard2');
    const expected = moved(cluster.leader('shard2'));
    expect(expected).toBe(`-MOVED node2 127.0.0.1:${cluster.node('node2').port}\r\n`);
    for (const words of [['GET', foreign], ['SET', foreign, 'v'], ['DEL', foreign], ['FOO', foreign], ['get', foreign], ['SET', foreign], ['GET', foreign, 'extra'], ['PING', foreign], ['DBSIZE', foreign], ['MULTI', foreign], ['EXEC', foreign]]) {
      expect(await client.exchange(cmd(...words), expected), words.join(' ')).toBe(expected);
    }
    expect(node1.peer.takeViolations()).toEqual(['conn 1: command name not upper-case: "get" (GoCache: unknown command)']);
    // The node's own keys, and the empty key (never routed), are served.
    const local = cluster.keyOn('shard1');
    expect(await client.exchange(cmd('SET', local, 'v'), '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('GET', local), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
    expect(await client.exchange(cmd('PING', local), '+PONG\r\n')).toBe('+PONG\r\n');
    expect(await client.exchange(cmd('SET', '', 'empty'), '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('GET', ''), '$5\r\nempty\r\n')).toBe('$5\r\nempty\r\n');
    expect(cluster.shardOf(local)).toBe('shard1');
    expect(cluster.ownerOf(foreign)).toBe(cluster.node('node2'));
  });

  it('[K3] SUBSCRIBE, UNSUBSCRIBE, PUBLISH, CLUSTER, argument-less commands and queued commands are never redirected', async () => {
    const cluster = await clusterWith({ shards: 2 });
    const client = await raw(cluster.node('node1'));
    const foreign = cluster.keyOn('shard2', 'KEY:'); // upper-case: it is also sent as a CLUSTER subcommand
    expect(await client.exchange(cmd('PUBLISH', foreign, 'm'), ':0\r\n')).toBe(':0\r\n');
    expect(await client.exchange(cmd('CLUSTER', foreign), '-Unknown CLUSTER subcommand\r\n')).toBe('-Unknown CLUSTER subcommand\r\n');
    expect(await client.exchange(cmd('DBSIZE'), ':0\r\n')).toBe(':0\r\n');
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    expect(await client.exchange(cmd('SET', foreign, 'v'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    expect(await client.exchange(cmd('EXEC'), '*1\r\n+OK\r\n')).toBe('*1\r\n+OK\r\n');
    expect(await client.exchange(cmd('SUBSCRIBE', foreign), frame('subscribe', foreign, 1))).toBe(frame('subscribe', foreign, 1));
    expect(await client.exchange(cmd('UNSUBSCRIBE', foreign), frame('unsubscribe', foreign, 0))).toBe(frame('unsubscribe', foreign, 0));
    // A lower-case PUBLISH with another shard's first argument: routed (lower-case) or not (PUBLISH)? Not documented.
    const other = await raw(cluster.node('node1'));
    other.send(cmd('publish', foreign, 'm'));
    await other.waitClosed();
    expect(other.unread.length).toBe(0);
    expect(cluster.takeViolations()).toEqual([
      'node1 conn 2: command name not upper-case: "publish" (GoCache: unknown command)',
      expect.stringMatching(/^node1 conn 2: undocumented input: "publish" with another shard's first argument/),
    ]);
  });

  it('[K4] CLUSTER SLOTS, SHARDS and INFO answer -Unknown CLUSTER subcommand', async () => {
    const cluster = await clusterWith({ shards: 2 });
    const client = await raw(cluster.node('node2'));
    for (const sub of ['SLOTS', 'SHARDS', 'INFO']) {
      expect(await client.exchange(cmd('CLUSTER', sub), '-Unknown CLUSTER subcommand\r\n')).toBe('-Unknown CLUSTER subcommand\r\n');
    }
  });

  it('[K5][V3] a follower serves its shard reads, MOVEs its shard writes to its leader and other shards to theirs; MULTI runs locally', async () => {
    const cluster = await clusterWith({ shards: [{ followers: 1 }, {}, {}] });
    expect(cluster.nodes.map((n) => [n.id, n.shardId, n.role, n.leaderId])).toEqual([
      ['node1', 'shard1', 'leader', 'node1'],
      ['node2', 'shard2', 'leader', 'node2'],
      ['node3', 'shard3', 'leader', 'node3'],
      ['node4', 'shard1', 'follower', 'node1'],
    ]);
    const own = cluster.keyOn('shard1');
    const foreign = cluster.keyOn('shard3');
    const toLeader = await raw(cluster.node('node1'));
    const toFollower = await raw(cluster.node('node4'));
    await toLeader.exchange(cmd('SET', own, 'v'), '+OK\r\n');
    expect(await toFollower.exchange(cmd('GET', own), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
    for (const words of [['SET', own, 'x'], ['DEL', own], ['SET', own]]) {
      expect(await toFollower.exchange(cmd(...words), moved(cluster.node('node1')))).toBe(moved(cluster.node('node1')));
    }
    expect(await toFollower.exchange(cmd('GET', foreign), moved(cluster.node('node3')))).toBe(moved(cluster.node('node3')));
    expect(await toFollower.exchange(cmd('SET', foreign, 'x'), moved(cluster.node('node3')))).toBe(moved(cluster.node('node3')));
    await toFollower.exchange(cmd('MULTI'), '+OK\r\n');
    await toFollower.exchange(cmd('SET', own, 'drift'), '+QUEUED\r\n');
    await toFollower.exchange(cmd('SET', foreign, 'stranded'), '+QUEUED\r\n');
    expect(await toFollower.exchange(cmd('EXEC'), '*2\r\n+OK\r\n+OK\r\n')).toBe('*2\r\n+OK\r\n+OK\r\n');
    expect(await toFollower.exchange(cmd('GET', own), '$5\r\ndrift\r\n')).toBe('$5\r\ndrift\r\n');
    expect(await toLeader.exchange(cmd('GET', own), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n'); // not passed on
    expect(cluster.node('node3').peer.store.has(foreign)).toBe(false);
  });

  it('[K6][K7][V6] CLUSTER NODES and HEALTH: every node, itself dead, a follower its leader dead', async () => {
    const cluster = await clusterWith({ shards: 3, followers: 0, peer: {} });
    const follower = await clusterWith({ shards: [{ followers: 1 }] });
    const [n1, n2, n3] = cluster.nodes;
    const line = (n: { id: string; address: string }, status: string): string => `${n.id} ${n.address} ${status}\n`;
    const nodes = line(n1!, 'dead') + line(n2!, 'alive') + line(n3!, 'alive');
    const client = await raw(n1!);
    expect(await client.exchange(cmd('CLUSTER', 'NODES'), bulkText(nodes))).toBe(bulkText(nodes));
    const health = line(n2!, 'alive') + line(n3!, 'alive');
    expect(await client.exchange(cmd('CLUSTER', 'HEALTH'), bulkText(health))).toBe(bulkText(health));
    const [leader, replica] = follower.nodes;
    const toReplica = await raw(replica!);
    const seen = line(leader!, 'dead') + line(replica!, 'dead');
    expect(await toReplica.exchange(cmd('CLUSTER', 'NODES'), bulkText(seen))).toBe(bulkText(seen));
    expect(await toReplica.exchange(cmd('CLUSTER', 'HEALTH'), bulkText(line(leader!, 'dead')))).toBe(bulkText(line(leader!, 'dead')));
  });

  it('[K8] not in cluster mode: CLUSTER NODES is not initialized; CLUSTER HEALTH is undocumented', async () => {
    const peer = await peerWith();
    const client = await raw(peer);
    expect(await client.exchange(cmd('CLUSTER', 'NODES'), '-Cluster is not initialized\r\n')).toBe('-Cluster is not initialized\r\n');
    const [violation] = await expectUndocumented(peer, client, cmd('CLUSTER', 'HEALTH'));
    expect(violation).toMatch(undocumented(1, 'CLUSTER HEALTH on a node not in cluster mode'));
  });

  it.each([['ADDNODE', 'n9', '127.0.0.1:1'], ['REMOVENODE', 'n2'], ['TOPOLOGY']])('[K8] CLUSTER %s on a node not in cluster mode crashes it', async (...words) => {
    const peer = await peerWith();
    const client = await raw(peer);
    client.send(cmd('CLUSTER', ...words));
    await client.waitClosed();
    expect(peer.crashed).toBe(true);
    expect(peer.running).toBe(false);
    expect(peer.takeViolations()).toEqual([`conn 1: CLUSTER ${words[0]} on a node not in cluster mode (crashes the GoCache process)`]);
  });

  it('[K9] ADDNODE without its arguments; REMOVENODE of an unknown node answers nothing; other membership forms are undocumented', async () => {
    const cluster = await clusterWith({ shards: 2 });
    const node1 = cluster.node('node1');
    const client = await raw(node1);
    const requires = '-ADDNODE requires nodeID and address\r\n';
    expect(await client.exchange(cmd('CLUSTER', 'ADDNODE'), requires)).toBe(requires);
    expect(await client.exchange(cmd('CLUSTER', 'ADDNODE', 'n9'), requires)).toBe(requires);
    client.send(Buffer.concat([cmd('CLUSTER', 'REMOVENODE', 'nobody'), cmd('PING')]));
    expect((await client.read(7)).toString('latin1')).toBe('+PONG\r\n'); // the first bytes answer the PING
    for (const words of [['ADDNODE', 'n9', '127.0.0.1:1'], ['REMOVENODE', 'node2'], ['TOPOLOGY'], []]) {
      const c = await raw(node1);
      const [violation] = await expectUndocumented(node1.peer, c, cmd('CLUSTER', ...words));
      expect(violation).toMatch(words.length === 0 ? /CLUSTER without a subcommand/ : /membership changes are not documented/);
    }
  });

  it('[V2] routing comes first: in subscriber mode and with a deadlocked keyspace', async () => {
    const cluster = await clusterWith({ shards: 2 });
    const node1 = cluster.node('node1');
    const foreign = cluster.keyOn('shard2');
    const subscriber = await raw(node1);
    await subscriber.exchange(cmd('SUBSCRIBE', 'c'), frame('subscribe', 'c', 1));
    expect(await subscriber.exchange(cmd('GET', foreign), moved(cluster.node('node2')))).toBe(moved(cluster.node('node2')));
    const culprit = await raw(node1);
    culprit.send(Buffer.concat([cmd('MULTI'), cmd('DBSIZE'), cmd('EXEC')]));
    await node1.peer.waitFor(() => node1.peer.keyspaceDeadlocked);
    const other = await raw(node1);
    expect(await other.exchange(cmd('GET', foreign), moved(cluster.node('node2')))).toBe(moved(cluster.node('node2')));
    expect(cluster.takeViolations()).toEqual([expect.stringMatching(/^node1 conn 2: DBSIZE inside MULTI\/EXEC/)]);
  });

  it('[V4] pub/sub is per node', async () => {
    const cluster = await clusterWith({ shards: 2 });
    const subscriber = await raw(cluster.node('node1'));
    await subscriber.exchange(cmd('SUBSCRIBE', 'news'), frame('subscribe', 'news', 1));
    const toNode2 = await raw(cluster.node('node2'));
    expect(await toNode2.exchange(cmd('PUBLISH', 'news', 'elsewhere'), ':0\r\n')).toBe(':0\r\n');
    const toNode1 = await raw(cluster.node('node1'));
    expect(await toNode1.exchange(cmd('PUBLISH', 'news', 'here'), ':1\r\n')).toBe(':1\r\n');
    expect(await subscriber.reply()).toEqual(['message', 'news', 'here']);
  });

  it('[V5] MULTI/EXEC on the wrong node strands the value there: a later GET answers MOVED', async () => {
    const cluster = await clusterWith({ shards: 2 });
    const foreign = cluster.keyOn('shard2');
    const client = await raw(cluster.node('node1'));
    await client.exchange(cmd('MULTI'), '+OK\r\n');
    await client.exchange(cmd('SET', foreign, 'stranded'), '+QUEUED\r\n');
    await client.exchange(cmd('GET', foreign), '+QUEUED\r\n');
    const reply = '*2\r\n+OK\r\n$8\r\nstranded\r\n';
    expect(await client.exchange(cmd('EXEC'), reply)).toBe(reply);
    expect(await client.exchange(cmd('GET', foreign), moved(cluster.node('node2')))).toBe(moved(cluster.node('node2')));
    expect(cluster.node('node1').peer.store.get(foreign)?.value.toString()).toBe('stranded');
    expect(cluster.node('node2').peer.store.has(foreign)).toBe(false);
  });

  it('[V7] a dead leader: MOVED still points at it, it is listed dead, its follower attaches elsewhere; restart on the same port', async () => {
    const cluster = await clusterWith({ shards: [{ followers: 1 }, {}, {}] });
    const [node1, node2, node3, node4] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    const key1 = cluster.keyOn('shard1');
    const toNode1 = await raw(node1);
    await toNode1.exchange(cmd('SET', key1, 'v'), '+OK\r\n');
    await cluster.kill('node1');
    await toNode1.waitClosed();
    await expect(RawClient.connect(node1.port)).rejects.toThrow(/ECONNREFUSED/);

    const toNode2 = await raw(node2);
    expect(await toNode2.exchange(cmd('GET', key1), moved(node1))).toBe(moved(node1));
    const toFollower = await raw(node4);
    expect(await toFollower.exchange(cmd('SET', key1, 'x'), moved(node1))).toBe(moved(node1));
    expect(await toFollower.exchange(cmd('GET', key1), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
    const line = (n: { id: string; address: string }, status: string): string => `${n.id} ${n.address} ${status}\n`;
    const listed = line(node1, 'dead') + line(node2, 'dead') + line(node3, 'alive') + line(node4, 'alive');
    expect(await toNode2.exchange(cmd('CLUSTER', 'NODES'), bulkText(listed))).toBe(bulkText(listed));
    // The follower now takes node2's writes (GoCache attaches it to another shard's leader).
    expect(node4.peer.replicationSource).toBe(node2.peer);
    const key2 = cluster.keyOn('shard2');
    await toNode2.exchange(cmd('SET', key2, 'from-node2'), '+OK\r\n');
    expect(node4.peer.store.get(key2)?.value.toString()).toBe('from-node2');

    await cluster.restart('node1');
    expect(node1.peer.port).toBe(node1.port);
    const again = await raw(node1);
    expect(await again.exchange(cmd('GET', key1), '$1\r\nv\r\n')).toBe('$1\r\nv\r\n');
    const alive = line(node1, 'alive') + line(node2, 'dead') + line(node3, 'alive') + line(node4, 'alive');
    expect(await toNode2.exchange(cmd('CLUSTER', 'NODES'), bulkText(alive))).toBe(bulkText(alive));
  });
});

describe('violations', () => {
  it('record the kind, the connection and the request; takeViolations() returns and clears them', async () => {
    const peer = await peerWith();
    const first = await raw(peer);
    await first.exchange(cmd('ping'), UNKNOWN('ping'));
    const second = await raw(peer);
    second.send(cmd('MULTI', 'x'));
    await second.waitClosed();
    expect(second.unread.length).toBe(0);
    expect(peer.violationLog.map((v) => [v.kind, v.connectionId, v.request?.map(String)])).toEqual([
      ['misuse', 1, ['ping']],
      ['undocumented', 2, ['MULTI', 'x']],
    ]);
    expect(peer.violationLog[1]!.connection).toBe(peer.connections[1]);
    const expected = [
      'conn 1: command name not upper-case: "ping" (GoCache: unknown command)',
      'conn 2: undocumented input: MULTI with arguments; request ["MULTI", "x"]; no reply, connection closed',
    ];
    expect(peer.violations).toEqual(expected);
    expect(peer.takeViolations()).toEqual(expected);
    expect(peer.violations).toEqual([]);
    expect(peer.violationLog).toEqual([]);
  });
});
