// Explicit pipelines (`client.pipeline()`) against the real redis-server of the globalSetup
// (server: 'redis'). Keys carry this file's prefix: the shared server is used by other files in
// parallel, so nothing here flushes it or assumes its size. "Nothing was sent" (INFO commandstats)
// uses a private server started in this file.
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  GoCacheArgumentError,
  GoCacheClient,
  GoCacheCommandError,
  GoCacheConnectionError,
  GoCachePipelineError,
  type Settled,
} from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { rejection, within } from '../../testkit/promises.js';

const P = 'it:pipeline:';

let client: GoCacheClient<'redis'>;
const extra: GoCacheClient<'redis'>[] = [];

const connectShared = async (): Promise<GoCacheClient<'redis'>> => {
  const c = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
  extra.push(c);
  return c;
};

beforeAll(async () => {
  client = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const c of extra.splice(0)) c.disconnect();
});

afterAll(async () => {
  await client?.close();
});

function socketOf(c: GoCacheClient<'redis'>): Socket {
  return (c as unknown as { core: { link: { current: { socket: Socket } } } }).core.link.current.socket;
}

/** Rejects if `promise` has not settled within `ms`: a hang fails the test with a clear message. */
describe('typed results', () => {
  it('set, get, incr resolve to a tuple in order', async () => {
    await client.del(`${P}typed:n`);
    const [ok, value, n] = await client.pipeline().set(`${P}typed:a`, '1').get(`${P}typed:a`).incr(`${P}typed:n`).exec();
    expect(ok).toBe('OK');
    expect(value).toBe('1');
    expect(n).toBe(1);
  });

  it('decodes each reply with its own command (hash, list, sorted set, missing key, set with get)', async () => {
    const k = `${P}decode:`;
    await client.del(`${k}h`, `${k}l`, `${k}z`, `${k}missing`, `${k}s`);
    const results = await client
      .pipeline()
      .hset(`${k}h`, { f: 'v', n: 1 })
      .hgetall(`${k}h`)
      .rpush(`${k}l`, 'a', 'b')
      .lrange(`${k}l`, 0, -1)
      .zadd(`${k}z`, [{ score: 1.5, member: 'm' }])
      .zadd(`${k}z`, [{ score: 2, member: 'm' }], { incr: true })
      .get(`${k}missing`)
      .set(`${k}s`, 'old')
      .set(`${k}s`, 'new', { get: true })
      .mget(`${k}s`, `${k}missing`)
      .exec();
    expect(results).toEqual([2, { f: 'v', n: '1' }, 2, ['a', 'b'], 1, 3.5, null, 'OK', 'old', ['new', null]]);
  });

  it('an empty pipeline resolves to an empty tuple', async () => {
    expect(await client.pipeline().exec()).toEqual([]);
    expect(await client.pipeline().execSettled()).toEqual([]);
  });

  it('length counts the queued commands; each chain call returns the same pipeline', () => {
    const pipeline = client.pipeline();
    const next = pipeline.get(`${P}len:a`).get(`${P}len:b`);
    expect(next).toBe(pipeline);
    expect(pipeline.length).toBe(2);
  });

  it('1,000 commands resolve in order', async () => {
    const list = `${P}big:list`;
    await client.del(list);
    const pipeline = client.pipeline<number[]>();
    for (let i = 0; i < 1000; i++) pipeline.rpush(list, i);
    const counts = await pipeline.exec();
    // RPUSH answers the new length: strictly 1..1000 only if the replies came back in order.
    expect(counts).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    const values = await client.lrange(list, 0, -1);
    expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
  });

  it('pipeline<Array<string | null>>() built in a loop', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `${P}loop:${i}`);
    await client.del(...(keys as [string, ...string[]]));
    for (let i = 0; i < keys.length; i += 2) await client.set(keys[i]!, `v${i}`);
    const pipeline = client.pipeline<Array<string | null>>();
    for (const key of keys) pipeline.get(key);
    const values: Array<string | null> = await pipeline.exec();
    expect(values).toEqual(keys.map((_, i) => (i % 2 === 0 ? `v${i}` : null)));
  });
});

describe('a command error does not lose the other results', () => {
  const list = `${P}err:list`;
  const str = `${P}err:str`;

  beforeAll(async () => {
    await client.del(list, str);
    await client.rpush(list, 'x');
    await client.set(str, 'v');
  });

  it('exec() rejects with GoCachePipelineError; results keep every value, errors give the index', async () => {
    const error = await rejection(client.pipeline().get(str).incr(`${P}err:n`).get(list).strlen(str).exec());
    expect(error).toBeInstanceOf(GoCachePipelineError);
    const failure = error as GoCachePipelineError;
    expect(failure.results).toHaveLength(4);
    expect(failure.results[0]).toEqual({ ok: true, value: 'v' });
    expect(failure.results[1]).toMatchObject({ ok: true });
    expect(failure.results[3]).toEqual({ ok: true, value: 1 });
    expect(failure.errors).toHaveLength(1);
    expect(failure.errors[0]!.index).toBe(2);
    const wrongType = failure.errors[0]!.error;
    expect(wrongType).toBeInstanceOf(GoCacheCommandError);
    expect((wrongType as GoCacheCommandError).code).toBe('WRONGTYPE');
    expect((wrongType as GoCacheCommandError).command).toBe('GET');
    expect(failure.results[2]).toEqual({ ok: false, error: wrongType });
    expect(failure.message).toMatch(/^1 of 4 commands failed; the first, #2: WRONGTYPE/);
    expect(failure.cause).toBe(wrongType);
  });

  it('several errors are all listed, in order', async () => {
    const error = (await rejection(client.pipeline().incr(list).get(str).get(list).exec())) as GoCachePipelineError;
    expect(error).toBeInstanceOf(GoCachePipelineError);
    expect(error.errors.map((e) => e.index)).toEqual([0, 2]);
    expect(error.results[1]).toEqual({ ok: true, value: 'v' });
  });

  it('execSettled() resolves to each outcome', async () => {
    const settled = await client.pipeline().set(`${P}err:set`, '1').get(list).incr(`${P}err:set`).execSettled();
    expect(settled).toHaveLength(3);
    expect(settled[0]).toEqual({ ok: true, value: 'OK' });
    expect(settled[1].ok).toBe(false);
    const failed = settled[1] as Extract<Settled<unknown>, { ok: false }>;
    expect(failed.error).toBeInstanceOf(GoCacheCommandError);
    expect((failed.error as GoCacheCommandError).code).toBe('WRONGTYPE');
    expect(settled[2]).toEqual({ ok: true, value: 2 });
  });

  it('the connection stays usable after a failed pipeline', async () => {
    await rejection(client.pipeline().get(list).exec());
    expect(await client.get(str)).toBe('v');
  });
});

describe('an invalid argument: nothing is sent', () => {
  let server: RedisServerHandle;
  let own: GoCacheClient<'redis'>;

  beforeAll(async () => {
    server = await startRedisServer();
    own = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis' });
  });

  afterAll(async () => {
    await own?.close();
    await server?.stop();
  });

  /** Calls per command, from INFO commandstats, without INFO itself. */
  async function commandCalls(): Promise<Record<string, number>> {
    const info = (await own.sendCommand(['INFO', 'commandstats'])) as string;
    const calls: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (match[1] !== 'info') calls[match[1]!] = Number(match[2]);
    }
    return calls;
  }

  it.each([
    ['ex: -1', { ex: -1 }, /ex/],
    ['ex: 1.5', { ex: 1.5 }, /ex/],
    ['ex with px', { ex: 1, px: 5 }, /cannot be used together/],
    ['an unknown option', { foo: 1 }, /foo/],
  ])('SET with %s in the middle: exec() rejects with GoCacheArgumentError', async (_name, options, message) => {
    const before = await commandCalls();
    const build = () =>
      own
        .pipeline()
        .get(`${P}arg:a`)
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        .set(`${P}arg:a`, 'v', options as any)
        .incr(`${P}arg:n`);
    const error = await rejection(build().exec());
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(message);
    // execSettled() rejects too: nothing could run.
    expect(await rejection(build().execSettled())).toBeInstanceOf(GoCacheArgumentError);
    const after = await commandCalls();
    expect(after).toEqual(before);
    expect(after['get']).toBeUndefined();
    expect(after['set']).toBeUndefined();
    expect(after['incr']).toBeUndefined();
  });

  it('the probe does see a pipeline that is sent', async () => {
    const before = await commandCalls();
    await own.pipeline().get(`${P}arg:probe`).set(`${P}arg:probe`, 'v', { ex: 10 }).exec();
    const after = await commandCalls();
    expect(after['get']).toBe((before['get'] ?? 0) + 1);
    expect(after['set']).toBe((before['set'] ?? 0) + 1);
  });
});

describe('on the wire', () => {
  it('a pipeline leaves in one socket write', async () => {
    const c = await connectShared();
    const socket = socketOf(c);
    const write = vi.spyOn(socket, '_write');
    const writev = vi.spyOn(socket, '_writev');
    const pipeline = c.pipeline<unknown[]>();
    for (let i = 0; i < 200; i++) pipeline.set(`${P}wire:${i}`, `v${i}`).get(`${P}wire:${i}`);
    const results = await pipeline.exec();
    expect(results).toHaveLength(400);
    expect(results.filter((_, i) => i % 2 === 1)).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(1);
  });

  it('a pipeline with binary arguments also leaves in one socket write', async () => {
    const c = await connectShared();
    const socket = socketOf(c);
    const write = vi.spyOn(socket, '_write');
    const writev = vi.spyOn(socket, '_writev');
    const bytes = Buffer.from([0, 1, 0xfe, 0xff]);
    const results = await c.pipeline().set(`${P}wire:text`, 'text').set(Buffer.from(`${P}wire:bin`), bytes).get(`${P}wire:text`).exec();
    expect(results).toEqual(['OK', 'OK', 'text']);
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(1);
  });

  it('commands issued in the same tick as exec() share its write, and keep their order', async () => {
    const c = await connectShared();
    const socket = socketOf(c);
    const write = vi.spyOn(socket, '_write');
    const writev = vi.spyOn(socket, '_writev');
    await c.set(`${P}tick:a`, '0');
    write.mockClear();
    writev.mockClear();
    const before = c.incr(`${P}tick:a`);
    const piped = c.pipeline().incr(`${P}tick:a`).incr(`${P}tick:a`).exec();
    const after = c.incr(`${P}tick:a`);
    expect(await Promise.all([before, piped, after])).toEqual([1, [2, 3], 4]);
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(1);
  });
});

describe('the buffers view', () => {
  it('client.buffers.pipeline() answers Buffers, byte for byte', async () => {
    const bytes = Buffer.from([0x00, 0x80, 0xc3, 0x28, 0xff]);
    const key = `${P}buf:k`;
    await client.del(`${P}buf:missing`);
    const results = await client.buffers.pipeline().set(key, bytes).get(key).mget(key, `${P}buf:missing`).strlen(key).exec();
    expect(results[0]).toBe('OK');
    expect(Buffer.isBuffer(results[1])).toBe(true);
    expect(results[1]!.equals(bytes)).toBe(true);
    expect(Buffer.isBuffer(results[2][0])).toBe(true);
    expect(results[2][0]!.equals(bytes)).toBe(true);
    expect(results[2][1]).toBeNull();
    expect(results[3]).toBe(5);
  });

  it('a text pipeline and a buffers pipeline in the same tick each get their own kind', async () => {
    const key = `${P}buf:mixed`;
    await client.set(key, 'hello');
    const [text, bytes, text2] = await Promise.all([
      client.pipeline().get(key).get(key).exec(),
      client.buffers.pipeline().get(key).get(key).exec(),
      client.pipeline().get(key).exec(),
    ]);
    expect(text).toEqual(['hello', 'hello']);
    expect(bytes.every((b) => Buffer.isBuffer(b) && b.toString() === 'hello')).toBe(true);
    expect(text2).toEqual(['hello']);
  });
});

describe('a dropped connection', () => {
  it('the server killing the connection mid-pipeline rejects what was not answered (no hang)', async () => {
    const victim = await connectShared();
    const admin = await connectShared();
    const id = await victim.clientId();
    const empty = `${P}drop:empty`;
    await admin.del(empty);
    // A raw BLPOP keeps the pipeline on the client's own connection (with blpop() the pipeline would run on one of its own).
    const pending = victim.pipeline().set(`${P}drop:k`, 'v').sendCommand(['BLPOP', empty, '0']).get(`${P}drop:k`).exec();
    const outcome = pending.then(
      () => {
        throw new Error('the pipeline resolved');
      },
      (error: unknown) => error,
    );
    // Wait until the server is blocked in BLPOP: the SET before it has been answered by then.
    const deadline = Date.now() + 5_000;
    while (!/cmd=blpop/.test(String(await admin.sendCommand(['CLIENT', 'LIST', 'ID', String(id)])))) {
      if (Date.now() > deadline) throw new Error('the victim never blocked in BLPOP');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(id)])).toBe(1);

    const error = await within(outcome, 5_000, 'exec() after the connection was killed');
    expect(error).toBeInstanceOf(GoCachePipelineError);
    const failure = error as GoCachePipelineError;
    expect(failure.results[0]).toEqual({ ok: true, value: 'OK' });
    expect(failure.errors.map((e) => e.index)).toEqual([1, 2]);
    for (const { error: each } of failure.errors) expect(each).toBeInstanceOf(GoCacheConnectionError);
    // Nothing was re-sent: the GET behind the BLPOP never ran. The client reconnects for what comes next.
    expect(await victim.get(`${P}drop:k`)).toBe('v');
    expect(victim.status).toBe('ready');
  });

  it('disconnect() right after exec() rejects every command (no hang)', async () => {
    const c = await connectShared();
    const pending = c.pipeline().set(`${P}drop:a`, '1').get(`${P}drop:a`).exec();
    c.disconnect();
    const error = (await within(rejection(pending), 5_000, 'exec() after disconnect()')) as GoCachePipelineError;
    expect(error).toBeInstanceOf(GoCachePipelineError);
    expect(error.errors.map((e) => e.index)).toEqual([0, 1]);
    for (const { error: each } of error.errors) expect(each).toBeInstanceOf(GoCacheConnectionError);
  });

  it('a pipeline on a closed client rejects at once with connection errors', async () => {
    const c = await connectShared();
    await c.close();
    const settled = await within(c.pipeline().get(`${P}drop:x`).execSettled(), 2_000, 'execSettled() on a closed client');
    expect(settled[0].ok).toBe(false);
    expect((settled[0] as { error: unknown }).error).toBeInstanceOf(GoCacheConnectionError);
  });
});
