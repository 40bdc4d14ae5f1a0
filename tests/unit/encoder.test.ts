import { describe, it, expect } from 'vitest';
import { encodeCommand, type CommandArg } from '../../src/runtime/resp/encoder.js';
import { GoCacheArgumentError } from '../../src/runtime/errors.js';

/** The bytes the connection writes: strings go out as UTF-8. */
function bytesOf(encoded: string | Buffer): Buffer {
  return typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : encoded;
}

/**
 * A strict, independent decoder of what GoCache accepts: exactly one non-empty array of bulk strings
 * with honest lengths, nothing before or after. Throws on anything else.
 */
function decodeRequest(wire: Buffer): Buffer[] {
  let offset = 0;
  const line = (): string => {
    const cr = wire.indexOf('\r\n', offset);
    if (cr < 0) throw new Error(`no CRLF after offset ${offset}`);
    const text = wire.toString('latin1', offset, cr);
    offset = cr + 2;
    return text;
  };
  const header = line();
  if (!/^\*[1-9]\d*$/.test(header)) throw new Error(`bad array header ${JSON.stringify(header)}`);
  const count = Number(header.slice(1));
  const args: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const bulk = line();
    if (!/^\$(0|[1-9]\d*)$/.test(bulk)) throw new Error(`element ${i} is not a bulk string: ${JSON.stringify(bulk)}`);
    const length = Number(bulk.slice(1));
    if (offset + length + 2 > wire.length) throw new Error(`element ${i} is cut`);
    args.push(Buffer.from(wire.subarray(offset, offset + length)));
    if (wire[offset + length] !== 0x0d || wire[offset + length + 1] !== 0x0a) throw new Error(`element ${i}: no CRLF after data`);
    offset += length + 2;
  }
  if (offset !== wire.length) throw new Error(`${wire.length - offset} trailing bytes`);
  return args;
}

function expectedBytes(arg: CommandArg): Buffer {
  if (typeof arg === 'string') return Buffer.from(arg, 'utf8');
  if (typeof arg === 'number') return Buffer.from(String(arg), 'latin1');
  return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
}

describe('encodeCommand: the Python client scenarios', () => {
  it.each<[string, CommandArg[], string]>([
    ['PING', ['PING'], '*1\r\n$4\r\nPING\r\n'],
    ['GET with one argument', ['GET', 'key'], '*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n'],
    ['SET with two arguments', ['SET', 'key', 'value'], '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n'],
    ['DEL with three keys is a 4-element array', ['DEL', 'k1', 'k2', 'k3'], '*4\r\n$3\r\nDEL\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\nk3\r\n'],
    ['SET key val EX 60 has 60 as a bulk string', ['SET', 'key', 'val', 'EX', 60], '*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\nval\r\n$2\r\nEX\r\n$2\r\n60\r\n'],
    ['the bulk length counts UTF-8 bytes (こ is $3)', ['SET', 'k', 'こ'], '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nこ\r\n'],
  ])('%s', (_title, args, wire) => {
    const encoded = encodeCommand(args);
    expect(typeof encoded).toBe('string');
    expect(encoded).toBe(wire);
  });
});

describe('encodeCommand: byte lengths of strings', () => {
  it.each<[string, string, number]>([
    ['empty', '', 0],
    ['ASCII', 'hello world', 11],
    ['two-byte characters', 'héllo', 6],
    ['three-byte characters', 'こんにちは', 15],
    ['a four-byte emoji (a surrogate pair)', '🙂', 4],
    ['CR LF inside the value', 'a\r\nb', 4],
  ])('%s', (_title, value, length) => {
    const encoded = encodeCommand(['SET', 'k', value]);
    expect(encoded).toBe(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${length}\r\n${value}\r\n`);
    // What the connection writes must agree with the declared length.
    expect(decodeRequest(bytesOf(encoded))[2]).toEqual(Buffer.from(value, 'utf8'));
  });
});

describe('encodeCommand: strings that are not well-formed UTF-16, and arguments over 512 MiB', () => {
  // Both lone surrogates would go out as U+FFFD (EF BF BD): two different keys would be one.
  it.each([
    ['a lone high surrogate', 'k\uD800'],
    ['a lone low surrogate', 'k\uDFFF'],
    ['a low surrogate before a high one', '\uDC00\uD800'],
    ['a high surrogate at the end', 'abc\uD83D'],
  ])('%s is refused before anything is encoded', (_title, key) => {
    expect(() => encodeCommand(['GET', key])).toThrow(GoCacheArgumentError);
    expect(() => encodeCommand(['GET', key])).toThrow(/Argument 1 of GET is not well-formed UTF-16/);
  });

  it('a well-formed surrogate pair is fine', () => {
    expect(encodeCommand(['GET', 'k\uD83D\uDE42'])).toBe('*2\r\n$3\r\nGET\r\n$5\r\nk🙂\r\n');
  });

  it('an argument over 512 MiB is refused (the server would drop the connection and everything on it)', () => {
    // A Buffer that claims the size without allocating it: only its length is read before refusing.
    const big = Buffer.alloc(1);
    Object.defineProperty(big, 'length', { value: 512 * 1024 * 1024 + 1 });
    expect(() => encodeCommand(['SET', 'k', big])).toThrow(/Argument 2 of SET is 536870913 bytes, over the 536870912-byte \(512 MiB\) limit/);
  });
});

describe('encodeCommand: numbers', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '0'],
    [60, '60'],
    [-5, '-5'],
    [1.5, '1.5'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [1e21, '1e+21'],
  ])('%s is sent as %s', (value, text) => {
    expect(encodeCommand(['SET', 'k', value])).toBe(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${text.length}\r\n${text}\r\n`);
  });
});

describe('encodeCommand: binary arguments', () => {
  it('returns a Buffer with the bytes of a Buffer argument, every byte 0x00-0xFF intact', () => {
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const encoded = encodeCommand(['SET', 'k', value]);
    expect(Buffer.isBuffer(encoded)).toBe(true);
    const expected = Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$256\r\n'), value, Buffer.from('\r\n')]);
    expect((encoded as Buffer).equals(expected)).toBe(true);
  });

  it('takes a plain Uint8Array view by its own offset and length, not its whole backing buffer', () => {
    const backing = new Uint8Array([9, 9, 0x61, 0x00, 0xff, 9, 9]);
    const view = backing.subarray(2, 5);
    const encoded = encodeCommand(['SET', view, 'v']);
    expect(Buffer.isBuffer(encoded)).toBe(true);
    expect(decodeRequest(encoded as Buffer)).toEqual([Buffer.from('SET'), Buffer.from([0x61, 0x00, 0xff]), Buffer.from('v')]);
  });

  it('keeps strings and numbers around binary arguments in order', () => {
    const encoded = encodeCommand(['SET', Buffer.from('key'), 'こ', Buffer.alloc(0), 7, new Uint8Array([1, 2])]);
    expect(decodeRequest(bytesOf(encoded)).map((b) => b.toString('hex'))).toEqual(
      ['SET', 'key', 'こ', '', '7', '\u0001\u0002'].map((s) => Buffer.from(s).toString('hex')),
    );
  });

  it('encodes an empty Buffer as $0', () => {
    expect((encodeCommand(['GET', Buffer.alloc(0)]) as Buffer).toString('latin1')).toBe('*2\r\n$3\r\nGET\r\n$0\r\n\r\n');
  });
});

describe('encodeCommand: refuses what GoCache cannot take', () => {
  const fn = (): void => {};
  it.each<[string, unknown[], RegExp]>([
    ['an empty command', [], /empty command/],
    ['a missing name', [undefined], /argument 0.*undefined/],
    ['an empty name', [''], /argument 0.*empty/],
    ['a number as the name', [1, 'x'], /argument 0.*number/],
    ['a Buffer as the name', [Buffer.from('GET'), 'x'], /argument 0.*Buffer/],
    ['undefined', ['SET', 'k', undefined], /Argument 2 of SET.*undefined/],
    ['null', ['SET', 'k', null], /Argument 2 of SET.*null/],
    ['a boolean', ['SET', 'k', true], /Argument 2 of SET.*boolean/],
    ['a plain object', ['SET', 'k', { a: 1 }], /Argument 2 of SET.*object/],
    ['an array', ['SET', 'k', ['v']], /Argument 2 of SET.*array/],
    ['a bigint', ['SET', 'k', 1n], /Argument 2 of SET.*bigint/],
    ['a symbol', ['SET', 'k', Symbol('v')], /Argument 2 of SET.*symbol/],
    ['a function', ['SET', 'k', fn], /Argument 2 of SET.*function/],
    ['a Date', ['SET', 'k', new Date(0)], /Argument 2 of SET.*Date/],
    ['a Uint16Array', ['SET', 'k', new Uint16Array(2)], /Argument 2 of SET.*Uint16Array/],
    ['a DataView', ['SET', 'k', new DataView(new ArrayBuffer(2))], /Argument 2 of SET.*DataView/],
    ['NaN', ['SET', 'k', NaN], /Argument 2 of SET.*finite.*NaN/],
    ['Infinity', ['SET', 'k', 'EX', Infinity], /Argument 3 of SET.*finite.*Infinity/],
    ['-Infinity', ['SET', 'k', -Infinity], /Argument 2 of SET.*finite.*-Infinity/],
    ['a bad argument after a binary one', ['SET', Buffer.from('k'), undefined], /Argument 2 of SET.*undefined/],
  ])('%s', (_title, args, message) => {
    let thrown: unknown;
    try {
      encodeCommand(args as CommandArg[]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GoCacheArgumentError);
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('encodeCommand: property check against a strict request decoder', () => {
  // A small deterministic PRNG (mulberry32), so a failure is reproducible.
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  // Well-formed text only: a lone surrogate is refused (see 'strings that are not well-formed UTF-16').
  const alphabet = ['a', 'Z', '0', ' ', '\r', '\n', '\r\n', '$', '*', ':', '\u0000', 'é', 'こ', '🙂', '\u{10FFFF}'];

  function randomArg(random: () => number): CommandArg {
    const kind = Math.floor(random() * 6);
    const size = Math.floor(random() * 12);
    switch (kind) {
      case 0:
      case 1: {
        let s = '';
        for (let i = 0; i < size; i++) s += alphabet[Math.floor(random() * alphabet.length)];
        return s;
      }
      case 2:
        return random() < 0.5 ? Math.floor((random() - 0.5) * 2 ** 40) : (random() - 0.5) * 1e6;
      case 3:
        return Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
      default: {
        const backing = new Uint8Array(size + 4).map(() => Math.floor(random() * 256));
        return backing.subarray(2, 2 + size);
      }
    }
  }

  it('for 2,000 random commands the output is a non-empty array of bulk strings that decodes to the arguments', () => {
    const random = prng(20260301);
    let binaryCount = 0;
    for (let n = 0; n < 2000; n++) {
      const args: CommandArg[] = ['CMD' + n];
      const extra = Math.floor(random() * 8);
      for (let i = 0; i < extra; i++) args.push(randomArg(random));
      const encoded = encodeCommand(args);
      const hasBinary = args.some((a) => a instanceof Uint8Array);
      if (hasBinary) binaryCount++;
      // A string exactly when nothing is binary.
      expect(typeof encoded === 'string').toBe(!hasBinary);
      const wire = bytesOf(encoded);
      expect(wire.toString('latin1', 0, `*${args.length}\r\n`.length)).toBe(`*${args.length}\r\n`);
      const decoded = decodeRequest(wire);
      expect(decoded.length).toBe(args.length);
      decoded.forEach((bytes, i) => {
        expect(bytes.equals(expectedBytes(args[i]!)), `command ${n}, argument ${i}`).toBe(true);
      });
    }
    // The generator really exercised both paths.
    expect(binaryCount).toBeGreaterThan(200);
    expect(binaryCount).toBeLessThan(1800);
  });
});
