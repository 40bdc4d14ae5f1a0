// Tests of the test harness itself: the real redis-server lifecycle and the scripted GoCache peer.
import { createServer, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { startGoCachePeer, type GoCachePeer, type GoCachePeerOptions } from '../../testkit/gocache-peer.js';
import {
  findFreePort,
  redisCommand,
  REDIS_SERVER_NOT_FOUND,
  resolveRedisServerBinary,
  startRedisServer,
  type RedisServerHandle,
} from '../../testkit/redis-server.js';

/** A bare TCP client that reads exact byte counts, so replies are compared byte for byte. */
class RawClient {
  private data = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
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

  send(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Resolves with exactly `n` bytes; rejects if the connection closes first or after `timeoutMs`. */
  async read(n: number, timeoutMs = 2_000): Promise<Buffer> {
    await this.until(() => this.data.length >= n || this.isClosed, timeoutMs);
    if (this.data.length < n) throw new Error(`closed after ${this.data.length} of ${n} bytes: ${this.data.toString('latin1')}`);
    const out = this.data.subarray(0, n);
    this.data = this.data.subarray(n);
    return out;
  }

  /** Sends `request` and returns exactly as many bytes as `expected` has, as a latin1 string. */
  async exchange(request: string | Buffer, expected: string): Promise<string> {
    this.send(request);
    return (await this.read(Buffer.byteLength(expected, 'latin1'))).toString('latin1');
  }

  waitClosed(timeoutMs = 2_000): Promise<void> {
    return this.until(() => this.isClosed, timeoutMs);
  }

  /** Bytes received and not yet read. */
  get unread(): Buffer {
    return this.data;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private until(done: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; unread: ${JSON.stringify(this.data.toString('latin1'))}`)), timeoutMs);
      const check = (): void => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

/** Encodes a request as GoCache requires: an array of bulk strings. */
function cmd(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    socket.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('redis-server from globalSetup', () => {
  it('provides host, port and version, and the server answers PING', async () => {
    const host = inject('redisHost');
    const port = inject('redisPort');
    expect(host).toBe('127.0.0.1');
    expect(inject('redisVersion')).toMatch(/^\d+\.\d+\.\d+/);
    const client = await RawClient.connect(port, host);
    try {
      expect(await client.exchange('*1\r\n$4\r\nPING\r\n', '+PONG\r\n')).toBe('+PONG\r\n');
    } finally {
      client.close();
    }
  });
});

describe('startRedisServer', () => {
  const started: RedisServerHandle[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  it('starts two servers on distinct ports, passes extra args, and stop() frees the port', async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer({ args: ['--maxmemory', '12345678'] })]);
    started.push(a, b);
    expect(a.port).not.toBe(b.port);
    expect(await redisCommand(a.host, a.port, ['PING'])).toBe('PONG');
    expect(await redisCommand(b.host, b.port, ['CONFIG', 'GET', 'maxmemory'])).toEqual(['maxmemory', '12345678']);
    expect(await redisCommand(a.host, a.port, ['CONFIG', 'GET', 'save'])).toEqual(['save', '']);
    expect(await redisCommand(a.host, a.port, ['CONFIG', 'GET', 'appendonly'])).toEqual(['appendonly', 'no']);

    await a.stop();
    await a.stop(); // idempotent
    expect(await connectionRefused(a.port)).toBe(true);
    expect(await redisCommand(b.host, b.port, ['PING'])).toBe('PONG');
  });

  it('starts a one-node cluster that serves every slot', async () => {
    const node = await startRedisServer({ cluster: true });
    started.push(node);
    const info = await redisCommand(node.host, node.port, ['CLUSTER', 'INFO']);
    expect(info).toContain('cluster_state:ok');
    expect(await redisCommand(node.host, node.port, ['SET', 'k', 'v'])).toBe('OK');
  });

  it('findFreePort returns a port that can be bound', async () => {
    const port = await findFreePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    const bound = await new Promise<Error | null>((resolve) => {
      server.once('error', resolve);
      server.listen(port, '127.0.0.1', () => resolve(null));
    });
    expect(bound).toBeNull();
    expect(server.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('missing redis-server is an error, never a skip', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('tells to run make setup when redis-server is not on PATH', () => {
    expect(() => resolveRedisServerBinary({ PATH: '/nonexistent' })).toThrow(REDIS_SERVER_NOT_FOUND);
    expect(() => resolveRedisServerBinary({ PATH: '/nonexistent' })).toThrow(/make setup/);
  });

  it('with CI=true says CI requires it', () => {
    expect(() => resolveRedisServerBinary({ PATH: '/nonexistent', CI: 'true' })).toThrow(/CI=true.*hard failure/);
  });

  it('honours REDIS_SERVER_BIN, and rejects a bad one', async () => {
    const real = resolveRedisServerBinary();
    expect(resolveRedisServerBinary({ PATH: '', REDIS_SERVER_BIN: real })).toBe(real);
    vi.stubEnv('REDIS_SERVER_BIN', '/nonexistent/redis-server');
    await expect(startRedisServer()).rejects.toThrow(/REDIS_SERVER_BIN=\/nonexistent\/redis-server/);
  });
});

describe('scripted GoCache peer', () => {
  let peer: GoCachePeer;
  let client: RawClient;
  const clients: RawClient[] = [];

  async function open(options: GoCachePeerOptions = {}): Promise<void> {
    await peer.close();
    peer = await startGoCachePeer(options);
    client = await connect();
  }

  async function connect(): Promise<RawClient> {
    const c = await RawClient.connect(peer.port, peer.host);
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    peer = await startGoCachePeer();
    client = await connect();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await peer.close();
  });

  // One connection, in order: each request and the exact bytes GoCache answers (gocache-wire.md).
  const conversation: [title: string, request: Buffer, reply: string][] = [
    ['PING', cmd('PING'), '+PONG\r\n'],
    ['PING ignores its message', cmd('PING', 'hello'), '+PONG\r\n'],
    ['GET of a missing key', cmd('GET', 'k'), '$-1\r\n'],
    ['SET', cmd('SET', 'k', 'v'), '+OK\r\n'],
    ['GET', cmd('GET', 'k'), '$1\r\nv\r\n'],
    ['SET with EX', cmd('SET', 'k2', 'value', 'EX', '100'), '+OK\r\n'],
    ['SET with lower-case ex', cmd('SET', 'k3', 'value', 'ex', '100'), '+OK\r\n'],
    ['SET with bare seconds', cmd('SET', 'k4', 'value', '100'), '+OK\r\n'],
    ['DBSIZE', cmd('DBSIZE'), ':4\r\n'],
    ['DBSIZE ignores extra arguments', cmd('DBSIZE', 'x'), ':4\r\n'],
    ['DEL', cmd('DEL', 'k'), ':1\r\n'],
    ['DEL of a missing key is still 1', cmd('DEL', 'k'), ':1\r\n'],
    ['DEL of several keys', cmd('DEL', 'a', 'b', 'c'), "-Length of command doesn't match\r\n"],
    ['GET with no key', cmd('GET'), "-Length of command doesn't match\r\n"],
    ['SET with no value', cmd('SET', 'k'), "-Length of command doesn't match\r\n"],
    ['SET EX NX (6 words)', cmd('SET', 'k', 'v', 'EX', '10', 'NX'), "-Length of command doesn't match\r\n"],
    ['SET EX notanumber', cmd('SET', 'k', 'v', 'EX', 'notanumber'), '-ERR value is not an integer\r\n'],
    ['SET EX 1.5', cmd('SET', 'k', 'v', 'EX', '1.5'), '-ERR value is not an integer\r\n'],
    ['SET PX', cmd('SET', 'k', 'v', 'PX', '100'), '-ERR syntax error\r\n'],
    ['SET NX', cmd('SET', 'k', 'v', 'NX'), "-Couldn't convert seconds to a string\r\n"],
    ['SET KEEPTTL', cmd('SET', 'k', 'v', 'KEEPTTL'), "-Couldn't convert seconds to a string\r\n"],
    ['SET bare non-numeric word', cmd('SET', 'k', 'v', 'abc'), "-Couldn't convert seconds to a string\r\n"],
    ['PUBLISH with no subscriber', cmd('PUBLISH', 'ch', 'm'), ':0\r\n'],
    ['CLUSTER NODES outside cluster mode', cmd('CLUSTER', 'NODES'), '-Cluster is not initialized\r\n'],
    ['CLUSTER SLOTS', cmd('CLUSTER', 'SLOTS'), '-Unknown CLUSTER subcommand\r\n'],
    ['HELLO is unknown', cmd('HELLO', '3'), "-ERR Unknown command 'HELLO'\r\n"],
    ['EXEC without MULTI', cmd('EXEC'), '-ERR EXEC without MULTI\r\n'],
    ['DISCARD without MULTI', cmd('DISCARD'), '-ERR DISCARD without MULTI\r\n'],
  ];

  it('answers with the exact documented bytes', async () => {
    for (const [title, request, reply] of conversation) {
      expect(await client.exchange(request, reply), title).toBe(reply);
    }
    expect(peer.violations).toEqual([]);
    expect(peer.requests[4]).toEqual(['GET', 'k']);
    expect(peer.received().subarray(0, 14).toString('latin1')).toBe('*1\r\n$4\r\nPING\r\n');
  });

  it('answers pipelined requests in order', async () => {
    client.send(Buffer.concat(Array.from({ length: 1000 }, () => cmd('PING'))));
    expect((await client.read(7 * 1000)).toString('latin1')).toBe('+PONG\r\n'.repeat(1000));
  });

  it('reads requests split at every byte', async () => {
    for (const byte of cmd('SET', 'split', 'value')) client.send(Buffer.from([byte]));
    expect((await client.read(5)).toString('latin1')).toBe('+OK\r\n');
    expect(peer.requests).toEqual([['SET', 'split', 'value']]);
  });

  it('records that nothing is sent on connect', async () => {
    await sleep(50);
    expect(peer.connectionCount).toBe(1);
    expect(peer.received().length).toBe(0);
    expect(client.unread.length).toBe(0);
  });

  it('round-trips binary keys and values', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await client.exchange(cmd('SET', bytes, bytes), '+OK\r\n')).toBe('+OK\r\n');
    client.send(cmd('GET', bytes));
    expect(await client.read(4 + 2 + 256 + 2)).toEqual(Buffer.concat([Buffer.from('$256\r\n'), bytes, Buffer.from('\r\n')]));
    expect(await client.exchange(cmd('SET', '', ''), '+OK\r\n')).toBe('+OK\r\n');
    expect(await client.exchange(cmd('GET', ''), '$0\r\n\r\n')).toBe('$0\r\n\r\n');
  });

  it('expires lazily: GET hides an expired key, DBSIZE still counts it', async () => {
    await client.exchange(cmd('SET', 'gone', 'v', 'EX', '100'), '+OK\r\n');
    const entry = peer.store.get('gone');
    if (entry === undefined) throw new Error('not stored');
    entry.expiresAt = Date.now() - 1;
    expect(await client.exchange(cmd('GET', 'gone'), '$-1\r\n')).toBe('$-1\r\n');
    expect(await client.exchange(cmd('DBSIZE'), ':1\r\n')).toBe(':1\r\n');
    // A TTL of 0 or below means no expiry.
    await client.exchange(cmd('SET', 'kept', 'v', 'EX', '0'), '+OK\r\n');
    expect(peer.store.get('kept')?.expiresAt).toBeNull();
  });

  it('evicts the least recently used key beyond maxKeys', async () => {
    await open({ maxKeys: 2 });
    await client.exchange(cmd('SET', 'a', '1'), '+OK\r\n');
    await client.exchange(cmd('SET', 'b', '2'), '+OK\r\n');
    await client.exchange(cmd('GET', 'a'), '$1\r\n1\r\n');
    await client.exchange(cmd('SET', 'c', '3'), '+OK\r\n');
    expect([...peer.store.keys()]).toEqual(['a', 'c']);
  });

  describe('strict framing', () => {
    const closing: [title: string, bytes: string, violation: RegExp, crash: boolean][] = [
      ['an inline command', 'PING\r\n', /conn 1: inline command "PING\\r\\n".*closes the connection/, false],
      ['an empty array', '*0\r\n', /conn 1: empty array \*0.*crashes/, true],
      ['a null array', '*-1\r\n', /null array \*-1.*crashes/, true],
      ['an integer element', '*2\r\n$3\r\nGET\r\n:1\r\n', /integer element/, true],
      ['a nested array', '*2\r\n$3\r\nGET\r\n*1\r\n$1\r\na\r\n', /nested array/, true],
      ['a bulk length of -2', '*1\r\n$-2\r\n', /bulk length \$-2/, true],
      ['an absurd bulk length', '*1\r\n$99999999999999\r\n', /absurd bulk length/, true],
      ['a bare bulk string', '$4\r\nPING\r\n', /bare bulk string/, false],
      ['LF-only framing', '*1\n$4\nPING\n', /LF-only/, false],
      ['a missing CRLF after bulk data', '*1\r\n$4\r\nPINGxx', /missing CRLF/, false],
    ];
    it.each(closing)('records a violation and closes on %s', async (_title, bytes, violation, crash) => {
      client.send(bytes);
      await client.waitClosed();
      expect(peer.violations).toHaveLength(1);
      expect(peer.violations[0]).toMatch(violation);
      expect(peer.crashed).toBe(crash);
      expect(client.unread.length).toBe(0);
    });

    it('answers what came before a bad request, then closes', async () => {
      client.send(Buffer.concat([cmd('PING'), Buffer.from('PING\r\n'), cmd('PING')]));
      await client.waitClosed();
      expect(client.unread.toString('latin1')).toBe('+PONG\r\n');
    });

    it('with simulateCrash, a crash cuts every connection and stops listening', async () => {
      await open({ simulateCrash: true });
      const other = await connect();
      client.send('*0\r\n');
      await Promise.all([client.waitClosed(), other.waitClosed()]);
      await expect(RawClient.connect(peer.port)).rejects.toThrow(/ECONNREFUSED/);
    });

    it('answers a lower-case name as unknown, records it, and keeps the connection', async () => {
      expect(await client.exchange(cmd('get', 'k'), "-ERR Unknown command 'get'\r\n")).toBe("-ERR Unknown command 'get'\r\n");
      expect(await client.exchange(cmd('Ping'), "-ERR Unknown command 'Ping'\r\n")).toBe("-ERR Unknown command 'Ping'\r\n");
      expect(await client.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
      expect(peer.violations).toEqual([
        'conn 1: command name not upper-case: "get" (GoCache: unknown command)',
        'conn 1: command name not upper-case: "Ping" (GoCache: unknown command)',
      ]);
    });

    it('tolerates simple-string and null bulk elements as GoCache does, but records them', async () => {
      expect(await client.exchange('*3\r\n$3\r\nSET\r\n+k\r\n$-1\r\n', '+OK\r\n')).toBe('+OK\r\n');
      expect(peer.requests).toEqual([['SET', 'k', '']]);
      expect(peer.violations).toHaveLength(2);
    });

    it('treats CLUSTER membership commands outside cluster mode as a crash', async () => {
      client.send(cmd('CLUSTER', 'ADDNODE', 'n2', '127.0.0.1:7001'));
      await client.waitClosed();
      expect(peer.crashed).toBe(true);
    });
  });

  describe('transactions', () => {
    it('queues and executes', async () => {
      expect(await client.exchange(cmd('MULTI'), '+OK\r\n')).toBe('+OK\r\n');
      expect(await client.exchange(cmd('SET', 'a', '1'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
      expect(await client.exchange(cmd('GET', 'a'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
      expect(await client.exchange(cmd('SET', 'a', '1', 'NX'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
      expect(await client.exchange(cmd('FOO'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
      const execReply =
        '*4\r\n+OK\r\n$1\r\n1\r\n-ERR value is not an integer or out of range\r\n' + "-ERR unknown command 'FOO'\r\n";
      expect(await client.exchange(cmd('EXEC'), execReply)).toBe(execReply);
      expect(await client.exchange(cmd('MULTI'), '+OK\r\n')).toBe('+OK\r\n');
      expect(await client.exchange(cmd('EXEC'), '*0\r\n')).toBe('*0\r\n');
    });

    it('aborts on an arity error at queue time', async () => {
      await client.exchange(cmd('MULTI'), '+OK\r\n');
      const arity = "-wrong number of arguments for 'get' command\r\n";
      expect(await client.exchange(cmd('GET'), arity)).toBe(arity);
      expect(await client.exchange(cmd('GET', 'a'), '+QUEUED\r\n')).toBe('+QUEUED\r\n');
      const abort = '-EXECABORT Transaction discarded because of previous errors.\r\n';
      expect(await client.exchange(cmd('EXEC'), abort)).toBe(abort);
    });

    it('refuses commands not allowed in MULTI without aborting, and DISCARD ends it', async () => {
      await client.exchange(cmd('MULTI'), '+OK\r\n');
      const refused = "-ERR command 'MULTI cannot be used in a transaction\r\n";
      expect(await client.exchange(cmd('MULTI'), refused)).toBe(refused);
      expect(await client.exchange(cmd('DISCARD'), '+OK\r\n')).toBe('+OK\r\n');
      expect(await client.exchange(cmd('DISCARD'), '-ERR DISCARD without MULTI\r\n')).toBe('-ERR DISCARD without MULTI\r\n');
    });

    it('records the DBSIZE-in-EXEC deadlock and never answers', async () => {
      await client.exchange(cmd('MULTI'), '+OK\r\n');
      await client.exchange(cmd('DBSIZE'), '+QUEUED\r\n');
      client.send(cmd('EXEC'));
      await peer.waitFor(() => peer.violations.length === 1);
      expect(peer.violations[0]).toMatch(/DBSIZE inside MULTI\/EXEC/);
      const other = await connect();
      expect(await other.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
      other.send(cmd('GET', 'k'));
      await sleep(50);
      expect(other.unread.length).toBe(0);
      expect(client.unread.length).toBe(0);
    });
  });

  it('delivers pub/sub messages and restricts subscriber mode', async () => {
    const subscribed = '*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n';
    expect(await client.exchange(cmd('SUBSCRIBE', 'ch'), subscribed)).toBe(subscribed);
    const publisher = await connect();
    expect(await publisher.exchange(cmd('PUBLISH', 'ch', 'hi'), ':1\r\n')).toBe(':1\r\n');
    const message = '*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n';
    expect((await client.read(message.length)).toString('latin1')).toBe(message);
    const only = '-ERR only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context\r\n';
    expect(await client.exchange(cmd('GET', 'k'), only)).toBe(only);
    expect(await client.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    const unsubscribed = '*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n';
    expect(await client.exchange(cmd('UNSUBSCRIBE'), unsubscribed)).toBe(unsubscribed);
    client.send(cmd('UNSUBSCRIBE')); // none held: GoCache answers nothing
    expect(await client.exchange(cmd('GET', 'k'), '$-1\r\n')).toBe('$-1\r\n');
  });

  it('answers CLUSTER NODES in cluster mode', async () => {
    const nodes = 'n1 127.0.0.1:27001 dead\nn2 127.0.0.1:27002 alive\n';
    await open({ clusterNodes: nodes });
    const reply = `$${nodes.length}\r\n${nodes}\r\n`;
    expect(await client.exchange(cmd('CLUSTER', 'NODES'), reply)).toBe(reply);
  });

  describe('scripting', () => {
    it('overrides replies, sends nothing on null, and falls through on undefined', async () => {
      await open({
        script: (args) => {
          const name = args[0]?.toString();
          if (name === 'GET') return '$5\r\nhello\r\n';
          if (name === 'SET') return null;
          return undefined;
        },
      });
      expect(await client.exchange(cmd('GET', 'x'), '$5\r\nhello\r\n')).toBe('$5\r\nhello\r\n');
      client.send(cmd('SET', 'x', 'y'));
      expect(await client.exchange(cmd('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
      expect(peer.store.size).toBe(0);
    });

    it('can write garbage and cut a connection mid-reply', async () => {
      await open({
        script: (args, conn) => {
          if (args[0]?.toString() === 'GET') {
            conn.write('$10\r\nhel');
            conn.destroy();
            return null;
          }
          if (args[0]?.toString() === 'DBSIZE') return Buffer.from('!garbage\r\n');
          return undefined;
        },
      });
      expect(await client.exchange(cmd('DBSIZE'), '!garbage\r\n')).toBe('!garbage\r\n');
      client.send(cmd('GET', 'x'));
      await client.waitClosed();
      expect(client.unread.toString('latin1')).toBe('$10\r\nhel');
    });

    it('gives access to connections for unsolicited writes', async () => {
      await peer.waitFor(() => peer.connections.length === 1);
      peer.connections[0]?.write('+PUSHED\r\n');
      expect((await client.read(9)).toString('latin1')).toBe('+PUSHED\r\n');
    });
  });
});
