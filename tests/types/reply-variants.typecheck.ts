/**
 * Option-dependent replies and iterators, checked by the compiler (`make typecheck` runs tsc over
 * tests/): an `@ts-expect-error` that does not fail breaks the build.
 */
import { GoCacheClient } from '../../src/index.js';
import { expectType } from './api.typecheck.js';

export async function replyVariants(client: GoCacheClient<'redis'>): Promise<void> {
  const members = [{ score: 1, member: 'a' }];
  expectType<Promise<number>>()(client.zadd('z', members));
  expectType<Promise<number>>()(client.zadd('z', members, { nx: true, ch: true }));
  expectType<Promise<number | null>>()(client.zadd('z', members, { incr: true }));
  // @ts-expect-error with incr, ZADD answers the new score (or null), not a count
  expectType<Promise<number>>()(client.zadd('z', members, { incr: true }));
  // @ts-expect-error nx and xx are exclusive
  void client.zadd('z', members, { nx: true, xx: true });

  expectType<Promise<string[]>>()(client.zrange('z', 0, -1));
  expectType<Promise<Array<[string, number]>>>()(client.zrange('z', 0, -1, { withscores: true }));
  expectType<Promise<Array<[string, number]>>>()(client.zrange('z', '(1', '+inf', { byscore: true, withscores: true, limit: { offset: 0, count: 5 } }));
  // @ts-expect-error byscore and bylex are exclusive
  void client.zrange('z', 0, 1, { byscore: true, bylex: true });
  expectType<Promise<Array<[Buffer, number]>>>()(client.buffers.zrange('z', 0, -1, { withscores: true }));

  expectType<Promise<string | null>>()(client.lpop('l'));
  expectType<Promise<string[] | null>>()(client.lpop('l', 2));

  expectType<AsyncGenerator<string, void, undefined>>()(client.scanIterator({ match: 'user:*' }));
  expectType<AsyncGenerator<[string, string], void, undefined>>()(client.hscanIterator('h'));
  expectType<AsyncGenerator<[string, number], void, undefined>>()(client.zscanIterator('z'));
  // @ts-expect-error the iterator manages the cursor itself
  void client.scanIterator('0');
}
