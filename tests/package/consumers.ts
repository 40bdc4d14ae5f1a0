/**
 * The four programs a user of the published package writes: ESM and CommonJS, JavaScript and
 * TypeScript. Each connects to the test's redis-server, runs SET (value 'v'), GET and DEL and one
 * command the server refuses, and prints one JSON line: which file of the package Node loaded, and
 * the replies.
 */

/** The redis-server the consumers connect to. Each uses a key of its own (its pid), so they can run at once. */
export interface Target {
  host: string;
  port: number;
}

export interface Consumer {
  /** The test's name for it. */
  name: string;
  /** Files of the consumer project, by path relative to its folder. */
  files: Record<string, string>;
  /** Type-checked and compiled with the repo's tsc before running (TypeScript consumers). */
  typescript: boolean;
  /** What `node` runs, relative to the project. */
  main: string;
  /** The declaration folder tsc must take the package's types from. */
  types?: 'dist/esm' | 'dist/cjs';
  /** Text the compiled program must contain: proof of the module format tsc emitted. */
  emitted?: string;
  /** What each way of running it loads: node's flags, and the package file it must resolve to. */
  runs: Array<{ flags: string[]; entry: string }>;
  /** What it prints besides the common fields. */
  prints?: Record<string, unknown>;
}

const ESM_ENTRY = 'dist/esm/src/index.js';
const CJS_ENTRY = 'dist/cjs/src/index.js';
/**
 * `require` on Node >= 20.19 takes the "module-sync" condition (the ESM build: one copy of the
 * classes per process); where require(esm) is off, as on Node 20.0 to 20.18, the "require" one.
 */
const REQUIRE_RUNS = [
  { flags: [], entry: ESM_ENTRY },
  { flags: ['--no-experimental-require-module'], entry: CJS_ENTRY },
];

const tsconfig = (module: 'NodeNext' | 'CommonJS') =>
  JSON.stringify({
    compilerOptions: {
      module,
      target: 'ES2022',
      lib: ['ES2022', 'ESNext.Disposable'],
      types: ['node'],
      strict: true,
      skipLibCheck: false,
      outDir: 'out',
    },
    include: ['main.ts'],
  });

/** A line tsc must reject: proves the package's types are loaded, not `any`. */
const TYPE_ERROR = `
function typesAreChecked(cache: GoCacheClient): void {
  // @ts-expect-error: ex is a number of seconds
  void cache.set('k', 'v', { ex: '60' });
}
void typesAreChecked;`;

export function consumers({ host, port }: Target): Consumer[] {
  const connect = `GoCacheClient.connect({ host: ${JSON.stringify(host)}, port: ${port}, server: 'redis' })`;
  return [
    {
      name: 'ESM JavaScript (import)',
      typescript: false,
      main: 'main.js',
      runs: [{ flags: [], entry: ESM_ENTRY }],
      prints: { oneCopy: true },
      files: {
        'package.json': JSON.stringify({ name: 'esm-js', private: true, type: 'module' }),
        'main.js': `
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { GoCacheClient, GoCacheCommandError } from 'gocache';

const key = \`pack:esm-js:\${process.pid}\`;
const cache = await ${connect};
try {
  const set = await cache.set(key, 'v', { ex: 60 });
  const get = await cache.get(key);
  const del = await cache.del(key);
  const refused = await cache.sendCommand(['NO-SUCH-COMMAND']).catch((error) => error);
  // A require() of the package in the same process must yield the same classes, not a second copy.
  const required = createRequire(import.meta.url)('gocache');
  console.log(JSON.stringify({
    entry: fileURLToPath(import.meta.resolve('gocache')),
    set, get, del,
    commandError: refused instanceof GoCacheCommandError,
    oneCopy: required.GoCacheClient === GoCacheClient && required.GoCacheCommandError === GoCacheCommandError,
  }));
} finally {
  await cache.close();
}
`,
      },
    },
    {
      name: 'CommonJS JavaScript (require)',
      typescript: false,
      main: 'main.js',
      runs: REQUIRE_RUNS,
      files: {
        'package.json': JSON.stringify({ name: 'cjs-js', private: true }),
        'main.js': `
const { GoCacheClient, GoCacheCommandError } = require('gocache');

async function main() {
  const key = \`pack:cjs-js:\${process.pid}\`;
  const cache = await ${connect};
  try {
    const set = await cache.set(key, 'v', { ex: 60 });
    const get = await cache.get(key);
    const del = await cache.del(key);
    const refused = await cache.sendCommand(['NO-SUCH-COMMAND']).catch((error) => error);
    console.log(JSON.stringify({ entry: require.resolve('gocache'), set, get, del, commandError: refused instanceof GoCacheCommandError }));
  } finally {
    await cache.close();
  }
}
main().catch((error) => { console.error(error); process.exitCode = 1; });
`,
      },
    },
    {
      name: 'TypeScript, module nodenext (ESM)',
      typescript: true,
      types: 'dist/esm',
      main: 'out/main.js',
      runs: [{ flags: [], entry: ESM_ENTRY }],
      files: {
        'package.json': JSON.stringify({ name: 'ts-esm', private: true, type: 'module' }),
        'tsconfig.json': tsconfig('NodeNext'),
        'main.ts': `
import { fileURLToPath } from 'node:url';
import { GoCacheClient, GoCacheCommandError, type SetOptions } from 'gocache';

const key = \`pack:ts-esm:\${process.pid}\`;
await using cache = await ${connect};
const set: 'OK' | null = await cache.set(key, 'v', { ex: 60 } satisfies SetOptions);
const get: string | null = await cache.get(key);
const del: number = await cache.del(key);
const refused: unknown = await cache.sendCommand(['NO-SUCH-COMMAND']).catch((error: unknown) => error);
console.log(JSON.stringify({ entry: fileURLToPath(import.meta.resolve('gocache')), set, get, del, commandError: refused instanceof GoCacheCommandError }));
${TYPE_ERROR}
`,
      },
    },
    {
      name: 'TypeScript, module commonjs',
      typescript: true,
      types: 'dist/cjs',
      main: 'out/main.js',
      emitted: 'require("gocache")',
      runs: REQUIRE_RUNS,
      files: {
        'package.json': JSON.stringify({ name: 'ts-cjs', private: true }),
        'tsconfig.json': tsconfig('CommonJS'),
        'main.ts': `
import { GoCacheClient, GoCacheCommandError, type SetOptions } from 'gocache';

async function main(): Promise<void> {
  const key = \`pack:ts-cjs:\${process.pid}\`;
  await using cache = await ${connect};
  const set: 'OK' | null = await cache.set(key, 'v', { ex: 60 } satisfies SetOptions);
  const get: string | null = await cache.get(key);
  const del: number = await cache.del(key);
  const refused: unknown = await cache.sendCommand(['NO-SUCH-COMMAND']).catch((error: unknown) => error);
  console.log(JSON.stringify({ entry: require.resolve('gocache'), set, get, del, commandError: refused instanceof GoCacheCommandError }));
}
main().catch((error: unknown) => { console.error(error); process.exitCode = 1; });
${TYPE_ERROR}
`,
      },
    },
  ];
}
