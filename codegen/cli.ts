/**
 * The generator's command line, as a function: `make generate` writes generated/ from spec/;
 * `make check-generated` fails, naming each file and its first differing line, when generated/ is
 * not exactly what the generator makes (stale, hand-edited, missing or extra). Tests call it in
 * process on a copy of the project.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { generate } from './generate.js';
import { SpecError } from './load.js';

export interface CliResult {
  code: number;
  /** What the CLI prints: one line when all is well. */
  output: string;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  walk(dir);
  return out;
}

/** Where two texts first differ, as `line N` and both lines. */
function firstDifference(want: string, have: string): string {
  const a = want.split('\n');
  const b = have.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}\n    generated: ${JSON.stringify(a[i] ?? '(end of file)')}\n    on disk:   ${JSON.stringify(b[i] ?? '(end of file)')}`;
  }
  return 'the same text';
}

export function runGenerator(root: string, options: { check: boolean }): CliResult {
  let output;
  try {
    output = generate(root);
  } catch (error) {
    if (error instanceof SpecError) return { code: 1, output: `spec error: ${error.message}` };
    throw error;
  }
  const onDisk = new Set(listFiles(join(root, 'generated')).map((path) => relative(root, path).split('\\').join('/')));

  if (options.check) {
    const problems: string[] = [];
    for (const [path, text] of output.files) {
      if (!onDisk.has(path)) problems.push(`${path}: missing`);
      else {
        const have = readFileSync(join(root, path), 'utf8');
        if (have !== text) problems.push(`${path}: differs at ${firstDifference(text, have)}`);
      }
    }
    for (const path of onDisk) if (!output.files.has(path)) problems.push(`${path}: not generated from any spec (extra file)`);
    if (problems.length === 0) return { code: 0, output: `generated/ is current (${output.files.size} files from ${output.models.length} specs).` };
    return { code: 1, output: [...problems, 'generated/ is not what the generator makes from spec/: run `make generate` and commit the result.'].join('\n') };
  }

  for (const path of onDisk) if (!output.files.has(path)) rmSync(join(root, path));
  let written = 0;
  for (const [path, text] of output.files) {
    const target = join(root, path);
    if (existsSync(target) && readFileSync(target, 'utf8') === text) continue;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    written++;
  }
  return { code: 0, output: `generated ${output.files.size} files from ${output.models.length} specs (${written} changed).` };
}
