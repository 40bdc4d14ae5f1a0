/**
 * Runs the compiler (ts-morph's, with the repo's tsconfig.json) over every tests/types/*.typecheck.ts:
 * each compiles with no error, and fails on exactly its `@ts-expect-error` lines once the directives
 * are removed, so no directive passes by accident (for another reason on another line). `make
 * typecheck` also runs the project's own tsc over the same files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTypeChecker, root, type TypeChecker } from './compiler.js';

const files = readdirSync(join(root, 'tests/types'))
  .filter((name) => name.endsWith('.typecheck.ts'))
  .sort();

let compiler: TypeChecker;
beforeAll(() => {
  compiler = createTypeChecker(files.map((name) => `tests/types/${name}`), '__stripped_');
}, 120_000);

it('finds the typecheck files', () => {
  expect(files).toEqual(['api.typecheck.ts', 'chain.typecheck.ts', 'gocache.typecheck.ts', 'reply-variants.typecheck.ts']);
});

describe.each(files)('tests/types/%s', { timeout: 60_000 }, (name) => {
  const path = join(root, 'tests/types', name);

  it('compiles with no error (every @ts-expect-error is used) and exercises the package entry', () => {
    const file = compiler.project.getSourceFileOrThrow(path);
    expect(compiler.problems(file)).toEqual([]);
    expect(file.getImportDeclarations().map((d) => d.getModuleSpecifierValue())).toContain('../../src/index.js');
    expect(file.getFullText().match(/\/\/ @ts-expect-error/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('fails on exactly the @ts-expect-error lines once the directives are removed', () => {
    const lines = readFileSync(path, 'utf8').split('\n');
    const expected: number[] = [];
    // Keep line numbers: the directive becomes a plain comment.
    const stripped = lines.map((line, i) => {
      if (!/^\s*\/\/ @ts-expect-error/.test(line)) return line;
      expected.push(i + 2);
      return line.replace('@ts-expect-error', 'was-expect-error');
    });
    const found = compiler.check(stripped.join('\n'));
    const failing = [...new Set(found.map((p) => p.line))].sort((a, b) => a - b);
    expect(failing, found.map((p) => `${p.line}: ${p.message.split('\n')[0]}`).join('\n')).toEqual(expected);
  });
});
