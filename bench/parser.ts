/**
 * Reply parsers alone, no socket: the same pre-built RESP2 byte streams, cut into 64 KiB chunks (so
 * replies are cut at arbitrary bytes, as a socket cuts them), fed to
 * - ours: src/runtime/resp/parser.ts (RespParser), strings (what the client asks for) and Buffers;
 * - redis-parser 3 (ioredis 4/5's parser), strings;
 * - ioredis 6's own decoder (built/resp/decoder.js, adapted from node-redis and compiled with
 *   WeakMap-based private fields), with the type mapping ioredis itself passes (bulk strings as
 *   Buffers; ioredis converts to strings later) and with an empty mapping (strings);
 * - node-redis 6's decoder (@redis/client/dist/lib/RESP/decoder.js), default mapping (strings);
 * - with GOCACHE_BENCH_BASELINE=<path of another parser.ts>, that RespParser too ("baseline"), to
 *   compare a change with the code before it in the same rounds: e.g. `git show HEAD~1:src/runtime/
 *   resp/parser.ts > src/runtime/resp/parser-baseline.ts` (beside the original, so that its imports
 *   resolve; delete it afterwards).
 * Rounds are interleaved and rotated like the socket scenarios; the result is the median.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { RespParser } from '../src/runtime/resp/parser.js';
import { collectGarbage, median, rotate } from './util.js';

const require = createRequire(import.meta.url);

type ParserClass = typeof RespParser;
const baselinePath = process.env.GOCACHE_BENCH_BASELINE;
const Baseline: ParserClass | undefined = baselinePath
  ? ((await import(pathToFileURL(resolve(baselinePath)).href)) as { RespParser: ParserClass }).RespParser
  : undefined;

/** One decoder under test, created fresh for each run. */
interface DecoderFactory {
  id: string;
  label: string;
  /** Returns a feed function; every complete top-level reply calls onReply. */
  create(onReply: (value: unknown) => void): (chunk: Buffer) => void;
}

interface RedisParserOptions {
  returnReply(value: unknown): void;
  returnError(error: Error): void;
  returnFatalError?(error: Error): void;
  returnBuffers?: boolean;
}
type RedisParserConstructor = new (options: RedisParserOptions) => { execute(chunk: Buffer): void };

interface NodeRedisDecoderConfig {
  onReply(value: unknown): void;
  onErrorReply(error: Error): void;
  onPush(value: unknown): void;
  getTypeMapping(): Record<number, unknown>;
}
type NodeRedisStyleDecoder = new (config: NodeRedisDecoderConfig) => { write(chunk: Buffer): void };

const RESP = { NUMBER: 58, BIG_NUMBER: 40, DOUBLE: 44, SIMPLE_STRING: 43, BLOB_STRING: 36, VERBATIM_STRING: 61, BOOLEAN: 35, MAP: 37, SET: 126 } as const;

/** The mapping ioredis 6's DataHandler gives its decoder (legacyTypeMapping, not exported). */
const IOREDIS_LEGACY_MAPPING: Record<number, unknown> = {
  [RESP.SIMPLE_STRING]: Buffer,
  [RESP.BLOB_STRING]: Buffer,
  [RESP.VERBATIM_STRING]: Buffer,
  [RESP.BIG_NUMBER]: String,
  [RESP.DOUBLE]: Buffer,
  [RESP.BOOLEAN]: Number,
  [RESP.MAP]: Array,
  [RESP.SET]: Array,
};

export function decoderFactories(): DecoderFactory[] {
  const RedisParser = require('redis-parser') as RedisParserConstructor;
  const IoredisDecoder = (require('ioredis/built/resp/decoder.js') as { Decoder: NodeRedisStyleDecoder }).Decoder;
  const NodeRedisDecoder = (require('@redis/client/dist/lib/RESP/decoder.js') as { Decoder: NodeRedisStyleDecoder }).Decoder;
  const nodeRedisStyle = (Decoder: NodeRedisStyleDecoder, mapping: Record<number, unknown>) => (onReply: (value: unknown) => void) => {
    const decoder = new Decoder({ onReply, onErrorReply: onReply, onPush: onReply, getTypeMapping: () => mapping });
    return (chunk: Buffer) => decoder.write(chunk);
  };
  const factories: DecoderFactory[] = [
    {
      id: 'ours',
      label: 'ours RespParser (strings)',
      create: (onReply) => {
        const parser = new RespParser({ onReply });
        return (chunk) => parser.feed(chunk);
      },
    },
    {
      id: 'ours-buffers',
      label: 'ours RespParser (Buffers)',
      create: (onReply) => {
        const parser = new RespParser({ onReply });
        parser.returnBuffers = true;
        return (chunk) => parser.feed(chunk);
      },
    },
    {
      id: 'redis-parser',
      label: 'redis-parser 3 (strings)',
      create: (onReply) => {
        const parser = new RedisParser({ returnReply: onReply, returnError: onReply, returnFatalError: (e) => { throw e; }, returnBuffers: false });
        return (chunk) => parser.execute(chunk);
      },
    },
    ...(Baseline === undefined
      ? []
      : [
          {
            id: 'baseline',
            label: 'baseline RespParser (strings)',
            create: (onReply: (value: unknown) => void) => {
              const parser = new Baseline({ onReply });
              return (chunk: Buffer) => parser.feed(chunk);
            },
          },
          {
            id: 'baseline-buffers',
            label: 'baseline RespParser (Buffers)',
            create: (onReply: (value: unknown) => void) => {
              const parser = new Baseline({ onReply });
              parser.returnBuffers = true;
              return (chunk: Buffer) => parser.feed(chunk);
            },
          },
        ]),
    { id: 'ioredis', label: "ioredis 6 decoder (ioredis's mapping: Buffers)", create: nodeRedisStyle(IoredisDecoder, IOREDIS_LEGACY_MAPPING) },
    { id: 'ioredis-strings', label: 'ioredis 6 decoder (strings)', create: nodeRedisStyle(IoredisDecoder, {}) },
    { id: 'node-redis', label: 'node-redis 6 decoder (strings)', create: nodeRedisStyle(NodeRedisDecoder, {}) },
  ];
  return factories;
}

export const CHUNK_SIZE = 64 * 1024;

function chunks(stream: Buffer, size = CHUNK_SIZE): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += size) out.push(stream.subarray(i, Math.min(stream.length, i + size)));
  return out;
}

interface Workload {
  id: string;
  label: string;
  /** Top-level replies in the stream. */
  replies: number;
  /** Values in the stream (elements included), for arrays. */
  values: number;
  chunks: Buffer[];
  bytes: number;
  /** Checks one decoder's last reply. */
  checkLast(value: unknown): boolean;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return undefined;
}

function buildWorkloads(scale: number): Workload[] {
  const workloads: Workload[] = [];

  const bulkCount = 100_000 * scale;
  const bulkValue = 'abcdefghijklmnop'; // 16 bytes
  const bulk = Buffer.from(`$16\r\n${bulkValue}\r\n`.repeat(bulkCount), 'latin1');
  workloads.push({ id: 'bulk16', label: 'small bulk strings ($16)', replies: bulkCount, values: bulkCount, chunks: chunks(bulk), bytes: bulk.length, checkLast: (v) => text(v) === bulkValue });

  const intCount = 100_000 * scale;
  const ints: string[] = [];
  for (let i = 0; i < intCount; i++) ints.push(`:${(i * 7919) % 1_000_000_007}\r\n`);
  const intStream = Buffer.from(ints.join(''), 'latin1');
  const lastInt = ((intCount - 1) * 7919) % 1_000_000_007;
  workloads.push({ id: 'integers', label: 'integers', replies: intCount, values: intCount, chunks: chunks(intStream), bytes: intStream.length, checkLast: (v) => v === lastInt || v === String(lastInt) });

  const okCount = 200_000 * scale;
  const ok = Buffer.from('+OK\r\n'.repeat(okCount), 'latin1');
  workloads.push({ id: 'ok', label: '+OK simple strings', replies: okCount, values: okCount, chunks: chunks(ok), bytes: ok.length, checkLast: (v) => text(v) === 'OK' });

  const arrayCount = 10 * scale;
  const arrayLength = 10_000;
  const element = (i: number): string => `member:${String(i).padStart(6, '0')}`; // 13 bytes
  const oneArray = `*${arrayLength}\r\n` + Array.from({ length: arrayLength }, (_, i) => `$13\r\n${element(i)}\r\n`).join('');
  const arrays = Buffer.from(oneArray.repeat(arrayCount), 'latin1');
  workloads.push({
    id: 'arrays',
    label: `arrays of ${arrayLength.toLocaleString('en-US')} short bulk strings`,
    replies: arrayCount,
    values: arrayCount * arrayLength,
    chunks: chunks(arrays),
    bytes: arrays.length,
    checkLast: (v) => Array.isArray(v) && v.length === arrayLength && text(v[arrayLength - 1]) === element(arrayLength - 1),
  });
  return workloads;
}

let sink = 0;

/** Feeds every chunk `reps` times into fresh decoders; returns seconds and checks the reply count. */
function runOnce(factory: DecoderFactory, workload: Workload, reps: number): number {
  let count = 0;
  let last: unknown;
  const onReply = (value: unknown): void => {
    count++;
    last = value;
    // A parser may build a big string as a rope of pieces (redis-parser 3 does), deferring the
    // copy to whoever reads it first: read one character so every parser pays for a flat string.
    if (typeof value === 'string' && value.length > 0) sink ^= value.charCodeAt(value.length - 1);
  };
  const start = performance.now();
  for (let r = 0; r < reps; r++) {
    const feed = factory.create(onReply);
    for (const chunk of workload.chunks) feed(chunk);
  }
  const seconds = (performance.now() - start) / 1000;
  if (count !== workload.replies * reps) throw new Error(`${factory.label} on ${workload.label}: ${count} replies, expected ${workload.replies * reps}`);
  if (sink === -1) console.log(sink);
  if (!workload.checkLast(last)) throw new Error(`${factory.label} on ${workload.label}: wrong last reply`);
  return seconds;
}

export interface ParserRow {
  id: string;
  label: string;
  samples: number[];
  /** Median replies per second. */
  repliesPerSecond: number;
  valuesPerSecond: number;
  mibPerSecond: number;
}

export interface ParserWorkloadResult {
  id: string;
  label: string;
  replies: number;
  values: number;
  bytes: number;
  reps: number;
  rows: ParserRow[];
}

export interface LinearityRow {
  id: string;
  label: string;
  /** MiB/s per bulk size (median). */
  mibPerSecond: Record<string, number>;
  /** Time per byte at 64 MiB / time per byte at 1 MiB (1.0 = perfectly linear). */
  slowdown: number;
}

export interface ParserResult {
  rounds: number;
  chunkSize: number;
  workloads: ParserWorkloadResult[];
  linearity: { sizes: string[]; rows: LinearityRow[] };
}

export function runParserBench(options: { quick: boolean; log: (line: string) => void }): ParserResult {
  const rounds = options.quick ? 3 : 7;
  const factories = decoderFactories();
  if (Baseline) options.log(`  parser: baseline RespParser from ${baselinePath}`);
  const workloads = buildWorkloads(1);
  const results: ParserWorkloadResult[] = [];
  for (const workload of workloads) {
    // Warm every decoder on this workload, then size reps (the same for all) so the slowest run is
    // ~0.25 s and the fastest at least 0.05 s (quick: 0.05 s and 0.01 s). Sized by the slowest
    // alone, the fastest decoders ran for 3 to 10 ms, where a timer tick, a GC or being descheduled
    // once moved a row by +-50% from one run of the bench to the next.
    let slowest = 0;
    let fastest = Infinity;
    for (const factory of factories) {
      runOnce(factory, workload, 1);
      const seconds = runOnce(factory, workload, 1);
      slowest = Math.max(slowest, seconds);
      fastest = Math.min(fastest, seconds);
    }
    const reps = Math.max(1, Math.round((options.quick ? 0.05 : 0.25) / slowest), Math.ceil((options.quick ? 0.01 : 0.05) / fastest));
    const samples = new Map<string, number[]>(factories.map((f) => [f.id, []]));
    for (let round = 0; round < rounds; round++) {
      for (const factory of rotate(factories, round)) {
        collectGarbage();
        samples.get(factory.id)!.push(runOnce(factory, workload, reps));
      }
    }
    results.push({
      id: workload.id,
      label: workload.label,
      replies: workload.replies,
      values: workload.values,
      bytes: workload.bytes,
      reps,
      rows: factories.map((f) => {
        const seconds = median(samples.get(f.id)!);
        return {
          id: f.id,
          label: f.label,
          samples: samples.get(f.id)!.map((s) => (workload.replies * reps) / s),
          repliesPerSecond: (workload.replies * reps) / seconds,
          valuesPerSecond: (workload.values * reps) / seconds,
          mibPerSecond: (workload.bytes * reps) / seconds / 1024 / 1024,
        };
      }),
    });
    options.log(`  parser ${workload.id}: ${reps} reps x ${rounds} rounds`);
  }
  return { rounds, chunkSize: CHUNK_SIZE, workloads: results, linearity: runLinearity(factories, options) };
}

/**
 * Large replies: 64 MiB of bulk strings of 1 MiB, 8 MiB and 64 MiB each, in 64 KiB chunks. The same
 * bytes per run, so a linear parser takes the same time for each size; a quadratic one (re-scanning
 * or re-concatenating what it already has) slows down with the size.
 */
function runLinearity(factories: DecoderFactory[], options: { quick: boolean; log: (line: string) => void }): ParserResult['linearity'] {
  const MiB = 1024 * 1024;
  const total = 64 * MiB;
  const sizes = [1, 8, 64];
  const rounds = options.quick ? 1 : 5;
  const perSize = new Map<string, Record<string, number>>(factories.map((f) => [f.id, {}]));
  for (const sizeMiB of sizes) {
    const size = sizeMiB * MiB;
    const count = total / size;
    const body = Buffer.alloc(size, 'abcdefghijklmnopqrstuvwxyz');
    const header = Buffer.from(`$${size}\r\n`, 'latin1');
    const crlf = Buffer.from('\r\n', 'latin1');
    const stream = Buffer.concat(Array.from({ length: count }, () => [header, body, crlf]).flat());
    const workload: Workload = {
      id: `bulk-${sizeMiB}MiB`,
      label: `${count} x ${sizeMiB} MiB bulk`,
      replies: count,
      values: count,
      chunks: chunks(stream),
      bytes: stream.length,
      checkLast: (v) => (typeof v === 'string' || Buffer.isBuffer(v)) && v.length === size,
    };
    const samples = new Map<string, number[]>(factories.map((f) => [f.id, []]));
    for (const factory of factories) runOnce(factory, workload, 1); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const factory of rotate(factories, round)) {
        collectGarbage();
        samples.get(factory.id)!.push(runOnce(factory, workload, 1));
      }
    }
    for (const factory of factories) perSize.get(factory.id)![`${sizeMiB} MiB`] = workload.bytes / median(samples.get(factory.id)!) / MiB;
    options.log(`  parser linearity ${sizeMiB} MiB: ${rounds} rounds`);
  }
  const labels = sizes.map((s) => `${s} MiB`);
  return {
    sizes: labels,
    rows: factories.map((f) => {
      const rates = perSize.get(f.id)!;
      return { id: f.id, label: f.label, mibPerSecond: rates, slowdown: rates['1 MiB']! / rates['64 MiB']! };
    }),
  };
}
