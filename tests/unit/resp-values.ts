// Comparing and printing parsed RESP values, for the parser's tests (parser, parser-limits, parser-fuzz).
import { expect } from 'vitest';
import type { RespValue } from '../../src/runtime/resp/parser.js';
import { GoCacheCommandError } from '../../src/runtime/errors.js';

/** Deep equality that tells strings from Buffers, compares Buffers by bytes, errors by message, NaN as NaN, maps in order. */
export function same(a: RespValue, b: RespValue): boolean {
  if (typeof a === 'number') return typeof b === 'number' && Object.is(a, b);
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  if (a instanceof GoCacheCommandError) return b instanceof GoCacheCommandError && a.message === b.message;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]!));
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    const right = [...b];
    return [...a].every(([k, v], i) => same(k, right[i]![0]) && same(v, right[i]![1]));
  }
  return a === b;
}

/** JSON for a failure message: bigints, non-finite numbers, errors, maps and Buffers shown as such; long strings cut. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (v instanceof GoCacheCommandError) return { error: v.message };
    if (v instanceof Map) return { map: [...v] };
    if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
      return { buffer: Buffer.from((v as { data: number[] }).data).toString('hex') };
    }
    if (typeof v === 'string' && v.length > 60) return `${v.slice(0, 60)}... (${v.length} chars)`;
    return v;
  });
}

export function expectSame(actual: RespValue, expected: RespValue): void {
  expect(same(actual, expected), `got ${show(actual)}, want ${show(expected)}`).toBe(true);
}
