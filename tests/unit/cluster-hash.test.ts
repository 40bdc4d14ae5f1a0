// Key placement for clusters: Redis Cluster slots (src/cluster/slots.ts) and GoCache's hash ring
// (src/cluster/ring.ts). Slots are checked against known vectors and against a live redis-server's
// CLUSTER KEYSLOT; the ring against a model computed here from node:crypto, independently of ring.ts.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashRing, ringHash, VIRTUAL_NODES_PER_SHARD } from '../../src/cluster/ring.js';
import { crc16, keySlot, SLOT_COUNT } from '../../src/cluster/slots.js';
import { within } from '../../testkit/promises.js';
import { RespConnection } from '../../testkit/redis-cluster.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';

/** mulberry32: a small seeded PRNG, so every run draws the same keys. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Random keys of every kind: ASCII, non-ASCII (2-, 3-, 4-byte UTF-8, lone surrogates), binary; many with braces. */
function randomKeys(seed: number, count: number): Array<string | Buffer> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const ascii = 'abcxyz019:_-. {}{}{}';
  const unicode = ['é', 'ß', 'Ж', '中', '€', '😀', '𝄞', '\ud800', '\udfff', '{', '}', 'a', 'b', ':'];
  const keys: Array<string | Buffer> = [];
  for (let i = 0; i < count; i++) {
    const length = Math.floor(random() * 24);
    const kind = i % 3;
    if (kind === 2) {
      const bytes = Buffer.alloc(length);
      for (let j = 0; j < length; j++) bytes[j] = random() < 0.25 ? pick([0x7b, 0x7d]) : Math.floor(random() * 256);
      keys.push(bytes);
    } else {
      let key = '';
      for (let j = 0; j < length; j++) key += kind === 0 ? pick([...ascii]) : pick(unicode);
      keys.push(key);
    }
  }
  return keys;
}

const describeKey = (key: string | Buffer): string => (typeof key === 'string' ? JSON.stringify(key) : `<Buffer ${key.toString('hex')}>`);

describe('keySlot', () => {
  it('CRC16 is the XMODEM variant: crc16("123456789") is 0x31C3', () => {
    expect(crc16('123456789')).toBe(0x31c3);
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(crc16(new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]))).toBe(0x31c3);
    expect(crc16('')).toBe(0);
    expect(SLOT_COUNT).toBe(16384);
  });

  it.each([
    // [key, the bytes Redis hashes for it]
    ['{user1000}.following', 'user1000'],
    ['{user1000}.followers', 'user1000'],
    ['foo{}{bar}', 'foo{}{bar}'], // the first tag is empty: the whole key
    ['foo{{bar}}zap', '{bar'], // from the first { to the first } after it
    ['foo{bar}{zap}', 'bar'], // only the first tag
    ['{}', '{}'],
    ['{', '{'],
    ['}{', '}{'],
    ['a}b{c', 'a}b{c'], // no } after the first {
    ['x{y}', 'y'],
    ['{é}ü', 'é'],
    ['', ''],
  ])('%j hashes %j', (key, hashed) => {
    const expected = crc16(hashed) % 16384;
    expect(keySlot(key)).toBe(expected);
    expect(keySlot(Buffer.from(key))).toBe(expected);
  });

  it('matches the slots in Redis documentation', () => {
    expect(keySlot('somekey')).toBe(11058);
    expect(keySlot('foo{hash_tag}')).toBe(2515);
    expect(keySlot('bar{hash_tag}')).toBe(2515);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
  });

  it('hashes a string as its UTF-8 bytes (a lone surrogate as U+FFFD), straight from the string', () => {
    for (const key of randomKeys(7, 3000)) {
      if (typeof key !== 'string') continue;
      expect(keySlot(key), describeKey(key)).toBe(keySlot(Buffer.from(key, 'utf8')));
    }
    expect(keySlot('\ud800')).toBe(keySlot(Buffer.from([0xef, 0xbf, 0xbd])));
    expect(keySlot('😀')).toBe(keySlot(Buffer.from([0xf0, 0x9f, 0x98, 0x80])));
  });

  describe('against a live CLUSTER KEYSLOT', () => {
    let server: RedisServerHandle;
    let connection: RespConnection;
    beforeAll(async () => {
      // CLUSTER KEYSLOT needs cluster mode, not assigned slots (which would add Redis's 2 s delay).
      server = await startRedisServer({ cluster: true, clusterAssignSlots: false });
      connection = await RespConnection.connect(server.host, server.port);
    });
    afterAll(async () => {
      connection?.close();
      await server?.stop();
    });

    it('agrees on 500 random keys (seeded): ASCII, non-ASCII, binary, with braces', async () => {
      const keys = [...randomKeys(500, 497), 'somekey', 'foo{{bar}}zap', Buffer.from([0x7b, 0xff, 0x7d])];
      expect(keys).toHaveLength(500);
      const withBraces = keys.filter((k) => (typeof k === 'string' ? /{.+}/s.test(k) : k.includes(0x7b) && k.includes(0x7d)));
      expect(withBraces.length).toBeGreaterThan(100);
      const replies = await within(Promise.all(keys.map((key) => connection.send(['CLUSTER', 'KEYSLOT', key]))), 60_000, 'CLUSTER KEYSLOT replies');
      const mismatches = keys
        .map((key, i) => ({ key: describeKey(key), redis: replies[i], ours: keySlot(key) }))
        .filter(({ redis, ours }) => redis !== ours);
      expect(mismatches).toEqual([]);
    });
  });
});

// --- The ring --------------------------------------------------------------------------------------

/** The first 4 bytes of SHA-256, big-endian: computed here with createHash and readUInt32BE. */
function sha32(data: string | Uint8Array): number {
  return createHash('sha256').update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).digest().readUInt32BE(0);
}

interface ModelPoint {
  hash: number;
  shard: string;
}

/** The ring as gocache-wire.md states it, by brute force: a later shard wins a shared hash. */
function modelRing(shardIds: readonly string[]): { points: ModelPoint[]; owner: (hash: number) => string } {
  const byHash = new Map<number, string>();
  for (const shard of shardIds) {
    for (let i = 0; i < 150; i++) byHash.set(sha32(`${shard}-${i}`), shard);
  }
  const points = [...byHash].map(([hash, shard]) => ({ hash, shard })).sort((a, b) => a.hash - b.hash);
  const owner = (hash: number): string => {
    let best: ModelPoint | undefined;
    for (const point of points) if (point.hash >= hash && (best === undefined || point.hash < best.hash)) best = point;
    return (best ?? points[0]!).shard;
  };
  return { points, owner };
}

describe('HashRing', () => {
  const shards = ['shard1', 'shard2', 'shard3'];
  const ring = new HashRing(shards);
  const model = modelRing(shards);

  it('hashes keys to the first 4 bytes of their SHA-256, big-endian', () => {
    // FIPS 180-2 vectors: SHA-256("") = e3b0c442..., SHA-256("abc") = ba7816bf...
    expect(sha32('')).toBe(0xe3b0c442);
    expect(sha32('abc')).toBe(0xba7816bf);
    expect(ringHash('')).toBe(0xe3b0c442);
    expect(ringHash('abc')).toBe(0xba7816bf);
    expect(ringHash(Buffer.from('abc'))).toBe(0xba7816bf);
    for (const key of randomKeys(11, 300)) expect(ringHash(key), describeKey(key)).toBe(sha32(key));
  });

  it('has 150 virtual nodes per shard, at the hashes of "<shardId>-<i>"', () => {
    expect(VIRTUAL_NODES_PER_SHARD).toBe(150);
    expect(model.points).toHaveLength(450); // no two of these 450 hashes collide
    expect(ring.virtualNodes()).toEqual(model.points.map((p) => [p.hash, p.shard]));
    expect(ring.shardIds).toEqual(shards);
  });

  it('places keys as the model does: 3000 random keys (seeded), ASCII, non-ASCII and binary', () => {
    const owners = new Map<string, number>();
    for (const key of randomKeys(42, 3000)) {
      if (key.length === 0) continue;
      const expected = model.owner(sha32(key));
      expect(ring.ownerOf(key), describeKey(key)).toBe(expected);
      owners.set(expected, (owners.get(expected) ?? 0) + 1);
    }
    expect([...owners.keys()].sort()).toEqual(shards); // every shard got keys
  });

  it('routes no empty key', () => {
    expect(ring.ownerOf('')).toBeUndefined();
    expect(ring.ownerOf(Buffer.alloc(0))).toBeUndefined();
    expect(ring.ownerOf(new Uint8Array(0))).toBeUndefined();
  });

  it('owns every arc boundary: at a virtual node, one above, one below', () => {
    const { points } = model;
    for (const [i, point] of points.entries()) {
      // A hash equal to a virtual node's belongs to it; one below still does (when free).
      expect(ring.ownerOfHash(point.hash)).toBe(point.shard);
      if (i === 0 || points[i - 1]!.hash < point.hash - 1) expect(ring.ownerOfHash(point.hash - 1)).toBe(point.shard);
      // One above belongs to the next virtual node, or past the last, wraps around to the first.
      const next = points[i + 1] ?? points[0]!;
      if (point.hash < 0xffffffff) expect(ring.ownerOfHash(point.hash + 1)).toBe(next.shard);
    }
  });

  it('wraps around past the last virtual node, and from 0', () => {
    // Node ids as in gocache-wire.md's verified cluster; unlike shard1..3, the first and the last
    // virtual node belong to different shards, so a wrong wrap cannot pass unseen.
    const ring = new HashRing(['node1', 'node2', 'node3']);
    const model = modelRing(['node1', 'node2', 'node3']);
    const first = model.points[0]!;
    const last = model.points[model.points.length - 1]!;
    expect(first.shard).not.toBe(last.shard);
    expect(ring.ownerOfHash(last.hash)).toBe(last.shard);
    expect(ring.ownerOfHash(last.hash + 1)).toBe(first.shard);
    expect(ring.ownerOfHash(0xffffffff)).toBe(first.shard);
    expect(ring.ownerOfHash(0)).toBe(first.shard);

    // Real keys found by search: past the last virtual node, and at or before the first.
    const random = seededRandom(3);
    const found: { past?: string; before?: string } = {};
    for (let n = 0; n < 1_000_000 && (found.past === undefined || found.before === undefined); n++) {
      const key = `wrap:${Math.floor(random() * 2 ** 32)}`;
      const hash = sha32(key);
      if (hash > last.hash) found.past ??= key;
      else if (hash <= first.hash) found.before ??= key;
    }
    expect(ring.ownerOf(found.past!)).toBe(first.shard);
    expect(ring.ownerOf(found.before!)).toBe(first.shard);
  });

  it('gives a hash shared by two shards to the one listed last', () => {
    // Search a fixed sequence of shard ids for two with a shared virtual node hash (a birthday
    // collision: expected within about 80,000 hashes).
    const seen = new Map<number, string>();
    let pair: [string, string, number] | undefined;
    for (let n = 0; pair === undefined && n < 100_000; n++) {
      const shard = `s${n}`;
      for (let i = 0; i < 150 && pair === undefined; i++) {
        const hash = sha32(`${shard}-${i}`);
        const other = seen.get(hash);
        if (other !== undefined && other !== shard) pair = [other, shard, hash];
        else seen.set(hash, shard);
      }
    }
    expect(pair).toBeDefined();
    const [a, b, shared] = pair!;
    const ab = new HashRing([a, b]);
    const ba = new HashRing([b, a]);
    expect(ab.ownerOfHash(shared)).toBe(b);
    expect(ba.ownerOfHash(shared)).toBe(a);
    expect(ab.virtualNodes()).toHaveLength(299);
    expect(ab.virtualNodes().filter(([hash]) => hash === shared)).toEqual([[shared, b]]);
    // With a third shard listed in between, order still decides, not the names.
    expect(new HashRing([a, 'shard1', b]).ownerOfHash(shared)).toBe(b);
    expect(new HashRing([b, 'shard1', a]).ownerOfHash(shared)).toBe(a);
    for (const ids of [[a, b], [b, a]]) {
      const m = modelRing(ids);
      const r = new HashRing(ids);
      for (const point of m.points) expect(r.ownerOfHash(point.hash)).toBe(m.owner(point.hash));
    }
  });

  it('refuses no shards, an empty shard id and a duplicate', () => {
    expect(() => new HashRing([])).toThrow(RangeError);
    expect(() => new HashRing(['a', ''])).toThrow(/non-empty string/);
    expect(() => new HashRing(['a', 'b', 'a'])).toThrow(/duplicate shard id "a"/);
    expect(new HashRing(new Set(['only'])).ownerOf('k')).toBe('only');
  });
});
