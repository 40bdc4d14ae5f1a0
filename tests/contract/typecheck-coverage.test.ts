/**
 * The type tests (tests/types/*.typecheck.ts) run with the project's own compiler too, not only with
 * ts-morph's bundled one (tests/types/typecheck-files.test.ts): `make typecheck` is
 * `tsc -p tsconfig.json --noEmit` with the project's TypeScript 7, and it fails on an
 * `@ts-expect-error` that expects nothing (TS2578 "Unused '@ts-expect-error' directive"; checked by
 * planting one). What could silently stop that is the file list: this test asks that compiler, with
 * that configuration, which files it checks.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');

it('make typecheck runs the project\'s TypeScript 7 over tsconfig.json', () => {
  expect(readFileSync(join(root, 'Makefile'), 'utf8')).toMatch(/^typecheck:.*\n\tnpx tsc -p tsconfig\.json --noEmit$/m);
  expect(execFileSync(tsc, ['--version'], { encoding: 'utf8' })).toMatch(/^Version 7\./);
});

it('tsconfig.json puts every tests/types/*.typecheck.ts under that compiler', () => {
  const typeTests = readdirSync(join(root, 'tests/types'))
    .filter((name) => name.endsWith('.typecheck.ts'))
    .map((name) => join(root, 'tests/types', name));
  expect(typeTests.length).toBeGreaterThanOrEqual(4);
  const checked = new Set(execFileSync(tsc, ['-p', 'tsconfig.json', '--listFilesOnly'], { cwd: root, encoding: 'utf8' }).split('\n'));
  expect(typeTests.filter((file) => !checked.has(file))).toEqual([]);
});
