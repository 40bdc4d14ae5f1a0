/**
 * src/runtime/decoders.ts: what `make mutate` showed the decoder tables (tests/unit/decoders.test.ts)
 * did not pin down: where a quoted text is cut, the sign of a zero count, pairs decoded as named
 * objects, numeric map keys, the message naming a record's fields, and an error that is not a
 * protocol error going through oneOf untouched.
 */
import { describe, expect, it } from 'vitest';
import { anyReply, bulkString, integer, integerString, mapOf, oneOf, pairsOf, recordOf } from '../../src/runtime/decoders.js';
import { GoCacheProtocolError } from '../../src/runtime/errors.js';
import type { Decoder, RespValue } from '../../src/runtime/types.js';

function protocolError(decode: Decoder, reply: RespValue): string {
  try {
    decode(reply);
  } catch (error) {
    expect(error).toBeInstanceOf(GoCacheProtocolError);
    return (error as Error).message;
  }
  throw new Error('the decoder accepted the reply');
}

describe('quoting a string in a message', () => {
  it('keeps a text of 40 characters whole and cuts a longer one after 40', () => {
    const forty = 'x'.repeat(40);
    expect(protocolError(integer, forty)).toBe(`Expected an integer in the reply, got the string "${forty}"`);
    expect(protocolError(integer, `${forty}y`)).toBe(`Expected an integer in the reply, got the string "${forty}…"`);
  });
});

describe('integerString', () => {
  it('reads "-0" as 0, not -0 (a count has no sign of zero)', () => {
    expect(Object.is(integerString('-0'), 0)).toBe(true);
    expect(Object.is(integerString(Buffer.from('-0')), 0)).toBe(true);
    expect(integerString('-7')).toBe(-7);
  });
});

describe('pairsOf with names', () => {
  const decode = pairsOf(bulkString, integer, ['name', 'count']);

  it('gives one object per pair, from a flat array, nested pairs or a map', () => {
    const want = [
      { name: 'a', count: 1 },
      { name: 'b', count: 2 },
    ];
    expect(decode(['a', 1, 'b', 2])).toEqual(want);
    expect(decode([['a', 1], ['b', 2]])).toEqual(want);
    expect(
      decode(
        new Map<RespValue, RespValue>([
          ['a', 1],
          ['b', 2],
        ]),
      ),
    ).toEqual(want);
    expect(pairsOf(bulkString, integer)(['a', 1])).toEqual([['a', 1]]);
  });
});

describe('map keys', () => {
  it('a number or a big number as a map key is its decimal text', () => {
    const reply = new Map<RespValue, RespValue>([
      [10n, 'big'],
      [7, 'small'],
    ]);
    expect({ ...(mapOf(bulkString)(reply) as object) }).toEqual({ '10': 'big', '7': 'small' });
    expect(protocolError(mapOf(bulkString), new Map<RespValue, RespValue>([[null, 'v']]))).toBe('Expected a string key in the reply, got null');
  });
});

describe('recordOf', () => {
  it('names every field it expected, by the server\'s names, when the reply is no map at all', () => {
    const decode = recordOf({ length: integer, radixTreeKeys: integer }, [], { radixTreeKeys: 'radix-tree-keys' });
    expect(protocolError(decode, 5)).toBe('Expected a map with length, radix-tree-keys in the reply, got number 5');
    expect(protocolError(decode, ['length', 1, 'x'])).toBe('Expected a map with length, radix-tree-keys in the reply, got an array of 3');
    expect(decode(['length', 1, 'radix-tree-keys', 2])).toEqual({ length: 1, radixTreeKeys: 2 });
  });
});

describe('oneOf', () => {
  it('tries the next alternative only after a protocol error; any other error goes through', () => {
    const bug = new TypeError('a bug, not a reply of another shape');
    const throwing: Decoder = () => {
      throw bug;
    };
    expect(() => oneOf(throwing, anyReply)(1)).toThrow(bug);
    expect(oneOf(integer, anyReply)('text')).toBe('text');
    expect(protocolError(oneOf(integer, bulkString), null)).toBe('Expected one of the declared reply types in the reply, got null');
  });
});
