/**
 * Seeded, deterministic fuzzing of RespParser against a reference decoder written here: a plain
 * recursive-descent reading of RESP2 + RESP3 over the whole stream at once, with the same limits,
 * built for clarity, not speed.
 * 1. Random valid replies of every type, nested, serialized and fed cut at random points, must give
 *    what the generator meant and what the reference decodes.
 * 2. Random bytes and random mutations of valid streams, under random limits, must give exactly the
 *    reference's outcome: the same replies, and a GoCacheProtocolError exactly when the reference
 *    finds the stream invalid (never another exception, never a different value), whatever the
 *    cuts; the error message does not depend on the cuts either.
 * A failure prints the seed and the wire, so it can be replayed.
 */
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { RespParser, type RespParserOptions, type RespValue } from '../../src/runtime/resp/parser.js';
import { GoCacheCommandError, GoCacheProtocolError } from '../../src/runtime/errors.js';
import { same, show } from './resp-values.js';

// ---------------------------------------------------------------------------------------------
// A seeded PRNG (mulberry32): the same seed, the same cases, on every machine.

class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison.

interface Event {
  push: boolean;
  value: RespValue;
}

interface Outcome {
  events: Event[];
  /** 'error': the stream is invalid (GoCacheProtocolError); 'incomplete': it stops inside a reply. */
  end: 'complete' | 'incomplete' | 'error';
  message?: string;
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.end === b.end && a.events.length === b.events.length && a.events.every((e, i) => e.push === b.events[i]!.push && same(e.value, b.events[i]!.value));
}

// ---------------------------------------------------------------------------------------------
// The reference decoder.

interface Limits {
  maxBulkLength: number;
  maxAggregateLength: number;
  maxDepth: number;
  maxLineLength: number;
}

const DEFAULT_LIMITS: Limits = { maxBulkLength: 512 * 1024 * 1024, maxAggregateLength: 2 ** 24, maxDepth: 128, maxLineLength: 64 * 1024 };
const MAP_SIZE = 2 ** 24;

/** Thrown when the stream ends inside a reply. */
const INCOMPLETE = Symbol('incomplete');
/** Thrown when the stream is not valid RESP (or exceeds a limit). */
class Invalid {
  constructor(readonly why: string) {}
}

const DOUBLE_GRAMMAR = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const DOUBLE_WORDS: Record<string, number> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, nan: NaN, '-nan': NaN };

/**
 * Decodes a whole stream. `modes[i]`: returnBuffers for the i-th top-level reply (push or not).
 * An error found before the stream ends wins over the stream ending inside the same reply; what
 * comes after the first error is never looked at.
 */
function referenceDecode(wire: Buffer, modes: readonly boolean[], limits: Limits): Outcome {
  let pos = 0;
  let buffers = false;
  let topLevelPush = false;

  const byteAt = (i: number): number => {
    if (i >= wire.length) throw INCOMPLETE;
    return wire[i]!;
  };

  /**
   * A line's content, from pos to its CR; pos moves past the CRLF. Too long: no CR among its first
   * maxLineLength + 1 content bytes (those bytes must be there to know it).
   */
  const readLine = (numeric: boolean): [number, number] => {
    const start = pos;
    for (let p = 0; ; p++) {
      if (p > limits.maxLineLength) throw new Invalid('line too long');
      const c = byteAt(start + p);
      if (c === 0x0d) {
        if (byteAt(start + p + 1) !== 0x0a) throw new Invalid('CR without LF');
        pos = start + p + 2;
        return [start, start + p];
      }
      if (numeric && !((c >= 0x30 && c <= 0x39) || (c === 0x2d && p === 0))) throw new Invalid('not a number');
    }
  };

  /** An integer line's value: an optional minus and at least one digit. */
  const readNumber = (): { value: number; text: string } => {
    const [s, e] = readLine(true);
    const text = wire.toString('latin1', s, e);
    const negative = text.startsWith('-');
    const digits = negative ? text.slice(1) : text;
    if (digits === '') throw new Invalid('no digits');
    const magnitude = Number(digits);
    return { value: negative ? 0 - magnitude : magnitude, text };
  };

  /** A length header: -1 (only when written exactly so) or 0 to max. */
  const readLength = (max: number): number => {
    const { value, text } = readNumber();
    if (text === '-1') return -1;
    if (value < 0) throw new Invalid('negative length');
    if (value > max) throw new Invalid('length above the limit');
    return value;
  };

  const need = (end: number): void => {
    if (wire.length < end) throw INCOMPLETE;
  };

  /** A `$`, `=` or `!` payload of n bytes and its CRLF. */
  const readBlob = (n: number): [number, number] => {
    const start = pos;
    need(start + n + 2);
    if (wire[start + n] !== 0x0d || wire[start + n + 1] !== 0x0a) throw new Invalid('missing CRLF');
    pos = start + n + 2;
    return [start, start + n];
  };

  const text = (s: number, e: number): string => wire.toString('utf8', s, e);

  /** One value; `depth`: the aggregates open around it. Attributes before it are read and dropped. */
  const readValue = (depth: number): RespValue => {
    for (;;) {
      const typeAt = pos;
      const type = String.fromCharCode(byteAt(pos));
      pos++;
      switch (type) {
        case '+': {
          const [s, e] = readLine(false);
          return text(s, e);
        }
        case '-': {
          const [s, e] = readLine(false);
          return new GoCacheCommandError(text(s, e));
        }
        case ':':
          return readNumber().value;
        case ',': {
          const [s, e] = readLine(false);
          const t = wire.toString('latin1', s, e);
          if (t in DOUBLE_WORDS) return DOUBLE_WORDS[t]!;
          if (!DOUBLE_GRAMMAR.test(t)) throw new Invalid('bad double');
          return Number(t);
        }
        case '(': {
          const [s, e] = readLine(false);
          const t = wire.toString('latin1', s, e);
          if (!/^[+-]?[0-9]+$/.test(t)) throw new Invalid('bad big number');
          return BigInt(t);
        }
        case '_':
          need(typeAt + 3);
          if (wire[typeAt + 1] !== 0x0d || wire[typeAt + 2] !== 0x0a) throw new Invalid('bad null');
          pos = typeAt + 3;
          return null;
        case '#': {
          need(typeAt + 4);
          const flag = wire[typeAt + 1];
          if ((flag !== 0x74 && flag !== 0x66) || wire[typeAt + 2] !== 0x0d || wire[typeAt + 3] !== 0x0a) throw new Invalid('bad boolean');
          pos = typeAt + 4;
          return flag === 0x74;
        }
        case '$': {
          const n = readLength(limits.maxBulkLength);
          if (n === -1) return null;
          const [s, e] = readBlob(n);
          return buffers ? Buffer.from(wire.subarray(s, e)) : text(s, e);
        }
        case '=': {
          const n = readLength(limits.maxBulkLength);
          if (n === -1) throw new Invalid('null verbatim');
          const [s, e] = readBlob(n);
          if (n < 4 || wire[s + 3] !== 0x3a) throw new Invalid('verbatim without its format');
          return buffers ? Buffer.from(wire.subarray(s + 4, e)) : text(s + 4, e);
        }
        case '!': {
          const n = readLength(limits.maxBulkLength);
          if (n === -1) throw new Invalid('null blob error');
          const [s, e] = readBlob(n);
          return new GoCacheCommandError(text(s, e));
        }
        case '*':
        case '~':
        case '>':
        case '%':
        case '|': {
          const n = readLength(limits.maxAggregateLength);
          if (n === -1) {
            if (type === '*') return null;
            throw new Invalid('null aggregate');
          }
          if (depth >= limits.maxDepth) throw new Invalid('too deep');
          const pairs = type === '%' || type === '|';
          if (pairs && n > MAP_SIZE) throw new Invalid('too many map entries');
          const items: RespValue[] = [];
          for (let i = 0; i < (pairs ? 2 * n : n); i++) items.push(readValue(depth + 1));
          if (type === '|') continue; // an attribute: dropped, the value it describes follows
          if (type === '%') {
            const map = new Map<RespValue, RespValue>();
            for (let i = 0; i < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
            return map;
          }
          if (type === '>' && depth === 0) topLevelPush = true;
          return items;
        }
        default:
          throw new Invalid('unknown type');
      }
    }
  };

  const events: Event[] = [];
  while (pos < wire.length) {
    buffers = modes[events.length] ?? false;
    topLevelPush = false;
    try {
      const value = readValue(0);
      events.push({ push: topLevelPush, value });
    } catch (error) {
      if (error === INCOMPLETE) return { events, end: 'incomplete' };
      if (error instanceof Invalid) return { events, end: 'error', message: error.why };
      throw error;
    }
  }
  return { events, end: 'complete' };
}

// ---------------------------------------------------------------------------------------------
// Feeding our parser.

/**
 * Feeds `wire` cut at `cuts` (sorted offsets), each piece through one reused buffer that is
 * overwritten after feed, as the connection's socket reads are. Anything thrown that is not a
 * GoCacheProtocolError fails the test.
 */
function feedOurs(wire: Buffer, cuts: readonly number[], modes: readonly boolean[], options: RespParserOptions): Outcome {
  const events: Event[] = [];
  const parser: RespParser = new RespParser(
    {
      onReply: (value) => {
        events.push({ push: false, value });
        parser.returnBuffers = modes[events.length] ?? false;
      },
      onPush: (value) => {
        events.push({ push: true, value });
        parser.returnBuffers = modes[events.length] ?? false;
      },
    },
    options,
  );
  parser.returnBuffers = modes[0] ?? false;
  const reused = Buffer.allocUnsafe(wire.length);
  let start = 0;
  for (const end of [...cuts, wire.length]) {
    if (end <= start) continue;
    const piece = reused.subarray(0, end - start);
    wire.copy(piece, 0, start, end);
    try {
      parser.feed(piece);
    } catch (error) {
      if (!(error instanceof GoCacheProtocolError)) throw new Error(`not a GoCacheProtocolError: ${String(error)}`, { cause: error });
      return { events, end: 'error', message: error.message };
    }
    piece.fill(0x3f);
    start = end;
  }
  // Whether the stream ended inside a reply is not visible from outside the parser: expectAgrees
  // compares this with the reference's 'complete' and 'incomplete' alike.
  return { events, end: 'complete' };
}

/** Random cut points: none, a few, many, or every byte. */
function randomCuts(random: Random, length: number): number[] {
  const style = random.int(4);
  if (length <= 1) return [];
  if (style === 0) return [];
  if (style === 3 && length <= 400) return Array.from({ length: length - 1 }, (_, i) => i + 1);
  const count = style === 1 ? 1 + random.int(3) : 1 + random.int(Math.min(64, length));
  const cuts = new Set<number>();
  for (let i = 0; i < count; i++) cuts.add(1 + random.int(length - 1));
  return [...cuts].sort((a, b) => a - b);
}

function describeCase(seed: number, wire: Buffer, cuts: readonly number[], options: RespParserOptions): string {
  const hex = wire.length <= 600 ? wire.toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : `${wire.length} bytes`;
  return `seed ${seed}, options ${JSON.stringify(options)}, cuts ${JSON.stringify(cuts)}, wire "${hex}"`;
}

/**
 * Our outcome must be the reference's: the same replies; an error exactly when the reference finds
 * one. When the reference says the stream ends inside a reply, we must have delivered the same
 * replies and thrown nothing.
 */
function expectAgrees(ours: Outcome, reference: Outcome, context: () => string): void {
  const expectedEnd = reference.end === 'error' ? 'error' : 'complete';
  if (ours.end !== expectedEnd || !sameOutcome({ ...ours, end: expectedEnd }, { ...reference, end: expectedEnd })) {
    expect.fail(
      `${context()}\nours: ${ours.end} ${ours.message ?? ''} ${show(ours.events)}\n` +
        `reference: ${reference.end} ${reference.message ?? ''} ${show(reference.events)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Valid replies: each node is its wire and the value it means in either returnBuffers mode.

interface Node {
  wire: Buffer;
  value(buffers: boolean): RespValue;
  /** A `>` at the top level: delivered through onPush. */
  push?: boolean;
}

const ASCII = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-+.,!?*$%#()|~>=';

function randomText(random: Random, maxLength: number): string {
  const length = random.int(maxLength + 1);
  let out = '';
  for (let i = 0; i < length; i++) {
    const kind = random.int(20);
    if (kind === 0) out += random.pick(['é', 'ß', 'こ', '🙂', '\u0000', '\t']);
    else out += ASCII[random.int(ASCII.length)];
  }
  return out;
}

function line(type: string, content: string): Buffer {
  return Buffer.from(`${type}${content}\r\n`, 'utf8');
}

function blob(type: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${type}${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
}

function randomPayload(random: Random): Buffer {
  // Now and then one larger than a line may be and than a 64 KiB chunk: a random block, repeated.
  if (random.chance(0.0007)) return Buffer.alloc(66_000 + random.int(30_000), Buffer.concat([randomPayload(random), Buffer.from("\r\n")]));
  const size = random.int(random.chance(0.7) ? 20 : 200);
  const style = random.int(3);
  if (style === 0) return random.bytes(size);
  if (style === 1) return Buffer.from(randomText(random, size), 'utf8');
  // Payloads full of what would end a line: CRLF, CR, LF.
  return Buffer.from(Array.from({ length: size }, () => random.pick([0x0d, 0x0a, 0x61, 0x24])));
}

function randomInteger(random: Random): string {
  switch (random.int(5)) {
    case 0:
      return String(random.int(10));
    case 1:
      return String(random.int(2 ** 31) - 2 ** 30);
    case 2:
      return `${random.chance(0.5) ? '-' : ''}${Number.MAX_SAFE_INTEGER - random.int(3)}`;
    case 3:
      // Past 2^53 and 2^64: rounded like Number(text).
      return `${random.chance(0.5) ? '-' : ''}${random.int(9) + 1}${Array.from({ length: 15 + random.int(15) }, () => random.int(10)).join('')}`;
    default:
      return `${random.chance(0.3) ? '-' : ''}${random.int(1_000_000)}`;
  }
}

function randomDouble(random: Random): string {
  switch (random.int(6)) {
    case 0:
      return random.pick(['inf', '-inf', 'nan', '+inf', '-nan']);
    case 1:
      return String(random.int(1000) - 500);
    case 2:
      return String((random.next() - 0.5) * 10 ** (random.int(40) - 20));
    case 3:
      return `${random.chance(0.5) ? '-' : ''}${random.int(100)}.${random.int(1000)}e${random.chance(0.5) ? '-' : '+'}${random.int(30)}`;
    case 4:
      return `.${random.int(1000)}`;
    default:
      return `${random.int(100)}.`;
  }
}

function leaf(random: Random): Node {
  switch (random.int(13)) {
    case 0: {
      const t = randomText(random, 30);
      return { wire: line('+', t), value: () => t };
    }
    case 1: {
      const t = random.chance(0.5) ? `ERR ${randomText(random, 20)}` : randomText(random, 20);
      return { wire: line('-', t), value: () => new GoCacheCommandError(t) };
    }
    case 2: {
      const t = randomInteger(random);
      return { wire: line(':', t), value: () => (t.startsWith('-') ? 0 - Number(t.slice(1)) : Number(t)) };
    }
    case 3:
    case 4: {
      const payload = randomPayload(random);
      return { wire: blob('$', payload), value: (buffers) => (buffers ? Buffer.from(payload) : payload.toString('utf8')) };
    }
    case 5:
      return random.chance(0.5) ? { wire: Buffer.from('$-1\r\n'), value: () => null } : { wire: Buffer.from('_\r\n'), value: () => null };
    case 6: {
      const t = randomDouble(random);
      const expected = t in DOUBLE_WORDS ? DOUBLE_WORDS[t]! : Number(t);
      return { wire: line(',', t), value: () => expected };
    }
    case 7: {
      const flag = random.chance(0.5);
      return { wire: Buffer.from(flag ? '#t\r\n' : '#f\r\n'), value: () => flag };
    }
    case 8: {
      const t = `${random.pick(['', '-', '+'])}${random.int(9) + 1}${Array.from({ length: random.int(60) }, () => random.int(10)).join('')}`;
      return { wire: line('(', t), value: () => BigInt(t) };
    }
    case 9: {
      const payload = randomPayload(random);
      const format = Buffer.from(random.pick(['txt:', 'mkd:']));
      return { wire: blob('=', Buffer.concat([format, payload])), value: (buffers) => (buffers ? Buffer.from(payload) : payload.toString('utf8')) };
    }
    case 10: {
      const payload = randomPayload(random);
      return { wire: blob('!', payload), value: () => new GoCacheCommandError(payload.toString('utf8')) };
    }
    case 11:
      return { wire: Buffer.from('*-1\r\n'), value: () => null };
    default: {
      const t = String(random.int(100));
      return { wire: line(':', t), value: () => Number(t) };
    }
  }
}

/** An attribute (dropped by the parser) to put before a value, or nothing. */
function maybeAttribute(random: Random, depth: number): Buffer {
  if (!random.chance(0.08) || depth > 2) return Buffer.alloc(0);
  const n = random.int(3);
  const parts: Buffer[] = [Buffer.from(`|${n}\r\n`)];
  for (let i = 0; i < 2 * n; i++) parts.push(randomNode(random, depth + 1, false).wire);
  return Buffer.concat(parts);
}

function randomNode(random: Random, depth: number, topLevel: boolean): Node {
  const attribute = maybeAttribute(random, depth);
  let node: Node;
  if (depth >= 4 || random.chance(0.55)) {
    node = leaf(random);
  } else {
    const kind = random.int(5);
    const n = random.int(random.chance(0.1) ? 40 : 5);
    const children = Array.from({ length: kind === 2 ? 2 * n : n }, () => randomNode(random, depth + 1, false));
    const body = Buffer.concat(children.map((c) => c.wire));
    if (kind === 2) {
      node = {
        wire: Buffer.concat([Buffer.from(`%${n}\r\n`), body]),
        value: (buffers) => {
          const map = new Map<RespValue, RespValue>();
          for (let i = 0; i < children.length; i += 2) map.set(children[i]!.value(buffers), children[i + 1]!.value(buffers));
          return map;
        },
      };
    } else {
      // A push is only a push at the top level; nested, it is an array.
      const type = kind === 0 || kind === 1 ? '*' : kind === 3 ? '~' : '>';
      node = { wire: Buffer.concat([Buffer.from(`${type}${n}\r\n`), body]), value: (buffers) => children.map((c) => c.value(buffers)) };
      node.push = type === '>' && topLevel;
    }
  }
  return { ...node, wire: Buffer.concat([attribute, node.wire]) };
}

/** A stream of 1 to 6 replies, with their expected events for `modes`. */
function randomStream(random: Random, modes: readonly boolean[]): { wire: Buffer; events: Event[] } {
  const count = 1 + random.int(6);
  const nodes = Array.from({ length: count }, () => randomNode(random, 0, true));
  return {
    wire: Buffer.concat(nodes.map((n) => n.wire)),
    events: nodes.map((n, i) => ({ push: n.push === true, value: n.value(modes[i] ?? false) })),
  };
}

function randomModes(random: Random): boolean[] {
  const style = random.int(3);
  return Array.from({ length: 64 }, () => (style === 0 ? false : style === 1 ? true : random.chance(0.5)));
}

// ---------------------------------------------------------------------------------------------
// Random and mutated input.

const ALPHABET = Buffer.from('+-:$*_,#(=!%~>|\r\n\r\n\r\n0123456789-1tfx.einaOK ');

function randomBytes(random: Random): Buffer {
  const length = 1 + random.int(random.chance(0.2) ? 400 : 40);
  const out = Buffer.allocUnsafe(length);
  const biased = random.chance(0.85);
  for (let i = 0; i < length; i++) out[i] = biased && !random.chance(0.03) ? ALPHABET[random.int(ALPHABET.length)]! : random.int(256);
  return out;
}

/** Small edits that keep most of a valid stream: the interesting invalid input is near valid input. */
function mutate(random: Random, wire: Buffer): Buffer {
  let out = Buffer.from(wire);
  const edits = 1 + random.int(3);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const at = random.int(out.length);
    switch (random.int(8)) {
      case 0: // replace a byte
        out[at] = random.chance(0.7) ? ALPHABET[random.int(ALPHABET.length)]! : random.int(256);
        break;
      case 1: // insert a byte
        out = Buffer.concat([out.subarray(0, at), Buffer.from([random.chance(0.5) ? ALPHABET[random.int(ALPHABET.length)]! : random.int(256)]), out.subarray(at)]);
        break;
      case 2: // delete bytes
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + random.int(3))]);
        break;
      case 3: // truncate
        out = out.subarray(0, at);
        break;
      case 4: {
        // duplicate a range
        const end = Math.min(out.length, at + 1 + random.int(20));
        out = Buffer.concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        break;
      }
      case 5: // a digit changed or added: lengths that lie
        out = Buffer.concat([out.subarray(0, at), Buffer.from(String(random.int(10))), out.subarray(at)]);
        break;
      case 6: // a bare CR or LF
        out = Buffer.concat([out.subarray(0, at), Buffer.from([random.chance(0.5) ? 0x0d : 0x0a]), out.subarray(at)]);
        break;
      default: // swap two bytes
        {
          const other = random.int(out.length);
          const t = out[at]!;
          out[at] = out[other]!;
          out[other] = t;
        }
        break;
    }
  }
  return out;
}

function truncate(random: Random, wire: Buffer): Buffer {
  return wire.subarray(0, 1 + random.int(wire.length - 1));
}

/** Limits small enough to be hit by small input, or the defaults. */
function randomLimits(random: Random): Limits {
  if (random.chance(0.5)) return DEFAULT_LIMITS;
  return {
    maxBulkLength: random.chance(0.5) ? random.int(30) : DEFAULT_LIMITS.maxBulkLength,
    maxAggregateLength: random.chance(0.5) ? random.int(6) : DEFAULT_LIMITS.maxAggregateLength,
    maxDepth: random.chance(0.5) ? random.int(5) : DEFAULT_LIMITS.maxDepth,
    maxLineLength: random.chance(0.5) ? 1 + random.int(12) : DEFAULT_LIMITS.maxLineLength,
  };
}

function optionsOf(limits: Limits): RespParserOptions {
  return limits === DEFAULT_LIMITS ? {} : { ...limits };
}

// ---------------------------------------------------------------------------------------------

const VALID_CASES = 3000;
const INVALID_CASES = 6000;

// Every error reply (a value) and every protocol error is an Error: capturing a stack trace for each
// costs most of the run under the test runner, and nothing here reads them.
let stackTraceLimit = Error.stackTraceLimit;
beforeAll(() => {
  stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
});
afterAll(() => {
  Error.stackTraceLimit = stackTraceLimit;
});

describe('RespParser fuzz: valid replies', () => {
  it(`${VALID_CASES} random streams of every type, fed cut at random points, give the generated values`, () => {
    let events = 0;
    let feeds = 0;
    for (let seed = 1; seed <= VALID_CASES; seed++) {
      const random = new Random(seed);
      const modes = randomModes(random);
      const stream = randomStream(random, modes);
      const expected: Outcome = { events: stream.events, end: 'complete' };
      const reference = referenceDecode(stream.wire, modes, DEFAULT_LIMITS);
      if (!sameOutcome(reference, expected)) {
        expect.fail(`the reference decoder disagrees with the generator: ${describeCase(seed, stream.wire, [], {})}\nreference ${show(reference)}\ngenerated ${show(expected)}`);
      }
      for (let k = 0; k < 3; k++) {
        const cuts = randomCuts(random, stream.wire.length);
        expectAgrees(feedOurs(stream.wire, cuts, modes, {}), expected, () => describeCase(seed, stream.wire, cuts, {}));
        feeds++;
      }
      events += stream.events.length;
    }
    expect(events).toBeGreaterThan(VALID_CASES);
    expect(feeds).toBe(3 * VALID_CASES);
  });
});

describe('RespParser fuzz: random and mutated bytes', () => {
  it(`${INVALID_CASES} inputs under random limits: the reference's replies, and an error exactly when it finds one, however cut`, () => {
    const ends = { complete: 0, incomplete: 0, error: 0 };
    for (let seed = 1; seed <= INVALID_CASES; seed++) {
      const random = new Random(1_000_000 + seed);
      const modes = randomModes(random);
      const style = random.int(20);
      // Random bytes; valid streams mutated; cut short (the stream ends inside a reply); or intact,
      // where only the random limits can make them fail.
      const wire =
        style < 6 ? randomBytes(random) : style < 16 ? mutate(random, randomStream(random, modes).wire) : style < 18 ? truncate(random, randomStream(random, modes).wire) : randomStream(random, modes).wire;
      const limits = randomLimits(random);
      const options = optionsOf(limits);
      const reference = referenceDecode(wire, modes, limits);
      ends[reference.end]++;
      const whole = feedOurs(wire, [], modes, options);
      expectAgrees(whole, reference, () => describeCase(seed, wire, [], options));
      for (let k = 0; k < 3; k++) {
        const cuts = randomCuts(random, wire.length);
        const cut = feedOurs(wire, cuts, modes, options);
        expectAgrees(cut, reference, () => describeCase(seed, wire, cuts, options));
        // The same bytes fail the same way however they are cut.
        if (cut.message !== whole.message) expect.fail(`${describeCase(seed, wire, cuts, options)}\ncut: ${cut.message}\nwhole: ${whole.message}`);
      }
    }
    // The cases reach every outcome, not only errors.
    expect(ends.error).toBeGreaterThan(INVALID_CASES / 10);
    expect(ends.complete).toBeGreaterThan(INVALID_CASES / 20);
    expect(ends.incomplete).toBeGreaterThan(INVALID_CASES / 20);
  });

  it('the random limits are hit: each limit stops some of the inputs', () => {
    // Re-run a sample with each limit alone lowered, and count the inputs it turns into errors.
    const turned = { maxBulkLength: 0, maxAggregateLength: 0, maxDepth: 0, maxLineLength: 0 };
    const lowered: Record<keyof typeof turned, number> = { maxBulkLength: 3, maxAggregateLength: 1, maxDepth: 1, maxLineLength: 3 };
    for (let seed = 1; seed <= 500; seed++) {
      const random = new Random(2_000_000 + seed);
      const modes = randomModes(random);
      const wire = randomStream(random, modes).wire;
      for (const name of Object.keys(turned) as (keyof typeof turned)[]) {
        const limits = { ...DEFAULT_LIMITS, [name]: lowered[name] };
        const reference = referenceDecode(wire, modes, limits);
        const ours = feedOurs(wire, randomCuts(random, wire.length), modes, { [name]: lowered[name] });
        expectAgrees(ours, reference, () => describeCase(seed, wire, [], { [name]: lowered[name] }));
        if (reference.end === 'error') {
          turned[name]++;
          expect(ours.message).toMatch(new RegExp(`exceeds ${name} ${lowered[name]}$`));
        }
      }
    }
    for (const count of Object.values(turned)) expect(count).toBeGreaterThan(50);
  });
});
