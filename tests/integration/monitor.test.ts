// client.monitor() against a real redis-server: MONITOR on a connection of its own, each line parsed
// (time, database, source, arguments unescaped); the client's own connection keeps working; the
// parser on the line forms Redis writes (quotes, backslashes, \xHH bytes, lua, unix sockets).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GoCacheArgumentError, GoCacheClient, parseMonitorLine, type MonitorEvent, type RedisClient } from '../../src/index.js';
import { Monitor } from '../../src/client/monitor.js';
import { rejection, within } from '../../testkit/promises.js';

let client: RedisClient;
beforeAll(async () => {
  client = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis', database: 3 });
});
afterAll(() => client?.disconnect());

describe('parseMonitorLine', () => {
  it('reads time, database, source and the unescaped arguments', () => {
    expect(parseMonitorLine('1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"')).toEqual({
      time: 1700000000.123456,
      database: 0,
      source: '127.0.0.1:50000',
      args: ['SET', 'k', 'v'],
      raw: '1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"',
    });
    expect(parseMonitorLine('1.5 [2 lua] "get" "a\\"b\\\\c\\x00\\xff\\n"')?.args).toEqual(['get', 'a"b\\c\x00\xff\n']);
    expect(parseMonitorLine('1.5 [15 unix:/tmp/redis.sock] "PING"')).toMatchObject({ database: 15, source: 'unix:/tmp/redis.sock', args: ['PING'] });
  });

  it('refuses what is not a MONITOR line', () => {
    for (const line of ['OK', '1.5 [0 x] SET', '1.5 [0 x] "unterminated', '1.5 [0 x] "bad \\q escape"', 'x [0 a] "A"']) expect(parseMonitorLine(line), line).toBeUndefined();
  });
});

describe('client.monitor()', () => {
  it("streams the commands of other connections as they run, in the server's order; the client keeps working", async () => {
    const monitor = await client.monitor();
    const seen: MonitorEvent[] = [];
    try {
      await client.set('it:monitor:k', 'a b"c');
      expect(await client.get('it:monitor:k')).toBe('a b"c');
      const iterator = monitor[Symbol.asyncIterator]();
      while (seen.length < 2) {
        const { value } = await within(iterator.next(), 10_000, 'a MONITOR line');
        if ((value as MonitorEvent).args.some((a) => a.startsWith('it:monitor:'))) seen.push(value as MonitorEvent);
      }
      expect(seen.map((e) => e.args)).toEqual([
        ['SET', 'it:monitor:k', 'a b"c'],
        ['GET', 'it:monitor:k'],
      ]);
      expect(seen.every((e) => e.database === 3 && /^127\.0\.0\.1:\d+$/.test(e.source) && e.time > 1_600_000_000)).toBe(true);
    } finally {
      await monitor.close();
    }
    expect(monitor.isOpen).toBe(false);
    expect(await monitor.next()).toEqual({ done: true, value: undefined });
  });

  it("with server: 'gocache' it is refused before connecting (GoCache has no MONITOR)", async () => {
    // Port 1 on loopback: nothing listens there, and nothing is sent, since the check comes first.
    const error = await rejection(Monitor.open({ host: '127.0.0.1', port: 1, server: 'gocache' }));
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/MONITOR/);
  });
});
