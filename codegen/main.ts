/**
 * `make generate`: write generated/ from spec/.  `make check-generated`: fail, with a diff, when
 * generated/ is not exactly what the generator makes (a stale, hand-edited, missing or extra file).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.js';
import { SpecError } from './load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      statSync(path).isDirectory() ? walk(path) : out.push(path);
    }
  };
  walk(dir);
  return out;
}

function writeTree(base: string, files: Map<string, string>): void {
  for (const [path, text] of files) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), text);
  }
}

function main(): number {
  let output;
  try {
    output = generate(root);
  } catch (error) {
    if (error instanceof SpecError) {
      console.error(`spec error: ${error.message}`);
      return 1;
    }
    throw error;
  }

  if (process.argv.includes('--check')) {
    const scratch = mkdtempSync(join(tmpdir(), 'gocache-generated-'));
    try {
      writeTree(scratch, output.files);
      const result = spawnSync('diff', ['-ruN', 'generated', join(scratch, 'generated')], { cwd: root, encoding: 'utf8' });
      if (result.status === 0) {
        console.log(`generated/ is current (${output.files.size} files from ${output.models.length} specs).`);
        return 0;
      }
      console.error(result.stdout || result.stderr);
      console.error('generated/ is not what the generator makes from spec/: run `make generate` and commit the result.');
      return 1;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  const generatedDir = join(root, 'generated');
  for (const path of listFiles(generatedDir)) {
    if (!output.files.has(relative(root, path).split('\\').join('/'))) rmSync(path);
  }
  writeTree(root, output.files);
  console.log(`generated ${output.files.size} files from ${output.models.length} specs.`);
  return 0;
}

process.exitCode = main();
