// A GoCache cluster of scripted peers (testkit/gocache-peer.ts), routing as shared/gocache-wire.md
// documents ("Cluster" and "Cluster, verified again"; tags K1-K9, V1-V7 in gocache-peer.ts):
//   - shards with ids (`shard1`... unless given), one leader each and optional followers;
//   - node ids `node1`...: the leaders first, in shard order, then the followers, shard by shard;
//   - each node routes by the ring of testkit/gocache-ring.ts: another shard's key answers
//     `-MOVED <nodeId> 127.0.0.1:<port>` to that shard's leader; a follower serves its shard's reads and
//     answers MOVED to its leader for writes; CLUSTER NODES / HEALTH list every node;
//   - a leader's writes reach its followers at once; pub/sub stays per node;
//   - failover as GoCache does it: `kill(id)` stops a node and every other node keeps answering MOVED to
//     its dead address; in a multi-shard cluster its followers attach to another shard's leader (the
//     first running one in shard order: the doc does not say which); `restart(id)` brings it back on the
//     same port with its data.
//
//   const cluster = await startGoCacheCluster({ shards: 3, followers: 1 });
//   const key = cluster.keyOn('shard2');              // a key the ring places on shard2
//   cluster.ownerOf(key).address;                     // node2's 127.0.0.1:<port>
//   await cluster.kill('node2'); ... await cluster.restart('node2');
//   expect(cluster.takeViolations()).toEqual([]);
//   await cluster.close();
import { GoCacheRing } from './gocache-ring.js';
import {
  joinCluster,
  onPeerStopped,
  setReplicationSource,
  startGoCachePeer,
  type ClusterNodeView,
  type GoCachePeer,
  type GoCachePeerOptions,
} from './gocache-peer.js';

export interface ClusterShardOptions {
  /** Shard id as in the node's config (default `shard<n>`); it names the ring's virtual nodes `<id>-<i>`. */
  id?: string;
  /** Followers of this shard's leader (default: the cluster's `followers`). */
  followers?: number;
}

export interface GoCacheClusterOptions {
  /** A number of shards (ids `shard1`..`shardN`) or one entry per shard. Default 3. */
  shards?: number | readonly ClusterShardOptions[];
  /** Followers per shard, unless a shard entry says otherwise. Default 0. */
  followers?: number;
  /** Options every node gets (maxKeys, seed, simulateCrash, script, onConnection, recordBytes). */
  peer?: Omit<GoCachePeerOptions, 'port' | 'clusterNodes' | 'followerOf'>;
}

export interface GoCacheClusterNode {
  /** `node1`, `node2`, ... */
  readonly id: string;
  readonly shardId: string;
  readonly role: 'leader' | 'follower';
  /** The id of this node's shard leader (its own id for a leader). */
  readonly leaderId: string;
  readonly peer: GoCachePeer;
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>`, as MOVED and CLUSTER NODES write it. */
  readonly address: string;
}

export interface GoCacheCluster {
  /** Every node, in configuration order: leaders by shard, then followers by shard. */
  readonly nodes: readonly GoCacheClusterNode[];
  readonly shardIds: readonly string[];
  readonly ring: GoCacheRing;
  node(id: string): GoCacheClusterNode;
  leader(shardId: string): GoCacheClusterNode;
  followers(shardId: string): GoCacheClusterNode[];
  /** The shard owning `key`, or null for the empty key (never routed). */
  shardOf(key: string | Uint8Array): string | null;
  /** The leader of the shard owning `key` (where MOVED points), or null for the empty key. */
  ownerOf(key: string | Uint8Array): GoCacheClusterNode | null;
  /** A key the ring places on `shardId` (`${prefix}<n>`, the first that fits). */
  keyOn(shardId: string, prefix?: string): string;
  /** Stops a node like a kill: connections cut, no longer listening; the others keep MOVED to it (V7). */
  kill(nodeId: string): Promise<void>;
  /** Restarts a stopped node on the same port, with its data. */
  restart(nodeId: string): Promise<void>;
  /** Every node's violations, each prefixed with the node id (`node2 conn 3: ...`). */
  readonly violations: string[];
  /** Returns `violations` and clears them on every node. */
  takeViolations(): string[];
  close(): Promise<void>;
}

/** Starts the peers of a GoCache cluster on 127.0.0.1 (see the top of this file). Close it with `close()`. */
export async function startGoCacheCluster(options: GoCacheClusterOptions = {}): Promise<GoCacheCluster> {
  const shardSpecs = typeof options.shards === 'number' || options.shards === undefined
    ? Array.from({ length: options.shards ?? 3 }, (): ClusterShardOptions => ({}))
    : options.shards;
  if (shardSpecs.length === 0) throw new Error('gocache-cluster: at least one shard');
  const shardIds = shardSpecs.map((s, i) => s.id ?? `shard${i + 1}`);
  const ring = new GoCacheRing(shardIds);

  const layout: Array<{ id: string; shardId: string; role: 'leader' | 'follower'; leaderId: string }> = [];
  shardIds.forEach((shardId, i) => layout.push({ id: `node${i + 1}`, shardId, role: 'leader', leaderId: `node${i + 1}` }));
  shardIds.forEach((shardId, i) => {
    const followers = shardSpecs[i]!.followers ?? options.followers ?? 0;
    for (let f = 0; f < followers; f++) layout.push({ id: `node${layout.length + 1}`, shardId, role: 'follower', leaderId: `node${i + 1}` });
  });

  const peers: GoCachePeer[] = [];
  try {
    for (let i = 0; i < layout.length; i++) peers.push(await startGoCachePeer({ ...options.peer }));
  } catch (error) {
    await Promise.all(peers.map((p) => p.close()));
    throw error;
  }
  const views: ClusterNodeView[] = layout.map((n, i) => ({ ...n, peer: peers[i]! }));
  const view = { ring, nodes: views };
  const nodes: GoCacheClusterNode[] = views.map((n) => ({
    id: n.id,
    shardId: n.shardId,
    role: n.role,
    leaderId: n.leaderId,
    peer: n.peer,
    host: n.peer.host,
    port: n.peer.port,
    address: n.peer.address,
  }));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const node = (id: string): GoCacheClusterNode => {
    const found = byId.get(id);
    if (found === undefined) throw new Error(`gocache-cluster: no node ${id} (nodes: ${nodes.map((n) => n.id).join(', ')})`);
    return found;
  };
  const leader = (shardId: string): GoCacheClusterNode => {
    const found = nodes.find((n) => n.shardId === shardId && n.role === 'leader');
    if (found === undefined) throw new Error(`gocache-cluster: no shard ${shardId} (shards: ${shardIds.join(', ')})`);
    return found;
  };
  const followers = (shardId: string): GoCacheClusterNode[] => nodes.filter((n) => n.shardId === shardId && n.role === 'follower');

  for (const n of nodes) {
    joinCluster(n.peer, view, n.id);
    if (n.role === 'follower') setReplicationSource(n.peer, node(n.leaderId).peer);
  }
  // V7: a dead leader's followers attach to another shard's leader (in a multi-shard cluster).
  for (const n of nodes) {
    if (n.role !== 'leader') continue;
    onPeerStopped(n.peer, () => {
      const other = nodes.find((o) => o.role === 'leader' && o.shardId !== n.shardId && o.peer.running);
      for (const f of followers(n.shardId)) {
        if (f.peer.replicationSource === n.peer && other !== undefined) setReplicationSource(f.peer, other.peer);
      }
    });
  }

  return {
    nodes,
    shardIds,
    ring,
    node,
    leader,
    followers,
    shardOf: (key) => ring.shardOf(key),
    ownerOf: (key) => {
      const shardId = ring.shardOf(key);
      return shardId === null ? null : leader(shardId);
    },
    keyOn: (shardId, prefix) => ring.keyOn(shardId, prefix),
    kill: (nodeId) => node(nodeId).peer.kill(),
    restart: (nodeId) => node(nodeId).peer.restart(),
    get violations() {
      return nodes.flatMap((n) => n.peer.violations.map((v) => `${n.id} ${v}`));
    },
    takeViolations: () => nodes.flatMap((n) => n.peer.takeViolations().map((v) => `${n.id} ${v}`)),
    close: async () => {
      await Promise.all(nodes.map((n) => n.peer.close()));
    },
  };
}
