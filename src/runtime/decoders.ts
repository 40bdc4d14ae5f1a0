/**
 * Reply decoders: small combinators the generated code composes from each spec's reply type. They
 * give the same result under RESP2 and RESP3 (a RESP2 double arrives as a bulk string, a RESP3 one
 * as a number; a map as a flat array or a Map) and throw GoCacheProtocolError on any other shape.
 */
import { GoCacheCommandError, GoCacheProtocolError } from './errors.js';
import type { Decoder, RespValue } from './types.js';

function describe(reply: RespValue): string {
  if (reply === null) return 'null';
  if (reply instanceof GoCacheCommandError) return `the error reply ${quote(reply.message)}`;
  if (Array.isArray(reply)) return `an array of ${reply.length}`;
  if (Buffer.isBuffer(reply)) return `a ${reply.length}-byte bulk string`;
  if (reply instanceof Map) return 'a map';
  if (typeof reply === 'string') return `the string ${quote(reply)}`;
  return `${typeof reply} ${String(reply)}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function unexpected(expected: string, reply: RespValue): never {
  throw new GoCacheProtocolError(`Expected ${expected} in the reply, got ${describe(reply)}`);
}

export const bulkString: Decoder = (reply) => (typeof reply === 'string' || Buffer.isBuffer(reply) ? reply : unexpected('a string', reply));

/** The reply as it came (scripts and other commands whose reply has no fixed shape). */
export const anyReply: Decoder = (reply) => reply;

export const nil: Decoder = (reply) => (reply === null ? null : unexpected('null', reply));

// A safe integer only: the parser reads a longer integer line as the nearest double, so 2^53 or more
// may not be the value the server sent, and a count or a TTL must never be silently off by one.
export const integer: Decoder = (reply) => {
  if (typeof reply === 'number' && Number.isSafeInteger(reply)) return reply;
  if (typeof reply === 'number' && Number.isInteger(reply)) return unexpected('an integer within ±(2^53 - 1)', reply);
  return unexpected('an integer', reply);
};

const textOf = (reply: RespValue) => (Buffer.isBuffer(reply) ? reply.toString('latin1') : (reply as string));

// The texts the parser accepts after RESP3's `,` (src/runtime/resp/parser.ts, DOUBLE_TEXT and its
// inf/nan cases), so a RESP2 bulk string and a RESP3 double give the same number or the same error.
// Number() alone is far looser: it takes ' 1', '0x10', 'Infinity' and '' (as 0).
const DOUBLE_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// Likewise after RESP3's `(` (BIG_NUMBER_TEXT there); BigInt() alone takes '', ' 1' and '0x10'.
const BIG_NUMBER_TEXT = /^[+-]?\d+$/;

function parseDouble(text: string): number {
  switch (text) {
    case 'inf':
    case '+inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
    case '-nan':
      return NaN;
  }
  if (!DOUBLE_TEXT.test(text)) throw new GoCacheProtocolError(`Expected a double in the reply, got the string ${quote(text)}`);
  return Number(text);
}

export const double: Decoder = (reply) => {
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'string' || Buffer.isBuffer(reply)) return parseDouble(textOf(reply));
  return unexpected('a double', reply);
};

export const boolean: Decoder = (reply) => {
  if (typeof reply === 'boolean') return reply;
  if (reply === 1 || reply === 0) return reply === 1;
  return unexpected('a boolean (0 or 1)', reply);
};

export const bigNumber: Decoder = (reply) => {
  if (typeof reply === 'bigint') return reply;
  // Past 2^53 a number from an integer line is already rounded: its BigInt would look exact and not be.
  if (typeof reply === 'number' && Number.isSafeInteger(reply)) return BigInt(reply);
  if (typeof reply === 'string' || Buffer.isBuffer(reply)) {
    const text = textOf(reply);
    if (BIG_NUMBER_TEXT.test(text)) return BigInt(text);
  }
  return unexpected('a big number', reply);
};

export function literal(value: string): Decoder {
  return (reply) => (reply === value ? value : unexpected(`"${value}"`, reply));
}

export function nullable(inner: Decoder): Decoder {
  return (reply) => (reply === null ? null : inner(reply));
}

export function arrayOf(item: Decoder): Decoder {
  return (reply) => {
    if (!Array.isArray(reply)) return unexpected('an array', reply);
    const out = new Array<unknown>(reply.length);
    for (let i = 0; i < reply.length; i++) out[i] = item(reply[i]!);
    return out;
  };
}

export function tupleOf(...items: Decoder[]): Decoder {
  return (reply) => {
    if (!Array.isArray(reply) || reply.length !== items.length) return unexpected(`an array of ${items.length}`, reply);
    return items.map((decode, i) => decode(reply[i]!));
  };
}

/** Pairs as [first, second] tuples, from a flat RESP2 array or a RESP3 array of pairs (or a map). */
export function pairsOf(first: Decoder, second: Decoder): Decoder {
  return (reply) => {
    if (reply instanceof Map) return [...reply].map(([a, b]) => [first(a), second(b)]);
    if (!Array.isArray(reply)) return unexpected('an array of pairs', reply);
    const nested = reply.length > 0 && Array.isArray(reply[0]);
    if (nested) {
      return reply.map((pair) => {
        if (!Array.isArray(pair) || pair.length !== 2) return unexpected('a pair', pair);
        return [first(pair[0]!), second(pair[1]!)];
      });
    }
    if (reply.length % 2 !== 0) return unexpected('an even number of elements', reply);
    const out = new Array<unknown>(reply.length / 2);
    for (let i = 0; i < reply.length; i += 2) {
      // Flat, since the first element is not an array: a later pair in the nested form is a mix of both.
      if (Array.isArray(reply[i])) return unexpected('pairs all flat or all nested', reply);
      out[i / 2] = [first(reply[i]!), second(reply[i + 1]!)];
    }
    return out;
  };
}

/**
 * A map as a plain object. It has no prototype, so a field named `__proto__` or `constructor` is
 * an ordinary key: a server reply can never change an object's prototype.
 */
export function mapOf(value: Decoder): Decoder {
  return (reply) => {
    const out: Record<string, unknown> = Object.create(null);
    if (reply instanceof Map) {
      for (const [k, v] of reply) out[textKey(k)] = value(v);
      return out;
    }
    if (!Array.isArray(reply) || reply.length % 2 !== 0) return unexpected('a map', reply);
    for (let i = 0; i < reply.length; i += 2) out[textKey(reply[i]!)] = value(reply[i + 1]!);
    return out;
  };
}

/**
 * A map with known fields (a flat RESP2 array or a RESP3 map), decoded into an object with exactly
 * those fields, each by its own decoder. A field the server adds that the spec does not name is left
 * out (servers add fields over versions); a missing one that is not `optional` is a protocol error.
 */
export function recordOf(fields: Readonly<Record<string, Decoder>>, optional: readonly string[] = []): Decoder {
  const names = Object.keys(fields);
  return (reply) => {
    const raw = new Map<string, RespValue>();
    if (reply instanceof Map) {
      for (const [k, v] of reply) raw.set(textKey(k), v);
    } else if (Array.isArray(reply) && reply.length % 2 === 0) {
      for (let i = 0; i < reply.length; i += 2) raw.set(textKey(reply[i]!), reply[i + 1]!);
    } else {
      return unexpected(`a map with ${names.join(', ')}`, reply);
    }
    const out: Record<string, unknown> = {};
    for (const name of names) {
      if (!raw.has(name)) {
        if (optional.includes(name)) continue;
        return unexpected(`a map with the field "${name}"`, reply);
      }
      out[name] = fields[name]!(raw.get(name)!);
    }
    return out;
  };
}

function textKey(key: RespValue): string {
  if (typeof key === 'string') return key;
  if (Buffer.isBuffer(key)) return key.toString('utf8');
  if (typeof key === 'number' || typeof key === 'bigint') return String(key);
  return unexpected('a string key', key);
}

/** The first alternative that accepts the reply. */
export function oneOf(...alternatives: Decoder[]): Decoder {
  return (reply) => {
    for (const decode of alternatives) {
      try {
        return decode(reply);
      } catch (error) {
        if (!(error instanceof GoCacheProtocolError)) throw error;
      }
    }
    return unexpected('one of the declared reply types', reply);
  };
}

/** A reply decoded by `from`, then parsed from text by a hand-written parser (src/runtime/reply-parsers.ts). */
export function parsed<T>(from: Decoder, parse: (text: string) => T): Decoder {
  return (reply) => {
    const raw = from(reply) as RespValue;
    if (typeof raw === 'string') return parse(raw);
    if (Buffer.isBuffer(raw)) return parse(raw.toString('utf8'));
    return unexpected('a string', raw);
  };
}
