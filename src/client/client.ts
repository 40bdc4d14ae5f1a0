/**
 * GoCacheClient: the typed commands of generated/methods.ts over one Connection, plus what the
 * core drives itself: pipelines, transactions, subscriptions, scripts by SHA.
 */
import { createHash } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { watchArgs, WATCH } from '../../generated/commands/transactions.js';
import { GoCacheCommands } from '../../generated/methods.js';
import { Connection } from './connection.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheConnectionError, GoCacheProtocolError } from '../runtime/errors.js';
import { GoCacheWatchError, Multi, Pipeline } from './pipeline.js';
import { openSubscription, type ChannelMessage, type PatternMessage, type Subscription } from './pubsub.js';
import type { CommandArg, CommandInfo, Decoder, RedisKey, RedisString, RedisValue, RespValue, ServerKind } from '../runtime/types.js';

/** GoCache's own port (its config's default); GoCache's Python client wrongly defaulted to 6379. */
export const DEFAULT_PORT = 7000;

export interface ClientOptions {
  /** Default `localhost`. */
  host?: string;
  /** Default 7000, GoCache's port. */
  port?: number;
  /**
   * `gocache://host:port` or `redis://[[user]:password@]host:port[/db]`; host and port from the URL
   * override neither explicit `host` nor `port`. A `redis:` URL implies `server: 'redis'`.
   */
  url?: string;
  /**
   * The server the client talks to; default `gocache` (or `redis` for a `redis:` URL or
   * `protocol: 3`). With `gocache`, nothing GoCache does not serve is ever sent: such calls reject
   * with GoCacheArgumentError, and multi-key DEL is sent as single-key DELs.
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

const rawReply: Decoder = (reply) => reply;

interface ResolvedOptions {
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

function resolveOptions(input: ClientOptions | string = {}): ResolvedOptions {
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
  const resolved: ResolvedOptions = {
    host: options.host ?? fromUrl.host ?? 'localhost',
    port: options.port ?? fromUrl.port ?? (fromUrl.server === 'redis' ? 6379 : DEFAULT_PORT),
    server: options.server ?? fromUrl.server ?? (protocol === 3 ? 'redis' : 'gocache'),
    protocol,
    connectTimeout: options.connectTimeout ?? 10_000,
    commandTimeout: options.commandTimeout ?? 0,
  };
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
    const redisOnly = (['username', 'password', 'database', 'clientName'] as const).filter((k) => resolved[k] !== undefined);
    if (protocol === 3) redisOnly.push('protocol' as never);
    if (redisOnly.length > 0) {
      throw new GoCacheArgumentError(`GoCache has no ${redisOnly.join(', ')} (it speaks RESP2 only, with no AUTH, databases or client names); use { server: 'redis' } for Redis`);
    }
  }
  return resolved;
}

const scriptShas = new Map<string, string>();

/** The SHA1 Redis names a script by; remembered, since a script is usually run many times. */
function scriptSha1(script: string): string {
  let sha = scriptShas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    if (scriptShas.size < 1000) scriptShas.set(script, sha);
  }
  return sha;
}

/** The commands, with bulk strings decoded as `S`; shared by the client and its buffers view. */
abstract class CommandsOverConnection<S extends string | Buffer> extends GoCacheCommands<S> {
  protected abstract readonly connection: Connection;
  protected abstract readonly buffers_: boolean;
  abstract readonly options: Readonly<ResolvedOptions>;

  /**
   * Subscribes to channels on a connection of its own (the client keeps working) and resolves once
   * the server confirmed them. The subscription is an async iterable of `{ channel, message }`;
   * messages are buffered from the confirmation on, so none is lost before you iterate.
   * ```ts
   * await using news = await client.subscribe('news');
   * for await (const { channel, message } of news) console.log(channel, message);
   * ```
   */
  subscribe(...channels: [RedisString, ...RedisString[]]): Promise<Subscription<ChannelMessage<S>>> {
    return openSubscription(this.options, 'channel', channels, { buffers: this.buffers_ }) as Promise<Subscription<ChannelMessage<S>>>;
  }

  /** Like subscribe(), for glob-style patterns: yields `{ pattern, channel, message }`. Redis only (GoCache has no patterns). */
  psubscribe(...patterns: [RedisString, ...RedisString[]]): Promise<Subscription<PatternMessage<S>>> {
    return openSubscription(this.options, 'pattern', patterns, { buffers: this.buffers_ }) as Promise<Subscription<PatternMessage<S>>>;
  }

  protected override execute<T>(info: CommandInfo, args: CommandArg[], decode: Decoder): Promise<T> {
    return this.connection.send<T>(info.name, args, decode, this.buffers_);
  }

  protected override async executeSplit<T>(info: CommandInfo, argLists: CommandArg[][], decode: Decoder, combine: 'sum'): Promise<T> {
    const replies = await Promise.all(argLists.map((args) => this.execute<number>(info, args, decode)));
    if (combine === 'sum') return replies.reduce((total, n) => total + n, 0) as T;
    throw new GoCacheArgumentError(`Unknown combination ${String(combine)}`);
  }

  /**
   * Queues commands to send in one write; `exec()` resolves to their replies as a typed tuple.
   * ```ts
   * const [ok, value, n] = await client.pipeline().set('a', '1').get('a').incr('n').exec();
   * ```
   * A chain built in a loop keeps its starting type: give it, e.g. `client.pipeline<Array<string | null>>()`.
   */
  pipeline<R extends unknown[] = []>(): Pipeline<S, R> {
    return new Pipeline<S, R>(this.connection, this.target, this.buffers_);
  }

  /**
   * A transaction: MULTI, the queued commands and EXEC go out in one write; `exec()` resolves to the
   * typed replies. On GoCache, commands it refuses inside MULTI (PUBLISH, CLUSTER) and DBSIZE (which
   * deadlocks it there) are rejected before anything is sent.
   */
  multi<R extends unknown[] = []>(): Multi<S, R> {
    return new Multi<S, R>(this.connection, this.target, this.buffers_);
  }

  /**
   * Runs a Lua script by its SHA1 (EVALSHA), so the script text crosses the network once; when the
   * server does not hold it yet (NOSCRIPT, e.g. after a restart or SCRIPT FLUSH) it is sent with
   * EVAL, which also caches it. Redis only.
   */
  async runScript(script: string, keys: readonly RedisKey[] = [], args: readonly RedisValue[] = []): Promise<RespValue> {
    try {
      return await this.evalsha(scriptSha1(script), keys, ...args);
    } catch (error) {
      if (error instanceof GoCacheCommandError && error.code === 'NOSCRIPT') return this.eval(script, keys, ...args);
      throw error;
    }
  }

  /**
   * Sends any command, for what the spec does not cover yet. The name is upper-cased (GoCache only
   * knows upper-case names); the reply comes back raw: strings, numbers, arrays, null, and server
   * errors as rejections.
   */
  sendCommand(args: readonly CommandArg[]): Promise<RespValue> {
    if (!Array.isArray(args) || args.length === 0) return Promise.reject(new GoCacheArgumentError('sendCommand needs a non-empty array: [name, ...args]'));
    const [name, ...rest] = args;
    if (typeof name !== 'string' || name.length === 0) return Promise.reject(new GoCacheArgumentError('sendCommand: the command name must be a non-empty string'));
    const upper = name.toUpperCase();
    return this.connection.send<RespValue>(upper, [upper, ...rest], rawReply, this.buffers_);
  }
}

/** Reads bulk strings as Buffers, byte for byte; obtained from `client.buffers`. */
export class GoCacheBuffers extends CommandsOverConnection<Buffer> {
  protected override readonly buffers_ = true;
  protected override readonly target: ServerKind;
  constructor(
    protected override readonly connection: Connection,
    override readonly options: Readonly<ResolvedOptions>,
  ) {
    super();
    this.target = options.server;
  }
}

/**
 * A client for GoCache (or any Redis-compatible server). Every command is a typed method; commands
 * issued in the same tick share one socket write.
 *
 * ```ts
 * await using cache = await GoCacheClient.connect({ host: 'localhost', port: 7000 });
 * await cache.set('user:1000', 'Eric', { ex: 60 });
 * await cache.get('user:1000'); // 'Eric'
 * ```
 */
export class GoCacheClient extends CommandsOverConnection<string> {
  protected override readonly buffers_ = false;
  protected override readonly target: ServerKind;
  /** The same commands, with bulk-string replies as Buffers (binary-safe). */
  readonly buffers: GoCacheBuffers;

  private constructor(
    protected override readonly connection: Connection,
    override readonly options: Readonly<ResolvedOptions>,
  ) {
    super();
    this.target = options.server;
    this.buffers = new GoCacheBuffers(connection, options);
  }

  /** Connects, and runs the handshake only when one is configured (GoCache gets nothing on connect). */
  static async connect(options?: ClientOptions | string): Promise<GoCacheClient> {
    const resolved = resolveOptions(options);
    const connection = await Connection.open(resolved);
    const client = new GoCacheClient(connection, resolved);
    try {
      await client.handshake();
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return client;
  }

  private async handshake(): Promise<void> {
    const { protocol, username, password, database, clientName } = this.options;
    const run = (args: CommandArg[]) => this.connection.send<RespValue>(String(args[0]), args, rawReply);
    if (protocol === 3) {
      const hello: CommandArg[] = ['HELLO', '3'];
      if (password !== undefined) hello.push('AUTH', username ?? 'default', password);
      if (clientName !== undefined) hello.push('SETNAME', clientName);
      const reply = await run(hello);
      if (!(reply instanceof Map)) throw new GoCacheProtocolError('HELLO 3 did not answer a map: the server does not speak RESP3');
    } else {
      if (password !== undefined) await run(username !== undefined ? ['AUTH', username, password] : ['AUTH', password]);
      if (clientName !== undefined) await run(['CLIENT', 'SETNAME', clientName]);
    }
    if (database !== undefined && database !== 0) await run(['SELECT', database]);
  }

  /**
   * An optimistic transaction (Redis): on a connection of its own, WATCHes `keys`, lets `build` read
   * with that connection's client and return a transaction, and runs it; when a watched key changed
   * meanwhile (EXEC answers null) it starts over, up to `retries` times, then rejects with
   * GoCacheWatchError.
   * ```ts
   * const [balance] = await client.watch(['balance'], async (tx) => {
   *   const now = Number(await tx.get('balance'));
   *   return tx.multi().set('balance', String(now - 10)).get('balance');
   * });
   * ```
   */
  async watch<R extends unknown[]>(keys: readonly RedisKey[], build: (tx: GoCacheClient) => Promise<Multi<string, R>> | Multi<string, R>, options: { retries?: number } = {}): Promise<R> {
    const retries = options.retries ?? 10;
    if (!Number.isSafeInteger(retries) || retries < 0) throw new GoCacheArgumentError(`watch(): retries must be a non-negative integer, got ${String(retries)}`);
    const args = watchArgs(this.target, keys);
    const isolated = await GoCacheClient.connect(this.options);
    try {
      for (let attempt = 0; ; attempt++) {
        await isolated.connection.send(WATCH.name, args, rawReply);
        const multi = await build(isolated);
        if (!(multi instanceof Multi) || multi['connection'] !== isolated.connection) {
          await isolated.connection.send('UNWATCH', ['UNWATCH'], rawReply);
          throw new GoCacheArgumentError('watch(): build must return a transaction made with the client it was given (tx.multi())');
        }
        multi.watched = true;
        try {
          return await multi.exec();
        } catch (error) {
          if (!(error instanceof GoCacheWatchError) || attempt >= retries) throw error;
        }
      }
    } finally {
      await isolated.close();
    }
  }

  /** True until `close()` or a lost connection. */
  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  /** Waits for the replies already asked for, then closes. Later commands reject with GoCacheConnectionError. */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** Closes now: pending commands reject with GoCacheConnectionError. */
  disconnect(): void {
    this.connection.destroy(new GoCacheConnectionError('The client was disconnected'));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

