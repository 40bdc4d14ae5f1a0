/**
 * The client: the generated commands (RedisClientCommands) over one Connection, with a `dispatch`
 * that sends, plus what the core drives itself: pipelines, transactions, subscriptions, scripts by
 * SHA. Its type follows the server it targets: `GoCacheClient<'gocache'>` (the default) has only the
 * commands and options GoCache serves, `GoCacheClient<'redis'>` every command of Redis.
 */
import { createHash } from 'node:crypto';
import type { GoCacheCommands } from '../../generated/gocache-commands.js';
import { decodeUnwatch, decodeWatch, UNWATCH, unwatchArgs, WATCH, watchArgs } from '../../generated/commands/transactions.js';
import { RedisClientCommands } from '../../generated/redis-commands.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheConnectionError } from '../runtime/errors.js';
import type { PromiseKind } from '../runtime/kind.js';
import type { ArgsBuilder, ArgsContext, CommandArg, CommandInfo, Decoder, RedisKey, RedisString, RedisValue, RespValue, ServerKind } from '../runtime/types.js';
import { Connection } from './connection.js';
import { buildWire, combineSplit } from './dispatch.js';
import { handshake } from './handshake.js';
import { resolveOptions, type ClientOptions, type GoCacheClientOptions, type RedisServerOptions, type RedisUrl, type RedisUrlOptions, type ResolvedOptions, type Resp3Options } from './options.js';
import { GoCacheWatchError, MultiImpl, PipelineImpl, type Multi, type Pipeline } from './pipeline.js';
import { openSubscription, type ChannelMessage, type PatternMessage, type Subscription } from './pubsub.js';
import { rawCommand } from './raw.js';

/** What a client (or its buffers view) has besides the commands, whatever the server. */
export interface ClientApi<T extends ServerKind, S extends string | Buffer> {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<ResolvedOptions>;
  /** The server the client targets: its type decides which commands exist. */
  readonly server: T;
  /**
   * Queues commands to send in one write; `exec()` resolves to their replies as a typed tuple.
   * ```ts
   * const [ok, value, n] = await client.pipeline().set('a', '1').get('a').incr('n').exec();
   * ```
   * A chain built in a loop keeps its starting type: give it, e.g. `client.pipeline<Array<string | null>>()`.
   */
  pipeline<R extends unknown[] = []>(): Pipeline<T, S, R>;
  /**
   * A transaction: MULTI, the queued commands and EXEC go out in one write; `exec()` resolves to the
   * typed replies. On GoCache, commands it refuses inside MULTI (PUBLISH, CLUSTER) and DBSIZE (which
   * deadlocks it there) are not part of the type, and are rejected before anything is sent.
   */
  multi<R extends unknown[] = []>(): Multi<T, S, R>;
  /**
   * Subscribes to channels on a connection of its own (the client keeps working) and resolves once
   * the server confirmed them. The subscription is an async iterable of `{ channel, message }`;
   * messages are buffered from the confirmation on, so none is lost before you iterate.
   * ```ts
   * await using news = await client.subscribe('news');
   * for await (const { channel, message } of news) console.log(channel, message);
   * ```
   */
  subscribe(...channels: [RedisString, ...RedisString[]]): Promise<Subscription<ChannelMessage<S>>>;
  /**
   * Sends any command, for what the spec does not cover yet. The name is upper-cased (GoCache only
   * knows upper-case names); the reply comes back raw (typed `X`, default RespValue): strings,
   * numbers, arrays, null, and server errors as rejections.
   */
  sendCommand<X = RespValue>(args: readonly CommandArg[]): Promise<X>;
}

/** What only a Redis client has besides the commands. */
export interface RedisApi<S extends string | Buffer> {
  /** Like subscribe(), for glob-style patterns: yields `{ pattern, channel, message }`. */
  psubscribe(...patterns: [RedisString, ...RedisString[]]): Promise<Subscription<PatternMessage<S>>>;
  /**
   * Runs a Lua script by its SHA1 (EVALSHA), so the script text crosses the network once; when the
   * server does not hold it yet (NOSCRIPT, e.g. after a restart or SCRIPT FLUSH) it is sent with
   * EVAL, which also caches it.
   */
  runScript(script: string, keys?: readonly RedisKey[], args?: readonly RedisValue[]): Promise<RespValue>;
}

/** The commands of a client whose bulk strings decode as `S`, for the server `T`. */
export type ClientCommands<T extends ServerKind, S extends string | Buffer> = T extends 'redis' ? RedisClientCommands<S> & RedisApi<S> : GoCacheCommands<S, PromiseKind>;

/** The same commands as the client, with bulk-string replies as Buffers (binary-safe): `client.buffers`. */
export type GoCacheBuffers<T extends ServerKind = 'gocache'> = T extends ServerKind ? ClientApi<T, Buffer> & ClientCommands<T, Buffer> : never;

/** The client's own lifecycle. */
export interface ClientLifecycle<T extends ServerKind> {
  /** The same commands, with bulk-string replies as Buffers (binary-safe). */
  readonly buffers: GoCacheBuffers<T>;
  /** True until `close()` or a lost connection. */
  readonly isOpen: boolean;
  /** Waits for the replies already asked for, then closes. Later commands reject with GoCacheConnectionError. */
  close(): Promise<void>;
  /** Closes now: pending commands reject with GoCacheConnectionError. */
  disconnect(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What only a Redis client has: optimistic transactions. */
export interface RedisClientApi {
  /**
   * An optimistic transaction: on a connection of its own, WATCHes `keys`, lets `build` read with
   * that connection's client and return a transaction, and runs it; when a watched key changed
   * meanwhile (EXEC answers null) it starts over, up to `retries` times, then rejects with
   * GoCacheWatchError.
   * ```ts
   * const [balance] = await client.watch(['balance'], async (tx) => {
   *   const now = Number(await tx.get('balance'));
   *   return tx.multi().set('balance', String(now - 10)).get('balance');
   * });
   * ```
   */
  watch<R extends unknown[]>(keys: readonly RedisKey[], build: (tx: GoCacheClient<'redis'>) => Promise<Multi<'redis', string, R>> | Multi<'redis', string, R>, options?: { retries?: number }): Promise<R>;
}

/**
 * A client for GoCache (or Redis). Every command is a typed method; commands issued in the same tick
 * share one socket write.
 *
 * ```ts
 * await using cache = await GoCacheClient.connect({ host: 'localhost', port: 7000 });
 * await cache.set('user:1000', 'Eric', { ex: 60 });
 * await cache.get('user:1000'); // 'Eric'
 * ```
 */
export type GoCacheClient<T extends ServerKind = 'gocache'> = T extends 'redis'
  ? ClientApi<T, string> & ClientLifecycle<T> & RedisClientCommands<string> & RedisApi<string> & RedisClientApi
  : ClientApi<T, string> & ClientLifecycle<T> & GoCacheCommands<string, PromiseKind>;

/** A client connected with `server: 'redis'` (or a `redis://` URL). */
export type RedisClient = GoCacheClient<'redis'>;

/** `GoCacheClient.connect`: the client's type follows the server the options name. */
export interface GoCacheClientFactory {
  /** A `redis://` URL: a Redis client. */
  connect(url: RedisUrl): Promise<GoCacheClient<'redis'>>;
  /** `server: 'redis'`: a Redis client with every Redis command. */
  connect(options: RedisServerOptions): Promise<GoCacheClient<'redis'>>;
  /** A `redis://` URL: a Redis client. */
  connect(options: RedisUrlOptions): Promise<GoCacheClient<'redis'>>;
  /** Protocol 3, which only Redis speaks: a Redis client. */
  connect(options: Resp3Options): Promise<GoCacheClient<'redis'>>;
  /** GoCache (the default): the commands and options GoCache serves; connects to localhost:7000 by default. */
  connect(options?: GoCacheClientOptions | string): Promise<GoCacheClient<'gocache'>>;
  /** A server only known at run time: the client's type is the union of both, told apart by `client.server`. */
  connect(options: ClientOptions & { server: ServerKind }): Promise<GoCacheClient<ServerKind>>;
  readonly prototype: GoCacheClient<ServerKind>;
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

/** The commands over a connection, bulk strings decoded as `S`: the client and its buffers view. */
abstract class CommandClient<S extends string | Buffer> extends RedisClientCommands<S> {
  protected abstract readonly buffersMode: boolean;

  constructor(
    protected readonly connection: Connection,
    readonly options: Readonly<ResolvedOptions>,
    protected readonly context: ArgsContext,
  ) {
    super();
  }

  get server(): ServerKind {
    return this.options.server;
  }

  /** Sends the command (several, summed, where GoCache takes one element at a time); a bad argument rejects. */
  protected override dispatch(info: CommandInfo, build: ArgsBuilder, decode: Decoder): never {
    let wires: CommandArg[][];
    try {
      wires = buildWire(info, build, this.context);
    } catch (error) {
      return Promise.reject(error) as never;
    }
    if (wires.length === 1) return this.connection.send(info.name, wires[0]!, decode, this.buffersMode) as never;
    return Promise.all(wires.map((wire) => this.connection.send(info.name, wire, decode, this.buffersMode))).then((replies) => combineSplit(info, replies)) as never;
  }

  pipeline(): PipelineImpl<S> {
    return new PipelineImpl<S>(this.connection, this.context, this.buffersMode);
  }

  multi(): MultiImpl<S> {
    return new MultiImpl<S>(this.connection, this.context, this.buffersMode);
  }

  subscribe(...channels: RedisString[]): Promise<Subscription<ChannelMessage<S>>> {
    return openSubscription(this.options, 'channel', channels, { buffers: this.buffersMode }) as Promise<Subscription<ChannelMessage<S>>>;
  }

  psubscribe(...patterns: RedisString[]): Promise<Subscription<PatternMessage<S>>> {
    return openSubscription(this.options, 'pattern', patterns, { buffers: this.buffersMode }) as Promise<Subscription<PatternMessage<S>>>;
  }

  async runScript(script: string, keys: readonly RedisKey[] = [], args: readonly RedisValue[] = []): Promise<RespValue> {
    try {
      return await this.evalsha(scriptSha1(script), keys, ...args);
    } catch (error) {
      if (error instanceof GoCacheCommandError && error.code === 'NOSCRIPT') return this.eval(script, keys, ...args);
      throw error;
    }
  }

  sendCommand<X = RespValue>(args: readonly CommandArg[]): Promise<X> {
    const raw = rawCommand(args);
    return this.dispatch(raw.info, raw.build, raw.decode);
  }
}

class BuffersImpl extends CommandClient<Buffer> {
  protected override readonly buffersMode = true;
}

class ClientImpl extends CommandClient<string> {
  protected override readonly buffersMode = false;
  readonly buffers: BuffersImpl;

  private constructor(connection: Connection, options: Readonly<ResolvedOptions>) {
    const context: ArgsContext = { server: options.server };
    super(connection, options, context);
    this.buffers = new BuffersImpl(connection, options, context);
  }

  /** Connects, and runs the handshake only when one is configured (GoCache gets nothing on connect). */
  static async connect(options?: ClientOptions | string): Promise<ClientImpl> {
    const resolved = resolveOptions(options);
    const connection = await Connection.open(resolved);
    try {
      await handshake(connection, resolved);
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return new ClientImpl(connection, resolved);
  }

  async watch(keys: readonly RedisKey[], build: (tx: ClientImpl) => Promise<MultiImpl<string>> | MultiImpl<string>, options: { retries?: number } = {}): Promise<unknown[]> {
    const retries = options.retries ?? 10;
    if (!Number.isSafeInteger(retries) || retries < 0) throw new GoCacheArgumentError(`watch(): retries must be a non-negative integer, got ${String(retries)}`);
    const args = watchArgs(this.context, keys);
    const isolated = await ClientImpl.connect(this.options);
    try {
      for (let attempt = 0; ; attempt++) {
        await isolated.connection.send(WATCH.name, args, decodeWatch);
        const multi = await build(isolated);
        if (!(multi instanceof MultiImpl) || multi.sentOn !== isolated.connection) {
          await isolated.connection.send(UNWATCH.name, unwatchArgs(this.context), decodeUnwatch);
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

  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  disconnect(): void {
    this.connection.destroy(new GoCacheConnectionError('The client was disconnected'));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Connects a client: `await GoCacheClient.connect()` (GoCache on localhost:7000),
 * `GoCacheClient.connect({ server: 'redis', port: 6379 })`, `GoCacheClient.connect('redis://host:6379/0')`.
 * `instanceof GoCacheClient` tells a client apart.
 */
export const GoCacheClient: GoCacheClientFactory = ClientImpl as unknown as GoCacheClientFactory;
