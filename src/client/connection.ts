/**
 * One socket to one server: many commands in flight, replies matched in FIFO order.
 *
 * Commands issued in the same tick leave in one socket write (automatic pipelining): `send` only
 * appends the encoded command to an outgoing batch, flushed on the next tick. Nothing waits for a
 * reply before writing. When the socket drops, every pending command rejects with
 * GoCacheConnectionError; when the bytes are not valid RESP, or a reply has a shape its command
 * never answers, every pending command rejects with GoCacheProtocolError and the socket is closed:
 * its state is unknown, so it is never reused.
 *
 * A connection can be switched to subscriber mode: from then on it has no reply slots, and every
 * frame goes to the subscriber, which tells messages, confirmations and answers apart by their shape
 * (GoCache writes pushed messages and command replies independently, in no guaranteed order).
 */
import { isIP, connect as netConnect, type LookupFunction, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { GoCacheAbortError, GoCacheCommandError, GoCacheConnectionError, GoCacheError, GoCacheProtocolError, GoCacheTimeoutError } from '../runtime/errors.js';
import { encodeCommand, type CommandArg } from '../runtime/resp/encoder.js';
import { RespParser, type RespParserOptions, type RespValue } from '../runtime/resp/parser.js';
import type { Decoder, ServerKind } from '../runtime/types.js';
import { Queue } from './queue.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  /** A Unix socket path: used instead of host and port. */
  path?: string | undefined;
  /** Names the server in messages: "GoCache" or "Redis". */
  server: ServerKind;
  /** Milliseconds to wait for the TCP connection. */
  connectTimeout: number;
  /**
   * Milliseconds a command may wait for its reply; 0 means no limit. When timed-out commands then see
   * no byte back for another commandTimeout, the link is presumed dead and the connection is closed.
   */
  commandTimeout: number;
  /** Resolves the host name instead of the system resolver (Node's `net.connect` `lookup`). */
  lookup?: LookupFunction | undefined;
  /** TLS (`tls.connect` options); absent for plain TCP. */
  tls?: TlsOptions | undefined;
  /** Milliseconds of silence before TCP keepalive probes start. */
  keepAlive: number;
  /** Reply limits of the parser (a reply past one is a protocol error and closes the connection). */
  limits?: RespParserOptions | undefined;
}

/** Where the replies of an explicit pipeline go: one object for all its commands, by index. */
export interface ReplySink {
  ok(index: number, value: unknown): void;
  fail(index: number, error: GoCacheError): void;
}

/** Receives every frame of a connection in subscriber mode; `push` is true for a RESP3 push frame. */
export type FrameHandler = (frame: RespValue, push: boolean) => void;

/** What the server is called in messages. */
export const serverName = (server: ServerKind): string => (server === 'redis' ? 'Redis' : 'GoCache');

/**
 * A command waiting for its reply. The two kinds differ only in where the outcome goes (a promise,
 * or a pipeline's sink): `ok` and `fail` are the one way a pending command is settled.
 */
abstract class Pending {
  /** Date.now() when sent; only set when a command timeout is in force. */
  sentAt = 0;
  /** Already rejected (timed out or aborted); its reply, when it comes, is dropped. */
  settled = false;
  /** Removes the abort listener, when the command has a signal. */
  detach: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly decode: Decoder,
    readonly buffers: boolean,
  ) {}

  abstract ok(value: unknown): void;
  abstract fail(error: GoCacheError): void;
}

class PromisePending extends Pending {
  constructor(
    name: string,
    decode: Decoder,
    buffers: boolean,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: GoCacheError) => void,
  ) {
    super(name, decode, buffers);
  }

  ok(value: unknown): void {
    this.resolve(value);
  }

  fail(error: GoCacheError): void {
    this.reject(error);
  }
}

class SinkPending extends Pending {
  constructor(
    name: string,
    decode: Decoder,
    buffers: boolean,
    private readonly sink: ReplySink,
    private readonly index: number,
  ) {
    super(name, decode, buffers);
  }

  ok(value: unknown): void {
    this.sink.ok(this.index, value);
  }

  fail(error: GoCacheError): void {
    this.sink.fail(this.index, error);
  }
}

/** The longest string the outgoing batch joins text into (characters). */
const BATCH_TEXT_LIMIT = 8 * 1024 * 1024;
/** Bytes the socket may hold unsent before the batch waits for 'drain'. */
const WRITE_BUFFER_LIMIT = 32 * 1024 * 1024;

export class Connection {
  private readonly pending = new Queue<Pending>();
  private readonly parser: RespParser;
  private outText = '';
  private outChunks: Array<string | Buffer> = [];
  private flushScheduled = false;
  /** The socket holds WRITE_BUFFER_LIMIT bytes or more: the rest of the batch waits for 'drain'. */
  private waitingForDrain = false;
  private closing = false;
  /** Pending commands still waiting for their reply (not timed out): what close() waits for. */
  private awaited = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private failure: GoCacheError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly closeListeners: Array<(error: GoCacheError) => void> = [];
  /** Set in subscriber mode: every frame goes here, and no command takes a reply slot. */
  private subscriber: FrameHandler | undefined;
  /** Date.now() of the last byte read: the liveness rule compares it with timed-out commands. */
  private lastReadAt = Date.now();

  private constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
    reads: SocketReads,
  ) {
    this.parser = new RespParser(
      {
        onReply: (value) => (this.subscriber !== undefined ? this.subscriber(value, false) : this.onReply(value)),
        onPush: (value) => (this.subscriber !== undefined ? this.subscriber(value, true) : this.fail(new GoCacheProtocolError('Unexpected push message'))),
      },
      options.limits,
    );
    // Reads land in one reused buffer (see openSocket's `reads`): the parser copies what it keeps.
    reads.onChunk = (chunk: Buffer) => {
      this.lastReadAt = Date.now();
      try {
        this.parser.feed(chunk);
      } catch (error) {
        this.fail(error instanceof GoCacheError ? error : new GoCacheProtocolError(String(error), { cause: error }));
      }
    };
    const server = serverName(options.server);
    socket.on('error', (error) => this.fail(new GoCacheConnectionError(`Connection to ${server} at ${this.address} failed: ${error.message}`, { cause: error })));
    socket.on('close', () => this.fail(new GoCacheConnectionError(`Connection to ${server} at ${this.address} closed`)));
  }

  get address(): string {
    return addressOf(this.options);
  }

  /** True until close() is called or the connection fails. */
  get isOpen(): boolean {
    return this.failure === undefined && !this.closing;
  }

  /** Commands waiting for their reply (including those that timed out, whose late replies are still due). */
  get pendingCount(): number {
    return this.pending.length;
  }

  static async open(options: ConnectionOptions): Promise<Connection> {
    const reads: SocketReads = {};
    return new Connection(await openSocket(options, reads), options, reads);
  }

  /**
   * Queues one command. `buffers` asks for bulk strings as Buffers. Never throws: a bad argument or
   * a closed connection rejects the returned promise.
   *
   * A command takes a reply slot only once its bytes are in the outgoing batch: a command that cannot
   * be encoded or buffered is rejected alone and leaves no slot behind, so no later reply can be
   * handed to the wrong command.
   */
  send<T>(name: string, args: readonly CommandArg[], decode: Decoder, buffers = false, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(name, signal));
    const refused = this.enqueueBytes(args);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<T>((resolve, reject) => {
      const entry = new PromisePending(name, decode, buffers, resolve as (value: unknown) => void, reject);
      if (signal !== undefined) this.watchSignal(entry, signal);
      this.addPending(entry);
    });
  }

  /**
   * An aborted command rejects at once; its reply, when it comes, is dropped (it keeps its place, so
   * the replies after it still reach their own commands). No listener is left behind.
   */
  private watchSignal(entry: Pending, signal: AbortSignal): void {
    const onAbort = (): void => {
      if (entry.settled) return;
      entry.settled = true;
      this.awaited--;
      this.afterReply();
      entry.fail(abortError(entry.name, signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    entry.detach = () => signal.removeEventListener('abort', onAbort);
  }

  /**
   * Like send, without a promise: the reply (decoded) or the error goes to `sink` with `index`.
   * For explicit pipelines, where a promise and a microtask per command are pure overhead.
   */
  sendTo(sink: ReplySink, index: number, name: string, args: readonly CommandArg[], decode: Decoder, buffers = false): void {
    const refused = this.enqueueBytes(args);
    if (refused !== undefined) return sink.fail(index, refused);
    this.addPending(new SinkPending(name, decode, buffers, sink, index));
  }

  /**
   * Subscriber mode: every frame from now on goes to `handler`, and `write` sends commands without
   * reply slots. Only possible while no reply is awaited.
   */
  enterSubscriberMode(handler: FrameHandler): void {
    if (this.pending.length > 0) throw new GoCacheProtocolError('A connection enters subscriber mode only with no reply awaited');
    this.parser.returnBuffers = true;
    this.subscriber = handler;
  }

  /** Subscriber mode: sends a command whose answers the subscriber routes itself; the error that refused it, if any. */
  write(args: readonly CommandArg[]): GoCacheError | undefined {
    if (this.subscriber === undefined) return new GoCacheProtocolError('write() is for subscriber mode; commands use send()');
    return this.enqueueBytes(args);
  }

  /** Encodes a command into the outgoing batch; the error that refused it, or undefined once its bytes are in. */
  private enqueueBytes(args: readonly CommandArg[]): GoCacheError | undefined {
    if (this.failure) return this.failure;
    if (this.closing) return new GoCacheConnectionError('The client is closed');
    try {
      this.append(encodeCommand(args));
      return undefined;
    } catch (error) {
      return error instanceof GoCacheError ? error : new GoCacheError(`The command could not be buffered: ${String(error)}`, { cause: error });
    }
  }

  private addPending(entry: Pending): void {
    if (this.pending.length === 0) this.parser.returnBuffers = entry.buffers;
    this.pending.push(entry);
    this.awaited++;
    if (this.options.commandTimeout > 0) {
      entry.sentAt = Date.now();
      if (this.timer === undefined) this.armTimer(this.options.commandTimeout);
    }
  }

  /**
   * Closes after the replies already asked for have arrived, waiting at most `timeout` milliseconds
   * (then the socket is destroyed and what is still pending rejects); commands sent from now on reject.
   */
  async close(timeout = Infinity): Promise<void> {
    if (this.failure) return;
    this.closing = true;
    // A command that timed out may never be answered (GoCache leaves some requests unanswered), so
    // only the replies still awaited are waited for.
    if (this.awaited > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        if (Number.isFinite(timeout)) timer = setTimeout(resolve, timeout);
      });
      clearTimeout(timer);
    }
    this.destroy(new GoCacheConnectionError(`The client was closed${this.awaited > 0 ? ` with ${this.awaited} replies still awaited after ${timeout} ms` : ''}`));
  }

  /** Closes now; pending commands reject with `reason`. */
  destroy(reason: GoCacheError = new GoCacheConnectionError('The client is closed')): void {
    this.fail(reason);
  }

  /** Called once, when the connection closes or fails, with the reason. */
  onClose(listener: (error: GoCacheError) => void): void {
    if (this.failure) listener(this.failure);
    else this.closeListeners.push(listener);
  }

  /**
   * Appends to the outgoing batch, flushed on the next tick. Text is joined into one string up to
   * BATCH_TEXT_LIMIT, then starts a new piece: V8 cannot build a string past ~512 MiB, and one tick
   * may queue more than that (520 SETs of 1 MiB), so no string grows past the limit.
   */
  private append(encoded: string | Buffer): void {
    if (typeof encoded === 'string') {
      if (this.outText.length + encoded.length <= BATCH_TEXT_LIMIT) {
        this.outText += encoded;
      } else {
        if (this.outText.length > 0) this.outChunks.push(this.outText);
        this.outText = encoded;
      }
    } else {
      if (this.outText.length > 0) {
        this.outChunks.push(this.outText);
        this.outText = '';
      }
      this.outChunks.push(encoded);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /**
   * Hands the batch to the socket. While the socket already holds more than WRITE_BUFFER_LIMIT bytes
   * that the kernel has not taken, the rest waits for 'drain': what a huge tick queues is kept as the
   * caller's own strings, not copied into Node's write buffer all at once.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.failure || this.waitingForDrain) return;
    if (this.outChunks.length === 0) {
      if (this.outText.length > 0) this.socket.write(this.outText);
      this.outText = '';
      return;
    }
    if (this.outText.length > 0) {
      this.outChunks.push(this.outText);
      this.outText = '';
    }
    const chunks = this.outChunks;
    let written = 0;
    this.socket.cork();
    while (written < chunks.length && this.socket.writableLength < WRITE_BUFFER_LIMIT) this.socket.write(chunks[written++]!);
    this.socket.uncork();
    this.outChunks = written === chunks.length ? [] : chunks.slice(written);
    if (this.outChunks.length > 0) {
      this.waitingForDrain = true;
      this.socket.once('drain', () => {
        this.waitingForDrain = false;
        this.flush();
      });
    }
  }

  private onReply(value: RespValue): void {
    const command = this.pending.shift();
    if (command === undefined) {
      this.fail(new GoCacheProtocolError(`The server sent a reply nobody asked for: ${preview(value)}`));
      return;
    }
    const next = this.pending.peek();
    if (next !== undefined) this.parser.returnBuffers = next.buffers;
    if (command.settled) return;
    command.detach?.();
    this.awaited--;
    if (value instanceof GoCacheCommandError) {
      value.command = command.name;
      command.fail(value);
      return this.afterReply();
    }
    let decoded: unknown;
    try {
      decoded = command.decode(value);
    } catch (error) {
      // A reply of a shape this command never answers means the stream may be out of step (a reply
      // for another command): nothing after it can be trusted.
      const protocolError = error instanceof GoCacheProtocolError ? error : new GoCacheProtocolError(String(error), { cause: error });
      protocolError.message = `${command.name}: ${protocolError.message}`;
      command.fail(protocolError);
      this.fail(new GoCacheProtocolError(`Connection closed after an unexpected reply to ${command.name}`, { cause: protocolError }));
      return;
    }
    command.ok(decoded);
    this.afterReply();
  }

  private afterReply(): void {
    if (this.awaited === 0 && this.idleWaiters.length > 0) {
      for (const waiter of this.idleWaiters.splice(0)) waiter();
    }
  }

  private armTimer(delay: number): void {
    this.timer = setTimeout(() => this.checkTimeouts(), delay);
    this.timer.unref();
  }

  /**
   * One timer per connection, looking only at the oldest commands: no timer per command. Commands
   * past commandTimeout reject with GoCacheTimeoutError but keep their place (their replies may still
   * come). The liveness rule: when the oldest of them was sent 2 x commandTimeout ago and no byte has
   * come back since it was sent, the link is presumed dead (a half-open connection answers nothing and
   * never closes): the socket is destroyed, everything pending rejects and leaves the queue.
   */
  private checkTimeouts(): void {
    this.timer = undefined;
    const timeout = this.options.commandTimeout;
    const now = Date.now();
    let oldestWaiting: Pending | undefined;
    let oldestTimedOut: Pending | undefined;
    for (const item of this.pending) {
      if (item.settled) {
        if (item.sentAt > 0) oldestTimedOut ??= item;
        continue;
      }
      if (now - item.sentAt < timeout) {
        oldestWaiting = item;
        break;
      }
      oldestTimedOut ??= item;
      item.settled = true;
      item.detach?.();
      this.awaited--;
      this.afterReply();
      item.fail(new GoCacheTimeoutError(`${item.name} timed out after ${timeout} ms waiting for ${serverName(this.options.server)} at ${this.address}`));
    }
    if (oldestTimedOut !== undefined && oldestTimedOut.sentAt > 0 && this.lastReadAt <= oldestTimedOut.sentAt) {
      const silent = now - oldestTimedOut.sentAt;
      if (silent >= 2 * timeout) {
        this.fail(new GoCacheConnectionError(`No reply from ${serverName(this.options.server)} at ${this.address} for ${silent} ms: the link is presumed dead`));
        return;
      }
      this.armTimer(Math.min(oldestTimedOut.sentAt + 2 * timeout - now, oldestWaiting ? oldestWaiting.sentAt + timeout - now : Infinity));
      return;
    }
    if (oldestWaiting) this.armTimer(oldestWaiting.sentAt + timeout - now);
  }

  private fail(error: GoCacheError): void {
    if (this.failure) return;
    this.failure = error;
    if (this.timer) clearTimeout(this.timer);
    this.socket.destroy();
    for (const command of this.pending.drain()) {
      if (command.settled) continue;
      command.detach?.();
      command.fail(error);
    }
    for (const waiter of this.idleWaiters.splice(0)) waiter();
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }
}

function preview(value: RespValue): string {
  const text = value instanceof Error ? `-${value.message}` : JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  return text && text.length > 80 ? `${text.slice(0, 80)}…` : String(text);
}

/** Where a socket opened with `reads` delivers its data (set before the first byte can arrive). */
export interface SocketReads {
  onChunk?: (chunk: Buffer) => void;
}

/** The size of the reused read buffer: 256 KiB reads, 4x fewer than Node's default 64 KiB. */
const READ_BUFFER_SIZE = 256 * 1024;

/** `host:port`, or the Unix socket path; for messages. */
export function addressOf(options: Pick<ConnectionOptions, 'host' | 'port' | 'path'>): string {
  return options.path !== undefined ? options.path : `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
}

function abortError(name: string, signal: AbortSignal): GoCacheAbortError {
  return new GoCacheAbortError(`${name} was aborted`, { cause: signal.reason });
}

/**
 * A connected socket (TCP, TLS or a Unix socket), or a GoCacheConnectionError that says why not
 * (refused, DNS, timeout, TLS). The socket reads into one reused buffer (net's `onread`) and hands
 * each read to `reads.onChunk`, valid only during the call, instead of emitting a fresh Buffer per
 * 'data' event: no allocation (and, for large replies, no page faults and external-memory GC
 * pressure) per read.
 */
export function openSocket(options: Omit<ConnectionOptions, 'commandTimeout' | 'limits'>, reads: SocketReads): Promise<Socket> {
  const address = addressOf(options);
  const onread = {
    buffer: Buffer.allocUnsafeSlow(READ_BUFFER_SIZE),
    callback: (nread: number, buffer: Uint8Array): boolean => {
      // The Connection sets onChunk before any byte can be read (in the same tick as connect).
      if (reads.onChunk === undefined) {
        socket.destroy(new GoCacheProtocolError('Data arrived before the connection could read it'));
        return false;
      }
      reads.onChunk(Buffer.from(buffer.buffer, buffer.byteOffset, nread));
      return true;
    },
  };
  const where =
    options.path !== undefined
      ? { path: options.path }
      : { host: options.host, port: options.port, ...(options.lookup !== undefined ? { lookup: options.lookup } : {}) };
  // TLS reads through its own buffers; onread is for plain sockets.
  const socket: Socket =
    options.tls !== undefined
      ? tlsConnect({ ...options.tls, ...where, ...(options.tls.servername === undefined && options.path === undefined && isIP(options.host) === 0 ? { servername: options.host } : {}) })
      : netConnect({ ...where, onread });
  if (options.tls !== undefined) socket.on('data', (chunk: Buffer) => reads.onChunk?.(chunk));
  const ready = options.tls !== undefined ? 'secureConnect' : 'connect';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new GoCacheConnectionError(`Timed out after ${options.connectTimeout} ms connecting to ${serverName(options.server)} at ${address}`));
    }, options.connectTimeout);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(error, options));
    });
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      if (options.keepAlive > 0) socket.setKeepAlive(true, options.keepAlive);
      resolve(socket);
    });
  });
}

function connectError(error: NodeJS.ErrnoException, options: Pick<ConnectionOptions, 'host' | 'port' | 'path' | 'server' | 'tls'>): GoCacheConnectionError {
  const address = addressOf(options);
  const server = serverName(options.server);
  switch (error.code) {
    case 'ECONNREFUSED':
      return new GoCacheConnectionError(`Could not connect to ${server} at ${address}. Is the server running?`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new GoCacheConnectionError(`Could not resolve the ${server} host "${options.host}" (${error.code})`, { cause: error });
    case 'ENOENT':
      return new GoCacheConnectionError(`Could not connect to ${server} at ${address}: no such socket file. Is the server running?`, { cause: error });
    default:
      return new GoCacheConnectionError(`Could not connect to ${server} at ${address}${options.tls !== undefined ? ' over TLS' : ''}: ${error.message}`, { cause: error });
  }
}
