/**
 * Explicit pipelines and transactions. Both queue typed commands (generated/chain.ts) and send them
 * in one write on `exec()`; a transaction wraps them in MULTI ... EXEC. A command's error does not
 * lose the other results: `exec()` rejects with a GoCachePipelineError that carries every result,
 * and `execSettled()` resolves to each result's outcome.
 */
import { GoCacheChain } from '../../generated/chain.js';
import type { Connection, ReplySink } from './connection.js';
import { literal } from '../runtime/decoders.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheError, GoCacheProtocolError } from '../runtime/errors.js';
import type { CommandArg, CommandInfo, Decoder, RespValue, ServerKind } from '../runtime/types.js';

/** The chain types, by kind: a method of `GoCacheChain<S, R, K>` returns `ChainKinds<S, [...R, T]>[K]`. */
export interface ChainKinds<S extends string | Buffer, R extends unknown[]> {
  pipeline: Pipeline<S, R>;
  multi: Multi<S, R>;
}

/** One result of execSettled(). */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: GoCacheError };
/** execSettled()'s tuple: each element's outcome, in order. */
export type SettledTuple<R extends unknown[]> = { [I in keyof R]: Settled<R[I]> };

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

interface Queued {
  info: CommandInfo;
  /** Several commands for one result (GoCache's single-key DEL), combined by `combine`. */
  argLists: CommandArg[][];
  decode: Decoder;
  combine?: 'sum';
}

const isGoCacheError = (error: unknown): error is GoCacheError => error instanceof GoCacheError;
const asGoCacheError = (error: unknown): GoCacheError =>
  isGoCacheError(error) ? error : new GoCacheProtocolError(String(error), { cause: error });

abstract class Chain<S extends string | Buffer, R extends unknown[], K extends keyof ChainKinds<S, R>> extends GoCacheChain<S, R, K> {
  protected readonly queued: Queued[] = [];
  private buildError: unknown;

  constructor(
    protected readonly connection: Connection,
    protected override readonly target: ServerKind,
    protected readonly buffers: boolean,
  ) {
    super();
  }

  /** How many commands are queued. */
  get length(): number {
    return this.queued.length;
  }

  protected override add(info: CommandInfo, args: CommandArg[], decode: Decoder): never {
    this.queued.push({ info, argLists: [args], decode });
    return this as never;
  }

  protected override addSplit(info: CommandInfo, argLists: CommandArg[][], decode: Decoder, combine: 'sum'): never {
    this.queued.push({ info, argLists, decode, combine });
    return this as never;
  }

  /** A bad argument: remembered, and exec() rejects with it before anything is sent. */
  protected override fail(error: unknown): never {
    this.buildError ??= error;
    return this as never;
  }

  protected checkBuilt(): void {
    if (this.buildError !== undefined) throw this.buildError;
  }

  /** Sends everything and resolves to the replies in order; rejects with GoCachePipelineError if any failed. */
  async exec(): Promise<R> {
    const results = await this.execSettled();
    const errors = results.flatMap((result, index) => (result.ok ? [] : [{ index, error: result.error }]));
    if (errors.length > 0) throw new GoCachePipelineError<R>(results, errors);
    return results.map((result) => (result as { value: unknown }).value) as R;
  }

  /** Sends everything and resolves to each reply's outcome, in order; rejects only when nothing could run. */
  abstract execSettled(): Promise<SettledTuple<R>>;
}

/** Commands sent together in one write, each answered on its own (no atomicity): `client.pipeline()`. */
export class Pipeline<S extends string | Buffer, R extends unknown[] = []> extends Chain<S, R, 'pipeline'> {
  override async exec(): Promise<R> {
    const { values, failed } = await this.run();
    if (failed !== undefined) throw new GoCachePipelineError<R>(settledOf<R>(values, failed), failed);
    return values as R;
  }

  async execSettled(): Promise<SettledTuple<R>> {
    const { values, failed } = await this.run();
    return settledOf<R>(values, failed ?? []);
  }

  /**
   * Sends every command in one synchronous loop (so one write) and collects the replies through one
   * sink: no promise, closure or result object per command on the common path.
   */
  private run(): Promise<{ values: unknown[]; failed?: Array<{ index: number; error: GoCacheError }> }> {
    this.checkBuilt();
    const queued = this.queued;
    const n = queued.length;
    const values = new Array<unknown>(n);
    if (n === 0) return Promise.resolve({ values });
    return new Promise((resolve) => {
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
          (failed ??= []).push({ index, error: asGoCacheError(error) });
          done();
        },
      };
      for (let i = 0; i < n; i++) {
        const { info, argLists, decode } = queued[i]!;
        if (argLists.length === 1) {
          this.connection.sendTo(sink, i, info.name, argLists[0]!, decode, this.buffers);
        } else {
          // Several commands for one result (GoCache's single-key DELs) add up, as the client's own del() does.
          Promise.all(argLists.map((args) => this.connection.send<number>(info.name, args, decode, this.buffers))).then(
            (counts) => sink.ok(i, counts.reduce((a, b) => a + b, 0)),
            (error: unknown) => sink.fail(i, asGoCacheError(error)),
          );
        }
      }
    });
  }
}

function settledOf<R extends unknown[]>(values: unknown[], failed: Array<{ index: number; error: GoCacheError }>): SettledTuple<R> {
  const settled = values.map((value): Settled<unknown> => ({ ok: true, value }));
  for (const { index, error } of failed) settled[index] = { ok: false, error };
  return settled as SettledTuple<R>;
}

const queuedReply = literal('QUEUED');
const okReply = literal('OK');
const rawReply: Decoder = (reply) => reply;

/**
 * A transaction: MULTI, the queued commands, EXEC, in one write: `client.multi()`. A command that
 * fails at run time does not stop the others (Redis's semantics); one refused while queueing
 * makes the server discard the whole transaction (`EXECABORT`).
 */
export class Multi<S extends string | Buffer, R extends unknown[] = []> extends Chain<S, R, 'multi'> {
  /** Set by a watched transaction: GoCacheWatchError when EXEC answers null. */
  watched = false;

  private checkAllowed(): void {
    for (const command of this.queued) {
      if (command.info.flags.includes('no-multi')) throw new GoCacheArgumentError(`${command.info.name} cannot be used in a transaction`);
      const inMulti = command.info.gocacheInMulti;
      if (this.target === 'gocache' && inMulti !== true) {
        throw new GoCacheArgumentError(`${command.info.name} is never sent to GoCache inside a transaction: ${inMulti === false ? 'GoCache does not serve it' : inMulti}`);
      }
      if (command.argLists.length !== 1) throw new GoCacheArgumentError(`${command.info.name} of several keys is several commands on GoCache, which a transaction cannot hold; send one key per call`);
    }
  }

  async execSettled(): Promise<SettledTuple<R>> {
    this.checkBuilt();
    this.checkAllowed();
    const send = <T>(name: string, args: CommandArg[], decode: Decoder) => this.connection.send<T>(name, args, decode, this.buffers);
    // All sends happen synchronously, so nothing else on this connection lands inside the transaction.
    const multi = send<string>('MULTI', ['MULTI'], okReply);
    const queued = this.queued.map((command) => send<string>(command.info.name, command.argLists[0]!, queuedReply).then(() => undefined, asGoCacheError));
    const exec = send<RespValue>('EXEC', ['EXEC'], rawReply);
    const [, queueErrors, replies] = await Promise.all([multi, Promise.all(queued), exec.catch((error: unknown) => error)]);

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
    return results as SettledTuple<R>;
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
