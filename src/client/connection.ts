/**
 * One socket to one server: many commands in flight, replies matched in FIFO order.
 *
 * Commands issued in the same tick leave in one socket write (automatic pipelining): `send` only
 * appends the encoded command to an outgoing batch, flushed on the next tick. Nothing waits for a
 * reply before writing. When the socket drops, every pending command rejects with
 * GoCacheConnectionError; when the bytes are not valid RESP, or a reply has a shape its command
 * never answers, every pending command rejects with GoCacheProtocolError and the socket is closed:
 * its state is unknown, so it is never reused.
 */
import { connect as netConnect, type LookupFunction, type Socket } from 'node:net';
import { GoCacheCommandError, GoCacheConnectionError, GoCacheError, GoCacheProtocolError, GoCacheTimeoutError } from '../runtime/errors.js';
import { Queue } from './queue.js';
import { encodeCommand, type CommandArg } from '../runtime/resp/encoder.js';
import { RespParser, type RespValue } from '../runtime/resp/parser.js';
import type { Decoder } from '../runtime/types.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  /** Milliseconds to wait for the TCP connection. */
  connectTimeout: number;
  /** Milliseconds a command may wait for its reply; 0 means no limit. */
  commandTimeout: number;
  /** Resolves the host name instead of the system resolver (Node's `net.connect` `lookup`). */
  lookup?: LookupFunction | undefined;
}

export interface ReplySink {
  ok(index: number, value: unknown): void;
  fail(index: number, error: Error): void;
}

interface Pending {
  /** Set for sendTo: resolve/reject are then the sink's, called with the index first. */
  sink?: ReplySink;
  index?: number;
  name: string;
  decode: Decoder;
  buffers: boolean;
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Date.now() when sent; only read when a command timeout is set. */
  sentAt: number;
  /** Already rejected by the command timeout; its reply, when it comes, is dropped. */
  settled: boolean;
}

const ignore = (): void => {};

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
  /** Set while a subscriber or other owner takes over unsolicited replies (RESP3 pushes). */
  onPush: ((value: RespValue[]) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
    reads: SocketReads,
  ) {
    this.parser = new RespParser({
      onReply: (value) => this.onReply(value),
      onPush: (value) => (this.onPush ? this.onPush(value) : this.fail(new GoCacheProtocolError('Unexpected push message'))),
    });
    // Reads land in one reused buffer (see openSocket's `reads`): the parser copies what it keeps.
    reads.onChunk = (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (error) {
        this.fail(error instanceof GoCacheError ? error : new GoCacheProtocolError(String(error), { cause: error }));
      }
    };
    socket.on('error', (error) => this.fail(new GoCacheConnectionError(`Connection to GoCache at ${this.address} failed: ${error.message}`, { cause: error })));
    socket.on('close', () => this.fail(new GoCacheConnectionError(`Connection to GoCache at ${this.address} closed`)));
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** True until close() is called or the connection fails. */
  get isOpen(): boolean {
    return this.failure === undefined && !this.closing;
  }

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
  send<T>(name: string, args: readonly CommandArg[], decode: Decoder, buffers = false): Promise<T> {
    const refused = this.enqueueBytes(args);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<T>((resolve, reject) => {
      this.addPending({ name, decode, buffers, resolve: resolve as (value: unknown) => void, reject, sentAt: 0, settled: false });
    });
  }

  /**
   * Like send, without a promise: the reply (decoded) or the error goes to `sink` with `index`.
   * For explicit pipelines, where a promise and a microtask per command are pure overhead.
   */
  sendTo(sink: ReplySink, index: number, name: string, args: readonly CommandArg[], decode: Decoder, buffers = false): void {
    const refused = this.enqueueBytes(args);
    if (refused !== undefined) return sink.fail(index, refused);
    this.addPending({ name, decode, buffers, resolve: ignore, reject: ignore, sink, index, sentAt: 0, settled: false });
  }

  /** Encodes a command into the outgoing batch; the error that refused it, or undefined once its bytes are in. */
  private enqueueBytes(args: readonly CommandArg[]): GoCacheError | undefined {
    if (this.failure) return this.failure;
    if (this.closing) return new GoCacheConnectionError('The client is closed');
    try {
      this.write(encodeCommand(args));
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

  /** Closes after the replies already asked for have arrived; commands sent from now on reject. */
  async close(): Promise<void> {
    if (this.failure) return;
    this.closing = true;
    // A command that timed out may never be answered (GoCache leaves some requests unanswered), so
    // only the replies still awaited are waited for.
    if (this.awaited > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.destroy(new GoCacheConnectionError('The client is closed'));
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
  private write(encoded: string | Buffer): void {
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
    this.awaited--;
    if (value instanceof GoCacheCommandError) {
      value.command = command.name;
      if (command.sink !== undefined) command.sink.fail(command.index!, value);
      else command.reject(value);
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
      if (command.sink !== undefined) command.sink.fail(command.index!, protocolError);
      else command.reject(protocolError);
      this.fail(new GoCacheProtocolError(`Connection closed after an unexpected reply to ${command.name}`, { cause: protocolError }));
      return;
    }
    if (command.sink !== undefined) command.sink.ok(command.index!, decoded);
    else command.resolve(decoded);
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

  /** One timer per connection, looking only at the oldest command: no timer per command. */
  private checkTimeouts(): void {
    this.timer = undefined;
    const timeout = this.options.commandTimeout;
    const now = Date.now();
    let oldest: Pending | undefined;
    // Commands already timed out keep their place (their replies will still come), so skip them.
    for (const item of this.pending) {
      if (item.settled) continue;
      if (now - item.sentAt < timeout) {
        oldest = item;
        break;
      }
      item.settled = true;
      this.awaited--;
      this.afterReply();
      const timeoutError = new GoCacheTimeoutError(`${item.name} timed out after ${timeout} ms waiting for GoCache at ${this.address}`);
      if (item.sink !== undefined) item.sink.fail(item.index!, timeoutError);
      else item.reject(timeoutError);
    }
    if (oldest) this.armTimer(oldest.sentAt + timeout - now);
  }

  private fail(error: GoCacheError): void {
    if (this.failure) return;
    this.failure = error;
    if (this.timer) clearTimeout(this.timer);
    this.socket.destroy();
    for (const command of this.pending.drain()) {
      if (command.settled) continue;
      if (command.sink !== undefined) command.sink.fail(command.index!, error);
      else command.reject(error);
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

/**
 * A connected TCP socket, or a GoCacheConnectionError that says why not (refused, DNS, timeout).
 * With `reads`, the socket reads into one reused buffer (net's `onread`) and hands each read to
 * `reads.onChunk`, valid only during the call, instead of emitting a fresh Buffer per 'data' event:
 * no allocation (and, for large replies, no page faults and external-memory GC pressure) per read.
 */
export function openSocket(options: Pick<ConnectionOptions, 'host' | 'port' | 'connectTimeout' | 'lookup'>, reads?: SocketReads): Promise<Socket> {
  const address = `${options.host}:${options.port}`;
  const where = { host: options.host, port: options.port, ...(options.lookup !== undefined ? { lookup: options.lookup } : {}) };
  return new Promise((resolve, reject) => {
    const socket =
      reads === undefined
        ? netConnect(where)
        : netConnect({
            ...where,
            onread: {
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
            },
          });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new GoCacheConnectionError(`Timed out after ${options.connectTimeout} ms connecting to GoCache at ${address}`));
    }, options.connectTimeout);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(error, options));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      resolve(socket);
    });
  });
}

function connectError(error: NodeJS.ErrnoException, options: Pick<ConnectionOptions, 'host' | 'port'>): GoCacheConnectionError {
  const address = `${options.host}:${options.port}`;
  switch (error.code) {
    case 'ECONNREFUSED':
      return new GoCacheConnectionError(`Could not connect to GoCache at ${address}. Is the server running?`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new GoCacheConnectionError(`Could not resolve the GoCache host "${options.host}" (${error.code})`, { cause: error });
    default:
      return new GoCacheConnectionError(`Could not connect to GoCache at ${address}: ${error.message}`, { cause: error });
  }
}
