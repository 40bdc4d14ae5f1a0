/**
 * What every kind of caller (client, buffers view, pipeline, transaction) does with a command before
 * handing it on: build its checked arguments, and adapt it to GoCache where the spec says how.
 */
import type { ArgsBuilder, ArgsContext, CommandArg, CommandInfo, Decoder } from '../runtime/types.js';

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

/**
 * The decoder of a command under a keyPrefix: where the spec says its reply holds key names
 * (`replyKeys`), the prefix is removed from them, so that a key read back (KEYS, SCAN, BLPOP's
 * [key, value]) is the name the caller would pass. Lists of keys (KEYS, a SCAN page) keep only the
 * keys under the prefix: a SCAN without MATCH walks every key, and its pages hold the client's own.
 * A single key outside the prefix (RANDOMKEY picks from the whole database) comes back as null,
 * as if there were none: returned as is, another tenant's `a:x` would read as this client's key `a:x`.
 */
export function unprefixedDecoder(info: CommandInfo, decode: Decoder, context: ArgsContext): Decoder {
  const prefix = context.keyPrefix;
  const where = info.replyKeys;
  if (prefix === undefined || where === undefined) return decode;
  const text = typeof prefix === 'string' ? prefix : prefix.toString('utf8');
  const bytes = typeof prefix === 'string' ? Buffer.from(prefix, 'utf8') : prefix;
  const has = (key: unknown): boolean => (typeof key === 'string' ? key.startsWith(text) : Buffer.isBuffer(key) && key.subarray(0, bytes.length).equals(bytes));
  const strip = (key: unknown): unknown => {
    if (!has(key)) return key;
    return typeof key === 'string' ? key.slice(text.length) : (key as Buffer).subarray(bytes.length);
  };
  const own = (keys: unknown[]): unknown[] => keys.filter(has).map(strip);
  return (reply) => {
    const value = decode(reply);
    if (value === null || value === undefined) return value;
    switch (where) {
      case 'one':
        return has(value) ? strip(value) : null;
      case 'each':
        return own(value as unknown[]);
      case 'first': {
        const [key, ...rest] = value as unknown[];
        return [strip(key), ...rest];
      }
      case 'scan': {
        const [cursor, keys] = value as [unknown, unknown[]];
        return [cursor, own(keys)];
      }
    }
  };
}
