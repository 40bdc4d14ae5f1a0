/**
 * The tarball `npm pack` makes is what users install: an ESM build, a CommonJS build, .d.ts for each,
 * and no runtime dependency. The package is built with package.json's own build script (what
 * `make build` runs) from a copy of src/ and generated/, packed, then installed offline into four
 * fresh consumer projects (ESM and CommonJS, JavaScript and TypeScript) that type-check with the
 * repo's tsc and run against the harness's redis-server.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { assertLoopbackTarget } from '../../testkit/loopback-guard.js';
import { consumers } from './consumers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules/.bin/tsc');
const BUILDS = ['dist/esm', 'dist/cjs'] as const;
/** A guard against a hang only: builds and installs take what the machine's load makes them take. */
const HANG = 300_000;

const execFileAsync = promisify(execFile);
async function run(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** npm without the network: a command run here neither fetches nor asks the registry for a newer npm. */
const npm = (args: string[], cwd: string) => run('npm', ['--offline', '--no-update-notifier', ...args], cwd);

/** Paths of the TypeScript sources (not declarations) under `dir`, relative to `base`. */
function sources(base: string, dir: string): string[] {
  return readdirSync(join(base, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(dir, file));
}

const host = inject('redisHost');
assertLoopbackTarget(host, false); // the consumers are child processes, outside the worker's guard

describe('npm pack', () => {
  let scratch: string;
  let stage: string;
  let tarball: string;
  let dryRun: { stdout: string; stderr: string };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gocache-pack-'));
    // A copy of what the build reads, so the repo's dist/ is untouched and others' edits mid-run do not race it.
    stage = join(scratch, 'stage');
    mkdirSync(stage);
    const configs = readdirSync(root).filter((file) => /^tsconfig(\.build(\.[\w-]+)?)?\.json$/.test(file));
    for (const file of ['package.json', 'README.md', 'LICENSE', ...configs]) cpSync(join(root, file), join(stage, file));
    for (const dir of ['src', 'generated']) cpSync(join(root, dir), join(stage, dir), { recursive: true });
    // Only what the build uses, linked one by one: an npm command that prunes node_modules here cannot reach the repo's.
    mkdirSync(join(stage, 'node_modules/.bin'), { recursive: true });
    mkdirSync(join(stage, 'node_modules/@types'));
    symlinkSync(join(root, 'node_modules/typescript'), join(stage, 'node_modules/typescript'));
    symlinkSync('../typescript/bin/tsc', join(stage, 'node_modules/.bin/tsc'));
    symlinkSync(join(root, 'node_modules/@types/node'), join(stage, 'node_modules/@types/node'));
    await npm(['run', '--silent', 'build'], stage);
    let packed: { stdout: string };
    [dryRun, packed] = await Promise.all([
      npm(['pack', '--dry-run', '--json', '--ignore-scripts'], stage),
      npm(['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], stage),
    ]);
    tarball = join(scratch, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  }, HANG);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('packs exactly both builds, the reference, README, LICENSE and package.json, without warnings', () => {
    const [pack] = JSON.parse(dryRun.stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = pack!.files.map((file) => file.path).sort();
    const built = [...sources(stage, 'src'), ...sources(stage, 'generated')].flatMap((source) =>
      BUILDS.flatMap((build) => [`${build}/${source.replace(/\.ts$/, '.js')}`, `${build}/${source.replace(/\.ts$/, '.d.ts')}`]),
    );
    const expected = ['package.json', 'README.md', 'LICENSE', 'generated/REFERENCE.md', 'dist/cjs/package.json', ...built].sort();
    expect(files).toEqual(expected);
    // Said again for a clear failure: no tests, no TypeScript sources, no tools, no source maps.
    expect(files.filter((file) => /(^|\/)(tests?|testkit|codegen|tools|spec|bench|examples)\/|(?<!\.d)\.ts$|\.map$|\.tsbuildinfo$/.test(file))).toEqual([]);
    expect(dryRun.stderr).not.toMatch(/warn/i);
    expect(JSON.parse(readFileSync(join(stage, 'dist/cjs/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('has no runtime dependency, an exports map per module format, and its metadata', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
    const esm = { types: './dist/esm/src/index.d.ts', default: './dist/esm/src/index.js' };
    const cjs = { types: './dist/cjs/src/index.d.ts', default: './dist/cjs/src/index.js' };
    expect(pkg.exports).toEqual({ '.': { 'module-sync': esm, import: esm, require: cjs }, './package.json': './package.json' });
    expect([pkg.main, pkg.types]).toEqual([cjs.default, cjs.types]);
    expect(pkg).toMatchObject({ license: 'MIT', engines: { node: '>=20' }, sideEffects: false });
    expect(pkg.keywords).toEqual(expect.arrayContaining(['redis', 'gocache', 'cache', 'client', 'resp', 'typescript', 'cluster']));
    expect(pkg.files).toContain('generated/REFERENCE.md');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 The gocache authors\n/);
  });

  it.concurrent.for(consumers({ host, port: inject('redisPort') }))(
    '$name: installs the tarball offline into a fresh project, type-checks (TypeScript), runs against redis-server',
    { timeout: HANG },
    async (consumer, { expect }) => {
      const app = join(scratch, consumer.name.replace(/\W+/g, '-'));
      for (const [path, text] of Object.entries(consumer.files)) {
        mkdirSync(dirname(join(app, path)), { recursive: true });
        writeFileSync(join(app, path), text);
      }
      await npm(['install', '--no-audit', '--no-fund', '--cache', join(scratch, 'npm-cache'), tarball], app);
      const installed = join(app, 'node_modules/gocache');
      if (consumer.typescript) {
        // A Node library's types use Node's (Buffer): its users have @types/node, as ioredis's do.
        mkdirSync(join(app, 'node_modules/@types'));
        symlinkSync(join(root, 'node_modules/@types/node'), join(app, 'node_modules/@types/node'));
        const { stdout } = await run(tsc, ['-p', '.', '--listFiles'], app);
        const declarations = stdout.split('\n').filter((file) => file.startsWith(`${installed}/`));
        expect(declarations).toContain(join(installed, consumer.types!, 'src/index.d.ts'));
        expect(declarations.filter((file) => !file.startsWith(join(installed, consumer.types!, '/')))).toEqual([]);
      }
      if (consumer.emitted !== undefined) expect(readFileSync(join(app, consumer.main), 'utf8')).toContain(consumer.emitted);
      await Promise.all(
        consumer.runs.map(async ({ flags, entry }) => {
          const { stdout } = await run(process.execPath, [...flags, consumer.main], app);
          const printed = JSON.parse(stdout.trim()) as { entry: string };
          expect({ ...printed, entry: relative(installed, printed.entry) }, `node ${flags.join(' ')}`).toEqual({
            entry,
            set: 'OK',
            get: 'v',
            del: 1,
            commandError: true,
            ...consumer.prints,
          });
        }),
      );
    },
  );
});
