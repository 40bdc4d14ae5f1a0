/**
 * The server's ceiling: redis-benchmark (C, one connection: -c 1) against the same server, with the
 * same pipeline depth as the scenario. It GETs the literal key `key:__rand_int__` (no -r), which the
 * scenarios preset to the value size they read, and which the Node clients read too.
 */
import { spawn } from 'node:child_process';

export const BENCHMARK_KEY = 'key:__rand_int__';

export interface BenchmarkRun {
  /** requests per second per test, e.g. { GET: 1379310.38 } */
  rps: Record<string, number>;
  command: string;
}

export interface BenchmarkOptions {
  host: string;
  port: number;
  /** -P: requests pipelined per round trip. */
  pipeline: number;
  /** -n: total requests per test. */
  requests: number;
  /** -t, e.g. ['get'] or ['set', 'get']. */
  tests: string[];
  /** -d: value size for SET. */
  dataSize?: number;
}

/** Runs redis-benchmark; when it finished too fast to time (rps "inf"), again with 10x the requests. */
export async function redisBenchmark(options: BenchmarkOptions): Promise<BenchmarkRun> {
  let requests = options.requests;
  for (let attempt = 0; ; attempt++) {
    const run = await runOnce({ ...options, requests });
    if (!Object.values(run.rps).some((rps) => !Number.isFinite(rps)) || attempt === 3) return run;
    requests *= 10;
  }
}

function runOnce(options: BenchmarkOptions): Promise<BenchmarkRun> {
  const args = [
    '-h', options.host,
    '-p', String(options.port),
    '-c', '1',
    '-P', String(options.pipeline),
    '-n', String(options.requests),
    '-t', options.tests.join(','),
    '-d', String(options.dataSize ?? 16),
    '-q',
    '--csv',
  ];
  const command = `redis-benchmark ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('error', (error) => reject(new Error(`${command}: ${error.message} (is redis-tools installed?)`)));
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} exited with ${code}: ${err || out}`));
      const rps: Record<string, number> = {};
      for (const line of out.split('\n')) {
        const match = /^"([A-Z_ ]+)","([\d.]+|inf)"/.exec(line.trim());
        if (match) rps[match[1]!] = match[2] === 'inf' ? Infinity : Number(match[2]);
      }
      if (Object.keys(rps).length === 0) return reject(new Error(`${command}: no CSV result in ${JSON.stringify(out)}`));
      resolve({ rps, command });
    });
  });
}

/** Ops/s of alternating A then B, from the rates of A alone and B alone (a harmonic combination). */
export function alternatingRate(a: number, b: number): number {
  return 2 / (1 / a + 1 / b);
}
