/**
 * `make demo` (examples/run-demo.ts) run as a subprocess, as a user runs it: against the harness's
 * redis-server through GOCACHE_URL, and starting its own redis-server as it does by default. Checks
 * key lines of its output, that results line up in one column, that two runs print the same, and
 * that a failure exits non-zero with the error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { CALL_WIDTH } from '../../examples/print.js';
import { findFreePort } from '../../testkit/redis-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
// Generous: it bounds a hang, it does not time the demo (the machine may be loaded).
const DEMO_TIMEOUT_MS = 180_000;

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

/** Runs the demo with GOCACHE_URL set to `url` (or unset), never inheriting the caller's GOCACHE_URL. */
function runDemo(url: string | undefined): Promise<DemoRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['GOCACHE_URL'];
  if (url !== undefined) env['GOCACHE_URL'] = url;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, 'examples/run-demo.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A row of the output: the call, then (on the same line, or on the next when the call is long) its result. */
function row(call: string, result: string): RegExp {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^ {2}${escape(call)}\\s+${escape(result)}$`, 'm');
}

/** Every result starts in column CALL_WIDTH: right after the call, or alone on the line after a long call. */
function expectAligned(output: string): void {
  const lines = output.split('\n');
  const rows = lines.filter((line, i) => line.startsWith('  ') && !lines[i + 1]?.startsWith(' '.repeat(CALL_WIDTH)));
  expect(rows.length).toBeGreaterThan(30);
  for (const line of rows) expect([line[CALL_WIDTH - 1], line[CALL_WIDTH] === ' '], line).toEqual([' ', false]);
}

const harnessUrl = (): string => `redis://${inject('redisHost')}:${inject('redisPort')}`;

describe('make demo (examples/run-demo.ts)', () => {
  let againstHarness: DemoRun;
  beforeAll(async () => {
    againstHarness = await runDemo(harnessUrl());
  }, DEMO_TIMEOUT_MS);

  it('against the harness redis-server (GOCACHE_URL=redis://...): both parts, exit code 0', () => {
    const { code, stdout, stderr } = againstHarness;
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`Using GOCACHE_URL=${harnessUrl()}`);

    // Part one: the default client, typed for GoCache.
    expect(stdout).toContain("=== Part one: GoCache mode, the default client (no server option): cache.server is 'gocache' ===");
    expect(stdout).toMatch(row('cache.ping()', "'PONG'"));
    expect(stdout).toMatch(row("cache.set('session:token', 'abc123', { ex: 60 })", "'OK'"));
    expect(stdout).toMatch(row("cache.get('user:1000')", "'Eric'"));
    expect(stdout).toMatch(row("cache.get('user:9999')", 'null'));
    expect(stdout).toMatch(row("cache.buffers.get('greeting')", '<Buffer 68 c3 a9 6c 6c 6f>'));
    expect(stdout).toMatch(row("cache.pipeline().set('page', 'hi').get('page').exec()", "['OK', 'hi']"));
    expect(stdout).toMatch(row("cache.publish('news', 'hello')", '1'));
    expect(stdout).toMatch(row('for await (const message of subscription)', "{ channel: 'news', message: 'hello' }"));
    expect(stdout).toMatch(row("cache.del('user:1000', 'session:token', 'greeting', 'page')", '4'));
    expect(stdout).toMatch(row("cache.incr('visits')", "rejects GoCacheArgumentError: INCR is not served by GoCache; connect with { server: 'redis' } to use it with Redis"));

    // Part two: { server: 'redis' }.
    expect(stdout).toContain("=== Part two: Redis mode, { server: 'redis' }: redis.server is 'redis' ===");
    expect(stdout).toMatch(row("redis.pipeline().set('visits', '10').incr('visits').get('visits').exec()", "['OK', 11, '11']"));
    expect(stdout).toMatch(row("redis.multi().set('counter', '1').incr('counter').exec()", "['OK', 2]"));
    expect(stdout).toMatch(row("redis.watch(['balance'], (tx) => withdraw 10 from balance)", "'95'"));
    expect(stdout).toMatch(row('  attempts (the first one lost the race)', '2'));
    expect(stdout).toMatch(row('for await (const message of subscription)', "{ pattern: 'orders:*', channel: 'orders:eu', message: 'order #1' }"));
    expect(stdout).toMatch(row("redis.scanIterator({ match: 'product:*' }), sorted", "['product:1', 'product:2', 'product:3']"));
    expect(stdout).toMatch(row("redis.hgetall('user:1')", "{ name: 'Ada', lang: 'en' }"));
    expect(stdout).toMatch(row("redis.zrange('board', 0, -1)", "['bob', 'ada']"));
    expect(stdout).toMatch(row("redis.zrange('board', 0, -1, { withscores: true })", "[['bob', 1], ['ada', 3]]"));
    expect(stdout).toMatch(row("redis.set('user:1000', 'Ada', { get: true })", "'Eric'"));
    expect(stdout).toMatch(row("redis.xrange('events', '-', '+', { count: 1 })", "[{ id: '1-1', fields: [['type', 'login'], ['user', 'ada']] }]"));
    expect(stdout).toMatch(row("redis.xread({ events: '1-1' })", "[{ stream: 'events', entries: [{ id: '2-1', fields: [['type', 'logout'], ['user', 'ada']] }] }]"));
    expect(stdout).toMatch(row("redis.sendCommand<string>(['OBJECT', 'ENCODING', 'counter'])", "'int'"));
    expect(stdout).toMatch(row("redis.hgetall('user:1000')", "rejects GoCacheCommandError (code 'WRONGTYPE'): WRONGTYPE Operation against a key holding the wrong kind of value"));
    expect(stdout).toMatch(row('  error.code', "'WRONGTYPE'"));
    expect(stdout).toMatch(row('redis.del(...keys) (the 10 keys written above)', '10'));
    expect(stdout.trimEnd().endsWith('Done.')).toBe(true);
    expectAligned(stdout);
  });

  it('with no GOCACHE_URL (what make demo runs): starts its own redis-server and prints the same', async () => {
    const { code, stdout, stderr } = await runDemo(undefined);
    expect(code, stderr).toBe(0);
    const [first, ...rest] = stdout.split('\n');
    expect(first).toMatch(/^Started redis-server \S+ on a free loopback port \(set GOCACHE_URL to use your own server\)$/);
    // Deterministic: the same lines as the run against the harness's server, apart from the first.
    expect(rest.join('\n')).toBe(againstHarness.stdout.split('\n').slice(1).join('\n'));
  }, DEMO_TIMEOUT_MS);

  it('with a gocache:// GOCACHE_URL: part one only, exit code 0', async () => {
    const { code, stdout, stderr } = await runDemo(harnessUrl().replace(/^redis:/, 'gocache:'));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('part two (Redis mode) needs a redis:// URL, and is skipped');
    expect(stdout).toMatch(row("cache.get('user:1000')", "'Eric'"));
    expect(stdout).toMatch(row("cache.incr('visits')", "rejects GoCacheArgumentError: INCR is not served by GoCache; connect with { server: 'redis' } to use it with Redis"));
    expect(stdout).not.toContain('Part two');
    expect(stdout.trimEnd().endsWith('Done.')).toBe(true);
  }, DEMO_TIMEOUT_MS);

  it('exits non-zero with the error when the server cannot be reached', async () => {
    // A loopback port nobody listens on (found free, then closed).
    const { code, stdout, stderr } = await runDemo(`redis://127.0.0.1:${await findFreePort()}`);
    expect(code).toBe(1);
    expect(stdout).not.toContain('Done.');
    expect(stderr).toMatch(/The demo failed: GoCacheConnectionError: Could not connect to GoCache at 127\.0\.0\.1:\d+\. Is the server running\?/);
  }, DEMO_TIMEOUT_MS);
});
