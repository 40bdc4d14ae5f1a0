/**
 * How the demo prints: each call on the left, its result on the right, under short headings.
 * Results read like the TypeScript values they are (`'Eric'`, `null`, `['OK', 2]`, `<Buffer 45 72>`).
 */
import { inspect } from 'node:util';
import { Subscription } from '../src/index.js';

/** The error a call rejects with; throws when it resolves, so an expected refusal cannot pass unnoticed. */
export { rejection } from '../testkit/promises.js';

/** Calls are padded to this width; a longer call puts its result on the next line, still aligned. */
export const CALL_WIDTH = 64;

export function heading(title: string): void {
  console.log(`\n${title}`);
}

export function show(call: string, result: unknown): void {
  const left = `  ${call}`;
  const right = describe(result);
  if (left.length < CALL_WIDTH) console.log(`${left.padEnd(CALL_WIDTH)}${right}`);
  else console.log(`${left}\n${' '.repeat(CALL_WIDTH)}${right}`);
}

function describe(value: unknown): string {
  if (value instanceof Error) {
    const code = 'code' in value && typeof value.code === 'string' ? ` (code '${value.code}')` : '';
    return `rejects ${value.name}${code}: ${value.message}`;
  }
  if (value instanceof Subscription) return `Subscription to ${describe(value.channels)}`;
  if (Buffer.isBuffer(value) || typeof value !== 'object' || value === null) return inspect(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  // Hash replies are objects without a prototype: print them as plain object literals.
  const fields = Object.entries(value).map(([key, field]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : inspect(key)}: ${describe(field)}`);
  return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`;
}
