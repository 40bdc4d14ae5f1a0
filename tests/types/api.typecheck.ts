/**
 * Compile-time behaviour of the public API, checked by `tsc --noEmit` (this file is in tsconfig's
 * include) and by tests/types/types.test.ts. Nothing here runs: every call sits in a function that is
 * never called. Lines under `// @ts-expect-error` must NOT compile; if one starts compiling, the
 * directive is unused and the compiler fails.
 */
import { GoCacheClient, type ClusterNode, type SetOptions } from '../../src/index.js';

/** True when A and B are the same type (not merely assignable one way). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** `expectType<Expected>()(value)` compiles only when the value's type is exactly Expected. */
export function expectType<Expected>() {
  return <Actual>(_value: Actual, ..._mismatch: Equal<Expected, Actual> extends true ? [] : ['type mismatch:', Actual]): void => {};
}

declare const client: GoCacheClient<'redis'>;

export function callsThatCompile(): void {
  // SET: the reply follows `get`.
  expectType<Promise<'OK' | null>>()(client.set('k', 'v'));
  expectType<Promise<'OK' | null>>()(client.set('k', 'v', { ex: 60 }));
  expectType<Promise<'OK' | null>>()(client.set('k', 'v', { px: 1500, nx: true }));
  expectType<Promise<'OK' | null>>()(client.set('k', 'v', { keepttl: true, xx: true }));
  expectType<Promise<'OK' | null>>()(client.set('k', 'v', { exat: new Date(), get: false }));
  expectType<Promise<'OK' | null>>()(client.set('k', 'v', {}));
  expectType<Promise<string | null>>()(client.set('k', 'v', { get: true }));
  expectType<Promise<string | null>>()(client.set('k', 'v', { ex: 5, get: true }));
  const options: SetOptions = { ex: 10 };
  expectType<Promise<string | null | 'OK'>>()(client.set('k', 'v', options));
  expectType<Promise<'OK' | null>>()(client.set(Buffer.from('k'), 42));

  expectType<Promise<string | null>>()(client.get('k'));
  expectType<Promise<Buffer | null>>()(client.buffers.get('k'));
  expectType<Promise<Record<string, string>>>()(client.hgetall('h'));
  expectType<Promise<Record<string, Buffer>>>()(client.buffers.hgetall('h'));
  expectType<Promise<number>>()(client.hset('h', { field: 'value', n: 1 }));
  expectType<Promise<number>>()(client.hset('h', new Map([['field', 'value']])));
  expectType<Promise<number>>()(client.hset('h', [['field', 'value']]));
  expectType<Promise<number>>()(client.del('a'));
  expectType<Promise<number>>()(client.del('a', 'b', Buffer.from('c')));
  expectType<Promise<number>>()(client.delete('a'));
  expectType<Promise<Array<string | null>>>()(client.mget('a', 'b'));
  expectType<Promise<ClusterNode[]>>()(client.clusterNodes());
  expectType<Promise<string>>()(client.ping());
  expectType<Promise<'PONG' | string>>()(client.ping('hello'));
  expectType<Promise<boolean>>()(client.expire('k', 10, { nx: true }));
  expectType<Promise<number>>()(client.ttl('k'));
}

export async function awaitUsingCompiles(): Promise<void> {
  await using cache = await GoCacheClient.connect({ host: 'localhost', port: 7000 });
  expectType<GoCacheClient>()(cache);
  await using fromUrl = await GoCacheClient.connect('redis://localhost:6379');
  await fromUrl.get('k');
}

export function callsThatMustNotCompile(): void {
  // @ts-expect-error ex is a number of seconds
  void client.set('k', 'v', { ex: '60' });
  // @ts-expect-error ex and px are exclusive
  void client.set('k', 'v', { ex: 1, px: 5 });
  // @ts-expect-error nx and xx are exclusive
  void client.set('k', 'v', { nx: true, xx: true });
  // @ts-expect-error keepttl and ex are exclusive
  void client.set('k', 'v', { keepttl: true, ex: 5 });
  // @ts-expect-error no such option
  void client.set('k', 'v', { foo: 1 });
  // @ts-expect-error GET takes one key
  void client.get('a', 'b');
  // @ts-expect-error DEL needs at least one key
  void client.del();
  // @ts-expect-error HSET takes field/value pairs
  void client.hset('h', 5);
  // @ts-expect-error with get, the reply is the old value, not 'OK'
  expectType<Promise<'OK' | null>>()(client.set('k', 'v', { get: true }));
  // @ts-expect-error the buffers view answers Buffers
  expectType<Promise<string | null>>()(client.buffers.get('k'));
}
