/**
 * The parser's limits (RespParserOptions) and the hostile inputs they stop. Each limit: at the limit
 * the reply parses, one above it fails with a GoCacheProtocolError naming the limit and the stream
 * offset, in one chunk and split at every byte (the same message however the bytes are cut).
 * Memory and time are measured as growth and ratios, never as absolute wall-clock bounds: the
 * machine running the tests is shared and noisy.
 */
import { describe, it, expect } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  DEFAULT_MAX_AGGREGATE_LENGTH,
  DEFAULT_MAX_BULK_LENGTH,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LINE_LENGTH,
  MAX_AGGREGATE_LENGTH,
  MAX_MAP_SIZE,
  RespParser,
  type RespParserOptions,
  type RespValue,
} from '../../src/runtime/resp/parser.js';
import { GoCacheCommandError, GoCacheProtocolError } from '../../src/runtime/errors.js';
import { same } from './resp-values.js';

const MiB = 1024 * 1024;

// A full GC before each memory measurement, so garbage of earlier tests is not counted (or freed) in it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function memory(): NodeJS.MemoryUsage {
  gc();
  return process.memoryUsage();
}

interface Outcome {
  values: RespValue[];
  error: GoCacheProtocolError | null;
  /** How many chunks were fed, the failing one included. */
  fed: number;
}

/** Feeds `chunks` in order; stops at the first error, which must be a GoCacheProtocolError. */
function run(chunks: readonly Buffer[], options?: RespParserOptions, buffers = false): Outcome {
  const values: RespValue[] = [];
  const parser = new RespParser({ onReply: (v) => values.push(v), onPush: (v) => values.push(v) }, options);
  parser.returnBuffers = buffers;
  let fed = 0;
  for (const chunk of chunks) {
    fed++;
    try {
      parser.feed(chunk);
    } catch (error) {
      expect(error).toBeInstanceOf(GoCacheProtocolError);
      // Refuses further input, with the same error.
      expect(() => parser.feed(Buffer.from('+OK\r\n'))).toThrow(error as Error);
      return { values, error: error as GoCacheProtocolError, fed };
    }
  }
  return { values, error: null, fed };
}

function bytes(wire: string | Buffer): Buffer {
  return typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
}

/** The wire whole, byte by byte, and in two pieces at every split point. */
function cuts(wire: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[wire], Array.from(wire, (_, i) => wire.subarray(i, i + 1))];
  for (let split = 1; split < wire.length; split++) ways.push([wire.subarray(0, split), wire.subarray(split)]);
  return ways;
}

/** Parses to `expected` (one reply) however the wire is cut. */
function expectParsesEverywhere(wire: string | Buffer, options: RespParserOptions, expected: RespValue, buffers = false): void {
  for (const chunks of cuts(bytes(wire))) {
    const outcome = run(chunks, options, buffers);
    expect(outcome.error?.message ?? null, `cut into ${chunks.map((c) => c.length).join('+')}`).toBe(null);
    expect(outcome.values.length).toBe(1);
    expect(same(outcome.values[0]!, expected), `cut into ${chunks.map((c) => c.length).join('+')}`).toBe(true);
  }
}

/** Fails with a message matching `message`, the same message however the wire is cut. */
function expectFailsEverywhere(wire: string | Buffer, options: RespParserOptions, message: RegExp): void {
  const whole = run([bytes(wire)], options);
  expect(whole.error, 'no error for the whole wire').not.toBe(null);
  expect(whole.error!.message).toMatch(message);
  for (const chunks of cuts(bytes(wire))) {
    const outcome = run(chunks, options);
    expect(outcome.error?.message, `cut into ${chunks.map((c) => c.length).join('+')}`).toBe(whole.error!.message);
  }
}

describe('RespParser limits: defaults and validation', () => {
  it('exports the defaults', () => {
    expect(DEFAULT_MAX_BULK_LENGTH).toBe(512 * MiB);
    expect(DEFAULT_MAX_AGGREGATE_LENGTH).toBe(2 ** 24);
    expect(DEFAULT_MAX_DEPTH).toBe(128);
    expect(DEFAULT_MAX_LINE_LENGTH).toBe(64 * 1024);
    expect(MAX_MAP_SIZE).toBe(2 ** 24);
    expect(MAX_AGGREGATE_LENGTH).toBe(2 ** 26);
  });

  it.each<[string, RespParserOptions]>([
    ['a negative maxBulkLength', { maxBulkLength: -1 }],
    ['a fractional maxBulkLength', { maxBulkLength: 1.5 }],
    ['a maxBulkLength larger than a Buffer can be', { maxBulkLength: 2 ** 40 }],
    ['a NaN maxAggregateLength', { maxAggregateLength: NaN }],
    ['a maxAggregateLength above MAX_AGGREGATE_LENGTH', { maxAggregateLength: MAX_AGGREGATE_LENGTH + 1 }],
    ['an infinite maxDepth', { maxDepth: Infinity }],
    ['a negative maxDepth', { maxDepth: -1 }],
    ['a maxLineLength of 0', { maxLineLength: 0 }],
    ['a string maxLineLength', { maxLineLength: '10' as unknown as number }],
  ])('rejects %s with a RangeError naming the option', (_title, options) => {
    const name = Object.keys(options)[0]!;
    expect(() => new RespParser({ onReply: () => {} }, options)).toThrow(RangeError);
    expect(() => new RespParser({ onReply: () => {} }, options)).toThrow(name);
  });

  it('accepts the extremes', () => {
    expect(() => new RespParser({ onReply: () => {} }, { maxBulkLength: 0, maxAggregateLength: 0, maxDepth: 0, maxLineLength: 1 })).not.toThrow();
    expect(() => new RespParser({ onReply: () => {} }, { maxAggregateLength: MAX_AGGREGATE_LENGTH, maxDepth: 1e9, maxLineLength: 2 ** 40 })).not.toThrow();
  });
});

describe('RespParser limits: maxBulkLength', () => {
  const payload = '0123456789';
  it.each<[string, string, string, RespValue, boolean?]>([
    ['$ bulk string', `$10\r\n${payload}\r\n`, `$11\r\n${payload}x\r\n`, payload],
    ['$ bulk string as a Buffer', `$10\r\n${payload}\r\n`, `$11\r\n${payload}x\r\n`, Buffer.from(payload), true],
    ['= verbatim string', `=10\r\ntxt:456789\r\n`, `=11\r\ntxt:4567890\r\n`, '456789'],
    ['! blob error', `!10\r\n${payload}\r\n`, `!11\r\n${payload}x\r\n`, new GoCacheCommandError(payload)],
  ])('%s: at the limit passes, one above fails', (_title, at, above, expected, buffers = false) => {
    expectParsesEverywhere(at, { maxBulkLength: 10 }, expected, buffers);
    const type = above[0]!.replace('$', '\\$');
    expectFailsEverywhere(above, { maxBulkLength: 10 }, new RegExp(`^Length 11 for type '${type}' at offset 0 exceeds maxBulkLength 10$`));
  });

  it('the offset is the stream offset of the header, also inside an aggregate and after other replies', () => {
    expectFailsEverywhere(`+OK\r\n*2\r\n:1\r\n$11\r\n`, { maxBulkLength: 10 }, /at offset 13 exceeds maxBulkLength 10$/);
  });

  it('the default is 512 MiB', () => {
    expect(run([Buffer.from('$536870912\r\nab')]).error).toBe(null);
    expect(run([Buffer.from('$536870913\r\n')]).error!.message).toMatch(/exceeds maxBulkLength 536870912$/);
  });

  it('a header full of digits is reported shortened', () => {
    const message = run([Buffer.from(`$${'9'.repeat(1000)}\r\n`)]).error!.message;
    expect(message).toMatch(/^Length 99999999999999999999\.\.\. \(1000 digits\) for type '\$' at offset 0 exceeds maxBulkLength/);
  });
});

describe('RespParser limits: maxAggregateLength', () => {
  const three = ':1\r\n:2\r\n:3\r\n';
  const pairs = '+a\r\n:1\r\n+b\r\n:2\r\n+c\r\n:3\r\n';
  const map = new Map<RespValue, RespValue>([['a', 1], ['b', 2], ['c', 3]]);
  it.each<[string, string, string, RespValue]>([
    ['* array', `*3\r\n${three}`, `*4\r\n${three}:4\r\n`, [1, 2, 3]],
    ['~ set', `~3\r\n${three}`, `~4\r\n${three}:4\r\n`, [1, 2, 3]],
    ['> push', `>3\r\n${three}`, `>4\r\n${three}:4\r\n`, [1, 2, 3]],
    ['% map (pairs are counted)', `%3\r\n${pairs}`, `%4\r\n${pairs}+d\r\n:4\r\n`, map],
    ['| attribute (pairs are counted)', `|3\r\n${pairs}:7\r\n`, `|4\r\n${pairs}+d\r\n:4\r\n:7\r\n`, 7],
  ])('%s: at the limit passes, one above fails', (_title, at, above, expected) => {
    expectParsesEverywhere(at, { maxAggregateLength: 3 }, expected);
    const type = `\\${above[0]!}`;
    expectFailsEverywhere(above, { maxAggregateLength: 3 }, new RegExp(`^Length 4 for type '${type}' at offset 0 exceeds maxAggregateLength 3$`));
  });

  it('a nested aggregate is checked too, at its own offset', () => {
    expectFailsEverywhere('*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*4\r\n', { maxAggregateLength: 3 }, /'\*' at offset 20 exceeds maxAggregateLength 3$/);
  });

  it('the default is 2^24; a header of 2^31-1 elements is refused', () => {
    expect(run([Buffer.from(`*${2 ** 24}\r\n:1\r\n`)]).error).toBe(null);
    expect(run([Buffer.from(`*${2 ** 24 + 1}\r\n`)]).error!.message).toMatch(/exceeds maxAggregateLength 16777216$/);
    expect(run([Buffer.from(`*${2 ** 31 - 1}\r\n`)]).error!.message).toMatch(/exceeds maxAggregateLength 16777216$/);
  });

  it('maps and attributes above what a JavaScript Map holds are refused even when the option allows them', () => {
    const options = { maxAggregateLength: MAX_AGGREGATE_LENGTH };
    expect(run([Buffer.from(`*${MAX_AGGREGATE_LENGTH}\r\n:1\r\n`)], options).error).toBe(null);
    expect(run([Buffer.from(`%${MAX_MAP_SIZE}\r\n+a\r\n`)], options).error).toBe(null);
    expect(run([Buffer.from(`%${MAX_MAP_SIZE + 1}\r\n`)], options).error!.message).toMatch(/^Length 16777217 for type '%' at offset 0 exceeds 16777216, the most entries a JavaScript Map holds$/);
    expect(run([Buffer.from(`|${MAX_MAP_SIZE + 1}\r\n`)], options).error!.message).toMatch(/'\|' at offset 0 exceeds 16777216/);
  });

  it('a large declared length reserves nothing up front: 1,000 nested headers of 65,536 elements', () => {
    // Before, each frame preallocated its array: 1,000 x 512 KiB from 9 KB on the wire.
    const wire = Buffer.from('*65536\r\n'.repeat(1000));
    const before = memory().heapUsed;
    const outcome = run([wire], { maxDepth: 1000 });
    const grown = process.memoryUsage().heapUsed - before;
    expect(outcome.error).toBe(null);
    expect(grown).toBeLessThan(32 * MiB);
  });
});

describe('RespParser limits: maxDepth', () => {
  const nested = (depth: number, inner = ':1\r\n'): string => '*1\r\n'.repeat(depth) + inner;
  const value = (depth: number, inner: RespValue = 1): RespValue => {
    let v = inner;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };

  it('at the limit passes, one above fails, with the offset of the aggregate that goes too deep', () => {
    expectParsesEverywhere(nested(3), { maxDepth: 3 }, value(3));
    expectFailsEverywhere(nested(4), { maxDepth: 3 }, /^An aggregate \('\*'\) at offset 12 nested 4 deep exceeds maxDepth 3$/);
  });

  it.each<[string, string, string, RespValue]>([
    ['an empty array counts as an aggregate', '*1\r\n*1\r\n*0\r\n', '*1\r\n*1\r\n*1\r\n*0\r\n', [[[]]]],
    ['an empty map', '*1\r\n*1\r\n%0\r\n', '*1\r\n*1\r\n*1\r\n%0\r\n', [[new Map()]]],
    ['maps, sets and pushes', '%1\r\n+k\r\n~1\r\n>1\r\n:1\r\n', '%1\r\n+k\r\n~1\r\n>1\r\n*0\r\n', new Map<RespValue, RespValue>([['k', [[1]]]])],
    ['an attribute is open while its pairs are read', '*1\r\n|1\r\n+a\r\n*0\r\n:5\r\n', '*1\r\n|1\r\n+a\r\n*1\r\n*0\r\n', [5]],
    ['an empty attribute too', '*1\r\n*1\r\n|0\r\n:5\r\n', '*1\r\n*1\r\n*1\r\n|0\r\n:5\r\n', [[5]]],
  ])('%s', (_title, at, above, expected) => {
    expectParsesEverywhere(at, { maxDepth: 3 }, expected);
    expectFailsEverywhere(above, { maxDepth: 3 }, /exceeds maxDepth 3$/);
  });

  it('a null array is not an aggregate', () => {
    expectParsesEverywhere('*1\r\n*1\r\n*1\r\n*-1\r\n', { maxDepth: 3 }, value(3, null));
  });

  it('a closed aggregate gives its depth back', () => {
    expectParsesEverywhere('*2\r\n*1\r\n*0\r\n*1\r\n*0\r\n', { maxDepth: 3 }, [[[]], [[]]]);
  });

  it('maxDepth 0 refuses every aggregate but not the other types', () => {
    expectFailsEverywhere('*0\r\n', { maxDepth: 0 }, /nested 1 deep exceeds maxDepth 0$/);
    expectParsesEverywhere('*-1\r\n', { maxDepth: 0 }, null);
  });

  it(`the default is ${DEFAULT_MAX_DEPTH}`, () => {
    expect(run([Buffer.from(nested(128))]).values.length).toBe(1);
    expect(run([Buffer.from(nested(129))]).error!.message).toBe("An aggregate ('*') at offset 512 nested 129 deep exceeds maxDepth 128");
  });

  it('4 million nested *1 (16 MB in 64 KiB chunks) fail in the first chunk, with little memory', () => {
    const wire = Buffer.from('*1\r\n'.repeat(4_000_000));
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, i + 65536));
    const before = memory();
    const outcome = run(chunks);
    const after = process.memoryUsage();
    expect(outcome.error!.message).toMatch(/at offset 512 nested 129 deep exceeds maxDepth 128$/);
    expect(outcome.fed).toBe(1);
    // Before the limit, this took 580 MB and killed a process with a 256 MB heap.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * MiB);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(8 * MiB);
  });
});

describe('RespParser limits: maxLineLength', () => {
  const eight = 'abcdefgh';
  it.each<[string, string, string, RespValue]>([
    ['+ simple string', `+${eight}\r\n`, `+${eight}i\r\n`, eight],
    ['- error', `-${eight}\r\n`, `-${eight}i\r\n`, new GoCacheCommandError(eight)],
    [': integer', ':12345678\r\n', ':123456789\r\n', 12345678],
    [': negative integer (the sign counts)', ':-1234567\r\n', ':-12345678\r\n', -1234567],
    [', double', ',1.234567\r\n', ',1.2345678\r\n', 1.234567],
    ['( big number', '(12345678\r\n', '(123456789\r\n', 12345678n],
    ['$ header (leading zeros)', '$00000003\r\nabc\r\n', '$000000003\r\nabc\r\n', 'abc'],
    ['* header', '*00000001\r\n:1\r\n', '*000000001\r\n:1\r\n', [1]],
    ['% header', '%00000001\r\n:1\r\n:2\r\n', '%000000001\r\n:1\r\n:2\r\n', new Map([[1, 2]])],
    ['= header', '=00000005\r\ntxt:x\r\n', '=000000005\r\ntxt:x\r\n', 'x'],
    ['! header', '!00000001\r\nx\r\n', '!000000001\r\nx\r\n', new GoCacheCommandError('x')],
    ['a line with a bare LF in it', `+abc\ndefg\r\n`, `+abc\ndefgh\r\n`, 'abc\ndefg'],
  ])('%s: at the limit passes, one above fails', (_title, at, above, expected) => {
    expectParsesEverywhere(at, { maxLineLength: 8 }, expected);
    expectFailsEverywhere(above, { maxLineLength: 8 }, /^A line at offset 0 exceeds maxLineLength 8$/);
  });

  it('fails as soon as the line is too long, before its end arrives, on every path', () => {
    for (const type of ['+', '-', ':', ',', '(', '$', '*', '~', '>', '%', '|', '=', '!']) {
      const digits = type === '+' || type === '-' ? 'abcdefghi' : '123456789';
      expectFailsEverywhere(`${type}${digits}`, { maxLineLength: 8 }, /^A line at offset 0 exceeds maxLineLength 8$/);
    }
  });

  it('a CR right at the limit, whose LF is not there yet, is not too long', () => {
    for (const chunks of cuts(Buffer.from(`+${eight}\r`))) expect(run(chunks, { maxLineLength: 8 }).error).toBe(null);
  });

  it('the offset is the stream offset of the line, after other replies and inside aggregates', () => {
    expectFailsEverywhere(`:1\r\n*2\r\n+ok\r\n+${eight}i`, { maxLineLength: 8 }, /^A line at offset 13 exceeds maxLineLength 8$/);
  });

  it('a bad digit before the limit is reported as a bad digit, however the line is cut', () => {
    expectFailsEverywhere(':1234x6789', { maxLineLength: 8 }, /^Expected a number after ':' at offset 0, found byte 0x78 at offset 5$/);
    expectFailsEverywhere('*1\r\n$12-', { maxLineLength: 8 }, /^Expected a number after '\$' at offset 4, found byte 0x2d at offset 7$/);
  });

  it(`the default is ${DEFAULT_MAX_LINE_LENGTH} bytes`, () => {
    const at = `+${'x'.repeat(DEFAULT_MAX_LINE_LENGTH)}\r\n`;
    expect(run([Buffer.from(at)]).values).toEqual(['x'.repeat(DEFAULT_MAX_LINE_LENGTH)]);
    expect(run([Buffer.from(`+${'x'.repeat(DEFAULT_MAX_LINE_LENGTH + 1)}\r\n`)]).error!.message).toBe('A line at offset 0 exceeds maxLineLength 65536');
    expect(run([Buffer.from(`:${'0'.repeat(DEFAULT_MAX_LINE_LENGTH)}\r\n`)]).values).toEqual([0]);
    expect(run([Buffer.from(`$${'0'.repeat(DEFAULT_MAX_LINE_LENGTH + 1)}\r\n`)]).error!.message).toBe('A line at offset 0 exceeds maxLineLength 65536');
  });

  it('a 16 MiB line in chunks that each hold a bare LF fails at the line limit, without reading the rest', () => {
    const chunkSize = 4096;
    const chunks: Buffer[] = [Buffer.from('+')];
    const piece = Buffer.alloc(chunkSize, 0x61);
    piece[chunkSize >> 1] = 0x0a;
    for (let i = 0; i < (16 * MiB) / chunkSize; i++) chunks.push(piece);
    const before = memory();
    const outcome = run(chunks);
    const after = process.memoryUsage();
    expect(outcome.error!.message).toBe('A line at offset 0 exceeds maxLineLength 65536');
    // The chunk that holds content byte 65,537 is the one that fails.
    expect(outcome.fed).toBe(1 + Math.ceil((DEFAULT_MAX_LINE_LENGTH + 1) / chunkSize));
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(4 * MiB);
  });

  it('so do 16 MiB of digits (a length header) and of zeros', () => {
    for (const type of [':', '$', '*']) {
      const chunks = [Buffer.from(type), ...Array.from({ length: 4096 }, () => Buffer.alloc(4096, 0x30))];
      expect(run(chunks).error!.message).toBe('A line at offset 0 exceeds maxLineLength 65536');
    }
  });
});

/**
 * Milliseconds of this process's CPU time (all threads, so GC helpers count): on a shared machine,
 * the time the test spends descheduled is not its work, and wall time moved these ratios by 3x.
 */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** The least of `runs` timings of `work` (the least is the one the machine's noise disturbed least). */
function fastest(runs: number, work: () => void): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = cpuMs();
    work();
    best = Math.min(best, cpuMs() - start);
  }
  return best;
}

/**
 * Feeds `chunks` to a parser that only counts its replies (keeping them would time the GC too).
 * With `budgetMs`, gives up (returns -1) once that much CPU time is spent: a quadratic parser would
 * otherwise keep the test busy for hours.
 */
function countReplies(chunks: readonly Buffer[], options?: RespParserOptions, budgetMs = Infinity): number {
  let count = 0;
  const parser = new RespParser({ onReply: () => count++ }, options);
  const deadline = cpuMs() + budgetMs;
  for (let i = 0; i < chunks.length; i++) {
    parser.feed(chunks[i]!);
    if ((i & 1023) === 0 && cpuMs() > deadline) return -1;
  }
  return count;
}

/**
 * fastest(large) / fastest(small). A run of `large` past `bound` times the small one's time is given
 * up (a GC or the machine may slow one run down); after two such runs, the ratio is Infinity.
 */
function workRatio(small: () => number, large: (budgetMs: number) => number, bound: number): number {
  fastest(2, small); // warm-up
  const smallMs = fastest(7, small);
  let best = Infinity;
  let givenUp = 0;
  for (let run = 0; run < 5 && givenUp < 2; run++) {
    const start = cpuMs();
    if (large(bound * smallMs) < 0) givenUp++;
    else best = Math.min(best, cpuMs() - start);
  }
  return best / smallMs;
}

describe('RespParser limits: linear time on cut lines', () => {
  /** A simple string of `size` bytes (a bare LF every 50), in 64-byte chunks, then `:1`. */
  function longLine(size: number): Buffer[] {
    const text = Buffer.alloc(size, 0x61);
    for (let i = 25; i < size; i += 50) text[i] = 0x0a;
    const wire = Buffer.concat([Buffer.from('+'), text, Buffer.from('\r\n:1\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 64) chunks.push(wire.subarray(i, i + 64));
    return chunks;
  }

  // 8x the input: linear work is ~8x, quadratic ~64x (re-scanning the line from its start at every
  // chunk, the bug fixed here, took 16 s for 1 MiB in 64-byte chunks). The bound, 20, leaves linear
  // code 2.5x for the noise of a shared machine and the GC; a quadratic parser is given up on there.
  it('a legitimate long line in many chunks parses in linear time: 8x the bytes, about 8x the work', () => {
    const options = { maxLineLength: 16 * MiB };
    const small = longLine(256 * 1024);
    const large = longLine(2 * MiB);
    const outcome = run(large, options);
    expect(outcome.values.length).toBe(2);
    expect((outcome.values[0] as string).length).toBe(2 * MiB);
    const ratio = workRatio(() => countReplies(small, options), (budget) => countReplies(large, options, budget), 20);
    expect(ratio).toBeLessThan(20);
  });

  it('the same for many headers cut at chunk ends: 8x the replies, about 8x the work', () => {
    // 7-byte chunks cut replies of 7 and 9 bytes everywhere: `:1234\r\n` `$1\r\nx\r\n`
    const stream = (count: number): Buffer[] => {
      const wire = Buffer.from(':1234\r\n$1\r\nx\r\n'.repeat(count));
      const chunks: Buffer[] = [];
      for (let i = 0; i < wire.length; i += 7) chunks.push(wire.subarray(i, i + 7));
      return chunks;
    };
    const small = stream(50_000);
    const large = stream(400_000);
    expect(countReplies(small)).toBe(100_000);
    expect(countReplies(large)).toBe(800_000);
    const ratio = workRatio(() => countReplies(small), (budget) => countReplies(large, undefined, budget), 20);
    expect(ratio).toBeLessThan(20);
  });
});

describe('RespParser limits: bulk buffers grow with the bytes received', () => {
  it.each([false, true])('a 512 MiB bulk header (13 bytes) and a few bytes reserve little (returnBuffers %s)', (buffers) => {
    const before = memory();
    const values: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => values.push(v) });
    parser.returnBuffers = buffers;
    parser.feed(Buffer.from('$536870912\r\nabc'));
    parser.feed(Buffer.from('defgh'));
    const after = process.memoryUsage();
    // Before, startBulk reserved the declared 512 MiB at once.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(8 * MiB);
    expect(after.rss - before.rss).toBeLessThan(64 * MiB);
    expect(values).toEqual([]);
  });

  it('what is reserved stays within 8x what was received', () => {
    const before = memory().arrayBuffers;
    const parser = new RespParser({ onReply: () => {} });
    parser.returnBuffers = true;
    parser.feed(Buffer.from('$536870912\r\n'));
    const piece = Buffer.alloc(65536, 0x61);
    for (let i = 0; i < 64; i++) parser.feed(piece); // 4 MiB
    // Held by this test: `piece`; by the parser: at most 8 x 4 MiB (and the garbage of its growth).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 4 * MiB + 8 * MiB + 2 * MiB);
  });

  it.each([false, true])('large bulks (returnBuffers %s) come out intact through every growth step, cut in uneven chunks', (buffers) => {
    for (const size of [1 * MiB, 1 * MiB + 1, 3 * MiB + 5, 9 * MiB + 7]) {
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4099) payload[i] = (i / 4099) & 0xff;
      payload.fill(0x41, 0, 16);
      const wire = Buffer.concat([Buffer.from(`*2\r\n$${size}\r\n`), payload, Buffer.from('\r\n:7\r\n+after\r\n')]);
      const chunks: Buffer[] = [];
      for (let i = 0, step = 1; i < wire.length; i += step, step = 1 + ((step * 7 + 13) % 90001)) chunks.push(wire.subarray(i, i + step));
      // Each chunk is overwritten after feed, as the connection's reused read buffer is.
      const reused = chunks.map((c) => Buffer.from(c));
      const values: RespValue[] = [];
      const parser = new RespParser({ onReply: (v) => values.push(v) });
      parser.returnBuffers = buffers;
      for (const chunk of reused) {
        parser.feed(chunk);
        chunk.fill(0x3f);
      }
      expect(values.length).toBe(2);
      const [first, second] = values[0] as RespValue[];
      if (buffers) expect((first as Buffer).equals(payload)).toBe(true);
      else expect(first).toBe(payload.toString('utf8'));
      expect(second).toBe(7);
      expect(values[1]).toBe('after');
    }
  });

  it('a missing CRLF after grown bulk data is still reported at its offset', () => {
    const size = 3 * MiB;
    const wire = Buffer.concat([Buffer.from(`$${size}\r\n`), Buffer.alloc(size, 0x61), Buffer.from('XY')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, i + 65536));
    expect(run(chunks).error!.message).toBe(`Missing CRLF after bulk data at offset ${wire.length - 2}`);
  });
});

describe('RespParser limits: after an error', () => {
  it('refuses input until reset(), then parses again with the same limits', () => {
    const values: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => values.push(v) }, { maxDepth: 1 });
    expect(() => parser.feed(Buffer.from('*1\r\n*1\r\n'))).toThrow(/exceeds maxDepth 1/);
    expect(() => parser.feed(Buffer.from(':1\r\n'))).toThrow(/exceeds maxDepth 1/);
    parser.reset();
    parser.feed(Buffer.from('*1\r\n:1\r\n'));
    expect(() => parser.feed(Buffer.from('*1\r\n*1\r\n'))).toThrow(/exceeds maxDepth 1/);
    expect(values).toEqual([[1]]);
  });

  it('reset() drops a cut line and a pending bulk', () => {
    const values: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => values.push(v) }, { maxLineLength: 4 });
    parser.feed(Buffer.from('+abc'));
    parser.reset();
    parser.feed(Buffer.from('$3\r\nab'));
    parser.reset();
    parser.feed(Buffer.from('+wxyz\r\n'));
    expect(values).toEqual(['wxyz']);
  });
});
