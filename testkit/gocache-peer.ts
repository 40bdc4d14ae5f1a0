// Scripted GoCache peer: this file REPLAYS GoCache's documented wire behaviour from
// shared/gocache-wire.md (/work/shared/gocache-wire.md); it is not GoCache and not a Redis. It exists
// only for what a real redis-server cannot show: GoCache's own replies, error texts and framing rules.
// When the doc and this file disagree, the doc wins: fix this file.
//
// It records every byte and request it receives, parses requests as strictly as GoCache (anything
// GoCache would crash or close on is recorded in `violations`, then the connection is closed), and
// answers in simple (non-cluster) mode with the exact bytes from the doc. Tests can script replies
// (`script`), write raw bytes to a connection, and cut connections.
import { createServer, type Server, type Socket } from 'node:net';

export type ScriptReply = Buffer | string | null | undefined;

export interface GoCachePeerOptions {
  /** Port to listen on (127.0.0.1); default 0 = any free port. */
  port?: number;
  /**
   * Consulted first for every well-formed request. Return bytes (Buffer or a latin1 string of raw RESP)
   * to send them as the reply, `null` to send nothing, `undefined` to fall through to GoCache's behaviour.
   */
  script?: (args: Buffer[], conn: PeerConnection) => ScriptReply;
  /** Makes the peer a cluster-mode node: `CLUSTER NODES` / `CLUSTER HEALTH` answer this text as a bulk string. */
  clusterNodes?: string;
  /** GoCache's key cap (LRU eviction; expired keys count). Default 1000. */
  maxKeys?: number;
  /**
   * When a request would crash the GoCache process, also cut every other connection and stop
   * listening, as the real server would. Default false: only the offending connection is closed.
   */
  simulateCrash?: boolean;
  /** Called for each accepted connection, before any byte is read. */
  onConnection?: (conn: PeerConnection) => void;
  /** Keep every received byte for `received()` (default true; turn off for very large payloads). */
  recordBytes?: boolean;
}

export interface StoredValue {
  value: Buffer;
  /** Epoch ms, or null for no expiry. Expiry is lazy: GET hides the key, DBSIZE still counts it. */
  expiresAt: number | null;
}

export interface GoCachePeer {
  readonly host: string;
  readonly port: number;
  /** All bytes received from all connections, in arrival order. */
  received(): Buffer;
  /** Every well-formed request, decoded as UTF-8, in arrival order. */
  readonly requests: string[][];
  /** Every well-formed request, as bytes. */
  readonly rawRequests: Buffer[][];
  /** Everything the SDK sent that GoCache would reject, close on or crash on (`conn <id>: ...`). */
  readonly violations: string[];
  readonly connections: readonly PeerConnection[];
  readonly connectionCount: number;
  /** True once a request was received that would have crashed the real server. */
  readonly crashed: boolean;
  /** Keyed by the key's bytes as a latin1 string (a lossless byte-to-char mapping). */
  readonly store: Map<string, StoredValue>;
  /** Polls `predicate` every 5 ms; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Replies, byte for byte.

const CRLF = Buffer.from('\r\n');
const simple = (text: string): Buffer => Buffer.from(`+${text}\r\n`, 'latin1');
const error = (text: string): Buffer => Buffer.from(`-${text}\r\n`, 'latin1');
const integer = (n: number): Buffer => Buffer.from(`:${n}\r\n`);
const bulk = (bytes: Buffer | null): Buffer =>
  bytes === null ? Buffer.from('$-1\r\n') : Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF]);
const array = (items: Buffer[]): Buffer => Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items]);

const OK = simple('OK');
const PONG = simple('PONG');
const QUEUED = simple('QUEUED');
const LENGTH_MISMATCH = error("Length of command doesn't match");
const EXECABORT = error('EXECABORT Transaction discarded because of previous errors.');
const SUBSCRIBER_ONLY = error('ERR only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context');

const KNOWN_COMMANDS = new Set([
  'PING', 'GET', 'SET', 'DEL', 'DBSIZE', 'MULTI', 'EXEC', 'DISCARD', 'PUBLISH', 'SUBSCRIBE', 'UNSUBSCRIBE', 'CLUSTER',
]);
const ALLOWED_WHILE_SUBSCRIBED = new Set(['SUBSCRIBE', 'UNSUBSCRIBE', 'PING']);
const NOT_IN_TRANSACTION = new Set([
  'MULTI', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PSUBSCRIBE', 'PUNSUBSCRIBE', 'PUBLISH', 'CLUSTER',
]);
/** Arity checked when a command is queued in MULTI (word counts, name included). */
const TRANSACTION_ARITY: Record<string, (words: number) => boolean> = {
  GET: (n) => n === 2,
  DEL: (n) => n === 2,
  SET: (n) => n >= 3 && n <= 5,
  DBSIZE: (n) => n === 1,
  PING: (n) => n <= 2,
};
const CLUSTER_MEMBERSHIP = new Set(['ADDNODE', 'REMOVENODE', 'TOPOLOGY']);

// ---------------------------------------------------------------------------------------------------
// Strict request framing, as GoCache reads it.

const MAX_ARRAY_LENGTH = 1 << 20;
const MAX_BULK_LENGTH = 1 << 30; // GoCache allocates the declared length up front: beyond this it runs out of memory

type ParseResult =
  /** `need`: total buffer length required before parsing is worth retrying (0: any more bytes). */
  | { kind: 'incomplete'; need: number }
  /** `notes`: oddities GoCache tolerates but a correct client never sends. */
  | { kind: 'request'; args: Buffer[]; end: number; notes: string[] }
  /** `crash`: GoCache's process dies; otherwise it closes the connection. */
  | { kind: 'fatal'; reason: string; crash: boolean };

const STAR = 0x2a;
const DOLLAR = 0x24;
const PLUS = 0x2b;
const COLON = 0x3a;
const CR = 0x0d;
const LF = 0x0a;

function readLine(buf: Buffer, pos: number): { line: string; next: number } | 'incomplete' | 'lf-only' {
  const lf = buf.indexOf(LF, pos);
  if (lf === -1) return 'incomplete';
  if (buf[lf - 1] !== CR) return 'lf-only';
  return { line: buf.toString('latin1', pos, lf - 1), next: lf + 1 };
}

function parseLength(line: string): number | null {
  return /^-?[0-9]+$/.test(line) ? Number(line) : null;
}

function preview(buf: Buffer, from: number): string {
  return JSON.stringify(buf.toString('latin1', from, Math.min(buf.length, from + 32)));
}

function parseRequest(buf: Buffer, start: number): ParseResult {
  const first = buf[start];
  if (first === undefined) return { kind: 'incomplete', need: 0 };
  if (first === DOLLAR) return { kind: 'fatal', reason: `bare bulk string, not an array: ${preview(buf, start)}`, crash: false };
  if (first !== STAR) return { kind: 'fatal', reason: `inline command ${preview(buf, start)}`, crash: false };

  const header = readLine(buf, start + 1);
  if (header === 'incomplete') return { kind: 'incomplete', need: 0 };
  if (header === 'lf-only') return { kind: 'fatal', reason: `LF-only framing: ${preview(buf, start)}`, crash: false };
  const count = parseLength(header.line);
  if (count === null) return { kind: 'fatal', reason: `invalid array length ${JSON.stringify(header.line)}`, crash: false };
  if (count === 0) return { kind: 'fatal', reason: 'empty array *0', crash: true };
  if (count < 0) return { kind: 'fatal', reason: `null array *${count}`, crash: true };
  if (count > MAX_ARRAY_LENGTH) return { kind: 'fatal', reason: `absurd array length *${count}`, crash: true };

  const args: Buffer[] = [];
  const notes: string[] = [];
  let pos = header.next;
  for (let i = 0; i < count; i++) {
    const type = buf[pos];
    if (type === undefined) return { kind: 'incomplete', need: 0 };
    if (type === COLON) return { kind: 'fatal', reason: `integer element in request: ${preview(buf, start)}`, crash: true };
    if (type === STAR) return { kind: 'fatal', reason: `nested array element in request: ${preview(buf, start)}`, crash: true };
    if (type !== DOLLAR && type !== PLUS) {
      return { kind: 'fatal', reason: `unexpected element type ${preview(buf, pos)}`, crash: false };
    }
    const line = readLine(buf, pos + 1);
    if (line === 'incomplete') return { kind: 'incomplete', need: 0 };
    if (line === 'lf-only') return { kind: 'fatal', reason: `LF-only framing: ${preview(buf, pos)}`, crash: false };
    if (type === PLUS) {
      args.push(Buffer.from(line.line, 'latin1'));
      notes.push(`simple-string element +${line.line} (GoCache reads it as a string)`);
      pos = line.next;
      continue;
    }
    const len = parseLength(line.line);
    if (len === null) return { kind: 'fatal', reason: `invalid bulk length ${JSON.stringify(line.line)}`, crash: false };
    if (len === -1) {
      args.push(Buffer.alloc(0));
      notes.push("null bulk element $-1 (GoCache reads it as '')");
      pos = line.next;
      continue;
    }
    if (len < -1) return { kind: 'fatal', reason: `bulk length $${len}`, crash: true };
    if (len > MAX_BULK_LENGTH) return { kind: 'fatal', reason: `absurd bulk length $${len} (out of memory)`, crash: true };
    const end = line.next + len;
    if (buf.length < end + 2) return { kind: 'incomplete', need: end + 2 };
    if (buf[end] !== CR || buf[end + 1] !== LF) {
      return { kind: 'fatal', reason: `missing CRLF after ${len} bytes of bulk data`, crash: false };
    }
    args.push(Buffer.from(buf.subarray(line.next, end)));
    pos = end + 2;
  }
  return { kind: 'request', args, end: pos, notes };
}

/** Go's strconv.Atoi: optional sign, decimal digits, within int64. */
function parseGoInt(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const value = BigInt(text);
  if (value > 9223372036854775807n || value < -9223372036854775808n) return null;
  return Number(value);
}

// ---------------------------------------------------------------------------------------------------

export class PeerConnection {
  /** Every well-formed request on this connection. */
  readonly requests: Buffer[][] = [];
  /** Channels held (pub/sub); non-empty means subscriber mode. */
  readonly subscriptions = new Set<string>();
  /** Non-null while a MULTI is open. */
  transaction: { queue: Buffer[][]; aborted: boolean } | null = null;

  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private need = 0;
  /** Replies collected while a chunk is processed, written in one go. */
  private batch: Buffer[] | null = null;
  private dead = false;
  private closedFlag = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly peer: GoCachePeerServer,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.closedFlag = true;
      this.dead = true;
    });
    socket.on('error', () => {});
  }

  /** Bytes received on this connection so far. */
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** True once the socket is closed. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends raw bytes (garbage, partial replies, pushes...), after any reply already produced. */
  write(bytes: Buffer | string): void {
    if (this.dead) return;
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    if (this.batch !== null) this.batch.push(data);
    else this.socket.write(data);
  }

  /** Flushes what was written so far, then closes (FIN). Use after a partial write to cut a reply. */
  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.batch === null) this.closeGracefully();
  }

  /** Drops the connection at once with a TCP reset; unflushed replies are lost. */
  reset(): void {
    this.dead = true;
    this.batch = null;
    this.socket.resetAndDestroy();
  }

  private closeGracefully(): void {
    this.socket.end(() => this.socket.destroy());
  }

  private onData(chunk: Buffer): void {
    if (this.peer.recordBytes) {
      this.chunks.push(chunk);
      this.peer.allChunks.push(chunk);
    }
    if (this.dead) return;
    // Large bulk strings arrive in many chunks: keep them aside until the frame can be complete.
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    if (this.buffer.length + this.pendingLength < this.need) return;
    const buf = Buffer.concat([this.buffer, ...this.pending]);
    this.pending = [];
    this.pendingLength = 0;
    this.need = 0;

    this.batch = [];
    let pos = 0;
    try {
      while (pos < buf.length && !this.dead) {
        const result = parseRequest(buf, pos);
        if (result.kind === 'incomplete') {
          this.need = result.need === 0 ? 0 : result.need - pos;
          break;
        }
        if (result.kind === 'fatal') {
          this.peer.fatal(this, result.reason, result.crash);
          break;
        }
        pos = result.end;
        this.peer.onRequest(this, result.args, result.notes);
      }
    } finally {
      this.buffer = this.dead ? Buffer.alloc(0) : buf.subarray(pos);
      const replies = this.batch;
      this.batch = null;
      if (replies.length > 0 && !this.socket.destroyed) this.socket.write(Buffer.concat(replies));
      if (this.dead && !this.socket.destroyed) this.closeGracefully();
    }
  }
}

class GoCachePeerServer implements GoCachePeer {
  readonly host = '127.0.0.1';
  port = 0;
  readonly requests: string[][] = [];
  readonly rawRequests: Buffer[][] = [];
  readonly violations: string[] = [];
  readonly connections: PeerConnection[] = [];
  readonly store = new Map<string, StoredValue>();
  readonly allChunks: Buffer[] = [];
  readonly recordBytes: boolean;
  crashed = false;
  /** Set by MULTI, DBSIZE, EXEC: GET, SET and DBSIZE then hang on every connection (see the doc). */
  keyspaceDeadlocked = false;

  private readonly server: Server;
  private listening = false;

  constructor(private readonly options: GoCachePeerOptions) {
    this.recordBytes = options.recordBytes ?? true;
    this.server = createServer((socket) => {
      socket.setNoDelay(true);
      const conn = new PeerConnection(this.connections.length + 1, socket, this);
      this.connections.push(conn);
      options.onConnection?.(conn);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('gocache-peer: no TCP address');
    this.port = address.port;
  }

  get connectionCount(): number {
    return this.connections.length;
  }

  received(): Buffer {
    return Buffer.concat(this.allChunks);
  }

  async waitFor(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`gocache-peer: condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async close(): Promise<void> {
    for (const conn of this.connections) if (!conn.socket.destroyed) conn.socket.destroy();
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private violation(conn: PeerConnection, text: string): void {
    this.violations.push(`conn ${conn.id}: ${text}`);
  }

  /** A request GoCache cannot read: it closes the connection, or the whole process dies. */
  fatal(conn: PeerConnection, reason: string, crash: boolean): void {
    this.violation(conn, `${reason} (${crash ? 'crashes the GoCache process' : 'GoCache closes the connection'})`);
    if (crash) this.crash();
    conn.destroy();
  }

  private crash(): void {
    this.crashed = true;
    if (!this.options.simulateCrash) return;
    for (const conn of this.connections) conn.destroy();
    if (this.listening) {
      this.listening = false;
      this.server.close();
    }
  }

  onRequest(conn: PeerConnection, args: Buffer[], notes: string[]): void {
    conn.requests.push(args);
    this.rawRequests.push(args);
    this.requests.push(args.map((a) => a.toString('utf8')));
    for (const note of notes) this.violation(conn, note);
    const name = (args[0] as Buffer).toString('latin1');
    if (name === '') this.violation(conn, 'empty command name');
    else if (/[a-z]/.test(name)) this.violation(conn, `command name not upper-case: ${JSON.stringify(name)} (GoCache: unknown command)`);

    const scripted = this.options.script?.(args, conn);
    if (scripted !== undefined) {
      if (scripted !== null) conn.write(scripted);
      return;
    }
    const reply = this.dispatch(conn, args, name);
    if (reply !== null) conn.write(reply);
  }

  private dispatch(conn: PeerConnection, args: Buffer[], name: string): Buffer | null {
    if (conn.transaction !== null) return this.inTransaction(conn, conn.transaction, args, name);
    if (conn.subscriptions.size > 0 && KNOWN_COMMANDS.has(name) && !ALLOWED_WHILE_SUBSCRIBED.has(name)) {
      return SUBSCRIBER_ONLY;
    }
    return this.execute(conn, args, name, false);
  }

  private inTransaction(
    conn: PeerConnection,
    tx: { queue: Buffer[][]; aborted: boolean },
    args: Buffer[],
    name: string,
  ): Buffer | null {
    if (name === 'DISCARD') {
      conn.transaction = null;
      return OK;
    }
    if (name === 'EXEC') {
      conn.transaction = null;
      if (tx.aborted) return EXECABORT;
      if (tx.queue.some((queued) => (queued[0] as Buffer).toString('latin1') === 'DBSIZE')) {
        this.violation(conn, 'DBSIZE inside MULTI/EXEC: GoCache deadlocks its keyspace (no reply; GET/SET/DBSIZE hang everywhere)');
        this.keyspaceDeadlocked = true;
        return null;
      }
      const replies: Buffer[] = [];
      for (const queued of tx.queue) {
        const reply = this.execute(conn, queued, (queued[0] as Buffer).toString('latin1'), true);
        if (reply === null) return null;
        replies.push(reply);
      }
      return array(replies);
    }
    if (NOT_IN_TRANSACTION.has(name)) return error(`ERR command '${name} cannot be used in a transaction`);
    const arityOk = TRANSACTION_ARITY[name];
    if (arityOk !== undefined && !arityOk(args.length)) {
      tx.aborted = true;
      return error(`wrong number of arguments for '${name.toLowerCase()}' command`);
    }
    tx.queue.push(args);
    return QUEUED;
  }

  /** One command's effect and reply; `inTx` selects the texts GoCache uses inside EXEC. */
  private execute(conn: PeerConnection, args: Buffer[], name: string, inTx: boolean): Buffer | null {
    const words = args.length;
    switch (name) {
      case 'PING':
        return PONG;
      case 'GET': {
        if (words !== 2) return LENGTH_MISMATCH;
        if (this.keyspaceDeadlocked) return null;
        const key = (args[1] as Buffer).toString('latin1');
        const entry = this.store.get(key);
        if (entry === undefined || (entry.expiresAt !== null && entry.expiresAt <= Date.now())) return bulk(null);
        this.store.delete(key); // LRU: most recently used goes last
        this.store.set(key, entry);
        return bulk(entry.value);
      }
      case 'SET': {
        if (words < 3 || words > 5) return LENGTH_MISMATCH;
        if (this.keyspaceDeadlocked) return null;
        const notInteger = error(inTx ? 'ERR value is not an integer or out of range' : 'ERR value is not an integer');
        let seconds = 0;
        if (words === 5) {
          if ((args[3] as Buffer).toString('latin1').toUpperCase() !== 'EX') return error('ERR syntax error');
          const parsed = parseGoInt(args[4] as Buffer);
          if (parsed === null) return notInteger;
          seconds = parsed;
        } else if (words === 4) {
          const parsed = parseGoInt(args[3] as Buffer);
          if (parsed === null) return inTx ? notInteger : error("Couldn't convert seconds to a string");
          seconds = parsed;
        }
        this.put((args[1] as Buffer).toString('latin1'), {
          value: args[2] as Buffer,
          expiresAt: seconds > 0 ? Date.now() + seconds * 1000 : null,
        });
        return OK;
      }
      case 'DEL':
        if (words !== 2) return LENGTH_MISMATCH;
        this.store.delete((args[1] as Buffer).toString('latin1'));
        return integer(1); // always 1, even for a missing key
      case 'DBSIZE':
        if (this.keyspaceDeadlocked) return null;
        return integer(this.store.size); // expired keys included: GoCache never purges them
      case 'MULTI':
        conn.transaction = { queue: [], aborted: false };
        return OK;
      case 'EXEC':
        return error('ERR EXEC without MULTI');
      case 'DISCARD':
        return error('ERR DISCARD without MULTI');
      case 'PUBLISH':
        if (words !== 3) return error("ERR wrong number of arguments for 'publish' command");
        return integer(this.publish(args[1] as Buffer, args[2] as Buffer));
      case 'SUBSCRIBE': {
        if (words < 2) return error("ERR wrong number of arguments for 'subscribe' command");
        const frames = args.slice(1).map((channel) => {
          conn.subscriptions.add(channel.toString('latin1'));
          return subscriptionFrame('subscribe', channel, conn.subscriptions.size);
        });
        return Buffer.concat(frames);
      }
      case 'UNSUBSCRIBE': {
        const channels = words === 1 ? [...conn.subscriptions].map((c) => Buffer.from(c, 'latin1')) : args.slice(1);
        if (channels.length === 0) return null; // bare UNSUBSCRIBE holding nothing: GoCache answers nothing
        const frames = channels.map((channel) => {
          conn.subscriptions.delete(channel.toString('latin1'));
          return subscriptionFrame('unsubscribe', channel, conn.subscriptions.size);
        });
        return Buffer.concat(frames);
      }
      case 'CLUSTER':
        return this.cluster(conn, args);
      default:
        // Inside EXEC the text differs: lower-case "unknown".
        return error(inTx ? `ERR unknown command '${name}'` : `ERR Unknown command '${name}'`);
    }
  }

  private put(key: string, entry: StoredValue): void {
    if (this.store.has(key)) this.store.delete(key);
    else if (this.store.size >= (this.options.maxKeys ?? 1000)) {
      const oldest = this.store.keys().next();
      if (oldest.done !== true) this.store.delete(oldest.value);
    }
    this.store.set(key, entry);
  }

  private publish(channel: Buffer, message: Buffer): number {
    const name = channel.toString('latin1');
    let receivers = 0;
    for (const conn of this.connections) {
      if (conn.closed || !conn.subscriptions.has(name)) continue;
      conn.write(array([bulk(Buffer.from('message')), bulk(channel), bulk(message)]));
      receivers++;
    }
    return receivers;
  }

  private cluster(conn: PeerConnection, args: Buffer[]): Buffer | null {
    const sub = args[1]?.toString('latin1') ?? '';
    if (/[a-z]/.test(sub)) this.violation(conn, `CLUSTER subcommand not upper-case: ${JSON.stringify(sub)}`);
    const nodes = this.options.clusterNodes;
    if (sub === 'NODES' || sub === 'HEALTH') {
      return nodes === undefined ? error('Cluster is not initialized') : bulk(Buffer.from(nodes, 'utf8'));
    }
    if (CLUSTER_MEMBERSHIP.has(sub)) {
      if (nodes === undefined) {
        this.fatal(conn, `CLUSTER ${sub} on a node not in cluster mode`, true);
        return null;
      }
      return error(`ERR gocache-peer does not replay CLUSTER ${sub}: script it`);
    }
    return error('Unknown CLUSTER subcommand');
  }
}

function subscriptionFrame(kind: 'subscribe' | 'unsubscribe', channel: Buffer, count: number): Buffer {
  return array([bulk(Buffer.from(kind)), bulk(channel), integer(count)]);
}

/** Starts a scripted GoCache peer on 127.0.0.1 (see the top of this file). Close it with `close()`. */
export async function startGoCachePeer(options: GoCachePeerOptions = {}): Promise<GoCachePeer> {
  const peer = new GoCachePeerServer(options);
  await peer.listen();
  return peer;
}
