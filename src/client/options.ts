/**
 * Client options: what a caller may give, and their checked, defaulted form. One place for every
 * option check, shared by the client, its subscriptions and its isolated connections. A bad option
 * (an unknown name from a JavaScript caller too) is a GoCacheArgumentError before any connection.
 *
 * The password never shows: it is a non-enumerable property of the resolved options (so
 * `JSON.stringify`, `console.log` and `util.inspect` leave it out), and URLs in messages are shown
 * without their credentials.
 */
import type { LookupFunction } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { GoCacheArgumentError } from '../runtime/errors.js';
import type { RespParserOptions } from '../runtime/resp/parser.js';
import type { ServerKind } from '../runtime/types.js';

/** GoCache's own port (its config's default); GoCache's Python client wrongly defaulted to 6379. */
export const DEFAULT_PORT = 7000;
/** Redis's port, the default for a Redis client. */
export const DEFAULT_REDIS_PORT = 6379;

/**
 * Decides whether to reconnect after `attempt` failed attempts (1 for the first reconnect) and how
 * long to wait first: milliseconds, or false (or an Error, which becomes the reason) to give up.
 */
export type RetryStrategy = (attempt: number, error: Error) => number | false | Error;

/**
 * The default: exponential backoff, 50 ms doubling to at most 2 s, with jitter (each delay drawn
 * between half and all of it, so clients cut by one restart do not all come back at once); never
 * gives up.
 */
export const defaultRetryStrategy: RetryStrategy = (attempt) => {
  const delay = Math.min(50 * 2 ** Math.min(attempt - 1, 16), 2_000);
  return Math.round(delay / 2 + (Math.random() * delay) / 2);
};

export interface OfflineQueueOptions {
  /** Commands queued at most while reconnecting; past it, a command rejects at once. Default 10,000. */
  maxLength?: number;
  /** Milliseconds a queued command waits for the link to come back before it rejects. Default 10,000. */
  timeout?: number;
}

/**
 * Reply limits: a reply past one is a GoCacheProtocolError naming the limit, and the connection closes.
 * @interface
 */
export type ReplyLimits = Pick<RespParserOptions, 'maxBulkLength' | 'maxAggregateLength' | 'maxDepth' | 'maxLineLength'>;

export interface ClientOptions {
  /** Default `localhost`. IPv6 literals as they are (`::1`), or in URLs in brackets (`redis://[::1]:6379`). */
  host?: string;
  /** Default 7000, GoCache's port (6379 for Redis). */
  port?: number;
  /** A Unix socket path instead of host and port (Redis; also `unix:///path/redis.sock?db=2`). */
  path?: string;
  /**
   * `gocache://host:port`, `redis://[[user]:password@]host:port[/db][?db=N]`, `rediss://` (TLS) or
   * `unix:///path[?db=N]`; explicit options win over what the URL says. `redis:`, `rediss:` and
   * `unix:` imply `server: 'redis'`.
   */
  url?: string;
  /**
   * The server the client talks to; default `gocache` (or `redis` for a Redis URL). With `gocache`,
   * nothing GoCache does not serve is ever sent: such calls reject with GoCacheArgumentError (and do
   * not compile), and multi-key DEL is sent as single-key DELs.
   */
  server?: ServerKind;
  /** RESP version: 2 (default, all GoCache speaks; no handshake) or 3 (sends `HELLO 3`; Redis ≥ 6). */
  protocol?: 2 | 3;
  /** Redis only: sent with HELLO (RESP3) or AUTH (RESP2) on every (re)connect. */
  username?: string;
  password?: string;
  /** Redis only: SELECT on every (re)connect. */
  database?: number;
  /** Redis only: CLIENT SETNAME on every (re)connect (HELLO ... SETNAME under RESP3). */
  clientName?: string;
  /** Redis only (GoCache has no TLS): `true`, or Node's `tls.connect` options (ca, cert, key, servername, rejectUnauthorized). */
  tls?: boolean | TlsOptions;
  /**
   * Put before every key the client sends (`tenant:42:`), as the spec marks keys: never before
   * values, channel names or shard channels. KEYS and SCAN's MATCH patterns get it too, so a client
   * only sees its own keys, and the keys that replies name (KEYS, SCAN, RANDOMKEY, BLPOP's key, ...)
   * come back without it (a SCAN page, even without MATCH, holds only keys under the prefix;
   * RANDOMKEY, which picks from the whole database, answers null for another prefix's key). Raw
   * `sendCommand` arguments, SORT's BY/GET patterns and key names inside Lua scripts are not changed.
   */
  keyPrefix?: string | Buffer;
  /** Milliseconds to wait for the TCP (and TLS) connection; default 10,000. */
  connectTimeout?: number;
  /**
   * Milliseconds a command may wait for its reply (GoCacheTimeoutError after); default 0, no limit.
   * One timer per connection, not per command. Timed-out commands that then see no byte back for
   * another commandTimeout mean a dead link: it is closed and reconnected.
   */
  commandTimeout?: number;
  /** Resolves `host` instead of the system resolver: Node's `net.connect` `lookup` function. */
  lookup?: LookupFunction;
  /** Reconnect after a lost connection (default true); false closes the client for good instead. */
  reconnect?: boolean;
  /** How long to wait before each reconnect, or when to give up; default `defaultRetryStrategy`. */
  retryStrategy?: RetryStrategy;
  /** Commands issued while reconnecting wait here (default on, bounded); false rejects them at once. */
  offlineQueue?: boolean | OfflineQueueOptions;
  /** Milliseconds of idleness after which a PING checks the link (and a failed one reconnects); default 0, off. */
  healthCheckInterval?: number;
  /** Milliseconds of silence before TCP keepalive probes start; default 15,000; 0 turns keepalive off. */
  keepAlive?: number;
  /** Milliseconds `close()` waits for the replies already asked for before closing anyway; default 5,000. */
  closeTimeout?: number;
  /** How many connections blocking commands (BLPOP, ...) may use at once, each its own; default 8. */
  isolationPoolSize?: number;
  /** Reply limits; the defaults are Redis's own bulk limit (512 MiB), 2^24 elements, depth 128, lines of 64 KiB. */
  limits?: ReplyLimits;
}

/** Options a client connected to GoCache accepts (GoCache has no AUTH, databases, names, TLS or RESP3). */
export type GoCacheClientOptions = Omit<ClientOptions, 'server' | 'username' | 'password' | 'database' | 'clientName' | 'protocol' | 'tls' | 'path'> & {
  server?: 'gocache';
  protocol?: 2;
};

/** A URL that makes a client a Redis client. */
export type RedisUrl = `redis://${string}` | `rediss://${string}` | `unix://${string}`;

type RedisOptionsBase = Omit<ClientOptions, 'server' | 'url' | 'protocol'>;

/**
 * Options of a client connected to Redis: `server: 'redis'`, a Redis URL, or protocol 3 (which
 * only Redis speaks). One interface per form: TypeScript infers a template literal URL as a
 * `redis://` one only against a plain object type.
 */
export interface RedisServerOptions extends RedisOptionsBase {
  server: 'redis';
  url?: string;
  protocol?: 2 | 3;
}
export interface RedisUrlOptions extends RedisOptionsBase {
  url: RedisUrl;
  server?: 'redis';
  protocol?: 2 | 3;
}
export interface Resp3Options extends RedisOptionsBase {
  protocol: 3;
  server?: 'redis';
  url?: string;
}
export type RedisClientOptions = RedisServerOptions | RedisUrlOptions | Resp3Options;

/** The options in force: defaults filled in, checked. `password`, when set, is not enumerable. */
export interface ResolvedOptions {
  host: string;
  port: number;
  path?: string;
  server: ServerKind;
  protocol: 2 | 3;
  username?: string;
  readonly password?: string;
  database?: number;
  clientName?: string;
  tls?: TlsOptions;
  keyPrefix?: string | Buffer;
  connectTimeout: number;
  commandTimeout: number;
  lookup?: LookupFunction;
  reconnect: boolean;
  retryStrategy: RetryStrategy;
  /** false, or its bounds. */
  offlineQueue: false | Required<OfflineQueueOptions>;
  healthCheckInterval: number;
  keepAlive: number;
  closeTimeout: number;
  isolationPoolSize: number;
  limits?: ReplyLimits;
}

const KNOWN: ReadonlySet<string> = new Set([
  'host', 'port', 'path', 'url', 'server', 'protocol', 'username', 'password', 'database', 'clientName', 'tls', 'keyPrefix',
  'connectTimeout', 'commandTimeout', 'lookup', 'reconnect', 'retryStrategy', 'offlineQueue', 'healthCheckInterval',
  'keepAlive', 'closeTimeout', 'isolationPoolSize', 'limits',
]);

const REDIS_ONLY = ['username', 'password', 'database', 'clientName', 'tls', 'path'] as const;

/** A URL with its credentials replaced, for messages. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');
}

interface FromUrl {
  host?: string;
  port?: number;
  path?: string;
  server?: ServerKind;
  username?: string;
  password?: string;
  database?: number;
  tls?: boolean;
}

function database(text: string, where: string, url: string): number {
  if (!/^\d+$/.test(text)) throw new GoCacheArgumentError(`The database in ${where} of ${redactUrl(url)} must be a number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseUrl(text: string): FromUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GoCacheArgumentError(`Not a valid URL: ${JSON.stringify(redactUrl(text))}`);
  }
  const scheme = url.protocol;
  if (!['gocache:', 'redis:', 'rediss:', 'unix:'].includes(scheme)) throw new GoCacheArgumentError(`Unsupported URL scheme "${scheme}" (use gocache:, redis:, rediss: or unix:)`);
  const out: FromUrl = { server: scheme === 'gocache:' ? 'gocache' : 'redis' };
  if (scheme === 'rediss:') out.tls = true;
  if (url.username) out.username = decodeURIComponent(url.username);
  if (url.password) out.password = decodeURIComponent(url.password);
  for (const key of url.searchParams.keys()) {
    if (key !== 'db') throw new GoCacheArgumentError(`Unknown URL parameter "${key}" in ${redactUrl(text)} (known: db)`);
  }
  const db = url.searchParams.get('db');
  if (scheme === 'unix:') {
    if (url.pathname.length <= 1) throw new GoCacheArgumentError(`A unix: URL needs a socket path: ${redactUrl(text)}`);
    out.path = decodeURIComponent(url.pathname);
    if (db !== null) out.database = database(db, '?db=', text);
    return out;
  }
  // URL keeps IPv6 literals in brackets: [::1].
  if (url.hostname) out.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.port) out.port = Number(url.port);
  const path = url.pathname.length > 1 ? url.pathname.slice(1) : '';
  if (path !== '') out.database = database(path, 'the path', text);
  if (db !== null) out.database = database(db, '?db=', text);
  return out;
}

const nonNegative = (value: number) => Number.isFinite(value) && value >= 0;

/** The options with some changed, the password kept (a spread would drop it: it is not enumerable). */
export function deriveOptions(options: ResolvedOptions, changes: Partial<Omit<ResolvedOptions, 'password'>>): ResolvedOptions {
  const derived = { ...options, ...changes } as ResolvedOptions;
  if (options.password !== undefined) Object.defineProperty(derived, 'password', { value: options.password, enumerable: false });
  return derived;
}

/** Checks and completes the options; throws GoCacheArgumentError, before any connection, for a bad one. */
export function resolveOptions(input: ClientOptions | string = {}): ResolvedOptions {
  if (typeof input !== 'string' && (typeof input !== 'object' || input === null)) throw new GoCacheArgumentError('The options must be an object or a URL string');
  const options: ClientOptions = typeof input === 'string' ? { url: input } : input;
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new GoCacheArgumentError(`Unknown option "${key}" (known: ${[...KNOWN].join(', ')})`);
  }
  const fromUrl: FromUrl = options.url !== undefined ? parseUrl(String(options.url)) : {};
  const protocol = options.protocol ?? 2;
  const path = options.path ?? fromUrl.path;
  const server = options.server ?? fromUrl.server ?? (protocol === 3 || path !== undefined || options.tls ? 'redis' : 'gocache');
  if (server !== 'gocache' && server !== 'redis') throw new GoCacheArgumentError(`server must be 'gocache' or 'redis', got ${String(server)}`);
  if (protocol !== 2 && protocol !== 3) throw new GoCacheArgumentError(`protocol must be 2 or 3, got ${String(protocol)}`);

  const offline = options.offlineQueue ?? true;
  const resolved: ResolvedOptions = {
    host: options.host ?? fromUrl.host ?? 'localhost',
    port: options.port ?? fromUrl.port ?? (server === 'redis' ? DEFAULT_REDIS_PORT : DEFAULT_PORT),
    server,
    protocol,
    connectTimeout: options.connectTimeout ?? 10_000,
    commandTimeout: options.commandTimeout ?? 0,
    reconnect: options.reconnect ?? true,
    retryStrategy: options.retryStrategy ?? defaultRetryStrategy,
    offlineQueue: offline === false ? false : { maxLength: 10_000, timeout: 10_000, ...(offline === true ? {} : offline) },
    healthCheckInterval: options.healthCheckInterval ?? 0,
    keepAlive: options.keepAlive ?? 15_000,
    closeTimeout: options.closeTimeout ?? 5_000,
    isolationPoolSize: options.isolationPoolSize ?? 8,
  };
  if (path !== undefined) resolved.path = path;
  if (options.keyPrefix !== undefined) {
    const prefix = options.keyPrefix;
    if (!(typeof prefix === 'string' || Buffer.isBuffer(prefix))) throw new GoCacheArgumentError(`keyPrefix must be a string or a Buffer, got ${typeof prefix}`);
    if (prefix.length > 0) resolved.keyPrefix = prefix;
  }
  if (options.lookup !== undefined) {
    if (typeof options.lookup !== 'function') throw new GoCacheArgumentError('lookup must be a function (the lookup option of net.connect)');
    resolved.lookup = options.lookup;
  }
  const tls = options.tls ?? fromUrl.tls;
  if (tls !== undefined && tls !== false) {
    if (tls !== true && (typeof tls !== 'object' || tls === null)) throw new GoCacheArgumentError('tls must be true or an object of tls.connect options');
    resolved.tls = tls === true ? {} : tls;
  }
  if (options.limits !== undefined) {
    if (typeof options.limits !== 'object' || options.limits === null) throw new GoCacheArgumentError('limits must be an object');
    for (const [key, value] of Object.entries(options.limits)) {
      if (!['maxBulkLength', 'maxAggregateLength', 'maxDepth', 'maxLineLength'].includes(key)) throw new GoCacheArgumentError(`Unknown limit "${key}" (known: maxBulkLength, maxAggregateLength, maxDepth, maxLineLength)`);
      if (!(Number.isSafeInteger(value) && (value as number) > 0)) throw new GoCacheArgumentError(`limits.${key} must be a positive integer, got ${String(value)}`);
    }
    resolved.limits = { ...options.limits };
  }
  const username = options.username ?? fromUrl.username;
  const password = options.password ?? fromUrl.password;
  const db = options.database ?? fromUrl.database;
  if (username !== undefined) resolved.username = username;
  if (db !== undefined) resolved.database = db;
  if (options.clientName !== undefined) resolved.clientName = options.clientName;
  if (password !== undefined) Object.defineProperty(resolved, 'password', { value: password, enumerable: false });

  if (path === undefined && (!Number.isInteger(resolved.port) || resolved.port <= 0 || resolved.port > 65535)) throw new GoCacheArgumentError(`Invalid port: ${resolved.port}`);
  if (db !== undefined && !(Number.isSafeInteger(db) && db >= 0)) throw new GoCacheArgumentError(`database must be a non-negative integer, got ${String(db)}`);
  for (const key of ['connectTimeout', 'commandTimeout', 'healthCheckInterval', 'keepAlive', 'closeTimeout'] as const) {
    if (!nonNegative(resolved[key])) throw new GoCacheArgumentError(`${key} must be a non-negative number of milliseconds, got ${String(resolved[key])}`);
  }
  if (!(Number.isSafeInteger(resolved.isolationPoolSize) && resolved.isolationPoolSize > 0)) throw new GoCacheArgumentError(`isolationPoolSize must be a positive integer, got ${String(resolved.isolationPoolSize)}`);
  if (typeof resolved.reconnect !== 'boolean') throw new GoCacheArgumentError('reconnect must be true or false');
  if (typeof resolved.retryStrategy !== 'function') throw new GoCacheArgumentError('retryStrategy must be a function (attempt, error) => delay | false');
  if (resolved.offlineQueue !== false) {
    const { maxLength, timeout } = resolved.offlineQueue;
    if (!(Number.isSafeInteger(maxLength) && maxLength >= 0)) throw new GoCacheArgumentError(`offlineQueue.maxLength must be a non-negative integer, got ${String(maxLength)}`);
    if (!nonNegative(timeout)) throw new GoCacheArgumentError(`offlineQueue.timeout must be a non-negative number of milliseconds, got ${String(timeout)}`);
  }
  if (resolved.server === 'gocache') {
    const redisOnly: string[] = REDIS_ONLY.filter((k) => (k === 'password' ? password !== undefined : resolved[k] !== undefined));
    if (protocol === 3) redisOnly.push('protocol 3');
    if (redisOnly.length > 0) {
      throw new GoCacheArgumentError(`GoCache has no ${redisOnly.join(', ')} (it speaks RESP2 over plain TCP only, with no AUTH, databases or client names); use { server: 'redis' } for Redis`);
    }
  }
  return resolved;
}
