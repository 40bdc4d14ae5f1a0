/**
 * Tracing through `node:diagnostics_channel` tracing channels, the interface OpenTelemetry, Datadog
 * and Sentry instrumentations subscribe to (as they do for ioredis and node-redis): no dependency, and
 * nothing computed when nobody subscribes (one `hasSubscribers` check per command).
 *
 * - `gocache:command`: each command a client sends (a GoCache DEL of several keys is one command).
 * - `gocache:batch`: each pipeline or transaction, with the names of its commands.
 * - `gocache:connect`: each connection attempt, the first one and every reconnect.
 *
 * Each is a TracingChannel: `start` and `end` around the call, `asyncStart`/`asyncEnd` when it
 * settles, `error` with `context.error` when it fails. The context carries the command name and its
 * number of arguments, never their values (keys and values can be personal data); Node adds
 * `context.result`, the decoded reply, which an instrumentation should not record either.
 *
 * ```ts
 * import { tracingChannel } from 'node:diagnostics_channel';
 * tracingChannel('gocache:command').subscribe({
 *   start(ctx) { ctx.startedAt = performance.now(); },
 *   asyncEnd(ctx) { log(`${ctx.command} ${ctx.serverAddress}:${ctx.serverPort} ${performance.now() - ctx.startedAt} ms`); },
 *   error(ctx) { log(`${ctx.command} failed: ${ctx.error.message}`); },
 * });
 * ```
 */
import { tracingChannel } from 'node:diagnostics_channel';
import type { ServerKind } from '../runtime/types.js';

/** The channel names, for `diagnostics_channel.tracingChannel(name)`. */
export const TRACING_CHANNELS = {
  command: 'gocache:command',
  batch: 'gocache:batch',
  connect: 'gocache:connect',
} as const;

/** Where a traced operation goes. */
export interface TraceTarget {
  server: ServerKind;
  /** Host name or IP as configured (or the Unix socket path). */
  serverAddress: string;
  /** Undefined for a Unix socket. */
  serverPort: number | undefined;
  database: number;
}

export interface CommandTraceContext extends TraceTarget {
  /** The command as sent, upper case (`SET`, `CLIENT INFO`). */
  command: string;
  /** How many arguments follow the command's name (their values are never given). */
  argsCount: number;
  /** Set when it succeeds: bytes of a string or Buffer reply, elements of an array or map, else 0. */
  replySize?: number;
  /** Set by Node when it fails. */
  error?: unknown;
}

export interface BatchTraceContext extends TraceTarget {
  batchMode: 'pipeline' | 'multi';
  /** How many commands it holds. */
  batchSize: number;
  /** Their names, in order. */
  commands: string[];
  /** Set when it settles: how many of its commands failed. */
  failedCount?: number;
  error?: unknown;
}

export interface ConnectTraceContext extends TraceTarget {
  /** 0 for the first connection, then the reconnect attempt's number. */
  attempt: number;
  error?: unknown;
}

const commandChannel = tracingChannel<unknown, CommandTraceContext & object>(TRACING_CHANNELS.command);
const batchChannel = tracingChannel<unknown, BatchTraceContext & object>(TRACING_CHANNELS.batch);
const connectChannel = tracingChannel<unknown, ConnectTraceContext & object>(TRACING_CHANNELS.connect);

/** What a trace says about where it goes, from a client's resolved options. */
export function traceTarget(options: { server: ServerKind; host: string; port: number; path?: string; database?: number }): TraceTarget {
  return {
    server: options.server,
    serverAddress: options.path ?? options.host,
    serverPort: options.path === undefined ? options.port : undefined,
    database: options.database ?? 0,
  };
}

export function replySize(reply: unknown): number {
  if (typeof reply === 'string') return Buffer.byteLength(reply);
  if (Buffer.isBuffer(reply)) return reply.length;
  if (Array.isArray(reply)) return reply.length;
  if (reply instanceof Map) return reply.size;
  if (reply !== null && typeof reply === 'object') return Object.keys(reply).length;
  return 0;
}

export const tracing = {
  get commands(): boolean {
    return commandChannel.hasSubscribers;
  },

  command<T>(target: TraceTarget, command: string, argsCount: number, run: () => Promise<T>): Promise<T> {
    const context: CommandTraceContext = { ...target, command, argsCount };
    return commandChannel.tracePromise(
      () =>
        run().then((reply) => {
          context.replySize = replySize(reply);
          return reply;
        }),
      context,
    );
  },

  batch<T extends { failedCount: number }>(target: TraceTarget, batchMode: 'pipeline' | 'multi', commands: string[], run: () => Promise<T>): Promise<T> {
    if (!batchChannel.hasSubscribers) return run();
    const context: BatchTraceContext = { ...target, batchMode, batchSize: commands.length, commands };
    return batchChannel.tracePromise(
      () =>
        run().then((outcome) => {
          context.failedCount = outcome.failedCount;
          return outcome;
        }),
      context,
    );
  },

  connect<T>(target: TraceTarget, attempt: number, run: () => Promise<T>): Promise<T> {
    if (!connectChannel.hasSubscribers) return run();
    return connectChannel.tracePromise(run, { ...target, attempt });
  },
};
