// Shared by the fault suite (tests/faults/*.test.ts): seeded randomness, settling bookkeeping,
// measurements printed with a `[fault-suite]` prefix, and the few private reads of the client the
// suite needs (each one fails loudly if the client's shape changes).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Socket } from 'node:net';
import type { LinkEvents } from '../../src/client/reconnecting.js';

/** The suite's seed: FAULT_SEED=<n> replays a run; printed by every file that draws from it. */
export const SEED = Number(process.env['FAULT_SEED'] ?? 20_261_209);

/** mulberry32: a small, fast, seeded PRNG (floats in [0, 1)). */
export function prng(seed: number): { next(): number; int(min: number, max: number): number; pick<T>(items: readonly T[]): T } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    /** An integer from min to max, both included. */
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/** Prints a measurement so that it can be read from the test output. */
export function report(text: string): void {
  process.stdout.write(`[fault-suite] ${text}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Outcome of a watched promise: pending until it settles. */
export type Outcome<T> = { state: 'pending' } | { state: 'fulfilled'; value: T } | { state: 'rejected'; error: unknown };

/**
 * Watches promises from the moment they exist (so no rejection is unhandled) and records how each
 * settled; `settled(ms)` waits until all have settled or `ms` passed, then returns the outcomes, some
 * possibly still pending (the caller counts and asserts them: a generous bound, not a timing).
 */
export function watchAll<T>(promises: readonly Promise<T>[]): { outcomes: Outcome<T>[]; settled(ms: number): Promise<Outcome<T>[]> } {
  const outcomes: Outcome<T>[] = promises.map(() => ({ state: 'pending' }));
  let left = promises.length;
  let done: (() => void) | undefined;
  promises.forEach((promise, i) => {
    promise.then(
      (value) => {
        outcomes[i] = { state: 'fulfilled', value };
        if (--left === 0) done?.();
      },
      (error: unknown) => {
        outcomes[i] = { state: 'rejected', error };
        if (--left === 0) done?.();
      },
    );
  });
  return {
    outcomes,
    settled: (ms) =>
      new Promise((resolve) => {
        if (left === 0) return resolve(outcomes);
        const timer = setTimeout(() => resolve(outcomes), ms);
        done = () => {
          clearTimeout(timer);
          resolve(outcomes);
        };
      }),
  };
}

/** Waits for the client's `event`, or fails naming it after `ms` (a hang, not a timing). */
export function nextEvent<E extends keyof LinkEvents>(
  client: { once(event: NoInfer<E>, listener: (...args: LinkEvents[NoInfer<E>]) => void): unknown; off(event: NoInfer<E>, listener: (...args: LinkEvents[NoInfer<E>]) => void): unknown },
  event: E,
  ms: number,
): Promise<LinkEvents[E]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: LinkEvents[E]): void => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    client.once(event, listener);
  });
}

/** The client's current main connection (a private field of the SDK: read only by tests). */
export interface ConnectionInternals {
  readonly pendingCount: number;
  readonly isOpen: boolean;
  readonly socket: Socket;
}

export function currentConnection(client: object): ConnectionInternals {
  const connection = (client as { core?: { link?: { current?: ConnectionInternals } } }).core?.link?.current;
  if (connection === undefined || typeof connection.pendingCount !== 'number') {
    throw new Error('fault suite: cannot read client.core.link.current (the client changed shape; update tests/faults/helpers.ts)');
  }
  return connection;
}

/** Forces a full garbage collection (exposes V8's gc in this worker on first use). */
export function gc(): void {
  let collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
    (globalThis as { gc?: () => void }).gc = collect;
  }
  collect();
  collect();
}

export const MB = 1024 * 1024;
export const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
