/**
 * Where keys live in a cluster, and how that knowledge is corrected.
 *
 * - Redis Cluster: 16,384 slots (CRC16 of the key or its {hash tag}), each served by one primary and
 *   its replicas; learned from `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS`, corrected by
 *   `-MOVED <slot> <host:port>`.
 * - GoCache: a consistent-hash ring over shard ids. No command reveals shard ids (CLUSTER NODES lists
 *   nodes and addresses, and every node calls itself `dead`), so the ring comes from the shards given
 *   in the options, with their leaders and followers; `-MOVED <nodeId> <host:port>` corrects which node
 *   serves the shard of the key that moved. Membership commands are never sent (ADDNODE, REMOVENODE and
 *   TOPOLOGY crash a node that is not in cluster mode).
 */
import { GoCacheProtocolError } from '../runtime/errors.js';
import type { RespValue } from '../runtime/resp/parser.js';
import type { CommandArg } from '../runtime/types.js';
import { HashRing } from './ring.js';
import { keySlot, SLOT_COUNT } from './slots.js';

/** `host:port`, the identity of a node. */
export type NodeAddress = string;

export function nodeAddress(host: string, port: number): NodeAddress {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function splitAddress(address: NodeAddress): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) throw new GoCacheProtocolError(`Not a host:port address: ${JSON.stringify(address)}`);
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

/** One shard: the node that takes writes, and the ones that serve reads. */
export interface Shard {
  /** Redis: the slot ranges' primary id when known; GoCache: the shard id. */
  readonly id: string;
  leader: NodeAddress;
  followers: NodeAddress[];
}

/** What a key maps to: the shard, and a label for messages (`slot 1234`, `shard shard2`). */
export interface Placement {
  shard: Shard;
  /** Redis: the slot (keys of a multi-key command must share one); GoCache: -1 (the shard decides). */
  slot: number;
  label: string;
}

export interface Topology {
  readonly kind: 'redis' | 'gocache';
  /** Where a key lives; undefined when nothing is known about it yet (or GoCache's empty key). */
  place(key: CommandArg): Placement | undefined;
  /** The shard of `place`, without building a Placement: routing asks it for every command. */
  shardOf(key: CommandArg): Shard | undefined;
  /** Every shard (for commands sent to every leader). */
  shards(): readonly Shard[];
  /** MOVED: the key (or slot) now lives at `address`. */
  moved(key: CommandArg, target: string, address: NodeAddress): void;
}

const keyBytes = (key: CommandArg): string | Uint8Array => (typeof key === 'number' ? String(key) : key);

// ---------------------------------------------------------------------------------------------------

export class RedisTopology implements Topology {
  readonly kind = 'redis';
  private readonly slots: Array<Shard | undefined> = new Array(SLOT_COUNT).fill(undefined);
  /** The distinct owners of the slots, kept with them: keyless commands ask for it on every call. */
  private owners: Shard[];

  constructor(shards: ReadonlyArray<{ shard: Shard; ranges: ReadonlyArray<readonly [number, number]> }>) {
    for (const { shard, ranges } of shards) for (const [first, last] of ranges) for (let slot = first; slot <= last; slot++) this.slots[slot] = shard;
    this.owners = this.distinctOwners();
  }

  private distinctOwners(): Shard[] {
    return [...new Set(this.slots.filter((s): s is Shard => s !== undefined))];
  }

  place(key: CommandArg): Placement | undefined {
    const slot = keySlot(keyBytes(key));
    const shard = this.slots[slot];
    return shard === undefined ? undefined : { shard, slot, label: `slot ${slot}` };
  }

  shardOf(key: CommandArg): Shard | undefined {
    return this.slots[keySlot(keyBytes(key))];
  }

  shards(): readonly Shard[] {
    return this.owners;
  }

  moved(key: CommandArg, target: string, address: NodeAddress): void {
    const slot = /^\d+$/.test(target) ? Number(target) : keySlot(keyBytes(key));
    const existing = this.owners.find((s) => s.leader === address);
    this.slots[slot] = existing ?? { id: address, leader: address, followers: [] };
    this.owners = this.distinctOwners();
  }

  /** Every slot has an owner: a cluster whose slots are all served. */
  get complete(): boolean {
    return this.slots.every((s) => s !== undefined);
  }
}

/** A RESP2 flat array or a RESP3 map, as a Map with text keys. */
function fields(value: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>();
  if (value instanceof Map) for (const [k, v] of value) out.set(String(k), v);
  else if (Array.isArray(value)) for (let i = 0; i + 1 < value.length; i += 2) out.set(String(value[i]), value[i + 1]!);
  else throw new GoCacheProtocolError(`Expected a map in the cluster topology, got ${typeof value}`);
  return out;
}

/** `CLUSTER SHARDS` (Redis 7): shards with their slot ranges and nodes (role, ip, port, health). */
export function redisTopologyFromShards(reply: RespValue, fallbackHost: string): RedisTopology {
  if (!Array.isArray(reply)) throw new GoCacheProtocolError('CLUSTER SHARDS did not answer an array');
  return new RedisTopology(
    reply.flatMap((entry) => {
      const shard = fields(entry);
      const flat = (shard.get('slots') as RespValue[] | undefined) ?? [];
      const ranges: Array<[number, number]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) ranges.push([Number(flat[i]), Number(flat[i + 1])]);
      const nodes = ((shard.get('nodes') as RespValue[] | undefined) ?? []).map(fields);
      const address = (node: Map<string, RespValue>) => {
        const ip = String(node.get('ip') ?? node.get('endpoint') ?? '');
        return nodeAddress(ip === '' || ip === '?' ? fallbackHost : ip, Number(node.get('port') ?? node.get('tls-port')));
      };
      const primary = nodes.find((n) => String(n.get('role')) === 'master' && String(n.get('health') ?? 'online') !== 'fail');
      if (primary === undefined || ranges.length === 0) return [];
      // Redis 7 reports a replica with replication offset 0 as 'loading' (every replica of an empty
      // cluster): it is listed; a read it refuses with -LOADING falls back to the leader.
      const followers = nodes.filter((n) => n !== primary && String(n.get('health') ?? 'online') !== 'fail').map(address);
      return [{ shard: { id: String(primary.get('id')), leader: address(primary), followers }, ranges }];
    }),
  );
}

/** `CLUSTER SLOTS` (before Redis 7): [first, last, [ip, port, id], replicas...] per range. */
export function redisTopologyFromSlots(reply: RespValue, fallbackHost: string): RedisTopology {
  if (!Array.isArray(reply)) throw new GoCacheProtocolError('CLUSTER SLOTS did not answer an array');
  const byLeader = new Map<NodeAddress, { shard: Shard; ranges: Array<[number, number]> }>();
  for (const entry of reply) {
    if (!Array.isArray(entry) || entry.length < 3) continue;
    const node = (value: RespValue) => {
      const [ip, port] = value as RespValue[];
      return nodeAddress(String(ip ?? '') === '' ? fallbackHost : String(ip), Number(port));
    };
    const leader = node(entry[2]!);
    const existing = byLeader.get(leader) ?? { shard: { id: String((entry[2] as RespValue[])[2] ?? leader), leader, followers: entry.slice(3).map(node) }, ranges: [] };
    existing.ranges.push([Number(entry[0]), Number(entry[1])]);
    byLeader.set(leader, existing);
  }
  return new RedisTopology([...byLeader.values()]);
}

// ---------------------------------------------------------------------------------------------------

/** A GoCache shard as the options give it. */
export interface GoCacheShardOptions {
  /** The shard id of the nodes' config (`shard1`): it names the ring's virtual nodes. */
  id: string;
  /** `host:port` of the shard's leader. */
  leader: string;
  /** `host:port` of its followers (they serve reads of this shard). */
  followers?: readonly string[];
}

export class GoCacheTopology implements Topology {
  readonly kind = 'gocache';
  private readonly ring: HashRing;
  private readonly byId = new Map<string, Shard>();

  constructor(shards: readonly GoCacheShardOptions[]) {
    for (const shard of shards) {
      const { host, port } = splitAddress(shard.leader);
      this.byId.set(shard.id, { id: shard.id, leader: nodeAddress(host, port), followers: (shard.followers ?? []).map((f) => nodeAddress(splitAddress(f).host, splitAddress(f).port)) });
    }
    this.ring = new HashRing(shards.map((s) => s.id));
  }

  place(key: CommandArg): Placement | undefined {
    const id = this.ring.ownerOf(keyBytes(key));
    if (id === undefined) return undefined;
    return { shard: this.byId.get(id)!, slot: -1, label: `shard ${id}` };
  }

  shardOf(key: CommandArg): Shard | undefined {
    const id = this.ring.ownerOf(keyBytes(key));
    return id === undefined ? undefined : this.byId.get(id);
  }

  shards(): readonly Shard[] {
    return [...this.byId.values()];
  }

  /** GoCache's MOVED names the node that serves the key's shard now: that shard's leader becomes it. */
  moved(key: CommandArg, _nodeId: string, address: NodeAddress): void {
    const placement = this.place(key);
    if (placement === undefined) return;
    if (placement.shard.leader !== address) {
      placement.shard.followers = placement.shard.followers.filter((f) => f !== address);
      placement.shard.leader = address;
    }
  }
}

/** A MOVED or ASK redirection: `MOVED 3999 127.0.0.1:6381` (Redis) or `MOVED node2 127.0.0.1:17002` (GoCache). */
export interface Redirect {
  kind: 'MOVED' | 'ASK';
  /** The slot (Redis) or node id (GoCache). */
  target: string;
  address: NodeAddress;
}

export function parseRedirect(message: string): Redirect | undefined {
  const match = /^(MOVED|ASK) (\S+) (\S+)$/.exec(message);
  if (match === null) return undefined;
  const { host, port } = splitAddress(match[3]!);
  return { kind: match[1] as 'MOVED' | 'ASK', target: match[2]!, address: nodeAddress(host, port) };
}
