// Sharded pub/sub (SSUBSCRIBE / SPUBLISH, Redis 7) on one real redis-server: the client's ssubscribe()
// yields what SPUBLISH posts and nothing that PUBLISH posts; GoCache has no SSUBSCRIBE, so it is
// refused before anything is sent. (Through a cluster: tests/cluster/redis-cluster.test.ts.)
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { GoCacheArgumentError, GoCacheClient, type RedisClient } from '../../src/index.js';
import { openSubscription } from '../../src/client/pubsub.js';
import { rejection, within } from '../../testkit/promises.js';

let client: RedisClient;
beforeAll(async () => {
  client = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
});
afterAll(() => client?.disconnect());

it('ssubscribe() receives SPUBLISH messages (smessage frames) and not PUBLISH ones; unsubscribing ends the iteration', async () => {
  const sub = await client.ssubscribe('it:shard:a', 'it:shard:b');
  try {
    expect(sub.kind).toBe('shard');
    expect(sub.channels).toEqual(['it:shard:a', 'it:shard:b']);
    expect(await client.pubsubShardNumsub('it:shard:a')).toEqual([['it:shard:a', 1]]);
    expect(await client.publish('it:shard:a', 'plain')).toBe(0);
    expect(await client.spublish('it:shard:a', 'one')).toBe(1);
    expect(await client.spublish('it:shard:b', 'two')).toBe(1);
    const iterator = sub[Symbol.asyncIterator]();
    expect((await within(iterator.next(), 10_000, 'the first message')).value).toEqual({ channel: 'it:shard:a', message: 'one' });
    expect((await within(iterator.next(), 10_000, 'the second message')).value).toEqual({ channel: 'it:shard:b', message: 'two' });
    await sub.unsubscribe();
    expect(await within(iterator.next(), 10_000, 'the end')).toEqual({ done: true, value: undefined });
    expect(await client.pubsubShardNumsub('it:shard:a')).toEqual([['it:shard:a', 0]]);
  } finally {
    await sub.close();
  }
});

it("a shard subscription with server: 'gocache' is refused before connecting (GoCache has no SSUBSCRIBE)", async () => {
  // Port 1 on loopback: nothing listens there, and nothing is ever sent, since the check comes first.
  const error = await rejection(openSubscription({ host: '127.0.0.1', port: 1, server: 'gocache' }, 'shard', ['x']));
  expect(error).toBeInstanceOf(GoCacheArgumentError);
  expect((error as Error).message).toMatch(/SSUBSCRIBE/);
});
