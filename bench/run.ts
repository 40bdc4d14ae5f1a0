/**
 * The benchmark suite: `npx tsx bench/run.ts [--quick] [--only=sockets,parser,memory,compile]
 * [--scenario=<ids>] [--json=file]`.
 *
 * Starts a private redis-server, runs every section in this one process (memory in child
 * processes), prints the tables and the targets to stdout (progress goes to stderr), stops
 * the server. Full run: about 4-5 minutes; --quick: about a minute, indicative only.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { redisCommand, startRedisServer, type RedisServerHandle } from '../testkit/redis-server.js';
import { connectIoredis, connectNodeRedis, connectOurs, oursHasPipeline, type BenchClient } from './clients.js';
import { runClusterBench } from './cluster.js';
import { runCompileBench } from './compile-time.js';
import { runMemoryBench } from './memory.js';
import { runParserBench } from './parser.js';
import { BENCHMARK_KEY } from './redis-benchmark.js';
import { renderReport, type AllResults } from './report.js';
import { buildScenarios, runScenario, type ScenarioContext } from './scenarios.js';
import { asciiValue, parseArgs } from './util.js';
import { GoCacheClient } from '../src/client/client.js';

const started = performance.now();
function log(line: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

/** Raw RESP on a fresh connection (the harness's helper): SET for values of any size. */
async function setKey(server: RedisServerHandle, key: string, value: string): Promise<void> {
  const reply = await redisCommand(server.host, server.port, ['SET', key, value], 30_000);
  if (reply !== 'OK') throw new Error(`SET ${key} answered ${JSON.stringify(reply)}`);
}

interface ClientListEntry {
  id: string;
  name: string;
  resp: string;
}

async function clientList(server: RedisServerHandle): Promise<ClientListEntry[]> {
  const reply = await redisCommand(server.host, server.port, ['CLIENT', 'LIST']);
  if (typeof reply !== 'string') throw new Error(`CLIENT LIST answered ${JSON.stringify(reply)}`);
  return reply
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = new Map(line.trim().split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const));
      return { id: fields.get('id') ?? '', name: fields.get('name') ?? '', resp: fields.get('resp') ?? '?' };
    });
}

/** Each client has exactly one connection, named bench-<id>, speaking RESP2; returns name -> connection id. */
async function verifyConnections(server: RedisServerHandle, clients: BenchClient[]): Promise<Map<string, string>> {
  const entries = await clientList(server);
  const ids = new Map<string, string>();
  for (const client of clients) {
    const name = `bench-${client.id}`;
    const mine = entries.filter((e) => e.name === name);
    if (mine.length !== 1) throw new Error(`${client.label}: ${mine.length} connections named ${name} in CLIENT LIST (expected exactly 1)`);
    if (mine[0]!.resp !== '2') throw new Error(`${client.label}: its connection speaks resp=${mine[0]!.resp}, not RESP2`);
    ids.set(name, mine[0]!.id);
  }
  const strangers = entries.filter((e) => !e.name.startsWith('bench-') && e.name !== '');
  if (strangers.length > 0) throw new Error(`Unexpected connections: ${strangers.map((e) => e.name).join(', ')}`);
  // Unnamed connections other than our own CLIENT LIST one would be a second socket of some client.
  const unnamed = entries.filter((e) => e.name === '');
  if (unnamed.length !== 1) throw new Error(`${unnamed.length - 1} unnamed connection(s) besides this CLIENT LIST: a client opened a second socket`);
  return ids;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runs = (section: string): boolean => args.only.size === 0 || args.only.has(section);
  log(`starting redis-server${args.quick ? ' (--quick)' : ''}`);
  const server = await startRedisServer();
  const results: AllResults = {
    quick: args.quick,
    node: process.version,
    redisVersion: server.version,
    startedAt: new Date().toISOString(),
    checks: [],
    scenarios: [],
  };
  try {
    const address = { host: server.host, port: server.port };
    const value16 = asciiValue(16, 7);
    const value1MiB = asciiValue(1024 * 1024, 11);
    await setKey(server, BENCHMARK_KEY, value16);

    // Does this build have client.pipeline()? (Switches ours from Promise.all to the real thing.)
    const probe = await GoCacheClient.connect({ ...address, server: 'redis' });
    results.oursHasPipeline = oursHasPipeline(probe);
    await probe.close();
    log(`ours: ${results.oursHasPipeline ? 'client.pipeline() found' : 'no client.pipeline() yet: explicit pipelines use Promise.all'}`);

    if (runs('sockets')) {
      const clients: ScenarioContext['clients'] = {
        ours: await connectOurs(address),
        oursTimeout: await connectOurs(address, { commandTimeout: 5000, id: 'ours-timeout', label: 'ours commandTimeout: 5000' }),
        ioredis: await connectIoredis(address, false),
        ioredisAuto: await connectIoredis(address, true),
        nodeRedis: await connectNodeRedis(address, false),
        nodeRedisT0: await connectNodeRedis(address, true),
      };
      const oursPromiseAll = results.oursHasPipeline ? await connectOurs(address, { forcePromiseAll: true, id: 'ours-promise-all', label: 'ours Promise.all' }) : undefined;
      const all = [...Object.values(clients), ...(oursPromiseAll ? [oursPromiseAll] : [])];
      const before = await verifyConnections(server, all);
      results.checks.push(`Every client on exactly one connection, RESP2 (CLIENT LIST: resp=2, one connection per client name): ${all.map((c) => c.id).join(', ')}.`);
      const ctx: ScenarioContext = {
        host: server.host,
        port: server.port,
        clients,
        oursPromiseAll,
        setKey: (key, value) => setKey(server, key, value),
        value16,
        value1MiB,
        quick: args.quick,
      };
      for (const scenario of buildScenarios(ctx)) {
        if (args.scenarios.size > 0 && !args.scenarios.has(scenario.id)) continue;
        log(`scenario ${scenario.id}`);
        results.scenarios.push(await runScenario(scenario, args.quick ? 3 : 7, log));
      }
      const after = await verifyConnections(server, all);
      for (const [name, id] of before) if (after.get(name) !== id) throw new Error(`${name} reconnected during the run (connection id ${id} -> ${after.get(name)})`);
      results.checks.push('Still the same single connection per client after every scenario (same CLIENT LIST ids).');
      for (const client of all) await client.close();
      await setKey(server, BENCHMARK_KEY, value16);
    }

    if (runs('cluster')) {
      results.scenarios.push(...(await runClusterBench({ quick: args.quick, log })));
    }

    if (runs('parser')) {
      log('parser');
      results.parser = runParserBench({ quick: args.quick, log });
    }

    if (runs('memory')) {
      log('memory (child processes)');
      await setKey(server, BENCHMARK_KEY, value16);
      results.memory = await runMemoryBench({ host: server.host, port: server.port, quick: args.quick, oursHasPipeline: results.oursHasPipeline, log });
    }

    if (runs('compile')) {
      log('compile time');
      results.compile = await runCompileBench({ quick: args.quick, log });
    }
  } finally {
    await server.stop();
  }
  results.seconds = (performance.now() - started) / 1000;
  const { text, targets } = renderReport(results);
  process.stdout.write(text + '\n');
  process.stdout.write(`\n(${results.seconds.toFixed(0)} s)\n`);
  if (args.json !== undefined) {
    writeFileSync(args.json, JSON.stringify({ ...results, targets }, null, 2) + '\n');
    log(`raw results: ${args.json}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
