/**
 * The client: the generated commands (RedisClientCommands) over one Connection, with a `dispatch`
 * that sends, plus what the core drives itself: pipelines, transactions, subscriptions, scripts by
 * SHA. Its type follows the server it targets: `GoCacheClient<'gocache'>` (the default) has only the
 * commands and options GoCache serves, `GoCacheClient<'redis'>` every command of Redis.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import type { GoCacheCommands } from '../../generated/gocache-commands.js';
import { decodeUnwatch, decodeWatch, UNWATCH, unwatchArgs, WATCH, watchArgs } from '../../generated/commands/transactions.js';
import { RedisClientCommands } from '../../generated/redis-commands.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheConnectionError } from '../runtime/errors.js';
import type { PromiseKind } from '../runtime/kind.js';
import type { ArgsBuilder, ArgsContext, CommandArg, CommandInfo, Decoder, PairsInput, RedisKey, RedisString, RedisValue, RespValue, ServerKind } from '../runtime/types.js';
import { buildWire, combineSplit, unprefixedDecoder } from './dispatch.js';
import { IsolatedPool } from './isolated.js';
import { deriveOptions, resolveOptions, type ClientOptions, type GoCacheClientOptions, type RedisServerOptions, type RedisUrl, type RedisUrlOptions, type ResolvedOptions, type Resp3Options } from './options.js';
import { GoCacheWatchError, MultiImpl, PipelineImpl, type Multi, type Pipeline } from './pipeline.js';
import { Monitor, type MonitorConfig } from './monitor.js';
import { readGroup, readStreams, type GroupEntry, type GroupIteratorOptions, type StreamCommands, type StreamEntry, type StreamIteratorOptions } from './streams.js';
import { traceTarget, tracing, type TraceTarget } from './tracing.js';
import { openSubscription, type ChannelMessage, type PatternMessage, type Subscription } from './pubsub.js';
import { rawCommand } from './raw.js';
import { ReconnectingConnection, type LinkEvents, type LinkState } from './reconnecting.js';

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
  /**
   * The same commands, each cancelled when `signal` aborts: it then rejects with GoCacheAbortError
   * (not sent at all if it was still queued; if it was sent, its late reply is dropped; a blocking
   * command's own connection is closed). Costs nothing for commands sent without a signal.
   * ```ts
   * await client.withSignal(AbortSignal.timeout(500)).get('k');
   * ```
   */
  withSignal(signal: AbortSignal): ClientView<T, S>;
}

/** What only a Redis client has besides the commands. */
export interface RedisApi<S extends string | Buffer> {
  /** Like subscribe(), for glob-style patterns: yields `{ pattern, channel, message }`. */
  psubscribe(...patterns: [RedisString, ...RedisString[]]): Promise<Subscription<PatternMessage<S>>>;
  /**
   * Like subscribe(), for Redis 7 shard channels (SSUBSCRIBE): yields `{ channel, message }` of what
   * SPUBLISH posts. On one node it behaves like subscribe(); through a cluster client each shard
   * channel is subscribed on the node that owns its slot.
   */
  ssubscribe(...channels: [RedisKey, ...RedisKey[]]): Promise<Subscription<ChannelMessage<S>>>;
  /**
   * MONITOR on a connection of its own: every command the server processes, as an async iterable of
   * `{ time, database, source, args, raw }`. For debugging: MONITOR slows the server down.
   * ```ts
   * await using monitor = await redis.monitor();
   * for await (const { args } of monitor) console.log(args.join(' '));
   * ```
   */
  monitor(config?: MonitorConfig): Promise<Monitor>;
  /**
   * Runs a Lua script by its SHA1 (EVALSHA), so the script text crosses the network once; when the
   * server does not hold it yet (NOSCRIPT, e.g. after a restart or SCRIPT FLUSH) it is sent with
   * EVAL, which also caches it.
   */
  runScript(script: string, keys?: readonly RedisKey[], args?: readonly RedisValue[]): Promise<RespValue>;
  /**
   * Calls a Redis Function (FCALL), loading its library first when the server does not have it (a new
   * server, or after FUNCTION FLUSH): `library` is the library's code, with its `#!lua name=...` line.
   */
  runFunction(library: string, name: string, keys?: readonly RedisKey[], args?: readonly RedisValue[]): Promise<RespValue>;
  /**
   * Follows streams from the given ids (`'$'`: new entries only, `'0'`: from the start), one entry at a
   * time; waits with XREAD BLOCK on a connection of its own. Ends when `options.signal` aborts.
   * ```ts
   * for await (const { stream, id, fields } of redis.xreadIterator({ events: '$' })) console.log(stream, id, fields);
   * ```
   */
  xreadIterator(streams: PairsInput<RedisKey, RedisString>, options?: StreamIteratorOptions): AsyncGenerator<StreamEntry<S>, void, undefined>;
  /**
   * Consumes streams as `consumer` of consumer group `group` (XREADGROUP; the group must exist: XGROUP
   * CREATE). First the consumer's own pending entries, then new ones; each entry is acknowledged once
   * the loop asks for the next (`ack: 'manual'`: call `entry.ack()`), so one whose processing throws
   * stays pending for another consumer to claim.
   * ```ts
   * for await (const job of redis.xreadgroupIterator('workers', 'worker-1', ['jobs'])) await handle(job.fields);
   * ```
   */
  xreadgroupIterator(group: RedisString, consumer: RedisString, keys: readonly RedisKey[], options?: GroupIteratorOptions): AsyncGenerator<GroupEntry<S>, void, undefined>;
}

/** The commands of a client whose bulk strings decode as `S`, for the server `T`. */
export type ClientCommands<T extends ServerKind, S extends string | Buffer> = T extends 'redis' ? RedisClientCommands<S> & RedisApi<S> : GoCacheCommands<S, PromiseKind>;

/** A client's commands and API, without its lifecycle: the buffers view, a view with a signal. */
export type ClientView<T extends ServerKind, S extends string | Buffer> = T extends ServerKind ? ClientApi<T, S> & ClientCommands<T, S> : never;

/** The same commands as the client, with bulk-string replies as Buffers (binary-safe): `client.buffers`. */
export type GoCacheBuffers<T extends ServerKind = 'gocache'> = ClientView<T, Buffer>;

/** The client's own lifecycle. */
export interface ClientLifecycle<T extends ServerKind> {
  /** The same commands, with bulk-string replies as Buffers (binary-safe). */
  readonly buffers: GoCacheBuffers<T>;
  /**
   * `connecting`, `ready`, `reconnecting` (the socket was lost: commands wait in the offline queue) or
   * `closed` (for good: close(), disconnect(), `reconnect: false`, or the retry strategy gave up).
   */
  readonly status: LinkState;
  /** True until closed for good (also while reconnecting). */
  readonly isOpen: boolean;
  /**
   * Listens to the connection: `connect` (a socket is up), `ready` (commands flow), `reconnecting`
   * ({ attempt, delay, error }), `error` (why a socket was lost or a reconnect failed; never thrown when
   * nobody listens), `end` (closed for good, with the reason).
   */
  on<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this;
  off<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this;
  once<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this;
  /**
   * Waits for the replies already asked for (at most `closeTimeout`, then closes anyway: what is still
   * pending rejects), then closes. Later commands reject with GoCacheConnectionError.
   */
  close(): Promise<void>;
  /** Closes now: pending and queued commands reject with GoCacheConnectionError. */
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

/** What every view of one client shares: the link, the pool for blocking commands, the options. */
export interface ClientCore {
  readonly link: ReconnectingConnection;
  readonly pool: IsolatedPool;
  readonly options: Readonly<ResolvedOptions>;
  readonly context: ArgsContext;
  /** Where traces say its commands go (tracing.ts). */
  readonly trace: TraceTarget;
}

/** The commands over a client's link, bulk strings decoded as `S`: the client and its views. */
class CommandClient<S extends string | Buffer> extends RedisClientCommands<S> {
  constructor(
    protected readonly core: ClientCore,
    protected readonly buffersMode: boolean,
    protected readonly signal?: AbortSignal,
  ) {
    super();
  }

  get options(): Readonly<ResolvedOptions> {
    return this.core.options;
  }

  get server(): ServerKind {
    return this.core.options.server;
  }

  /**
   * Sends the command (several, summed, where GoCache takes one element at a time; a blocking one on a
   * connection of its own); a bad argument rejects before anything is sent.
   */
  protected override dispatch(info: CommandInfo, build: ArgsBuilder, keyedDecode: Decoder): never {
    let wires: CommandArg[][];
    try {
      wires = buildWire(info, build, this.core.context);
    } catch (error) {
      return Promise.reject(error) as never;
    }
    const decode = unprefixedDecoder(info, keyedDecode, this.core.context);
    if (!tracing.commands) return this.send(info, wires, decode) as never;
    const words = info.name.includes(' ') ? 2 : 1;
    const argsCount = wires.reduce((count, wire) => count + wire.length - words, 0);
    return tracing.command(this.core.trace, info.name, argsCount, () => this.send(info, wires, decode)) as never;
  }

  private send(info: CommandInfo, wires: CommandArg[][], decode: Decoder): Promise<unknown> {
    const { link, pool } = this.core;
    // A reply of raw bytes (DUMP) is read as bytes whatever the view.
    const buffers = this.buffersMode || info.replyBytes === true;
    if (info.blocking === true) return pool.send(info.name, wires[0]!, decode, buffers, this.signal);
    if (wires.length === 1) return link.send(info.name, wires[0]!, decode, buffers, this.signal);
    return Promise.all(wires.map((wire) => link.send(info.name, wire, decode, buffers, this.signal))).then((replies) => combineSplit(info, replies));
  }

  pipeline(): PipelineImpl<S> {
    return new PipelineImpl<S>(this.core, this.buffersMode);
  }

  multi(): MultiImpl<S> {
    return new MultiImpl<S>(this.core, this.buffersMode);
  }

  withSignal(signal: AbortSignal): CommandClient<S> {
    if (!(signal instanceof AbortSignal)) throw new GoCacheArgumentError('withSignal needs an AbortSignal');
    return new CommandClient<S>(this.core, this.buffersMode, signal);
  }

  subscribe(...channels: RedisString[]): Promise<Subscription<ChannelMessage<S>>> {
    return openSubscription(this.options, 'channel', channels, { buffers: this.buffersMode }) as Promise<Subscription<ChannelMessage<S>>>;
  }

  psubscribe(...patterns: RedisString[]): Promise<Subscription<PatternMessage<S>>> {
    return openSubscription(this.options, 'pattern', patterns, { buffers: this.buffersMode }) as Promise<Subscription<PatternMessage<S>>>;
  }

  ssubscribe(...channels: RedisKey[]): Promise<Subscription<ChannelMessage<S>>> {
    return openSubscription(this.options, 'shard', channels, { buffers: this.buffersMode }) as Promise<Subscription<ChannelMessage<S>>>;
  }

  monitor(config?: MonitorConfig): Promise<Monitor> {
    return Monitor.open(this.options, config);
  }

  async runFunction(library: string, name: string, keys: readonly RedisKey[] = [], args: readonly RedisValue[] = []): Promise<RespValue> {
    try {
      return await this.fcall(name, keys, ...args);
    } catch (error) {
      if (!(error instanceof GoCacheCommandError && /Function not found/i.test(error.message))) throw error;
      await this.functionLoad(library, { replace: true });
      return this.fcall(name, keys, ...args);
    }
  }

  xreadIterator(streams: PairsInput<RedisKey, RedisString>, options: StreamIteratorOptions = {}): AsyncGenerator<StreamEntry<S>, void, undefined> {
    const view = options.signal !== undefined ? this.withSignal(options.signal) : this;
    return readStreams<S>(view as unknown as StreamCommands<S>, streams, options);
  }

  xreadgroupIterator(group: RedisString, consumer: RedisString, keys: readonly RedisKey[], options: GroupIteratorOptions = {}): AsyncGenerator<GroupEntry<S>, void, undefined> {
    const view = options.signal !== undefined ? this.withSignal(options.signal) : this;
    return readGroup<S>(view as unknown as StreamCommands<S>, group, consumer, keys, options);
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

  /** What `console.log` and `util.inspect` show: where and in which state, never the options' secrets. */
  [inspect.custom](): string {
    return `GoCacheClient<${this.server}> { address: '${this.core.link.address}', status: '${this.core.link.state}'${this.buffersMode ? ', buffers' : ''}${this.signal ? ', with a signal' : ''} }`;
  }

  toJSON(): { server: ServerKind; address: string; status: LinkState } {
    return { server: this.server, address: this.core.link.address, status: this.core.link.state };
  }
}

class ClientImpl extends CommandClient<string> {
  readonly buffers: CommandClient<Buffer>;

  private constructor(core: ClientCore) {
    super(core, false);
    this.buffers = new CommandClient<Buffer>(core, true);
  }

  /** Connects, and runs the handshake only when one is configured (GoCache gets nothing on connect). */
  static async connect(options?: ClientOptions | string): Promise<ClientImpl> {
    const resolved = resolveOptions(options);
    const link = await ReconnectingConnection.open(resolved);
    const pool = new IsolatedPool(resolved);
    link.on('end', (reason) => pool.closeAll(reason));
    return new ClientImpl({ link, pool, options: resolved, context: { server: resolved.server, ...(resolved.keyPrefix !== undefined ? { keyPrefix: resolved.keyPrefix } : {}) }, trace: traceTarget(resolved) });
  }

  async watch(keys: readonly RedisKey[], build: (tx: ClientImpl) => Promise<MultiImpl<string>> | MultiImpl<string>, options: { retries?: number } = {}): Promise<unknown[]> {
    const retries = options.retries ?? 10;
    if (!Number.isSafeInteger(retries) || retries < 0) throw new GoCacheArgumentError(`watch(): retries must be a non-negative integer, got ${String(retries)}`);
    const args = watchArgs(this.core.context, keys);
    // WATCH holds for one connection: a lost one must fail the transaction, not reconnect silently.
    const isolated = await ClientImpl.connect(deriveOptions(this.options, { reconnect: false, offlineQueue: false }));
    const link = isolated.core.link;
    try {
      for (let attempt = 0; ; attempt++) {
        await link.send(WATCH.name, args, decodeWatch);
        const multi = await build(isolated);
        if (!(multi instanceof MultiImpl) || multi.sentOn !== link) {
          await link.send(UNWATCH.name, unwatchArgs(this.core.context), decodeUnwatch);
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

  get status(): LinkState {
    return this.core.link.state;
  }

  get isOpen(): boolean {
    return this.core.link.isOpen;
  }

  on<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this {
    this.core.link.events.on(event, listener as never);
    return this;
  }

  off<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this {
    this.core.link.events.off(event, listener as never);
    return this;
  }

  once<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this {
    this.core.link.events.once(event, listener as never);
    return this;
  }

  async close(): Promise<void> {
    await this.core.link.close();
    this.core.pool.closeAll();
  }

  disconnect(): void {
    const reason = new GoCacheConnectionError('The client was disconnected');
    this.core.link.destroy(reason);
    this.core.pool.closeAll(reason);
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
