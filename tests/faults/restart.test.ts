// A server restart: the redis-server behind the client is stopped (SIGTERM) and a new one started.
// The harness starts each redis-server on a port of its own choosing, so the client's address is the
// fault proxy's: while the server is down the proxy refuses connections (its listener is closed, so
// the client gets ECONNREFUSED exactly as from a stopped server), and once the new server is up the
// proxy points at it and listens again on the same port. "The server accepts connections again" is
// that moment.
//
// Checked: commands in flight when the server dies reject with GoCacheConnectionError and are never
// re-sent; commands issued during the outage wait in the offline queue and succeed afterwards, in
// order; and the recovery time, from the server accepting connections again to the first successful
// command, stays within 1.5 x the configured (fixed) retry delay plus a constant for connect and one
// round trip on a loaded machine (see RECOVERY_SLACK).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GoCacheClient, GoCacheConnectionError, type RedisClient } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../../testkit/fault-proxy.js';
import { within } from '../../testkit/promises.js';
import { redisCommand, startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { nextEvent, report, sleep, watchAll } from './helpers.js';

/** The retry strategy's fixed delay. */
const DELAY = 100;
/**
 * After the listener is back, the next reconnect attempt starts within DELAY: refused attempts fail
 * at once on loopback, so a retry timer of DELAY is always armed (1.5 x DELAY leaves room for an
 * attempt under way at that moment). Then come one TCP connect and one round trip of the queued
 * commands, about a millisecond on an idle machine; RECOVERY_SLACK covers event-loop and scheduling
 * delays on a loaded 2-core machine running several test files at once.
 */
const RECOVERY_SLACK = 400;
const RESTARTS = 3;

const servers: RedisServerHandle[] = [];
let proxy: FaultProxy;
beforeAll(async () => {
  servers.push(await startRedisServer());
  proxy = await startFaultProxy({ target: { host: servers[0]!.host, port: servers[0]!.port } });
});
afterAll(async () => {
  await proxy?.close();
  for (const s of servers) await s.stop();
});

it(`after ${RESTARTS} server restarts the client reconnects, in-flight commands reject and are not re-sent, commands issued during the outage wait and succeed; recovery within 1.5 x the retry delay + ${RECOVERY_SLACK} ms`, async () => {
  const strategyCalls: Array<{ attempt: number; error: Error }> = [];
  const client: RedisClient = await GoCacheClient.connect({
    host: proxy.host,
    port: proxy.port,
    server: 'redis',
    retryStrategy: (attempt, error) => {
      strategyCalls.push({ attempt, error });
      return DELAY;
    },
  });
  const delays: number[] = [];
  client.on('reconnecting', ({ delay }) => delays.push(delay));
  const recoveries: number[] = [];
  try {
    for (let cycle = 0; cycle < RESTARTS; cycle++) {
      const old = servers.at(-1)!;
      await client.set(`restart:${cycle}:before`, 'ok');

      strategyCalls.length = 0;
      delays.length = 0;
      // In flight when the server dies: held at the proxy so that they are surely unanswered.
      const conn = proxy.connections.at(-1)!;
      conn.stall('up');
      const inFlight = watchAll(Array.from({ length: 50 }, (_, i) => client.set(`restart:${cycle}:inflight:${i}`, 'sent')));
      const lost = nextEvent(client, 'reconnecting', 10_000);
      await proxy.refuse();
      await old.stop();
      await lost;
      const inFlightOutcomes = await inFlight.settled(10_000);
      for (const outcome of inFlightOutcomes) {
        expect(outcome.state).toBe('rejected');
        expect((outcome as { error: unknown }).error).toBeInstanceOf(GoCacheConnectionError);
      }

      // The outage: commands wait in the offline queue (SET then GET of the same key, in order).
      const queuedAt = performance.now();
      let firstSuccess = Infinity;
      const mark = <T>(promise: Promise<T>): Promise<T> =>
        promise.then((value) => {
          firstSuccess = Math.min(firstSuccess, performance.now());
          return value;
        });
      const queued = watchAll(
        Array.from({ length: 100 }, (_, i) => [
          mark(client.set(`restart:${cycle}:queued:${i}`, `v${i}`)),
          mark(client.get(`restart:${cycle}:queued:${i}`)),
        ]).flat(),
      );
      const next = await startRedisServer();
      servers.push(next);
      await sleep(300);
      expect(client.status).toBe('reconnecting');
      expect(queued.outcomes.filter((o) => o.state !== 'pending')).toEqual([]);

      proxy.retarget({ host: next.host, port: next.port });
      await proxy.accept();
      const acceptedAt = performance.now();
      const outcomes = await queued.settled(15_000);
      const recovery = firstSuccess - acceptedAt;
      recoveries.push(recovery);
      report(
        `restart ${cycle + 1}: outage ${(acceptedAt - queuedAt).toFixed(0)} ms; first successful command ${recovery.toFixed(1)} ms after the server accepted connections again ` +
          `(retry delay ${DELAY} ms, bound ${1.5 * DELAY + RECOVERY_SLACK} ms)`,
      );
      outcomes.forEach((outcome, j) => {
        const i = Math.floor(j / 2);
        expect(outcome).toEqual({ state: 'fulfilled', value: j % 2 === 0 ? 'OK' : `v${i}` });
      });
      expect(client.status).toBe('ready');
      // The configured strategy decided every wait: attempts 1, 2, 3, ... (the first after the lost
      // connection, the next ones after refused connections), each waiting DELAY.
      expect(strategyCalls.length).toBeGreaterThanOrEqual(2);
      expect(strategyCalls.map((c) => c.attempt)).toEqual(strategyCalls.map((_, i) => i + 1));
      for (const call of strategyCalls.slice(1)) expect(call.error.message).toMatch(/Is the server running\?/);
      expect(delays).toEqual(strategyCalls.map(() => DELAY));
      // Nothing in flight at the stop was re-sent to the new server.
      const resent = await redisCommand(next.host, next.port, ['MGET', ...Array.from({ length: 50 }, (_, i) => `restart:${cycle}:inflight:${i}`)]);
      expect(resent).toEqual(Array.from({ length: 50 }, () => null));
      expect(recovery).toBeLessThanOrEqual(1.5 * DELAY + RECOVERY_SLACK);
    }
  } finally {
    client.disconnect();
  }
  report(`restart: recovery times ${recoveries.map((r) => `${r.toFixed(1)} ms`).join(', ')} against a fixed retry delay of ${DELAY} ms`);
}, 40_000);
