/**
 * Client options: what a caller may give, and their checked, defaulted form. One place for every
 * option check, shared by the client, its subscriptions and its isolated connections.
 */
import type { LookupFunction } from 'node:net';
import { GoCacheArgumentError } from '../runtime/errors.js';
import type { ServerKind } from '../runtime/types.js';

/** GoCache's own port (its config's default); GoCache's Python client wrongly defaulted to 6379. */
export const DEFAULT_PORT = 7000;
/** Redis's port, the default for a `redis://` URL. */
export const DEFAULT_REDIS_PORT = 6379;

export interface ClientOptions {
  /** Default `localhost`. */
  host?: string;
  /** Default 7000, GoCache's port (6379 for a `redis://` URL). */
  port?: number;
  /**
   * `gocache://host:port` or `redis://[[user]:password@]host:port[/db]`; host and port from the URL
   * override neither explicit `host` nor `port`. A `redis:` URL implies `server: 'redis'`.
   */
  url?: string;
  /**
   * The server the client talks to; default `gocache` (or `redis` for a `redis:` URL). With
   * `gocache`, nothing GoCache does not serve is ever sent: such calls reject with
   * GoCacheArgumentError (and do not compile), and multi-key DEL is sent as single-key DELs.
   */
  server?: ServerKind;
  /** RESP version: 2 (default, all GoCache speaks; no handshake) or 3 (sends `HELLO 3`; Redis ≥ 6). */
  protocol?: 2 | 3;
  /** Redis only: sent with HELLO (RESP3) or AUTH (RESP2) on connect. */
  username?: string;
  password?: string;
  /** Redis only: SELECT on connect. */
  database?: number;
  /** Redis only: CLIENT SETNAME on connect (HELLO ... SETNAME under RESP3). */
  clientName?: string;
  /** Milliseconds to wait for the TCP connection; default 10,000. */
  connectTimeout?: number;
  /** Milliseconds a command may wait for its reply (GoCacheTimeoutError after); default 0, no limit. */
  commandTimeout?: number;
  /**
   * Resolves `host` instead of the system resolver: Node's `net.connect` `lookup` function (for a
   * service-discovery resolver, a pinned address, or a test that must not touch the network's DNS).
   */
  lookup?: LookupFunction;
}

/** Options a client connected to GoCache accepts (GoCache has no AUTH, databases, names or RESP3). */
export type GoCacheClientOptions = Omit<ClientOptions, 'server' | 'username' | 'password' | 'database' | 'clientName' | 'protocol'> & {
  server?: 'gocache';
  protocol?: 2;
};

/** A URL that makes a client a Redis client. */
export type RedisUrl = `redis://${string}`;

type RedisOptionsBase = Omit<ClientOptions, 'server' | 'url' | 'protocol'>;

/**
 * Options of a client connected to Redis: `server: 'redis'`, a `redis://` URL, or protocol 3 (which
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

/** The options in force: defaults filled in, checked. */
export interface ResolvedOptions {
  host: string;
  port: number;
  server: ServerKind;
  protocol: 2 | 3;
  username?: string;
  password?: string;
  database?: number;
  clientName?: string;
  connectTimeout: number;
  commandTimeout: number;
  lookup?: LookupFunction;
}

/** Checks and completes the options; throws GoCacheArgumentError, before any connection, for a bad one. */
export function resolveOptions(input: ClientOptions | string = {}): ResolvedOptions {
  const options: ClientOptions = typeof input === 'string' ? { url: input } : { ...input };
  let fromUrl: Partial<ResolvedOptions> = {};
  if (options.url !== undefined) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new GoCacheArgumentError(`Not a valid URL: ${JSON.stringify(options.url)}`);
    }
    if (!['gocache:', 'redis:'].includes(url.protocol)) throw new GoCacheArgumentError(`Unsupported URL scheme "${url.protocol}" (use gocache: or redis:)`);
    fromUrl = { host: url.hostname || undefined, server: url.protocol === 'redis:' ? 'redis' : 'gocache' } as Partial<ResolvedOptions>;
    if (url.port) fromUrl.port = Number(url.port);
    if (url.username) fromUrl.username = decodeURIComponent(url.username);
    if (url.password) fromUrl.password = decodeURIComponent(url.password);
    if (url.pathname.length > 1) fromUrl.database = Number(url.pathname.slice(1));
  }
  const protocol = options.protocol ?? 2;
  const server = options.server ?? fromUrl.server ?? (protocol === 3 ? 'redis' : 'gocache');
  const resolved: ResolvedOptions = {
    host: options.host ?? fromUrl.host ?? 'localhost',
    port: options.port ?? fromUrl.port ?? (server === 'redis' ? DEFAULT_REDIS_PORT : DEFAULT_PORT),
    server,
    protocol,
    connectTimeout: options.connectTimeout ?? 10_000,
    commandTimeout: options.commandTimeout ?? 0,
  };
  if (server !== 'gocache' && server !== 'redis') throw new GoCacheArgumentError(`server must be 'gocache' or 'redis', got ${String(server)}`);
  if (options.lookup !== undefined) {
    if (typeof options.lookup !== 'function') throw new GoCacheArgumentError('lookup must be a function (the lookup option of net.connect)');
    resolved.lookup = options.lookup;
  }
  for (const key of ['username', 'password', 'database', 'clientName'] as const) {
    const value = options[key] ?? fromUrl[key];
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  if (!Number.isInteger(resolved.port) || resolved.port <= 0 || resolved.port > 65535) throw new GoCacheArgumentError(`Invalid port: ${resolved.port}`);
  if (protocol !== 2 && protocol !== 3) throw new GoCacheArgumentError(`protocol must be 2 or 3, got ${String(protocol)}`);
  for (const key of ['connectTimeout', 'commandTimeout'] as const) {
    if (!(resolved[key] >= 0) || !Number.isFinite(resolved[key])) throw new GoCacheArgumentError(`${key} must be a non-negative number of milliseconds`);
  }
  if (resolved.server === 'gocache') {
    const redisOnly: string[] = (['username', 'password', 'database', 'clientName'] as const).filter((k) => resolved[k] !== undefined);
    if (protocol === 3) redisOnly.push('protocol 3');
    if (redisOnly.length > 0) {
      throw new GoCacheArgumentError(`GoCache has no ${redisOnly.join(', ')} (it speaks RESP2 only, with no AUTH, databases or client names); use { server: 'redis' } for Redis`);
    }
  }
  return resolved;
}
