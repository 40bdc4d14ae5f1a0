// Starts and stops a REAL redis-server for integration tests.
//
// Each server gets a free loopback port, a fresh temporary --dir, no persistence, and is killed when
// stop() is called or, failing that, when the test process exits. A missing redis-server is always an
// error (never a skip): locally the message says to run `make setup`; with CI=true it says so too and
// that CI requires it.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RedisServerHandle {
  host: string;
  port: number;
  /** With `tls: true`: the TLS port (the plain port stays open too), certificates in testkit/tls/. */
  tlsPort?: number;
  /** With `unixSocket: true`: the Unix socket's path. */
  socketPath?: string;
  /** `redis_version` from the running server's INFO, e.g. `7.0.15`. */
  version: string;
  /** SIGTERM, then SIGKILL after 3 s; waits for exit and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** Extra command-line config, appended after the harness defaults (so they can override them). */
  args?: string[];
  /**
   * Start with `cluster-enabled yes` (cluster bus on port + 10000). By default the node is then made
   * a usable one-node cluster: it takes all 16384 slots and the call waits for `cluster_state:ok`.
   */
  cluster?: boolean;
  /** With `cluster: true`, set false to leave the slots unassigned (to build a multi-node cluster). */
  clusterAssignSlots?: boolean;
  /** This port instead of a free one (to restart a server where a client expects it). */
  port?: number;
  /** Also listen with TLS on another free port, with testkit/tls/'s certificate (client certificates not required). */
  tls?: boolean;
  /** Also listen on a Unix socket in the server's temp dir. */
  unixSocket?: boolean;
  /** Require this password (set once the server is ready: the harness's own checks do not authenticate). */
  password?: string;
}

/** The test certificates (testkit/tls/): the CA a client trusts, and the server's pair. */
export const TLS_FILES = {
  ca: fileURLToPath(new URL('./tls/ca.crt', import.meta.url)),
  cert: fileURLToPath(new URL('./tls/server.crt', import.meta.url)),
  key: fileURLToPath(new URL('./tls/server.key', import.meta.url)),
};

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const PORT_ATTEMPTS = 5;

export const REDIS_SERVER_NOT_FOUND =
  "redis-server not found: install it with 'make setup' (apt-get install -y redis-server)";

/** Finds a free loopback port: listen on 127.0.0.1:0, read the port, close. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('findFreePort: no TCP address'));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}

/** `REDIS_SERVER_BIN`, else `redis-server` on PATH; throws the `make setup` error when neither exists. */
export function resolveRedisServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['REDIS_SERVER_BIN'];
  if (explicit !== undefined && explicit !== '') {
    if (isExecutableFile(explicit)) return explicit;
    throw notFoundError(env, `REDIS_SERVER_BIN=${explicit} is not an executable file`);
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    if (isExecutableFile(candidate)) return candidate;
  }
  throw notFoundError(env, 'no redis-server on PATH and REDIS_SERVER_BIN is not set');
}

function notFoundError(env: NodeJS.ProcessEnv, detail: string): Error {
  const why =
    env['CI'] === 'true'
      ? 'CI=true: integration tests need a real redis-server in CI; this is a hard failure, not a skip.'
      : 'Integration tests are never skipped: run `make setup` (or set REDIS_SERVER_BIN).';
  return new Error(`${REDIS_SERVER_NOT_FOUND} [${detail}] ${why}`);
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

// Servers still running when the process exits are killed and their temp dirs removed, so a test
// process that exits without stop() leaves nothing behind.
const liveChildren = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess, dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const [c, d] of liveChildren) {
        c.kill('SIGKILL');
        rmSync(d, { recursive: true, force: true });
      }
    });
  }
  liveChildren.set(child, dir);
}

class PortInUseError extends Error {}

export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const bin = resolveRedisServerBinary();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (options.port !== undefined ? 1 : PORT_ATTEMPTS); attempt++) {
    const port = options.port ?? (options.cluster ? await findFreeClusterPort() : await findFreePort());
    try {
      return await startOnPort(bin, port, options);
    } catch (err) {
      // Another process took the port between findFreePort() and redis-server's bind: try another.
      if (err instanceof PortInUseError) {
        lastError = err;
        continue;
      }
      throw err;
    }
  }
  throw new Error(`redis-server: no free port after ${PORT_ATTEMPTS} attempts: ${lastError?.message}`);
}

/** A cluster node also binds port + 10000 (the cluster bus), so both must be free. */
async function findFreeClusterPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await findFreePort();
    if (port + 10_000 > 65_535) continue;
    if (await isPortFree(port + 10_000)) return port;
  }
  throw new Error('redis-server: no free port pair (port, port + 10000) for a cluster node');
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function startOnPort(bin: string, port: number, options: StartRedisServerOptions): Promise<RedisServerHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'gocache-redis-'));
  const tlsPort = options.tls ? await findFreePort() : undefined;
  const socketPath = options.unixSocket ? join(dir, 'redis.sock') : undefined;
  const args = [
    '--port', String(port),
    '--bind', HOST,
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'no',
    '--loglevel', 'warning',
    ...(options.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')] : []),
    ...(tlsPort !== undefined ? ['--tls-port', String(tlsPort), '--tls-cert-file', TLS_FILES.cert, '--tls-key-file', TLS_FILES.key, '--tls-ca-cert-file', TLS_FILES.ca, '--tls-auth-clients', 'no'] : []),
    ...(socketPath !== undefined ? ['--unixsocket', socketPath, '--unixsocketperm', '700'] : []),
    ...(options.args ?? []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child, dir);

  // Keep the tail of the server's output for error messages; draining also keeps the pipes flowing.
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let spawnError: Error | undefined;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timedOut = await raceTimeout(exitPromise, STOP_GRACE_MS);
        if (timedOut) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      await rm(dir, { recursive: true, force: true });
      liveChildren.delete(child);
    })();
    return stopping;
  };

  try {
    await waitUntilReady();
    const info = await redisCommand(HOST, port, ['INFO', 'server']);
    if (typeof info !== 'string') throw new Error(`redis-server: unexpected INFO reply ${JSON.stringify(info)}`);
    const version = /^redis_version:(\S+)/m.exec(info)?.[1];
    if (version === undefined) throw new Error('redis-server: INFO server has no redis_version');
    if (options.cluster && options.clusterAssignSlots !== false) await becomeOneNodeCluster(port);
    if (options.password !== undefined) {
      const reply = await redisCommand(HOST, port, ['CONFIG', 'SET', 'requirepass', options.password]);
      if (reply !== 'OK') throw new Error(`redis-server: CONFIG SET requirepass answered ${JSON.stringify(reply)}`);
    }
    return { host: HOST, port, version, stop, ...(tlsPort !== undefined ? { tlsPort } : {}), ...(socketPath !== undefined ? { socketPath } : {}) };
  } catch (err) {
    await stop();
    throw err;
  }

  async function waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      if (exited) {
        if (spawnError) throw new Error(`redis-server: cannot run ${bin}: ${spawnError.message}`);
        if (/address already in use/i.test(output)) throw new PortInUseError(`port ${port} is in use`);
        throw new Error(`redis-server exited during startup (${bin} ${args.join(' ')}):\n${output}`);
      }
      try {
        const pong = await rawExchange(HOST, port, Buffer.from('*1\r\n$4\r\nPING\r\n'), 1_000, (b) => b.includes('\r\n'));
        if (pong.toString('latin1') === '+PONG\r\n') {
          // The port may have been taken by someone else's server that answers PING too: check its pid.
          const info = await redisCommand(HOST, port, ['INFO', 'server']);
          const pid = typeof info === 'string' ? /^process_id:(\d+)/m.exec(info)?.[1] : undefined;
          if (pid !== undefined && Number(pid) !== child.pid) throw new PortInUseError(`port ${port} is served by pid ${pid}`);
          return;
        }
        lastProblem = `PING answered ${JSON.stringify(pong.toString('latin1'))}`;
      } catch (err) {
        if (err instanceof PortInUseError) throw err;
        lastProblem = (err as Error).message;
      }
      await sleep(50);
    }
    throw new Error(`redis-server did not answer PING on ${HOST}:${port} within ${READY_TIMEOUT_MS} ms (${lastProblem}):\n${output}`);
  }
}

async function becomeOneNodeCluster(port: number): Promise<void> {
  const reply = await redisCommand(HOST, port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  if (reply !== 'OK') throw new Error(`redis-server: CLUSTER ADDSLOTSRANGE answered ${JSON.stringify(reply)}`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const info = await redisCommand(HOST, port, ['CLUSTER', 'INFO']);
    if (typeof info === 'string' && info.includes('cluster_state:ok')) return;
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port}: cluster_state did not become ok`);
}

// ---------------------------------------------------------------------------------------------------
// Minimal raw RESP helpers for the harness itself (deliberately independent of src/, which is under test).

export type RawReply = string | number | null | RawReply[] | { error: string };

/**
 * Sends one command as an array of bulk strings on a fresh connection and returns the decoded reply
 * (bulk and simple strings as UTF-8 strings, errors as `{ error }`).
 */
export async function redisCommand(host: string, port: number, args: string[], timeoutMs = 5_000): Promise<RawReply> {
  const request = Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => {
      const bytes = Buffer.from(a, 'utf8');
      return [Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')];
    }),
  ]);
  const bytes = await rawExchange(host, port, request, timeoutMs, (b) => parseRawReply(b, 0) !== undefined);
  const parsed = parseRawReply(bytes, 0);
  if (parsed === undefined) throw new Error('redisCommand: incomplete reply');
  return parsed.value;
}

/**
 * Connects, writes `request`, and collects bytes until `done(bytes)` is true; then closes.
 * Rejects on connection errors, on early close and after `timeoutMs`.
 */
export function rawExchange(
  host: string,
  port: number,
  request: Buffer,
  timeoutMs: number,
  done: (received: Buffer) => boolean,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(received);
    };
    const timer = setTimeout(() => finish(new Error(`no complete reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (done(received)) finish(undefined);
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`connection to ${host}:${port} closed before a complete reply`)));
    socket.connect(port, host, () => socket.write(request));
  });
}

function parseRawReply(buf: Buffer, pos: number): { value: RawReply; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buf[pos] ?? 0);
  const line = buf.toString('utf8', pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: { error: line }, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RawReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseRawReply(buf, at);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when `ms` elapsed before `promise` settled. */
function raceTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
