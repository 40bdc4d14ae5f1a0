/**
 * GoCache's consistent-hash ring: which shard owns a key in a GoCache cluster (GoCache does not use
 * Redis's 16,384 slots; see ../../../shared/gocache-wire.md, "Cluster").
 *
 * - A key's hash is the first 4 bytes of SHA-256 of the key's bytes, read as a big-endian uint32
 *   (string keys as UTF-8, Buffers and other Uint8Arrays as they are).
 * - Each shard has 150 virtual nodes, at the hashes of the strings `<shardId>-<i>` for i = 0..149.
 * - A key belongs to the shard of the first virtual node whose hash is at or after the key's hash;
 *   past the last virtual node it wraps around to the first.
 * - The empty key is never routed by GoCache: `ownerOf('')` returns undefined (the caller sends such
 *   a command to any node, which serves it itself).
 *
 * Ties: when virtual nodes of different shards have the same hash, the shard listed LAST in the ids
 * given to the constructor owns that point. That is what GoCache's server does when its shards are
 * listed in the same order: it adds shards one after another into a map from hash to shard, so a
 * later shard overwrites a shared position. (Any two of a 3-shard ring's 450 hashes collide with a
 * probability of about 2.4e-5; the rule only has to be deterministic and match the server.)
 *
 * Runtime code: imports only node: built-ins.
 */
import * as crypto from 'node:crypto';

/** Virtual nodes per shard, as GoCache's server builds its ring. */
export const VIRTUAL_NODES_PER_SHARD = 150;

// crypto.hash (one-shot, Node >= 20.12) is several times faster than createHash for short inputs;
// its hex form is faster still than its Buffer form (no Buffer allocation), and the first 8 hex
// digits are the first 4 bytes, big-endian.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** The ring position of a key: the first 4 bytes of SHA-256 of its bytes, as a big-endian uint32. */
export function ringHash(key: string | Uint8Array): number {
  const hex = oneShotHash !== undefined ? oneShotHash('sha256', key, 'hex') : crypto.createHash('sha256').update(key).digest('hex');
  return Number.parseInt(hex.slice(0, 8), 16);
}

/** A GoCache hash ring over a fixed set of shard ids. Immutable; build a new one when shards change. */
export class HashRing {
  /** The shard ids, in the order given (which decides ties; see the file header). */
  readonly shardIds: readonly string[];
  /** Virtual node hashes, ascending, one entry per distinct hash. */
  private readonly points: Uint32Array;
  /** `owners[i]` is the index in shardIds of the shard that owns `points[i]`. */
  private readonly owners: Uint32Array;

  /** Throws RangeError for no shard ids, an empty shard id or a duplicate one. */
  constructor(shardIds: Iterable<string>) {
    const ids = [...shardIds];
    if (ids.length === 0) throw new RangeError('HashRing: at least one shard id is needed');
    const seen = new Set<string>();
    for (const id of ids) {
      if (typeof id !== 'string' || id === '') throw new RangeError(`HashRing: a shard id must be a non-empty string, got ${JSON.stringify(id)}`);
      if (seen.has(id)) throw new RangeError(`HashRing: duplicate shard id ${JSON.stringify(id)}`);
      seen.add(id);
    }
    this.shardIds = Object.freeze(ids);

    // Sorted by hash, then by shard index, so that the last of a run of equal hashes is the shard
    // listed last: it takes the point (the tie rule in the file header).
    const nodes: Array<[hash: number, shard: number]> = [];
    for (let shard = 0; shard < ids.length; shard++) {
      for (let i = 0; i < VIRTUAL_NODES_PER_SHARD; i++) nodes.push([ringHash(`${ids[shard]}-${i}`), shard]);
    }
    nodes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

    const points: number[] = [];
    const owners: number[] = [];
    for (const [hash, shard] of nodes) {
      if (points.length > 0 && points[points.length - 1] === hash) owners[owners.length - 1] = shard;
      else {
        points.push(hash);
        owners.push(shard);
      }
    }
    this.points = Uint32Array.from(points);
    this.owners = Uint32Array.from(owners);
  }

  /** The shard that owns `key`; undefined for the empty key, which GoCache never routes. */
  ownerOf(key: string | Uint8Array): string | undefined {
    if (key.length === 0) return undefined;
    return this.ownerOfHash(ringHash(key));
  }

  /**
   * The shard that owns ring position `hash` (a uint32, as ringHash returns): the first virtual node
   * at or after it, wrapping around. For callers that already hold a key's hash, and for tests that
   * need exact arc boundaries.
   */
  ownerOfHash(hash: number): string {
    const points = this.points;
    // Binary search for the first point >= hash; `points.length` when there is none (wrap around).
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    return this.shardIds[this.owners[low === points.length ? 0 : low]!]!;
  }

  /** The virtual nodes as [hash, shardId] pairs, ascending by hash, one per distinct hash. */
  virtualNodes(): Array<[hash: number, shardId: string]> {
    return Array.from(this.points, (hash, i) => [hash, this.shardIds[this.owners[i]!]!]);
  }
}
