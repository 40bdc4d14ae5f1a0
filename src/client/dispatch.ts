/**
 * What every kind of caller (client, buffers view, pipeline, transaction) does with a command before
 * handing it on: build its checked arguments, and adapt it to GoCache where the spec says how.
 */
import type { ArgsBuilder, ArgsContext, CommandArg, CommandInfo } from '../runtime/types.js';

/**
 * The wire commands for one call: one, or, for a command GoCache takes one element at a time (its
 * DEL), one per element when the client targets GoCache, whose replies are then summed (GoCache's
 * DEL always answers 1, so the sum is the number of keys sent). Throws GoCacheArgumentError.
 */
export function buildWire(info: CommandInfo, build: ArgsBuilder, context: ArgsContext): CommandArg[][] {
  const wire = build(context);
  if (info.split === undefined || context.server !== 'gocache') return [wire];
  const words = info.name.split(' ').length;
  if (wire.length <= words + 1) return [wire];
  const head = wire.slice(0, words);
  return wire.slice(words).map((element) => [...head, element]);
}

/** Combines the replies of a split command (the spec's `gocache.split`). */
export function combineSplit(info: CommandInfo, replies: readonly unknown[]): unknown {
  switch (info.split) {
    case 'sum':
      return (replies as number[]).reduce((total, n) => total + n, 0);
    default:
      return replies[0];
  }
}
