// Tracing through node:diagnostics_channel against a real redis-server: the gocache:command,
// gocache:batch and gocache:connect tracing channels carry the command names, argument counts (never
// the arguments), where they went, the reply size or the error, and nothing is published once the
// subscriber is gone.
import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, expect, inject, it } from 'vitest';
import { GoCacheClient, GoCacheCommandError, TRACING_CHANNELS, type BatchTraceContext, type CommandTraceContext, type ConnectTraceContext } from '../../src/index.js';
import { rejection } from '../../testkit/promises.js';

type Event<C> = { event: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'; context: C; snapshot: Record<string, unknown> };

function record<C extends object>(name: string): { events: Array<Event<C>>; stop(): void } {
  const events: Array<Event<C>> = [];
  const channel = tracingChannel<unknown, C>(name);
  const on = (event: Event<C>['event']) => (context: C) => events.push({ event, context, snapshot: { ...(context as Record<string, unknown>) } });
  const handlers = { start: on('start'), end: on('end'), asyncStart: on('asyncStart'), asyncEnd: on('asyncEnd'), error: on('error') };
  channel.subscribe(handlers);
  return { events, stop: () => channel.unsubscribe(handlers) };
}

const stops: Array<() => void> = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

const host = () => inject('redisHost');
const port = () => inject('redisPort');

it('gocache:command: start then asyncEnd per command, with name, argument count, server, database and reply size; error for a refused one', async () => {
  const commands = record<CommandTraceContext>(TRACING_CHANNELS.command);
  stops.push(commands.stop);
  const client = await GoCacheClient.connect({ host: host(), port: port(), server: 'redis', database: 2 });
  try {
    await client.set('it:trace:k', 'secret-value', { ex: 60 });
    expect(await client.get('it:trace:k')).toBe('secret-value');
    await client.del('it:trace:list');
    await client.lpush('it:trace:list', 'a');
    const error = await rejection(client.get('it:trace:list'));
    expect(error).toBeInstanceOf(GoCacheCommandError);

    const starts = commands.events.filter((e) => e.event === 'start').map((e) => e.snapshot);
    expect(starts.map((s) => [s.command, s.argsCount])).toEqual([
      ['SET', 4],
      ['GET', 1],
      ['DEL', 1],
      ['LPUSH', 2],
      ['GET', 1],
    ]);
    for (const start of starts) expect(start).toMatchObject({ server: 'redis', serverAddress: host(), serverPort: port(), database: 2 });
    // Never the arguments' values: only Node's own `result` (after it settled) may hold a reply.
    expect(JSON.stringify(starts)).not.toMatch(/secret-value|it:trace/);

    const ends = commands.events.filter((e) => e.event === 'asyncEnd').map((e) => e.snapshot);
    expect(ends.map((s) => [s.command, s.replySize])).toEqual([
      ['SET', 2],
      ['GET', 12],
      ['DEL', 0],
      ['LPUSH', 0],
      // A failed command ends too (after its error event), without a reply size.
      ['GET', undefined],
    ]);
    const errors = commands.events.filter((e) => e.event === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.context.error).toBe(error);
  } finally {
    client.disconnect();
  }
});

it('gocache:batch: a pipeline and a transaction, each one traced with its command names and how many failed', async () => {
  const batches = record<BatchTraceContext>(TRACING_CHANNELS.batch);
  const commands = record<CommandTraceContext>(TRACING_CHANNELS.command);
  stops.push(batches.stop, commands.stop);
  const client = await GoCacheClient.connect({ host: host(), port: port(), server: 'redis' });
  try {
    await client.pipeline().set('it:trace:p', '1').incr('it:trace:p').get('it:trace:list').execSettled();
    await client.multi().set('it:trace:m', '1').get('it:trace:m').exec();
    const ends = batches.events.filter((e) => e.event === 'asyncEnd').map((e) => e.snapshot);
    expect(ends).toEqual([
      expect.objectContaining({ batchMode: 'pipeline', batchSize: 3, commands: ['SET', 'INCR', 'GET'], failedCount: 0 }),
      expect.objectContaining({ batchMode: 'multi', batchSize: 4, commands: ['MULTI', 'SET', 'GET', 'EXEC'], failedCount: 0 }),
    ]);
    // The commands of a batch are traced as the batch, not one by one.
    expect(commands.events).toEqual([]);
  } finally {
    client.disconnect();
  }
});

it('gocache:connect: the first connection (attempt 0) and a refused one (error); nothing once unsubscribed', async () => {
  const connects = record<ConnectTraceContext>(TRACING_CHANNELS.connect);
  const client = await GoCacheClient.connect({ host: host(), port: port(), server: 'redis' });
  client.disconnect();
  // Port 1 on loopback: nothing listens there.
  await rejection(GoCacheClient.connect({ host: '127.0.0.1', port: 1, server: 'redis' }));
  expect(connects.events.filter((e) => e.event === 'start').map((e) => [e.snapshot.serverPort, e.snapshot.attempt])).toEqual([
    [port(), 0],
    [1, 0],
  ]);
  expect(connects.events.filter((e) => e.event === 'error').map((e) => e.snapshot.serverPort)).toEqual([1]);
  connects.stop();
  const quiet = await GoCacheClient.connect({ host: host(), port: port(), server: 'redis' });
  quiet.disconnect();
  expect(connects.events.filter((e) => e.event === 'start')).toHaveLength(2);
});
