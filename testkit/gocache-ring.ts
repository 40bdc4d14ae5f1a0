// GoCache's consistent-hash ring, written for the test kit from shared/gocache-wire.md ("Cluster"):
//   - a position on the ring is the first 4 bytes of SHA-256 of the bytes, read as a big-endian uint32;
//   - each shard has 150 virtual nodes, hashed from the text `<shardId>-<i>` for i from 0 to 149;
//   - a key belongs to the first virtual node at or after its own hash, wrapping around to the lowest;
//   - the empty key is never routed.
// It deliberately imports nothing from src/: the SDK has a ring of its own, and the point of this one is
// to check that one against the document, independently.
import { createHash } from 'node:crypto';

/** Virtual nodes per shard, as GoCache places them. */
export const VIRTUAL_NODES_PER_SHARD = 150;

/** A position on the ring: the first 4 bytes of SHA-256 of `bytes` (a string is hashed as UTF-8), big-endian. */
export function ringHash(bytes: string | Uint8Array): number {
  return createHash('sha256').update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).digest().readUInt32BE(0);
}

export interface VirtualNode {
  /** Position on the ring: `ringHash(`${shardId}-${index}`)`. */
  readonly hash: number;
  readonly shardId: string;
  /** 0..149. */
  readonly index: number;
}

export class GoCacheRing {
  /**
   * Every virtual node, by position. Two virtual nodes at the same position (not seen in practice; the
   * doc does not say which wins) are ordered by shard id, then index: the first of them owns the key.
   */
  readonly points: readonly VirtualNode[];

  constructor(
    readonly shardIds: readonly string[],
    readonly virtualNodes = VIRTUAL_NODES_PER_SHARD,
  ) {
    if (shardIds.length === 0) throw new Error('gocache-ring: at least one shard');
    if (new Set(shardIds).size !== shardIds.length) throw new Error(`gocache-ring: duplicate shard id in ${shardIds.join(', ')}`);
    const points: VirtualNode[] = [];
    for (const shardId of shardIds) {
      for (let index = 0; index < virtualNodes; index++) points.push({ hash: ringHash(`${shardId}-${index}`), shardId, index });
    }
    points.sort((a, b) => a.hash - b.hash || (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : a.index - b.index));
    this.points = points;
  }

  /** The virtual node owning ring position `hash`: the first at or after it, else the lowest (wrap-around). */
  pointFor(hash: number): VirtualNode {
    const points = this.points;
    let lo = 0;
    let hi = points.length; // first index whose hash >= `hash`, or points.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]!.hash < hash) lo = mid + 1;
      else hi = mid;
    }
    return points[lo === points.length ? 0 : lo]!;
  }

  /** The shard owning `key` (its raw bytes; a string as UTF-8), or null for the empty key, which is never routed. */
  shardOf(key: string | Uint8Array): string | null {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (bytes.length === 0) return null;
    return this.pointFor(ringHash(bytes)).shardId;
  }

  /**
   * A key owned by `shardId`: the first of `${prefix}0`, `${prefix}1`, ... that the ring places there.
   * Handy for tests that need a key on a given shard.
   */
  keyOn(shardId: string, prefix = 'key:'): string {
    if (!this.shardIds.includes(shardId)) throw new Error(`gocache-ring: no shard ${shardId} (shards: ${this.shardIds.join(', ')})`);
    for (let i = 0; ; i++) {
      const key = `${prefix}${i}`;
      if (this.shardOf(key) === shardId) return key;
    }
  }
}
