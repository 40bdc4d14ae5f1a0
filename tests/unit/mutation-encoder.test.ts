/**
 * src/runtime/resp/encoder.ts: what `make mutate` showed no test pinned down (tests/unit/encoder.test.ts
 * matches refusal messages loosely): the exact type named when an argument is refused, and the 512 MiB
 * limit on both sides of its boundary, for strings and for bytes. The sizes are claimed, never allocated.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeCommand, MAX_ARGUMENT_BYTES, type CommandArg } from '../../src/runtime/resp/encoder.js';
import { GoCacheArgumentError } from '../../src/runtime/errors.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The GoCacheArgumentError message encoding `args` throws. */
function refusal(args: unknown[]): string {
  try {
    encodeCommand(args as CommandArg[]);
  } catch (error) {
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    return (error as Error).message;
  }
  throw new Error('encodeCommand did not throw');
}

describe('the type a refused argument is named by', () => {
  class Point {}
  const anonymous = new (class {})();
  const unnamedCtor = Object.create({ constructor: { name: '' } }) as object;
  const oddCtor = Object.create({ constructor: { name: 42 } }) as object;
  const named = Object.assign(() => undefined, { constructor: { name: 'Widget' } });

  it.each<[string, unknown, string]>([
    ['null', null, 'null'],
    ['an array', ['v'], 'an array'],
    ['undefined', undefined, 'undefined'],
    ['a boolean', false, 'boolean'],
    ['a bigint', 1n, 'bigint'],
    ['a symbol', Symbol('s'), 'symbol'],
    ['a plain object', { a: 1 }, 'object'],
    ['an object without prototype', Object.create(null), 'object'],
    ['a class instance', new Point(), 'object (Point)'],
    ['an instance of an anonymous class', anonymous, 'object'],
    ['an object whose constructor has an empty name', unnamedCtor, 'object'],
    ['an object whose constructor name is not a string', oddCtor, 'object'],
    ['a Map', new Map(), 'object (Map)'],
    ['a plain function', () => undefined, 'function'],
    ['an async function', async () => undefined, 'function (AsyncFunction)'],
    ['a function with a named constructor', named, 'function (Widget)'],
  ])('%s: "%s"', (_title, value, type) => {
    expect(refusal(['SET', 'k', value])).toBe(`Argument 2 of SET must be a string, a number, a Buffer or a Uint8Array, got ${type}`);
  });

  it('names the command name by its type too', () => {
    expect(refusal([new Point(), 'x'])).toBe('The command name (argument 0) must be a string, got object (Point)');
    expect(refusal([() => undefined])).toBe('The command name (argument 0) must be a string, got function');
  });
});

describe('the 512 MiB limit of an argument, on both sides', () => {
  const tooLarge = (index: number, bytes: number, name = 'SET') => `Argument ${index} of ${name} is ${bytes} bytes, over the ${MAX_ARGUMENT_BYTES}-byte (512 MiB) limit of a server's argument`;

  it('is 512 MiB', () => {
    expect(MAX_ARGUMENT_BYTES).toBe(536_870_912);
  });

  it('a string of more UTF-8 bytes than the limit is refused; one of exactly the limit is not', () => {
    // Buffer.byteLength claims the size: no 512 MiB string is built.
    const real = Buffer.byteLength.bind(Buffer);
    let claimed = 0;
    const byteLength = vi.spyOn(Buffer, 'byteLength').mockImplementation(((text: string, encoding?: BufferEncoding) => (text === 'big' ? claimed : real(text, encoding))) as typeof Buffer.byteLength);
    claimed = MAX_ARGUMENT_BYTES + 1;
    expect(refusal(['SET', 'k', 'big'])).toBe(tooLarge(2, MAX_ARGUMENT_BYTES + 1));
    claimed = MAX_ARGUMENT_BYTES;
    expect(encodeCommand(['SET', 'k', 'big'])).toBe(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${MAX_ARGUMENT_BYTES}\r\nbig\r\n`);
    expect(byteLength).toHaveBeenCalledWith('big', 'utf8');
  });

  it('bytes longer than the limit are refused; exactly the limit is not', () => {
    const claiming = (length: number): Buffer => {
      const bytes = Buffer.from('v');
      Object.defineProperty(bytes, 'length', { value: length });
      return bytes;
    };
    expect(refusal(['SET', 'k', claiming(MAX_ARGUMENT_BYTES + 1)])).toBe(tooLarge(2, MAX_ARGUMENT_BYTES + 1));
    // Buffer.concat stands in for the final join: nothing of that size is allocated.
    const joined = Buffer.from('joined');
    const concat = vi.spyOn(Buffer, 'concat').mockReturnValue(joined);
    const big = claiming(MAX_ARGUMENT_BYTES);
    expect(encodeCommand(['SET', 'k', big])).toBe(joined);
    expect(concat).toHaveBeenCalledTimes(1);
    const [pieces] = concat.mock.calls[0]! as [Buffer[]];
    expect(pieces).toHaveLength(3);
    expect(pieces[0]!.toString('latin1')).toBe(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${MAX_ARGUMENT_BYTES}\r\n`);
    expect(pieces[1]).toBe(big);
    expect(pieces[2]!.toString('latin1')).toBe('\r\n');
  });
});

describe('text around bytes is UTF-8', () => {
  it('strings before and after a binary argument keep their UTF-8 bytes', () => {
    const encoded = encodeCommand(['SET', 'clé', Buffer.from([0xff]), 'é']) as Buffer;
    expect(encoded.equals(Buffer.concat([Buffer.from('*4\r\n$3\r\nSET\r\n$4\r\nclé\r\n$1\r\n', 'utf8'), Buffer.from([0xff]), Buffer.from('\r\n$2\r\né\r\n', 'utf8')]))).toBe(true);
  });
});
