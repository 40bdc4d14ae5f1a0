/**
 * One-time migration of spec/ to the regular format, by lines so that formatting and comments stay
 * as written (`npx tsx tools/migrate-spec-format.ts`):
 * - `gocache: true | false | {...}` becomes always an object with `supported`;
 * - every example is `{ server?, calls: [...] }`;
 * - `reply` is always an object: `{ type }`; a flag-dependent reply `{ when, then, else }` becomes
 *   `{ type: <else>, cases: [{ when: [<flag>], type: <then> }] }`; a parsed reply `{ parse, type }`
 *   becomes `{ type: string, parse, as: <TypeScript type> }`;
 * - the unused `no-multi` flag goes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listSpecFiles } from '../codegen/load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A top-level key's block: its first line and the lines indented under it. */
function blocks(lines: string[]): Array<{ key: string; lines: string[] }> {
  const out: Array<{ key: string; lines: string[] }> = [];
  for (const line of lines) {
    const top = /^([a-z]+):/.exec(line);
    if (top) out.push({ key: top[1]!, lines: [line] });
    else out.at(-1)!.lines.push(line);
  }
  return out;
}

/** `key: value` entries of an indented block (continuation lines kept with their entry). */
function entries(lines: string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    const entry = /^ {2}([a-z]+):(.*)$/.exec(line);
    if (entry) {
      current = [entry[2]!.trimStart()];
      map.set(entry[1]!, current);
    } else current!.push(line);
  }
  return map;
}

const flowSafe = (value: string) => (/^["']/.test(value) || !/[,{}[\]#]/.test(value) ? value : JSON.stringify(value));

function migrateReply(block: string[]): string[] {
  const first = /^reply:\s*(.*)$/.exec(block[0]!)![1]!;
  if (first !== '') return [`reply: { type: ${flowSafe(first)} }`, ...block.slice(1)];
  const e = entries(block.slice(1));
  const rest = (key: string) => (e.has(key) ? [`  ${key}: ${e.get(key)![0]}`, ...e.get(key)!.slice(1)] : []);
  if (e.has('when')) {
    return ['reply:', `  type: ${e.get('else')![0]}`, '  cases:', `    - { when: [${e.get('when')![0]}], type: ${flowSafe(e.get('then')![0]!)} }`, ...rest('doc')];
  }
  if (e.has('parse')) {
    return ['reply:', `  type: ${e.get('from')?.[0] ?? 'string'}`, `  parse: ${e.get('parse')![0]}`, `  as: ${e.get('type')![0]}`, ...rest('doc')];
  }
  return block;
}

function migrateExamples(block: string[]): string[] {
  const out = [block[0]!];
  let shifting = false;
  for (const line of block.slice(1)) {
    if (line.startsWith('  - - ')) {
      out.push('  - calls:', `      - ${line.slice(6)}`);
      shifting = true;
    } else if (line.startsWith('  - ')) {
      out.push(line);
      shifting = false;
    } else out.push(shifting && line.trim() !== '' ? `  ${line}` : line);
  }
  return out;
}

function migrateGocache(block: string[]): string[] {
  const inline = /^gocache:\s*(true|false)\s*$/.exec(block[0]!);
  if (inline) return [`gocache: { supported: ${inline[1]} }`, ...block.slice(1)];
  if (block[0] === 'gocache:' && !block.some((l) => l.startsWith('  supported:'))) return ['gocache:', '  supported: true', ...block.slice(1)];
  return block;
}

function migrate(path: string): boolean {
  const text = readFileSync(path, 'utf8');
  const out: string[] = [];
  for (const block of blocks(text.replace(/\n$/, '').split('\n'))) {
    if (block.key === 'reply') out.push(...migrateReply(block.lines));
    else if (block.key === 'examples') out.push(...migrateExamples(block.lines));
    else if (block.key === 'gocache') out.push(...migrateGocache(block.lines));
    else if (block.key === 'flags') out.push(...block.lines.map((l) => l.replace(/, no-multi\b|\bno-multi, |\bno-multi\b/, '')));
    else out.push(...block.lines);
  }
  const after = `${out.join('\n')}\n`;
  if (after === text) return false;
  writeFileSync(path, after);
  return true;
}

let changed = 0;
for (const file of listSpecFiles(join(root, 'spec'))) if (migrate(file)) changed++;
console.log(`migrated ${changed} spec files`);
