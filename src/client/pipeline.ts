/**
 * Explicit pipelines and transactions. Both queue typed commands (the generated RedisCommands, with
 * a `dispatch` that queues) and send them in one write on `exec()`; a transaction wraps them in
 * MULTI ... EXEC. A command's error does not lose the other results: `exec()` rejects with a
 * GoCachePipelineError that carries every result, and `execSettled()` resolves to each result's outcome.
 */
import type { GoCacheCommands, GoCacheTransactionCommands } from '../../generated/gocache-commands.js';
import { decodeExec, decodeMulti, EXEC, execArgs, MULTI, multiArgs } from '../../generated/commands/transactions.js';
import { RedisCommands } from '../../generated/redis-commands.js';
import { literal } from '../runtime/decoders.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheError, GoCacheProtocolError } from '../runtime/errors.js';
import type { Kind } from '../runtime/kind.js';
import type { ArgsBuilder, ArgsContext, CommandArg, CommandInfo, Decoder, RespValue, ServerKind } from '../runtime/types.js';
import type { ClientCore } from './client.js';
import { tracing } from './tracing.js';
import type { ReplySink } from './connection.js';
import { buildWire, combineSplit, unprefixedDecoder } from './dispatch.js';
import { rawCommand } from './raw.js';
import type { CommandTarget, ReconnectingConnection } from './reconnecting.js';

/** One result of execSettled(). */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: GoCacheError };
/** execSettled()'s tuple: each element's outcome, in order. */
export type SettledTuple<R extends unknown[]> = { [I in keyof R]: Settled<R[I]> };

/** What pipelines and transactions have besides the commands. */
export interface ChainApi<R extends unknown[]> {
  /** How many commands are queued. */
  readonly length: number;
  /** Sends everything and resolves to the replies in order; rejects with GoCachePipelineError if any failed. */
  exec(): Promise<R>;
  /** Sends everything and resolves to each reply's outcome, in order; rejects only when nothing could run. */
  execSettled(): Promise<SettledTuple<R>>;
}

// Each chain type is an interface, not an alias of an intersection: TypeScript then measures once how
// an interface varies with its result tuple R and compares two chains by their type arguments, where
// an alias would be compared member by member through every command (a chain reassigned in a loop,
// `p = p.get(k)`, took 760,000 type instantiations and 30 s to check; as interfaces, 37,000 and 1 s).

/** A Redis pipeline: every Redis command, each returning the pipeline with its reply appended to R. */
export interface RedisPipeline<S extends string | Buffer, R extends unknown[]> extends ChainApi<R>, RedisCommands<S, RedisPipelineKind<S, R>> {
  readonly kind: 'pipeline';
  /** Queues a command the spec does not cover, raw; its reply (typed `X`, default RespValue) takes the next place. */
  sendCommand<X = RespValue>(args: readonly CommandArg[]): RedisPipeline<S, [...R, X]>;
}

/** A GoCache pipeline: the commands GoCache serves. */
export interface GoCachePipeline<S extends string | Buffer, R extends unknown[]> extends ChainApi<R>, GoCacheCommands<S, GoCachePipelineKind<S, R>> {
  readonly kind: 'pipeline';
  /** Queues a command the spec does not cover, raw; its reply (typed `X`, default RespValue) takes the next place. */
  sendCommand<X = RespValue>(args: readonly CommandArg[]): GoCachePipeline<S, [...R, X]>;
}

/** A Redis transaction: every Redis command. */
export interface RedisMulti<S extends string | Buffer, R extends unknown[]> extends ChainApi<R>, RedisCommands<S, RedisMultiKind<S, R>> {
  readonly kind: 'multi';
  /** Queues a command the spec does not cover, raw; its reply (typed `X`, default RespValue) takes the next place. */
  sendCommand<X = RespValue>(args: readonly CommandArg[]): RedisMulti<S, [...R, X]>;
}

/** What a GoCache transaction may hold (generated: GoCacheTransactionCommands). */
type GoCacheTransactionSurface<S extends string | Buffer, R extends unknown[]> = GoCacheTransactionCommands<S, GoCacheMultiKind<S, R>>;

/** A GoCache transaction: only what GoCache runs inside MULTI. */
export interface GoCacheMulti<S extends string | Buffer, R extends unknown[]> extends ChainApi<R>, GoCacheTransactionSurface<S, R> {
  readonly kind: 'multi';
  /** Queues a command the spec does not cover, raw; its reply (typed `X`, default RespValue) takes the next place. */
  sendCommand<X = RespValue>(args: readonly CommandArg[]): GoCacheMulti<S, [...R, X]>;
}

/** The kinds: each command returns the chain, its result tuple one element longer. */
export interface RedisPipelineKind<S extends string | Buffer, R extends unknown[]> extends Kind {
  readonly result: RedisPipeline<S, [...R, this['reply']]>;
}
export interface GoCachePipelineKind<S extends string | Buffer, R extends unknown[]> extends Kind {
  readonly result: GoCachePipeline<S, [...R, this['reply']]>;
}
export interface RedisMultiKind<S extends string | Buffer, R extends unknown[]> extends Kind {
  readonly result: RedisMulti<S, [...R, this['reply']]>;
}
export interface GoCacheMultiKind<S extends string | Buffer, R extends unknown[]> extends Kind {
  readonly result: GoCacheMulti<S, [...R, this['reply']]>;
}

/** A pipeline's kind, per server. */
export type PipelineKind<T extends ServerKind, S extends string | Buffer, R extends unknown[]> = T extends 'redis' ? RedisPipelineKind<S, R> : GoCachePipelineKind<S, R>;
/** A transaction's kind, per server. */
export type MultiKind<T extends ServerKind, S extends string | Buffer, R extends unknown[]> = T extends 'redis' ? RedisMultiKind<S, R> : GoCacheMultiKind<S, R>;

/**
 * Commands sent together in one write, each answered on its own (no atomicity): `client.pipeline()`.
 * Its commands are those of the server the client targets; each call adds its reply type to `R`.
 */
export type Pipeline<T extends ServerKind = 'gocache', S extends string | Buffer = string, R extends unknown[] = []> = T extends 'redis' ? RedisPipeline<S, R> : GoCachePipeline<S, R>;

/**
 * A transaction: MULTI, the queued commands, EXEC, in one write: `client.multi()`. Against GoCache it
 * holds only what GoCache runs inside MULTI.
 */
export type Multi<T extends ServerKind = 'gocache', S extends string | Buffer = string, R extends unknown[] = []> = T extends 'redis' ? RedisMulti<S, R> : GoCacheMulti<S, R>;

/** Some commands of a pipeline or transaction failed; `results` holds every outcome, in order. */
export class GoCachePipelineError<R extends unknown[] = unknown[]> extends GoCacheError {
  constructor(
    readonly results: SettledTuple<R>,
    readonly errors: Array<{ index: number; error: GoCacheError }>,
  ) {
    const first = errors[0]!;
    super(`${errors.length} of ${results.length} commands failed; the first, #${first.index}: ${first.error.message}`, { cause: first.error });
  }
}

/** A watched key changed before EXEC, so the server discarded the transaction (EXEC answered null). */
export class GoCacheWatchError extends GoCacheError {}

export interface Queued {
  info: CommandInfo;
  /** One wire command, or several for one result (GoCache's single-key DELs), combined by the info's split. */
  wires: CommandArg[][];
  decode: Decoder;
}

const asGoCacheError = (error: unknown): GoCacheError => (error instanceof GoCacheError ? error : new GoCacheProtocolError(String(error), { cause: error }));

/** The runtime of pipelines and transactions: `dispatch` queues. */
export abstract class ChainImpl<S extends string | Buffer> extends RedisCommands<S, Kind> {
  protected readonly queued: Queued[] = [];
  private buildError: unknown;

  protected readonly context: ArgsContext;

  constructor(
    protected readonly core: ClientCore,
    protected readonly buffers: boolean,
  ) {
    super();
    this.context = core.context;
  }

  get length(): number {
    return this.queued.length;
  }

  /** Queues the command; a bad argument is remembered, and exec() rejects with it before anything is sent. */
  protected override dispatch(info: CommandInfo, build: ArgsBuilder, decode: Decoder): never {
    try {
      this.queued.push({ info, wires: buildWire(info, build, this.context), decode: unprefixedDecoder(info, decode, this.context) });
    } catch (error) {
      this.buildError ??= error;
    }
    return this as never;
  }

  sendCommand(args: readonly CommandArg[]): this {
    const raw = rawCommand(args);
    return this.dispatch(raw.info, raw.build, raw.decode);
  }

  protected checkBuilt(): void {
    if (this.buildError !== undefined) throw this.buildError;
  }

  /** @internal Queues commands already built (a cluster transaction, once it knows its node). */
  enqueue(commands: readonly Queued[]): void {
    this.queued.push(...commands);
  }

  async exec(): Promise<unknown[]> {
    const results = await this.execSettled();
    const errors = results.flatMap((result, index) => (result.ok ? [] : [{ index, error: result.error }]));
    if (errors.length > 0) throw new GoCachePipelineError(results, errors);
    return results.map((result) => (result as { value: unknown }).value);
  }

  abstract execSettled(): Promise<Array<Settled<unknown>>>;
}

export class PipelineImpl<S extends string | Buffer> extends ChainImpl<S> {
  readonly kind = 'pipeline';

  override async exec(): Promise<unknown[]> {
    const { values, failed } = await this.traced();
    if (failed !== undefined) throw new GoCachePipelineError(settledOf(values, failed), failed);
    return values;
  }

  async execSettled(): Promise<Array<Settled<unknown>>> {
    const { values, failed } = await this.traced();
    return settledOf(values, failed ?? []);
  }

  private traced(): Promise<{ values: unknown[]; failed?: Array<{ index: number; error: GoCacheError }>; failedCount: number }> {
    const run = () => this.run().then((outcome) => ({ ...outcome, failedCount: outcome.failed?.length ?? 0 }));
    return tracing.batch(this.core.trace, 'pipeline', this.queued.map((q) => q.info.name), run);
  }

  /**
   * Sends every command in one synchronous loop (so one write, on one connection: while reconnecting,
   * the pipeline waits whole in the offline queue) and collects the replies through one sink: no
   * promise, closure or result object per command on the common path. A pipeline holding a blocking
   * command runs on a connection of its own, so it does not stall the client's other commands.
   */
  private run(): Promise<{ values: unknown[]; failed?: Array<{ index: number; error: GoCacheError }> }> {
    this.checkBuilt();
    const queued = this.queued;
    const n = queued.length;
    const values = new Array<unknown>(n);
    if (n === 0) return Promise.resolve({ values });
    const collect = (send: (write: (target: CommandTarget) => void, refuse: (error: GoCacheError) => void) => void) =>
      new Promise<{ values: unknown[]; failed?: Array<{ index: number; error: GoCacheError }> }>((resolve) => {
        let failed: Array<{ index: number; error: GoCacheError }> | undefined;
        let remaining = n;
        const done = (): void => {
          if (--remaining > 0) return;
          failed?.sort((a, b) => a.index - b.index);
          resolve(failed === undefined ? { values } : { values, failed });
        };
        const sink: ReplySink = {
          ok(index, value) {
            values[index] = value;
            done();
          },
          fail(index, error) {
            (failed ??= []).push({ index, error });
            done();
          },
        };
        send(
          (target) => {
            for (let i = 0; i < n; i++) {
              const { info, wires, decode } = queued[i]!;
              const buffers = this.buffers || info.replyBytes === true;
              if (wires.length === 1) {
                target.sendTo(sink, i, info.name, wires[0]!, decode, buffers);
              } else {
                Promise.all(wires.map((wire) => target.send(info.name, wire, decode, buffers))).then(
                  (replies) => sink.ok(i, combineSplit(info, replies)),
                  (error: unknown) => sink.fail(i, asGoCacheError(error)),
                );
              }
            }
          },
          (error) => {
            for (let i = 0; i < n; i++) sink.fail(i, error);
          },
        );
      });
    if (queued.some((command) => command.info.blocking === true)) {
      return this.core.pool.with((connection) => collect((write) => write(connection))).catch((error: unknown) => {
        const reason = asGoCacheError(error);
        return { values, failed: queued.map((_, index) => ({ index, error: reason })) };
      });
    }
    return collect((write, refuse) => this.core.link.batch(write, n, refuse));
  }
}

function settledOf(values: unknown[], failed: Array<{ index: number; error: GoCacheError }>): Array<Settled<unknown>> {
  const settled = values.map((value): Settled<unknown> => ({ ok: true, value }));
  for (const { index, error } of failed) settled[index] = { ok: false, error };
  return settled;
}

const queuedReply = literal('QUEUED');

/**
 * A transaction's runtime. A command that fails at run time does not stop the others (Redis's
 * semantics); one refused while queueing makes the server discard the whole transaction (`EXECABORT`).
 */
export class MultiImpl<S extends string | Buffer> extends ChainImpl<S> {
  readonly kind = 'multi';
  /** Set by a watched transaction: GoCacheWatchError when EXEC answers null. */
  watched = false;

  /** The link it sends on (watch() checks a transaction was made on its own). */
  get sentOn(): ReconnectingConnection {
    return this.core.link;
  }

  private checkAllowed(): void {
    for (const command of this.queued) {
      const inMulti = command.info.gocacheInMulti;
      if (this.context.server === 'gocache' && inMulti !== true) {
        throw new GoCacheArgumentError(`${command.info.name} is never sent to GoCache inside a transaction: ${inMulti === false ? 'GoCache does not serve it' : inMulti}`);
      }
      if (command.wires.length !== 1) throw new GoCacheArgumentError(`${command.info.name} of several keys is several commands on GoCache, which a transaction cannot hold; send one key per call`);
      // EXEC's reply is read one way: raw bytes (DUMP) would reach a string view as lossy text.
      if (command.info.replyBytes === true && !this.buffers) throw new GoCacheArgumentError(`${command.info.name} answers raw bytes, which a transaction of the string view cannot read intact: use client.buffers.multi()`);
    }
  }

  async execSettled(): Promise<Array<Settled<unknown>>> {
    this.checkBuilt();
    this.checkAllowed();
    const run = () => this.run().then((results) => ({ results, failedCount: results.filter((r) => !r.ok).length }));
    return (await tracing.batch(this.core.trace, 'multi', ['MULTI', ...this.queued.map((q) => q.info.name), 'EXEC'], run)).results;
  }

  private async run(): Promise<Array<Settled<unknown>>> {
    // All sends happen in one synchronous call, on one connection (while reconnecting, the whole
    // transaction waits in the offline queue), so nothing else lands inside it and it is never cut.
    const sent = new Promise<[string, Array<GoCacheError | undefined>, unknown]>((resolve, reject) =>
      this.core.link.batch(
        (target) => {
          const send = <T>(name: string, args: CommandArg[], decode: Decoder) => target.send<T>(name, args, decode, this.buffers);
          const multi = send<string>(MULTI.name, multiArgs(this.context), decodeMulti);
          const queued = this.queued.map((command) => send<string>(command.info.name, command.wires[0]!, queuedReply).then(() => undefined, asGoCacheError));
          const exec = send<RespValue>(EXEC.name, execArgs(this.context), decodeExec);
          Promise.all([multi, Promise.all(queued), exec.catch((error: unknown) => error)]).then(resolve, reject);
        },
        this.queued.length + 2,
        reject,
      ),
    );
    const [, queueErrors, replies] = await sent;

    if (replies instanceof GoCacheCommandError && replies.code === 'EXECABORT') {
      const reasons = queueErrors.flatMap((error, index) => (error ? [`#${index} ${this.queued[index]!.info.name}: ${error.message}`] : []));
      replies.message = `${replies.message}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`;
      throw replies;
    }
    if (replies instanceof Error) throw replies;
    if (replies === null) {
      if (this.watched) throw new GoCacheWatchError('A watched key changed: the transaction was not executed');
      throw new GoCacheProtocolError('EXEC answered null without WATCH');
    }
    // A command refused while queueing without aborting the transaction (GoCache refuses PUBLISH
    // or CLUSTER there and still runs the rest) has no reply in EXEC's array: it keeps its own error.
    const ran = queueErrors.flatMap((error, index) => (error ? [] : [index]));
    if (!Array.isArray(replies) || replies.length !== ran.length) {
      throw new GoCacheProtocolError(`EXEC answered ${Array.isArray(replies) ? `${replies.length} replies` : typeof replies} for ${ran.length} queued commands`);
    }
    const results: Array<Settled<unknown>> = queueErrors.map((error) => ({ ok: false, error: error! }));
    replies.forEach((reply, position) => {
      const index = ran[position]!;
      results[index] = this.settle(index, reply);
    });
    return results;
  }

  private settle(index: number, reply: RespValue): Settled<unknown> {
    if (reply instanceof GoCacheCommandError) {
      reply.command = this.queued[index]!.info.name;
      return { ok: false, error: reply };
    }
    try {
      return { ok: true, value: this.queued[index]!.decode(reply) };
    } catch (error) {
      return { ok: false, error: asGoCacheError(error) };
    }
  }
}
