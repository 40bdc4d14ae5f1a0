// Starts and drives a REAL local Redis Cluster for tests and benchmarks.
//
// `startRedisCluster()` runs N primaries with R replicas each (default 3 and 1: six redis-server
// processes) with `cluster-enabled yes` on free loopback ports (port and bus port = port + 10000 both
// free), joins them with `redis-cli --cluster create ... --cluster-replicas R --cluster-yes`, and
// resolves once every node reports cluster_state:ok, every node sees every other one connected,
// all running nodes agree on the slot map and on who replicates whom, and every replica's link to its
// primary is up. That takes a little over 2 s on the 2-core development machine, and cannot take
// much less: Redis 7.0 keeps a primary's cluster_state at fail for 2 s after it starts
// (CLUSTER_WRITABLE_DELAY), and redis-cli pauses a fixed second before checking the join; spawning
// the six processes takes about 0.1 to 0.25 s.
//
//   import { startRedisCluster } from '../../testkit/redis-cluster.js';
//
//   const cluster = await startRedisCluster();                  // { primaries: 3, replicasPerPrimary: 1 }
//   cluster.nodes;                                              // [{ id, host, port, address, role, primaryId, slots, running, pid, dir }, ...]
//   const slot = await cluster.slotOf('user:{42}');             // CLUSTER KEYSLOT
//   const owner = cluster.ownerOf(slot);                        // the primary serving it
//   await cluster.command(owner, 'SET', 'user:{42}', 'x');      // raw RESP: 'OK', or { error: 'MOVED 8000 127.0.0.1:40001' }
//
//   const target = cluster.primaries().find((p) => p.id !== owner.id)!;
//   const migration = await cluster.beginSlotMigration(slot, target); // IMPORTING on target, MIGRATING on owner
//   await migration.migrateKeys(['user:{42}']);                 // MIGRATE: GET on the owner now answers -ASK
//   await migration.finish();                                   // the rest of the keys, SETSLOT NODE everywhere: -MOVED
//   await cluster.failover(cluster.replicasOf(target)[0]!);     // CLUSTER FAILOVER on a replica; waits for the swap
//   const promoted = await cluster.killPrimary(target);         // SIGKILL; waits until its replica took over
//   await cluster.restartNode(target);                          // same port, id and nodes.conf; rejoins as a replica
//   await cluster.stop();                                       // or `await using cluster = await startRedisCluster()`
//
// API (every wait polls and is bounded by `timeoutMs`, a generous bound on hangs, never a sleep):
//   startRedisCluster(options?: StartRedisClusterOptions): Promise<RedisCluster>
//     options: primaries (3, at least 3), replicasPerPrimary (1), nodeTimeoutMs (cluster-node-timeout,
//     1000), args (extra redis-server config for every node), timeoutMs (60 000 per wait)
//   cluster.nodes: readonly ClusterNode[]       the last agreed topology, by ascending port
//   cluster.primaries() / replicas() / replicasOf(ref) / primaryOf(ref) / node(ref) / ownerOf(slot)
//     (running nodes only for primaries/replicas/replicasOf/ownerOf; a ref is a ClusterNode, a node
//     id, an 'host:port' address or a port)
//   cluster.command(ref, ...args): Promise<RawReply>    one command on a fresh connection
//   cluster.connect(ref): Promise<RespConnection>       a raw pipelined connection (ASKING + GET ...)
//   cluster.slotOf(key: string | Uint8Array): Promise<number>
//   cluster.waitForAgreement(): Promise<readonly ClusterNode[]>
//   cluster.beginSlotMigration(slot, to): Promise<SlotMigration>  { slot, source, target, migrateKeys(keys?), finish() }
//   cluster.moveSlot(slot, to): Promise<void>           begin + finish
//   cluster.failover(replica, mode?: 'default' | 'force' | 'takeover'): Promise<ClusterNode>
//   cluster.killNode(ref): Promise<void>                SIGKILL, waits for the exit only
//   cluster.killPrimary(ref): Promise<ClusterNode>      SIGKILL, waits until a replica is promoted; returns it
//   cluster.restartNode(ref): Promise<ClusterNode>      same port, dir and node id; waits for agreement
//   cluster.stop(): Promise<void>                       idempotent; also [Symbol.asyncDispose]
//   resolveRedisCliBinary(env?): string                 REDIS_CLI_BIN, else redis-cli on PATH
//   RespConnection.connect(host, port): raw RESP over node:net, for tests that must not use the SDK
//
// Nothing is left behind: stop() SIGKILLs every node (the data is throwaway) and removes the temp
// dir; a process 'exit' hook does the same for clusters never stopped; and one `sh` watchdog per
// cluster, blocked reading a pipe from this process, kills the nodes (by their pid files) and removes
// the dir when this process dies any other way (SIGKILL, a killed vitest worker), since the pipe then
// closes. A missing redis-server or redis-cli is an error, never a skip; with CI=true it says that
// CI requires them.
//
// Node config, chosen so that failures are quick and the topology only changes when a test asks:
// cluster-node-timeout 1000 ms (a SIGKILLed primary's replica takes over within about 2 to 3 s here),
// cluster-replica-validity-factor 0 (a replica may always take over), cluster-allow-replica-migration
// no, repl-diskless-sync-delay 0 (Redis 7.0 waits 5 s before a diskless full sync by default),
// no persistence (a restarted node comes back empty and re-syncs from its primary).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findFreePort, resolveRedisServerBinary, type RawReply } from './redis-server.js';

export type { RawReply };

/** A reply with bulk strings kept as bytes (RespConnection.sendForBuffers). */
export type BinaryReply = string | number | null | Buffer | BinaryReply[] | { error: string };

/** One word of a command; numbers go out as their decimal text, strings as UTF-8. */
export type RespArg = string | Uint8Array | number;

export type NodeRole = 'primary' | 'replica';

/** An inclusive range of slots, [first, last]. */
export type SlotRange = readonly [first: number, last: number];

/** A node as the whole cluster last agreed on it (a snapshot: read `cluster.nodes` again after a change). */
export interface ClusterNode {
  /** The 40-character node id (kept across restarts). */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** The cluster bus port, port + 10000. */
  readonly busPort: number;
  /** `host:port`, as MOVED and ASK name it. */
  readonly address: string;
  readonly role: NodeRole;
  /** The id of the primary a replica replicates; undefined for a primary. */
  readonly primaryId: string | undefined;
  /** The slots a primary serves, ascending; empty for a replica. */
  readonly slots: readonly SlotRange[];
  /** False after killNode/killPrimary, until restartNode. */
  readonly running: boolean;
  /** The redis-server process id while running. */
  readonly pid: number | undefined;
  /** The node's temp dir (redis.log, nodes.conf), removed by stop(). */
  readonly dir: string;
}

/** A node: a ClusterNode, a node id, an address (`127.0.0.1:30001`) or a port. */
export type NodeRef = ClusterNode | string | number;

export interface StartRedisClusterOptions {
  /** Primaries (default 3; redis-cli --cluster create needs at least 3). */
  primaries?: number;
  /** Replicas per primary (default 1). */
  replicasPerPrimary?: number;
  /** cluster-node-timeout in ms (default 1000): how soon a dead node is noticed and replaced. */
  nodeTimeoutMs?: number;
  /** Extra redis-server config for every node, after the harness's (so it can override them). */
  args?: string[];
  /** Bound on each wait (start, agreement, failover, restart), in ms; default 60 000. */
  timeoutMs?: number;
}

export interface SlotMigration {
  readonly slot: number;
  readonly source: ClusterNode;
  readonly target: ClusterNode;
  /**
   * MIGRATEs `keys` (default: every key still in the slot on the source) to the target; returns how
   * many keys moved. Once a key has moved, the source answers -ASK for it.
   */
  migrateKeys(keys?: Array<string | Uint8Array>): Promise<number>;
  /**
   * Moves the keys left, then CLUSTER SETSLOT <slot> NODE <target> on the target, the source and the
   * other primaries, and waits until every node agrees that the target owns the slot.
   */
  finish(): Promise<void>;
}

export interface RedisCluster extends AsyncDisposable {
  /** The last agreed topology, by ascending port (the order redis-cli was given the nodes in). */
  readonly nodes: readonly ClusterNode[];
  readonly nodeTimeoutMs: number;
  /** Running primaries, by port. */
  primaries(): ClusterNode[];
  /** Running replicas, by port. */
  replicas(): ClusterNode[];
  /** Running replicas of a primary. */
  replicasOf(primary: NodeRef): ClusterNode[];
  /** The primary a replica replicates. */
  primaryOf(replica: NodeRef): ClusterNode;
  node(ref: NodeRef): ClusterNode;
  /** The primary that serves `slot`. */
  ownerOf(slot: number): ClusterNode;
  /** Sends one command on a fresh connection and returns the decoded reply (errors as `{ error }`). */
  command(ref: NodeRef, ...args: RespArg[]): Promise<RawReply>;
  /** A raw RESP connection to a node; close() it when done. */
  connect(ref: NodeRef): Promise<RespConnection>;
  /** CLUSTER KEYSLOT of `key`, asked of a running node. */
  slotOf(key: string | Uint8Array): Promise<number>;
  /** Waits until every running node is ok and agrees on the topology; returns it. */
  waitForAgreement(): Promise<readonly ClusterNode[]>;
  /** CLUSTER SETSLOT IMPORTING on `to`, then MIGRATING on the slot's owner; see SlotMigration. */
  beginSlotMigration(slot: number, to: NodeRef): Promise<SlotMigration>;
  /** A whole migration: begin, move every key, finish. */
  moveSlot(slot: number, to: NodeRef): Promise<void>;
  /** CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica; waits until everyone sees it as the primary. */
  failover(replica: NodeRef, mode?: 'default' | 'force' | 'takeover'): Promise<ClusterNode>;
  /** SIGKILLs a node and waits for the process to exit, nothing more. */
  killNode(ref: NodeRef): Promise<void>;
  /** SIGKILLs a primary and waits until one of its replicas serves its slots; returns that replica. */
  killPrimary(ref: NodeRef): Promise<ClusterNode>;
  /** Starts a killed node again (same port, dir and id) and waits until the cluster agrees. */
  restartNode(ref: NodeRef): Promise<ClusterNode>;
  /** Kills every node and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const BUS_PORT_OFFSET = 10_000;
const SLOT_COUNT = 16384;
const POLL_MS = 50;
const DEFAULT_TIMEOUT_MS = 60_000;
const PORT_ATTEMPTS = 5;

export const REDIS_CLI_NOT_FOUND = "redis-cli not found: install it with 'make setup' (apt-get install -y redis-tools, which redis-server pulls in)";

/** `REDIS_CLI_BIN`, else `redis-cli` on PATH; throws an error naming the fix (and CI) when neither exists. */
export function resolveRedisCliBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['REDIS_CLI_BIN'];
  if (explicit !== undefined && explicit !== '') {
    if (isExecutableFile(explicit)) return explicit;
    throw cliNotFound(env, `REDIS_CLI_BIN=${explicit} is not an executable file`);
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && isExecutableFile(join(dir, 'redis-cli'))) return join(dir, 'redis-cli');
  }
  throw cliNotFound(env, 'no redis-cli on PATH and REDIS_CLI_BIN is not set');
}

function cliNotFound(env: NodeJS.ProcessEnv, detail: string): Error {
  const why =
    env['CI'] === 'true'
      ? 'CI=true: cluster tests need a real redis-cli in CI; this is a hard failure, not a skip.'
      : 'Cluster tests are never skipped: run `make setup` (or set REDIS_CLI_BIN).';
  return new Error(`${REDIS_CLI_NOT_FOUND} [${detail}] ${why}`);
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Cleanup when the process exits without stop(): every live cluster's processes and temp dir.

const liveClusters = new Set<ClusterProcesses>();
let exitHookInstalled = false;

interface ClusterProcesses {
  root: string;
  watchdog: ChildProcess | undefined;
  nodes: NodeProcess[];
}

function track(cluster: ClusterProcesses): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveClusters) {
        c.watchdog?.kill('SIGKILL');
        for (const node of c.nodes) node.child?.kill('SIGKILL');
        rmSync(c.root, { recursive: true, force: true });
      }
    });
  }
  liveClusters.add(cluster);
}

/**
 * A shell blocked reading a pipe from this process: when this process dies (however it dies), the
 * pipe closes and the shell kills every node by its pid file and removes the cluster's temp dir.
 */
function startWatchdog(root: string): ChildProcess {
  const script = 'read _ignored; for f in "$1"/*/redis.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; rm -rf "$1"';
  const watchdog = spawn('sh', ['-c', script, 'redis-cluster-watchdog', root], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', () => {}); // no sh: the exit hook still cleans up on a normal exit
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return watchdog;
}

// ---------------------------------------------------------------------------------------------------
// One redis-server process of the cluster; restartable on the same port and dir.

class PortInUseError extends Error {}

class NodeProcess {
  child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  id = '';

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private readonly config: string[],
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get address(): string {
    return `${HOST}:${this.port}`;
  }

  get logFile(): string {
    return join(this.dir, 'redis.log');
  }

  get pidFile(): string {
    return join(this.dir, 'redis.pid');
  }

  /** The last lines of the node's log, for error messages. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Spawns redis-server and waits until it answers INFO with its own pid (not another server's). */
  async start(deadline: number): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--dir', this.dir,
      '--daemonize', 'no',
      '--protected-mode', 'no',
      '--logfile', this.logFile,
      '--pidfile', this.pidFile,
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(this.dir, 'nodes.conf'),
      ...this.config,
    ];
    const child = spawn(this.bin, args, { stdio: 'ignore' });
    child.unref(); // a forgotten stop() must not keep the test process alive: the exit hook cleans up
    let exited = false;
    let spawnError: Error | undefined;
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        exited = true;
        resolve();
      });
      child.once('exit', () => {
        exited = true;
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    this.child = child;

    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      if (exited) {
        this.child = undefined;
        if (spawnError) throw new Error(`redis-server: cannot run ${this.bin}: ${spawnError.message}`);
        const log = this.logTail();
        if (/address already in use/i.test(log)) throw new PortInUseError(`port ${this.port} or ${this.port + BUS_PORT_OFFSET} is in use`);
        throw new Error(`redis-server on port ${this.port} exited during startup:\n${log}`);
      }
      try {
        const info = await command(this.port, ['INFO', 'server'], Math.max(1, deadline - Date.now()));
        const pid = typeof info === 'string' ? /^process_id:(\d+)/m.exec(info)?.[1] : undefined;
        if (pid !== undefined && Number(pid) === child.pid) return;
        if (pid !== undefined) {
          await this.kill();
          throw new PortInUseError(`port ${this.port} is served by another process (pid ${pid})`);
        }
        lastProblem = `INFO answered ${JSON.stringify(info).slice(0, 200)}`;
      } catch (err) {
        if (err instanceof PortInUseError) throw err;
        lastProblem = (err as Error).message;
      }
      await sleep(POLL_MS);
    }
    await this.kill();
    throw new Error(`redis-server on port ${this.port} did not answer within the bound (${lastProblem}):\n${this.logTail()}`);
  }

  /** SIGKILL and wait for the exit; the pid file goes too, so the watchdog never kills a reused pid. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child !== undefined) {
      child.ref(); // unref()ed since spawn: without this, awaiting its exit would not keep Node alive
      child.kill('SIGKILL');
      await this.exited;
      this.child = undefined;
    }
    await rm(this.pidFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// What one node says about the cluster (CLUSTER INFO, CLUSTER NODES, INFO replication).

interface NodeLine {
  id: string;
  port: number;
  flags: string[];
  primaryId: string | undefined;
  linkState: string;
  slots: SlotRange[];
}

interface NodeView {
  port: number;
  stateOk: boolean;
  linkUp: boolean;
  lines: NodeLine[];
  self: NodeLine | undefined;
}

function parseClusterNodes(text: string): NodeLine[] {
  const lines: NodeLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [id = '', address = '', flags = '', primary = '-', , , , linkState = '', ...slotFields] = line.trim().split(' ');
    const hostPort = address.split('@')[0] ?? '';
    const slots: SlotRange[] = [];
    for (const field of slotFields) {
      if (field.startsWith('[')) continue; // [slot->-id] / [slot-<-id]: an open migration, on the node's own line
      const [first, last = first] = field.split('-');
      slots.push([Number(first), Number(last)]);
    }
    lines.push({
      id,
      port: Number(hostPort.slice(hostPort.lastIndexOf(':') + 1)),
      flags: flags.split(','),
      primaryId: primary === '-' ? undefined : primary,
      linkState,
      slots,
    });
  }
  return lines;
}

async function readView(port: number, timeoutMs: number): Promise<NodeView> {
  const connection = await RespConnection.connect(HOST, port, timeoutMs);
  try {
    const [info, nodes, replication] = await Promise.all([
      connection.send(['CLUSTER', 'INFO'], timeoutMs),
      connection.send(['CLUSTER', 'NODES'], timeoutMs),
      connection.send(['INFO', 'replication'], timeoutMs),
    ]);
    if (typeof info !== 'string' || typeof nodes !== 'string' || typeof replication !== 'string') {
      throw new Error(`node ${port}: unexpected replies ${JSON.stringify([info, nodes, replication]).slice(0, 300)}`);
    }
    const lines = parseClusterNodes(nodes);
    return {
      port,
      stateOk: /^cluster_state:ok\r?$/m.test(info),
      linkUp: !/^role:slave\r?$/m.test(replication) || /^master_link_status:up\r?$/m.test(replication),
      lines,
      self: lines.find((l) => l.flags.includes('myself')),
    };
  } finally {
    connection.close();
  }
}

/** Ranges from a set of slots: ascending, adjacent slots merged. */
function mergeRanges(ranges: SlotRange[]): SlotRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [first, last] of sorted) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else merged.push([first, last]);
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------------

export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const replicasPerPrimary = options.replicasPerPrimary ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(primaries) || primaries < 3) throw new RangeError(`startRedisCluster: primaries must be an integer >= 3 (redis-cli --cluster create needs 3), got ${primaries}`);
  if (!Number.isInteger(replicasPerPrimary) || replicasPerPrimary < 0) throw new RangeError(`startRedisCluster: replicasPerPrimary must be an integer >= 0, got ${replicasPerPrimary}`);

  const serverBin = resolveRedisServerBinary();
  const cliBin = resolveRedisCliBinary();
  const config = [
    '--cluster-node-timeout', String(nodeTimeoutMs),
    '--cluster-replica-validity-factor', '0',
    '--cluster-allow-replica-migration', 'no',
    '--repl-diskless-sync-delay', '0',
    '--loglevel', 'notice',
    ...(options.args ?? []),
  ];

  const root = await mkdtemp(join(tmpdir(), 'gocache-redis-cluster-'));
  const processes: ClusterProcesses = { root, watchdog: startWatchdog(root), nodes: [] };
  track(processes);
  const cluster = new LocalRedisCluster(processes, nodeTimeoutMs, timeoutMs);
  try {
    const deadline = Date.now() + timeoutMs;
    const count = primaries * (1 + replicasPerPrimary);
    const taken = new Set<number>();
    await Promise.all(
      Array.from({ length: count }, async () => {
        for (let attempt = 0; ; attempt++) {
          const port = await findFreeClusterPort(taken);
          const dir = join(root, `node-${port}`);
          await mkdir(dir);
          const node = new NodeProcess(port, dir, serverBin, config);
          try {
            processes.nodes.push(node);
            await node.start(deadline);
            return;
          } catch (err) {
            processes.nodes.splice(processes.nodes.indexOf(node), 1);
            await rm(dir, { recursive: true, force: true });
            // Another process took the port between the check and redis-server's bind: try another.
            if (!(err instanceof PortInUseError) || attempt + 1 >= PORT_ATTEMPTS) throw err;
          }
        }
      }),
    );
    processes.nodes.sort((a, b) => a.port - b.port);
    await runClusterCreate(cliBin, processes.nodes, replicasPerPrimary, deadline);
    await cluster.waitForAgreement();
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** A port whose bus port (port + 10000) is free too, distinct from (and not the bus of) any taken. */
async function findFreeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await findFreePort();
    const bus = port + BUS_PORT_OFFSET;
    if (bus > 65_535 || taken.has(port) || taken.has(bus)) continue;
    // Reserved before the next await, so that nodes starting in parallel never pick the same pair.
    taken.add(port);
    taken.add(bus);
    if (await isPortFree(bus)) return port;
    taken.delete(port);
    taken.delete(bus);
  }
  throw new Error('redis cluster: no free port pair (port, port + 10000) on 127.0.0.1');
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function runClusterCreate(cliBin: string, nodes: NodeProcess[], replicas: number, deadline: number): Promise<void> {
  const args = ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', String(replicas), '--cluster-yes'];
  const child = spawn(cliBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('timeout');
    }, Math.max(0, deadline - Date.now()));
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve(status ?? String(signal));
    });
  });
  if (code !== 0) {
    const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
    throw new Error(`${cliBin} ${args.join(' ')} failed (${code === 'timeout' ? 'still running at the bound' : `exit ${code}`}):\n${plain}`);
  }
}

class LocalRedisCluster implements RedisCluster {
  private topology: ClusterNode[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly processes: ClusterProcesses,
    readonly nodeTimeoutMs: number,
    private readonly timeoutMs: number,
  ) {}

  get nodes(): readonly ClusterNode[] {
    return this.topology;
  }

  primaries(): ClusterNode[] {
    return this.topology.filter((n) => n.running && n.role === 'primary');
  }

  replicas(): ClusterNode[] {
    return this.topology.filter((n) => n.running && n.role === 'replica');
  }

  replicasOf(primary: NodeRef): ClusterNode[] {
    const id = this.node(primary).id;
    return this.replicas().filter((n) => n.primaryId === id);
  }

  primaryOf(replica: NodeRef): ClusterNode {
    const node = this.node(replica);
    if (node.primaryId === undefined) throw new Error(`redis cluster: ${node.address} is a primary`);
    return this.node(node.primaryId);
  }

  node(ref: NodeRef): ClusterNode {
    const found = this.topology.find((n) =>
      typeof ref === 'number' ? n.port === ref : typeof ref === 'string' ? n.id === ref || n.address === ref : n.port === ref.port,
    );
    if (found === undefined) throw new Error(`redis cluster: no node ${typeof ref === 'object' ? ref.address : String(ref)}`);
    return found;
  }

  ownerOf(slot: number): ClusterNode {
    const owner = this.topology.find((n) => n.running && n.slots.some(([first, last]) => slot >= first && slot <= last));
    if (owner === undefined) throw new Error(`redis cluster: no running primary serves slot ${slot}`);
    return owner;
  }

  command(ref: NodeRef, ...args: RespArg[]): Promise<RawReply> {
    return command(this.portOf(ref), args, this.timeoutMs);
  }

  connect(ref: NodeRef): Promise<RespConnection> {
    return RespConnection.connect(HOST, this.portOf(ref), this.timeoutMs);
  }

  async slotOf(key: string | Uint8Array): Promise<number> {
    const node = this.processes.nodes.find((n) => n.running);
    if (node === undefined) throw new Error('redis cluster: no node is running');
    const reply = await command(node.port, ['CLUSTER', 'KEYSLOT', key], this.timeoutMs);
    if (typeof reply !== 'number') throw new Error(`CLUSTER KEYSLOT answered ${JSON.stringify(reply)}`);
    return reply;
  }

  waitForAgreement(): Promise<readonly ClusterNode[]> {
    return this.waitUntil('every running node ok and agreeing', () => true);
  }

  async beginSlotMigration(slot: number, to: NodeRef): Promise<SlotMigration> {
    checkSlot(slot);
    const source = this.ownerOf(slot);
    const target = this.node(to);
    if (!target.running || target.role !== 'primary') throw new Error(`redis cluster: ${target.address} is not a running primary`);
    if (target.id === source.id) throw new Error(`redis cluster: ${target.address} already serves slot ${slot}`);
    await this.expectOk(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await this.expectOk(source, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);

    const migrateKeys = async (keys?: Array<string | Uint8Array>): Promise<number> => {
      if (keys !== undefined) return this.migrate(source, target, keys);
      let moved = 0;
      for (;;) {
        // Keys as bytes: a binary key must reach MIGRATE exactly as it is stored.
        const connection = await this.connect(source);
        const batch = await connection.sendForBuffers(['CLUSTER', 'GETKEYSINSLOT', slot, 100], this.timeoutMs).finally(() => connection.close());
        if (!Array.isArray(batch) || !batch.every((k) => Buffer.isBuffer(k))) throw new Error(`CLUSTER GETKEYSINSLOT answered ${JSON.stringify(batch)}`);
        if (batch.length === 0) return moved;
        moved += await this.migrate(source, target, batch as Buffer[]);
      }
    };
    const finish = async (): Promise<void> => {
      await migrateKeys();
      // The target first (it bumps its config epoch and claims the slot), then the source, then the
      // others, as Redis's documentation orders it; gossip carries the rest to the replicas.
      await this.expectOk(target, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
      await this.expectOk(source, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
      for (const other of this.primaries()) {
        if (other.id !== target.id && other.id !== source.id) await this.expectOk(other, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
      }
      await this.waitUntil(`slot ${slot} served by ${target.address} everywhere`, (nodes) =>
        nodes.some((n) => n.id === target.id && n.slots.some(([first, last]) => slot >= first && slot <= last)),
      );
    };
    return { slot, source, target, migrateKeys, finish };
  }

  async moveSlot(slot: number, to: NodeRef): Promise<void> {
    const migration = await this.beginSlotMigration(slot, to);
    await migration.finish();
  }

  async failover(replica: NodeRef, mode: 'default' | 'force' | 'takeover' = 'default'): Promise<ClusterNode> {
    const node = this.node(replica);
    if (!node.running || node.role !== 'replica') throw new Error(`redis cluster: ${node.address} is not a running replica`);
    const oldPrimary = this.primaryOf(node);
    await this.expectOk(node, 'CLUSTER', 'FAILOVER', ...(mode === 'default' ? [] : [mode.toUpperCase()]));
    const nodes = await this.waitUntil(`${node.address} promoted by CLUSTER FAILOVER`, (view) =>
      view.some((n) => n.id === node.id && n.role === 'primary') &&
      (!oldPrimary.running || view.some((n) => n.id === oldPrimary.id && n.primaryId === node.id)),
    );
    return nodes.find((n) => n.id === node.id)!;
  }

  async killNode(ref: NodeRef): Promise<void> {
    const node = this.processOf(ref);
    await node.kill();
    this.topology = this.topology.map((n) => (n.port === node.port ? { ...n, running: false, pid: undefined } : n));
  }

  async killPrimary(ref: NodeRef): Promise<ClusterNode> {
    const primary = this.node(ref);
    if (!primary.running || primary.role !== 'primary') throw new Error(`redis cluster: ${primary.address} is not a running primary`);
    const replicaIds = this.replicasOf(primary).map((r) => r.id);
    if (replicaIds.length === 0) throw new Error(`redis cluster: ${primary.address} has no running replica to take over`);
    const slots = primary.slots;
    await this.killNode(primary);
    const nodes = await this.waitUntil(`a replica of ${primary.address} promoted`, (view) =>
      view.some((n) => replicaIds.includes(n.id) && n.role === 'primary' && JSON.stringify(n.slots) === JSON.stringify(slots)),
    );
    return nodes.find((n) => replicaIds.includes(n.id) && n.role === 'primary')!;
  }

  async restartNode(ref: NodeRef): Promise<ClusterNode> {
    const node = this.processOf(ref);
    if (node.running) throw new Error(`redis cluster: ${node.address} is running`);
    try {
      await node.start(Date.now() + this.timeoutMs);
    } catch (err) {
      if (err instanceof PortInUseError) throw new Error(`redis cluster: cannot restart ${node.address}: ${err.message}`);
      throw err;
    }
    this.topology = this.topology.map((n) => (n.port === node.port ? { ...n, running: true, pid: node.child?.pid } : n));
    const nodes = await this.waitForAgreement();
    return nodes.find((n) => n.port === node.port)!;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { watchdog, nodes, root } = this.processes;
      watchdog?.kill('SIGKILL');
      await Promise.all(nodes.map((n) => n.kill()));
      await rm(root, { recursive: true, force: true });
      liveClusters.delete(this.processes);
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // -------------------------------------------------------------------------------------------------

  private portOf(ref: NodeRef): number {
    if (typeof ref === 'number') return ref;
    if (typeof ref === 'object') return ref.port;
    const node = this.processes.nodes.find((n) => n.id === ref || n.address === ref);
    if (node === undefined) throw new Error(`redis cluster: no node ${ref}`);
    return node.port;
  }

  private processOf(ref: NodeRef): NodeProcess {
    const port = this.portOf(ref);
    const node = this.processes.nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`redis cluster: no node on port ${port}`);
    return node;
  }

  private async expectOk(ref: NodeRef, ...args: RespArg[]): Promise<void> {
    const reply = await this.command(ref, ...args);
    if (reply !== 'OK') throw new Error(`redis cluster: ${args.join(' ')} on ${this.portOf(ref)} answered ${JSON.stringify(reply)}`);
  }

  private async migrate(source: ClusterNode, target: ClusterNode, keys: Array<string | Uint8Array>): Promise<number> {
    if (keys.length === 0) return 0;
    // MIGRATE's timeout is the longest the source waits on the target during the transfer.
    const reply = await this.command(source, 'MIGRATE', target.host, target.port, '', 0, this.timeoutMs, 'KEYS', ...keys);
    if (reply === 'NOKEY') return 0;
    if (reply !== 'OK') throw new Error(`redis cluster: MIGRATE to ${target.address} answered ${JSON.stringify(reply)}`);
    return keys.length;
  }

  /**
   * Polls every running node until each says cluster_state:ok, sees every node it should, with every
   * running node connected and unflagged, all of them report the same slot owners and replication
   * links, every slot is served by a running primary, every replica's link is up, and `condition`
   * holds for that agreed topology. Then the topology becomes `nodes` and is returned.
   */
  private async waitUntil(what: string, condition: (nodes: ClusterNode[]) => boolean): Promise<ClusterNode[]> {
    const deadline = Date.now() + this.timeoutMs;
    let problem = 'not checked yet';
    for (;;) {
      if (this.stopping !== undefined) throw new Error(`redis cluster: stopped while waiting for: ${what}`);
      try {
        const result = await this.checkAgreement();
        if (typeof result === 'string') problem = result;
        else if (!condition(result)) problem = `agreed, but not yet: ${what}`;
        else {
          this.topology = result;
          return result;
        }
      } catch (err) {
        problem = (err as Error).message;
      }
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
    const logs = this.processes.nodes.map((n) => `--- ${n.address} (${n.running ? 'running' : 'killed'}) ${n.logFile}:\n${n.logTail(8)}`).join('\n');
    throw new Error(`redis cluster: ${what}: still not the case after ${this.timeoutMs} ms (${problem})\n${logs}`);
  }

  /** The agreed topology, or a string saying what is not agreed yet. */
  private async checkAgreement(): Promise<ClusterNode[] | string> {
    const running = this.processes.nodes.filter((n) => n.running);
    const views = await Promise.all(running.map((n) => readView(n.port, this.timeoutMs)));
    for (const [i, view] of views.entries()) {
      const node = running[i]!;
      if (view.self === undefined) return `${view.port} lists no myself line`;
      if (node.id === '') node.id = view.self.id;
      else if (node.id !== view.self.id) return `${view.port} changed its node id from ${node.id} to ${view.self.id}`;
    }
    const known = this.processes.nodes.filter((n) => n.id !== '');
    if (known.length !== this.processes.nodes.length) return 'some node was never seen running';
    const runningIds = new Set(running.map((n) => n.id));

    let reference: string | undefined;
    for (const view of views) {
      if (!view.stateOk) return `${view.port}: cluster_state is not ok`;
      if (!view.linkUp) return `${view.port}: replica link to its primary is not up`;
      if (view.lines.length !== known.length || !known.every((n) => view.lines.some((l) => l.id === n.id))) {
        return `${view.port} knows ${view.lines.length} nodes, not the ${known.length} of the cluster`;
      }
      for (const line of view.lines) {
        if (!runningIds.has(line.id)) continue;
        const bad = line.flags.find((f) => f === 'fail' || f === 'fail?' || f === 'handshake' || f === 'noaddr');
        if (bad !== undefined) return `${view.port} flags ${line.port} ${bad}`;
        if (line.linkState !== 'connected') return `${view.port} sees ${line.port} ${line.linkState}`;
      }
      // Who serves which slots (any node, running or not) and who replicates whom (running nodes).
      const signature = JSON.stringify(
        [...view.lines]
          .sort((a, b) => a.port - b.port)
          .map((l) => [l.id, l.slots, runningIds.has(l.id) ? [l.flags.includes('master'), l.primaryId ?? null] : null]),
      );
      if (reference === undefined) reference = signature;
      else if (signature !== reference) return `${view.port} and ${views[0]!.port} disagree on the topology`;
    }

    const lines = views[0]!.lines;
    const nodes = this.processes.nodes.map((node): ClusterNode => {
      const line = lines.find((l) => l.id === node.id)!;
      const isPrimary = line.flags.includes('master');
      return {
        id: node.id,
        host: HOST,
        port: node.port,
        busPort: node.port + BUS_PORT_OFFSET,
        address: node.address,
        role: isPrimary ? 'primary' : 'replica',
        primaryId: isPrimary ? undefined : line.primaryId,
        slots: mergeRanges(line.slots),
        running: node.running,
        pid: node.child?.pid,
        dir: node.dir,
      };
    });
    let covered = 0;
    for (const node of nodes) {
      if (node.slots.length > 0 && (!node.running || node.role !== 'primary')) return `slots ${JSON.stringify(node.slots)} are on ${node.address}, which is not a running primary`;
      for (const [first, last] of node.slots) covered += last - first + 1;
    }
    if (covered !== SLOT_COUNT) return `${covered} of ${SLOT_COUNT} slots are served`;
    return nodes;
  }
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) throw new RangeError(`redis cluster: ${slot} is not a slot (0..16383)`);
}

// ---------------------------------------------------------------------------------------------------
// Raw RESP over node:net, independent of src/ (which is under test).

/** Sends one command on a fresh connection and returns its reply. */
async function command(port: number, args: RespArg[], timeoutMs: number): Promise<RawReply> {
  const connection = await RespConnection.connect(HOST, port, timeoutMs);
  try {
    return await connection.send(args, timeoutMs);
  } finally {
    connection.close();
  }
}

/** Encodes one command as a RESP array of bulk strings. */
export function encodeRespCommand(args: readonly RespArg[]): Buffer {
  const parts: Uint8Array[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : typeof arg === 'number' ? Buffer.from(String(arg)) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * A raw RESP2 connection: commands are written as sent (pipelined) and replies matched in order.
 * Simple and bulk strings decode as UTF-8 strings, errors as `{ error }`, integers as numbers.
 */
export class RespConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Array<{ resolve: (reply: BinaryReply) => void; reject: (err: Error) => void; timer: NodeJS.Timeout; buffers: boolean }> = [];
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error(`connection to ${HOST}:${port} closed`)));
  }

  /** Connects to `host:port`; rejects on a refused connection or after `timeoutMs`. */
  static connect(host: string, port: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.connect(port, host, () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RespConnection(socket, port));
      });
    });
  }

  /** Writes one command; resolves with its reply. Rejects when the connection fails or after `timeoutMs`. */
  send(args: readonly RespArg[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RawReply> {
    return this.write(args, timeoutMs, false) as Promise<RawReply>;
  }

  /** As send(), with bulk strings as Buffers. */
  sendForBuffers(args: readonly RespArg[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<BinaryReply> {
    return this.write(args, timeoutMs, true);
  }

  private write(args: readonly RespArg[], timeoutMs: number, buffers: boolean): Promise<BinaryReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no reply from ${HOST}:${this.port} within ${timeoutMs} ms to ${String(args[0])}`)), timeoutMs);
      this.pending.push({ resolve, reject, timer, buffers });
      this.socket.write(encodeRespCommand(args));
    });
  }

  close(): void {
    this.fail(new Error('connection closed by the caller'));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      const waiter = this.pending[0];
      if (waiter === undefined) {
        if (offset < this.buffer.length) this.fail(new Error(`unexpected bytes from ${HOST}:${this.port}: ${JSON.stringify(this.buffer.toString('latin1', offset))}`));
        break;
      }
      let parsed: { value: BinaryReply; end: number } | undefined;
      try {
        parsed = parseReply(this.buffer, offset, waiter.buffers);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (parsed === undefined) break;
      offset = parsed.end;
      this.pending.shift();
      clearTimeout(waiter.timer);
      waiter.resolve(parsed.value);
    }
    this.buffer = this.buffer.subarray(offset);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.socket.destroy();
    for (const waiter of this.pending.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }
}

function parseReply(buf: Buffer, pos: number, buffers: boolean): { value: BinaryReply; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd === -1) return undefined;
  const type = buf[pos];
  const line = buf.toString('utf8', pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: { error: line }, end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      const value = buffers ? Buffer.from(buf.subarray(next, next + length)) : buf.toString('utf8', next, next + length);
      return { value, end: next + length + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: BinaryReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at, buffers);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(String.fromCharCode(type ?? 0))}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
