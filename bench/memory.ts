/**
 * Memory of 200,000 GETs through one explicit pipeline, each client in a SEPARATE child process
 * (bench/memory-child.ts), so one client's heap, JIT code and peak RSS never count against another.
 * Children run interleaved (ours, ioredis, node-redis, ours, ...) and each figure is the median.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..');

export interface MemorySample {
  client: string;
  label: string;
  count: number;
  seconds: number;
  baselineRss: number;
  peakRss: number;
  rssGrowth: number;
  peakHeapUsed: number;
  baselineHeap: number;
  allocated: number;
  allocatedPerGet: number;
  gcCount: number;
  gcPauseMs: number;
  retained: number;
}

export interface MemoryRow {
  client: string;
  label: string;
  samples: MemorySample[];
  /** Medians of each field. */
  peakRss: number;
  rssGrowth: number;
  peakHeapGrowth: number;
  allocatedPerGet: number;
  gcCount: number;
  gcPauseMs: number;
  retained: number;
  seconds: number;
}

export interface MemoryResult {
  count: number;
  reps: number;
  rows: MemoryRow[];
}

function runChild(which: string, host: string, port: number, count: number): Promise<MemorySample> {
  const args = ['--expose-gc', '--import', 'tsx', join(here, 'memory-child.ts'), which, host, String(port), String(count)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined) return reject(new Error(`memory child ${which} exited with ${code}: ${err || out}`));
      resolve(JSON.parse(line.slice('RESULT '.length)) as MemorySample);
    });
  });
}

export async function runMemoryBench(options: {
  host: string;
  port: number;
  quick: boolean;
  /** Also measure ours with Promise.all when pipeline() exists. */
  oursHasPipeline: boolean;
  log: (line: string) => void;
}): Promise<MemoryResult> {
  const count = 200_000;
  const reps = options.quick ? 1 : 3;
  const clients = ['ours', ...(options.oursHasPipeline ? ['ours-promise-all'] : []), 'ioredis', 'node-redis'];
  const samples = new Map<string, MemorySample[]>(clients.map((c) => [c, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const which of clients) samples.get(which)!.push(await runChild(which, options.host, options.port, count));
    options.log(`  memory: rep ${rep + 1}/${reps} done`);
  }
  const rows = clients.map((which): MemoryRow => {
    const s = samples.get(which)!;
    const m = (pick: (x: MemorySample) => number): number => median(s.map(pick));
    return {
      client: which,
      label: s[0]!.label,
      samples: s,
      peakRss: m((x) => x.peakRss),
      rssGrowth: m((x) => x.rssGrowth),
      peakHeapGrowth: m((x) => x.peakHeapUsed - x.baselineHeap),
      allocatedPerGet: m((x) => x.allocatedPerGet),
      gcCount: m((x) => x.gcCount),
      gcPauseMs: m((x) => x.gcPauseMs),
      retained: m((x) => x.retained),
      seconds: m((x) => x.seconds),
    };
  });
  return { count, reps, rows };
}
