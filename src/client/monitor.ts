/**
 * MONITOR (Redis): every command the server processes, as an async iterable of parsed lines, on a
 * connection of its own (after MONITOR a connection receives only those lines, so it cannot be shared).
 *
 * ```ts
 * await using monitor = await client.monitor();
 * for await (const { time, database, source, args } of monitor) console.log(time, database, source, args);
 * ```
 *
 * Like a subscription: it reconnects as the client does and sends MONITOR again (lines of the gap are
 * lost; `reconnects` counts the gaps); the socket is always drained, and past `highWaterMark` buffered
 * lines the oldest are dropped and counted in `dropped`. MONITOR costs the server: keep it for debugging.
 */
import { MONITOR, monitorArgs } from '../../generated/commands/server.js';
import { GoCacheCommandError, GoCacheConnectionError, GoCacheError, GoCacheProtocolError, GoCacheTimeoutError } from '../runtime/errors.js';
import type { RespValue } from '../runtime/resp/parser.js';
import { serverName } from './connection.js';
import { deriveOptions, resolveOptions, type ClientOptions } from './options.js';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_REPLY_TIMEOUT } from './pubsub.js';
import { Queue } from './queue.js';
import { ReconnectingConnection } from './reconnecting.js';

/** One line of MONITOR: `1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"`. */
export interface MonitorEvent {
  /** Seconds since the epoch, with microseconds. */
  time: number;
  database: number;
  /** The client's address, `lua` for a script's call, `unix:<path>` for a Unix socket. */
  source: string;
  /** The command and its arguments, unescaped. */
  args: string[];
  /** The line as the server sent it. */
  raw: string;
}

export interface MonitorConfig {
  /** Lines buffered at most before the oldest are dropped (default 10,000). */
  highWaterMark?: number;
  /** How long MONITOR's OK may take (default 10 s). */
  replyTimeout?: number;
}

/** Parses a MONITOR line; undefined when it is not one. */
export function parseMonitorLine(line: string): MonitorEvent | undefined {
  const head = /^(\d+(?:\.\d+)?) \[(\d+) ([^\]]*)\] ?/.exec(line);
  if (head === null) return undefined;
  const args: string[] = [];
  let i = head[0].length;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    if (line[i] !== '"') return undefined;
    let arg = '';
    i++;
    for (;;) {
      if (i >= line.length) return undefined;
      const c = line[i]!;
      if (c === '"') {
        i++;
        break;
      }
      if (c !== '\\') {
        arg += c;
        i++;
        continue;
      }
      // Redis's sdscatrepr escapes: \\ \" \n \r \t \a \b and \xHH for other bytes.
      const next = line[i + 1];
      const simple: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };
      if (next !== undefined && simple[next] !== undefined) {
        arg += simple[next];
        i += 2;
      } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
        arg += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
        i += 4;
      } else {
        return undefined;
      }
    }
    args.push(arg);
  }
  return { time: Number(head[1]), database: Number(head[2]), source: head[3]!, args, raw: line };
}

export class Monitor implements AsyncIterable<MonitorEvent>, AsyncDisposable {
  private readonly lines = new Queue<MonitorEvent>();
  private readonly waiters: Array<{ resolve(result: IteratorResult<MonitorEvent>): void; reject(error: Error): void }> = [];
  private confirm: { resolve(): void; reject(error: GoCacheError): void } | undefined;
  private droppedCount = 0;
  private reconnectCount = 0;
  private ended = false;
  private failure: GoCacheError | undefined;
  private failureThrown = false;
  private link!: ReconnectingConnection;

  private constructor(
    private readonly highWaterMark: number,
    private readonly replyTimeout: number,
  ) {}

  /** @internal Use `client.monitor()`. */
  static async open(clientOptions: ClientOptions, config: MonitorConfig = {}): Promise<Monitor> {
    const options = resolveOptions(clientOptions);
    const wire = monitorArgs({ server: options.server });
    const monitor = new Monitor(config.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, config.replyTimeout ?? DEFAULT_REPLY_TIMEOUT);
    monitor.link = await ReconnectingConnection.open(deriveOptions(options, { commandTimeout: 0, healthCheckInterval: 0, offlineQueue: false }), (frame) => monitor.onFrame(frame));
    monitor.link.on('end', (error) => monitor.fail(error));
    try {
      await monitor.start(wire);
    } catch (error) {
      monitor.destroy(error instanceof GoCacheError ? error : undefined);
      throw error;
    }
    monitor.link.onReady = (connection) => {
      monitor.reconnectCount++;
      monitor.start(wire).catch((error: unknown) => {
        if (error instanceof GoCacheCommandError) return monitor.fail(error);
        connection.destroy(new GoCacheConnectionError(`MONITOR again after a reconnect failed: ${(error as Error).message}`, { cause: error }));
      });
    };
    return monitor;
  }

  /** Sends MONITOR and waits (bounded by replyTimeout) for its OK. */
  private start(wire: ReturnType<typeof monitorArgs>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.confirm = undefined;
        reject(new GoCacheTimeoutError(`MONITOR got no answer within ${this.replyTimeout} ms from ${serverName('redis')} at ${this.link.address}`));
      }, this.replyTimeout);
      this.confirm = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      const refused = this.link.write(wire);
      if (refused !== undefined) this.confirm.reject(refused);
    });
  }

  /** Lines dropped because more than `highWaterMark` were buffered. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Times the connection was lost and MONITOR sent again: the gaps in the lines. */
  get reconnects(): number {
    return this.reconnectCount;
  }

  get isOpen(): boolean {
    return !this.ended && this.failure === undefined;
  }

  next(): Promise<IteratorResult<MonitorEvent>> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve({ done: false, value: line });
    if (this.failure !== undefined && !this.failureThrown) {
      this.failureThrown = true;
      return Promise.reject(this.failure);
    }
    if (this.ended || this.failure !== undefined) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Closes the connection; the iteration ends after the buffered lines. */
  async close(): Promise<void> {
    this.destroy();
  }

  destroy(reason: GoCacheError = new GoCacheConnectionError('The monitor is closed')): void {
    if (this.ended) return;
    this.ended = true;
    this.confirm?.reject(reason);
    this.link?.destroy(reason);
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<MonitorEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        this.lines.drain();
        return { done: true, value: undefined };
      },
    };
  }

  private onFrame(frame: RespValue): void {
    if (frame instanceof GoCacheCommandError) {
      frame.command = MONITOR.name;
      if (this.confirm !== undefined) return this.confirm.reject(frame);
      return this.fail(frame);
    }
    if (frame === 'OK' && this.confirm !== undefined) {
      const { resolve } = this.confirm;
      this.confirm = undefined;
      return resolve();
    }
    const text = typeof frame === 'string' ? frame : Buffer.isBuffer(frame) ? frame.toString('utf8') : undefined;
    const event = text === undefined ? undefined : parseMonitorLine(text);
    if (event === undefined) return this.fail(new GoCacheProtocolError(`The server sent what is not a MONITOR line: ${String(text ?? typeof frame).slice(0, 80)}`));
    const waiter = this.waiters.shift();
    if (waiter !== undefined) return waiter.resolve({ done: false, value: event });
    if (this.lines.length >= this.highWaterMark) {
      this.lines.shift();
      this.droppedCount++;
    }
    this.lines.push(event);
  }

  private fail(error: GoCacheError): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = error;
    this.confirm?.reject(error);
    this.link.destroy(error);
    for (const waiter of this.waiters.splice(0)) {
      this.failureThrown = true;
      waiter.reject(error);
    }
  }
}
