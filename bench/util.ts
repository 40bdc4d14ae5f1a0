/** Small helpers shared by the benchmarks: statistics, a callable gc(), formatting, argument parsing. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** (max - min) / median: how much a measurement moved between rounds. */
export function spread(values: readonly number[]): number {
  if (values.length < 2) return 0;
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

let gcFunction: (() => void) | undefined;

/** A full garbage collection, also without --expose-gc (the flag is switched on at run time). */
export function collectGarbage(): void {
  if (gcFunction === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') {
      gcFunction = existing;
    } else {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    }
  }
  gcFunction();
}

/** `[a, b, c]` rotated left by `by`: round r runs every contestant once, starting with a different one. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export function formatRate(opsPerSecond: number): string {
  if (!Number.isFinite(opsPerSecond)) return 'n/a';
  return Math.round(opsPerSecond).toLocaleString('en-US');
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a';
}

export function formatPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(0)}%` : 'n/a';
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  const abs = Math.abs(bytes);
  if (abs >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** A plain-text table with aligned columns (numbers right-aligned). */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const isNumber = (cell: string): boolean => cell === '-' || (/^[-+\d.,x%n/a ()µsMKiB<>=≥≤]*$/.test(cell) && /\d|n\/a/.test(cell));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => isNumber(row[i] ?? '')));
  const line = (cells: readonly string[]): string =>
    '| ' + cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (numeric[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export interface BenchArgs {
  quick: boolean;
  /** Sections to run; all when empty. */
  only: Set<string>;
  /** Where to write the raw results as JSON, if anywhere. */
  json: string | undefined;
  /** Socket scenarios to run (ids); all when empty. */
  scenarios: Set<string>;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: new Set(), json: undefined, scenarios: new Set() };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg.startsWith('--only=')) for (const name of arg.slice('--only='.length).split(',')) args.only.add(name.trim());
    else if (arg.startsWith('--json=')) args.json = arg.slice('--json='.length);
    else if (arg.startsWith('--scenario=')) for (const name of arg.slice('--scenario='.length).split(',')) args.scenarios.add(name.trim());
    else if (arg === '--help' || arg === '-h') {
      console.log('npx tsx bench/run.ts [--quick] [--only=sockets,parser,memory,compile] [--scenario=sequential,inflight-100,inflight-1000,pipeline-1000,get-1mib] [--json=out.json]');
      process.exit(0);
    } else {
      throw new Error(`Unknown argument ${arg} (try --help)`);
    }
  }
  return args;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A deterministic string of `length` printable ASCII bytes (so UTF-8 length = length). */
export function asciiValue(length: number, seed = 1): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let x = seed >>> 0 || 1;
  const chars = new Array<string>(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chars[i] = alphabet[(x >>> 0) % alphabet.length]!;
  }
  return chars.join('');
}
