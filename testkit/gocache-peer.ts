// Scripted GoCache peer: this file REPLAYS GoCache's documented wire behaviour from
// shared/gocache-wire.md (/work/shared/gocache-wire.md); it is not GoCache and not a Redis. It exists
// only for what a real redis-server cannot show: GoCache's own replies, error texts, framing rules,
// replication and cluster routing. When the doc and this file disagree, the doc wins: fix this file.
//
// FAILS CLOSED. Input the document does not describe gets no invented reply: it is recorded in
// `violations` (kind `undocumented`, with the connection id and the request), nothing is answered to
// it, and the connection is closed (replies to earlier requests are flushed first, then FIN), so a client
// fails fast with a connection error instead of hanging. Documented input that a correct client must
// never send (what crashes GoCache, what makes it close the connection, what it merely tolerates,
// lower-case names, DBSIZE inside MULTI) is answered exactly as GoCache does AND recorded too. Every test
// that uses the peer checks at the end that `violations` is empty, or equals exactly what it provoked
// (`takeViolations()` returns and clears them).
//
// Modelled behaviour, one line per documented fact, in the document's order ("[tag]" is used by
// tests/testkit/gocache-peer.test.ts; "n/m" = not modelled, with the reason):
// ## Server basics
// [B1] default port 7000: n/m as the peer's default (tests need free ports): `port` option; GOCACHE_DEFAULT_PORT
// [B2] no AUTH/password/TLS/ACL/databases: AUTH and SELECT answer `-ERR Unknown command 'AUTH'`; TLS bytes are not RESP (F3)
// [B3] at most 1,000 keys, LRU eviction, expired keys count toward the cap: `maxKeys` (default 1000); GET and SET refresh recency
// [B4] every write goes to an append-only file: each peer has its own store; `restart()` keeps it (GoCache replays its file)
// ## Framing
// [F1] RESP2 only; HELLO, HELLO 2, HELLO 3 are unknown commands
// [F2] crash on `*0`, `*-1`, `$-2`, an integer or nested-array element, an absurd length (> 1 GiB): violation `crash`; with
//      `simulateCrash` (default true) every connection is cut and the peer stops listening (`crashed`, `running`)
// [F3] connection closed on an inline command, a bare bulk string, LF-only framing, a missing CRLF after bulk data:
//      violation `close`; replies to the requests before it are flushed, then FIN
// [F4] tolerated: a simple-string element is read as a string, a null bulk element as '': answered, violation `tolerated`
// [F5] only non-empty arrays of bulk strings with honest lengths: any other framing is a violation (F2, F3, `undocumented`)
// [F6] names are case-sensitive upper-case: `ping`, `Ping`, `get` answer `-ERR Unknown command 'ping'` (echoed); violation `misuse`
// [F7] subcommands too: `CLUSTER nodes` answers `-Unknown CLUSTER subcommand`; violation `misuse`
// [F8] option tokens: `EX` and `ex` both work (other spellings are undocumented)
// [F9] replies `+ - : $ *` (`$-1` null, empty EXEC `*0`); pub/sub pushes are plain arrays
// [F10] pipelining: every request in a write answered in order; while its replies are not drained the peer stops reading
// [F11] binary-safe keys and values (any bytes, empty ones too); no size limit but memory
// ## The commands GoCache serves
// [C1] PING answers `+PONG` always, its argument ignored (cluster: `PING x` is routed, K2)
// [C2] GET key: bulk string, `$-1` when missing or expired
// [C3] SET key value | SET key value EX s | SET key value s: `+OK`; a TTL of 0 or below means no expiry
// [C4] DEL key: `:1` always, even for a missing key
// [C5] DBSIZE (extra arguments ignored): the key count, expired keys included (no active expiry, GET does not purge)
// [C6] MULTI / EXEC / DISCARD: see T1-T7
// [C7] PUBLISH channel message: `:N` receivers that took it (other word counts are undocumented)
// [C8] SUBSCRIBE / UNSUBSCRIBE: see P1-P9
// [C9] CLUSTER NODES, CLUSTER HEALTH, membership subcommands: see K4-K9
// [C10] everything else answers `-ERR Unknown command 'NAME'` (HELLO, CLIENT, COMMAND, SELECT, AUTH, INFO, ECHO, EXISTS, ...)
// [C11] QUIT is unknown and does not close the connection
// ## Errors, exactly
// [E1] wrong arity to SET, GET, DEL: `-Length of command doesn't match` (`DEL a b c`, 6-word SET)
// [E2] `SET k v EX notanumber` / `EX 1.5`: `-ERR value is not an integer` (an integer is Go's Atoi: sign, digits, int64)
// [E3] `SET k v PX 100`: `-ERR syntax error`; `SET k v NX|XX|GET|KEEPTTL|<non-numeric>`: `-Couldn't convert seconds to a string`
// [E4] simple-mode follower (`followerOf`): SET and DEL answer `-ERR READONLY You can't write against a read only replica`, before arity
// [E5] error texts do not always start with an upper-case code: every text above is sent exactly
// ## Transactions
// [T1] MULTI `+OK`; each later command `+QUEUED`; EXEC the array of replies
// [T2] queue-time arity error (GET, SET, DEL, `DBSIZE x`, `PING a b`): `-wrong number of arguments for 'get' command`,
//      later commands still `+QUEUED`, EXEC `-EXECABORT Transaction discarded because of previous errors.`
// [T3] inside EXEC: unknown `-ERR unknown command 'FOO'`; SET PX `-ERR syntax error`; NX / `EX abc` `-ERR value is not an integer or out of range`
// [T4] MULTI, SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, CLUSTER inside MULTI:
//      `-ERR command 'NAME cannot be used in a transaction` (no closing quote); the transaction is not aborted
// [T5] `-ERR EXEC without MULTI`, `-ERR DISCARD without MULTI`; lower-case exec/discard inside MULTI are queued
// [T6] MULTI, DBSIZE, EXEC: that connection never answers again; on every other connection GET, SET, DBSIZE hang forever
//      (that connection then answers nothing more); PING, PUBLISH, MULTI still answer (`keyspaceDeadlocked`; violation `misuse`)
// [T7] cluster: queued commands are not redirected, EXEC runs them on the node that got them; a simple-mode follower's
//      EXEC bypasses the read-only check (its writes are not passed on)
// ## Pub/sub
// [P1] `SUBSCRIBE a b`: one `*3 subscribe <ch> :<count>` per channel; a held channel answers the unchanged count;
//      no channel: `-ERR wrong number of arguments for 'subscribe' command`
// [P2] `UNSUBSCRIBE a`: `*3 unsubscribe a :N`, also for a channel never subscribed (current count)
// [P3] bare UNSUBSCRIBE: one frame per held channel in random order (seeded: `seed`, per connection); nothing when none held
// [P4] at count 0 normal commands work again
// [P5] messages: `*3 $7 message <channel> <payload>`, binary-safe
// [P6] PSUBSCRIBE is unknown, in subscriber mode too
// [P7] subscriber mode: GET, SET, DEL, DBSIZE, MULTI, EXEC, DISCARD, PUBLISH, CLUSTER answer
//      `-ERR only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context`; PING `+PONG`
// [P8] pushes and replies are written independently: `conn.pauseDelivery()` holds pushes (a reply overtakes a pending
//      push), `conn.pauseReplies()` holds replies (a push overtakes a pending reply); otherwise each leaves when produced
// [P9] 100-message buffer per subscriber: while delivery is held, messages past 100 are dropped, not counted by
//      PUBLISH, no notice to the subscriber (`conn.pendingPushes`, `conn.droppedPushes`)
// ## Cluster (startGoCacheCluster in testkit/gocache-cluster.ts; the ring in testkit/gocache-ring.ts)
// [K1] ring: SHA-256's first 4 bytes big-endian; 150 virtual nodes per shard from `<shardId>-<i>`; first at or after,
//      wrapping; the empty key is never routed
// [K2] any command of 2+ words whose first argument is another shard's: `-MOVED <nodeId> <host:port>` (unknown,
//      wrong arity, lower-case, `PING x` included; lower-case routing is still recorded as `misuse`)
// [K3] SUBSCRIBE, UNSUBSCRIBE, PUBLISH, CLUSTER, argument-less commands and commands inside MULTI are never redirected
// [K4] no `-ASK`; CLUSTER SLOTS, SHARDS, INFO (any other upper-case subcommand too): `-Unknown CLUSTER subcommand`
// [K5] a follower serves reads of its own shard; a write (SET, DEL) to it answers MOVED to its leader
// [K6] CLUSTER NODES: bulk string of `<id> <host:port> <status>\n`, every node in configuration order; a node lists
//      itself `dead`, a follower its leader `dead`; others `alive` while running, else `dead`; no shard shown
// [K7] CLUSTER HEALTH: the same without the self line
// [K8] not in cluster mode: CLUSTER NODES `-Cluster is not initialized`; CLUSTER ADDNODE, REMOVENODE, TOPOLOGY crash (F2)
// [K9] CLUSTER errors unprefixed: `-ADDNODE requires nodeID and address` (fewer than 2 arguments); REMOVENODE of an
//      unknown node answers nothing (the connection goes on)
// [K10] GoCache's Go client misparses MOVED: n/m (a client matter); MOVED here is GoCache's `MOVED <nodeId> <host:port>`
// ## Cluster, verified again
// [V1] the ring predicts every key, hashing its UTF-8 (raw) bytes; shard ids come from configuration, no command reveals them
// [V2] routing happens before anything else (subscriber mode, open MULTI excepted per K3, deadlocked keyspace)
// [V3] follower: own-shard reads served, own-shard writes MOVED to its leader, other shards MOVED to their leaders;
//      its writes queued in MULTI run locally and are not passed on
// [V4] pub/sub is per node: PUBLISH reaches only that node's subscribers
// [V5] MULTI/EXEC on the wrong node stores the value there, stranded (a later GET answers MOVED)
// [V6] CLUSTER NODES on a leader: `node1 127.0.0.1:17001 dead\nnode2 127.0.0.1:17002 alive\n...` (K6)
// [V7] failover: a dead leader stays in every node's shard table (MOVED to the dead address); in a multi-shard cluster its
//      follower attaches to another shard's leader (receives its writes); `kill()` / `restart()` on the same port
// ## What the SDK should do about it
// [S1] nothing on connect: every received byte is kept (`received()`, `conn.received`) for tests to check
// [S2] replies GoCache never sends (bare UNSUBSCRIBE holding nothing, REMOVENODE of an unknown node) are never sent
//
// Writes on a leader (simple `followerOf` pairs and cluster shards) reach its followers at once (the doc gives
// no replication lag). Tests can still script replies (`script`), write raw bytes, and cut connections.
import { createServer, type Server, type Socket } from 'node:net';
import type { GoCacheRing } from './gocache-ring.js';

export type ScriptReply = Buffer | string | null | undefined;

/** GoCache's default port (its config and `-port` flag); the peer listens on a free port unless told. */
export const GOCACHE_DEFAULT_PORT = 7000;
/** Messages GoCache buffers per subscriber before it drops (P9). */
export const SUBSCRIBER_BUFFER_MESSAGES = 100;

export interface GoCachePeerOptions {
  /** Port to listen on (127.0.0.1); default 0 = any free port. */
  port?: number;
  /**
   * Consulted first for every well-formed request (not on a connection that went silent). Return bytes
   * (Buffer or a latin1 string of raw RESP) to send them as the reply, `null` to send nothing,
   * `undefined` to fall through to GoCache's behaviour.
   */
  script?: (args: Buffer[], conn: PeerConnection) => ScriptReply;
  /**
   * Backwards-compatible canned cluster mode: `CLUSTER NODES` and `CLUSTER HEALTH` answer this text as
   * a bulk string, nothing is routed. For a real cluster use startGoCacheCluster (gocache-cluster.ts).
   */
  clusterNodes?: string;
  /** GoCache's key cap (LRU eviction; expired keys count). Default 1000. */
  maxKeys?: number;
  /**
   * When a request would crash the GoCache process, cut every connection and stop listening, as the
   * real server does. Default true. With false only the offending connection is closed.
   */
  simulateCrash?: boolean;
  /** Makes this peer a simple-mode follower of `followerOf` (a peer from startGoCachePeer): it copies its store, then receives its writes. */
  followerOf?: GoCachePeer;
  /** Seed for the random order of bare UNSUBSCRIBE frames (each connection derives its own). Default 0x60CAC4E. */
  seed?: number;
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

/**
 * - `crash`: GoCache's process dies (F2, K8). `close`: GoCache closes the connection (F3).
 * - `tolerated`: GoCache reads it, a correct client never sends it (F4).
 * - `misuse`: documented, but the document says the SDK must not send it (F6, F7, T6).
 * - `undocumented`: the document does not say what GoCache does: no reply, the connection is closed.
 */
export type ViolationKind = 'crash' | 'close' | 'tolerated' | 'misuse' | 'undocumented';

export interface PeerViolation {
  readonly kind: ViolationKind;
  readonly connectionId: number;
  readonly connection: PeerConnection;
  /** The request, when one was read whole (null for framing errors). */
  readonly request: readonly Buffer[] | null;
  /** The same text as in `violations`. */
  readonly text: string;
}

export interface PeerClusterRole {
  readonly nodeId: string;
  readonly shardId: string;
  readonly role: 'leader' | 'follower';
  readonly leaderId: string;
}

export interface GoCachePeer {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as MOVED and CLUSTER NODES write it. */
  readonly address: string;
  /** All bytes received from all connections, in arrival order. */
  received(): Buffer;
  /** Every well-formed request, decoded as UTF-8, in arrival order. */
  readonly requests: string[][];
  /** Every well-formed request, as bytes. */
  readonly rawRequests: Buffer[][];
  /** `conn <id>: <text>` for everything recorded (see PeerViolation); empty when the SDK behaved. */
  readonly violations: string[];
  /** The same, with kind, connection and request. */
  readonly violationLog: readonly PeerViolation[];
  /** Returns `violations` and clears them (and `violationLog`): for tests that provoke some on purpose. */
  takeViolations(): string[];
  readonly connections: readonly PeerConnection[];
  readonly connectionCount: number;
  /** True once a request was received that would have crashed the real server (stays true after `restart()`). */
  readonly crashed: boolean;
  /** False after a crash (with simulateCrash), `kill()` or `close()`; true again after `restart()`. */
  readonly running: boolean;
  /** Set by MULTI, DBSIZE, EXEC (T6); cleared by `restart()`. */
  readonly keyspaceDeadlocked: boolean;
  /** 'simple' (a leader or a standalone node), 'follower' (simple mode, `followerOf`), or 'cluster'. */
  readonly mode: 'simple' | 'follower' | 'cluster';
  /** This node's place in a cluster (null outside cluster mode). */
  readonly cluster: PeerClusterRole | null;
  /** The peer whose writes this one receives (a follower's leader), or null. */
  readonly replicationSource: GoCachePeer | null;
  /** Keyed by the key's bytes as a latin1 string (a lossless byte-to-char mapping). */
  readonly store: Map<string, StoredValue>;
  /** Polls `predicate` every 5 ms; rejects after `timeoutMs` (default 10 s: it catches hangs, it does not time work). */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops the node as a kill would: every connection cut, no longer listening. The store is kept. */
  kill(): Promise<void>;
  /** Listens again on the same port, a fresh process with the same store (its append-only file). */
  restart(): Promise<void>;
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
const READONLY = error("ERR READONLY You can't write against a read only replica");
const UNKNOWN_CLUSTER_SUBCOMMAND = error('Unknown CLUSTER subcommand');
const MESSAGE = Buffer.from('message');

/** Served commands refused in subscriber mode (P7). */
const REFUSED_WHILE_SUBSCRIBED = new Set(['GET', 'SET', 'DEL', 'DBSIZE', 'MULTI', 'EXEC', 'DISCARD', 'PUBLISH', 'CLUSTER']);
const NOT_IN_TRANSACTION = new Set(['MULTI', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PSUBSCRIBE', 'PUNSUBSCRIBE', 'PUBLISH', 'CLUSTER']);
/** Arity checked when a command is queued in MULTI (word counts, name included), T2. */
const TRANSACTION_ARITY: Record<string, (words: number) => boolean> = {
  GET: (n) => n === 2,
  DEL: (n) => n === 2,
  SET: (n) => n >= 3 && n <= 5,
  DBSIZE: (n) => n === 1,
  PING: (n) => n <= 2,
};
/** Never redirected in cluster mode (K3), by exact name. */
const NEVER_ROUTED = new Set(['SUBSCRIBE', 'UNSUBSCRIBE', 'PUBLISH', 'CLUSTER']);
/** Writes: refused by a simple-mode follower (E4), redirected by a cluster follower (K5). */
const WRITES = new Set(['SET', 'DEL']);
const CLUSTER_MEMBERSHIP = new Set(['ADDNODE', 'REMOVENODE', 'TOPOLOGY']);

// ---------------------------------------------------------------------------------------------------
// Strict request framing, as GoCache reads it.

const MAX_ARRAY_LENGTH = 1 << 20; // beyond this the doc says nothing: undocumented
const MAX_BULK_LENGTH = 1 << 30; // GoCache allocates the declared length up front: beyond this it runs out of memory

type ParseResult =
  /** `need`: total buffer length required before parsing is worth retrying (0: any more bytes). */
  | { kind: 'incomplete'; need: number }
  /** `notes`: oddities GoCache tolerates but a correct client never sends. */
  | { kind: 'request'; args: Buffer[]; end: number; notes: string[] }
  /** GoCache's process dies (`crash`), closes the connection (`close`), or the doc does not say (`undocumented`). */
  | { kind: 'fatal'; reason: string; outcome: 'crash' | 'close' | 'undocumented' };

const STAR = 0x2a;
const DOLLAR = 0x24;
const PLUS = 0x2b;
const COLON = 0x3a;
const CR = 0x0d;
const LF = 0x0a;

function readLine(buf: Buffer, pos: number): { line: string; next: number } | 'incomplete' | 'lf-only' {
  const lf = buf.indexOf(LF, pos);
  if (lf === -1) return 'incomplete';
  if (lf === pos || buf[lf - 1] !== CR) return 'lf-only';
  return { line: buf.toString('latin1', pos, lf - 1), next: lf + 1 };
}

/** A length as a correct client writes it: `0`, or an optional minus and digits without a leading zero. */
function parseLength(line: string): number | null {
  return /^(0|-?[1-9][0-9]*)$/.test(line) ? Number(line) : null;
}

function preview(buf: Buffer, from: number): string {
  return JSON.stringify(buf.toString('latin1', from, Math.min(buf.length, from + 32)));
}

function parseRequest(buf: Buffer, start: number): ParseResult {
  const first = buf[start];
  if (first === undefined) return { kind: 'incomplete', need: 0 };
  if (first === DOLLAR) return { kind: 'fatal', reason: `bare bulk string, not an array: ${preview(buf, start)}`, outcome: 'close' };
  if (first !== STAR) {
    const letter = (first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a);
    return letter
      ? { kind: 'fatal', reason: `inline command ${preview(buf, start)}`, outcome: 'close' }
      : { kind: 'fatal', reason: `undocumented input: a request starting with neither '*' nor a command name: ${preview(buf, start)}`, outcome: 'undocumented' };
  }

  const header = readLine(buf, start + 1);
  if (header === 'incomplete') return { kind: 'incomplete', need: 0 };
  if (header === 'lf-only') return { kind: 'fatal', reason: `LF-only framing: ${preview(buf, start)}`, outcome: 'close' };
  const count = parseLength(header.line);
  if (count === null) return { kind: 'fatal', reason: `undocumented input: array length ${JSON.stringify(header.line)}`, outcome: 'undocumented' };
  if (count === 0) return { kind: 'fatal', reason: 'empty array *0', outcome: 'crash' };
  if (count === -1) return { kind: 'fatal', reason: `null array *${count}`, outcome: 'crash' };
  if (count < 0) return { kind: 'fatal', reason: `undocumented input: array length *${count}`, outcome: 'undocumented' };
  if (count > MAX_ARRAY_LENGTH) return { kind: 'fatal', reason: `undocumented input: array length *${count}`, outcome: 'undocumented' };

  const args: Buffer[] = [];
  const notes: string[] = [];
  let pos = header.next;
  for (let i = 0; i < count; i++) {
    const type = buf[pos];
    if (type === undefined) return { kind: 'incomplete', need: 0 };
    if (type === COLON) return { kind: 'fatal', reason: `integer element in request: ${preview(buf, start)}`, outcome: 'crash' };
    if (type === STAR) return { kind: 'fatal', reason: `nested array element in request: ${preview(buf, start)}`, outcome: 'crash' };
    if (type !== DOLLAR && type !== PLUS) {
      return { kind: 'fatal', reason: `undocumented input: element type ${preview(buf, pos)}`, outcome: 'undocumented' };
    }
    const line = readLine(buf, pos + 1);
    if (line === 'incomplete') return { kind: 'incomplete', need: 0 };
    if (line === 'lf-only') return { kind: 'fatal', reason: `LF-only framing: ${preview(buf, pos)}`, outcome: 'close' };
    if (type === PLUS) {
      args.push(Buffer.from(line.line, 'latin1'));
      notes.push(`simple-string element +${line.line} (GoCache reads it as a string)`);
      pos = line.next;
      continue;
    }
    const len = parseLength(line.line);
    if (len === null) return { kind: 'fatal', reason: `undocumented input: bulk length ${JSON.stringify(line.line)}`, outcome: 'undocumented' };
    if (len === -1) {
      args.push(Buffer.alloc(0));
      notes.push("null bulk element $-1 (GoCache reads it as '')");
      pos = line.next;
      continue;
    }
    if (len === -2) return { kind: 'fatal', reason: `bulk length $${len}`, outcome: 'crash' };
    if (len < 0) return { kind: 'fatal', reason: `undocumented input: bulk length $${len}`, outcome: 'undocumented' };
    if (len > MAX_BULK_LENGTH) return { kind: 'fatal', reason: `absurd bulk length $${len} (out of memory)`, outcome: 'crash' };
    const end = line.next + len;
    if (buf.length < end + 2) return { kind: 'incomplete', need: end + 2 };
    if (buf[end] !== CR || buf[end + 1] !== LF) {
      return { kind: 'fatal', reason: `missing CRLF after ${len} bytes of bulk data`, outcome: 'close' };
    }
    args.push(Buffer.from(buf.subarray(line.next, end)));
    pos = end + 2;
  }
  return { kind: 'request', args, end: pos, notes };
}

type SetOptions = { kind: 'ttl'; seconds: number } | { kind: 'error'; reply: Buffer } | { kind: 'undocumented'; what: string };

/** Go's strconv.Atoi: optional sign, decimal digits, within int64. */
function parseGoInt(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const value = BigInt(text);
  if (value > 9223372036854775807n || value < -9223372036854775808n) return null;
  return Number(value);
}

/** A request for a violation text: printable ASCII as is, other bytes as \xNN, each word JSON-quoted. */
export function showRequest(args: readonly Buffer[]): string {
  const word = (b: Buffer): string => {
    const shown = b.length > 64 ? b.subarray(0, 64) : b;
    let out = '';
    for (const byte of shown) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
    return JSON.stringify(b.length > 64 ? `${out}...(${b.length} bytes)` : out);
  };
  return `[${args.map(word).join(', ')}]`;
}

/** mulberry32: a small seeded generator, so "random" orders are the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------

export class PeerConnection {
  /** Every well-formed request on this connection. */
  readonly requests: Buffer[][] = [];
  /** Channels held (pub/sub), in subscription order; non-empty means subscriber mode. */
  readonly subscriptions = new Set<string>();
  /** Non-null while a MULTI is open. */
  transaction: { queue: Buffer[][]; aborted: boolean } | null = null;
  /** Messages dropped because this subscriber's 100-message buffer was full (P9). */
  droppedPushes = 0;
  /** The request this connection hangs on forever (T6: EXEC holding DBSIZE, or GET/SET/DBSIZE after it), or null. */
  hungOn: Buffer[] | null = null;
  /** Drives the order of bare UNSUBSCRIBE frames (P3). */
  readonly random: () => number;

  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private need = 0;
  /** Replies collected while a chunk is processed, written in one go. */
  private batch: Buffer[] | null = null;
  private dead = false;
  private closedFlag = false;
  private readonly pushQueue: Buffer[] = [];
  private deliveryPaused = false;
  private repliesPaused = false;
  private readonly heldReplies: Buffer[] = [];

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly peer: GoCachePeerServer,
    seed: number,
  ) {
    this.random = seededRandom((seed ^ Math.imul(id, 0x9e3779b1)) >>> 0);
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

  /** True once this connection will never answer again (T6). */
  get silent(): boolean {
    return this.hungOn !== null;
  }

  /** Messages waiting in this subscriber's buffer (at most 100), held by `pauseDelivery()`. */
  get pendingPushes(): number {
    return this.pushQueue.length;
  }

  /** Replies produced but held by `pauseReplies()`. */
  get pendingReplies(): number {
    return this.heldReplies.length;
  }

  /** Sends raw bytes (garbage, partial replies, pushes...), after any reply already produced; ignores pauses. */
  write(bytes: Buffer | string): void {
    if (this.dead) return;
    this.emit(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /**
   * Makes this subscriber slow (P8, P9): messages published to it wait in its 100-message buffer
   * (past 100 they are dropped and PUBLISH does not count it); replies still go out, ahead of them.
   */
  pauseDelivery(): void {
    this.deliveryPaused = true;
  }

  /** Delivers the buffered messages, then each new one as it is published. */
  resumeDelivery(): void {
    this.deliveryPaused = false;
    this.flushPushes();
  }

  /** Holds this connection's replies (messages still go out, ahead of them) until `resumeReplies()` (P8). */
  pauseReplies(): void {
    this.repliesPaused = true;
  }

  /** Writes the held replies, in order, then each new one as it is produced. */
  resumeReplies(): void {
    this.repliesPaused = false;
    const held = this.heldReplies.splice(0);
    if (held.length > 0 && !this.dead) this.emit(Buffer.concat(held));
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

  /** A reply to a request: held while replies are paused, never sent once the connection went silent. */
  reply(bytes: Buffer): void {
    if (this.dead || this.silent) return;
    if (this.repliesPaused) this.heldReplies.push(bytes);
    else this.emit(bytes);
  }

  /** Offers a pushed message to this subscriber's buffer; false when the buffer is full and it is dropped (P9). */
  offerPush(frame: Buffer): boolean {
    if (this.dead) return false;
    if (this.pushQueue.length >= SUBSCRIBER_BUFFER_MESSAGES) {
      this.droppedPushes++;
      return false;
    }
    this.pushQueue.push(frame);
    this.flushPushes();
    return true;
  }

  private flushPushes(): void {
    if (this.deliveryPaused || this.dead || this.pushQueue.length === 0) return;
    this.emit(Buffer.concat(this.pushQueue.splice(0)));
  }

  private emit(data: Buffer): void {
    if (this.batch !== null) this.batch.push(data);
    else this.socket.write(data);
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
          this.peer.fatal(this, result.reason, result.outcome, null);
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
      else if (this.socket.writableNeedDrain) {
        // A Go server blocks in write while its replies are not read: it stops reading too (F10).
        this.socket.pause();
        this.socket.once('drain', () => this.socket.resume());
      }
    }
  }
}

/** What a cluster node knows of its cluster (set by startGoCacheCluster). */
export interface ClusterNodeView {
  readonly id: string;
  readonly shardId: string;
  readonly role: 'leader' | 'follower';
  /** The node id of this node's shard leader (its own id for a leader). */
  readonly leaderId: string;
  readonly peer: GoCachePeer;
}

export interface ClusterView {
  readonly ring: GoCacheRing;
  /** Every node, in configuration order (CLUSTER NODES lists them so). */
  readonly nodes: readonly ClusterNodeView[];
}

class GoCachePeerServer implements GoCachePeer {
  readonly host = '127.0.0.1';
  port = 0;
  readonly requests: string[][] = [];
  readonly rawRequests: Buffer[][] = [];
  readonly violations: string[] = [];
  readonly violationLog: PeerViolation[] = [];
  readonly connections: PeerConnection[] = [];
  readonly store = new Map<string, StoredValue>();
  readonly allChunks: Buffer[] = [];
  readonly recordBytes: boolean;
  crashed = false;
  running = false;
  keyspaceDeadlocked = false;
  replicationSource: GoCachePeerServer | null = null;
  /** Peers receiving this one's writes. */
  readonly replicas = new Set<GoCachePeerServer>();
  clusterView: ClusterView | null = null;
  clusterSelf: ClusterNodeView | null = null;
  /** Called after the node stops (crash or kill): the cluster helper re-attaches followers here. */
  readonly stopListeners: Array<() => void> = [];

  private server: Server;
  private readonly simulateCrash: boolean;
  private readonly seed: number;

  constructor(private readonly options: GoCachePeerOptions) {
    this.recordBytes = options.recordBytes ?? true;
    this.simulateCrash = options.simulateCrash ?? true;
    this.seed = options.seed ?? 0x60cac4e;
    this.server = this.createServer();
    if (options.followerOf !== undefined) {
      if (!(options.followerOf instanceof GoCachePeerServer)) throw new Error('gocache-peer: followerOf must be a peer from startGoCachePeer');
      setReplicationSource(this, options.followerOf);
    }
  }

  private createServer(): Server {
    return createServer((socket) => {
      socket.setNoDelay(true);
      const conn = new PeerConnection(this.connections.length + 1, socket, this, this.seed);
      this.connections.push(conn);
      this.options.onConnection?.(conn);
    });
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get mode(): 'simple' | 'follower' | 'cluster' {
    if (this.clusterSelf !== null) return 'cluster';
    return this.options.followerOf !== undefined ? 'follower' : 'simple';
  }

  get cluster(): PeerClusterRole | null {
    const self = this.clusterSelf;
    return self === null ? null : { nodeId: self.id, shardId: self.shardId, role: self.role, leaderId: self.leaderId };
  }

  async listen(port = this.options.port ?? 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.running = true;
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

  takeViolations(): string[] {
    this.violationLog.splice(0);
    return this.violations.splice(0);
  }

  async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`gocache-peer: condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async kill(): Promise<void> {
    await this.stop();
  }

  async restart(): Promise<void> {
    if (this.running) throw new Error(`gocache-peer: ${this.address} is running; kill() it first`);
    this.keyspaceDeadlocked = false;
    this.server = this.createServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const conn of this.connections) if (!conn.socket.destroyed) conn.socket.destroy();
    await this.stop();
    if (this.replicationSource !== null) this.replicationSource.replicas.delete(this);
  }

  /** Cuts every connection and stops listening; resolves once the listener is closed. */
  private stop(): Promise<void> {
    for (const conn of this.connections) conn.destroy();
    if (!this.running) return Promise.resolve();
    this.running = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const listener of this.stopListeners) listener();
    return closed;
  }

  private record(conn: PeerConnection, kind: ViolationKind, text: string, request: readonly Buffer[] | null): void {
    const line = `conn ${conn.id}: ${text}`;
    this.violations.push(line);
    this.violationLog.push({ kind, connectionId: conn.id, connection: conn, request, text: line });
  }

  /** Input the document does not describe: recorded, no reply, the connection closed. Returns null (no reply). */
  private undocumented(conn: PeerConnection, what: string, request: readonly Buffer[]): null {
    this.record(conn, 'undocumented', `undocumented input: ${what}; request ${showRequest(request)}; no reply, connection closed`, request);
    conn.destroy();
    return null;
  }

  /** A request GoCache cannot read or survive: it closes the connection, or the whole process dies. */
  fatal(conn: PeerConnection, reason: string, outcome: 'crash' | 'close' | 'undocumented', request: readonly Buffer[] | null): void {
    if (outcome === 'undocumented') {
      this.record(conn, 'undocumented', `${reason}; no reply, connection closed`, request);
    } else {
      this.record(conn, outcome, `${reason} (${outcome === 'crash' ? 'crashes the GoCache process' : 'GoCache closes the connection'})`, request);
    }
    conn.destroy();
    if (outcome === 'crash') {
      this.crashed = true;
      if (this.simulateCrash) void this.stop();
    }
  }

  onRequest(conn: PeerConnection, args: Buffer[], notes: string[]): void {
    conn.requests.push(args);
    this.rawRequests.push(args);
    this.requests.push(args.map((a) => a.toString('utf8')));
    for (const note of notes) this.record(conn, 'tolerated', note, args);
    if (conn.silent) return; // T6: this connection never answers again

    const name = (args[0] as Buffer).toString('latin1');
    if (/[\r\n]/.test(name)) {
      this.undocumented(conn, 'a command name holding CR or LF (GoCache would echo it into its error line)', args);
      return;
    }
    if (name === '') this.record(conn, 'misuse', 'empty command name', args);
    else if (/[a-z]/.test(name)) this.record(conn, 'misuse', `command name not upper-case: ${JSON.stringify(name)} (GoCache: unknown command)`, args);

    const scripted = this.options.script?.(args, conn);
    if (scripted !== undefined) {
      if (scripted !== null) conn.reply(typeof scripted === 'string' ? Buffer.from(scripted, 'latin1') : scripted);
      return;
    }
    const reply = this.dispatch(conn, args, name);
    if (reply !== null) conn.reply(reply);
  }

  private dispatch(conn: PeerConnection, args: Buffer[], name: string): Buffer | null {
    if (this.clusterSelf !== null && conn.transaction === null) {
      const routed = this.route(conn, args, name);
      if (routed !== undefined) return routed;
    }
    if (conn.transaction !== null) return this.inTransaction(conn, conn.transaction, args, name);
    if (this.keyspaceDeadlocked) return this.whileDeadlocked(conn, args, name);
    if (conn.subscriptions.size > 0) return this.inSubscriberMode(conn, args, name);
    return this.execute(conn, args, name);
  }

  // -- cluster routing (K2, K3, K5, V2, V3) -------------------------------------------------------

  /** MOVED (or null after a violation) when another node owns the request; undefined to serve it here. */
  private route(conn: PeerConnection, args: Buffer[], name: string): Buffer | null | undefined {
    const view = this.clusterView!;
    const self = this.clusterSelf!;
    if (args.length < 2 || NEVER_ROUTED.has(name)) return undefined;
    const shardId = view.ring.shardOf(args[1] as Buffer);
    if (shardId === null) return undefined; // the empty key is never routed
    const foreign = shardId !== self.shardId;
    if (NEVER_ROUTED.has(name.toUpperCase()) && foreign) {
      return this.undocumented(conn, `${JSON.stringify(name)} with another shard's first argument (is a non-upper-case ${name.toUpperCase()} redirected?)`, args);
    }
    if (foreign) return this.moved(view, shardId);
    if (self.role === 'follower' && WRITES.has(name)) return this.moved(view, self.shardId);
    return undefined;
  }

  private moved(view: ClusterView, shardId: string): Buffer {
    // The shard-to-leader table never changes, even once that leader is dead (V7).
    const leader = view.nodes.find((n) => n.shardId === shardId && n.role === 'leader');
    if (leader === undefined) throw new Error(`gocache-peer: no leader for ${shardId}`);
    return error(`MOVED ${leader.id} ${leader.peer.address}`);
  }

  // -- transactions (T1-T7) -----------------------------------------------------------------------

  private inTransaction(conn: PeerConnection, tx: { queue: Buffer[][]; aborted: boolean }, args: Buffer[], name: string): Buffer | null {
    const words = args.length;
    if (name === 'EXEC' || name === 'DISCARD') {
      if (words !== 1) return this.undocumented(conn, `${name} with arguments`, args);
      if (this.keyspaceDeadlocked) return this.undocumented(conn, `${name} while the keyspace is deadlocked (T6 names only PING, PUBLISH, MULTI)`, args);
      conn.transaction = null;
      if (name === 'DISCARD') return OK; // the doc names DISCARD but not its reply: Redis's +OK
      return tx.aborted ? EXECABORT : this.exec(conn, tx.queue);
    }
    if (NOT_IN_TRANSACTION.has(name)) return error(`ERR command '${name} cannot be used in a transaction`);
    if (this.keyspaceDeadlocked) return this.undocumented(conn, 'queueing while the keyspace is deadlocked (T6 names only PING, PUBLISH, MULTI)', args);
    const arityOk = TRANSACTION_ARITY[name];
    if (arityOk !== undefined && !arityOk(words)) {
      if (this.mode === 'follower' && WRITES.has(name)) {
        return this.undocumented(conn, `${name} of the wrong arity queued on a follower (read-only check or arity check first?)`, args);
      }
      tx.aborted = true;
      return error(`wrong number of arguments for '${name.toLowerCase()}' command`);
    }
    tx.queue.push(args);
    return QUEUED;
  }

  /** EXEC: each queued command, locally, with the texts GoCache uses inside a transaction (T3, T7). */
  private exec(conn: PeerConnection, queue: Buffer[][]): Buffer | null {
    const replies: Buffer[] = [];
    for (const queued of queue) {
      const name = (queued[0] as Buffer).toString('latin1');
      let reply: Buffer | null;
      switch (name) {
        case 'PING':
          reply = PONG;
          break;
        case 'GET':
          reply = this.get(queued[1] as Buffer);
          break;
        case 'SET': {
          const parsed = this.parseSet(queued, true);
          if (parsed.kind === 'undocumented') return this.undocumented(conn, `inside EXEC, ${parsed.what}`, queued);
          reply = parsed.kind === 'error' ? parsed.reply : this.set(queued[1] as Buffer, queued[2] as Buffer, parsed.seconds);
          break;
        }
        case 'DEL':
          reply = this.del(queued[1] as Buffer);
          break;
        case 'DBSIZE':
          // T6: EXEC holds the keyspace lock and DBSIZE waits for it forever.
          this.record(conn, 'misuse', 'DBSIZE inside MULTI/EXEC: GoCache deadlocks its keyspace (no reply; GET/SET/DBSIZE hang everywhere)', queued);
          this.keyspaceDeadlocked = true;
          conn.hungOn = queued;
          return null;
        default:
          reply = error(`ERR unknown command '${name}'`);
      }
      replies.push(reply);
    }
    return array(replies);
  }

  // -- the deadlocked keyspace (T6) ---------------------------------------------------------------

  private whileDeadlocked(conn: PeerConnection, args: Buffer[], name: string): Buffer | null {
    if (conn.subscriptions.size > 0) {
      if (name === 'PING') return PONG;
    } else if (name === 'PING' || name === 'PUBLISH' || name === 'MULTI') {
      return this.execute(conn, args, name);
    } else if (this.hangsOnKeyspace(args, name)) {
      conn.hungOn = args; // blocked on the keyspace lock: this connection answers nothing more
      return null;
    }
    return this.undocumented(conn, `${JSON.stringify(name)} while the keyspace is deadlocked (T6 names only GET, SET, DBSIZE hanging and PING, PUBLISH, MULTI answering)`, args);
  }

  /** The documented hangs (T6): a well-formed GET, DBSIZE, or a SET GoCache would apply (not on a follower: READONLY or hang?). */
  private hangsOnKeyspace(args: Buffer[], name: string): boolean {
    if (name === 'GET') return args.length === 2;
    if (name === 'DBSIZE') return true;
    if (name !== 'SET' || this.mode === 'follower' || args.length < 3 || args.length > 5) return false;
    return this.parseSet(args, false).kind === 'ttl';
  }

  // -- subscriber mode (P6, P7) -------------------------------------------------------------------

  private inSubscriberMode(conn: PeerConnection, args: Buffer[], name: string): Buffer | null {
    if (name === 'SUBSCRIBE' || name === 'UNSUBSCRIBE') return this.execute(conn, args, name);
    if (name === 'PING') return PONG;
    if (name === 'PSUBSCRIBE') return error(`ERR Unknown command '${name}'`);
    if (REFUSED_WHILE_SUBSCRIBED.has(name)) {
      if (this.mode === 'follower' && WRITES.has(name)) {
        return this.undocumented(conn, `${name} on a follower in subscriber mode (read-only check or subscriber check first?)`, args);
      }
      return SUBSCRIBER_ONLY;
    }
    return this.undocumented(conn, `${JSON.stringify(name)} in subscriber mode (the doc answers only PSUBSCRIBE as unknown there, and QUIT has no documented reply)`, args);
  }

  // -- one command outside a transaction ----------------------------------------------------------

  private execute(conn: PeerConnection, args: Buffer[], name: string): Buffer | null {
    const words = args.length;
    switch (name) {
      case 'PING':
        return PONG;
      case 'GET':
        if (words !== 2) return LENGTH_MISMATCH;
        return this.get(args[1] as Buffer);
      case 'SET': {
        if (this.mode === 'follower') return READONLY; // before arity (E4)
        if (words < 3 || words > 5) return LENGTH_MISMATCH;
        const parsed = this.parseSet(args, false);
        if (parsed.kind === 'undocumented') return this.undocumented(conn, parsed.what, args);
        return parsed.kind === 'error' ? parsed.reply : this.set(args[1] as Buffer, args[2] as Buffer, parsed.seconds);
      }
      case 'DEL':
        if (this.mode === 'follower') return READONLY;
        if (words !== 2) return LENGTH_MISMATCH;
        return this.del(args[1] as Buffer);
      case 'DBSIZE':
        return integer(this.store.size); // expired keys included: GoCache never purges them
      case 'MULTI':
        if (words !== 1) return this.undocumented(conn, 'MULTI with arguments', args);
        conn.transaction = { queue: [], aborted: false };
        return OK;
      case 'EXEC':
      case 'DISCARD':
        if (words !== 1) return this.undocumented(conn, `${name} with arguments`, args);
        return error(`ERR ${name} without MULTI`);
      case 'PUBLISH':
        if (words !== 3) return this.undocumented(conn, `PUBLISH with ${words - 1} argument(s) (only PUBLISH channel message is documented)`, args);
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
        let channels: Buffer[];
        if (words === 1) {
          // P3: random order, one frame per held channel; nothing at all when none is held.
          const held = [...conn.subscriptions];
          for (let i = held.length - 1; i > 0; i--) {
            const j = Math.floor(conn.random() * (i + 1));
            [held[i], held[j]] = [held[j]!, held[i]!];
          }
          channels = held.map((c) => Buffer.from(c, 'latin1'));
        } else {
          channels = args.slice(1); // several channels: one frame each, in the order given
        }
        if (channels.length === 0) return null;
        const frames = channels.map((channel) => {
          conn.subscriptions.delete(channel.toString('latin1'));
          return subscriptionFrame('unsubscribe', channel, conn.subscriptions.size);
        });
        return Buffer.concat(frames);
      }
      case 'CLUSTER':
        return this.clusterCommand(conn, args);
      default:
        return error(`ERR Unknown command '${name}'`);
    }
  }

  /** SET's options (C3, E2, E3, T3): the TTL, GoCache's error reply, or what the document does not describe. Arity is the caller's. */
  private parseSet(args: Buffer[], inTx: boolean): SetOptions {
    if (args.length === 3) return { kind: 'ttl', seconds: 0 };
    const notInteger = error(inTx ? 'ERR value is not an integer or out of range' : 'ERR value is not an integer');
    if (args.length === 4) {
      const seconds = parseGoInt(args[3] as Buffer);
      if (seconds !== null) return { kind: 'ttl', seconds };
      return { kind: 'error', reply: inTx ? notInteger : error("Couldn't convert seconds to a string") };
    }
    const token = (args[3] as Buffer).toString('latin1');
    if (token === 'PX') return { kind: 'error', reply: error('ERR syntax error') };
    if (token !== 'EX' && token !== 'ex') return { kind: 'undocumented', what: `SET with option token ${JSON.stringify(token)} (only EX, ex and PX are documented)` };
    const seconds = parseGoInt(args[4] as Buffer);
    return seconds === null ? { kind: 'error', reply: notInteger } : { kind: 'ttl', seconds };
  }

  private get(keyBytes: Buffer): Buffer {
    const key = keyBytes.toString('latin1');
    const entry = this.store.get(key);
    if (entry === undefined || (entry.expiresAt !== null && entry.expiresAt <= Date.now())) return bulk(null);
    this.store.delete(key); // LRU: most recently used goes last
    this.store.set(key, entry);
    return bulk(entry.value);
  }

  private set(key: Buffer, value: Buffer, seconds: number): Buffer {
    const entry: StoredValue = { value, expiresAt: seconds > 0 ? Date.now() + seconds * 1000 : null };
    this.put(key.toString('latin1'), entry);
    for (const replica of this.replicas) if (replica.running) replica.put(key.toString('latin1'), { ...entry });
    return OK;
  }

  private del(key: Buffer): Buffer {
    this.store.delete(key.toString('latin1'));
    for (const replica of this.replicas) if (replica.running) replica.store.delete(key.toString('latin1'));
    return integer(1); // always 1, even for a missing key
  }

  put(key: string, entry: StoredValue): void {
    if (this.store.has(key)) this.store.delete(key);
    else if (this.store.size >= (this.options.maxKeys ?? 1000)) {
      const oldest = this.store.keys().next();
      if (oldest.done !== true) this.store.delete(oldest.value);
    }
    this.store.set(key, entry);
  }

  private publish(channel: Buffer, message: Buffer): number {
    const name = channel.toString('latin1');
    const frame = array([bulk(MESSAGE), bulk(channel), bulk(message)]);
    let receivers = 0;
    for (const conn of this.connections) {
      if (conn.closed || !conn.subscriptions.has(name)) continue;
      if (conn.offerPush(frame)) receivers++;
    }
    return receivers;
  }

  // -- CLUSTER (F7, K4, K6-K9) --------------------------------------------------------------------

  private clusterCommand(conn: PeerConnection, args: Buffer[]): Buffer | null {
    if (args.length < 2) return this.undocumented(conn, 'CLUSTER without a subcommand', args);
    const sub = (args[1] as Buffer).toString('latin1');
    if (/[a-z]/.test(sub)) {
      this.record(conn, 'misuse', `CLUSTER subcommand not upper-case: ${JSON.stringify(sub)}`, args);
      return UNKNOWN_CLUSTER_SUBCOMMAND;
    }
    const view = this.clusterView;
    const canned = this.options.clusterNodes;
    const inCluster = view !== null || canned !== undefined;
    if (sub === 'NODES' || sub === 'HEALTH') {
      if (args.length !== 2) return this.undocumented(conn, `CLUSTER ${sub} with arguments`, args);
      if (canned !== undefined) return bulk(Buffer.from(canned, 'utf8'));
      if (view === null) return sub === 'NODES' ? error('Cluster is not initialized') : this.undocumented(conn, 'CLUSTER HEALTH on a node not in cluster mode', args);
      return bulk(Buffer.from(this.nodeLines(view, sub === 'NODES'), 'utf8'));
    }
    if (CLUSTER_MEMBERSHIP.has(sub)) {
      if (!inCluster) {
        this.fatal(conn, `CLUSTER ${sub} on a node not in cluster mode`, 'crash', args);
        return null;
      }
      if (sub === 'ADDNODE' && args.length < 4) return error('ADDNODE requires nodeID and address');
      if (sub === 'REMOVENODE' && args.length === 3 && !this.knownNodeIds().has((args[2] as Buffer).toString('latin1'))) return null;
      return this.undocumented(conn, `CLUSTER ${sub} in cluster mode (membership changes are not documented)`, args);
    }
    return UNKNOWN_CLUSTER_SUBCOMMAND;
  }

  private knownNodeIds(): Set<string> {
    if (this.clusterView !== null) return new Set(this.clusterView.nodes.map((n) => n.id));
    return new Set((this.options.clusterNodes ?? '').split('\n').filter((l) => l !== '').map((l) => l.split(' ')[0]!));
  }

  private nodeLines(view: ClusterView, withSelf: boolean): string {
    const self = this.clusterSelf!;
    let text = '';
    for (const node of view.nodes) {
      if (node.id === self.id && !withSelf) continue;
      const dead = node.id === self.id || (self.role === 'follower' && node.id === self.leaderId) || !node.peer.running;
      text += `${node.id} ${node.peer.address} ${dead ? 'dead' : 'alive'}\n`;
    }
    return text;
  }
}

function subscriptionFrame(kind: 'subscribe' | 'unsubscribe', channel: Buffer, count: number): Buffer {
  return array([bulk(Buffer.from(kind)), bulk(channel), integer(count)]);
}

/**
 * Makes `follower` receive `leader`'s writes (null: none). A new source's store is copied first, as a
 * follower's initial sync would. For gocache-cluster.ts; tests use `followerOf`.
 */
export function setReplicationSource(follower: GoCachePeer, leader: GoCachePeer | null): void {
  if (!(follower instanceof GoCachePeerServer) || (leader !== null && !(leader instanceof GoCachePeerServer))) {
    throw new Error('gocache-peer: peers from startGoCachePeer only');
  }
  follower.replicationSource?.replicas.delete(follower);
  follower.replicationSource = leader;
  if (leader === null) return;
  leader.replicas.add(follower);
  for (const [key, entry] of leader.store) follower.put(key, { ...entry });
}

/** Puts `peer` in cluster mode as `selfId` of `view` (for gocache-cluster.ts). */
export function joinCluster(peer: GoCachePeer, view: ClusterView, selfId: string): void {
  if (!(peer instanceof GoCachePeerServer)) throw new Error('gocache-peer: peers from startGoCachePeer only');
  const self = view.nodes.find((n) => n.id === selfId);
  if (self === undefined) throw new Error(`gocache-peer: ${selfId} is not in the cluster`);
  peer.clusterView = view;
  peer.clusterSelf = self;
}

/** Calls `listener` each time `peer` stops (crash or kill), after its connections are cut (for gocache-cluster.ts). */
export function onPeerStopped(peer: GoCachePeer, listener: () => void): void {
  if (!(peer instanceof GoCachePeerServer)) throw new Error('gocache-peer: peers from startGoCachePeer only');
  peer.stopListeners.push(listener);
}

/** Starts a scripted GoCache peer on 127.0.0.1 (see the top of this file). Close it with `close()`. */
export async function startGoCachePeer(options: GoCachePeerOptions = {}): Promise<GoCachePeer> {
  const peer = new GoCachePeerServer(options);
  await peer.listen();
  return peer;
}
