/**
 * Runtime checks for command arguments, called by the generated builders. The types already forbid
 * these mistakes; the checks are for callers without a type checker, and they run before anything
 * is written, so a bad call never reaches the server (GoCache crashes on some malformed requests).
 */
import { GoCacheArgumentError } from './errors.js';
import type { ArgsContext, CommandArg, PairsInput } from './types.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${value.constructor?.name ?? 'value'}`;
}

function fail(command: string, name: string, expected: string, value: unknown): never {
  throw new GoCacheArgumentError(`${command}: ${name} must be ${expected}, got ${describe(value)}`);
}

const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array;

export function argKey(value: unknown, command: string, name: string): CommandArg {
  if (typeof value === 'string' || isBytes(value)) return value;
  return fail(command, name, 'a string, Buffer or Uint8Array', value);
}

export const argString = argKey;

/**
 * A key written at wire position `at`: checked, and the position recorded when the caller collects
 * them (ArgsContext.keyIndexes: a cluster routes by them). One place for what a key needs.
 */
export function argKeyAt(value: unknown, command: string, name: string, context: ArgsContext, at: number, prefixed = true): CommandArg {
  const key = argKey(value, command, name);
  context.keyIndexes?.push(at);
  return prefixed && context.keyPrefix !== undefined ? withPrefix(context.keyPrefix, key as string | Uint8Array) : key;
}

/** A glob pattern over key names (KEYS, SCAN's MATCH): under a keyPrefix it matches the prefixed names. */
export function argKeyPattern(value: unknown, command: string, name: string, context: ArgsContext): CommandArg {
  const pattern = argString(value, command, name);
  return context.keyPrefix !== undefined ? withPrefix(context.keyPrefix, pattern as string | Uint8Array) : pattern;
}

/** `prefix` + `key`, as a string when both are strings, else as bytes. */
export function withPrefix(prefix: string | Uint8Array, key: string | Uint8Array): string | Buffer {
  if (typeof prefix === 'string' && typeof key === 'string') return prefix + key;
  const bytes = (part: string | Uint8Array) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return Buffer.concat([bytes(prefix), bytes(key)]);
}

export function argValue(value: unknown, command: string, name: string): CommandArg {
  if (typeof value === 'string' || isBytes(value)) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : fail(command, name, 'a finite number', value);
  return fail(command, name, 'a string, Buffer, Uint8Array or number', value);
}

export function argInteger(value: unknown, command: string, name: string, min?: number, max?: number): CommandArg {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return fail(command, name, 'an integer', value);
  if (min !== undefined && value < min) return fail(command, name, min === 1 ? 'a positive integer' : `an integer ≥ ${min}`, value);
  if (max !== undefined && value > max) return fail(command, name, `an integer ≤ ${max}`, value);
  return value;
}

export function argDouble(value: unknown, command: string, name: string, min?: number, max?: number): CommandArg {
  if (typeof value !== 'number' || Number.isNaN(value)) return fail(command, name, 'a number', value);
  if (min !== undefined && value < min) return fail(command, name, `a number ≥ ${min}`, value);
  if (max !== undefined && value > max) return fail(command, name, `a number ≤ ${max}`, value);
  if (value === Infinity) return '+inf';
  if (value === -Infinity) return '-inf';
  return value;
}

export function argUnixTime(value: unknown, command: string, name: string, unit: 'seconds' | 'milliseconds'): CommandArg {
  const expected = `a Unix time in ${unit} (a non-negative integer or a Date)`;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!(ms >= 0)) return fail(command, name, expected, value);
    return unit === 'seconds' ? Math.floor(ms / 1000) : ms;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return fail(command, name, expected, value);
  return value;
}

export function argEnum(value: unknown, command: string, name: string, allowed: readonly string[]): CommandArg {
  if (typeof value === 'string' && allowed.includes(value)) return value;
  return fail(command, name, `one of ${allowed.join(', ')}`, value);
}

export function argFlag(value: unknown, command: string, name: string): boolean {
  if (value === undefined || typeof value === 'boolean') return value === true;
  return fail(command, name, 'true or false', value);
}

export function argNonEmpty(value: unknown, command: string, name: string): void {
  if (!Array.isArray(value) || value.length === 0) fail(command, name, 'at least one value', value);
}

/** Rejects a non-object and any unknown option: `{ EX: 60 }` must not silently set a key without expiry. */
export function argOptions(options: unknown, command: string, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail(command, 'options', 'an object', options);
  for (const key in options) {
    if (!known.includes(key)) {
      throw new GoCacheArgumentError(`${command}: unknown option "${key}" (known: ${known.join(', ')})`);
    }
  }
}

export function argExclusive(options: object, command: string, names: readonly string[]): void {
  let given: string | undefined;
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined || value === false) continue;
    if (given !== undefined) throw new GoCacheArgumentError(`${command}: options ${given} and ${name} cannot be used together`);
    given = name;
  }
}

/** A required choice: exactly one of `names` is given (GEOSEARCH needs a centre and a shape). */
export function argOneOf(options: object, command: string, names: readonly string[]): void {
  argExclusive(options, command, names);
  if (names.every((name) => { const value = (options as Record<string, unknown>)[name]; return value === undefined || value === false; })) {
    throw new GoCacheArgumentError(`${command}: one of the options ${names.join(', ')} is required`);
  }
}

/** Calls `each` for every pair of an object, a Map or an array of pairs; at least one. */
function forEachPair<K, V>(pairs: PairsInput<K, V>, command: string, name: string, each: (first: unknown, second: unknown) => void): void {
  let count = 0;
  if (Array.isArray(pairs)) {
    for (const pair of pairs as ReadonlyArray<readonly [K, V]>) {
      if (!Array.isArray(pair) || pair.length !== 2) fail(command, name, 'an array of [first, second] pairs', pair);
      each(pair[0], pair[1]);
      count++;
    }
  } else if (pairs instanceof Map) {
    for (const [first, second] of pairs) {
      each(first, second);
      count++;
    }
  } else if (typeof pairs === 'object' && pairs !== null) {
    for (const first of Object.keys(pairs)) {
      each(first, (pairs as Record<string, unknown>)[first]);
      count++;
    }
  } else {
    fail(command, name, 'an object, a Map or an array of pairs', pairs);
  }
  if (count === 0) fail(command, name, 'at least one pair', pairs);
}

/** Writes pairs one after the other: `field value field value` (HSET). */
export function pushPairs<K, V>(
  args: CommandArg[],
  pairs: PairsInput<K, V>,
  command: string,
  name: string,
  checkFirst: (item: unknown) => CommandArg,
  checkSecond: (item: unknown) => CommandArg,
): void {
  forEachPair(pairs, command, name, (first, second) => args.push(checkFirst(first), checkSecond(second)));
}

/** Writes pairs in columns: every first part, then every second part (XREAD's `STREAMS key1 key2 id1 id2`). */
export function pushPairColumns<K, V>(
  args: CommandArg[],
  pairs: PairsInput<K, V>,
  command: string,
  name: string,
  checkFirst: (item: unknown) => CommandArg,
  checkSecond: (item: unknown) => CommandArg,
): void {
  const seconds: CommandArg[] = [];
  forEachPair(pairs, command, name, (first, second) => {
    args.push(checkFirst(first));
    seconds.push(checkSecond(second));
  });
  for (const second of seconds) args.push(second);
}

export function notOnGoCache(command: string, option?: string): GoCacheArgumentError {
  return new GoCacheArgumentError(
    option === undefined
      ? `${command} is not served by GoCache; connect with { server: 'redis' } to use it with Redis`
      : `GoCache's ${command} does not support the ${option} option; connect with { server: 'redis' } to use it with Redis`,
  );
}
