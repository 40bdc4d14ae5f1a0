/**
 * The cluster section: ours (GoCacheCluster), ioredis `Cluster` and node-redis `createCluster` against
 * (with and without enableAutoPipelining) against the same local 3-primary Redis Cluster (testkit/redis-cluster.ts, no replicas), on random keys spread
 * over every node: 100 and 1,000 GETs in flight, and explicit pipelines of 1,000 GETs. And ours on one
 * node: the cluster client against a one-node cluster vs the single-node client against the same
 * server (the cost of routing). Interleaved rounds, as for the single-node scenarios.
 */
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { GoCacheClient } from '../src/client/client.js';
import { GoCacheCluster } from '../src/cluster/cluster.js';
import { startRedisCluster } from '../testkit/redis-cluster.js';
import { startRedisServer } from '../testkit/redis-server.js';
import { runScenario, type Contestant, type Role, type Scenario, type ScenarioResult } from './scenarios.js';
import { performance } from 'node:perf_hooks';

interface ClusterBenchClient {
  id: string;
  label: string;
  family: Contestant['family'];
  get(key: string): Promise<unknown>;
  pipelineGets(keys: readonly string[]): Promise<unknown[]>;
  close(): Promise<void>;
}

const KEYS = Array.from({ length: 1024 }, (_, i) => `bench:cluster:${i}`);
const VALUE = 'v'.repeat(16);

async function timed(ops: number, work: () => Promise<void>): Promise<{ rate: number; cpuMicrosPerOp: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: ops / seconds, cpuMicrosPerOp: (used.user + used.system) / ops };
}

/** `n` GETs of random keys with `depth` always outstanding. */
async function inFlight(client: ClusterBenchClient, n: number, depth: number): Promise<void> {
  let remaining = n;
  let seed = 12345;
  const worker = async (): Promise<void> => {
    while (remaining > 0) {
      remaining--;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const value = await client.get(KEYS[seed % KEYS.length]!);
      if (value !== VALUE) throw new Error(`${client.label}: wrong value ${String(value)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(depth, n) }, worker));
}

function contestant(client: ClusterBenchClient, role: Role, run: (client: ClusterBenchClient, ops: number) => Promise<void>): Contestant {
  return { id: client.id, label: client.label, role, family: client.family, run: (ops) => timed(ops, () => run(client, ops)) };
}

async function connectOurs(seed: string, id = 'ours', label = 'ours GoCacheCluster'): Promise<ClusterBenchClient> {
  const cluster = await GoCacheCluster.connect({ server: 'redis', nodes: [seed] });
  return {
    id,
    label,
    family: 'ours',
    get: (key) => cluster.get(key),
    pipelineGets: (keys) => {
      let pipeline = cluster.pipeline<unknown[]>();
      for (const key of keys) pipeline = pipeline.get(key);
      return pipeline.exec();
    },
    close: () => cluster.close(),
  };
}

async function connectIoredis(seed: string, autoPipelining: boolean): Promise<ClusterBenchClient> {
  const [host, port] = seed.split(':');
  const cluster = new Cluster([{ host: host!, port: Number(port) }], { redisOptions: { protocol: 2 }, enableAutoPipelining: autoPipelining, lazyConnect: true });
  await cluster.connect();
  return {
    id: autoPipelining ? 'ioredis-cluster-auto' : 'ioredis-cluster',
    label: autoPipelining ? 'ioredis Cluster enableAutoPipelining' : 'ioredis Cluster',
    family: 'ioredis',
    get: (key) => cluster.get(key),
    // ioredis's cluster pipeline refuses keys of several slots ("All keys in the pipeline should
    // belong to the same slots allocation group"): its way to send 1,000 GETs at once is Promise.all.
    pipelineGets: (keys) => Promise.all(keys.map((key) => cluster.get(key))),
    close: async () => {
      await cluster.quit();
    },
  };
}

async function connectNodeRedis(seed: string): Promise<ClusterBenchClient> {
  const cluster = createCluster({ rootNodes: [{ url: `redis://${seed}` }], RESP: 2, defaults: { commandOptions: { timeout: 0 } } as never });
  cluster.on('error', (error: unknown) => console.error(`[node-redis cluster] ${String(error)}`));
  await cluster.connect();
  return {
    id: 'node-redis-cluster',
    label: 'node-redis createCluster',
    family: 'node-redis',
    get: (key) => cluster.get(key),
    // node-redis's cluster pipelines are per slot: Promise.all issues them in one tick, auto-pipelined per node.
    pipelineGets: (keys) => Promise.all(keys.map((key) => cluster.get(key))),
    close: () => cluster.close(),
  };
}

export async function runClusterBench(options: { quick: boolean; log: (line: string) => void }): Promise<ScenarioResult[]> {
  const rounds = options.quick ? 3 : 7;
  const results: ScenarioResult[] = [];
  options.log('cluster: starting a 3-primary Redis Cluster');
  const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
  try {
    const seed = cluster.primaries()[0]!.address;
    const clients = [await connectOurs(seed), await connectIoredis(seed, false), await connectIoredis(seed, true), await connectNodeRedis(seed)];
    const setup = async (): Promise<void> => {
      await Promise.all(KEYS.map((key) => clients[0]!.get(key).then(() => undefined)));
      const ours = await GoCacheCluster.connect({ server: 'redis', nodes: [seed] });
      await ours.mset(Object.fromEntries(KEYS.map((key) => [key, VALUE])));
      await ours.close();
    };
    const scenarios: Scenario[] = [100, 1000].map((depth) => ({
      id: `cluster-inflight-${depth}`,
      title: `Cluster: ${depth.toLocaleString('en-US')} GETs in flight over random keys on 3 primaries`,
      shape: `${depth} workers, each awaiting one get() of a random key and then issuing the next`,
      targetSeconds: options.quick ? 0.1 : 0.4,
      minOps: depth * 10,
      maxOps: 10_000_000,
      opsMultiple: depth,
      setup,
      contestants: clients.map((c, i) => contestant(c, i === 0 ? 'ours' : 'peer', (client, ops) => inFlight(client, ops, depth))),
    }));
    scenarios.push({
      id: 'cluster-pipeline-1000',
      title: 'Cluster: explicit pipelines of 1,000 GETs over random keys on 3 primaries',
      shape: 'exec a 1,000-GET pipeline (keys spread over every node), await it, repeat',
      targetSeconds: options.quick ? 0.1 : 0.4,
      minOps: 5_000,
      maxOps: 10_000_000,
      opsMultiple: 1000,
      setup,
      contestants: clients.map((c, i) =>
        contestant(c, i === 0 ? 'ours' : 'peer', async (client, ops) => {
          for (let done = 0; done < ops; done += 1000) {
            const replies = await client.pipelineGets(KEYS.slice(0, 1000));
            if (replies.length !== 1000) throw new Error(`${client.label}: ${replies.length} replies`);
          }
        }),
      ),
    });
    for (const scenario of scenarios) {
      options.log(`scenario ${scenario.id}`);
      results.push(await runScenario(scenario, rounds, options.log));
    }
    for (const client of clients) await client.close();
  } finally {
    await cluster.stop();
  }

  options.log('cluster: ours on one node (a one-node cluster) vs the single-node client');
  const single = await startRedisServer({ cluster: true });
  try {
    const address = `${single.host}:${single.port}`;
    const oursCluster = await connectOurs(address, 'ours-cluster-one-node', 'ours GoCacheCluster on a one-node cluster');
    const client = await GoCacheClient.connect({ host: single.host, port: single.port, server: 'redis' });
    const oursSingle: ClusterBenchClient = {
      id: 'ours',
      label: 'ours GoCacheClient (single node)',
      family: 'ours',
      get: (key) => client.get(key),
      pipelineGets: (keys) => {
        let pipeline = client.pipeline<unknown[]>();
        for (const key of keys) pipeline = pipeline.get(key);
        return pipeline.exec();
      },
      close: () => client.close(),
    };
    const setup = async (): Promise<void> => {
      // One node in cluster mode still refuses a multi-key command across slots: one SET per key.
      await Promise.all(KEYS.map((key) => client.set(key, VALUE)));
    };
    results.push(
      await runScenario(
        {
          id: 'cluster-one-node-1000',
          title: 'Routing cost: 1,000 GETs in flight on one node, cluster client vs single-node client',
          shape: '1000 workers, each awaiting one get() of a random key',
          targetSeconds: options.quick ? 0.1 : 0.4,
          minOps: 10_000,
          maxOps: 10_000_000,
          opsMultiple: 1000,
          setup,
          contestants: [contestant(oursSingle, 'ours', (c, ops) => inFlight(c, ops, 1000)), contestant(oursCluster, 'extra', (c, ops) => inFlight(c, ops, 1000))],
        },
        rounds,
        options.log,
      ),
    );
    await oursCluster.close();
    await oursSingle.close();
  } finally {
    await single.stop();
  }
  return results;
}
