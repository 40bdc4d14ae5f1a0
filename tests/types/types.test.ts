/**
 * Runs the compiler (ts-morph's, with the repo's tsconfig.json) over tests/types/api.typecheck.ts and
 * over small in-memory snippets: the good calls compile, and each bad one fails for the expected
 * reason, so the file's `@ts-expect-error` lines are not passing by accident.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTypeChecker, root, type TypeChecker } from './compiler.js';

const typecheckPath = join(root, 'tests/types/api.typecheck.ts');

let compiler: TypeChecker;
const problems: TypeChecker['problems'] = (file) => compiler.problems(file);
const check: TypeChecker['check'] = (text) => compiler.check(text);

beforeAll(() => {
  compiler = createTypeChecker('tests/types/api.typecheck.ts', '__snippet_');
}, 60_000);

const PRELUDE = [
  "import { GoCacheClient, type SetOptions } from '../../src/index.js';",
  'declare const client: GoCacheClient;',
  'type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
  'function expectType<E>() { return <A>(_value: A, ..._mismatch: Equal<E, A> extends true ? [] : [never, A]): void => {}; }',
  'export type { SetOptions };',
  '',
].join('\n');
const snippet = (body: string) => `${PRELUDE}export async function snippet(): Promise<void> {\n${body}\n}\n`;

describe('tests/types/api.typecheck.ts', { timeout: 60_000 }, () => {
  it('compiles with no error (every @ts-expect-error is used)', () => {
    const file = compiler.project.getSourceFileOrThrow(typecheckPath);
    expect(problems(file)).toEqual([]);
    // The file really exercises the API: it imports the package entry and has expectations.
    expect(file.getImportDeclarations().map((d) => d.getModuleSpecifierValue())).toContain('../../src/index.js');
    expect(file.getFullText().match(/\/\/ @ts-expect-error/g)?.length).toBeGreaterThanOrEqual(8);
  });

  it('fails on exactly the @ts-expect-error lines once the directives are removed', () => {
    const lines = readFileSync(typecheckPath, 'utf8').split('\n');
    const expected: number[] = [];
    // Keep line numbers: the directive becomes a plain comment.
    const stripped = lines.map((line, i) => {
      if (!/^\s*\/\/ @ts-expect-error/.test(line)) return line;
      expected.push(i + 2);
      return line.replace('@ts-expect-error', 'was-expect-error');
    });
    const found = check(stripped.join('\n'));
    const failing = [...new Set(found.map((p) => p.line))].sort((a, b) => a - b);
    expect(failing, found.map((p) => `${p.line}: ${p.message.split('\n')[0]}`).join('\n')).toEqual(expected);
  });
});

describe('snippets', { timeout: 60_000 }, () => {
  // Exclusive options are unions whose other members are `?: never` (read as undefined), hence the
  // "not assignable to type 'undefined'" of the chosen rival.
  it.each([
    { name: 'SET with a string ex', body: "await client.set('k', 'v', { ex: '60' });", fragment: /Type 'string' is not assignable to type 'number'/ },
    { name: 'SET with ex and px', body: "await client.set('k', 'v', { ex: 1, px: 5 });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'SET with nx and xx', body: "await client.set('k', 'v', { nx: true, xx: true });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'SET with keepttl and ex', body: "await client.set('k', 'v', { keepttl: true, ex: 5 });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'SET with keepttl and ex, get', body: "await client.set('k', 'v', { keepttl: true, ex: 5, get: true });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'SET with an unknown option', body: "await client.set('k', 'v', { foo: 1 });", fragment: /Object literal may only specify known properties, and 'foo' does not exist/ },
    { name: 'SET options typed as a variable with ex and px', body: 'const o: SetOptions = { ex: 1, px: 5 };\nvoid o;', fragment: /is not assignable to type 'undefined'/ },
    { name: 'GET with two keys', body: "await client.get('a', 'b');", fragment: /Expected 1 arguments, but got 2/ },
    { name: 'DEL with no key', body: 'await client.del();', fragment: /Expected at least 1 arguments, but got 0/ },
    { name: 'HSET with a number', body: "await client.hset('h', 5);", fragment: /Argument of type 'number' is not assignable to parameter of type 'PairsInput</ },
    { name: 'EXPIRE with nx and gt', body: "await client.expire('k', 1, { nx: true, gt: true });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'a key that is neither text nor bytes', body: 'await client.get(42);', fragment: /Argument of type 'number' is not assignable to parameter of type 'RedisKey'/ },
    { name: 'the protected execute', body: 'void client.execute;', fragment: /Property 'execute' is protected/ },
    { name: 'the private constructor', body: 'void new GoCacheClient();', fragment: /Constructor of class 'GoCacheClient' is private/ },
    { name: 'await using on a value that is not disposable', body: 'await using x = { a: 1 };\nvoid x;', fragment: /asyncDispose/ },
    // The helper itself: a wrong expectation does not compile.
    { name: "set with get expected as 'OK' | null", body: "expectType<Promise<'OK' | null>>()(client.set('k', 'v', { get: true }));", fragment: /Expected 3 arguments, but got 1/ },
    { name: 'set without get expected as string | null', body: "expectType<Promise<string | null>>()(client.set('k', 'v'));", fragment: /Expected 3 arguments, but got 1/ },
    { name: 'buffers.get expected as string | null', body: "expectType<Promise<string | null>>()(client.buffers.get('k'));", fragment: /Expected 3 arguments, but got 1/ },
    { name: 'get expected as string', body: "expectType<Promise<string>>()(client.get('k'));", fragment: /Expected 3 arguments, but got 1/ },
    { name: 'del expected as boolean', body: "expectType<Promise<boolean>>()(client.del('k'));", fragment: /Expected 3 arguments, but got 1/ },
  ])('does not compile: $name', ({ body, fragment }) => {
    const found = check(snippet(body));
    expect(found.length, 'at least one error').toBeGreaterThan(0);
    expect(found.map((p) => p.message).join('\n---\n')).toMatch(fragment);
  });

  it.each([
    { name: 'SET with ex', body: "expectType<Promise<'OK' | null>>()(client.set('k', 'v', { ex: 60 }));" },
    { name: 'SET with get', body: "expectType<Promise<string | null>>()(client.set('k', 'v', { get: true, ex: 1, nx: true }));" },
    { name: 'SET with keepttl and xx', body: "expectType<Promise<'OK' | null>>()(client.set('k', 'v', { keepttl: true, xx: true }));" },
    { name: 'SET with a Date', body: "await client.set('k', 'v', { pxat: new Date() });" },
    { name: 'SET with undefined options', body: "await client.set('k', 'v', undefined);" },
    { name: 'GET', body: "expectType<Promise<string | null>>()(client.get('k'));" },
    { name: 'GET in the buffers view', body: "expectType<Promise<Buffer | null>>()(client.buffers.get(Buffer.from('k')));" },
    { name: 'DEL with keys spread from an array', body: "const keys: [string, ...string[]] = ['a', 'b'];\nexpectType<Promise<number>>()(client.del(...keys));" },
    { name: 'HSET with a Map', body: "await client.hset('h', new Map<string, string | number>([['a', 1]]));" },
    { name: 'HGETALL', body: "expectType<Promise<Record<string, string>>>()(client.hgetall('h'));" },
    { name: 'PING', body: "expectType<Promise<string>>()(client.ping());" },
    { name: 'await using', body: "await using cache = await GoCacheClient.connect({ port: 7000 });\nawait cache.ping();" },
  ])('compiles: $name', ({ body }) => {
    expect(check(snippet(body))).toEqual([]);
  });
});
