// Random cuts: tens of thousands of pipelined commands through the fault proxy, with the client's
// connection cut at a random byte offset (seeded) of the requests or of the replies in every round.
//
// Every command can tell a misplaced reply from its own: SET k_i v_i answers OK; GET reads a key
// whose SET was confirmed (each key is written once, with a value that names it) or a key never
// written (null); INCR counts on a key of its own (1, or it ran twice). So a reply shifted by one, a
// reply handed to two commands, or a command silently re-sent after a reconnect is counted. Every
// promise must settle (with its value, or a GoCacheError), and after every cut the client (reconnect
// on, its default retry strategy) must serve again. A redis-server of this file's own, behind the proxy.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GoCacheClient, GoCacheError, type RedisClient } from '../../src/index.js';
import { startFaultProxy, type Direction, type FaultProxy } from '../../testkit/fault-proxy.js';
import { within } from '../../testkit/promises.js';
import { redisCommand, startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { prng, report, SEED, watchAll } from './helpers.js';

const ROUNDS = 40;
const PER_ROUND = 1_200;

let server: RedisServerHandle;
let proxy: FaultProxy;
beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startFaultProxy({ target: { host: server.host, port: server.port }, recordLimit: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

const bulkLength = (text: string): number => Buffer.byteLength(text);
const bulk = (text: string): number => {
  const n = bulkLength(text);
  return 1 + String(n).length + 2 + n + 2;
};
/** Bytes of a command as the SDK encodes it (an array of bulk strings). */
const requestBytes = (args: string[]): number => 1 + String(args.length).length + 2 + args.reduce((sum, a) => sum + bulk(a), 0);

type Kind = 'set' | 'get' | 'get-missing' | 'get-buffer' | 'incr';
interface Command {
  kind: Kind;
  key: string;
  /** What a reply of its own is. */
  expected: string | null | number;
  promise: Promise<unknown>;
}

it(`${ROUNDS * PER_ROUND} pipelined commands through random cuts: no reply reaches the wrong command, none is duplicated, every promise settles, service resumes after each cut`, async () => {
  const random = prng(SEED);
  const client: RedisClient = await GoCacheClient.connect({ host: proxy.host, port: proxy.port, server: 'redis' });
  let reconnects = 0;
  client.on('reconnecting', () => reconnects++);
  const confirmed: Array<[string, string]> = []; // keys whose SET answered OK, with their values
  const counters: string[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const value = (key: string): string => {
    const long = random.next() < 0.05;
    const pad = Array.from({ length: long ? random.int(1_000, 3_000) : random.int(0, 40) }, () => random.pick([...letters])).join('');
    return `${key}=${pad}${random.next() < 0.1 ? 'é✓' : ''}`;
  };

  let total = 0;
  let answered = 0;
  let rejected = 0;
  let mismatched = 0;
  let duplicated = 0;
  let unsettled = 0;
  let foreign = 0;
  const cuts: Record<Direction, number> = { up: 0, down: 0 };
  const examples: string[] = [];

  try {
    for (let round = 0; round < ROUNDS; round++) {
      // One proxied connection: the client's own (no subscription, no blocking command here).
      expect(proxy.connections.length).toBe(1);
      const conn = proxy.connections[0]!;

      // Each confirmed key is read at most once per round, so a value seen twice is a duplicate.
      const readable = [...confirmed];
      const commands: Command[] = [];
      const plan: Array<{ kind: Kind; key: string; value?: string }> = [];
      let upBytes = 0;
      let downBytes = 0;
      for (let i = 0; i < PER_ROUND; i++) {
        const roll = random.next();
        const key = `cut:${round}:${i}`;
        if (roll < 0.4 || readable.length === 0) {
          const v = value(key);
          plan.push({ kind: 'set', key, value: v });
          upBytes += requestBytes(['SET', key, v]);
          downBytes += 5;
        } else if (roll < 0.85) {
          const [k, v] = readable.splice(random.int(0, readable.length - 1), 1)[0]!;
          const kind: Kind = roll < 0.75 ? 'get' : 'get-buffer';
          plan.push({ kind, key: k, value: v });
          upBytes += requestBytes(['GET', k]);
          downBytes += bulk(v);
        } else if (roll < 0.93) {
          plan.push({ kind: 'get-missing', key: `${key}:missing` });
          upBytes += requestBytes(['GET', `${key}:missing`]);
          downBytes += 5;
        } else {
          plan.push({ kind: 'incr', key: `${key}:counter` });
          counters.push(`${key}:counter`);
          upBytes += requestBytes(['INCR', `${key}:counter`]);
          downBytes += 4;
        }
      }
      // Arm the cut before the round's bytes leave: a random offset inside this round's requests or replies.
      const direction: Direction = random.next() < 0.5 ? 'up' : 'down';
      const span = direction === 'up' ? upBytes : downBytes;
      conn.cutAt(direction, conn.forwarded(direction) + random.int(1, span - 1));
      cuts[direction]++;

      // Issued in one tick: they leave in one batch.
      for (const p of plan) {
        switch (p.kind) {
          case 'set':
            commands.push({ kind: 'set', key: p.key, expected: 'OK', promise: client.set(p.key, p.value!) });
            break;
          case 'get':
            commands.push({ kind: 'get', key: p.key, expected: p.value!, promise: client.get(p.key) });
            break;
          case 'get-buffer':
            commands.push({ kind: 'get-buffer', key: p.key, expected: p.value!, promise: client.buffers.get(p.key) });
            break;
          case 'get-missing':
            commands.push({ kind: 'get-missing', key: p.key, expected: null, promise: client.get(p.key) });
            break;
          case 'incr':
            commands.push({ kind: 'incr', key: p.key, expected: 1, promise: client.incr(p.key) });
            break;
        }
      }
      total += commands.length;

      const outcomes = await watchAll(commands.map((c) => c.promise)).settled(15_000);
      const seen = new Map<string, number>();
      outcomes.forEach((outcome, i) => {
        const command = commands[i]!;
        if (outcome.state === 'pending') {
          unsettled++;
          return;
        }
        if (outcome.state === 'rejected') {
          rejected++;
          if (!(outcome.error instanceof GoCacheError)) {
            foreign++;
            if (examples.length < 5) examples.push(`${command.kind} ${command.key} rejected with ${String(outcome.error)}`);
          }
          return;
        }
        answered++;
        const got = command.kind === 'get-buffer' && Buffer.isBuffer(outcome.value) ? outcome.value.toString('utf8') : outcome.value;
        const ok = command.kind === 'get-buffer' ? Buffer.isBuffer(outcome.value) && got === command.expected : got === command.expected;
        if (!ok) {
          if (command.kind === 'incr' && typeof got === 'number' && got > 1) duplicated++;
          else mismatched++;
          if (examples.length < 5) examples.push(`${command.kind} ${command.key} got ${JSON.stringify(String(got)).slice(0, 60)}`);
          return;
        }
        if (command.kind === 'set') confirmed.push([command.key, String((plan[i] as { value: string }).value)]);
        if (typeof got === 'string' && (command.kind === 'get' || command.kind === 'get-buffer')) {
          const times = (seen.get(got) ?? 0) + 1;
          seen.set(got, times);
          if (times > 1) duplicated++;
        }
      });

      // The cut happened (the connection ended by the proxy's cut), and service resumes: a read of a
      // confirmed key through the client, once it has reconnected (it waits in the offline queue).
      await within(conn.closed, 10_000, `round ${round}: the cut connection closing`);
      expect(conn.end).toEqual({ by: 'proxy', how: 'cut' });
      const [probeKey, probeValue] = confirmed[random.int(0, confirmed.length - 1)]!;
      expect(await within(client.get(probeKey), 10_000, `round ${round}: service after the cut`)).toBe(probeValue);
    }

    // No command ran twice on the server: every counter is 1 or was never incremented.
    for (let i = 0; i < counters.length; i += 500) {
      const values = await redisCommand(server.host, server.port, ['MGET', ...counters.slice(i, i + 500)]);
      for (const v of values as Array<string | null>) if (v !== null && v !== '1') duplicated++;
    }
  } finally {
    client.disconnect();
  }

  report(
    `random cuts (seed ${SEED}): ${total.toLocaleString('en')} pipelined commands in ${ROUNDS} rounds, ${cuts.up} cuts in requests and ` +
      `${cuts.down} in replies: ${answered.toLocaleString('en')} answered, ${rejected.toLocaleString('en')} rejected with a GoCacheError; ` +
      `${mismatched} mismatched, ${duplicated} duplicated, ${unsettled} unsettled, ${foreign} rejected with something else; ${reconnects} reconnects`,
  );
  expect(examples).toEqual([]);
  expect({ mismatched, duplicated, unsettled, foreign }).toEqual({ mismatched: 0, duplicated: 0, unsettled: 0, foreign: 0 });
  expect(answered + rejected).toBe(total);
  // Both outcomes occur, so the checks above had replies to check and cuts to survive.
  expect(answered).toBeGreaterThan(total / 10);
  expect(rejected).toBeGreaterThan(0);
  expect(reconnects).toBe(ROUNDS);
}, 60_000);
