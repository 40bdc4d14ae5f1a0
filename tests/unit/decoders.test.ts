/**
 * The reply decoders against every shape the parser can produce (RESP2 and RESP3).
 *
 * The main table is a full cross product: every decoder meets every input. A row's expected value
 * is written by hand in the decoder's `accepts` list; an input missing from that list must be
 * refused with a GoCacheProtocolError. So a decoder that starts to accept something new (an integer
 * decoder that takes the bulk string '1', a boolean decoder that takes 2, a map decoder that takes an
 * odd-length array) fails a row, and so does one that stops accepting a shape it should take.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  anyReply,
  arrayOf,
  bigNumber,
  boolean,
  bulkString,
  bytes,
  double,
  integer,
  integerString,
  literal,
  mapOf,
  namedTupleOf,
  nil,
  nullable,
  oneOf,
  pairsOf,
  parsed,
  recordOf,
  tupleOf,
} from '../../src/runtime/decoders.js';
import { GoCacheCommandError, GoCacheProtocolError } from '../../src/runtime/errors.js';
import { RespParser, type RespValue } from '../../src/runtime/resp/parser.js';
import type { Decoder } from '../../src/runtime/types.js';

const OBJECT_PROTOTYPE_KEYS = Reflect.ownKeys(Object.prototype);
afterAll(() => {
  // No decoder input (`__proto__`, `constructor` keys) may ever reach Object.prototype.
  expect(Reflect.ownKeys(Object.prototype)).toEqual(OBJECT_PROTOTYPE_KEYS);
});

const MAX = Number.MAX_SAFE_INTEGER;
const buf = (text: string): Buffer => Buffer.from(text, 'utf8');
const error = (message: string): GoCacheCommandError => new GoCacheCommandError(message);

/**
 * Every input, made fresh for each row (so a decoder that mutates its input cannot hide it from the
 * next row). Prefixes say which parser output it stands for:
 *   str   simple string, bulk string (string mode), verbatim string (RESP3)
 *   buf   bulk or verbatim string in buffer mode
 *   int   RESP2/RESP3 integer (or a RESP3 double with an integral value: the parser gives both as numbers)
 *   num   RESP3 double (or an integer line past 2^53, which the parser rounds)
 *   big   RESP3 big number `(`
 *   bool  RESP3 boolean `#`
 *   null  `$-1`, `*-1`, `_`
 *   error a nested error reply (`-`, `!`), a value inside an aggregate
 *   arr   array or set (RESP2 `*`, RESP3 `~`, nested pushes)
 *   map   RESP3 map `%`
 */
const makeInputs = () =>
  ({
    "str 'OK'": 'OK',
    "str ''": '',
    "str 'hello'": 'hello',
    "str '0'": '0',
    "str '1'": '1',
    "str '-12'": '-12',
    "str '+1'": '+1',
    "str '1.5'": '1.5',
    "str '-0.5'": '-0.5',
    "str '.5'": '.5',
    "str '5.'": '5.',
    "str '1e3'": '1e3',
    "str '-1.5E-3'": '-1.5E-3',
    "str '12345678901234567890'": '12345678901234567890',
    "str '-12345678901234567890'": '-12345678901234567890',
    "str 'inf'": 'inf',
    "str '+inf'": '+inf',
    "str '-inf'": '-inf',
    "str 'nan'": 'nan',
    "str '-nan'": '-nan',
    "str 'INF'": 'INF',
    "str 'Infinity'": 'Infinity',
    "str 'NaN'": 'NaN',
    "str ' 1'": ' 1',
    "str '1 '": '1 ',
    "str '0x10'": '0x10',
    "str '1_000'": '1_000',
    "str '1e'": '1e',
    "str '-'": '-',
    "str '.'": '.',
    "str '1.2.3'": '1.2.3',
    "str '١' (Arabic-Indic one)": '١',
    "str '__proto__'": '__proto__',
    // What the parser makes of bytes that are not UTF-8 when it decodes text: each becomes U+FFFD.
    "str '\ufffd' (bytes lost to UTF-8)": 'a\ufffdb',

    "buf 'OK'": buf('OK'),
    "buf ''": Buffer.alloc(0),
    "buf 'hello'": buf('hello'),
    "buf '42'": buf('42'),
    "buf '1.5'": buf('1.5'),
    "buf '-inf'": buf('-inf'),
    "buf ' 1'": buf(' 1'),
    'buf ff 00': Buffer.from([0xff, 0x00]),

    'int 0': 0,
    'int 1': 1,
    'int -1': -1,
    'int 2': 2,
    'int 42': 42,
    'int -0 (RESP3 ,-0)': -0,
    'int MAX_SAFE_INTEGER': MAX,
    'int -MAX_SAFE_INTEGER': -MAX,
    'num 2^53': 2 ** 53,
    'num -2^53': -(2 ** 53),
    'num 1e20': 1e20,
    'num 1.5': 1.5,
    'num -0.25': -0.25,
    'num Infinity': Infinity,
    'num -Infinity': -Infinity,
    'num NaN': NaN,

    'big 0n': 0n,
    'big -5n': -5n,
    'big 12345678901234567890n': 12345678901234567890n,

    'bool true': true,
    'bool false': false,

    null: null,

    'error ERR boom': error('ERR boom'),

    'arr []': [],
    "arr ['a']": ['a'],
    "arr ['OK']": ['OK'],
    "arr ['a', 'b']": ['a', 'b'],
    "arr ['a', '1']": ['a', '1'],
    "arr ['a', '1', 'b', '2']": ['a', '1', 'b', '2'],
    "arr ['a', '1', 'b'] (odd)": ['a', '1', 'b'],
    "arr ['a', '1', 'a', '2'] (duplicate key)": ['a', '1', 'a', '2'],
    "arr ['__proto__', '1']": ['__proto__', '1'],
    "arr ['__proto__', '1', 'constructor', '2', 'toString', '3']": ['__proto__', '1', 'constructor', '2', 'toString', '3'],
    "arr ['__proto__', ['polluted']]": ['__proto__', ['polluted']],
    'arr [1, 2, 3]': [1, 2, 3],
    'arr [1, 2]': [1, 2],
    "arr [1, '2']": [1, '2'],
    "arr ['a', 1]": ['a', 1],
    "arr ['a', 1, 'x'] (one more)": ['a', 1, 'x'],
    'arr [1, null]': [1, null],
    'arr [null]': [null],
    'arr [1, 1.5]': [1, 1.5],
    'arr [1, 2^53]': [1, 2 ** 53],
    'arr [1, error]': [1, error('ERR nested')],
    "arr [buf 'a', buf '1']": [buf('a'), buf('1')],
    "arr [['a', '1'], ['b', '2']]": [
      ['a', '1'],
      ['b', '2'],
    ],
    "arr [['a', 1.5], ['b', Infinity]]": [
      ['a', 1.5],
      ['b', Infinity],
    ],
    "arr [['a', '1'], 'b', '2'] (nested, then flat)": [['a', '1'], 'b', '2'],
    "arr ['a', '1', ['b', '2']] (flat, then nested)": ['a', '1', ['b', '2']],
    "arr ['a', '1', ['b', '2'], 'c'] (flat, then nested)": ['a', '1', ['b', '2'], 'c'],
    "arr [['a', '1', 'x']]": [['a', '1', 'x']],
    "arr [['a']]": [['a']],
    'arr [[]]': [[]],
    'arr [[1, [2, [3]]]]': [[1, [2, [3]]]],

    'map {}': new Map(),
    "map {'a' => '1', 'b' => '2'}": new Map<RespValue, RespValue>([
      ['a', '1'],
      ['b', '2'],
    ]),
    "map {'a' => 1, 'b' => 2}": new Map<RespValue, RespValue>([
      ['a', 1],
      ['b', 2],
    ]),
    "map {'a' => 1.5, 'b' => Infinity}": new Map<RespValue, RespValue>([
      ['a', 1.5],
      ['b', Infinity],
    ]),
    "map {'__proto__' => '1'}": new Map<RespValue, RespValue>([['__proto__', '1']]),
    "map {'__proto__' => ['polluted']}": new Map<RespValue, RespValue>([['__proto__', ['polluted']]]),
    "map {buf 'k' => '1', buf 'k' => '2'} (duplicate key)": new Map<RespValue, RespValue>([
      [buf('k'), '1'],
      [buf('k'), '2'],
    ]),
    "map {1 => 'x'}": new Map<RespValue, RespValue>([[1, 'x']]),
    "map {['a'] => '1'}": new Map<RespValue, RespValue>([[['a'], '1']]),
    "map {null => '1'}": new Map<RespValue, RespValue>([[null, '1']]),
    "map {'a' => null}": new Map<RespValue, RespValue>([['a', null]]),
    "map {'a' => error}": new Map<RespValue, RespValue>([['a', error('ERR nested')]]),
  }) satisfies Record<string, RespValue>;

type InputName = keyof ReturnType<typeof makeInputs>;
const INPUT_NAMES = Object.keys(makeInputs()) as InputName[];

/** The decoder must return a value equal to its input. */
const AS_IS = Symbol('as is');
/** The decoder must throw GoCacheProtocolError. */
const PROTOCOL_ERROR = Symbol('GoCacheProtocolError');

/** A null-prototype object with these own keys, in this order (what mapOf returns). */
function record(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Strict deep equality: a string is not a Buffer, numbers by Object.is (NaN is NaN, -0 is not 0),
 * objects must have the same prototype and the same own keys in the same order.
 */
function same(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') return typeof actual === 'number' && Object.is(actual, expected);
  if (expected === null || typeof expected !== 'object') return actual === expected;
  if (Buffer.isBuffer(expected)) return Buffer.isBuffer(actual) && actual.equals(expected);
  if (expected instanceof GoCacheCommandError) return actual instanceof GoCacheCommandError && actual.message === expected.message;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => same(actual[i], item));
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map) || actual.size !== expected.size) return false;
    const right = [...actual];
    return [...expected].every(([k, v], i) => same(right[i]![0], k) && same(right[i]![1], v));
  }
  if (actual === null || typeof actual !== 'object') return false;
  if (Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) return false;
  const keys = Reflect.ownKeys(expected);
  const actualKeys = Reflect.ownKeys(actual);
  if (actualKeys.length !== keys.length || !keys.every((key, i) => actualKeys[i] === key)) return false;
  if (Object.keys(actual).length !== keys.length) return false; // all enumerable
  return keys.every((key) => same((actual as Record<PropertyKey, unknown>)[key], (expected as Record<PropertyKey, unknown>)[key]));
}

function show(value: unknown): string {
  if (value === PROTOCOL_ERROR) return 'GoCacheProtocolError';
  if (value === AS_IS) return 'as is';
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return Object.is(v, -0) ? '-0' : String(v);
    if (v instanceof GoCacheCommandError) return { error: v.message };
    if (v instanceof Map) return { map: [...v] };
    if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
      return { buffer: Buffer.from((v as { data: number[] }).data).toString('hex') };
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === null) return { nullProto: { ...v } };
    return v;
  });
  return text ?? String(value);
}

type Accepts = Partial<Record<InputName, unknown>>;

/** `AS_IS` for every input of these kinds (the prefix of its name: 'str', 'buf', 'int', ...). */
function asIs(...kinds: string[]): Accepts {
  return Object.fromEntries(INPUT_NAMES.filter((name) => kinds.includes(name.split(' ')[0]!)).map((name) => [name, AS_IS]));
}

/** `AS_IS` for exactly these inputs. */
function asIsExactly(...names: InputName[]): Accepts {
  return Object.fromEntries(names.map((name) => [name, AS_IS]));
}

const INTEGERS = {
  'int 0': 0,
  'int 1': 1,
  'int -1': -1,
  'int 2': 2,
  'int 42': 42,
  // `,-0` (a RESP3 double) cannot be told from `:0` by type, only by sign: accepted as it is.
  'int -0 (RESP3 ,-0)': -0,
  'int MAX_SAFE_INTEGER': MAX,
  'int -MAX_SAFE_INTEGER': -MAX,
} satisfies Accepts;

const DOUBLES_FROM_TEXT = {
  "str '0'": 0,
  "str '1'": 1,
  "str '-12'": -12,
  "str '+1'": 1,
  "str '1.5'": 1.5,
  "str '-0.5'": -0.5,
  "str '.5'": 0.5,
  "str '5.'": 5,
  "str '1e3'": 1000,
  "str '-1.5E-3'": -0.0015,
  "str '12345678901234567890'": 12345678901234567000,
  "str '-12345678901234567890'": -12345678901234567000,
  "str 'inf'": Infinity,
  "str '+inf'": Infinity,
  "str '-inf'": -Infinity,
  "str 'nan'": NaN,
  "str '-nan'": NaN,
  "buf '42'": 42,
  "buf '1.5'": 1.5,
  "buf '-inf'": -Infinity,
} satisfies Accepts;

const STRINGS_PARSED = {
  ...Object.fromEntries(
    INPUT_NAMES.filter((name) => name.startsWith('str ')).map((name) => [name, `parsed:${makeInputs()[name] as string}`]),
  ),
  "buf 'OK'": 'parsed:OK',
  "buf ''": 'parsed:',
  "buf 'hello'": 'parsed:hello',
  "buf '42'": 'parsed:42',
  "buf '1.5'": 'parsed:1.5',
  "buf '-inf'": 'parsed:-inf',
  "buf ' 1'": 'parsed: 1',
  'buf ff 00': 'parsed:\ufffd\u0000',
} as Accepts;

const PAIRS_OF_STRING_AND_DOUBLE = {
  'arr []': [],
  "arr ['a', '1']": [['a', 1]],
  "arr ['a', '1', 'b', '2']": [
    ['a', 1],
    ['b', 2],
  ],
  // Pairs keep every pair: a duplicate first element is not merged.
  "arr ['a', '1', 'a', '2'] (duplicate key)": [
    ['a', 1],
    ['a', 2],
  ],
  "arr ['__proto__', '1']": [['__proto__', 1]],
  "arr ['__proto__', '1', 'constructor', '2', 'toString', '3']": [
    ['__proto__', 1],
    ['constructor', 2],
    ['toString', 3],
  ],
  "arr ['a', 1]": [['a', 1]],
  "arr [buf 'a', buf '1']": [[buf('a'), 1]],
  "arr [['a', '1'], ['b', '2']]": [
    ['a', 1],
    ['b', 2],
  ],
  "arr [['a', 1.5], ['b', Infinity]]": [
    ['a', 1.5],
    ['b', Infinity],
  ],
  'map {}': [],
  "map {'a' => '1', 'b' => '2'}": [
    ['a', 1],
    ['b', 2],
  ],
  "map {'a' => 1, 'b' => 2}": [
    ['a', 1],
    ['b', 2],
  ],
  "map {'a' => 1.5, 'b' => Infinity}": [
    ['a', 1.5],
    ['b', Infinity],
  ],
  "map {'__proto__' => '1'}": [['__proto__', 1]],
  "map {buf 'k' => '1', buf 'k' => '2'} (duplicate key)": [
    [buf('k'), 1],
    [buf('k'), 2],
  ],
} satisfies Accepts;

const PAIRS_AS_THEY_ARE = {
  'arr []': [],
  "arr ['a', 'b']": [['a', 'b']],
  "arr ['a', '1']": [['a', '1']],
  "arr ['a', '1', 'b', '2']": [
    ['a', '1'],
    ['b', '2'],
  ],
  "arr ['a', '1', 'a', '2'] (duplicate key)": [
    ['a', '1'],
    ['a', '2'],
  ],
  "arr ['__proto__', '1']": [['__proto__', '1']],
  "arr ['__proto__', '1', 'constructor', '2', 'toString', '3']": [
    ['__proto__', '1'],
    ['constructor', '2'],
    ['toString', '3'],
  ],
  // Flat: the first element is not an array, so an array in second position is a value.
  "arr ['__proto__', ['polluted']]": [['__proto__', ['polluted']]],
  'arr [1, 2]': [[1, 2]],
  "arr [1, '2']": [[1, '2']],
  "arr ['a', 1]": [['a', 1]],
  'arr [1, null]': [[1, null]],
  'arr [1, 1.5]': [[1, 1.5]],
  'arr [1, 2^53]': [[1, 2 ** 53]],
  'arr [1, error]': [[1, error('ERR nested')]],
  "arr [buf 'a', buf '1']": [[buf('a'), buf('1')]],
  "arr [['a', '1'], ['b', '2']]": [
    ['a', '1'],
    ['b', '2'],
  ],
  "arr [['a', 1.5], ['b', Infinity]]": [
    ['a', 1.5],
    ['b', Infinity],
  ],
  'arr [[1, [2, [3]]]]': [[1, [2, [3]]]],
  'map {}': [],
  "map {'a' => '1', 'b' => '2'}": [
    ['a', '1'],
    ['b', '2'],
  ],
  "map {'a' => 1, 'b' => 2}": [
    ['a', 1],
    ['b', 2],
  ],
  "map {'a' => 1.5, 'b' => Infinity}": [
    ['a', 1.5],
    ['b', Infinity],
  ],
  "map {'__proto__' => '1'}": [['__proto__', '1']],
  "map {'__proto__' => ['polluted']}": [['__proto__', ['polluted']]],
  "map {buf 'k' => '1', buf 'k' => '2'} (duplicate key)": [
    [buf('k'), '1'],
    [buf('k'), '2'],
  ],
  "map {1 => 'x'}": [[1, 'x']],
  "map {['a'] => '1'}": [[['a'], '1']],
  "map {null => '1'}": [[null, '1']],
  "map {'a' => null}": [['a', null]],
  "map {'a' => error}": [['a', error('ERR nested')]],
} satisfies Accepts;

interface DecoderCase {
  name: string;
  decode: Decoder;
  /** Inputs the decoder accepts, with what it must return; every other input must be refused. */
  accepts: Accepts;
}

const CASES: DecoderCase[] = [
  { name: 'bulkString', decode: bulkString, accepts: asIs('str', 'buf') },
  {
    // Raw bytes: a Buffer as it came; text only when it cannot have lost a byte to UTF-8 decoding.
    name: 'bytes',
    decode: bytes,
    accepts: {
      ...asIs('buf'),
      ...Object.fromEntries(
        INPUT_NAMES.filter((name) => name.startsWith('str ') && !name.includes('lost')).map((name) => [name, Buffer.from(makeInputs()[name] as string, 'utf8')]),
      ),
    },
  },
  { name: 'anyReply', decode: anyReply, accepts: Object.fromEntries(INPUT_NAMES.map((name) => [name, AS_IS])) },
  { name: 'nil', decode: nil, accepts: { null: null } },
  { name: 'integer', decode: integer, accepts: INTEGERS },
  {
    // XPENDING's per-consumer counts: plain decimal text (or an integer), exact or refused.
    name: 'integerString',
    decode: integerString,
    accepts: { ...INTEGERS, "str '0'": 0, "str '1'": 1, "str '-12'": -12, "buf '42'": 42 },
  },
  {
    name: 'double',
    decode: double,
    // Every number is a double (RESP3 `,` and `:` both give numbers), text only in the parser's `,` grammar.
    accepts: { ...asIs('int', 'num'), ...DOUBLES_FROM_TEXT },
  },
  {
    name: 'boolean',
    decode: boolean,
    accepts: { 'bool true': true, 'bool false': false, 'int 1': true, 'int 0': false, 'int -0 (RESP3 ,-0)': false },
  },
  {
    name: 'bigNumber',
    decode: bigNumber,
    accepts: {
      'big 0n': 0n,
      'big -5n': -5n,
      'big 12345678901234567890n': 12345678901234567890n,
      'int 0': 0n,
      'int 1': 1n,
      'int -1': -1n,
      'int 2': 2n,
      'int 42': 42n,
      'int -0 (RESP3 ,-0)': 0n,
      'int MAX_SAFE_INTEGER': 9007199254740991n,
      'int -MAX_SAFE_INTEGER': -9007199254740991n,
      "str '0'": 0n,
      "str '1'": 1n,
      "str '-12'": -12n,
      "str '+1'": 1n,
      "str '12345678901234567890'": 12345678901234567890n,
      "str '-12345678901234567890'": -12345678901234567890n,
      "buf '42'": 42n,
    },
  },
  { name: "literal('OK')", decode: literal('OK'), accepts: { "str 'OK'": 'OK' } },
  { name: 'nullable(integer)', decode: nullable(integer), accepts: { ...INTEGERS, null: null } },
  {
    name: 'arrayOf(integer)',
    decode: arrayOf(integer),
    accepts: { 'arr []': [], 'arr [1, 2, 3]': [1, 2, 3], 'arr [1, 2]': [1, 2] },
  },
  {
    name: 'nullable(arrayOf(nullable(integer)))',
    decode: nullable(arrayOf(nullable(integer))),
    accepts: { null: null, 'arr []': [], 'arr [1, 2, 3]': [1, 2, 3], 'arr [1, 2]': [1, 2], 'arr [1, null]': [1, null], 'arr [null]': [null] },
  },
  {
    name: 'arrayOf(bulkString)',
    decode: arrayOf(bulkString),
    accepts: asIsExactly(
      'arr []',
      "arr ['a']",
      "arr ['OK']",
      "arr ['a', 'b']",
      "arr ['a', '1']",
      "arr ['a', '1', 'b', '2']",
      "arr ['a', '1', 'b'] (odd)",
      "arr ['a', '1', 'a', '2'] (duplicate key)",
      "arr ['__proto__', '1']",
      "arr ['__proto__', '1', 'constructor', '2', 'toString', '3']",
      "arr [buf 'a', buf '1']",
    ),
  },
  {
    name: 'arrayOf(arrayOf(integer))',
    decode: arrayOf(arrayOf(integer)),
    accepts: { 'arr []': [], 'arr [[]]': [[]] },
  },
  { name: 'tupleOf(bulkString, integer)', decode: tupleOf(bulkString, integer), accepts: { "arr ['a', 1]": ['a', 1] } },
  { name: 'tupleOf()', decode: tupleOf(), accepts: { 'arr []': [] } },
  {
    // A positional array as an object; elements after the named ones are left out (servers add some).
    name: 'namedTupleOf({ a: bulkString, b: integer })',
    decode: namedTupleOf({ a: bulkString, b: integer }),
    accepts: { "arr ['a', 1]": { a: 'a', b: 1 }, "arr ['a', 1, 'x'] (one more)": { a: 'a', b: 1 } },
  },
  {
    // An optional last element may be missing: it is then absent, not undefined.
    name: "namedTupleOf({ a: bulkString, b: integer }, ['b'])",
    decode: namedTupleOf({ a: bulkString, b: integer }, ['b']),
    accepts: { "arr ['a']": { a: 'a' }, "arr ['OK']": { a: 'OK' }, "arr ['a', 1]": { a: 'a', b: 1 }, "arr ['a', 1, 'x'] (one more)": { a: 'a', b: 1 } },
  },
  { name: 'pairsOf(bulkString, double)', decode: pairsOf(bulkString, double), accepts: PAIRS_OF_STRING_AND_DOUBLE },
  { name: 'pairsOf(anyReply, anyReply)', decode: pairsOf(anyReply, anyReply), accepts: PAIRS_AS_THEY_ARE },
  {
    // Named pairs: the same pairs, each as an object (XREAD's { stream, entries }).
    name: "pairsOf(anyReply, anyReply, ['k', 'v'])",
    decode: pairsOf(anyReply, anyReply, ['k', 'v']),
    accepts: Object.fromEntries(Object.entries(PAIRS_AS_THEY_ARE).map(([input, pairs]) => [input, (pairs as Array<[unknown, unknown]>).map(([k, v]) => ({ k, v }))])),
  },
  {
    name: 'mapOf(bulkString)',
    decode: mapOf(bulkString),
    accepts: {
      'arr []': record([]),
      "arr ['a', 'b']": record([['a', 'b']]),
      "arr ['a', '1']": record([['a', '1']]),
      "arr ['a', '1', 'b', '2']": record([
        ['a', '1'],
        ['b', '2'],
      ]),
      // A duplicate key: the last value wins, at the first key's place, as RESP3's Map does.
      "arr ['a', '1', 'a', '2'] (duplicate key)": record([['a', '2']]),
      "arr ['__proto__', '1']": record([['__proto__', '1']]),
      "arr ['__proto__', '1', 'constructor', '2', 'toString', '3']": record([
        ['__proto__', '1'],
        ['constructor', '2'],
        ['toString', '3'],
      ]),
      "arr [1, '2']": record([['1', '2']]),
      "arr [buf 'a', buf '1']": record([['a', buf('1')]]),
      'map {}': record([]),
      "map {'a' => '1', 'b' => '2'}": record([
        ['a', '1'],
        ['b', '2'],
      ]),
      "map {'__proto__' => '1'}": record([['__proto__', '1']]),
      "map {buf 'k' => '1', buf 'k' => '2'} (duplicate key)": record([['k', '2']]),
      "map {1 => 'x'}": record([['1', 'x']]),
    },
  },
  {
    // Known fields into a plain object: unnamed fields are left out, a missing optional one is absent.
    name: "recordOf({ a: bulkString, b: integer }, ['b'])",
    decode: recordOf({ a: bulkString, b: integer }, ['b']),
    accepts: {
      "arr ['a', 'b']": { a: 'b' },
      "arr ['a', '1']": { a: '1' },
      "arr ['a', '1', 'a', '2'] (duplicate key)": { a: '2' },
      "arr [buf 'a', buf '1']": { a: buf('1') },
    },
  },
  {
    // A property read from a server field of another name (`radixTreeKeys` from `radix-tree-keys`).
    name: "recordOf({ first: bulkString }, [], { first: 'a' })",
    decode: recordOf({ first: bulkString }, [], { first: 'a' }),
    accepts: {
      "arr ['a', 'b']": { first: 'b' },
      "arr ['a', '1']": { first: '1' },
      "arr ['a', '1', 'b', '2']": { first: '1' },
      "arr ['a', '1', 'a', '2'] (duplicate key)": { first: '2' },
      "arr [buf 'a', buf '1']": { first: buf('1') },
      "map {'a' => '1', 'b' => '2'}": { first: '1' },
    },
  },
  {
    name: 'mapOf(integer)',
    decode: mapOf(integer),
    accepts: {
      'arr []': record([]),
      'arr [1, 2]': record([['1', 2]]),
      "arr ['a', 1]": record([['a', 1]]),
      'map {}': record([]),
      "map {'a' => 1, 'b' => 2}": record([
        ['a', 1],
        ['b', 2],
      ]),
    },
  },
  {
    name: 'mapOf(anyReply)',
    decode: mapOf(anyReply),
    accepts: {
      'arr []': record([]),
      "arr ['a', 'b']": record([['a', 'b']]),
      "arr ['a', '1']": record([['a', '1']]),
      "arr ['a', '1', 'b', '2']": record([
        ['a', '1'],
        ['b', '2'],
      ]),
      "arr ['a', '1', 'a', '2'] (duplicate key)": record([['a', '2']]),
      "arr ['__proto__', '1']": record([['__proto__', '1']]),
      "arr ['__proto__', '1', 'constructor', '2', 'toString', '3']": record([
        ['__proto__', '1'],
        ['constructor', '2'],
        ['toString', '3'],
      ]),
      // An object-like value under `__proto__` still becomes an own key, never the prototype.
      "arr ['__proto__', ['polluted']]": record([['__proto__', ['polluted']]]),
      'arr [1, 2]': record([['1', 2]]),
      "arr [1, '2']": record([['1', '2']]),
      "arr ['a', 1]": record([['a', 1]]),
      'arr [1, null]': record([['1', null]]),
      'arr [1, 1.5]': record([['1', 1.5]]),
      'arr [1, 2^53]': record([['1', 2 ** 53]]),
      'arr [1, error]': record([['1', error('ERR nested')]]),
      "arr [buf 'a', buf '1']": record([['a', buf('1')]]),
      'map {}': record([]),
      "map {'a' => '1', 'b' => '2'}": record([
        ['a', '1'],
        ['b', '2'],
      ]),
      "map {'a' => 1, 'b' => 2}": record([
        ['a', 1],
        ['b', 2],
      ]),
      "map {'a' => 1.5, 'b' => Infinity}": record([
        ['a', 1.5],
        ['b', Infinity],
      ]),
      "map {'__proto__' => '1'}": record([['__proto__', '1']]),
      "map {'__proto__' => ['polluted']}": record([['__proto__', ['polluted']]]),
      "map {buf 'k' => '1', buf 'k' => '2'} (duplicate key)": record([['k', '2']]),
      "map {1 => 'x'}": record([['1', 'x']]),
      "map {'a' => null}": record([['a', null]]),
      "map {'a' => error}": record([['a', error('ERR nested')]]),
    },
  },
  { name: 'oneOf(integer, bulkString)', decode: oneOf(integer, bulkString), accepts: { ...INTEGERS, ...asIs('str', 'buf') } },
  {
    name: 'oneOf(nil, arrayOf(integer))',
    decode: oneOf(nil, arrayOf(integer)),
    accepts: { null: null, 'arr []': [], 'arr [1, 2, 3]': [1, 2, 3], 'arr [1, 2]': [1, 2] },
  },
  { name: 'oneOf()', decode: oneOf(), accepts: {} },
  { name: 'parsed(bulkString, text => `parsed:${text}`)', decode: parsed(bulkString, (text) => `parsed:${text}`), accepts: STRINGS_PARSED },
  {
    // `from` may let null through (a mistake in a spec): still a protocol error, not a TypeError.
    name: 'parsed(nullable(bulkString), text => `parsed:${text}`)',
    decode: parsed(nullable(bulkString), (text) => `parsed:${text}`),
    accepts: STRINGS_PARSED,
  },
];

interface Row {
  title: string;
  decoder: DecoderCase;
  input: InputName;
  expected: unknown;
}

const ROWS: Row[] = CASES.flatMap((decoder) =>
  INPUT_NAMES.map((input) => {
    const expected = Object.hasOwn(decoder.accepts, input) ? decoder.accepts[input] : PROTOCOL_ERROR;
    return { title: `${decoder.name}(${input}) → ${show(expected)}`, decoder, input, expected };
  }),
);

describe('the table itself', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: every accepted input is a known input', (_name, c) => {
    const unknown = Object.keys(c.accepts).filter((name) => !INPUT_NAMES.includes(name as InputName));
    expect(unknown).toEqual([]);
  });

  it('has a row for every decoder and every input, and every exported decoder has a case', async () => {
    expect(ROWS.length).toBe(CASES.length * INPUT_NAMES.length);
    const exported = Object.keys(await import('../../src/runtime/decoders.js')).sort();
    const covered = new Set(CASES.map((c) => /^\w+/.exec(c.name)![0]));
    expect(exported.filter((name) => !covered.has(name))).toEqual([]);
  });

  it('same() tells apart what the rows must tell apart', () => {
    expect(same('1', buf('1'))).toBe(false);
    expect(same(0, -0)).toBe(false);
    expect(same(NaN, NaN)).toBe(true);
    expect(same(1n, 1)).toBe(false);
    expect(same({ a: 1 }, record([['a', 1]]))).toBe(false);
    expect(same(record([['b', 1], ['a', 1]]), record([['a', 1], ['b', 1]]))).toBe(false);
    expect(same(record([['a', 1]]), record([['a', 1]]))).toBe(true);
    expect(same([['a', 1]], [['a', 1], ['b', 2]])).toBe(false);
  });
});

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, decoderCase) => {
  const rows = ROWS.filter((row) => row.decoder === decoderCase).map((row) => [row.title, row] as const);
  it.each(rows)('%s', (_title, { decoder, input, expected }) => {
    const value = makeInputs()[input] as RespValue;
    if (expected === PROTOCOL_ERROR) {
      let thrown: unknown;
      let returned: unknown;
      try {
        returned = decoder.decode(value);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, `accepted, returned ${show(returned)}`).toBeInstanceOf(GoCacheProtocolError);
      // The message names what was expected and what came.
      expect((thrown as Error).message).toMatch(/^Expected .+ in the reply, got .+/s);
    } else {
      const want = expected === AS_IS ? makeInputs()[input] : expected;
      const got = decoder.decode(value);
      expect(same(got, want), `got ${show(got)}, want ${show(want)}`).toBe(true);
    }
    // No decoder changes its input.
    expect(same(value, makeInputs()[input]), `input changed to ${show(value)}`).toBe(true);
  });
});

describe('anyReply and bulkString hand the reply over as it came', () => {
  it.each(INPUT_NAMES.map((name) => [name] as const))('anyReply(%s) is the same reference', (name) => {
    const value = makeInputs()[name];
    expect(anyReply(value)).toBe(value);
  });

  it('bulkString returns the very Buffer it was given (no copy, no decoding)', () => {
    const value = Buffer.from([0xff, 0xfe]);
    expect(bulkString(value)).toBe(value);
  });
});

describe('mapOf never lets a key reach a prototype', () => {
  it.each([
    ['a flat RESP2 array', ['__proto__', 'x', 'constructor', 'y']],
    ['a RESP3 map', new Map<RespValue, RespValue>([['__proto__', 'x'], ['constructor', 'y']])],
    ['a key given as a Buffer', [buf('__proto__'), 'x', buf('constructor'), 'y']],
  ] as const)('%s', (_title, reply) => {
    const out = mapOf(bulkString)(reply as RespValue) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe('x');
    expect(Object.getOwnPropertyDescriptor(out, 'constructor')?.value).toBe('y');
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('an array value under __proto__ stays a value (the prototype is still null)', () => {
    const out = mapOf(anyReply)(['__proto__', ['polluted']]) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual(['polluted']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('error messages name what was expected and what came', () => {
  it.each<[string, Decoder, RespValue, string]>([
    ['integer of a bulk string', integer, '1', 'Expected an integer in the reply, got the string "1"'],
    ['integer of a double', integer, 1.5, 'Expected an integer in the reply, got number 1.5'],
    ['integer past 2^53', integer, 2 ** 53, 'Expected an integer within ±(2^53 - 1) in the reply, got number 9007199254740992'],
    ['integer of an error value', integer, error('ERR boom'), 'Expected an integer in the reply, got the error reply "ERR boom"'],
    ['boolean of 2', boolean, 2, 'Expected a boolean (0 or 1) in the reply, got number 2'],
    ['double of an empty string', double, '', 'Expected a double in the reply, got the string ""'],
    ['double of " 1"', double, ' 1', 'Expected a double in the reply, got the string " 1"'],
    ['double of null', double, null, 'Expected a double in the reply, got null'],
    ['bigNumber of "1.5"', bigNumber, '1.5', 'Expected a big number in the reply, got the string "1.5"'],
    ['bigNumber of a Buffer', bigNumber, buf('x'), 'Expected a big number in the reply, got a 1-byte bulk string'],
    ['mapOf of an odd-length array', mapOf(bulkString), ['a', '1', 'b'], 'Expected a map in the reply, got an array of 3'],
    ['mapOf with an array key', mapOf(bulkString), [['a'], '1'], 'Expected a string key in the reply, got an array of 1'],
    ['pairsOf of an odd-length array', pairsOf(bulkString, bulkString), ['a', '1', 'b'], 'Expected an even number of elements in the reply, got an array of 3'],
    ['pairsOf with a pair after flat elements', pairsOf(anyReply, anyReply), ['a', '1', ['b', '2'], 'c'], 'Expected pairs all flat or all nested in the reply, got an array of 4'],
    ['pairsOf with a flat element after a pair', pairsOf(bulkString, bulkString), [['a', '1'], 'b'], 'Expected a pair in the reply, got the string "b"'],
    ['tupleOf of the wrong length', tupleOf(bulkString, integer), ['a'], 'Expected an array of 2 in the reply, got an array of 1'],
    ['namedTupleOf of too few elements', namedTupleOf({ id: bulkString, fields: anyReply }), ['1-1'], 'Expected an array of at least 2 in the reply, got an array of 1'],
    ['recordOf names the server field', recordOf({ radixTreeKeys: integer }, [], { radixTreeKeys: 'radix-tree-keys' }), ['length', 1], 'Expected a map with the field "radix-tree-keys" in the reply, got an array of 2'],
    ['bytes of text that lost bytes', bytes, 'a\ufffd', 'Expected raw bytes in the reply, got text that lost bytes to UTF-8 decoding (the reply must be read as bytes)'],
    ['bytes of an integer', bytes, 1, 'Expected raw bytes in the reply, got number 1'],
    ['integerString of a double text', integerString, '1.5', 'Expected an integer as text in the reply, got the string "1.5"'],
    ['integerString past 2^53', integerString, '9007199254740993', 'Expected an integer as text in the reply, got the string "9007199254740993"'],
    ['literal of another string', literal('OK'), 'QUEUED', 'Expected "OK" in the reply, got the string "QUEUED"'],
    ['nil of a map', nil, new Map(), 'Expected null in the reply, got a map'],
    ['oneOf when none accepts', oneOf(integer, nil), 'x', 'Expected one of the declared reply types in the reply, got the string "x"'],
    ['bulkString of a number', bulkString, 1, 'Expected a string in the reply, got number 1'],
    ['a long string is shortened', integer, 'x'.repeat(100), `Expected an integer in the reply, got the string "${'x'.repeat(40)}…"`],
  ])('%s', (_title, decode, reply, message) => {
    let thrown: unknown;
    try {
      decode(reply);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GoCacheProtocolError);
    expect((thrown as Error).message).toBe(message);
  });
});

// ---------------------------------------------------------------------------------------------------
// RESP2 and RESP3: the same decoder over the bytes each protocol sends gives the same value.

function parseWire(wire: string, returnBuffers: boolean): RespValue {
  const replies: RespValue[] = [];
  const parser = new RespParser({ onReply: (value) => replies.push(value) });
  parser.returnBuffers = returnBuffers;
  parser.feed(Buffer.from(wire, 'utf8'));
  expect(replies).toHaveLength(1);
  return replies[0]!;
}

const bulk = (text: string): string => `$${Buffer.byteLength(text, 'utf8')}\r\n${text}\r\n`;

describe('RESP2 and RESP3 bytes decode to the same value', () => {
  it.each<[string, Decoder, string, string, unknown]>([
    ['a double', double, bulk('1.5'), ',1.5\r\n', 1.5],
    ['a double in exponent form', double, bulk('1e+20'), ',1e+20\r\n', 1e20],
    ['an integral double', double, bulk('3'), ',3\r\n', 3],
    ['inf', double, bulk('inf'), ',inf\r\n', Infinity],
    ['-inf', double, bulk('-inf'), ',-inf\r\n', -Infinity],
    ['nan', double, bulk('nan'), ',nan\r\n', NaN],
    ['-0', double, bulk('-0'), ',-0\r\n', -0],
    ['a nullable double, null', nullable(double), '$-1\r\n', '_\r\n', null],
    ['true', boolean, ':1\r\n', '#t\r\n', true],
    ['false', boolean, ':0\r\n', '#f\r\n', false],
    ['null from $-1 and _', nil, '$-1\r\n', '_\r\n', null],
    ['null from *-1 and _', nil, '*-1\r\n', '_\r\n', null],
    ['a big number', bigNumber, bulk('12345678901234567890'), '(12345678901234567890\r\n', 12345678901234567890n],
    ['a negative big number', bigNumber, bulk('-3'), '(-3\r\n', -3n],
    ['a set', arrayOf(bulkString), `*2\r\n${bulk('a')}${bulk('b')}`, `~2\r\n${bulk('a')}${bulk('b')}`, ['a', 'b']],
    ['a verbatim string', bulkString, bulk('hello'), '=9\r\ntxt:hello\r\n', 'hello'],
    [
      'a map',
      mapOf(integer),
      `*4\r\n${bulk('a')}:1\r\n${bulk('b')}:2\r\n`,
      `%2\r\n${bulk('a')}:1\r\n${bulk('b')}:2\r\n`,
      record([
        ['a', 1],
        ['b', 2],
      ]),
    ],
    [
      'a map with a duplicate key',
      mapOf(integer),
      `*6\r\n${bulk('a')}:1\r\n${bulk('b')}:2\r\n${bulk('a')}:3\r\n`,
      `%3\r\n${bulk('a')}:1\r\n${bulk('b')}:2\r\n${bulk('a')}:3\r\n`,
      record([
        ['a', 3],
        ['b', 2],
      ]),
    ],
    [
      'a map with __proto__ and constructor keys',
      mapOf(bulkString),
      `*4\r\n${bulk('__proto__')}${bulk('x')}${bulk('constructor')}${bulk('y')}`,
      `%2\r\n${bulk('__proto__')}${bulk('x')}${bulk('constructor')}${bulk('y')}`,
      record([
        ['__proto__', 'x'],
        ['constructor', 'y'],
      ]),
    ],
    [
      'pairs with scores (ZRANGE WITHSCORES): flat, then nested',
      pairsOf(bulkString, double),
      `*4\r\n${bulk('a')}${bulk('1.5')}${bulk('b')}${bulk('inf')}`,
      `*2\r\n*2\r\n${bulk('a')},1.5\r\n*2\r\n${bulk('b')},inf\r\n`,
      [
        ['a', 1.5],
        ['b', Infinity],
      ],
    ],
    [
      'pairs: flat, then a map',
      pairsOf(bulkString, bulkString),
      `*4\r\n${bulk('f')}${bulk('1')}${bulk('g')}${bulk('2')}`,
      `%2\r\n${bulk('f')}${bulk('1')}${bulk('g')}${bulk('2')}`,
      [
        ['f', '1'],
        ['g', '2'],
      ],
    ],
    ['empty pairs', pairsOf(bulkString, double), '*0\r\n', '*0\r\n', []],
    ['an empty map', mapOf(bulkString), '*0\r\n', '%0\r\n', record([])],
    ['a nested null in an array', arrayOf(nullable(bulkString)), `*2\r\n${bulk('a')}$-1\r\n`, `*2\r\n${bulk('a')}_\r\n`, ['a', null]],
    [
      "XREAD's streams: nested arrays, then a map",
      pairsOf(bulkString, arrayOf(namedTupleOf({ id: bulkString, fields: pairsOf(bulkString, bulkString) })), ['stream', 'entries']),
      `*1\r\n*2\r\n${bulk('s')}*1\r\n*2\r\n${bulk('1-1')}*4\r\n${bulk('f')}${bulk('1')}${bulk('f')}${bulk('2')}`,
      `%1\r\n${bulk('s')}*1\r\n*2\r\n${bulk('1-1')}*4\r\n${bulk('f')}${bulk('1')}${bulk('f')}${bulk('2')}`,
      [{ stream: 's', entries: [{ id: '1-1', fields: [['f', '1'], ['f', '2']] }] }],
    ],
    [
      "XINFO STREAM's server field names: a flat array, then a map",
      recordOf({ radixTreeKeys: integer, firstEntry: nullable(namedTupleOf({ id: bulkString, fields: pairsOf(bulkString, bulkString) })) }, [], { radixTreeKeys: 'radix-tree-keys', firstEntry: 'first-entry' }),
      `*4\r\n${bulk('radix-tree-keys')}:1\r\n${bulk('first-entry')}$-1\r\n`,
      `%2\r\n${bulk('radix-tree-keys')}:1\r\n${bulk('first-entry')}_\r\n`,
      { radixTreeKeys: 1, firstEntry: null },
    ],
    ["XPENDING's per-consumer count, text in both", integerString, bulk('2'), bulk('2'), 2],
  ])('%s', (_title, decode, resp2, resp3, expected) => {
    const fromResp2 = decode(parseWire(resp2, false));
    const fromResp3 = decode(parseWire(resp3, false));
    expect(same(fromResp2, expected), `RESP2: got ${show(fromResp2)}, want ${show(expected)}`).toBe(true);
    expect(same(fromResp3, expected), `RESP3: got ${show(fromResp3)}, want ${show(expected)}`).toBe(true);
  });

  // Every text the server could put in a RESP2 bulk double against the same text after RESP3's `,`:
  // both accepted with the same number, or both refused.
  const DOUBLE_TEXTS = [
    '0', '1', '-1', '+1', '1.5', '-1.5', '.5', '5.', '-.5', '1e3', '1E3', '1e+3', '1e-3', '-0', '0.1',
    '1.7976931348623157e308', '1e400', '5e-324', '12345678901234567890', '3.14159265358979',
    'inf', '+inf', '-inf', 'nan', '-nan',
    'INF', 'Inf', '+Inf', '-Inf', 'NaN', 'NAN', 'Infinity', '-Infinity', 'infinity',
    '', ' ', ' 1', '1 ', '\t1', '1\t', '0x10', '0b1', '0o7', '1_000', '1e', 'e1', '.', '-', '+', '1.2.3', '--1', '+-1',
    '١', '1,5', '1e3.5', '.e1',
  ];
  it.each(DOUBLE_TEXTS.flatMap((text) => [[text, false] as const, [text, true] as const]))(
    'double text %j (returnBuffers %s): the bulk string and the RESP3 double agree',
    (text, returnBuffers) => {
      let fromResp3: { value: unknown } | 'refused';
      try {
        fromResp3 = { value: double(parseWire(`,${text}\r\n`, false)) };
      } catch (e) {
        expect(e).toBeInstanceOf(GoCacheProtocolError);
        fromResp3 = 'refused';
      }
      const reply = parseWire(bulk(text), returnBuffers);
      if (fromResp3 === 'refused') {
        expect(() => double(reply)).toThrow(GoCacheProtocolError);
      } else {
        const got = double(reply);
        expect(same(got, fromResp3.value), `bulk gave ${show(got)}, RESP3 gave ${show(fromResp3.value)}`).toBe(true);
      }
    },
  );

  it('the texts above include accepted and refused ones (the comparison is not vacuous)', () => {
    const accepted = DOUBLE_TEXTS.filter((text) => {
      try {
        double(text);
        return true;
      } catch {
        return false;
      }
    });
    expect(accepted).toContain('inf');
    expect(accepted).toContain('1.5');
    expect(accepted).not.toContain('Infinity');
    expect(accepted).not.toContain('');
    expect(accepted.length).toBeGreaterThan(15);
    expect(DOUBLE_TEXTS.length - accepted.length).toBeGreaterThan(20);
  });

  const BIG_NUMBER_TEXTS = ['0', '1', '-1', '+1', '007', '12345678901234567890', '-99999999999999999999999', '', ' 1', '1 ', '1.5', '1e3', '0x10', '-', '+', '١'];
  it.each(BIG_NUMBER_TEXTS.flatMap((text) => [[text, false] as const, [text, true] as const]))(
    'big number text %j (returnBuffers %s): the bulk string and the RESP3 big number agree',
    (text, returnBuffers) => {
      let fromResp3: { value: unknown } | 'refused';
      try {
        fromResp3 = { value: bigNumber(parseWire(`(${text}\r\n`, false)) };
      } catch (e) {
        expect(e).toBeInstanceOf(GoCacheProtocolError);
        fromResp3 = 'refused';
      }
      const reply = parseWire(bulk(text), returnBuffers);
      if (fromResp3 === 'refused') expect(() => bigNumber(reply)).toThrow(GoCacheProtocolError);
      else expect(bigNumber(reply)).toBe(fromResp3.value);
    },
  );

  it('an integer line past 2^53 is refused, not rounded: by integer and by bigNumber', () => {
    const reply = parseWire(':12345678901234567891\r\n', false);
    expect(() => integer(reply)).toThrow(GoCacheProtocolError);
    expect(() => bigNumber(reply)).toThrow(GoCacheProtocolError);
    expect(integer(parseWire(':9007199254740991\r\n', false))).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('bytes: every byte of a reply read as bytes, and never a guess from text', () => {
  const payload = Buffer.from([0xf5, 0xc3, 0x00, 0x0a, 0xff, 0x80]);
  const wire = Buffer.concat([Buffer.from(`$${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
  const parse = (returnBuffers: boolean): RespValue => {
    const replies: RespValue[] = [];
    const parser = new RespParser({ onReply: (value) => replies.push(value) });
    parser.returnBuffers = returnBuffers;
    parser.feed(wire);
    return replies[0]!;
  };

  it('read as bytes (CommandInfo.replyBytes): the very bytes the server sent', () => {
    const value = bytes(parse(true)) as Buffer;
    expect(Buffer.isBuffer(value)).toBe(true);
    expect(value.equals(payload)).toBe(true);
  });

  it('read as text: refused, since invalid UTF-8 became U+FFFD on the way', () => {
    expect(() => bytes(parse(false))).toThrow(GoCacheProtocolError);
  });

  it('read as text that was valid UTF-8: the same bytes back', () => {
    const text = Buffer.from('\u0000\u0008hello810\n\u0000?aAXz/X?', 'latin1');
    expect((bytes(text.toString('utf8')) as Buffer).equals(text)).toBe(true);
  });
});
