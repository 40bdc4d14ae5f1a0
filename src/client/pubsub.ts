/**
 * Pub/sub: a subscription on a connection of its own, read as an async iterable of typed messages.
 *
 * ```ts
 * await using news = await openSubscription(options, 'channel', ['news']);
 * for await (const { channel, message } of news) console.log(channel, message);
 * ```
 *
 * Why a connection of its own: a connection in subscriber mode only accepts (P)SUBSCRIBE,
 * (P)UNSUBSCRIBE, PING and QUIT, so the main client's connection is never switched. It is the same
 * reconnecting connection as the client's (same socket handling, handshake, option checks and retry
 * strategy), in subscriber mode, where every frame comes here instead of to a reply slot.
 *
 * When the connection is lost, the subscription reconnects (as the client does), reruns the handshake
 * and subscribes again to every name it holds, with SUBSCRIBE (PSUBSCRIBE, SSUBSCRIBE) only; messages
 * published meanwhile are lost, and `reconnects` counts the gaps (`onReconnect` is called after each).
 * It ends with GoCacheConnectionError only when reconnecting is off or the retry strategy gives up.
 *
 * What the server sends is told apart by its shape, never by its position: GoCache writes pushed
 * messages and command replies independently, so their relative order is not guaranteed.
 * - `[message|smessage, channel, payload]` / `[pmessage, pattern, channel, payload]`: a message;
 * - `[(p|s)subscribe|(p|s)unsubscribe, name, count]`: one confirmation per name (Redis Cluster also
 *   sends `sunsubscribe` unasked when a shard channel's slot moves away);
 * - `+PONG` (GoCache, and Redis under RESP3) or `[pong, '']` (Redis in RESP2 subscriber mode): PING's answer;
 * - an error reply: rejects the oldest operation still waiting.
 * Under RESP3 the same arrays arrive as push frames; other pushes (client tracking, ...) are ignored.
 *
 * Messages are never lost between subscribing and iterating: everything that arrives on the socket is
 * buffered from the first byte. The socket is always drained at once, whatever the consumer does
 * (GoCache keeps only 100 messages per subscriber and drops the rest without notice); the client-side
 * buffer holds at most `highWaterMark` messages (default 10,000) and, past that bound, drops the
 * OLDEST buffered message and counts it in `dropped`. Oldest, because a consumer that fell behind is
 * better served by recent messages than by stale ones, and because that is what a bounded ring of
 * recent events does; the socket is never paused, so the server never drops on our behalf.
 *
 * Every wait is bounded (`replyTimeout`) or not made: unsubscribing always names the channels held
 * (GoCache answers a bare UNSUBSCRIBE in random order, and not at all when nothing is held).
 */
import { pingArgs } from '../../generated/commands/connection.js';
import { psubscribeArgs, punsubscribeArgs, ssubscribeArgs, subscribeArgs, sunsubscribeArgs, unsubscribeArgs } from '../../generated/commands/pubsub.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheConnectionError, GoCacheError, GoCacheProtocolError, GoCacheTimeoutError } from '../runtime/errors.js';
import type { RespValue } from '../runtime/resp/parser.js';
import type { ArgsContext, CommandArg, RedisString, ServerKind } from '../runtime/types.js';
import { serverName, type Connection } from './connection.js';
import { deriveOptions, resolveOptions, type ClientOptions } from './options.js';
import { Queue } from './queue.js';
import { ReconnectingConnection } from './reconnecting.js';

/** A message published to a channel of a channel subscription. */
export interface ChannelMessage<S extends string | Buffer = string> {
  channel: S;
  message: S;
}

/** A message published to a channel matching a pattern of a pattern subscription. */
export interface PatternMessage<S extends string | Buffer = string> {
  /** The subscribed pattern the channel matched. */
  pattern: S;
  channel: S;
  message: S;
}

/** Any message a subscription yields. */
export type PubSubMessage = ChannelMessage<string | Buffer> | PatternMessage<string | Buffer>;

/**
 * `channel`: SUBSCRIBE / UNSUBSCRIBE. `pattern`: PSUBSCRIBE / PUNSUBSCRIBE (Redis only). `shard`:
 * SSUBSCRIBE / SUNSUBSCRIBE (Redis 7 sharded pub/sub: a shard channel lives on its slot's node).
 */
export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/** The commands of each kind, and the prefix of its frames (`pmessage`, `ssubscribe`, ...). */
const KINDS = {
  channel: { subscribe: subscribeArgs, unsubscribe: unsubscribeArgs, prefix: '' },
  pattern: { subscribe: psubscribeArgs, unsubscribe: punsubscribeArgs, prefix: 'p' },
  shard: { subscribe: ssubscribeArgs, unsubscribe: sunsubscribeArgs, prefix: 's' },
} as const;

/** The message type of a subscription of kind `K` whose strings are `S`. */
export type MessageOf<K extends SubscriptionKind, S extends string | Buffer = string> = K extends 'pattern' ? PatternMessage<S> : ChannelMessage<S>;

export interface SubscriptionConfig {
  /** Yield channels, patterns and payloads as Buffers, byte for byte (default false: UTF-8 strings). */
  buffers?: boolean;
  /**
   * The most messages buffered client-side while the consumer is behind (default 10,000; a positive
   * integer, or Infinity for no bound). Past it the OLDEST buffered message is dropped and counted in
   * `subscription.dropped`; the socket is never paused.
   */
  highWaterMark?: number;
  /**
   * Milliseconds to wait for the confirmations of a (un)subscribe, a ping's answer or a handshake
   * reply (default 10,000). A subscribe or ping that waits longer rejects with GoCacheTimeoutError.
   */
  replyTimeout?: number;
}

export const DEFAULT_HIGH_WATER_MARK = 10_000;
export const DEFAULT_REPLY_TIMEOUT = 10_000;

/** The string type of a subscription's messages: Buffer with `buffers: true`, else string. */
export type MessageStrings<B extends boolean> = [B] extends [true] ? Buffer : [B] extends [false] ? string : string | Buffer;

/**
 * Opens a connection of its own (the client's options, same checks and handshake), sends
 * SUBSCRIBE (kind `channel`), PSUBSCRIBE (kind `pattern`) or SSUBSCRIBE (kind `shard`) for `names`, and resolves once every
 * name is confirmed.
 *
 * Rejects with GoCacheArgumentError before connecting for an empty or invalid list of names, for a
 * pattern or shard subscription with `server: 'gocache'` (GoCache has neither PSUBSCRIBE nor SSUBSCRIBE), and for an invalid
 * `highWaterMark` or `replyTimeout`; with GoCacheConnectionError when the connection cannot be made
 * or is lost; with GoCacheCommandError when the server refuses the handshake or the subscription;
 * with GoCacheTimeoutError when the confirmations do not come within `replyTimeout`. Nothing stays
 * open after a rejection.
 */
export async function openSubscription<K extends SubscriptionKind, B extends boolean = false>(
  clientOptions: ClientOptions,
  kind: K,
  names: readonly RedisString[],
  config: SubscriptionConfig & { buffers?: B } = {},
): Promise<Subscription<MessageOf<K, MessageStrings<B>>>> {
  // The client's own option checks (a client's resolved options pass them unchanged).
  const options = resolveOptions(clientOptions);
  const context: ArgsContext = { server: options.server };
  if (!Object.hasOwn(KINDS, kind)) throw new GoCacheArgumentError(`A subscription's kind must be 'channel', 'pattern' or 'shard', got ${String(kind)}`);
  if (!Array.isArray(names)) throw new GoCacheArgumentError(`${KINDS[kind].prefix.toUpperCase()}SUBSCRIBE: the names must be an array`);
  // The command is built (and checked) before connecting: PSUBSCRIBE and SSUBSCRIBE reject here for GoCache.
  const wire = subscribeWire(context, kind, names);
  const highWaterMark = config.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!(highWaterMark === Infinity || (Number.isInteger(highWaterMark) && highWaterMark > 0))) {
    throw new GoCacheArgumentError(`highWaterMark must be a positive integer (or Infinity), got ${String(highWaterMark)}`);
  }
  const replyTimeout = config.replyTimeout ?? DEFAULT_REPLY_TIMEOUT;
  if (!(Number.isFinite(replyTimeout) && replyTimeout > 0)) {
    throw new GoCacheArgumentError(`replyTimeout must be a positive number of milliseconds, got ${String(replyTimeout)}`);
  }
  // Frames reach the subscription once it exists: none can come before it subscribes.
  let subscription: Subscription<MessageOf<K, MessageStrings<B>>> | undefined;
  // Subscriber mode has no command timeout or health check: every wait is bounded by replyTimeout.
  const link = await ReconnectingConnection.open(deriveOptions(options, { commandTimeout: 0, healthCheckInterval: 0, offlineQueue: false }), (frame, push) => subscription?.onFrame(frame, push));
  subscription = new Subscription<MessageOf<K, MessageStrings<B>>>(link, {
    context,
    kind,
    buffers: config.buffers === true,
    highWaterMark,
    replyTimeout,
    healthCheckInterval: options.healthCheckInterval,
  });
  try {
    await subscription.send('subscribe', wire, names);
  } catch (error) {
    subscription.destroy(error instanceof GoCacheError ? error : new GoCacheConnectionError(String(error), { cause: error }));
    throw error;
  }
  return subscription;
}

function subscribeWire(context: ArgsContext, kind: SubscriptionKind, names: readonly RedisString[]): CommandArg[] {
  return KINDS[kind].subscribe(context, names);
}

/** Bytes of a name as a latin1 string: a lossless key, equal for the same bytes however given. */
function keyOf(name: RespValue | RedisString): string {
  if (typeof name === 'string') return Buffer.from(name, 'utf8').toString('latin1');
  if (Buffer.isBuffer(name)) return name.toString('latin1');
  if (name instanceof Uint8Array) return Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1');
  return String(name);
}

type OpKind = 'subscribe' | 'unsubscribe' | 'ping';

interface Operation {
  kind: OpKind;
  /** Confirmations still expected, per name key (a name sent twice is confirmed twice). */
  remaining: Map<string, number>;
  /** Subscribe: the names this operation added to those held (forgotten again if it is refused). */
  added: string[];
  left: number;
  timer: NodeJS.Timeout | undefined;
  resolve(): void;
  reject(error: GoCacheError): void;
}

interface Waiter<M> {
  resolve(result: IteratorResult<M>): void;
  reject(error: Error): void;
}

interface SubscriptionSettings {
  context: ArgsContext;
  kind: SubscriptionKind;
  buffers: boolean;
  highWaterMark: number;
  replyTimeout: number;
  /** The client's healthCheckInterval: a PING after that long without a frame (0: never). */
  healthCheckInterval: number;
}

/**
 * A subscription on its own connection: an async iterable of messages (`ChannelMessage` for a
 * channel subscription, `PatternMessage` for a pattern one; Buffers with `buffers: true`).
 *
 * - One consumer at a time: several loops over the same subscription share its messages.
 * - Leaving a `for await` loop early (break, return, throw) closes the subscription, as Node's
 *   streams and `events.on` do; to pause, keep the iterator and call `next()` later.
 * - Iteration ends (after the buffered messages) when every channel is unsubscribed, or after
 *   dispose/close; it throws GoCacheConnectionError (after the buffered messages) when the connection
 *   is lost, and GoCacheProtocolError when the server sends what is not RESP pub/sub.
 */
export class Subscription<M extends PubSubMessage = ChannelMessage> implements AsyncIterable<M>, AsyncDisposable {
  /** Called once when the subscription fails for good (reconnecting off or given up, or a protocol error); not after close(). */
  onError: ((error: GoCacheError) => void) | undefined;
  /** Called after each reconnect, once every held name is subscribed again (messages published meanwhile are lost). */
  onReconnect: ((reconnects: number) => void) | undefined;
  /**
   * Called when the server unsubscribed a shard channel on its own (its slot moved to another node);
   * without it, the subscription ends once nothing is held. The cluster client subscribes it again
   * on the new owner.
   */
  onServerUnsubscribe: ((channel: string | Buffer) => void) | undefined;
  private reconnectCount = 0;

  readonly kind: SubscriptionKind;
  private readonly context: ArgsContext;
  private readonly buffers: boolean;
  private readonly highWaterMark: number;
  private readonly replyTimeout: number;
  /** Held names (subscribed, or being subscribed), by byte key, in the form `channels` gives them. */
  private readonly held = new Map<string, M['channel']>();
  private readonly messages = new Queue<M>();
  private readonly waiters: Array<Waiter<M>> = [];
  private readonly operations: Operation[] = [];
  /** Frames received, for the health check: a link that carries frames is alive. */
  private frames = 0;
  private healthTimer: NodeJS.Timeout | undefined;
  /** Subscribes sent on a lost connection, waiting for the resubscription that includes their names. */
  private readonly carried: Operation[] = [];
  private droppedCount = 0;
  /** Set when the iteration ends cleanly (every name unsubscribed, or closed). */
  private ended = false;
  private failure: GoCacheError | undefined;
  /** The failure has been thrown to the consumer once; later next() calls are done. */
  private failureThrown = false;

  /** @internal Use `openSubscription` (or `client.subscribe` / `client.psubscribe`). */
  constructor(
    private readonly link: ReconnectingConnection,
    settings: SubscriptionSettings,
  ) {
    this.kind = settings.kind;
    this.context = settings.context;
    this.buffers = settings.buffers;
    this.highWaterMark = settings.highWaterMark;
    this.replyTimeout = settings.replyTimeout;
    link.onReady = (connection) => this.resubscribe(connection);
    this.armHealthCheck(settings.healthCheckInterval);
    link.on('end', (error) => this.fail(error));
  }

  /** Times the connection was lost and the subscription came back: the gaps in its messages. */
  get reconnects(): number {
    return this.reconnectCount;
  }

  /**
   * A new connection after a lost one: subscribe again to every name held (the kind's own SUBSCRIBE
   * only), as a tracked operation bounded by `replyTimeout`. `onReconnect` runs once the server
   * confirmed every name. Subscribes that were waiting on the lost connection are carried: their
   * names are in this one, and they settle with it. No confirmation in time: this connection is
   * dropped and the next one tries again; a refusal ends the subscription.
   */
  private resubscribe(connection: Connection): void {
    const reconnects = ++this.reconnectCount;
    // Unsubscribing is done: the new connection holds nothing it was not asked for.
    for (const op of this.operations.filter((o) => o.kind === 'unsubscribe')) {
      this.removeOperation(op);
      op.resolve();
    }
    for (const op of this.operations.filter((o) => o.kind === 'subscribe')) {
      this.removeOperation(op);
      this.carried.push(op);
    }
    // A PING sent on the lost connection is never answered on this one.
    for (const op of this.operations.filter((o) => o.kind === 'ping')) {
      this.removeOperation(op);
      op.reject(new GoCacheConnectionError('The connection was lost before PONG came'));
    }
    const settled = () => {
      for (const op of this.carried.splice(0)) op.resolve();
      if (reconnects === this.reconnectCount) this.onReconnect?.(reconnects);
    };
    if (this.held.size === 0) return settled();
    const names = [...this.held.keys()].map((key) => Buffer.from(key, 'latin1'));
    this.send('subscribe', subscribeWire(this.context, this.kind, names), names).then(settled, (error: unknown) => {
      const reason = error instanceof GoCacheError ? error : new GoCacheConnectionError(String(error), { cause: error });
      if (reason instanceof GoCacheCommandError) return this.fail(reason);
      connection.destroy(new GoCacheConnectionError(`Subscribing again after a reconnect failed: ${reason.message}`, { cause: reason }));
    });
  }

  /**
   * An idle subscriber looks the same as one whose link went half-open: no frame. After
   * `healthCheckInterval` without a frame, a PING (bounded by `replyTimeout`) tells them apart; no
   * PONG drops the connection, and the subscription reconnects and subscribes again.
   */
  private armHealthCheck(interval: number): void {
    if (interval <= 0) return;
    let seen = this.frames;
    const check = (): void => {
      if (this.ended || this.failure !== undefined) return;
      const connection = this.link.connection;
      if (this.frames !== seen || connection === undefined || this.operations.length > 0) {
        seen = this.frames;
        this.healthTimer = setTimeout(check, interval).unref();
        return;
      }
      this.ping().then(
        () => {
          seen = this.frames;
          this.healthTimer = setTimeout(check, interval).unref();
        },
        (error: unknown) => {
          if (error instanceof GoCacheTimeoutError) connection.destroy(new GoCacheConnectionError(`No PONG within ${this.replyTimeout} ms from a subscriber connection idle for ${interval} ms: the link is presumed dead`, { cause: error }));
          this.healthTimer = setTimeout(check, interval).unref();
        },
      );
    };
    this.healthTimer = setTimeout(check, interval).unref();
  }

  /** The channels (or, for a pattern subscription, the patterns) held, including those being subscribed. */
  get channels(): Array<M['channel']> {
    return [...this.held.values()];
  }

  /** Messages dropped client-side, oldest first, because more than `highWaterMark` were buffered. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Messages received and not yet consumed. */
  get buffered(): number {
    return this.messages.length;
  }

  /** True while the connection is open and at least one name is held. */
  get isOpen(): boolean {
    return !this.ended && this.failure === undefined;
  }

  /** Why the subscription failed (lost connection, protocol error), if it did. */
  get error(): GoCacheError | undefined {
    return this.failure;
  }

  /** Subscribes to more channels (patterns for a pattern subscription); resolves once each is confirmed. */
  subscribe(...names: RedisString[]): Promise<void> {
    let wire: CommandArg[];
    try {
      wire = subscribeWire(this.context, this.kind, names);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send('subscribe', wire, names);
  }

  /**
   * Unsubscribes from these channels (patterns), or from all held when none is given; resolves when
   * the server confirmed each (names not held are ignored, and nothing is sent for them). When no
   * name is left, the iteration ends (after the buffered messages) and the connection closes; that
   * never waits longer than `replyTimeout`. Only the held names are ever sent, by name.
   */
  async unsubscribe(...names: RedisString[]): Promise<void> {
    if (this.ended || this.failure !== undefined) return;
    const keys = names.length === 0 ? [...this.held.keys()] : [...new Set(names.map(keyOf))].filter((key) => this.held.has(key));
    if (keys.length === 0) {
      if (this.held.size === 0) this.finish();
      return;
    }
    const toSend = keys.map((key) => Buffer.from(key, 'latin1'));
    for (const key of keys) this.held.delete(key);
    const wire = KINDS[this.kind].unsubscribe(this.context, toSend);
    try {
      await this.send('unsubscribe', wire, toSend);
    } catch (error) {
      // With nothing left the connection is closed anyway: a late, refused or lost answer changes nothing.
      if (!this.nothingLeft()) throw error;
    }
    if (this.nothingLeft()) this.finish();
  }

  /** No name held and no (un)subscribe awaiting its confirmations: time to close. */
  private nothingLeft(): boolean {
    return this.held.size === 0 && !this.operations.some((op) => op.kind !== 'ping');
  }

  /** Checks the connection: resolves 'PONG' when the server answers (GoCache `+PONG`, Redis `pong`). */
  ping(): Promise<'PONG'> {
    return this.send('ping', pingArgs(this.context), []).then(() => 'PONG' as const);
  }

  /**
   * Unsubscribes from everything held (bounded by `replyTimeout`) and closes the connection. Never
   * rejects: the connection is closed whatever the server answers. Buffered messages can still be read.
   */
  async close(): Promise<void> {
    try {
      await this.unsubscribe();
    } catch {
      // Closed below regardless.
    }
    this.finish();
  }

  /** Closes at once, without unsubscribing: pending operations reject with `reason`. */
  destroy(reason: GoCacheError = new GoCacheConnectionError('The subscription was destroyed')): void {
    if (this.ended || this.failure !== undefined) return;
    this.ended = true;
    this.link.destroy(reason);
    this.settleAll(reason);
    this.wake();
  }

  /** `await using sub = ...`: close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<M> {
    return {
      next: () => this.next(),
      return: async (): Promise<IteratorResult<M>> => {
        await this.close();
        this.messages.drain();
        return { done: true, value: undefined };
      },
    };
  }

  /** The next message; waits until one arrives, the iteration ends, or the connection fails. */
  next(): Promise<IteratorResult<M>> {
    const message = this.messages.shift();
    if (message !== undefined) return Promise.resolve({ done: false, value: message });
    if (this.failure !== undefined && !this.failureThrown) {
      this.failureThrown = true;
      return Promise.reject(this.failure);
    }
    if (this.ended || this.failure !== undefined) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  // -------------------------------------------------------------------------------------------------
  // Internals.

  /** @internal Sends a command and waits for its confirmations (one per name) or its PONG. */
  send(kind: OpKind, wire: CommandArg[], names: readonly RedisString[]): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new GoCacheConnectionError('The subscription is closed'));
    const remaining = new Map<string, number>();
    const added: string[] = [];
    for (const name of names) {
      const key = keyOf(name);
      remaining.set(key, (remaining.get(key) ?? 0) + 1);
      if (kind === 'subscribe' && !this.held.has(key)) {
        this.held.set(key, this.nameValue(name));
        added.push(key);
      }
    }
    return new Promise<void>((resolve, reject) => {
      const op: Operation = {
        kind,
        remaining,
        added,
        left: kind === 'ping' ? 1 : names.length,
        timer: undefined,
        resolve,
        reject,
      };
      op.timer = setTimeout(() => {
        this.removeOperation(op);
        const what = kind === 'ping' ? 'PING' : `${String(wire[0])} confirmations`;
        reject(new GoCacheTimeoutError(`${what} timed out after ${this.replyTimeout} ms waiting for ${serverName(this.context.server)} at ${this.link.address}`));
      }, this.replyTimeout);
      this.operations.push(op);
      const refused = this.link.write(wire);
      if (refused !== undefined) {
        this.removeOperation(op);
        for (const key of added) this.held.delete(key);
        reject(refused);
      }
    });
  }

  private nameValue(name: RedisString): M['channel'] {
    if (this.buffers) return (typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name)) as M['channel'];
    return (typeof name === 'string' ? name : Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('utf8')) as M['channel'];
  }

  private text(value: RespValue): M['channel'] {
    if (this.buffers) return (Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8')) as M['channel'];
    return (Buffer.isBuffer(value) ? value.toString('utf8') : String(value)) as M['channel'];
  }

  /** @internal Every frame of the connection in subscriber mode. */
  onFrame(value: RespValue, push: boolean): void {
    this.frames++;
    if (value instanceof GoCacheCommandError) return this.onErrorReply(value);
    if (value === 'PONG') return this.confirmPing();
    if (Array.isArray(value) && value.length >= 2) {
      const head = value[0];
      const kind = Buffer.isBuffer(head) || typeof head === 'string' ? head.toString().toLowerCase() : '';
      switch (kind) {
        case 'message':
        case 'smessage':
          if (value.length === 3) {
            if (KINDS[this.kind].prefix + 'message' === kind) this.deliver({ channel: this.text(value[1]!), message: this.text(value[2]!) } as M);
            return;
          }
          break;
        case 'pmessage':
          if (value.length === 4) {
            if (this.kind === 'pattern') this.deliver({ pattern: this.text(value[1]!), channel: this.text(value[2]!), message: this.text(value[3]!) } as M);
            return;
          }
          break;
        case 'subscribe':
        case 'psubscribe':
        case 'ssubscribe':
          if (value.length === 3) return this.confirm('subscribe', value[1]!);
          break;
        case 'unsubscribe':
        case 'punsubscribe':
          if (value.length === 3) return this.confirm('unsubscribe', value[1]!);
          break;
        case 'sunsubscribe':
          if (value.length === 3) return this.confirm('unsubscribe', value[1]!, true);
          break;
        case 'pong':
          if (value.length === 2) return this.confirmPing();
          break;
      }
    }
    // Pushes of other kinds (RESP3 client tracking, ...) are not ours to handle.
    if (push) return;
    this.fail(new GoCacheProtocolError(`The server sent what is not a pub/sub message, confirmation or PONG: ${preview(value)}`));
  }

  private deliver(message: M): void {
    if (this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) return waiter.resolve({ done: false, value: message });
    if (this.messages.length >= this.highWaterMark) {
      this.messages.shift();
      this.droppedCount++;
    }
    this.messages.push(message);
  }

  private confirm(kind: 'subscribe' | 'unsubscribe', name: RespValue, serverMayInitiate = false): void {
    // Redis answers `unsubscribe` with a null name when nothing is held; such frames match nothing.
    if (name === null) return;
    const key = keyOf(name);
    for (const op of this.operations) {
      if (op.kind !== kind) continue;
      const count = op.remaining.get(key);
      if (count === undefined) continue;
      if (count === 1) op.remaining.delete(key);
      else op.remaining.set(key, count - 1);
      if (--op.left === 0) {
        this.removeOperation(op);
        op.resolve();
      }
      return;
    }
    // Redis Cluster unsubscribes a shard channel itself when its slot moves to another node.
    if (serverMayInitiate && this.held.has(key)) {
      const channel = this.held.get(key)!;
      this.held.delete(key);
      if (this.onServerUnsubscribe !== undefined) this.onServerUnsubscribe(channel);
      else if (this.nothingLeft()) this.finish();
      return;
    }
    // A confirmation nobody waits for (its operation timed out): nothing to do.
  }

  private confirmPing(): void {
    const op = this.operations.find((o) => o.kind === 'ping');
    if (op === undefined) return;
    this.removeOperation(op);
    op.resolve();
  }

  /** An error reply answers the oldest operation still waiting (replies to commands come in order). */
  private onErrorReply(error: GoCacheCommandError): void {
    const op = this.operations[0];
    if (op === undefined) return;
    error.command = op.kind === 'ping' ? 'PING' : `${KINDS[this.kind].prefix.toUpperCase()}${op.kind.toUpperCase()}`;
    if (op.kind === 'subscribe') for (const key of op.added) this.held.delete(key);
    this.removeOperation(op);
    op.reject(error);
  }

  private removeOperation(op: Operation): void {
    clearTimeout(op.timer);
    const index = this.operations.indexOf(op);
    if (index >= 0) this.operations.splice(index, 1);
  }

  private settleAll(error: GoCacheError): void {
    clearTimeout(this.healthTimer);
    for (const op of [...this.operations.splice(0), ...this.carried.splice(0)]) {
      clearTimeout(op.timer);
      op.reject(error);
    }
  }

  /** Ends the iteration cleanly and closes the connection (FIN; destroyed if the server lingers). */
  private finish(): void {
    if (this.ended || this.failure !== undefined) return;
    this.ended = true;
    this.held.clear();
    const closed = new GoCacheConnectionError('The subscription is closed');
    this.settleAll(closed);
    this.wake();
    this.link.destroy(closed);
  }

  private fail(error: GoCacheError): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = error;
    this.link.destroy(error);
    this.settleAll(error);
    this.wake();
    this.onError?.(error);
  }

  /** Hands the end (or the failure) to consumers waiting in next(): none is left hanging. */
  private wake(): void {
    for (const waiter of this.waiters.splice(0)) {
      if (this.failure !== undefined && !this.failureThrown) {
        this.failureThrown = true;
        waiter.reject(this.failure);
      } else {
        waiter.resolve({ done: true, value: undefined });
      }
    }
  }
}

function preview(value: RespValue): string {
  const show = (v: RespValue): string => {
    if (v instanceof Error) return `-${v.message}`;
    if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('latin1'));
    if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
    if (v instanceof Map) return `{${[...v].map(([k, x]) => `${show(k)}: ${show(x)}`).join(', ')}}`;
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  };
  const text = show(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
