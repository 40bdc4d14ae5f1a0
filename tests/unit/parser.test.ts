import { describe, it, expect } from 'vitest';
import { RespParser, type RespParserOptions, type RespValue } from '../../src/runtime/resp/parser.js';
import { GoCacheCommandError, GoCacheProtocolError } from '../../src/runtime/errors.js';
import { expectSame, same, show } from './resp-values.js';

interface Event {
  push: boolean;
  value: RespValue;
}

/**
 * Parses `chunks` in order. `modes[i]` is the returnBuffers value for the i-th delivered reply; it is
 * set from inside the handlers, the way the connection does it.
 */
function parseChunks(chunks: readonly Buffer[], modes: readonly boolean[] = [], withPush = true, options?: RespParserOptions): Event[] {
  const events: Event[] = [];
  const parser: RespParser = new RespParser(
    withPush
      ? {
          onReply: (value) => {
            events.push({ push: false, value });
            parser.returnBuffers = modes[events.length] ?? false;
          },
          onPush: (value) => {
            events.push({ push: true, value });
            parser.returnBuffers = modes[events.length] ?? false;
          },
        }
      : {
          onReply: (value) => {
            events.push({ push: false, value });
            parser.returnBuffers = modes[events.length] ?? false;
          },
        },
    options,
  );
  parser.returnBuffers = modes[0] ?? false;
  for (const chunk of chunks) parser.feed(chunk);
  return events;
}

function parseOne(wire: string | Buffer, returnBuffers = false): RespValue {
  const events = parseChunks([typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire], [returnBuffers]);
  expect(events.length).toBe(1);
  expect(events[0]!.push).toBe(false);
  return events[0]!.value;
}

function sameEvents(a: readonly Event[], b: readonly Event[]): boolean {
  return a.length === b.length && a.every((e, i) => e.push === b[i]!.push && same(e.value, b[i]!.value));
}

function protocolError(chunks: readonly (string | Buffer)[], options?: RespParserOptions): GoCacheProtocolError {
  const parser = new RespParser({ onReply: () => {} }, options);
  try {
    for (const chunk of chunks) parser.feed(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  } catch (error) {
    expect(error).toBeInstanceOf(GoCacheProtocolError);
    return error as GoCacheProtocolError;
  }
  throw new Error(`no protocol error for ${show(chunks.map(String))}`);
}

const err = (message: string): GoCacheCommandError => new GoCacheCommandError(message);

describe('RespParser: the Python client scenarios', () => {
  it.each<[string, string, RespValue]>([
    ['+OK', '+OK\r\n', 'OK'],
    ['+PONG', '+PONG\r\n', 'PONG'],
    ['a simple string with spaces', '+hello world\r\n', 'hello world'],
    ['an error reply keeps its message', '-ERR unknown command\r\n', err('ERR unknown command')],
    [':42', ':42\r\n', 42],
    [':0', ':0\r\n', 0],
    [':-1', ':-1\r\n', -1],
    ['$5 hello', '$5\r\nhello\r\n', 'hello'],
    ['the empty bulk string is "", not null', '$0\r\n\r\n', ''],
    ['$-1 is null', '$-1\r\n', null],
    ['a bulk string with spaces', '$11\r\nhello world\r\n', 'hello world'],
    ['an array of three bulk strings', '*3\r\n$3\r\nfoo\r\n$3\r\nbar\r\n$3\r\nbaz\r\n', ['foo', 'bar', 'baz']],
    ['*0 is an empty array', '*0\r\n', []],
    ['*-1 is null', '*-1\r\n', null],
    ['a mixed array', '*3\r\n+OK\r\n:1\r\n$5\r\nhello\r\n', ['OK', 1, 'hello']],
    ['a nested array of arrays', '*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n$1\r\na\r\n', [[1, 2], ['a']]],
  ])('%s', (_title, wire, expected) => {
    expectSame(parseOne(wire), expected);
  });

  it('an error reply is a GoCacheCommandError value, distinguishable from a string value', () => {
    const value = parseOne('-ERR unknown command\r\n');
    expect(value).toBeInstanceOf(GoCacheCommandError);
    expect((value as GoCacheCommandError).message).toBe('ERR unknown command');
    expect((value as GoCacheCommandError).code).toBe('ERR');
    expect(parseOne('+ERR unknown command\r\n')).toBe('ERR unknown command');
  });

  it('an unknown type byte (!bad) is a protocol error', () => {
    expect(protocolError(['!bad\r\n']).message).toMatch(/'!'.*offset 0/);
  });
});

describe('RespParser: RESP2 details', () => {
  it.each<[string, string, RespValue]>([
    ['a large integer', ':1234567890123\r\n', 1234567890123],
    ['MAX_SAFE_INTEGER', ':9007199254740991\r\n', Number.MAX_SAFE_INTEGER],
    ['-MAX_SAFE_INTEGER', ':-9007199254740991\r\n', -Number.MAX_SAFE_INTEGER],
    ['an integer past 2^53 rounds like Number(text)', ':12345678901234567891\r\n', Number('12345678901234567891')],
    ['an integer past 2^64', ':-99999999999999999999999\r\n', Number('-99999999999999999999999')],
    ['a multi-byte UTF-8 bulk', `$15\r\nこんにちは\r\n`, 'こんにちは'],
    ['a bulk with CRLF in its payload', '$8\r\nab\r\n\r\ncd\r\n', 'ab\r\n\r\ncd'],
    ['a UTF-8 simple string', '+héllo\r\n', 'héllo'],
    ['an empty simple string', '+\r\n', ''],
    ['an error without a code', "-Length of command doesn't match\r\n", err("Length of command doesn't match")],
    [
      'EXEC results with nested errors',
      '*4\r\n+OK\r\n-ERR unknown command \'FOO\'\r\n$1\r\nv\r\n*2\r\n-ERR syntax error\r\n:3\r\n',
      ['OK', err("ERR unknown command 'FOO'"), 'v', [err('ERR syntax error'), 3]],
    ],
    ['a null bulk and a null array inside an array', '*3\r\n$-1\r\n*-1\r\n*0\r\n', [null, null, []]],
    ['a pub/sub message as a plain array', '*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nhi!\r\n', ['message', 'ch', 'hi!']],
  ])('%s', (_title, wire, expected) => {
    expectSame(parseOne(wire), expected);
  });

  it('a nested error is a GoCacheCommandError with its code', () => {
    const value = parseOne('*2\r\n:1\r\n-WRONGTYPE Operation against a key\r\n') as RespValue[];
    expect(value[1]).toBeInstanceOf(GoCacheCommandError);
    expect((value[1] as GoCacheCommandError).code).toBe('WRONGTYPE');
  });

  it('a deeply nested array parses without recursion limits (maxDepth raised to 10,000)', () => {
    const depth = 10_000;
    const wire = '*1\r\n'.repeat(depth) + ':7\r\n';
    const events = parseChunks([Buffer.from(wire)], [], true, { maxDepth: depth });
    expect(events.length).toBe(1);
    let value = events[0]!.value;
    for (let i = 0; i < depth; i++) {
      expect(Array.isArray(value)).toBe(true);
      value = (value as RespValue[])[0]!;
    }
    expect(value).toBe(7);
  });

  it('an array longer than the preallocation limit', () => {
    const n = 70_000;
    const value = parseOne(`*${n}\r\n` + ':1\r\n'.repeat(n)) as RespValue[];
    expect(value.length).toBe(n);
    expect(value.every((v) => v === 1)).toBe(true);
  });
});

describe('RespParser: RESP3 types', () => {
  it.each<[string, string, RespValue, boolean?]>([
    ['null _', '_\r\n', null],
    ['double', ',3.14\r\n', 3.14],
    ['negative double with exponent', ',-1.5e-3\r\n', -0.0015],
    ['integral double', ',10\r\n', 10],
    ['double inf', ',inf\r\n', Infinity],
    ['double -inf', ',-inf\r\n', -Infinity],
    ['double nan', ',nan\r\n', NaN],
    ['boolean true', '#t\r\n', true],
    ['boolean false', '#f\r\n', false],
    ['big number', '(3492890328409238509324850943850943825024385\r\n', 3492890328409238509324850943850943825024385n],
    ['negative big number', '(-12\r\n', -12n],
    ['verbatim string, prefix removed', '=15\r\ntxt:Some string\r\n', 'Some string'],
    ['verbatim string as Buffer', '=9\r\nmkd:\x00\x01abc\r\n', Buffer.from([0, 1, 0x61, 0x62, 0x63]), true],
    ['empty verbatim string', '=4\r\ntxt:\r\n', ''],
    ['blob error', '!21\r\nSYNTAX invalid syntax\r\n', err('SYNTAX invalid syntax')],
    ['blob error in buffer mode is still an error', '!3\r\nERR\r\n', err('ERR'), true],
    ['map', '%2\r\n+first\r\n:1\r\n+second\r\n*1\r\n#t\r\n', new Map<RespValue, RespValue>([['first', 1], ['second', [true]]])],
    ['empty map', '%0\r\n', new Map()],
    ['set', '~3\r\n:1\r\n$1\r\na\r\n_\r\n', [1, 'a', null]],
    ['empty set', '~0\r\n', []],
    ['attribute before a value is skipped', '|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2\r\n:3\r\n', [2, 3]],
    ['attribute inside an array is skipped', '*3\r\n:1\r\n|1\r\n+ttl\r\n:10\r\n:2\r\n:3\r\n', [1, 2, 3]],
    ['empty attribute', '|0\r\n:5\r\n', 5],
    ['map with errors and nested maps', '%1\r\n$1\r\nk\r\n%1\r\n-ERR x\r\n!1\r\ny\r\n', new Map<RespValue, RespValue>([['k', new Map<RespValue, RespValue>([[err('ERR x'), err('y')]])]])],
  ])('%s', (_title, wire, expected, buffers = false) => {
    expectSame(parseOne(Buffer.from(wire, 'utf8'), buffers), expected);
  });

  it('a map keeps its keys in order', () => {
    const value = parseOne('%3\r\n+z\r\n:1\r\n+a\r\n:2\r\n+m\r\n:3\r\n') as Map<RespValue, RespValue>;
    expect([...value.keys()]).toEqual(['z', 'a', 'm']);
  });

  it('push frames go to onPush, replies to onReply, in stream order', () => {
    const events = parseChunks([Buffer.from('+OK\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n:1\r\n>0\r\n')]);
    expect(events.map((e) => e.push)).toEqual([false, true, false, true]);
    expectSame(events[1]!.value, ['message', 'ch', 'x']);
    expectSame(events[3]!.value, []);
  });

  it('push frames go to onReply when there is no onPush', () => {
    const events = parseChunks([Buffer.from('>2\r\n+a\r\n+b\r\n:1\r\n')], [], false);
    expect(events.length).toBe(2);
    expectSame(events[0]!.value, ['a', 'b']);
    expectSame(events[1]!.value, 1);
  });

  it('an attribute before a push does not turn it into a reply', () => {
    const events = parseChunks([Buffer.from('|1\r\n+a\r\n+b\r\n>1\r\n+p\r\n')]);
    expect(events.length).toBe(1);
    expect(events[0]!.push).toBe(true);
    expectSame(events[0]!.value, ['p']);
  });
});

describe('RespParser: buffer mode', () => {
  it('returns bulk strings as Buffers and simple strings as strings', () => {
    expectSame(parseOne('*3\r\n$3\r\nfoo\r\n+OK\r\n$0\r\n\r\n', true), [Buffer.from('foo'), 'OK', Buffer.alloc(0)]);
  });

  it('keeps every byte 0x00-0xFF', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const wire = Buffer.concat([Buffer.from('$256\r\n'), bytes, Buffer.from('\r\n')]);
    expectSame(parseOne(wire, true), bytes);
  });

  it('copies values out of the chunk: changing the chunk later does not change them', () => {
    const values: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => values.push(v) });
    parser.returnBuffers = true;
    const whole = Buffer.from('$3\r\nabc\r\n$4\r\nwxyz\r\n');
    const first = Buffer.from(whole.subarray(0, 14));
    const second = Buffer.from(whole.subarray(14));
    parser.feed(first);
    parser.feed(second);
    first.fill(0x21);
    second.fill(0x21);
    expectSame(values, [Buffer.from('abc'), Buffer.from('wxyz')]);
  });

  it('a flip of returnBuffers inside onReply applies to the next reply, not the one being parsed', () => {
    const seen: RespValue[] = [];
    const parser: RespParser = new RespParser({
      onReply: (value) => {
        seen.push(value);
        parser.returnBuffers = !parser.returnBuffers;
      },
    });
    const wire = Buffer.from('$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n');
    // Byte by byte: the flip must hold even when a reply starts in a later chunk.
    for (let i = 0; i < wire.length; i++) parser.feed(wire.subarray(i, i + 1));
    expectSame(seen, ['a', Buffer.from('b'), ['c', 'd'], Buffer.from('e')]);
  });

  it('a flip between feeds while no reply is in progress applies to the next reply', () => {
    const seen: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => seen.push(v) });
    parser.feed(Buffer.from('$1\r\na\r\n'));
    parser.returnBuffers = true;
    parser.feed(Buffer.from('$1\r\nb\r\n'));
    parser.returnBuffers = false;
    parser.feed(Buffer.from('*1\r\n$1\r\nc\r\n'));
    expectSame(seen, ['a', Buffer.from('b'), ['c']]);
  });

  it('a flip between feeds after a top-level attribute does not change the reply it describes', () => {
    const seen: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => seen.push(v) });
    parser.feed(Buffer.from('|1\r\n+key\r\n+meta\r\n'));
    parser.returnBuffers = true;
    parser.feed(Buffer.from('$1\r\nx\r\n'));
    parser.feed(Buffer.from('$1\r\ny\r\n'));
    expectSame(seen, ['x', Buffer.from('y')]);
  });

  it('a flip inside onPush applies to the next reply', () => {
    const seen: RespValue[] = [];
    const parser: RespParser = new RespParser({
      onReply: (v) => seen.push(v),
      onPush: (v) => {
        seen.push(v);
        parser.returnBuffers = true;
      },
    });
    parser.feed(Buffer.from('>1\r\n$1\r\np\r\n$1\r\nq\r\n'));
    expectSame(seen, [['p'], Buffer.from('q')]);
  });

  it.each<[string, string, string]>([
    ['inside a bulk', '*2\r\n$1\r\nx\r\n$3\r\nab', 'c\r\n$1\r\ny\r\n'],
    ['between two elements', '*2\r\n$1\r\nx\r\n', '$3\r\nabc\r\n$1\r\ny\r\n'],
    ['inside a header', '*2\r\n$1\r\nx\r\n$', '3\r\nabc\r\n$1\r\ny\r\n'],
  ])('a flip between feeds while a reply is cut %s does not change that reply', (_title, first, second) => {
    const seen: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => seen.push(v) });
    parser.feed(Buffer.from(first));
    parser.returnBuffers = true;
    parser.feed(Buffer.from(second));
    expectSame(seen, [['x', 'abc'], Buffer.from('y')]);
  });
});

// A stream holding every type, each with the returnBuffers mode it is read in.
interface Segment {
  wire: string | Buffer;
  value: RespValue;
  buffers?: boolean;
  push?: boolean;
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const bigPayload = Array.from({ length: 100 * 1024 }, (_, i) => (i % 997 === 0 ? '\r\n' : String.fromCharCode(0x61 + (i % 26)))).join('');

const segments: Segment[] = [
  { wire: '+OK\r\n', value: 'OK' },
  { wire: '-ERR unknown command\r\n', value: err('ERR unknown command') },
  { wire: ':0\r\n', value: 0 },
  { wire: ':-42\r\n', value: -42 },
  { wire: ':12345678901234567891\r\n', value: Number('12345678901234567891') },
  { wire: '$5\r\nhello\r\n', value: 'hello' },
  { wire: '$0\r\n\r\n', value: '' },
  { wire: '$-1\r\n', value: null },
  { wire: '$10\r\nab\r\ncd\r\nef\r\n', value: 'ab\r\ncd\r\nef' },
  { wire: '$19\r\nこんにちは🙂\r\n', value: 'こんにちは🙂' },
  { wire: Buffer.concat([Buffer.from('$256\r\n'), allBytes, Buffer.from('\r\n')]), value: allBytes, buffers: true },
  { wire: '$4\r\n\r\n\r\n\r\n', value: Buffer.from('\r\n\r\n'), buffers: true },
  { wire: '*0\r\n', value: [] },
  { wire: '*-1\r\n', value: null },
  {
    wire: '*4\r\n*2\r\n:1\r\n*2\r\n:2\r\n$1\r\nx\r\n*0\r\n$-1\r\n-ERR nested\r\n',
    value: [[1, [2, 'x']], [], null, err('ERR nested')],
  },
  {
    wire: '*3\r\n+QUEUED\r\n*1\r\n$2\r\nhi\r\n:7\r\n',
    value: ['QUEUED', [Buffer.from('hi')], 7],
    buffers: true,
  },
  { wire: '_\r\n', value: null },
  { wire: ',3.5\r\n', value: 3.5 },
  { wire: ',-inf\r\n', value: -Infinity },
  { wire: ',nan\r\n', value: NaN },
  { wire: '#t\r\n', value: true },
  { wire: '#f\r\n', value: false },
  { wire: '(-123456789012345678901234567890\r\n', value: -123456789012345678901234567890n },
  { wire: '=15\r\ntxt:Some string\r\n', value: 'Some string' },
  { wire: '=6\r\ntxt:\r\n\r\n', value: Buffer.from('\r\n'), buffers: true },
  { wire: '!10\r\nERR blob\r\n\r\n', value: err('ERR blob\r\n') },
  {
    wire: '%2\r\n+a\r\n*2\r\n:1\r\n:2\r\n$1\r\nb\r\n%1\r\n#t\r\n_\r\n',
    value: new Map<RespValue, RespValue>([
      ['a', [1, 2]],
      ['b', new Map<RespValue, RespValue>([[true, null]])],
    ]),
  },
  { wire: '~2\r\n:1\r\n+two\r\n', value: [1, 'two'] },
  { wire: '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\na\r\nb\r\n', value: ['message', 'ch', 'a\r\nb'], push: true },
  { wire: '|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n', value: 'val' },
  { wire: '*2\r\n|1\r\n+meta\r\n*1\r\n:1\r\n:5\r\n:6\r\n', value: [5, 6] },
  { wire: `$${bigPayload.length}\r\n${bigPayload}\r\n`, value: bigPayload },
  { wire: '+after the big one\r\n', value: 'after the big one' },
];

const streamWire = Buffer.concat(segments.map((s) => (typeof s.wire === 'string' ? Buffer.from(s.wire, 'utf8') : s.wire)));
const streamModes = segments.map((s) => s.buffers === true);
const streamExpected: Event[] = segments.map((s) => ({ push: s.push === true, value: s.value }));

describe('RespParser: a stream of every type, cut anywhere', () => {
  it('fed whole, gives every expected value in order', () => {
    const events = parseChunks([streamWire], streamModes);
    expect(events.length).toBe(segments.length);
    events.forEach((event, i) => {
      expect(event.push, `segment ${i}`).toBe(streamExpected[i]!.push);
      expectSame(event.value, streamExpected[i]!.value);
    });
  });

  it('fed one byte at a time, gives the same values', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < streamWire.length; i++) chunks.push(streamWire.subarray(i, i + 1));
    expect(sameEvents(parseChunks(chunks, streamModes), streamExpected)).toBe(true);
  });

  it(`fed in two pieces at every one of its split points, gives the same values`, () => {
    const failures: number[] = [];
    for (let split = 1; split < streamWire.length; split++) {
      const events = parseChunks([streamWire.subarray(0, split), streamWire.subarray(split)], streamModes);
      if (!sameEvents(events, streamExpected)) failures.push(split);
    }
    expect(failures).toEqual([]);
  });

  it('keeps nothing of a chunk after feed: the connection reads into one reused buffer', () => {
    // Each piece is copied into the same buffer, fed, then overwritten, as the socket's onread does.
    const reused = Buffer.alloc(streamWire.length);
    const failures: number[] = [];
    for (const size of [1, 2, 3, 7, 64, 1000, 65536]) {
      const events: Event[] = [];
      const parser: RespParser = new RespParser({
        onReply: (value) => {
          events.push({ push: false, value });
          parser.returnBuffers = streamModes[events.length] ?? false;
        },
        onPush: (value) => {
          events.push({ push: true, value });
          parser.returnBuffers = streamModes[events.length] ?? false;
        },
      });
      parser.returnBuffers = streamModes[0] ?? false;
      for (let offset = 0; offset < streamWire.length; offset += size) {
        const piece = streamWire.subarray(offset, offset + size);
        piece.copy(reused, 0);
        parser.feed(reused.subarray(0, piece.length));
        reused.fill(0x3f);
      }
      if (!sameEvents(events, streamExpected)) failures.push(size);
    }
    expect(failures).toEqual([]);
  });

  it('fed in three pieces around every cut of the small replies, gives the same values', () => {
    // Every pair of cuts within the replies before the big bulk (a cut inside a cut header, etc.).
    const smallEnd = streamWire.indexOf(`$${bigPayload.length}\r\n`);
    const failures: string[] = [];
    for (let a = 1; a < smallEnd; a += 3) {
      for (let b = a + 1; b < smallEnd; b += 5) {
        const chunks = [streamWire.subarray(0, a), streamWire.subarray(a, b), streamWire.subarray(b)];
        if (!sameEvents(parseChunks(chunks, streamModes), streamExpected)) failures.push(`${a},${b}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('RespParser: large and chunked bulk strings', () => {
  it('a bulk string delivered in 1,000 chunks is joined correctly, as a string and as a Buffer', () => {
    const payload = Buffer.from(Array.from({ length: 250_000 }, (_, i) => (i * 7 + 3) % 256));
    const wire = Buffer.concat([Buffer.from(`$${payload.length}\r\n`), payload, Buffer.from('\r\n:1\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      chunks.push(wire.subarray(Math.floor((i * wire.length) / 1000), Math.floor(((i + 1) * wire.length) / 1000)));
    }
    expect(chunks.every((c) => c.length > 0)).toBe(true);
    const asBuffer = parseChunks(chunks, [true]);
    expect(asBuffer.length).toBe(2);
    expectSame(asBuffer[0]!.value, payload);
    expectSame(asBuffer[1]!.value, 1);
    const asString = parseChunks(chunks, [false]);
    expectSame(asString[0]!.value, payload.toString('utf8'));
  });

  it('a 4 MiB bulk in 64 KiB chunks, followed by more replies in the last chunk', () => {
    const payload = Buffer.alloc(4 * 1024 * 1024, 0x78);
    const wire = Buffer.concat([Buffer.from(`*2\r\n$${payload.length}\r\n`), payload, Buffer.from('\r\n+x\r\n:9\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, i + 65536));
    const events = parseChunks(chunks, [true]);
    expect(events.length).toBe(2);
    expectSame(events[0]!.value, [payload, 'x']);
    expectSame(events[1]!.value, 9);
  });

  it('a bulk whose CRLF arrives split over two later chunks', () => {
    const events = parseChunks([Buffer.from('$3\r\nab'), Buffer.from('c\r'), Buffer.from('\n:2\r\n')]);
    expectSame(events.map((e) => e.value), ['abc', 2]);
  });

  it('a long simple string cut into many chunks', () => {
    const text = 'x'.repeat(60_000);
    const wire = Buffer.from(`+${text}\r\n:1\r\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 100) chunks.push(wire.subarray(i, i + 100));
    expectSame(parseChunks(chunks).map((e) => e.value), [text, 1]);
  });

  it('a simple string longer than the default line limit, with maxLineLength raised', () => {
    const text = 'x'.repeat(100_000);
    const wire = Buffer.from(`+${text}\r\n:1\r\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 100) chunks.push(wire.subarray(i, i + 100));
    expectSame(parseChunks(chunks, [], true, { maxLineLength: 100_000 }).map((e) => e.value), [text, 1]);
  });
});

describe('RespParser: protocol errors', () => {
  it.each<[string, (string | Buffer)[], RegExp, RespParserOptions?]>([
    ['an unknown type byte ?', ['?foo\r\n'], /0x3f \('\?'\) at offset 0/],
    ['an unknown type byte @ after a reply (offset counts the stream)', ['+OK\r\n@x\r\n'], /0x40 \('@'\) at offset 5/],
    ['an unknown type byte in a later chunk', ['+OK\r\n', ':1\r\n', '\x00'], /0x00 at offset 9/],
    ['an unknown type byte inside an array', ['*2\r\n:1\r\n?\r\n'], /'\?'.*offset 8/],
    ['a LF-only line', [':1\n'], /number/],
    ['! with a text instead of a length', ['!bad\r\n'], /'!'/],
    ['a non-numeric bulk length', ['$abc\r\n'], /'\$'/],
    ['an empty bulk length', ['$\r\n'], /'\$'/],
    ['a bulk length of -2', ['$-2\r\n'], /Invalid length -2/],
    ['an array length of -5', ['*-5\r\n'], /Invalid length -5/],
    ['an array length of -10', ['*-10\r\n'], /Invalid length -10/],
    ['a missing CRLF after bulk data', ['$3\r\nfooXY'], /Missing CRLF after bulk data at offset 7/],
    ['a missing CRLF after bulk data across chunks', ['$3\r\nfo', 'oX', 'Y'], /Missing CRLF after bulk data at offset 7/],
    ['a bulk length above 512 MiB', ['$536870913\r\n'], /Length 536870913 for type '\$' at offset 0 exceeds maxBulkLength 536870912$/],
    ['an absurd bulk length', ['$99999999999999\r\n'], /exceeds maxBulkLength/],
    ['a bulk length above a configured limit', ['$11\r\n'], /exceeds maxBulkLength 10$/, { maxBulkLength: 10 }],
    ['an array length above 2^31-1', ['*2147483648\r\n'], /exceeds maxAggregateLength 16777216$/],
    ['a map length above 2^31-1', ['%9999999999\r\n'], /exceeds maxAggregateLength/],
    ['a non-numeric integer', [':12a\r\n'], /found byte 0x61/],
    ['an empty integer', [':\r\n'], /Expected a number/],
    ['a lone minus sign', [':-\r\n'], /Expected a number/],
    ['a CR not followed by LF', ['+OK\rX\r\n'], /CR not followed by LF at offset 3/],
    ['a CR not followed by LF after a length', ['$3\rX'], /CR not followed by LF/],
    ['a bad boolean', ['#x\r\n'], /boolean/],
    ['a null with data', ['_x\r\n'], /null/],
    ['a bad double', [',abc\r\n'], /double/],
    ['an empty double', [',\r\n'], /double/],
    ['a bad big number', ['(12x\r\n'], /big number/],
    ['a verbatim string without its prefix', ['=3\r\nabc\r\n'], /verbatim/],
    ['a verbatim string without its prefix across chunks', ['=5\r\nab', 'cde\r\n'], /verbatim/],
    ['a null map', ['%-1\r\n'], /null length/],
    ['a null blob error', ['!-1\r\n'], /null length/],
  ])('%s', (_title, chunks, message, options) => {
    expect(protocolError(chunks, options).message).toMatch(message);
  });

  it('a bulk exactly at the configured limit is accepted', () => {
    const values: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => values.push(v) }, { maxBulkLength: 3 });
    parser.feed(Buffer.from('$3\r\nabc\r\n'));
    expectSame(values, ['abc']);
  });

  it('refuses more input after a protocol error, and works again after reset()', () => {
    const values: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => values.push(v) });
    expect(() => parser.feed(Buffer.from('?\r\n'))).toThrow(GoCacheProtocolError);
    expect(() => parser.feed(Buffer.from('+OK\r\n'))).toThrow(GoCacheProtocolError);
    expect(values).toEqual([]);
    parser.reset();
    parser.feed(Buffer.from('+OK\r\n'));
    expect(values).toEqual(['OK']);
  });

  it('rejects an invalid maxBulkLength', () => {
    expect(() => new RespParser({ onReply: () => {} }, { maxBulkLength: -1 })).toThrow(RangeError);
  });
});

describe('RespParser: reset()', () => {
  it.each<[string, string]>([
    ['a cut header', '*3\r\n$1\r\na\r\n$12'],
    ['a cut bulk', '*2\r\n$10\r\nabc'],
    ['a cut nested array', '*2\r\n*2\r\n:1\r\n'],
    ['a cut simple string', '+hel'],
  ])('drops %s', (_title, partial) => {
    const values: RespValue[] = [];
    const parser = new RespParser({ onReply: (v) => values.push(v) });
    parser.feed(Buffer.from(partial));
    expect(values).toEqual([]);
    parser.reset();
    parser.feed(Buffer.from(':5\r\n+OK\r\n'));
    expect(values).toEqual([5, 'OK']);
  });

  it('called from inside onReply, stops the rest of the chunk', () => {
    const values: RespValue[] = [];
    const parser: RespParser = new RespParser({
      onReply: (v) => {
        values.push(v);
        if (v === 'STOP') parser.reset();
      },
    });
    parser.feed(Buffer.from('+a\r\n+STOP\r\n+lost\r\n'));
    parser.feed(Buffer.from('+b\r\n'));
    expect(values).toEqual(['a', 'STOP', 'b']);
  });
});
