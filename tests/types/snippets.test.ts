/**
 * Small programs run through the compiler: each call that must not compile fails for the expected
 * reason (the message is checked, so an unrelated error does not pass), and each good call compiles
 * with the expected type. `client` targets Redis, `cache` targets GoCache (the default).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createTypeChecker, type TypeChecker } from './compiler.js';

let compiler: TypeChecker;
beforeAll(() => {
  compiler = createTypeChecker([], '__snippet_');
}, 120_000);

const PRELUDE = [
  "import { GoCacheClient, type SetOptions, type Settled, type SettledTuple, type Pipeline, type Multi } from '../../src/index.js';",
  "declare const client: GoCacheClient<'redis'>;",
  'declare const cache: GoCacheClient;',
  'type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
  'function expectType<E>() { return <A>(_value: A, ..._mismatch: Equal<E, A> extends true ? [] : [never, A]): void => {}; }',
  'export type { SetOptions, Settled, SettledTuple, Pipeline, Multi };',
  '',
].join('\n');
const snippet = (body: string) => `${PRELUDE}export async function snippet(): Promise<void> {\n${body}\n}\n`;
const check = (body: string) => compiler.check(snippet(body));

// The expectType helper reports a mismatch as "Expected 3 arguments, but got 1".
const MISMATCH = /Expected 3 arguments, but got 1/;
// Exclusive options are unions whose other members are `?: never` (read as undefined), hence the
// "not assignable to type 'undefined'" of the chosen rival.
const EXCLUSIVE = /is not assignable to type 'undefined'/;

describe('does not compile', { timeout: 60_000 }, () => {
  it.each([
    // The client, targeting Redis.
    { name: 'SET with a string ex', body: "await client.set('k', 'v', { ex: '60' });", fragment: /Type 'string' is not assignable to type 'number'/ },
    { name: 'SET with ex and px', body: "await client.set('k', 'v', { ex: 1, px: 5 });", fragment: EXCLUSIVE },
    { name: 'SET with nx and xx', body: "await client.set('k', 'v', { nx: true, xx: true });", fragment: EXCLUSIVE },
    { name: 'SET with keepttl and ex, get', body: "await client.set('k', 'v', { keepttl: true, ex: 5, get: true });", fragment: EXCLUSIVE },
    { name: 'SET with an unknown option', body: "await client.set('k', 'v', { foo: 1 });", fragment: /Object literal may only specify known properties, and 'foo' does not exist/ },
    { name: 'SET options typed as a variable with ex and px', body: 'const o: SetOptions = { ex: 1, px: 5 };\nvoid o;', fragment: EXCLUSIVE },
    { name: 'GET with two keys', body: "await client.get('a', 'b');", fragment: /Expected 1 arguments, but got 2/ },
    { name: 'DEL with no key', body: 'await client.del();', fragment: /Expected at least 1 arguments, but got 0/ },
    { name: 'HSET with a number', body: "await client.hset('h', 5);", fragment: /Argument of type 'number' is not assignable to parameter of type 'PairsInput</ },
    { name: 'EXPIRE with nx and gt', body: "await client.expire('k', 1, { nx: true, gt: true });", fragment: EXCLUSIVE },
    { name: 'a key that is neither text nor bytes', body: 'await client.get(42);', fragment: /Argument of type 'number' is not assignable to parameter of type 'RedisKey'/ },
    { name: 'GEOSEARCH without a centre', body: "await client.geosearch('k', { byRadius: { radius: 1, unit: 'KM' } });", fragment: /fromMember/ },
    { name: 'GEOSEARCH without options', body: "await client.geosearch('k');", fragment: /Expected 2 arguments, but got 1/ },
    { name: 'the protected dispatch', body: 'void client.dispatch;', fragment: /Property 'dispatch' is protected/ },
    { name: 'constructing a client', body: 'void new GoCacheClient();', fragment: /This expression is not constructable/ },
    { name: 'await using on a value that is not disposable', body: 'await using x = { a: 1 };\nvoid x;', fragment: /asyncDispose/ },
    // A client targeting GoCache.
    { name: "GoCache's SET with px", body: "await cache.set('k', 'v', { px: 5 });", fragment: /'px' does not exist in type 'GoCacheSetExpiration'/ },
    { name: 'INCR against GoCache', body: "await cache.incr('k');", fragment: /Property 'incr' does not exist on type/ },
    { name: 'INCR in a GoCache pipeline', body: "void cache.pipeline().incr('k');", fragment: /Property 'incr' does not exist on type/ },
    { name: 'DBSIZE in a GoCache transaction', body: 'void cache.multi().dbsize();', fragment: /Property 'dbsize' does not exist on type/ },
    { name: 'a password for GoCache', body: "void GoCacheClient.connect({ password: 'x' });", fragment: /No overload matches this call/ },
    // Pipelines and transactions.
    { name: 'a wrong element type in the pipeline tuple', body: "const x: [string, number] = await client.pipeline().get('a').get('b').exec();\nvoid x;", fragment: /Type '\[string \| null, string \| null\]' is not assignable to type '\[string, number\]'/ },
    { name: 'a tuple of the wrong length', body: "const x: [string | null] = await client.pipeline().get('a').get('b').exec();\nvoid x;", fragment: /Source has 2 element\(s\) but target allows only 1/ },
    { name: 'a number where a set with get answers the old value', body: "const x: [number] = await client.multi().set('k', 'v', { get: true }).exec();\nvoid x;", fragment: /Type 'string \| null' is not assignable to type 'number'/ },
    { name: 'ex and px in a transaction SET', body: "void client.multi().incr('n').set('k', 'v', { ex: 1, px: 5 });", fragment: EXCLUSIVE },
    { name: 'GET with two keys in a chain', body: "void client.pipeline().get('a', 'b');", fragment: /Expected 1 arguments, but got 2/ },
    { name: 'subscribing from a pipeline', body: "void client.pipeline().subscribe('news');", fragment: /Property 'subscribe' does not exist on type/ },
    { name: 'the protected dispatch of a chain', body: 'void client.pipeline().dispatch;', fragment: /Property 'dispatch' does not exist on type|Property 'dispatch' is protected/ },
    // The helper itself: a wrong expectation does not compile.
    { name: "set with get expected as 'OK' | null", body: "expectType<Promise<'OK' | null>>()(client.set('k', 'v', { get: true }));", fragment: MISMATCH },
    { name: 'buffers.get expected as string | null', body: "expectType<Promise<string | null>>()(client.buffers.get('k'));", fragment: MISMATCH },
    { name: 'get expected as string', body: "expectType<Promise<string>>()(client.get('k'));", fragment: MISMATCH },
    { name: 'multi expected as a Pipeline', body: "expectType<Pipeline<'redis', string, [string | null]>>()(client.multi().get('k'));", fragment: MISMATCH },
    { name: 'a tuple in the wrong order', body: "expectType<Promise<[number, string | null]>>()(client.pipeline().get('a').incr('n').exec());", fragment: MISMATCH },
  ])('$name', ({ body, fragment }) => {
    const found = check(body);
    expect(found.length, 'at least one error').toBeGreaterThan(0);
    expect(found.map((p) => p.message).join('\n---\n')).toMatch(fragment);
  });
});

describe('compiles', { timeout: 60_000 }, () => {
  it.each([
    { name: 'SET with ex', body: "expectType<Promise<'OK' | null>>()(client.set('k', 'v', { ex: 60 }));" },
    { name: 'SET with get', body: "expectType<Promise<string | null>>()(client.set('k', 'v', { get: true, ex: 1, nx: true }));" },
    { name: 'SET with a Date', body: "await client.set('k', 'v', { pxat: new Date() });" },
    { name: 'SET with undefined options', body: "await client.set('k', 'v', undefined);" },
    { name: 'GET in the buffers view', body: "expectType<Promise<Buffer | null>>()(client.buffers.get(Buffer.from('k')));" },
    { name: 'DEL with keys spread from an array', body: "const keys: [string, ...string[]] = ['a', 'b'];\nexpectType<Promise<number>>()(client.del(...keys));" },
    { name: 'HSET with a Map', body: "await client.hset('h', new Map<string, string | number>([['a', 1]]));" },
    { name: 'GEOSEARCH with distances', body: "expectType<Promise<Array<[string, number]>>>()(client.geosearch('k', { fromMember: 'm', byRadius: { radius: 1, unit: 'KM' }, withdist: true }));" },
    { name: 'LCS with idx', body: "expectType<Promise<{ matches: Array<[[number, number], [number, number]]>; len: number }>>()(client.lcs('a', 'b', { idx: true }));" },
    { name: 'await using', body: "await using c = await GoCacheClient.connect({ port: 7000 });\nawait c.ping();" },
    { name: "GoCache's SET and DEL of several keys", body: "expectType<Promise<'OK'>>()(cache.set('k', 'v', { ex: 5 }));\nexpectType<Promise<number>>()(cache.del('a', 'b', 'c'));" },
    { name: 'a server told apart at run time', body: "const c = await GoCacheClient.connect({ server: Math.random() > 0.5 ? 'redis' : 'gocache' });\nif (c.server === 'redis') expectType<Promise<number>>()(c.incr('k'));" },
    { name: 'pipeline set, get, incr', body: "expectType<Promise<['OK' | null, string | null, number]>>()(client.pipeline().set('a', '1').get('a').incr('n').exec());" },
    { name: 'a raw command in a pipeline', body: "expectType<Promise<[string | null, unknown, number]>>()(client.pipeline().get('a').sendCommand<unknown>(['OBJECT', 'ENCODING', 'a']).incr('n').exec());" },
    { name: 'execSettled of a transaction', body: "expectType<Promise<SettledTuple<[number]>>>()(client.multi().incr('n').execSettled());" },
    { name: 'the chain type after each call', body: "expectType<Multi<'redis', string, ['OK' | null, number]>>()(client.multi().set('a', '1').incr('n'));" },
    { name: 'a pipeline built in a loop', body: "const p = client.pipeline<Array<string | null>>();\nfor (const k of ['a', 'b']) p.get(k);\nexpectType<Promise<Array<string | null>>>()(p.exec());" },
    { name: 'watch returns the tuple', body: "expectType<Promise<[number]>>()(client.watch(['k'], async (tx) => tx.multi().incr('k')));" },
  ])('$name', ({ body }) => {
    expect(check(body)).toEqual([]);
  });
});
