// Consuming streams against a real redis-server: xreadIterator and xreadgroupIterator block on
// connections of their own (the client keeps answering meanwhile), yield each entry once with its
// fields in order, end when their signal aborts (the blocked read is cancelled on the server too),
// acknowledge a group's entries once the loop moves on, leave an entry whose processing failed
// pending for XAUTOCLAIM, and replay a restarted consumer's own pending entries first. runFunction
// loads a library the server lacks.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { GoCacheClient, type RedisClient } from '../../src/index.js';
import { within } from '../../testkit/promises.js';

const P = 'it:streams:';
let client: RedisClient;
let observer: RedisClient;

beforeAll(async () => {
  const at = { host: inject('redisHost'), port: inject('redisPort'), server: 'redis' as const, database: 6 };
  client = await GoCacheClient.connect(at);
  observer = await GoCacheClient.connect(at);
});
afterAll(() => {
  client?.disconnect();
  observer?.disconnect();
});
beforeEach(async () => {
  await client.flushdb();
});

/** Clients blocked on the server right now (INFO clients). */
async function blockedClients(): Promise<number> {
  const info = (await observer.sendCommand<string>(['INFO', 'clients'])).toString();
  return Number(/blocked_clients:(\d+)/.exec(info)![1]);
}

async function until(predicate: () => Promise<boolean>, what: string): Promise<void> {
  await within(
    (async () => {
      while (!(await predicate())) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    20_000,
    what,
  );
}

describe('xreadIterator', () => {
  it("from '0' yields what is there, in order, with repeated fields kept; from then on it waits on its own connection", async () => {
    const stream = `${P}events`;
    await client.xadd(stream, '1-1', [
      ['type', 'login'],
      ['type', 'again'],
    ]);
    await client.xadd(stream, '2-1', { type: 'logout' });
    const controller = new AbortController();
    const iterator = client.xreadIterator({ [stream]: '0' }, { block: 10_000, signal: controller.signal });
    expect((await iterator.next()).value).toEqual({ stream, id: '1-1', fields: [['type', 'login'], ['type', 'again']] });
    expect((await iterator.next()).value).toEqual({ stream, id: '2-1', fields: [['type', 'logout']] });

    // Nothing newer: the next read blocks on a connection of its own, and the client keeps answering.
    const waiting = iterator.next();
    await until(async () => (await blockedClients()) === 1, 'the XREAD to block on the server');
    expect(await within(client.set(`${P}meanwhile`, 'ok'), 5_000, 'a command while the read blocks')).toBe('OK');
    await client.xadd(stream, '3-1', { type: 'login' });
    expect((await within(waiting, 10_000, 'the entry added while waiting')).value).toEqual({ stream, id: '3-1', fields: [['type', 'login']] });

    // Abort while waiting: the iteration ends and the server no longer holds a blocked read.
    const ended = iterator.next();
    await until(async () => (await blockedClients()) === 1, 'the XREAD to block again');
    controller.abort();
    expect(await within(ended, 10_000, 'the end')).toEqual({ done: true, value: undefined });
    await until(async () => (await blockedClients()) === 0, 'the blocked XREAD to be gone');
  });

  it("from '$' yields only entries added after it started (none is skipped between two reads), across several streams", async () => {
    const a = `${P}a`;
    const b = `${P}b`;
    await client.xadd(a, '1-1', { old: 'yes' });
    const controller = new AbortController();
    const iterator = client.xreadIterator({ [a]: '$', [b]: '$' }, { block: 10_000, signal: controller.signal });
    const first = iterator.next();
    await until(async () => (await blockedClients()) === 1, 'the XREAD to block');
    await client.xadd(b, '5-1', { n: '1' });
    expect((await within(first, 10_000, 'the entry of b')).value).toEqual({ stream: b, id: '5-1', fields: [['n', '1']] });
    const second = iterator.next();
    await client.xadd(a, '6-1', { n: '2' });
    expect((await within(second, 10_000, 'the entry of a')).value).toEqual({ stream: a, id: '6-1', fields: [['n', '2']] });
    controller.abort();
    expect(await within(iterator.next(), 10_000, 'the end')).toEqual({ done: true, value: undefined });
  });
});

describe('xreadgroupIterator', () => {
  const stream = `${P}jobs`;
  const group = 'workers';

  beforeEach(async () => {
    await client.xgroupCreate(stream, group, '$', { mkstream: true });
    for (const n of [1, 2, 3]) await client.xadd(stream, `${n}-0`, { job: `job-${n}` });
  });

  it('acknowledges each entry once the loop asks for the next; one whose processing throws stays pending and another consumer claims it', async () => {
    const done: string[] = [];
    await expect(
      (async () => {
        for await (const entry of client.xreadgroupIterator(group, 'alice', [stream], { block: 100 })) {
          if (entry.id === '2-0') throw new Error('job 2 failed');
          done.push(entry.id);
        }
      })(),
    ).rejects.toThrow('job 2 failed');
    expect(done).toEqual(['1-0']);
    const pending = await client.xpending(stream, group);
    expect(pending.pending).toBe(2);
    expect(pending.consumers).toEqual([{ name: 'alice', pending: 2 }]);
    const claimed = await client.xautoclaim(stream, group, 'bob', 0, '0');
    expect(claimed.entries.map((e) => e.id)).toEqual(['2-0', '3-0']);
    expect(await client.xack(stream, group, '2-0', '3-0')).toBe(2);
    expect((await client.xpending(stream, group)).pending).toBe(0);
  });

  it("a consumer that restarts under the same name gets its own pending entries first, then new ones; ack: 'manual' leaves acknowledging to entry.ack()", async () => {
    // alice reads everything and stops before acknowledging 2 and 3.
    const first = client.xreadgroupIterator(group, 'alice', [stream], { block: 100 });
    expect((await first.next()).value?.id).toBe('1-0');
    expect((await first.next()).value?.id).toBe('2-0');
    await first.return();
    // All three were delivered in one read; 1-0 was acknowledged when the loop asked for 2-0.
    expect((await client.xpending(stream, group)).pending).toBe(2);
    const detail = await client.xpending(stream, group, { start: '-', end: '+', count: 10 });
    expect(detail.map((e) => e.id)).toEqual(['2-0', '3-0']);

    await client.xadd(stream, '4-0', { job: 'job-4' });
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const entry of client.xreadgroupIterator(group, 'alice', [stream], { block: 100, ack: 'manual', signal: controller.signal })) {
      seen.push(entry.id);
      expect(await entry.ack()).toBe(1);
      if (entry.id === '4-0') controller.abort();
    }
    expect(seen).toEqual(['2-0', '3-0', '4-0']);
    expect((await client.xpending(stream, group)).pending).toBe(0);
  });
});

describe('runFunction', () => {
  it('loads the library when the server lacks it, then calls the function; later calls only call it', async () => {
    const library = "#!lua name=it_counters\nredis.register_function('it_bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)";
    await client.functionFlush();
    expect(await client.runFunction(library, 'it_bump', [`${P}counter`], [5])).toBe(5);
    expect((await client.functionList()).map((l) => l.libraryName)).toEqual(['it_counters']);
    expect(await client.runFunction(library, 'it_bump', [`${P}counter`], [2])).toBe(7);
    await client.functionFlush();
  });
});
