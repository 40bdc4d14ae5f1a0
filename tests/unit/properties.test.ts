/**
 * Property tests (fast-check, fixed seed): the encoder and the parser agree on every command, the
 * parser reads back every reply a serializer written here makes, however the bytes are cut, and the
 * decoders never hand out a value of the wrong type.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeCommand, type CommandArg } from '../../src/runtime/resp/encoder.js';
import { RespParser, type RespValue } from '../../src/runtime/resp/parser.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheProtocolError } from '../../src/runtime/errors.js';
import {
  anyReply,
  arrayOf,
  bigNumber,
  boolean,
  bulkString,
  double,
  integer,
  literal,
  mapOf,
  nil,
  nullable,
  oneOf,
  pairsOf,
  parsed,
  tupleOf,
} from '../../src/runtime/decoders.js';
import { parseClientList, parseClusterNodes, parseInfo } from '../../src/runtime/reply-parsers.js';
import type { Decoder } from '../../src/runtime/types.js';

/** One seed for every property, so a CI failure replays exactly; change it to explore other inputs. */
const SEED = 20_240_611;
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns });

const OBJECT_PROTOTYPE_KEYS = Reflect.ownKeys(Object.prototype);
afterAll(() => {
  expect(Reflect.ownKeys(Object.prototype)).toEqual(OBJECT_PROTOTYPE_KEYS);
});

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Strict deep equality: a string is not a Buffer, numbers by Object.is, errors by class and message. */
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
  if (actual === null || typeof actual !== 'object' || Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) return false;
  const keys = Reflect.ownKeys(expected);
  const actualKeys = Reflect.ownKeys(actual);
  return (
    actualKeys.length === keys.length &&
    keys.every((key, i) => actualKeys[i] === key && same((actual as Record<PropertyKey, unknown>)[key], (expected as Record<PropertyKey, unknown>)[key]))
  );
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return Object.is(v, -0) ? '-0' : String(v);
    if (v instanceof GoCacheCommandError) return { error: v.message };
    if (v instanceof Map) return { map: [...v] };
    if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
      return { buffer: Buffer.from((v as { data: number[] }).data).toString('hex') };
    }
    return v;
  });
}

/** `bytes` cut at the given points (any numbers: taken modulo the length, sorted, duplicates kept). */
function cut(bytes: Buffer, points: readonly number[]): Buffer[] {
  const at = points.map((p) => p % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const end of at) {
    chunks.push(bytes.subarray(start, end)); // empty chunks too: feed must ignore them
    start = end;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** Every reply the chunks make, fed in order (chunks are copied, then the copies scribbled over after each feed). */
function parseAll(chunks: readonly Buffer[], returnBuffers: boolean): RespValue[] {
  const replies: RespValue[] = [];
  const parser = new RespParser({ onReply: (value) => replies.push(value) });
  parser.returnBuffers = returnBuffers;
  for (const chunk of chunks) {
    const copy = Buffer.from(chunk);
    parser.feed(copy);
    copy.fill(0x78); // the parser keeps no reference to a chunk once feed returns
  }
  return replies;
}

const cutPoints = fc.array(fc.nat(), { maxLength: 8 });

// ---------------------------------------------------------------------------------------------------
// The encoder, parsed back

/** Code units that matter to RESP framing and UTF-8, so they are not left to chance. */
const trickyUnit = fc.constantFrom('\r', '\n', '\r\n', '$', '*', ':', '-', '+', '0', '9', ' ', '\0', 'é', '€', '\u{1F600}', '\u{10FFFF}', '\uFEFF', '\u0301');
/** Well-formed strings only: a lone surrogate is refused (see the last test of this block). */
const wellFormedString = fc.oneof(
  { withCrossShrink: true },
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: trickyUnit, maxLength: 24 }),
  fc.string({ unit: 'binary', minLength: 200, maxLength: 600 }),
);

interface EncodedArg {
  arg: CommandArg;
  /** The bytes the argument must arrive as. */
  bytes: Buffer;
}

const stringArg = wellFormedString.map((text): EncodedArg => ({ arg: text, bytes: Buffer.from(text, 'utf8') }));
const bufferArg = fc.uint8Array({ maxLength: 300 }).map((bytes): EncodedArg => {
  const arg = Buffer.from(bytes);
  return { arg, bytes: Buffer.from(arg) };
});
/** A Uint8Array view into a larger buffer (a non-zero byteOffset), not a Buffer. */
const viewArg = fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat()).map(([all, a, b]): EncodedArg => {
  const start = a % (all.length + 1);
  const end = start + (b % (all.length - start + 1));
  const view = all.subarray(start, end);
  return { arg: view, bytes: Buffer.from(all.slice(start, end)) };
});
const numberArg = fc
  .oneof(
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 1e21, -1e-7, 5e-324, Number.MAX_VALUE, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2),
  )
  .map((n): EncodedArg => ({ arg: n, bytes: Buffer.from(String(n), 'latin1') }));
const anyArg = fc.oneof(stringArg, bufferArg, viewArg, numberArg);
const command = fc.tuple(
  fc
    .oneof(fc.constantFrom('GET', 'SET', 'CLUSTER'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.string({ unit: trickyUnit, minLength: 1, maxLength: 12 }))
    .map((name): EncodedArg => ({ arg: name, bytes: Buffer.from(name, 'utf8') })),
  fc.array(anyArg, { maxLength: 8 }),
);

function wireOf(encoded: string | Buffer): Buffer {
  // The connection writes a string as UTF-8.
  return typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : encoded;
}

describe('encodeCommand output parses back to the argument bytes', () => {
  it('for any commands, cut at any points (RespParser with returnBuffers)', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 4 }), cutPoints, (commands, points) => {
        const expected = commands.map(([name, args]) => [name, ...args]);
        const wire = Buffer.concat(expected.map((args) => wireOf(encodeCommand(args.map((a) => a.arg)))));
        const replies = parseAll(cut(wire, points), true);
        expect(replies).toHaveLength(expected.length);
        replies.forEach((reply, i) => {
          const want = expected[i]!.map((a) => a.bytes);
          expect(same(reply, want), `got ${show(reply)}, want ${show(want)}`).toBe(true);
        });
      }),
      runs(400),
    );
  });

  it('a number goes out as text that reads back as the same number', () => {
    fc.assert(
      fc.property(numberArg, ({ arg }) => {
        const [reply] = parseAll([wireOf(encodeCommand(['SET', 'k', arg]))], false);
        const text = (reply as string[])[2]!;
        expect(Number(text)).toBe(arg === 0 ? 0 : arg); // -0 goes out as "0"
        expect(text).toMatch(/^-?(\d+(\.\d+)?)(e[+-]\d+)?$/);
      }),
      runs(300),
    );
  });

  it('a well-formed string reads back as the same string (returnBuffers false)', () => {
    fc.assert(
      fc.property(fc.array(wellFormedString, { minLength: 1, maxLength: 6 }), cutPoints, (texts, points) => {
        const [reply] = parseAll(cut(wireOf(encodeCommand(['ECHO', ...texts])), points), false);
        expect(reply).toEqual(['ECHO', ...texts]);
      }),
      runs(300),
    );
  });

  // Known open problem, documented as it is today (another engineer is making the encoder refuse
  // them): a lone UTF-16 surrogate goes out as U+FFFD (EF BF BD), the declared length counting those
  // 3 bytes, so the frame stays well-formed but the value is silently changed. This test must change
  // with that fix.
  it('a lone surrogate is refused, not sent as U+FFFD (which would make k\\uD800 and k\\uDFFF one key)', () => {
    expect(() => encodeCommand(['SET', 'k\uD800', 'v'])).toThrow(GoCacheArgumentError);
    expect(() => encodeCommand(['SET', 'k', 'v\uDC00w'])).toThrow(/not well-formed UTF-16/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Any reply, serialized here, parses to the same value

type Node =
  | { kind: 'simple'; text: string }
  | { kind: 'simpleError'; text: string }
  | { kind: 'integer'; value: number }
  | { kind: 'bulk'; bytes: Buffer }
  | { kind: 'verbatim'; format: string; bytes: Buffer }
  | { kind: 'blobError'; bytes: Buffer }
  | { kind: 'null'; wire: '$-1' | '*-1' | '_' }
  | { kind: 'double'; value: number; text: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'bigNumber'; value: bigint }
  | { kind: 'aggregate'; type: '*' | '~' | '>'; items: Node[] }
  | { kind: 'map'; entries: Array<[Node, Node]> }
  | { kind: 'attributed'; attributes: Array<[Node, Node]>; value: Node };

function serialize(node: Node, out: Buffer[]): void {
  const line = (text: string): void => {
    out.push(Buffer.from(`${text}\r\n`, 'utf8'));
  };
  const blob = (type: string, bytes: Buffer) => {
    line(`${type}${bytes.length}`);
    out.push(bytes, Buffer.from('\r\n'));
  };
  switch (node.kind) {
    case 'simple':
      return line(`+${node.text}`);
    case 'simpleError':
      return line(`-${node.text}`);
    case 'integer':
      return line(`:${node.value}`);
    case 'bulk':
      return blob('$', node.bytes);
    case 'verbatim':
      return blob('=', Buffer.concat([Buffer.from(`${node.format}:`), node.bytes]));
    case 'blobError':
      return blob('!', node.bytes);
    case 'null':
      return line(node.wire);
    case 'double':
      return line(`,${node.text}`);
    case 'boolean':
      return line(node.value ? '#t' : '#f');
    case 'bigNumber':
      return line(`(${node.value}`);
    case 'aggregate':
      line(`${node.type}${node.items.length}`);
      for (const item of node.items) serialize(item, out);
      return;
    case 'map':
      line(`%${node.entries.length}`);
      for (const [k, v] of node.entries) (serialize(k, out), serialize(v, out));
      return;
    case 'attributed':
      line(`|${node.attributes.length}`);
      for (const [k, v] of node.attributes) (serialize(k, out), serialize(v, out));
      serialize(node.value, out);
      return;
  }
}

/** What the parser must give for `node` (an attribute describes the value after it and is dropped). */
function valueOf(node: Node, buffers: boolean): RespValue {
  switch (node.kind) {
    case 'simple':
      return node.text; // simple strings stay strings, also in buffer mode
    case 'simpleError':
      return new GoCacheCommandError(node.text);
    case 'integer':
    case 'double':
    case 'boolean':
    case 'bigNumber':
      return node.value;
    case 'bulk':
    case 'verbatim':
      return buffers ? node.bytes : node.bytes.toString('utf8');
    case 'blobError':
      return new GoCacheCommandError(node.bytes.toString('utf8'));
    case 'null':
      return null;
    case 'aggregate':
      return node.items.map((item) => valueOf(item, buffers));
    case 'map': {
      const map = new Map<RespValue, RespValue>();
      for (const [k, v] of node.entries) map.set(valueOf(k, buffers), valueOf(v, buffers));
      return map;
    }
    case 'attributed':
      return valueOf(node.value, buffers);
  }
}

const lineText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 16 }), fc.string({ unit: trickyUnit, maxLength: 16 })).map((text) => text.replace(/[\r\n]/g, ''));
const blobBytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: trickyUnit, maxLength: 20 }).map((text) => Buffer.from(text, 'utf8')),
  fc.uint8Array({ minLength: 100, maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
);
/** A double and a text that reads back as exactly it (the forms Redis and others send). */
const doubleNode = fc.tuple(fc.double(), fc.nat({ max: 3 })).map(([value, form]): Node => {
  if (Number.isNaN(value)) return { kind: 'double', value, text: form % 2 === 0 ? 'nan' : '-nan' };
  if (value === Infinity) return { kind: 'double', value, text: form % 2 === 0 ? 'inf' : '+inf' };
  if (value === -Infinity) return { kind: 'double', value, text: '-inf' };
  if (Object.is(value, -0)) return { kind: 'double', value, text: '-0' };
  const text = form === 0 ? String(value) : form === 1 ? value.toExponential() : form === 2 ? value.toPrecision(17) : value.toExponential().toUpperCase();
  return { kind: 'double', value, text };
});

const leaf: fc.Arbitrary<Node> = fc.oneof(
  lineText.map((text): Node => ({ kind: 'simple', text })),
  lineText.map((text): Node => ({ kind: 'simpleError', text })),
  fc.maxSafeInteger().map((value): Node => ({ kind: 'integer', value })),
  blobBytes.map((bytes): Node => ({ kind: 'bulk', bytes })),
  fc
    .tuple(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 3, maxLength: 3 }), blobBytes)
    .map(([format, bytes]): Node => ({ kind: 'verbatim', format, bytes })),
  blobBytes.map((bytes): Node => ({ kind: 'blobError', bytes })),
  fc.constantFrom('$-1', '*-1', '_').map((wire): Node => ({ kind: 'null', wire: wire as '$-1' | '*-1' | '_' })),
  doubleNode,
  fc.boolean().map((value): Node => ({ kind: 'boolean', value })),
  fc.bigInt().map((value): Node => ({ kind: 'bigNumber', value })),
);

const { node: replyNode } = fc.letrec<{ node: Node; aggregate: Node; map: Node; attributed: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 4, depthSize: 'small', withCrossShrink: true }, leaf, tie('aggregate'), tie('map'), tie('attributed')),
  aggregate: fc
    .tuple(fc.constantFrom('*', '~', '>'), fc.array(tie('node'), { maxLength: 5 }))
    .map(([type, items]): Node => ({ kind: 'aggregate', type: type as '*' | '~' | '>', items })),
  map: fc.array(fc.tuple(tie('node'), tie('node')), { maxLength: 4 }).map((entries): Node => ({ kind: 'map', entries })),
  attributed: fc
    .tuple(fc.array(fc.tuple(leaf, leaf), { maxLength: 2 }), tie('node'))
    .map(([attributes, value]): Node => ({ kind: 'attributed', attributes, value })),
}));

describe('any reply parses back to the same value', () => {
  it('RESP2 and RESP3 types, nested, several replies in one stream, cut at any points', () => {
    fc.assert(
      fc.property(fc.array(replyNode, { minLength: 1, maxLength: 4 }), cutPoints, fc.boolean(), (nodes, points, buffers) => {
        const pieces: Buffer[] = [];
        for (const node of nodes) serialize(node, pieces);
        const replies = parseAll(cut(Buffer.concat(pieces), points), buffers);
        const expected = nodes.map((node) => valueOf(node, buffers));
        expect(replies).toHaveLength(expected.length);
        replies.forEach((reply, i) => {
          expect(same(reply, expected[i]), `got ${show(reply)}, want ${show(expected[i])}`).toBe(true);
        });
      }),
      runs(400),
    );
  });

  it('one byte at a time gives the same values as one chunk', () => {
    fc.assert(
      fc.property(replyNode, fc.boolean(), (node, buffers) => {
        const pieces: Buffer[] = [];
        serialize(node, pieces);
        const wire = Buffer.concat(pieces);
        const whole = parseAll([wire], buffers);
        const bytewise = parseAll(
          Array.from({ length: wire.length }, (_, i) => wire.subarray(i, i + 1)),
          buffers,
        );
        expect(whole).toHaveLength(1);
        expect(same(bytewise, whole)).toBe(true);
        expect(same(whole[0], valueOf(node, buffers))).toBe(true);
      }),
      runs(150),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Decoders never return a value of the wrong type

/** Texts that some decoder accepts, and near misses. */
const textLike = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom(
    '', 'OK', 'QUEUED', '0', '1', '-1', '+1', '1.5', '.5', '5.', '1e3', '-0', 'inf', '+inf', '-inf', 'nan', '-nan',
    ' 1', '1 ', '0x10', 'Infinity', 'NaN', 'INF', '__proto__', 'constructor', 'toString', '12345678901234567890',
    '9007199254740993', '1e400', '# Server', 'a:1', 'id=1 addr=x', 'n1 127.0.0.1:7000 alive',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
);
const numberLike = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(0, 1, -1, -0, 2, 2 ** 53, -(2 ** 53), 1e20, 0.5, NaN, Infinity, -Infinity),
);

const { value: respValue } = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthSize: 'small', withCrossShrink: true },
    // Replies some decoder takes as they are, often enough that every decoder accepts some input.
    fc.constantFrom<RespValue>('OK', '1', 'inf', 1, 0, true),
    textLike,
    textLike.map((text) => Buffer.from(text, 'utf8')),
    fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
    numberLike,
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 10 }).map((text) => new GoCacheCommandError(text)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(numberLike, { maxLength: 5 }),
    fc.tuple(textLike, numberLike).map((pair) => [...pair]),
    // Flat RESP2 maps and pairs, nested RESP3 pairs, RESP3 maps: shapes the map and pair decoders take.
    fc.array(fc.tuple(textLike, fc.oneof(textLike, numberLike, tie('value'))), { maxLength: 4 }).map((pairs) => pairs.flat()),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }),
    fc.array(fc.tuple(fc.oneof(textLike, tie('value')), fc.oneof(numberLike, tie('value'))), { maxLength: 4 }).map((entries) => new Map(entries)),
  ),
}));

const isSafeInteger = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v);
const isText = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);
const isPairs = (v: unknown, first: (x: unknown) => boolean, second: (x: unknown) => boolean): boolean =>
  Array.isArray(v) && v.every((pair) => Array.isArray(pair) && pair.length === 2 && first(pair[0]) && second(pair[1]));
/** What mapOf returns: no prototype, string keys only, every value of the declared type. */
const isRecordOf = (v: unknown, value: (x: unknown) => boolean): boolean =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === null &&
  Reflect.ownKeys(v).every((key) => typeof key === 'string' && Object.prototype.propertyIsEnumerable.call(v, key)) &&
  Object.values(v).every(value);

interface TypeCase {
  name: string;
  decode: Decoder;
  /** The declared type of the result, given the input. */
  holds: (out: unknown, input: RespValue) => boolean;
  /** false for a decoder that accepts every input. */
  canRefuse?: false;
  /** true when a hand-written reply parser words the error (src/runtime/reply-parsers.ts). */
  parserMessages?: true;
}

const TYPE_CASES: TypeCase[] = [
  { name: 'bulkString → the string or Buffer given', decode: bulkString, holds: (out, input) => isText(out) && out === input },
  { name: 'anyReply → the reply given', decode: anyReply, holds: (out, input) => Object.is(out, input), canRefuse: false },
  { name: 'nil → null', decode: nil, holds: (out) => out === null },
  { name: 'integer → a safe integer', decode: integer, holds: isSafeInteger },
  { name: 'double → a number', decode: double, holds: (out) => typeof out === 'number' },
  { name: 'boolean → a boolean', decode: boolean, holds: (out) => typeof out === 'boolean' },
  { name: 'bigNumber → a bigint', decode: bigNumber, holds: (out) => typeof out === 'bigint' },
  { name: "literal('OK') → 'OK'", decode: literal('OK'), holds: (out) => out === 'OK' },
  { name: 'nullable(integer) → null or a safe integer', decode: nullable(integer), holds: (out) => out === null || isSafeInteger(out) },
  {
    name: 'arrayOf(integer) → safe integers, one per element',
    decode: arrayOf(integer),
    holds: (out, input) => Array.isArray(out) && Array.isArray(input) && out.length === input.length && out.every(isSafeInteger),
  },
  {
    name: 'arrayOf(nullable(double)) → numbers or nulls',
    decode: arrayOf(nullable(double)),
    holds: (out) => Array.isArray(out) && out.every((x) => x === null || typeof x === 'number'),
  },
  {
    name: 'tupleOf(bulkString, integer) → [text, safe integer]',
    decode: tupleOf(bulkString, integer),
    holds: (out) => Array.isArray(out) && out.length === 2 && isText(out[0]) && isSafeInteger(out[1]),
  },
  {
    name: 'pairsOf(bulkString, double) → [text, number] pairs',
    decode: pairsOf(bulkString, double),
    holds: (out) => isPairs(out, isText, (x) => typeof x === 'number'),
  },
  {
    name: 'pairsOf(anyReply, anyReply) → pairs',
    decode: pairsOf(anyReply, anyReply),
    holds: (out) => isPairs(out, () => true, () => true),
  },
  { name: 'mapOf(integer) → null-prototype record of safe integers', decode: mapOf(integer), holds: (out) => isRecordOf(out, isSafeInteger) },
  { name: 'mapOf(bulkString) → null-prototype record of texts', decode: mapOf(bulkString), holds: (out) => isRecordOf(out, isText) },
  { name: 'mapOf(anyReply) → null-prototype record', decode: mapOf(anyReply), holds: (out) => isRecordOf(out, () => true) },
  {
    name: 'oneOf(integer, bulkString) → a safe integer or a text',
    decode: oneOf(integer, bulkString),
    holds: (out) => isSafeInteger(out) || isText(out),
  },
  {
    name: 'oneOf(nil, arrayOf(boolean)) → null or booleans',
    decode: oneOf(nil, arrayOf(boolean)),
    holds: (out) => out === null || (Array.isArray(out) && out.every((x) => typeof x === 'boolean')),
  },
  {
    name: 'parsed(bulkString, parseInfo) → sections of strings and numbers',
    decode: parsed(bulkString, parseInfo),
    parserMessages: true,
    holds: (out) => isRecordOf(out, (section) => isRecordOf(section, (x) => typeof x === 'string' || isSafeInteger(x) || typeof x === 'number')),
  },
  {
    name: 'parsed(bulkString, parseClientList) → records of strings',
    decode: parsed(bulkString, parseClientList),
    parserMessages: true,
    holds: (out) => Array.isArray(out) && out.every((client) => isRecordOf(client, (x) => typeof x === 'string')),
  },
  {
    name: 'parsed(bulkString, parseClusterNodes) → nodes',
    decode: parsed(bulkString, parseClusterNodes),
    parserMessages: true,
    holds: (out) =>
      Array.isArray(out) &&
      out.every(
        (node: { id?: unknown; host?: unknown; port?: unknown; status?: unknown }) =>
          typeof node.id === 'string' && typeof node.host === 'string' && Number.isInteger(node.port) && typeof node.status === 'string',
      ),
  },
];

describe('decoders: a GoCacheProtocolError or a value of the declared type, for any input', () => {
  const NUM_RUNS = 600;
  it.each(TYPE_CASES.map((c) => [c.name, c] as const))('%s', (_name, { decode, holds, canRefuse, parserMessages }) => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(respValue, (input) => {
        let out: unknown;
        try {
          out = decode(input);
        } catch (error) {
          expect(error, `threw ${String(error)} for ${show(input)}`).toBeInstanceOf(GoCacheProtocolError);
          if (parserMessages !== true || !isText(input)) expect((error as Error).message).toMatch(/^Expected .+ in the reply, got .+/s);
          tally.refused++;
          return;
        }
        tally.accepted++;
        expect(holds(out, input), `returned ${show(out)} for ${show(input)}`).toBe(true);
      }),
      runs(NUM_RUNS),
    );
    // Not vacuous: the inputs reach both outcomes (fast-check also runs the shrinker's and bias's
    // values, so counts are at least NUM_RUNS).
    expect(tally.accepted + tally.refused).toBeGreaterThanOrEqual(NUM_RUNS);
    expect(tally.accepted, 'never accepted an input').toBeGreaterThan(0);
    if (canRefuse !== false) expect(tally.refused, 'never refused an input').toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// RESP2 and RESP3 bytes of the same data decode to the same value

const bulkOf = (text: string): string => `$${Buffer.byteLength(text, 'utf8')}\r\n${text}\r\n`;
const keyText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'a', 'b'));

describe('RESP2 and RESP3 give the same decoded value', () => {
  it('mapOf(integer): a flat array and a map, duplicate keys included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyText, fc.maxSafeInteger()), { maxLength: 6 }), fc.boolean(), (entries, buffers) => {
        const body = entries.map(([k, v]) => `${bulkOf(k)}:${v}\r\n`).join('');
        const [resp2] = parseAll([Buffer.from(`*${entries.length * 2}\r\n${body}`, 'utf8')], buffers);
        const [resp3] = parseAll([Buffer.from(`%${entries.length}\r\n${body}`, 'utf8')], buffers);
        const decode = mapOf(integer);
        const fromResp2 = decode(resp2!) as Record<string, number>;
        const fromResp3 = decode(resp3!) as Record<string, number>;
        expect(same(fromResp2, fromResp3), `${show(Object.entries(fromResp2))} vs ${show(Object.entries(fromResp3))}`).toBe(true);
        // The last value of a key wins, at the place its first occurrence had.
        const want = new Map<string, number>();
        for (const [k, v] of entries) want.set(k, v);
        expect(Object.getPrototypeOf(fromResp2)).toBeNull();
        expect(Object.entries(fromResp2)).toEqual([...want]);
      }),
      runs(300),
    );
  });

  it('pairsOf(bulkString, double): flat bulk texts and nested RESP3 doubles', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyText, doubleNode), { maxLength: 6 }), (entries) => {
        const texts = entries.map(([k, d]) => [k, (d as { text: string }).text] as const);
        const resp2Wire = `*${texts.length * 2}\r\n${texts.map(([k, t]) => bulkOf(k) + bulkOf(t)).join('')}`;
        const resp3Wire = `*${texts.length}\r\n${texts.map(([k, t]) => `*2\r\n${bulkOf(k)},${t}\r\n`).join('')}`;
        const decode = pairsOf(bulkString, double);
        const fromResp2 = decode(parseAll([Buffer.from(resp2Wire, 'utf8')], false)[0]!);
        const fromResp3 = decode(parseAll([Buffer.from(resp3Wire, 'utf8')], false)[0]!);
        const want = entries.map(([k, d]) => [k, (d as { value: number }).value]);
        expect(same(fromResp2, want), `RESP2 ${show(fromResp2)}, want ${show(want)}`).toBe(true);
        expect(same(fromResp3, want), `RESP3 ${show(fromResp3)}, want ${show(want)}`).toBe(true);
      }),
      runs(300),
    );
  });

  it('double: a bulk text (string or Buffer mode) and the same text after `,` agree, for any text', () => {
    const anyDoubleText = fc.oneof(
      doubleNode.map((d) => (d as { text: string }).text),
      textLike,
      fc.string({ unit: fc.constantFrom('0', '1', '9', '.', 'e', 'E', '+', '-', ' ', 'i', 'n', 'f', 'a', 'x'), maxLength: 8 }),
    );
    fc.assert(
      fc.property(anyDoubleText.filter((text) => !/[\r\n]/.test(text)), fc.boolean(), (text, buffers) => {
        let resp3: { value: number } | 'refused';
        try {
          resp3 = { value: double(parseAll([Buffer.from(`,${text}\r\n`, 'utf8')], false)[0]!) as number };
        } catch (error) {
          expect(error).toBeInstanceOf(GoCacheProtocolError);
          resp3 = 'refused';
        }
        const reply = parseAll([Buffer.from(bulkOf(text), 'utf8')], buffers)[0]!;
        if (resp3 === 'refused') expect(() => double(reply)).toThrow(GoCacheProtocolError);
        else expect(Object.is(double(reply), resp3.value), `${JSON.stringify(text)}: ${String(double(reply))} vs ${resp3.value}`).toBe(true);
      }),
      runs(500),
    );
  });
});
