/**
 * Every example of every spec file, run against a real redis-server under RESP2 and RESP3: the
 * examples in the generated JSDoc are executable, and each command's decoder is exercised on the
 * server's real replies in both protocols.
 */
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../codegen/generate.js';
import type { CommandModel, ExampleModel, StepModel } from '../../codegen/model.js';
import { GoCacheClient, GoCacheCommandError } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { models } = generate(root);

/** Replies compared as plain data: null-prototype objects as objects, Buffers as text. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(plain(k)), plain(v)]));
  if (value && typeof value === 'object' && !(value instanceof Error)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** How much a reply holds: elements, keys, or characters. */
function size(reply: unknown): number {
  if (reply === null || reply === undefined) return 0;
  if (Array.isArray(reply) || Buffer.isBuffer(reply) || typeof reply === 'string') return reply.length;
  if (typeof reply === 'object') return Object.keys(reply).length;
  return String(reply).length;
}

async function runStep(client: GoCacheClient<'redis'>, step: StepModel, disposables: AsyncDisposable[]): Promise<void> {
  const method = (client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[step.method];
  expect(method, `no method ${step.method}`).toBeTypeOf('function');
  if (step.error !== undefined) {
    const error = await method!.apply(client, step.args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as Error).message.startsWith(step.error), (error as Error).message).toBe(true);
    return;
  }
  const reply = await method!.apply(client, step.args);
  // A reply that holds a resource (a subscription) is released after its check.
  if (reply && typeof reply === 'object' && Symbol.asyncDispose in reply) disposables.push(reply as AsyncDisposable);
  if (step.check === 'nonEmpty') expect(size(reply), `${step.method} answered ${inspect(reply)}`).toBeGreaterThan(0);
  else if (step.check !== 'any' && 'reply' in step) expect(plain(reply)).toEqual(step.reply);
}

const cases = models.flatMap((model: CommandModel) => model.examples.map((example: ExampleModel, i: number) => ({ name: `${model.command} #${i + 1}`, model, example })));

describe.each([2, 3] as const)('spec examples under RESP%i', (protocol) => {
  const servers: Partial<Record<ExampleModel['server'], { server: RedisServerHandle; client: GoCacheClient<'redis'> }>> = {};

  beforeAll(async () => {
    for (const kind of new Set(cases.map((c) => c.example.server))) {
      const server = await startRedisServer(kind === 'cluster' ? { cluster: true } : {});
      const client = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', protocol });
      servers[kind] = { server, client };
    }
  }, 60_000);

  afterAll(async () => {
    for (const entry of Object.values(servers)) {
      await entry?.client.close();
      await entry?.server.stop();
    }
  });

  it('covers every spec file with at least one example', () => {
    for (const model of models) expect(model.examples.length, model.file).toBeGreaterThan(0);
  });

  it.each(cases)('$name', async ({ example }) => {
    const { client } = servers[example.server]!;
    await client.sendCommand(['FLUSHALL']);
    const disposables: AsyncDisposable[] = [];
    try {
      for (const step of example.steps) await runStep(client, step, disposables);
    } finally {
      for (const resource of disposables) await resource[Symbol.asyncDispose]();
    }
  });
});
