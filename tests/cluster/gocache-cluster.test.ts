// The cluster client against a SCRIPTED 3-shard GoCache cluster (testkit/gocache-cluster.ts: peers that
// replay shared/gocache-wire.md's cluster, with their own ring implementation), because a real GoCache
// cannot be built here: the ring, `-MOVED <nodeId> <host:port>`, followers, per-node pub/sub, a dead
// leader that every node keeps pointing at. Every test ends with zero violations at the peers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GoCacheArgumentError, GoCacheCluster, GoCacheConnectionError, type GoCacheCluster as Cluster } from '../../src/index.js';
import { startGoCacheCluster, type GoCacheCluster as PeerCluster } from '../../testkit/gocache-cluster.js';
import { rejection, within } from '../../testkit/promises.js';

let peers: PeerCluster;
let client: Cluster<'gocache'>;

const shardsOf = (cluster: PeerCluster) =>
  cluster.shardIds.map((id) => ({ id, leader: cluster.leader(id).address, followers: cluster.followers(id).map((f) => f.address) }));

beforeAll(async () => {
  // shard1 has a follower (node4).
  peers = await startGoCacheCluster({ shards: [{ followers: 1 }, {}, {}] });
  client = await GoCacheCluster.connect({ shards: shardsOf(peers) });
});

afterAll(async () => {
  await client?.close();
  await peers?.close();
});

afterEach(() => {
  expect(peers.takeViolations()).toEqual([]);
});

/** The value the shard's leader stores for `key` (asked of the peer's store, not through the client). */
function stored(key: string): string | undefined {
  const owner = peers.ownerOf(key)!;
  return owner.peer.store.get(Buffer.from(key).toString('latin1'))?.value.toString();
}

describe("routing by GoCache's ring", () => {
  it('each key goes to the leader of the shard the ring places it on: no MOVED', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `ring:${i}:é`);
    await Promise.all(keys.map((key) => client.set(key, `v:${key}`)));
    for (const key of keys) expect(stored(key)).toBe(`v:${key}`);
    expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys.map((key) => `v:${key}`));
    const shards = new Set(keys.map((key) => peers.shardOf(key)));
    expect(shards.size).toBe(3);
  });

  it("follows GoCache's MOVED <nodeId> <host:port> and remembers it", async () => {
    // A client told the wrong leader for shard2 (shard3's): the node answers MOVED node2 <address>.
    const wrong = shardsOf(peers).map((s) => (s.id === 'shard2' ? { ...s, leader: peers.leader('shard3').address } : s));
    const misled = await GoCacheCluster.connect({ shards: wrong });
    try {
      const key = peers.keyOn('shard2', 'moved:');
      expect(await misled.set(key, 'followed')).toBe('OK');
      expect(stored(key)).toBe('followed');
      expect(misled.shards.find((s) => s.id === 'shard2')!.leader).toBe(peers.leader('shard2').address);
      const before = peers.leader('shard3').peer.requests.length;
      expect(await misled.get(key)).toBe('followed');
      expect(peers.leader('shard3').peer.requests.length).toBe(before);
    } finally {
      await misled.close();
    }
  });

  it('DEL of keys on several shards: one single-key DEL per key, each on its shard, summed', async () => {
    const keys = peers.shardIds.map((id) => peers.keyOn(id, 'del:')) as [string, ...string[]];
    await Promise.all(keys.map((key) => client.set(key, 'x')));
    expect(await client.del(...keys)).toBe(3);
    for (const key of keys) expect(stored(key)).toBeUndefined();
  });

  it('DBSIZE sums every leader', async () => {
    const sizes = peers.shardIds.map((id) => peers.leader(id).peer.store.size);
    expect(await client.dbsize()).toBe(sizes.reduce((a, b) => a + b, 0));
  });
});

describe('transactions', () => {
  it("a transaction goes to the leader of its keys' shard", async () => {
    const key = peers.keyOn('shard1', 'tx:');
    expect(await client.multi().set(key, '1').get(key).exec()).toEqual(['OK', '1']);
    expect(stored(key)).toBe('1');
  });

  it('keys on two shards are refused before anything is sent (GoCache would strand the value)', async () => {
    const a = peers.keyOn('shard1', 'tx:a:');
    const b = peers.keyOn('shard2', 'tx:b:');
    const before = peers.nodes.map((n) => n.peer.requests.length);
    const error = await rejection(client.multi().set(a, '1').set(b, '2').exec());
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/A transaction's keys must live on one shard: .*shard shard1.*shard shard2/);
    expect(peers.nodes.map((n) => n.peer.requests.length)).toEqual(before);
  });
});

describe('pub/sub, per node in GoCache', () => {
  it('a channel is placed on the ring like a key: a message published through the cluster reaches a subscriber of the cluster', async () => {
    const sub = await client.subscribe('news:cluster');
    try {
      expect(await client.publish('news:cluster', 'hello')).toBe(1);
      const iterator = sub[Symbol.asyncIterator]();
      expect((await within(iterator.next(), 5_000, 'the message')).value).toEqual({ channel: 'news:cluster', message: 'hello' });
      const owner = peers.ownerOf('news:cluster')!;
      expect(owner.peer.requests.some((r) => r[0] === 'PUBLISH')).toBe(true);
    } finally {
      await sub.close();
    }
  });
});

describe('followers and a dead leader', () => {
  it("readFrom: 'follower' reads shard1's keys from its follower; writes still go to the leader", async () => {
    const reader = await GoCacheCluster.connect({ shards: shardsOf(peers), readFrom: 'follower' });
    try {
      const key = peers.keyOn('shard1', 'follower:');
      await reader.set(key, 'replicated');
      const follower = peers.followers('shard1')[0]!;
      const before = follower.peer.requests.length;
      expect(await reader.get(key)).toBe('replicated');
      expect(follower.peer.requests.slice(before).map((r) => r[0])).toEqual(['GET']);
    } finally {
      await reader.close();
    }
  });

  it("a dead leader fails its shard's keys fast, naming the shard and the address; the other shards are served; it comes back", async () => {
    const dead = peers.leader('shard2');
    const key = peers.keyOn('shard2', 'dead:');
    const other = peers.keyOn('shard3', 'alive:');
    await peers.kill(dead.id);
    try {
      const error = await rejection(client.get(key));
      expect(error).toBeInstanceOf(GoCacheConnectionError);
      expect((error as Error).message).toMatch(new RegExp(`shard shard2's node ${dead.address.replace(/\./g, '\\.')} cannot be reached`));
      expect(await client.set(other, 'still served')).toBe('OK');
    } finally {
      await peers.restart(dead.id);
    }
    await within(
      (async () => {
        for (;;) {
          try {
            return await client.set(key, 'back');
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      })(),
      10_000,
      'the leader back',
    );
    expect(stored(key)).toBe('back');
  });
});
