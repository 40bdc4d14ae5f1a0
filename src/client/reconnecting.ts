/**
 * A connection that survives a lost socket: it reconnects, reruns the handshake, and carries the
 * commands issued meanwhile.
 *
 * States: `connecting` (the first connection), `ready`, `reconnecting` (between a lost socket and the
 * next ready one), `closed` (for good: close(), disconnect(), reconnect off, or the retry strategy
 * gave up). Events: `connect` (a socket is up), `ready` (the handshake is done: commands flow),
 * `reconnecting` ({ attempt, delay, error }), `error` (why a socket was lost or an attempt failed:
 * emitted only when someone listens, so an unhandled 'error' never crashes the process), `end` (closed
 * for good).
 *
 * What happens to commands:
 * - in flight when the socket drops: they reject with GoCacheConnectionError and are never re-sent
 *   (a write may already have run);
 * - issued while reconnecting: they wait in the offline queue, bounded in length and time (past
 *   either, they reject with GoCacheConnectionError saying which), and go out in order, in one write,
 *   once the link is ready again; with `offlineQueue: false` they reject at once;
 * - a batch (a pipeline, a transaction) is queued or refused whole: a transaction is never cut in two.
 * On every new socket the handshake (HELLO, AUTH, CLIENT SETNAME, SELECT: only what is configured; for
 * GoCache usually nothing) runs again before anything else, and an `onReady` hook (subscriptions
 * resubscribe there) runs before the queued commands go out.
 */
import { EventEmitter } from 'node:events';
import { decodePing, PING, pingArgs } from '../../generated/commands/connection.js';
import { GoCacheAbortError, GoCacheConnectionError, GoCacheError } from '../runtime/errors.js';
import type { CommandArg, Decoder } from '../runtime/types.js';
import { addressOf, Connection, serverName, type FrameHandler, type ReplySink } from './connection.js';
import { handshake } from './handshake.js';
import { traceTarget, tracing } from './tracing.js';
import type { ResolvedOptions } from './options.js';
import { Queue } from './queue.js';

/**
 * Where a client's connection is (`client.status`).
 * @inline
 */
export type LinkState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

/**
 * The events of a client (and of its subscriptions), with their arguments.
 * @inline
 */
export interface LinkEvents {
  connect: [];
  ready: [];
  reconnecting: [{ attempt: number; delay: number; error: Error }];
  error: [Error];
  end: [GoCacheError];
}

/** Where commands go: a connection, or the offline queue's view of one. */
export interface CommandTarget {
  send<T>(name: string, args: readonly CommandArg[], decode: Decoder, buffers?: boolean, signal?: AbortSignal): Promise<T>;
  sendTo(sink: ReplySink, index: number, name: string, args: readonly CommandArg[], decode: Decoder, buffers?: boolean): void;
}

/** A command waiting for the link to come back. */
interface Offline {
  /** Replays it on the new connection (all of a batch at once). */
  send(connection: Connection): void;
  /** Rejects it (every command of a batch). */
  fail(error: GoCacheError): void;
  /** Commands it holds (a batch counts each). */
  size: number;
  queuedAt: number;
  /** Cancelled by its signal while queued: skipped. */
  cancelled: boolean;
}

export class ReconnectingConnection {
  readonly events = new EventEmitter<LinkEvents>();
  private stateValue: LinkState = 'connecting';
  private current: Connection | undefined;
  private readonly offline = new Queue<Offline>();
  private offlineSize = 0;
  private offlineTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private finalError: GoCacheError | undefined;
  /** Sends since the last health check: a busy link needs no PING. */
  private activity = 0;
  private subscriber: FrameHandler | undefined;
  /** The connection close() waits on, so that destroy() can still end it. */
  private closing: Connection | undefined;
  /** Runs on every new socket after the handshake, before the queued commands (resubscribing). */
  onReady: ((connection: Connection) => void) | undefined;

  private constructor(private readonly options: ResolvedOptions) {}

  /**
   * Connects for the first time; rejects (and keeps nothing open) when that fails: there is no retry
   * yet. `setup` runs after the handshake on every connection (a cluster's READONLY for replicas).
   */
  static async open(options: ResolvedOptions, subscriber?: FrameHandler, setup?: (connection: Connection) => Promise<void>): Promise<ReconnectingConnection> {
    const link = new ReconnectingConnection(options);
    link.subscriber = subscriber;
    link.setup = setup;
    link.adopt(await link.connectOnce());
    return link;
  }

  private setup: ((connection: Connection) => Promise<void>) | undefined;

  get state(): LinkState {
    return this.stateValue;
  }

  get address(): string {
    return addressOf(this.options);
  }

  /** True until closed for good (also while reconnecting: commands are queued then). */
  get isOpen(): boolean {
    return this.stateValue !== 'closed';
  }

  /** The connection commands go to now, if the link is ready. */
  get connection(): Connection | undefined {
    return this.stateValue === 'ready' ? this.current : undefined;
  }

  send<T>(name: string, args: readonly CommandArg[], decode: Decoder, buffers = false, signal?: AbortSignal): Promise<T> {
    this.activity++;
    if (this.stateValue === 'ready') return this.current!.send<T>(name, args, decode, buffers, signal);
    const refused = this.refusal(1);
    if (refused !== undefined) return Promise.reject(refused);
    if (signal?.aborted) return Promise.reject(new GoCacheAbortError(`${name} was aborted`, { cause: signal.reason }));
    return new Promise<T>((resolve, reject) => {
      const entry: Offline = {
        size: 1,
        queuedAt: Date.now(),
        cancelled: false,
        send: (connection) => {
          detach?.();
          connection.send<T>(name, args, decode, buffers, signal).then(resolve, reject);
        },
        fail: (error) => {
          detach?.();
          reject(error);
        },
      };
      let detach: (() => void) | undefined;
      if (signal !== undefined) {
        const onAbort = (): void => {
          entry.cancelled = true;
          reject(new GoCacheAbortError(`${name} was aborted before it was sent`, { cause: signal.reason }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.enqueue(entry);
    });
  }

  sendTo(sink: ReplySink, index: number, name: string, args: readonly CommandArg[], decode: Decoder, buffers = false): void {
    if (this.stateValue === 'ready') {
      this.activity++;
      return this.current!.sendTo(sink, index, name, args, decode, buffers);
    }
    this.batch((target) => target.sendTo(sink, index, name, args, decode, buffers), 1, (error) => sink.fail(index, error));
  }

  /**
   * Runs `write` against the live connection now, or, while reconnecting, queues it whole (`size`
   * commands) to run on the next one; when it can be neither, `refuse` gets why. For pipelines and
   * transactions, so that their commands always go out together, on one connection.
   */
  batch(write: (target: CommandTarget) => void, size: number, refuse: (error: GoCacheError) => void): void {
    this.activity += size;
    if (this.stateValue === 'ready') return write(this.current!);
    const refused = this.refusal(size);
    if (refused !== undefined) return refuse(refused);
    this.enqueue({ size, queuedAt: Date.now(), cancelled: false, send: (connection) => write(connection), fail: refuse });
  }

  /** Subscriber mode for every connection of this link (see Connection.enterSubscriberMode). */
  write(args: readonly CommandArg[]): GoCacheError | undefined {
    if (this.stateValue !== 'ready') return undefined; // resubscribing on the next connection covers it
    return this.current!.write(args);
  }

  on<E extends keyof LinkEvents>(event: E, listener: (...args: LinkEvents[E]) => void): this {
    this.events.on(event, listener as never);
    return this;
  }

  /** Closes after the replies already asked for (at most closeTimeout); queued commands reject. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const closing = (this.closing = this.current);
    this.end(new GoCacheConnectionError('The client is closed'));
    await closing?.close(this.options.closeTimeout);
  }

  /** Closes now (also during a close() that waits for replies): pending and queued commands reject with `reason`. */
  destroy(reason: GoCacheError = new GoCacheConnectionError('The client was disconnected')): void {
    const current = this.current ?? this.closing;
    this.end(reason);
    current?.destroy(reason);
  }

  // -------------------------------------------------------------------------------------------------

  private connectOnce(): Promise<Connection> {
    return tracing.connect(traceTarget(this.options), this.attempt, async () => {
      const connection = await Connection.open(this.options);
      this.emit('connect');
      try {
        await handshake(connection, this.options, this.setup);
      } catch (error) {
        connection.destroy();
        throw error;
      }
      return connection;
    });
  }

  /** A new ready connection: watch it, resubscribe, send what was queued. */
  private adopt(connection: Connection): void {
    this.current = connection;
    this.attempt = 0;
    this.stateValue = 'ready';
    if (this.subscriber !== undefined) connection.enterSubscriberMode(this.subscriber);
    connection.onClose((error) => this.lost(connection, error));
    this.onReady?.(connection);
    this.flushOffline(connection);
    this.armHealthCheck();
    this.emit('ready');
  }

  private lost(connection: Connection, error: GoCacheError): void {
    if (connection !== this.current || this.stateValue !== 'ready') return;
    this.current = undefined;
    clearTimeout(this.healthTimer);
    this.emitError(error);
    if (!this.options.reconnect) return this.end(error);
    this.stateValue = 'reconnecting';
    this.scheduleAttempt(error);
  }

  private scheduleAttempt(error: Error): void {
    this.attempt++;
    let decision: number | false | Error;
    try {
      decision = this.options.retryStrategy(this.attempt, error);
    } catch (thrown) {
      decision = thrown instanceof Error ? thrown : new Error(String(thrown));
    }
    if (decision === false || decision instanceof Error || !(typeof decision === 'number' && decision >= 0)) {
      const why = decision instanceof Error ? decision.message : decision === false ? 'the retry strategy gave up' : `the retry strategy answered ${String(decision)}`;
      return this.end(new GoCacheConnectionError(`Gave up reconnecting to ${serverName(this.options.server)} at ${this.address} after ${this.attempt - 1} attempts: ${why} (last error: ${error.message})`, { cause: error }));
    }
    this.emit('reconnecting', { attempt: this.attempt, delay: decision, error });
    this.retryTimer = setTimeout(() => void this.tryReconnect(), decision);
  }

  private async tryReconnect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stateValue !== 'reconnecting') return;
    let connection: Connection;
    try {
      connection = await this.connectOnce();
    } catch (error) {
      if (this.stateValue !== 'reconnecting') return;
      const reason = error instanceof Error ? error : new Error(String(error));
      this.emitError(reason);
      return this.scheduleAttempt(reason);
    }
    if (this.stateValue !== 'reconnecting') {
      connection.destroy();
      return;
    }
    this.adopt(connection);
  }

  /** Why a command cannot wait for the link, or undefined when it can. */
  private refusal(size: number): GoCacheError | undefined {
    if (this.stateValue === 'closed') return this.finalError ?? new GoCacheConnectionError('The client is closed');
    const queue = this.options.offlineQueue;
    const where = `${serverName(this.options.server)} at ${this.address}`;
    if (queue === false) return new GoCacheConnectionError(`Not connected to ${where} (reconnecting; offlineQueue is off)`);
    if (this.offlineSize + size > queue.maxLength) return new GoCacheConnectionError(`Not connected to ${where}, and the offline queue is full (${queue.maxLength} commands)`);
    return undefined;
  }

  private enqueue(entry: Offline): void {
    this.offline.push(entry);
    this.offlineSize += entry.size;
    const timeout = (this.options.offlineQueue as { timeout: number }).timeout;
    if (this.offlineTimer === undefined) this.offlineTimer = setTimeout(() => this.expireOffline(), timeout);
  }

  /** One timer for the queue, looking at the oldest entries. */
  private expireOffline(): void {
    this.offlineTimer = undefined;
    const timeout = (this.options.offlineQueue as { timeout: number }).timeout;
    const now = Date.now();
    for (let entry = this.offline.peek(); entry !== undefined; entry = this.offline.peek()) {
      if (!entry.cancelled && now - entry.queuedAt < timeout) {
        this.offlineTimer = setTimeout(() => this.expireOffline(), entry.queuedAt + timeout - now);
        return;
      }
      this.offline.shift();
      this.offlineSize -= entry.size;
      if (!entry.cancelled) entry.fail(new GoCacheConnectionError(`Still not connected to ${serverName(this.options.server)} at ${this.address} after ${timeout} ms (offlineQueue.timeout)`));
    }
  }

  private flushOffline(connection: Connection): void {
    clearTimeout(this.offlineTimer);
    this.offlineTimer = undefined;
    this.offlineSize = 0;
    for (const entry of this.offline.drain()) if (!entry.cancelled) entry.send(connection);
  }

  private end(error: GoCacheError): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.finalError = error;
    this.current = undefined;
    clearTimeout(this.retryTimer);
    clearTimeout(this.healthTimer);
    clearTimeout(this.offlineTimer);
    this.offlineSize = 0;
    for (const entry of this.offline.drain()) if (!entry.cancelled) entry.fail(error);
    this.emit('end', error);
  }

  /** PING when the link has been idle for healthCheckInterval; a PING that fails or gets no answer within it closes the socket (and reconnects). */
  private armHealthCheck(): void {
    const interval = this.options.healthCheckInterval;
    if (interval === 0 || this.subscriber !== undefined) return;
    let seen = this.activity;
    const check = (): void => {
      const connection = this.current;
      if (this.stateValue !== 'ready' || connection === undefined) return;
      if (this.activity !== seen) {
        seen = this.activity;
        this.healthTimer = setTimeout(check, interval).unref();
        return;
      }
      const timer = setTimeout(() => connection.destroy(new GoCacheConnectionError(`No answer to a health-check PING within ${interval} ms from ${serverName(this.options.server)} at ${this.address}`)), interval).unref();
      connection.send(PING.name, pingArgs({ server: this.options.server }), decodePing).then(
        () => {
          clearTimeout(timer);
          seen = this.activity;
          if (this.current === connection) this.healthTimer = setTimeout(check, interval).unref();
        },
        (error: unknown) => {
          clearTimeout(timer);
          connection.destroy(error instanceof GoCacheError ? error : new GoCacheConnectionError(String(error)));
        },
      );
    };
    this.healthTimer = setTimeout(check, interval).unref();
  }

  private emit<E extends keyof LinkEvents>(event: E, ...args: LinkEvents[E]): void {
    (this.events.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
  }

  private emitError(error: Error): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }
}
