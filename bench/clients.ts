/**
 * The clients under comparison, each on ONE connection, all speaking RESP2, behind one small
 * interface. Each connection is named (CLIENT SETNAME) so run.ts can check in CLIENT LIST that it
 * is exactly one socket with resp=2.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { GoCacheClient } from '../src/client/client.js';

export type Family = 'ours' | 'ioredis' | 'node-redis';

export interface BenchClient {
  /** Stable id, also the connection name seen in CLIENT LIST. */
  id: string;
  label: string;
  family: Family;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  /**
   * `n` GETs of `key` as this client's explicit pipeline (resolves when all replies are in), or
   * undefined when the client has none.
   */
  pipelineGets: ((key: string, n: number) => Promise<unknown[]>) | undefined;
  /** What pipelineGets really does, for the tables. */
  pipelineLabel: string;
  /** `n` GETs issued in one tick and awaited with Promise.all. */
  promiseAllGets(key: string, n: number): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface ServerAddress {
  host: string;
  port: number;
}

/** The shape we expect from `client.pipeline()`, which may not exist yet (the lead is adding it). */
interface ChainLike {
  get(key: string): ChainLike;
  exec(): Promise<unknown[]>;
}

/** True when this build of the SDK has the explicit pipeline API. */
export function oursHasPipeline(client: GoCacheClient<'redis'>): boolean {
  return typeof (client as unknown as { pipeline?: unknown }).pipeline === 'function';
}

function promiseAll(get: (key: string) => Promise<unknown>, key: string, n: number): Promise<unknown[]> {
  const promises = new Array<Promise<unknown>>(n);
  for (let i = 0; i < n; i++) promises[i] = get(key);
  return Promise.all(promises);
}

export interface OursOptions {
  commandTimeout?: number;
  /** Force Promise.all even when client.pipeline() exists (to compare both). */
  forcePromiseAll?: boolean;
  id?: string;
  label?: string;
}

export async function connectOurs(address: ServerAddress, options: OursOptions = {}): Promise<BenchClient> {
  const id = options.id ?? 'ours';
  const client = await GoCacheClient.connect({
    host: address.host,
    port: address.port,
    server: 'redis',
    clientName: `bench-${id}`,
    ...(options.commandTimeout !== undefined ? { commandTimeout: options.commandTimeout } : {}),
  });
  const get = (key: string): Promise<string | null> => client.get(key);
  const hasPipeline = oursHasPipeline(client) && options.forcePromiseAll !== true;
  const pipelineGets = hasPipeline
    ? (key: string, n: number): Promise<unknown[]> => {
        // The one line to switch: client.pipeline() once it exists, Promise.all until then.
        let chain = (client as unknown as { pipeline(): ChainLike }).pipeline();
        for (let i = 0; i < n; i++) chain = chain.get(key);
        return chain.exec();
      }
    : (key: string, n: number): Promise<unknown[]> => promiseAll(get, key, n);
  return {
    id,
    label: options.label ?? 'ours',
    family: 'ours',
    get,
    set: (key, value) => client.set(key, value),
    pipelineGets,
    pipelineLabel: hasPipeline ? 'ours client.pipeline().exec()' : options.forcePromiseAll ? 'ours Promise.all' : 'ours Promise.all (no pipeline() yet)',
    promiseAllGets: (key, n) => promiseAll(get, key, n),
    close: () => client.close(),
  };
}

export async function connectIoredis(address: ServerAddress, autoPipelining: boolean): Promise<BenchClient> {
  const id = autoPipelining ? 'ioredis-auto' : 'ioredis';
  const redis = new Redis({
    host: address.host,
    port: address.port,
    protocol: 2, // ioredis 6 defaults to RESP3
    enableAutoPipelining: autoPipelining,
    connectionName: `bench-${id}`,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null, // never a second socket
  });
  await redis.connect();
  const get = (key: string): Promise<string | null> => redis.get(key);
  return {
    id,
    label: autoPipelining ? 'ioredis enableAutoPipelining' : 'ioredis',
    family: 'ioredis',
    get,
    set: (key, value) => redis.set(key, value),
    pipelineGets: async (key, n) => {
      const pipeline = redis.pipeline();
      for (let i = 0; i < n; i++) pipeline.get(key);
      const results = await pipeline.exec();
      if (results === null) throw new Error('ioredis pipeline returned null');
      return results;
    },
    pipelineLabel: 'ioredis pipeline().exec()',
    promiseAllGets: (key, n) => promiseAll(get, key, n),
    close: async () => {
      await redis.quit();
    },
  };
}

/**
 * node-redis 6. By default every command gets `timeout: 5000` (DEFAULT_COMMAND_TIMEOUT), which
 * creates an AbortSignal.timeout() and an event listener per command; `commandOptions: { timeout: 0 }`
 * turns that off (commands-queue.js only arms it when the timeout is truthy).
 */
export async function connectNodeRedis(address: ServerAddress, noTimeout: boolean): Promise<BenchClient> {
  const id = noTimeout ? 'node-redis-t0' : 'node-redis';
  const client = createClient({
    socket: { host: address.host, port: address.port, reconnectStrategy: false },
    RESP: 2,
    name: `bench-${id}`,
    ...(noTimeout ? { commandOptions: { timeout: 0 } } : {}),
  });
  client.on('error', (error: unknown) => {
    console.error(`[${id}] ${String(error)}`);
  });
  await client.connect();
  const get = (key: string): Promise<string | null> => client.get(key);
  return {
    id,
    label: noTimeout ? 'node-redis { timeout: 0 }' : 'node-redis (default 5 s timeout)',
    family: 'node-redis',
    get,
    set: (key, value) => client.set(key, value),
    pipelineGets: (key, n) => {
      const multi = client.multi();
      for (let i = 0; i < n; i++) multi.get(key);
      return multi.execAsPipeline();
    },
    pipelineLabel: noTimeout ? 'node-redis { timeout: 0 } multi().execAsPipeline()' : 'node-redis multi().execAsPipeline()',
    promiseAllGets: (key, n) => promiseAll(get, key, n),
    close: () => client.close(),
  };
}
