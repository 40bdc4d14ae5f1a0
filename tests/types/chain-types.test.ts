/**
 * Runs the compiler (ts-morph's, with the repo's tsconfig.json) over tests/types/chain.typecheck.ts
 * and over small in-memory snippets of pipelines and transactions: the good chains compile with the
 * expected tuple types, and each bad one fails for the expected reason, so the file's
 * `@ts-expect-error` lines are not passing by accident.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTypeChecker, root, type TypeChecker } from './compiler.js';

const typecheckPath = join(root, 'tests/types/chain.typecheck.ts');

let compiler: TypeChecker;
const problems: TypeChecker['problems'] = (file) => compiler.problems(file);
const check: TypeChecker['check'] = (text) => compiler.check(text);

beforeAll(() => {
  compiler = createTypeChecker('tests/types/chain.typecheck.ts', '__chain_snippet_');
}, 60_000);

const PRELUDE = [
  "import { GoCacheClient, type Settled, type SettledTuple, type Pipeline, type Multi } from '../../src/index.js';",
  'declare const client: GoCacheClient;',
  'type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
  'function expectType<E>() { return <A>(_value: A, ..._mismatch: Equal<E, A> extends true ? [] : [never, A]): void => {}; }',
  'export type { Settled, SettledTuple, Pipeline, Multi };',
  '',
].join('\n');
const snippet = (body: string) => `${PRELUDE}export async function snippet(): Promise<void> {\n${body}\n}\n`;

describe('tests/types/chain.typecheck.ts', { timeout: 60_000 }, () => {
  it('compiles with no error (every @ts-expect-error is used)', () => {
    const file = compiler.project.getSourceFileOrThrow(typecheckPath);
    expect(problems(file)).toEqual([]);
    expect(file.getImportDeclarations().map((d) => d.getModuleSpecifierValue())).toContain('../../src/index.js');
    expect(file.getFullText().match(/\/\/ @ts-expect-error/g)?.length).toBeGreaterThanOrEqual(10);
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

describe('chain snippets', { timeout: 60_000 }, () => {
  // The expectType helper reports a mismatch as "Expected 3 arguments, but got 1".
  const MISMATCH = /Expected 3 arguments, but got 1/;
  it.each([
    {
      name: 'a wrong element type in the pipeline tuple',
      body: "const x: [string, number] = await client.pipeline().get('a').get('b').exec();\nvoid x;",
      fragment: /Type '\[string \| null, string \| null\]' is not assignable to type '\[string, number\]'/,
    },
    {
      name: 'a wrong element type at the second position',
      body: "const x: [string | null, number] = await client.pipeline().get('a').get('b').exec();\nvoid x;",
      fragment: /Type at position 1 in source is not compatible with type at position 1 in target\.\n\s*Type 'string \| null' is not assignable to type 'number'/,
    },
    {
      name: 'a number where a set with get answers the old value',
      body: "const x: [number] = await client.multi().set('k', 'v', { get: true }).exec();\nvoid x;",
      fragment: /Type 'string \| null' is not assignable to type 'number'/,
    },
    {
      name: 'a wrong element type in the transaction tuple',
      body: "const x: [string, number] = await client.multi().get('a').get('b').exec();\nvoid x;",
      fragment: /is not assignable to type '\[string, number\]'/,
    },
    {
      name: 'a tuple of the wrong length',
      body: "const x: [string | null] = await client.pipeline().get('a').get('b').exec();\nvoid x;",
      fragment: /Source has 2 element\(s\) but target allows only 1/,
    },
    { name: 'ex and px in a pipeline SET', body: "void client.pipeline().set('k', 'v', { ex: 1, px: 5 });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'ex and px in a transaction SET', body: "void client.multi().incr('n').set('k', 'v', { ex: 1, px: 5 });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'nx and xx in a chain SET', body: "void client.pipeline().set('k', 'v', { nx: true, xx: true });", fragment: /is not assignable to type 'undefined'/ },
    { name: 'a string ex in a chain', body: "void client.pipeline().set('k', 'v', { ex: '60' });", fragment: /Type 'string' is not assignable to type 'number'/ },
    { name: 'an unknown option in a chain', body: "void client.multi().set('k', 'v', { foo: 1 });", fragment: /Object literal may only specify known properties, and 'foo' does not exist/ },
    { name: 'GET with two keys in a chain', body: "void client.pipeline().get('a', 'b');", fragment: /Expected 1 arguments, but got 2/ },
    { name: 'DEL with no key in a chain', body: 'void client.multi().del();', fragment: /Expected at least 1 arguments, but got 0/ },
    { name: 'a method that does not exist on a chain', body: "void client.pipeline().sendCommand(['PING']);", fragment: /Property 'sendCommand' does not exist on type 'Pipeline<string, \[\]>'/ },
    { name: 'the protected add', body: 'void client.pipeline().add;', fragment: /Property 'add' is protected/ },
    // The helper itself: a wrong expectation does not compile.
    { name: "set with get expected as 'OK' | null", body: "expectType<Promise<['OK' | null]>>()(client.pipeline().set('k', 'v', { get: true }).exec());", fragment: MISMATCH },
    { name: 'zadd with incr expected as number', body: "expectType<Promise<[number]>>()(client.pipeline().zadd('z', [{ score: 1, member: 'm' }], { incr: true }).exec());", fragment: MISMATCH },
    { name: 'buffers get expected as string | null', body: "expectType<Promise<[string | null]>>()(client.buffers.pipeline().get('k').exec());", fragment: MISMATCH },
    { name: 'execSettled expected as plain values', body: "expectType<Promise<['OK' | null]>>()(client.pipeline().set('k', 'v').execSettled());", fragment: MISMATCH },
    { name: 'multi expected as a Pipeline', body: "expectType<Pipeline<string, [string | null]>>()(client.multi().get('k'));", fragment: MISMATCH },
    { name: 'a tuple in the wrong order', body: "expectType<Promise<[number, string | null]>>()(client.pipeline().get('a').incr('n').exec());", fragment: MISMATCH },
  ])('does not compile: $name', ({ body, fragment }) => {
    const found = check(snippet(body));
    expect(found.length, 'at least one error').toBeGreaterThan(0);
    expect(found.map((p) => p.message).join('\n---\n')).toMatch(fragment);
  });

  it.each([
    { name: 'pipeline set, get, incr', body: "expectType<Promise<['OK' | null, string | null, number]>>()(client.pipeline().set('a', '1').get('a').incr('n').exec());" },
    { name: 'multi set, get, incr', body: "expectType<Promise<['OK' | null, string | null, number]>>()(client.multi().set('a', '1').get('a').incr('n').exec());" },
    { name: 'set with get in a chain', body: "expectType<Promise<[number, string | null]>>()(client.pipeline().incr('n').set('k', 'v', { get: true }).exec());" },
    { name: 'set with get and ex in a transaction', body: "expectType<Promise<[string | null]>>()(client.multi().set('k', 'v', { get: true, ex: 1 }).exec());" },
    { name: 'zadd with incr', body: "expectType<Promise<[number | null]>>()(client.pipeline().zadd('z', [{ score: 1, member: 'm' }], { incr: true }).exec());" },
    { name: 'zadd without incr', body: "expectType<Promise<[number]>>()(client.multi().zadd('z', [{ score: 1, member: 'm' }], { ch: true }).exec());" },
    { name: 'execSettled', body: "expectType<Promise<[Settled<'OK' | null>, Settled<string | null>]>>()(client.pipeline().set('a', '1').get('a').execSettled());" },
    { name: 'execSettled of a transaction', body: "expectType<Promise<SettledTuple<[number]>>>()(client.multi().incr('n').execSettled());" },
    { name: 'buffers view get', body: "expectType<Promise<[Buffer | null, 'OK' | null]>>()(client.buffers.pipeline().get('k').set('k', Buffer.from([0])).exec());" },
    { name: 'buffers view set with get', body: "expectType<Promise<[Buffer | null]>>()(client.buffers.multi().set('k', 'v', { get: true }).exec());" },
    { name: 'buffers view mget and hgetall', body: "expectType<Promise<[Array<Buffer | null>, Record<string, Buffer>]>>()(client.buffers.pipeline().mget('a').hgetall('h').exec());" },
    { name: 'the chain type after each call', body: "expectType<Multi<string, ['OK' | null, number]>>()(client.multi().set('a', '1').incr('n'));" },
    { name: 'an empty pipeline', body: 'expectType<Promise<[]>>()(client.pipeline().exec());' },
    { name: 'a pipeline built in a loop', body: "const p = client.pipeline<Array<string | null>>();\nfor (const k of ['a', 'b']) p.get(k);\nexpectType<Promise<Array<string | null>>>()(p.exec());" },
    { name: 'watch returns the tuple', body: "expectType<Promise<[number]>>()(client.watch(['k'], async (tx) => tx.multi().incr('k')));" },
  ])('compiles: $name', ({ body }) => {
    expect(check(snippet(body))).toEqual([]);
  });
});
