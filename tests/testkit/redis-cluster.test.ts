// The Redis Cluster harness (testkit/redis-cluster.ts) works: one real 6-node cluster for the whole
// file. Replies are checked byte for byte over plain node:net sockets, independent of the harness's
// own RESP code and of the SDK.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, within } from '../../testkit/promises.js';
import {
  REDIS_CLI_NOT_FOUND,
  resolveRedisCliBinary,
  startRedisCluster,
  type ClusterNode,
  type RedisCluster,
} from '../../testkit/redis-cluster.js';

/** Generous bound on one reply or one harness step: it catches hangs, it does not time work. */
const BOUND_MS = 60_000;

/** RESP for one command: an array of bulk strings. */
function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** A bare socket that reads exact byte counts, so replies are compared byte for byte. */
class RawSocket {
  private data = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new RawSocket(socket));
      });
    });
  }

  /** Writes `request` and returns as many bytes as `expected` has (latin1). */
  async exchange(request: string, expected: string): Promise<string> {
    this.socket.write(request);
    const n = Buffer.byteLength(expected, 'latin1');
    await within(
      (async () => {
        while (this.data.length < n && !this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
      })(),
      BOUND_MS,
      `reply to ${JSON.stringify(request)}`,
    );
    const out = this.data.subarray(0, n).toString('latin1');
    this.data = this.data.subarray(n);
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One command on a fresh socket; the reply must be exactly `expected`. */
async function expectReply(node: ClusterNode, args: string[], expected: string): Promise<void> {
  const socket = await RawSocket.connect(node.port);
  try {
    expect(await socket.exchange(resp(...args), expected)).toBe(expected);
  } finally {
    socket.close();
  }
}

const bulk = (value: string): string => `$${Buffer.byteLength(value)}\r\n${value}\r\n`;

/** Connecting to `port` is refused (nothing listens there any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    socket.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** True when `pid` no longer runs: gone, or a zombie nobody reaped. */
function notRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: still not the case after ${BOUND_MS} ms`);
    await sleep(50);
  }
}

/**
 * Starts a 3-node cluster in a child process, SIGKILLs that process once the cluster is up, and
 * reports what it had started: its watchdog must then kill every node and remove the temp dir.
 */
async function orphanedCluster(): Promise<{ root: string; pids: number[]; ports: number[] }> {
  const moduleUrl = new URL('../../testkit/redis-cluster.ts', import.meta.url).href;
  const script = `
    const { startRedisCluster } = await import(${JSON.stringify(moduleUrl)});
    const cluster = await startRedisCluster({ replicasPerPrimary: 0 });
    const nodes = cluster.nodes;
    console.log(JSON.stringify({ root: nodes[0].dir.replace(/\\/node-\\d+$/, ''), pids: nodes.map((n) => n.pid), ports: nodes.map((n) => n.port) }));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await within(
      (async () => {
        while (!out.includes('\n')) {
          if (child.exitCode !== null) throw new Error(`the child exited early: ${err}`);
          await sleep(50);
        }
      })(),
      BOUND_MS,
      'the child starting its cluster',
    );
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return JSON.parse(out) as { root: string; pids: number[]; ports: number[] };
}

let cluster: RedisCluster;
let orphan: Promise<{ root: string; pids: number[]; ports: number[] }>;
let startMs = 0;

beforeAll(async () => {
  // The orphan scenario runs alongside this file's own cluster start, not after it.
  orphan = orphanedCluster();
  orphan.catch(() => {}); // awaited (and failed on) by its own test
  const started = performance.now();
  cluster = await startRedisCluster();
  startMs = performance.now() - started;
}, 2 * BOUND_MS);

afterAll(async () => {
  await cluster?.stop();
}, BOUND_MS);

describe('startRedisCluster', { timeout: 2 * BOUND_MS }, () => {
  it('starts 3 primaries with one replica each, on loopback, serving all 16384 slots', async () => {
    console.log(`6-node cluster started in ${Math.round(startMs)} ms`);
    const nodes = cluster.nodes;
    expect(nodes).toHaveLength(6);
    const primaries = cluster.primaries();
    const replicas = cluster.replicas();
    expect(primaries).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    for (const primary of primaries) {
      expect(cluster.replicasOf(primary)).toHaveLength(1);
      expect(primary.primaryId).toBeUndefined();
      expect(primary.slots.length).toBeGreaterThan(0);
    }
    for (const replica of replicas) {
      expect(cluster.primaryOf(replica).role).toBe('primary');
      expect(replica.slots).toEqual([]);
    }
    expect(new Set(nodes.map((n) => n.id)).size).toBe(6);
    expect(new Set(nodes.flatMap((n) => [n.port, n.busPort])).size).toBe(12);
    for (const node of nodes) {
      expect(node).toMatchObject({ host: '127.0.0.1', address: `127.0.0.1:${node.port}`, busPort: node.port + 10_000, running: true });
      expect(node.id).toMatch(/^[0-9a-f]{40}$/);
      expect(notRunning(node.pid!)).toBe(false);
    }

    // Every slot once: the ranges, sorted, are contiguous from 0 to 16383.
    const ranges = primaries.flatMap((p) => p.slots).sort((a, b) => a[0] - b[0]);
    let next = 0;
    for (const [first, last] of ranges) {
      expect(first).toBe(next);
      next = last + 1;
    }
    expect(next).toBe(16384);
  });

  it('agrees with what the nodes say: CLUSTER INFO, ROLE, CLUSTER SLOTS', async () => {
    for (const node of cluster.nodes) {
      const info = await cluster.command(node, 'CLUSTER', 'INFO');
      expect(info).toEqual(expect.stringContaining('cluster_state:ok'));
      expect(info).toEqual(expect.stringContaining('cluster_slots_assigned:16384'));
      expect(info).toEqual(expect.stringContaining('cluster_known_nodes:6'));
      const role = (await cluster.command(node, 'ROLE')) as unknown[];
      if (node.role === 'primary') expect(role[0]).toBe('master');
      else expect(role.slice(0, 3)).toEqual(['slave', '127.0.0.1', cluster.primaryOf(node).port]);
    }
    // CLUSTER SLOTS from one node names the same primaries for the same ranges.
    const slots = (await cluster.command(cluster.nodes[0]!, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
    const fromServer = slots.map(([first, last, [, port]]) => [first, last, port]).sort((a, b) => a[0]! - b[0]!);
    const fromHarness = cluster.primaries().flatMap((p) => p.slots.map(([first, last]) => [first, last, p.port])).sort((a, b) => a[0]! - b[0]!);
    expect(fromServer).toEqual(fromHarness);
  });

  it('slotOf asks CLUSTER KEYSLOT', async () => {
    expect(await cluster.slotOf('123456789')).toBe(0x31c3);
    expect(await cluster.slotOf('somekey')).toBe(11058);
    expect(await cluster.slotOf(Buffer.from('{user1000}.following'))).toBe(await cluster.slotOf('{user1000}.followers'));
    const slot = await cluster.slotOf('a');
    expect(cluster.ownerOf(slot).slots.some(([first, last]) => slot >= first && slot <= last)).toBe(true);
  });

  it('a slot migration answers ASK while in progress, MOVED once finished', async () => {
    const slot = await cluster.slotOf('{migrating}');
    const source = cluster.ownerOf(slot);
    const target = cluster.primaries().find((p) => p.id !== source.id)!;
    const third = cluster.primaries().find((p) => p.id !== source.id && p.id !== target.id)!;
    await expectReply(source, ['SET', '{migrating}a', 'one'], '+OK\r\n');
    await expectReply(source, ['SET', '{migrating}b', 'two'], '+OK\r\n');

    const migration = await within(cluster.beginSlotMigration(slot, target), BOUND_MS, 'beginSlotMigration');
    expect([migration.slot, migration.source.id, migration.target.id]).toEqual([slot, source.id, target.id]);
    // Keys still on the source are served there; a key it lacks is already asked of the target.
    await expectReply(source, ['GET', '{migrating}a'], bulk('one'));
    await expectReply(source, ['GET', '{migrating}none'], `-ASK ${slot} ${target.address}\r\n`);

    expect(await migration.migrateKeys(['{migrating}a'])).toBe(1);
    await expectReply(source, ['GET', '{migrating}a'], `-ASK ${slot} ${target.address}\r\n`);
    await expectReply(source, ['GET', '{migrating}b'], bulk('two'));
    // The target serves the moved key only after ASKING, on the same connection; otherwise MOVED.
    await expectReply(target, ['GET', '{migrating}a'], `-MOVED ${slot} ${source.address}\r\n`);
    const asking = await RawSocket.connect(target.port);
    try {
      const expected = '+OK\r\n' + bulk('one');
      expect(await asking.exchange(resp('ASKING') + resp('GET', '{migrating}a'), expected)).toBe(expected);
    } finally {
      asking.close();
    }

    await within(migration.finish(), BOUND_MS, 'migration.finish');
    await expectReply(source, ['GET', '{migrating}a'], `-MOVED ${slot} ${target.address}\r\n`);
    await expectReply(third, ['GET', '{migrating}b'], `-MOVED ${slot} ${target.address}\r\n`);
    await expectReply(target, ['GET', '{migrating}a'], bulk('one'));
    await expectReply(target, ['GET', '{migrating}b'], bulk('two'));
    expect(cluster.ownerOf(slot).id).toBe(target.id);
    expect(cluster.node(source).slots.some(([first, last]) => slot >= first && slot <= last)).toBe(false);
  });

  it('failover(replica) promotes the replica; its old primary becomes its replica', async () => {
    const slot = await cluster.slotOf('{failover}');
    const primary = cluster.ownerOf(slot);
    const replica = cluster.replicasOf(primary)[0]!;
    await expectReply(primary, ['SET', '{failover}k', 'v'], '+OK\r\n');

    const promoted = await within(cluster.failover(replica), BOUND_MS, 'failover');
    expect(promoted).toMatchObject({ id: replica.id, role: 'primary', slots: primary.slots });
    expect(cluster.node(primary)).toMatchObject({ role: 'replica', primaryId: replica.id, slots: [] });
    expect(cluster.ownerOf(slot).id).toBe(replica.id);
    await expectReply(replica, ['GET', '{failover}k'], bulk('v'));
    await expectReply(primary, ['GET', '{failover}k'], `-MOVED ${slot} ${replica.address}\r\n`);
    const role = (await cluster.command(primary, 'ROLE')) as unknown[];
    expect(role.slice(0, 3)).toEqual(['slave', '127.0.0.1', replica.port]);
  });

  it('killPrimary: a replica takes over; restartNode: the old primary comes back as its replica', async () => {
    const slot = await cluster.slotOf('{killed}');
    const primary = cluster.ownerOf(slot);
    const replica = cluster.replicasOf(primary)[0]!;
    await expectReply(primary, ['SET', '{killed}k', 'v'], '+OK\r\n');
    // WAIT: the replica has the write before its primary dies.
    await expectReply(primary, ['WAIT', '1', String(BOUND_MS)], ':1\r\n');

    const started = performance.now();
    const promoted = await within(cluster.killPrimary(primary), BOUND_MS, 'killPrimary');
    console.log(`killPrimary (cluster-node-timeout ${cluster.nodeTimeoutMs} ms): replica promoted after ${Math.round(performance.now() - started)} ms`);
    expect(promoted).toMatchObject({ id: replica.id, role: 'primary', slots: primary.slots });
    expect(cluster.node(primary).running).toBe(false);
    expect(notRunning(primary.pid!)).toBe(true);
    expect(await refused(primary.port)).toBe(true);
    expect(cluster.primaries().map((p) => p.id)).not.toContain(primary.id);
    await expectReply(replica, ['GET', '{killed}k'], bulk('v'));

    const back = await within(cluster.restartNode(primary), BOUND_MS, 'restartNode');
    expect(back).toMatchObject({ id: primary.id, port: primary.port, running: true, role: 'replica', primaryId: replica.id });
    expect(back.pid).not.toBe(primary.pid);
    const role = (await cluster.command(back, 'ROLE')) as unknown[];
    expect(role.slice(0, 3)).toEqual(['slave', '127.0.0.1', replica.port]);
    expect(cluster.nodes.filter((n) => n.running)).toHaveLength(6);
  });

  it('leaves nothing behind when the process that started a cluster is SIGKILLed', async () => {
    const { root, pids, ports } = await orphan;
    expect(pids).toHaveLength(3);
    await eventually('the orphaned nodes are killed and their dir removed', async () => {
      if (existsSync(root) || !pids.every(notRunning)) return false;
      for (const port of ports) if (!(await refused(port))) return false;
      return true;
    });
  });

  it('stop() kills every node and removes the temp dir, once and for all', async () => {
    const nodes = cluster.nodes;
    for (const node of nodes) expect(existsSync(node.dir)).toBe(true);
    await within(cluster.stop(), BOUND_MS, 'stop');
    for (const node of nodes) {
      expect(notRunning(node.pid!)).toBe(true);
      expect(await refused(node.port)).toBe(true);
      expect(existsSync(node.dir)).toBe(false);
    }
    await cluster.stop(); // idempotent
  });
});

describe('resolveRedisCliBinary', () => {
  it('finds redis-cli on PATH', () => {
    expect(resolveRedisCliBinary()).toMatch(/redis-cli$/);
  });

  it('fails, never skips, without redis-cli; with CI=true it says CI requires it', () => {
    expect(() => resolveRedisCliBinary({ PATH: '', CI: 'true' })).toThrow(/redis-cli not found.*CI=true.*hard failure, not a skip/);
    expect(() => resolveRedisCliBinary({ PATH: '' })).toThrow(REDIS_CLI_NOT_FOUND);
    expect(() => resolveRedisCliBinary({ PATH: '', REDIS_CLI_BIN: '/nonexistent/redis-cli' })).toThrow(/REDIS_CLI_BIN=\/nonexistent\/redis-cli is not an executable file/);
  });
});
