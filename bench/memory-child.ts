/**
 * One memory measurement in a process of its own (spawned by bench/memory.ts as
 * `node --expose-gc --import tsx bench/memory-child.ts <client> <host> <port> <count>`):
 * `count` GETs of a 16-byte value through one explicit pipeline, on one connection.
 *
 * Prints one line, `RESULT {json}`, with
 * - peakRss: the process's peak resident set (process.resourceUsage().maxRSS), and the RSS right
 *   before the pipeline (baselineRss), so the growth can be told from the runtime's own footprint;
 * - allocated: bytes allocated on the JS heap during the pipeline, from v8.GCProfiler (Node ≥ 19.6):
 *   the sum over GCs of (heap used before this GC - heap used after the previous one), plus the
 *   growth after the last GC;
 * - gcCount / gcPauseMs by kind, peakHeapUsed (largest heap used seen before a GC, or at the end);
 * - retained: heap used after the pipeline and a full GC, minus before (leaks stay here).
 */
import { performance } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { connectIoredis, connectNodeRedis, connectOurs, type BenchClient } from './clients.js';
import { BENCHMARK_KEY } from './redis-benchmark.js';
import { collectGarbage } from './util.js';

interface GcStatistic {
  gcType: string;
  cost: number;
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

async function main(): Promise<void> {
  const [which, host, portText, countText] = process.argv.slice(2);
  if (which === undefined || host === undefined || portText === undefined || countText === undefined) {
    throw new Error('usage: memory-child.ts <ours|ours-promise-all|ioredis|node-redis> <host> <port> <count>');
  }
  const address = { host, port: Number(portText) };
  const count = Number(countText);
  let client: BenchClient;
  switch (which) {
    case 'ours':
      client = await connectOurs(address, { id: 'mem-ours' });
      break;
    case 'ours-promise-all':
      client = await connectOurs(address, { id: 'mem-ours-pa', forcePromiseAll: true });
      break;
    case 'ioredis':
      client = await connectIoredis(address, false);
      break;
    case 'node-redis':
      client = await connectNodeRedis(address, true);
      break;
    default:
      throw new Error(`unknown client ${which}`);
  }
  const expected = await client.get(BENCHMARK_KEY);
  if (typeof expected !== 'string' || expected.length !== 16) throw new Error(`${which}: ${BENCHMARK_KEY} does not hold a 16-byte value`);

  // Warm-up: the same code path, smaller, so JIT and first-use allocations are not measured.
  const run = (n: number): Promise<unknown[]> => (client.pipelineGets ?? ((key: string, k: number) => client.promiseAllGets(key, k)))(BENCHMARK_KEY, n);
  for (let i = 0; i < 3; i++) await run(Math.min(10_000, count));

  collectGarbage();
  collectGarbage();
  const baselineRss = process.memoryUsage.rss();
  const baselineHeap = getHeapStatistics().used_heap_size;
  const profiler = new GCProfiler();
  profiler.start();
  const start = performance.now();
  const results = await run(count);
  const seconds = (performance.now() - start) / 1000;
  const endHeap = getHeapStatistics().used_heap_size;
  const profile = profiler.stop() as unknown as { statistics: GcStatistic[] };
  if (results.length !== count) throw new Error(`${which}: ${results.length} results, expected ${count}`);
  const peakRss = process.resourceUsage().maxRSS * 1024;

  let allocated = 0;
  let previousAfter = baselineHeap;
  let peakHeapUsed = baselineHeap;
  const gcByKind: Record<string, { count: number; pauseMs: number }> = {};
  for (const gc of profile.statistics) {
    const before = gc.beforeGC.heapStatistics.usedHeapSize;
    allocated += Math.max(0, before - previousAfter);
    previousAfter = gc.afterGC.heapStatistics.usedHeapSize;
    peakHeapUsed = Math.max(peakHeapUsed, before);
    const kind = (gcByKind[gc.gcType] ??= { count: 0, pauseMs: 0 });
    kind.count++;
    kind.pauseMs += gc.cost / 1000;
  }
  allocated += Math.max(0, endHeap - previousAfter);
  peakHeapUsed = Math.max(peakHeapUsed, endHeap);

  // Drop the results, then see what stays.
  results.length = 0;
  collectGarbage();
  collectGarbage();
  const retained = getHeapStatistics().used_heap_size - baselineHeap;
  await client.close();

  const result = {
    client: which,
    label: client.pipelineLabel,
    count,
    seconds,
    baselineRss,
    peakRss,
    rssGrowth: peakRss - baselineRss,
    baselineHeap,
    peakHeapUsed,
    allocated,
    allocatedPerGet: allocated / count,
    gcCount: profile.statistics.length,
    gcPauseMs: profile.statistics.reduce((total, gc) => total + gc.cost / 1000, 0),
    gcByKind,
    retained,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
