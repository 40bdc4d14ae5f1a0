// The cluster client against a REAL local Redis Cluster (testkit/redis-cluster.ts: 3 primaries, each
// with a replica, created with redis-cli --cluster create): routing by slot, MOVED after a resharding,
// ASK during a migration, failovers, cross-slot refusals, split MGET/MSET/DEL, per-node merges,
// pipelines and transactions across nodes, reads from replicas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoCacheArgumentError, GoCacheCluster, GoCachePipelineError, type GoCacheCluster as Cluster } from '../../src/index.js';
import { rejection, within } from '../../testkit/promises.js';
import { startRedisCluster, type RedisCluster } from '../../testkit/redis-cluster.js';

let redis: RedisCluster;
let client: Cluster<'redis'>;

beforeAll(async () => {
  redis = await startRedisCluster();
  client = await GoCacheCluster.connect({ server: 'redis', nodes: [redis.primaries()[0]!.address] });
}, 120_000);

afterAll(async () => {
  await client?.close();
  await redis?.stop();
});

/** What the node that owns the key's slot holds, asked of that node directly. */
async function onOwner(key: string): Promise<unknown> {
  const slot = await redis.slotOf(key);
  return redis.command(redis.ownerOf(slot), 'GET', key);
}

describe('routing by slot', () => {
  it('learns the slot map from CLUSTER SHARDS: three leaders, each with a follower', () => {
    expect(client.shards.map((s) => s.leader).sort()).toEqual(redis.primaries().map((p) => p.address).sort());
    for (const shard of client.shards) expect(shard.followers).toHaveLength(1);
  });

  it('each key goes to the primary that owns its slot (checked on that node)', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `route:${i}`);
    await Promise.all(keys.map((key) => client.set(key, `v:${key}`)));
    for (const key of keys) expect(await onOwner(key)).toBe(`v:${key}`);
    expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys.map((key) => `v:${key}`));
    const slots = new Set(await Promise.all(keys.map((key) => redis.slotOf(key))));
    expect(new Set([...slots].map((slot) => redis.ownerOf(slot).address)).size).toBe(3);
  });

  it('a command on keys of one slot ({hash tag}) runs on one node; keys in different slots are refused before sending', async () => {
    await client.set('{user1}:a', 'A');
    expect(await client.rename('{user1}:a', '{user1}:b')).toBe('OK');
    expect(await client.get('{user1}:b')).toBe('A');
    const error = await rejection(client.rename('{user1}:b', '{user2}:b'));
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/RENAME: its keys must live in one slot \(use a \{hash tag\}\).*\{user1\}:b \(slot \d+, 127\.0\.0\.1:\d+\), \{user2\}:b \(slot \d+/);
  });
});

describe('split across nodes, merged in the caller order', () => {
  it('MSET then MGET of keys on every node, DEL and EXISTS summed', async () => {
    const entries = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`split:${i}`, `${i}`]));
    expect(await client.mset(entries)).toBe('OK');
    const keys: [string, ...string[]] = ['split:missing', ...Object.keys(entries)];
    expect(await client.mget(...keys)).toEqual([null, ...Object.values(entries)]);
    expect(await client.exists(...keys)).toBe(12);
    expect(await client.del(...keys)).toBe(12);
    expect(await client.exists(...keys)).toBe(0);
  });

  it('the buffers view routes the same way and answers bytes, also split across nodes', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    const candidates = Array.from({ length: 20 }, (_, i) => `bytes:${i}`);
    const owners = await Promise.all(candidates.map(async (key) => redis.ownerOf(await redis.slotOf(key)).id));
    const a = candidates[0]!;
    const b = candidates.find((_, i) => owners[i] !== owners[0])!;
    await client.set(a, bytes);
    await client.set(b, 'text');
    expect(await client.buffers.get(a)).toEqual(bytes);
    expect(await client.buffers.mget(a, b, 'bytes:none')).toEqual([bytes, Buffer.from('text'), null]);
    // Lossy as text, exact as bytes.
    expect(await client.get(a)).not.toEqual(bytes.toString('latin1'));
  });

  it('per-node answers: DBSIZE sums every primary, KEYS concatenates', async () => {
    await client.flushall();
    await Promise.all(Array.from({ length: 9 }, (_, i) => client.set(`count:${i}`, 'x')));
    expect(await client.dbsize()).toBe(9);
    expect((await client.keys('count:*')).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `count:${i}`).sort());
    const scanned: string[] = [];
    for await (const key of client.scanIterator({ match: 'count:*' })) scanned.push(key);
    expect(scanned.sort()).toEqual(Array.from({ length: 9 }, (_, i) => `count:${i}`).sort());
  });
});

describe('pipelines and transactions', () => {
  it('a pipeline across nodes keeps the caller order', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `pipe:${i}`);
    let pipeline = client.pipeline<unknown[]>();
    for (const key of keys) pipeline = pipeline.set(key, key).get(key);
    const results = await pipeline.exec();
    expect(results).toEqual(keys.flatMap((key) => ['OK', key]));
  });

  it('a transaction on one slot runs; keys in two slots are refused before anything is sent', async () => {
    expect(await client.multi().set('{tx}:a', '1').incr('{tx}:a').get('{tx}:a').exec()).toEqual(['OK', 2, '2']);
    const error = await rejection(client.multi().set('{tx}:a', '1').set('{other}:b', '2').exec());
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/A transaction's keys must live in one slot/);
    expect(await client.get('{other}:b')).toBeNull();
  });

  it('a pipeline command refused by the server keeps the others', async () => {
    const error = await rejection(client.pipeline().set('pe:a', 'x').incr('pe:a').get('pe:a').exec());
    expect(error).toBeInstanceOf(GoCachePipelineError);
    expect((error as GoCachePipelineError).errors.map((e) => e.index)).toEqual([1]);
  });
});

describe('resharding and failover', () => {
  it('MOVED after a slot moved: the client follows it and learns the new owner', async () => {
    const key = 'moving:key';
    await client.set(key, 'before');
    const slot = await redis.slotOf(key);
    const from = redis.ownerOf(slot);
    const to = redis.primaries().find((p) => p.id !== from.id)!;
    await redis.moveSlot(slot, to);
    expect(await client.get(key)).toBe('before');
    expect(await client.set(key, 'after')).toBe('OK');
    expect(await redis.command(to, 'GET', key)).toBe('after');
  });

  it('ASK during a migration: the client sends ASKING then the command to the target', async () => {
    const key = 'asking:key';
    await client.set(key, 'migrating');
    const slot = await redis.slotOf(key);
    const from = redis.ownerOf(slot);
    const to = redis.primaries().find((p) => p.id !== from.id)!;
    const migration = await redis.beginSlotMigration(slot, to);
    expect(await migration.migrateKeys([key])).toBe(1);
    // The source answers -ASK now: the key is on the target, the slot not yet.
    expect(await redis.command(from, 'GET', key)).toEqual({ error: expect.stringMatching(/^ASK /) });
    expect(await client.get(key)).toBe('migrating');
    await migration.finish();
    expect(await client.get(key)).toBe('migrating');
  });

  it('a manual failover (CLUSTER FAILOVER on a replica): the client keeps serving', async () => {
    const key = 'failover:key';
    await client.set(key, 'v1');
    const owner = redis.ownerOf(await redis.slotOf(key));
    const replica = redis.replicasOf(owner)[0]!;
    await redis.failover(replica);
    await within(
      (async () => {
        for (;;) {
          try {
            return await client.set(key, 'v2');
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })(),
      20_000,
      'a write after the failover',
    );
    expect(await client.get(key)).toBe('v2');
  });

  it('a killed primary: once its replica is promoted, the client serves its slots again', async () => {
    const key = 'killed:key';
    await client.set(key, 'v1');
    const owner = redis.ownerOf(await redis.slotOf(key));
    const promoted = await redis.killPrimary(owner);
    const value = await within(
      (async () => {
        for (;;) {
          try {
            return await client.get(key);
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })(),
      20_000,
      'a read after the promotion',
    );
    expect(value).toBe('v1');
    expect(client.shards.some((s) => s.leader === promoted.address)).toBe(true);
    await redis.restartNode(owner);
  });
});

describe('reads from replicas', () => {
  it("readFrom: 'follower' sends reads to replicas (READONLY on connect) and writes to primaries", async () => {
    const reader = await GoCacheCluster.connect({ server: 'redis', nodes: [redis.primaries()[0]!.address], readFrom: 'follower' });
    try {
      await reader.set('replica:key', 'r');
      // Replication is asynchronous: wait until the replica serves the value.
      await within(
        (async () => {
          while ((await reader.get('replica:key')) !== 'r') await new Promise((resolve) => setTimeout(resolve, 20));
        })(),
        10_000,
        'the replica to have the value',
      );
      const replicas = redis.replicas().map((r) => r.address);
      expect((reader as unknown as { connectedNodes: string[] }).connectedNodes.some((address) => replicas.includes(address))).toBe(true);
    } finally {
      await reader.close();
    }
  });
});

describe('sharded pub/sub', () => {
  it('ssubscribe() subscribes each shard channel on its slot owner; SPUBLISH through the cluster reaches it; a moved slot is followed', async () => {
    // Two shard channels on different primaries.
    const channels = Array.from({ length: 20 }, (_, i) => `shard:${i}`);
    const owners = await Promise.all(channels.map(async (c) => redis.ownerOf(await redis.slotOf(c)).id));
    const a = channels[0]!;
    const b = channels.find((_, i) => owners[i] !== owners[0]);
    expect(b).toBeDefined();
    if (b === undefined) return;
    const sub = await client.ssubscribe(a, b);
    const iterator = sub[Symbol.asyncIterator]();
    const next = async () => (await within(iterator.next(), 10_000, 'a shard message')).value;
    try {
      for (const channel of [a, b]) {
        const owner = redis.ownerOf(await redis.slotOf(channel));
        expect(await redis.command(owner, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
      }
      expect(await client.spublish(a, 'first')).toBe(1);
      expect(await next()).toEqual({ channel: a, message: 'first' });
      expect(await client.spublish(b, 'second')).toBe(1);
      expect(await next()).toEqual({ channel: b, message: 'second' });

      // The slot of `a` moves: Redis unsubscribes it there; the client subscribes it on the new owner.
      const slot = await redis.slotOf(a);
      const to = redis.primaries().find((p) => p.id !== redis.ownerOf(slot).id)!;
      await redis.moveSlot(slot, to);
      await within(
        (async () => {
          while (JSON.stringify(await redis.command(to, 'PUBSUB', 'SHARDNUMSUB', a)) !== JSON.stringify([a, 1])) await new Promise((resolve) => setTimeout(resolve, 20));
        })(),
        20_000,
        'the shard channel to be subscribed on its new owner',
      );
      expect(await client.spublish(a, 'after the move')).toBe(1);
      expect(await next()).toEqual({ channel: a, message: 'after the move' });
      expect(sub.channels.sort()).toEqual([a, b].sort());
    } finally {
      await sub.close();
    }
  });
});
