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

/**
 * Raw bytes (DUMP's payload) as a Buffer, whatever the view. The client reads such a reply as bytes
 * (its descriptor says `replyBytes`), so it arrives as a Buffer. A string means the reply was decoded
 * as UTF-8 on the way: that is only exact when no byte was invalid UTF-8, which a U+FFFD in the text
 * would betray, so such a string is refused rather than turned into bytes the server never sent.
 */
export const bytes: Decoder = (reply) => {
  if (Buffer.isBuffer(reply)) return reply;
  if (typeof reply === 'string') {
    if (!reply.includes('\ufffd')) return Buffer.from(reply, 'utf8');
    throw new GoCacheProtocolError('Expected raw bytes in the reply, got text that lost bytes to UTF-8 decoding (the reply must be read as bytes)');
  }
  return unexpected('raw bytes', reply);
};

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

// Plain decimal digits, as Redis writes a count (no sign but '-', no spaces, no exponent).
const INTEGER_TEXT = /^-?\d+$/;

/**
 * An integer the server sends as text (XPENDING's per-consumer counts are bulk strings, in RESP3 too),
 * or as an integer. Only plain decimal digits, within ±(2^53 - 1): the count must be the server's exactly.
 */
export const integerString: Decoder = (reply) => {
  if (typeof reply === 'number') return integer(reply);
  if (typeof reply === 'string' || Buffer.isBuffer(reply)) {
    const text = textOf(reply);
    const value = Number(text);
    // `-0` is 0: a count has no sign of zero.
    if (INTEGER_TEXT.test(text) && Number.isSafeInteger(value)) return value === 0 ? 0 : value;
  }
  return unexpected('an integer as text', reply);
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

/**
 * Pairs as [first, second] tuples, from a flat RESP2 array or a RESP3 array of pairs (or a map). With
 * `names`, each pair is an object instead (`{ stream, entries }` for XREAD, whose RESP2 reply is an array
 * of [stream, entries] and RESP3 reply a map). The order and every pair are kept: a repeated first is not merged.
 */
export function pairsOf(first: Decoder, second: Decoder, names?: readonly [string, string]): Decoder {
  const pair = names === undefined ? (a: RespValue, b: RespValue): unknown => [first(a), second(b)] : (a: RespValue, b: RespValue): unknown => ({ [names[0]]: first(a), [names[1]]: second(b) });
  return (reply) => {
    if (reply instanceof Map) return [...reply].map(([a, b]) => pair(a, b));
    if (!Array.isArray(reply)) return unexpected('an array of pairs', reply);
    const nested = reply.length > 0 && Array.isArray(reply[0]);
    if (nested) {
      return reply.map((item) => {
        if (!Array.isArray(item) || item.length !== 2) return unexpected('a pair', item);
        return pair(item[0]!, item[1]!);
      });
    }
    if (reply.length % 2 !== 0) return unexpected('an even number of elements', reply);
    const out = new Array<unknown>(reply.length / 2);
    for (let i = 0; i < reply.length; i += 2) {
      // Flat, since the first element is not an array: a later pair in the nested form is a mix of both.
      if (Array.isArray(reply[i])) return unexpected('pairs all flat or all nested', reply);
      out[i / 2] = pair(reply[i]!, reply[i + 1]!);
    }
    return out;
  };
}

/**
 * A fixed-position array as an object (a stream entry `[id, fields]` as `{ id, fields }`): the
 * elements in the order of `fields`, each by its own decoder. The `optional` names (the last ones) may
 * be missing, and are then absent; elements after the named ones are left out, as servers add
 * elements over versions (XAUTOCLAIM's third in Redis 7.0).
 */
export function namedTupleOf(fields: Readonly<Record<string, Decoder>>, optional: readonly string[] = []): Decoder {
  const names = Object.keys(fields);
  const required = names.filter((name) => !optional.includes(name)).length;
  return (reply) => {
    if (!Array.isArray(reply) || reply.length < required) return unexpected(`an array of at least ${required}`, reply);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < names.length && i < reply.length; i++) out[names[i]!] = fields[names[i]!]!(reply[i]!);
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
 * `wire` names the server's field for a property whose name differs (`radixTreeKeys: 'radix-tree-keys'`).
 */
export function recordOf(fields: Readonly<Record<string, Decoder>>, optional: readonly string[] = [], wire: Readonly<Record<string, string>> = {}): Decoder {
  const names = Object.keys(fields);
  const serverName = (name: string) => wire[name] ?? name;
  return (reply) => {
    const raw = new Map<string, RespValue>();
    if (reply instanceof Map) {
      for (const [k, v] of reply) raw.set(textKey(k), v);
    } else if (Array.isArray(reply) && reply.length % 2 === 0) {
      for (let i = 0; i < reply.length; i += 2) raw.set(textKey(reply[i]!), reply[i + 1]!);
    } else {
      return unexpected(`a map with ${names.map(serverName).join(', ')}`, reply);
    }
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const field = serverName(name);
      if (!raw.has(field)) {
        if (optional.includes(name)) continue;
        return unexpected(`a map with the field "${field}"`, reply);
      }
      out[name] = fields[name]!(raw.get(field)!);
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
