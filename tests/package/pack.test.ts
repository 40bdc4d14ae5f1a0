/**
 * `npm pack` yields an installable package: compiled ESM plus .d.ts, an exports map, no runtime
 * dependencies. Installed into a scratch project, it type-checks a consumer and talks to redis-server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

describe('npm pack', () => {
  let scratch: string;
  let tarball: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'gocache-pack-'));
    run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(scratch, 'build')], root);
    // Pack from a copy of the package metadata pointing at the scratch build, so the repo's dist/ is untouched.
    const stage = join(scratch, 'stage');
    run('mkdir', ['-p', stage], scratch);
    run('cp', ['-r', join(scratch, 'build'), join(stage, 'dist')], scratch);
    run('cp', [join(root, 'package.json'), join(root, 'README.md'), stage], scratch);
    tarball = join(stage, run('npm', ['pack', '--ignore-scripts', '--silent'], stage).trim().split('\n').pop()!);
  }, 120_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has no runtime dependencies and an exports map with types', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.exports['.']).toEqual({ types: './dist/src/index.d.ts', import: './dist/src/index.js' });
    const files = run('tar', ['-tzf', tarball], scratch).split('\n');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/index.d.ts');
    expect(files).toContain('package/dist/generated/methods.js');
    expect(files.some((f) => f.includes('/tests/') || f.includes('/codegen/') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
  });

  it('installs, type-checks a consumer, and runs against redis-server', () => {
    const app = join(scratch, 'app');
    run('mkdir', ['-p', app], scratch);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], app);
    // A Node library's types use Node's (Buffer): consumers have @types/node, as with ioredis.
    run('mkdir', ['-p', join(app, 'node_modules/@types')], app);
    run('ln', ['-s', join(root, 'node_modules/@types/node'), join(app, 'node_modules/@types/node')], app);
    const consumer = `
      import { GoCacheClient, GoCacheConnectionError, type SetOptions } from 'gocache';
      const options: SetOptions = { ex: 60 };
      await using cache = await GoCacheClient.connect({ host: '${inject('redisHost')}', port: ${inject('redisPort')}, server: 'redis' });
      const ok: 'OK' | null = await cache.set('pack:k', 'v', { ex: 60 });
      const either: string | null = await cache.set('pack:k', 'v', options);
      const value: string | null = await cache.get('pack:k');
      console.log(JSON.stringify([ok, either, value, await cache.del('pack:k'), GoCacheConnectionError.name]));
    `;
    writeFileSync(join(app, 'main.ts'), consumer);
    // The same program as plain JavaScript, closing explicitly (Node 20 cannot parse `await using`).
    const javascript = consumer.replace(', type SetOptions', '').replace(': SetOptions', '').replace(": 'OK' | null", '').replaceAll(': string | null', '').replace('await using', 'const');
    writeFileSync(join(app, 'main.mjs'), `${javascript}\nawait cache.close();\n`);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], skipLibCheck: false } }),
    );
    run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app);
    const output = execFileSync('node', ['main.mjs'], { cwd: app, encoding: 'utf8', timeout: 20_000 }).trim();
    expect(JSON.parse(output)).toEqual(['OK', 'OK', 'v', 1, 'GoCacheConnectionError']);
  });
});
