/**
 * The README as a user meets it, on npm or in the tarball: every relative link points at a file the
 * package ships, and every TypeScript block compiles against the SDK (the project's own compiler,
 * `import ... from 'gocache'` mapped to src/index.ts), so the documentation cannot drift from the API.
 * Names a block uses without declaring (`cache`, `redis`, `log`, `handle`, `library`) are declared for
 * it, as the README's earlier blocks introduce them or as placeholders for the reader's own code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../types/compiler.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };

describe('README.md', () => {
  it('links only to what the package ships, or to absolute URLs', () => {
    const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(2);
    const shipped = ['README.md', 'LICENSE', 'package.json', ...pkg.files];
    for (const link of links) {
      if (/^https:\/\//.test(link) || link.startsWith('#')) continue;
      const path = link.split('#')[0]!;
      expect(existsSync(join(root, path)), `${link} exists`).toBe(true);
      expect(
        shipped.some((entry) => path === entry || path.startsWith(`${entry}/`)),
        `${link} is in the package (files: ${shipped.join(', ')})`,
      ).toBe(true);
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'gocache-readme-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has TypeScript blocks that all compile against the SDK', () => {
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const declared = (block: string, name: string) => new RegExp(`\\b(const|let|using|function)\\s+${name}\\b`).test(block);
    const files = blocks.map((block, i) => {
      // What a block uses from the SDK without importing it (an earlier block did).
      const values = ['GoCacheClient', 'GoCacheCluster'].filter((name) => new RegExp(`\\b${name}\\b`).test(block) && !new RegExp(`import \\{[^}]*\\b${name}\\b`).test(block));
      const prelude = [
        values.length > 0 ? `import { ${values.join(', ')} } from 'gocache';` : '',
        "import type { GoCacheClient as __Client, RedisClient as __Redis } from 'gocache';",
        declared(block, 'cache') ? '' : 'declare const cache: __Client;',
        declared(block, 'redis') ? '' : 'declare const redis: __Redis;',
        declared(block, 'log') ? '' : 'declare function log(line: string): void;',
        declared(block, 'handle') ? '' : 'declare function handle(fields: Array<[string, string]>): Promise<void>;',
        declared(block, 'library') ? '' : 'declare const library: string;',
      ].join('\n');
      const name = `block-${String(i + 1).padStart(2, '0')}.ts`;
      writeFileSync(join(dir, name), `${prelude}\n${block}\nexport {};\n`);
      return name;
    });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'ESNext.Disposable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          // The blocks show calls whose results a reader would use.
          noUnusedLocals: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
          paths: { gocache: [join(root, 'src/index.ts')] },
        },
        files,
      }),
    );
    let output = '';
    try {
      execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      output = `${failure.stdout ?? ''}${failure.stderr ?? ''}`;
    }
    // The failing lines, with the block they are in, so a broken snippet is easy to find.
    const report = output.replace(/[^\s]*block-(\d+)\.ts\((\d+),/g, (_, n: string, line: string) => `README block ${Number(n)}, its line ${Number(line) - 5} (`);
    expect(report).toBe('');
  });
});
