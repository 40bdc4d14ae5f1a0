/**
 * src/runtime/resp/parser.ts: what `make mutate` showed the parser's own tests left unchecked, in
 * cheap cases (the parser's tests that feed long streams cut at every point are too slow to rerun
 * for each mutant, see stryker.setup.ts): strings of every short length at any offset (the parser
 * builds short ASCII strings by hand and copies short buffers with a loop), the `+OK` shortcut and
 * its neighbours, every framing error with its message and stream offset, the limits' bounds, empty
 * pushes, reset(), when returnBuffers is read, and a small stream of every type cut at every point.
 */
import { constants as bufferConstants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { GoCacheCommandError, GoCacheProtocolError } from '../../src/runtime/errors.js';
import { RespParser, type RespParserOptions, type RespValue } from '../../src/runtime/resp/parser.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** The replies `chunks` give, fed in order; a protocol error ends the list as `{ error }`. */
function parse(chunks: Array<string | Buffer>, options: RespParserOptions & { buffers?: boolean } = {}): unknown[] {
  const out: unknown[] = [];
  const parser = new RespParser({ onReply: (value) => out.push(value) }, options);
  parser.returnBuffers = options.buffers ?? false;
  try {
    for (const chunk of chunks) parser.feed(typeof chunk === 'string' ? bytes(chunk) : chunk);
  } catch (error) {
    expect(error).toBeInstanceOf(GoCacheProtocolError);
    out.push({ error: (error as Error).message });
  }
  return out;
}

describe('strings of every short length, anywhere in the chunk', () => {
  const text = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

  it('ASCII bulk and simple strings of 0 to 20 characters after another reply', () => {
    for (let n = 0; n <= 20; n++) {
      const s = text.slice(0, n);
      expect(parse([`:7\r\n$${n}\r\n${s}\r\n+${s}\r\n`]), `length ${n}`).toEqual([7, s, s]);
    }
  });

  it('short strings holding a byte of 0x80 or more are decoded as UTF-8', () => {
    for (let n = 1; n <= 17; n++) {
      const raw = Buffer.concat([bytes('x'.repeat(n - 1)), Buffer.from([0x80])]);
      const wire = Buffer.concat([bytes(`:1\r\n$${n}\r\n`), raw, bytes('\r\n')]);
      expect(parse([wire]), `length ${n}`).toEqual([1, raw.toString('utf8')]);
    }
    expect(parse([Buffer.concat([bytes('$2\r\n'), Buffer.from('é'), bytes('\r\n')])])).toEqual(['é']);
  });

  it('as Buffers, every length from 0 to 60 is a copy of exactly its bytes', () => {
    for (let n = 0; n <= 60; n++) {
      const data = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));
      const chunk = Buffer.concat([bytes(`:1\r\n$${n}\r\n`), data, bytes('\r\n:2\r\n')]);
      const [, value, after] = parse([chunk], { buffers: true }) as [number, Buffer, number];
      expect(value.equals(data), `length ${n}`).toBe(true);
      expect(after).toBe(2);
      chunk.fill(0); // the value is a copy: the chunk may be reused
      expect(value.equals(data), `length ${n}, after the chunk was reused`).toBe(true);
    }
  });
});

describe('the +OK shortcut and its neighbours', () => {
  it.each<[string[], unknown[]]>([
    [['+OK\r\n'], ['OK']],
    [['+OK\r\n:1\r\n'], ['OK', 1]],
    [['+OK\r', '\n'], ['OK']],
    [['+OK', '\r\n'], ['OK']],
    [['+AK\r\n:1\r\n'], ['AK', 1]],
    [['+OX\r\n:1\r\n'], ['OX', 1]],
    [['+OKK\r\n:1\r\n'], ['OKK', 1]],
    [['+O\r\n:1\r\n'], ['O', 1]],
    [['+OKX\nY\r\n:1\r\n'], ['OKX\nY', 1]],
    [['+OK\rX\r\n:1\r\n'], [{ error: 'A CR not followed by LF at offset 3' }]],
  ])('%j', (chunks, replies) => {
    expect(parse(chunks)).toEqual(replies);
  });
});

describe('framing errors, with their stream offsets', () => {
  it.each<[string[], unknown[]]>([
    [['$1\r\naX\n'], [{ error: 'Missing CRLF after bulk data at offset 5' }]],
    [['$1\r\na\rX'], [{ error: 'Missing CRLF after bulk data at offset 5' }]],
    [[':1\r\n$1\r\na\rX'], [1, { error: 'Missing CRLF after bulk data at offset 9' }]],
    [['$3\r\nab', 'cX\n'], [{ error: 'Missing CRLF after bulk data at offset 7' }]],
    [['$3\r\nab', 'c\rX'], [{ error: 'Missing CRLF after bulk data at offset 7' }]],
    [['=5\r\ntxt:a\r\r'], [{ error: 'Missing CRLF after bulk data at offset 9' }]],
    [['=5\r\ntxt:a\n\n'], [{ error: 'Missing CRLF after bulk data at offset 9' }]],
    [['!1\r\nE\rX'], [{ error: 'Missing CRLF after bulk data at offset 5' }]],
    [['!1\r\nEX\n'], [{ error: 'Missing CRLF after bulk data at offset 5' }]],
    [['_X\n'], [{ error: 'A malformed null at offset 0' }]],
    [['_\rX'], [{ error: 'A malformed null at offset 0' }]],
    [[':1\r\n_\rX'], [1, { error: 'A malformed null at offset 4' }]],
    [['#x\r\n'], [{ error: 'A malformed boolean at offset 0' }]],
    [['#t\rX'], [{ error: 'A malformed boolean at offset 0' }]],
    [['#tX\n'], [{ error: 'A malformed boolean at offset 0' }]],
    [['A'], [{ error: "Unexpected RESP type byte 0x41 ('A') at offset 0" }]],
    [['\x1f'], [{ error: 'Unexpected RESP type byte 0x1f at offset 0' }]],
    [[' '], [{ error: "Unexpected RESP type byte 0x20 (' ') at offset 0" }]],
    [['\x7f'], [{ error: 'Unexpected RESP type byte 0x7f at offset 0' }]],
    [['\xff'], [{ error: 'Unexpected RESP type byte 0xff at offset 0' }]],
    [[':1\r\n', 'A'], [1, { error: "Unexpected RESP type byte 0x41 ('A') at offset 4" }]],
    [['+a\r\nb\r\n'], ['a', { error: "Unexpected RESP type byte 0x62 ('b') at offset 4" }]],
  ])('%j', (chunks, replies) => {
    expect(parse(chunks)).toEqual(replies);
  });

  it('nulls and booleans cut anywhere', () => {
    for (const wire of ['_\r\n', '#t\r\n', '#f\r\n']) {
      const whole = parse([wire]);
      for (let cut = 1; cut < wire.length; cut++) expect(parse([wire.slice(0, cut), wire.slice(cut)]), `${JSON.stringify(wire)} cut at ${cut}`).toEqual(whole);
    }
    expect(parse(['_\r\n#t\r\n#f\r\n'])).toEqual([null, true, false]);
  });

  it('a failed parser refuses more input with the same error until reset()', () => {
    const parser = new RespParser({ onReply: () => undefined });
    expect(() => parser.feed(bytes('A'))).toThrow("Unexpected RESP type byte 0x41 ('A') at offset 0");
    expect(() => parser.feed(bytes(':1\r\n'))).toThrow("Unexpected RESP type byte 0x41 ('A') at offset 0");
    parser.reset();
    const out: RespValue[] = [];
    const fresh = new RespParser({ onReply: (v) => out.push(v) });
    fresh.feed(bytes(':1\r\n'));
    expect(out).toEqual([1]);
  });
});

describe('limits', () => {
  const make = (options: RespParserOptions) => () => new RespParser({ onReply: () => undefined }, options);

  it('accepts each limit up to its bound and refuses one past it', () => {
    expect(make({ maxBulkLength: bufferConstants.MAX_LENGTH - 2 })).not.toThrow();
    expect(make({ maxBulkLength: bufferConstants.MAX_LENGTH - 1 })).toThrow(new RangeError(`maxBulkLength must be an integer from 0 to ${bufferConstants.MAX_LENGTH - 2}, got ${bufferConstants.MAX_LENGTH - 1}`));
    expect(make({ maxLineLength: Number.MAX_SAFE_INTEGER - 4 })).not.toThrow();
    expect(make({ maxLineLength: Number.MAX_SAFE_INTEGER - 3 })).toThrow(RangeError);
    expect(make({ maxLineLength: 0 })).toThrow(new RangeError('maxLineLength must be an integer from 1 to 9007199254740987, got 0'));
    expect(make({ maxDepth: Number.MAX_SAFE_INTEGER })).not.toThrow();
    expect(make({ maxDepth: -1 })).toThrow(RangeError);
    expect(make({ maxDepth: 1.5 })).toThrow(RangeError);
  });
});

describe('pushes, reset() and returnBuffers', () => {
  it('an empty push at the top level goes to onPush; inside an array it is an element', () => {
    const pushes: RespValue[][] = [];
    const replies: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => replies.push(v), onPush: (v) => pushes.push(v) });
    parser.feed(bytes('>0\r\n*1\r\n>0\r\n>1\r\n:5\r\n'));
    expect(pushes).toEqual([[], [5]]);
    expect(replies).toEqual([[[]]]);
  });

  it('reset() in the middle of an aggregate, a line or a bulk string: the next byte starts a new reply', () => {
    for (const partial of ['*2\r\n:1\r\n', '*2\r\n*2\r\n:1\r\n', ':12', '$5\r\nab', '%1\r\n+k\r\n']) {
      const out: RespValue[] = [];
      const parser = new RespParser({ onReply: (v) => out.push(v) });
      parser.feed(bytes(partial));
      parser.reset();
      parser.feed(bytes(':5\r\n'));
      expect(out, partial).toEqual([5]);
    }
  });

  it('returnBuffers is read at the start of each top-level reply, the first one included', () => {
    const out: RespValue[] = [];
    const parser = new RespParser({
      onReply: (v) => {
        out.push(v);
        parser.returnBuffers = !parser.returnBuffers;
      },
    });
    parser.returnBuffers = true;
    parser.feed(bytes('$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nc\r\n'));
    parser.feed(bytes('$1\r\nd\r\n'));
    expect(out).toEqual([Buffer.from('a'), 'b', [Buffer.from('c'), Buffer.from('d')]]);
    expect(parse(['$1\r\na\r\n'])).toEqual(['a']);
  });
});

describe('a small stream of every type, cut at every point', () => {
  const wire = [
    '+OK\r\n',
    '-ERR bad\r\n',
    ':-12\r\n',
    '$5\r\nhello\r\n',
    '$0\r\n\r\n',
    '$-1\r\n',
    '*-1\r\n',
    '*2\r\n:1\r\n*1\r\n+x\r\n',
    '_\r\n',
    '#t\r\n',
    ',3.5\r\n',
    ',inf\r\n',
    '(123456789012345678901\r\n',
    '=7\r\ntxt:abc\r\n',
    '!3\r\nERR\r\n',
    '%1\r\n+k\r\n:2\r\n',
    '~1\r\n+m\r\n',
    '|1\r\n+ttl\r\n:3\r\n+v\r\n',
    `$20\r\n${'a'.repeat(20)}\r\n`,
    `+${'b'.repeat(40)}\r\n`,
  ].join('');
  const show = (values: unknown[]) => values.map((v) => (v instanceof GoCacheCommandError ? `error ${v.message}` : v));

  it('in two pieces, and in pieces of every size up to 9, gives the same replies as whole', () => {
    const whole = show(parse([wire]));
    expect(whole).toHaveLength(20);
    for (let cut = 1; cut < wire.length; cut++) expect(show(parse([wire.slice(0, cut), wire.slice(cut)])), `cut at ${cut}`).toEqual(whole);
    for (let size = 1; size <= 9; size++) {
      const pieces: string[] = [];
      for (let at = 0; at < wire.length; at += size) pieces.push(wire.slice(at, at + size));
      expect(show(parse(pieces)), `pieces of ${size}`).toEqual(whole);
    }
  });

  it('a line longer than any kept line buffer, cut into many pieces, then a shorter one', () => {
    const long = `+${'c'.repeat(9000)}\r\n:42\r\n+${'d'.repeat(300)}\r\n`;
    const pieces: string[] = [];
    for (let at = 0; at < long.length; at += 97) pieces.push(long.slice(at, at + 97));
    expect(parse(pieces)).toEqual(['c'.repeat(9000), 42, 'd'.repeat(300)]);
  });
});
