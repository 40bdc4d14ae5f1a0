/**
 * Client scenarios over a real socket: every client on its own single connection to the same
 * redis-server, plus redis-benchmark on one connection as the server's ceiling. Rounds are
 * interleaved: round r runs every contestant once, in an order rotated by r, so drift on a noisy
 * machine hits everyone alike; the result is the median of the rounds.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { BenchClient, Family } from './clients.js';
import { alternatingRate, BENCHMARK_KEY, redisBenchmark } from './redis-benchmark.js';
import { collectGarbage, median, rotate } from './util.js';

export type Role = 'ours' | 'peer' | 'ceiling' | 'extra';

export interface Contestant {
  id: string;
  label: string;
  role: Role;
  family: Family | 'redis-benchmark';
  /** Runs `ops` operations: ops/s, and this process's CPU time per op (user + system, all threads). */
  run(ops: number): Promise<Measurement>;
  /** Checks once, before the rounds, that the client reads what the scenario expects. */
  check?(): Promise<void>;
}

export interface Measurement {
  rate: number;
  /** undefined for redis-benchmark (another process). */
  cpuMicrosPerOp: number | undefined;
}

export interface Scenario {
  id: string;
  title: string;
  /** How the ops are issued, for the report. */
  shape: string;
  /** The redis-benchmark command line that gives the ceiling (filled in once it ran). */
  ceilingCommand?: string;
  /** Ops per timed run are chosen, per contestant, so that a run takes about this long. */
  targetSeconds: number;
  minOps: number;
  maxOps: number;
  /** Ops per run are a multiple of this (a pipeline size, an in-flight depth). */
  opsMultiple: number;
  setup(): Promise<void>;
  contestants: Contestant[];
}

export interface ContestantResult {
  id: string;
  label: string;
  role: Role;
  family: Contestant['family'];
  /** Ops per timed run. */
  ops: number;
  samples: number[];
  median: number;
  /** Median CPU time of this process per op, µs (user + system, every thread: GC included). */
  cpuMicrosPerOp: number | undefined;
}

export interface ScenarioResult {
  id: string;
  title: string;
  shape: string;
  ceilingCommand: string | undefined;
  rounds: number;
  rows: ContestantResult[];
}

async function timed(ops: number, work: () => Promise<void>): Promise<Measurement> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: ops / seconds, cpuMicrosPerOp: (used.user + used.system) / ops };
}

/** `n` operations with `depth` of them always outstanding (each worker issues the next on a reply). */
async function inFlight(n: number, depth: number, op: () => Promise<unknown>): Promise<void> {
  let remaining = n;
  const worker = async (): Promise<void> => {
    while (remaining > 0) {
      remaining--;
      await op();
    }
  };
  const workers = new Array<Promise<void>>(Math.min(depth, n));
  for (let i = 0; i < workers.length; i++) workers[i] = worker();
  await Promise.all(workers);
}

function roundUp(n: number, multiple: number): number {
  return Math.max(multiple, Math.ceil(n / multiple) * multiple);
}

/**
 * Warms a contestant up and sizes its runs: doubles the ops until one run takes a quarter of the
 * target (after at least two runs, for the JIT), then sizes from the measured rate. Each contestant
 * gets its own op count, so a fast client is not timed over a few milliseconds.
 */
async function calibrate(scenario: Scenario, contestant: Contestant): Promise<number> {
  let ops = roundUp(scenario.minOps, scenario.opsMultiple);
  let rate = 0;
  for (let attempt = 0; attempt < 16; attempt++) {
    const start = performance.now();
    rate = (await contestant.run(ops)).rate;
    const seconds = (performance.now() - start) / 1000;
    if ((attempt >= 1 && seconds >= scenario.targetSeconds / 4) || ops >= scenario.maxOps) break;
    ops = Math.min(scenario.maxOps, roundUp(ops * 2, scenario.opsMultiple));
  }
  return roundUp(Math.min(scenario.maxOps, Math.max(scenario.minOps, rate * scenario.targetSeconds)), scenario.opsMultiple);
}

export async function runScenario(scenario: Scenario, rounds: number, log: (line: string) => void): Promise<ScenarioResult> {
  await scenario.setup();
  for (const contestant of scenario.contestants) await contestant.check?.();
  const opsFor = new Map<string, number>();
  for (const contestant of scenario.contestants) {
    collectGarbage();
    opsFor.set(contestant.id, await calibrate(scenario, contestant));
  }
  log(`  ${scenario.id}: ${rounds} rounds of ${scenario.contestants.length} contestants, ~${scenario.targetSeconds} s per run`);

  const samples = new Map<string, number[]>(scenario.contestants.map((c) => [c.id, []]));
  const cpuSamples = new Map<string, number[]>(scenario.contestants.map((c) => [c.id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const contestant of rotate(scenario.contestants, round)) {
      collectGarbage();
      const { rate, cpuMicrosPerOp } = await contestant.run(opsFor.get(contestant.id)!);
      samples.get(contestant.id)!.push(rate);
      if (cpuMicrosPerOp !== undefined) cpuSamples.get(contestant.id)!.push(cpuMicrosPerOp);
    }
  }
  return {
    id: scenario.id,
    title: scenario.title,
    shape: scenario.shape,
    ceilingCommand: scenario.ceilingCommand,
    rounds,
    rows: scenario.contestants.map((c) => {
      const s = samples.get(c.id)!;
      const cpu = cpuSamples.get(c.id)!;
      return { id: c.id, label: c.label, role: c.role, family: c.family, ops: opsFor.get(c.id)!, samples: s, median: median(s), cpuMicrosPerOp: cpu.length > 0 ? median(cpu) : undefined };
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// The scenarios.

export interface ScenarioContext {
  host: string;
  port: number;
  /** Ours, ours with commandTimeout 5000, ioredis, ioredis auto-pipelining, node-redis, node-redis timeout 0. */
  clients: Record<'ours' | 'oursTimeout' | 'ioredis' | 'ioredisAuto' | 'nodeRedis' | 'nodeRedisT0', BenchClient>;
  /** Ours forced to Promise.all, when `ours` has a real pipeline() (to show both). */
  oursPromiseAll: BenchClient | undefined;
  /** SETs a key outside the timed runs, on a connection of its own. */
  setKey(key: string, value: string): Promise<void>;
  value16: string;
  value1MiB: string;
  quick: boolean;
}

function clientContestant(client: BenchClient, role: Role, run: (client: BenchClient, ops: number) => Promise<void>, expected: string, label = client.label, id = client.id): Contestant {
  return {
    id,
    label,
    role,
    family: client.family,
    run: (ops) => timed(ops, () => run(client, ops)),
    check: async () => {
      const value = await client.get(BENCHMARK_KEY);
      if (value !== expected) throw new Error(`${label}: GET ${BENCHMARK_KEY} returned ${describe(value)}, expected ${expected.length} bytes`);
    },
  };
}

/**
 * Ours with a subscriber on the gocache:command tracing channel during its runs only (a subscriber is
 * process-wide): what tracing costs when someone listens. It does what a span would: reads the
 * context at start and at the end.
 */
function tracedContestant(client: BenchClient, run: (client: BenchClient, ops: number) => Promise<void>, expected: string): Contestant {
  const channel = tracingChannel<unknown, { command: string; argsCount: number; replySize?: number }>('gocache:command');
  let seen = 0;
  const subscriber = {
    start: (context: { command: string; argsCount: number }) => void (seen += context.argsCount),
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: (context: { replySize?: number }) => void (seen += context.replySize ?? 0),
    error: () => undefined,
  };
  const traced = async (c: BenchClient, ops: number): Promise<void> => {
    channel.subscribe(subscriber);
    try {
      await run(c, ops);
    } finally {
      channel.unsubscribe(subscriber);
    }
    if (seen === 0) throw new Error('the tracing subscriber saw no command');
  };
  return clientContestant(client, 'extra', traced, expected, 'ours with a gocache:command subscriber', 'ours-traced');
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `${value.length} chars` : String(value);
}

/** redis-benchmark as a contestant: it times itself; `requestsPerOp` scales -n from our ops. */
function ceiling(scenario: { ceilingCommand?: string }, ctx: ScenarioContext, pipeline: number, tests: string[], dataSize: number, requestsPerOp: number, combine: (rps: Record<string, number>) => number): Contestant {
  return {
    id: 'redis-benchmark',
    label: `redis-benchmark -c 1 -P ${pipeline}`,
    role: 'ceiling',
    family: 'redis-benchmark',
    run: async (ops) => {
      const run = await redisBenchmark({ host: ctx.host, port: ctx.port, pipeline, tests, dataSize, requests: Math.max(pipeline * (dataSize > 1024 ? 25 : 100), Math.round(ops * requestsPerOp)) });
      scenario.ceilingCommand = run.command.replace(/-n \d+/, '-n N');
      return { rate: combine(run.rps), cpuMicrosPerOp: undefined };
    },
  };
}

const getRate = (rps: Record<string, number>): number => rps['GET'] ?? NaN;

export function buildScenarios(ctx: ScenarioContext): Scenario[] {
  const { clients, value16, value1MiB } = ctx;
  const peers = [clients.ioredis, clients.ioredisAuto, clients.nodeRedis, clients.nodeRedisT0];
  const setKey = (value: string) => async (): Promise<void> => {
    await ctx.setKey(BENCHMARK_KEY, value);
  };

  const sequential: Scenario = {
    id: 'sequential',
    title: 'Sequential awaited SET then GET (16-byte value)',
    shape: 'await set(); await get(); ops = SETs + GETs',
    targetSeconds: ctx.quick ? 0.1 : 0.4,
    minOps: 500,
    maxOps: 400_000,
    opsMultiple: 2,
    setup: setKey(value16),
    contestants: [],
  };
  const seqRun = async (client: BenchClient, ops: number): Promise<void> => {
    for (let i = 0; i < ops; i += 2) {
      await client.set(BENCHMARK_KEY, value16);
      await client.get(BENCHMARK_KEY);
    }
  };
  sequential.contestants = [
    clientContestant(clients.ours, 'ours', seqRun, value16),
    ...peers.map((c) => clientContestant(c, 'peer', seqRun, value16)),
    // redis-benchmark -t set,get runs all SETs then all GETs: combine the two rates as alternating.
    ceiling(sequential, ctx, 1, ['set', 'get'], 16, 0.5, (rps) => alternatingRate(rps['SET'] ?? NaN, rps['GET'] ?? NaN)),
  ];

  const inFlightScenario = (depth: number, withTimeout: boolean): Scenario => {
    const scenario: Scenario = {
      id: `inflight-${depth}`,
      title: `${depth.toLocaleString('en-US')} GETs in flight (16-byte value)`,
      shape: `${depth} workers, each awaiting one get() and then issuing the next`,
      targetSeconds: ctx.quick ? 0.1 : 0.4,
      minOps: depth * 10,
      maxOps: 10_000_000,
      opsMultiple: depth,
      setup: setKey(value16),
      contestants: [],
    };
    const run = async (client: BenchClient, ops: number): Promise<void> => inFlight(ops, depth, () => client.get(BENCHMARK_KEY));
    scenario.contestants = [
      clientContestant(clients.ours, 'ours', run, value16),
      ...(withTimeout ? [clientContestant(clients.oursTimeout, 'extra', run, value16), tracedContestant(clients.ours, run, value16)] : []),
      ...peers.map((c) => clientContestant(c, 'peer', run, value16)),
      ceiling(scenario, ctx, depth, ['get'], 16, 1, getRate),
    ];
    return scenario;
  };

  const pipelineSize = 1000;
  const pipelines: Scenario = {
    id: 'pipeline-1000',
    title: 'Explicit pipelines of 1,000 GETs, one after another (16-byte value)',
    shape: 'exec a 1,000-GET pipeline, await it, repeat',
    targetSeconds: ctx.quick ? 0.1 : 0.4,
    minOps: pipelineSize * 5,
    maxOps: 10_000_000,
    opsMultiple: pipelineSize,
    setup: setKey(value16),
    contestants: [],
  };
  const explicit = async (client: BenchClient, ops: number): Promise<void> => {
    for (let done = 0; done < ops; done += pipelineSize) {
      const results = await client.pipelineGets!(BENCHMARK_KEY, pipelineSize);
      if (results.length !== pipelineSize) throw new Error(`${client.pipelineLabel}: ${results.length} results`);
    }
  };
  const batched = async (client: BenchClient, ops: number): Promise<void> => {
    for (let done = 0; done < ops; done += pipelineSize) await client.promiseAllGets(BENCHMARK_KEY, pipelineSize);
  };
  pipelines.contestants = [
    clientContestant(clients.ours, 'ours', explicit, value16, clients.ours.pipelineLabel),
    ...(ctx.oursPromiseAll ? [clientContestant(ctx.oursPromiseAll, 'extra', batched, value16, 'ours Promise.all of 1,000', 'ours-promise-all')] : []),
    clientContestant(clients.ioredis, 'peer', explicit, value16, clients.ioredis.pipelineLabel),
    clientContestant(clients.nodeRedis, 'peer', explicit, value16, clients.nodeRedis.pipelineLabel, 'node-redis-execAsPipeline'),
    clientContestant(clients.ioredisAuto, 'extra', batched, value16, 'ioredis enableAutoPipelining Promise.all of 1,000', 'ioredis-auto-promise-all'),
    clientContestant(clients.nodeRedisT0, 'extra', batched, value16, 'node-redis { timeout: 0 } Promise.all of 1,000', 'node-redis-t0-promise-all'),
    ceiling(pipelines, ctx, pipelineSize, ['get'], 16, 1, getRate),
  ];

  const bigDepth = 4;
  const big: Scenario = {
    id: 'get-1mib',
    title: `GET of a 1 MiB value, ${bigDepth} in flight`,
    shape: `${bigDepth} workers, each awaiting one get() and then issuing the next`,
    targetSeconds: ctx.quick ? 0.15 : 0.5,
    minOps: 16,
    maxOps: 100_000,
    opsMultiple: bigDepth,
    setup: setKey(value1MiB),
    contestants: [],
  };
  const bigRun = async (client: BenchClient, ops: number): Promise<void> =>
    inFlight(ops, bigDepth, async () => {
      const value = await client.get(BENCHMARK_KEY);
      if (value === null || value.length !== value1MiB.length) throw new Error(`${client.label}: wrong 1 MiB value`);
    });
  big.contestants = [
    clientContestant(clients.ours, 'ours', bigRun, value1MiB),
    ...peers.map((c) => clientContestant(c, 'peer', bigRun, value1MiB)),
    ceiling(big, ctx, bigDepth, ['get'], 1024 * 1024, 1, getRate),
  ];

  return [sequential, inFlightScenario(100, true), inFlightScenario(1000, false), pipelines, big];
}
