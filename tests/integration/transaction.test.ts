// Transactions (`client.multi()`, `client.watch()`) against the real redis-server of the globalSetup
// (server: 'redis'). Keys carry this file's prefix: the shared server is used by other files in
// parallel, so nothing here flushes it or assumes its size. The queue-time rejection that makes
// Redis answer EXECABORT (an ACL denial) uses a private server started in this file.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  GoCacheArgumentError,
  GoCacheClient,
  GoCacheCommandError,
  GoCacheConnectionError,
  GoCachePipelineError,
  GoCacheWatchError,
  type Settled,
} from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { rejection } from '../../testkit/promises.js';

const P = 'it:transaction:';

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
  for (const c of extra.splice(0)) c.disconnect();
});

afterAll(async () => {
  await client?.close();
});

/** The error of a failed outcome, as the server's error. */
function errorOf(outcome: Settled<unknown>): GoCacheCommandError {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as GoCacheCommandError;
}

describe('multi().exec()', () => {
  it('resolves to the typed tuple of the replies', async () => {
    await client.del(`${P}typed:n`);
    const [ok, value, n, again] = await client.multi().set(`${P}typed:a`, '1').get(`${P}typed:a`).incr(`${P}typed:n`).incr(`${P}typed:n`).exec();
    expect(ok).toBe('OK');
    expect(value).toBe('1');
    expect(n).toBe(1);
    expect(again).toBe(2);
  });

  it('decodes each reply inside EXEC with its own command', async () => {
    const k = `${P}decode:`;
    await client.del(`${k}h`, `${k}z`, `${k}missing`, `${k}s`);
    const results = await client
      .multi()
      .hset(`${k}h`, { f: 'v' })
      .hgetall(`${k}h`)
      .zadd(`${k}z`, [{ score: 1, member: 'm' }], { incr: true })
      .get(`${k}missing`)
      .set(`${k}s`, 'old')
      .set(`${k}s`, 'new', { get: true })
      .mget(`${k}s`, `${k}missing`)
      .exec();
    expect(results).toEqual([1, { f: 'v' }, 1, null, 'OK', 'old', ['new', null]]);
  });

  it('an empty transaction resolves to an empty tuple', async () => {
    expect(await client.multi().exec()).toEqual([]);
  });

  it('the buffers view answers Buffers inside EXEC', async () => {
    const bytes = Buffer.from([0, 0xff, 0x80]);
    const [ok, value] = await client.buffers.multi().set(`${P}buf`, bytes).get(`${P}buf`).exec();
    expect(ok).toBe('OK');
    expect(Buffer.isBuffer(value)).toBe(true);
    expect(value!.equals(bytes)).toBe(true);
  });

  it('is atomic: a concurrent client sees the writes all at once', async () => {
    const key = `${P}atomic`;
    await client.set(key, '0');
    const other = await connectShared();
    const tx = client.multi<number[]>();
    for (let i = 0; i < 200; i++) tx.incr(key);
    const [results, seen] = await Promise.all([tx.exec(), other.get(key)]);
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(['0', '200']).toContain(seen);
  });
});

describe('under RESP3 (protocol: 3)', () => {
  it('EXEC replies decode the same, and an error inside EXEC is per element', async () => {
    const c = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis', protocol: 3 });
    extra.push(c);
    const k = `${P}resp3:`;
    await c.del(`${k}h`, `${k}z`);
    const settled = await c
      .multi()
      .hset(`${k}h`, { a: '1' })
      .hgetall(`${k}h`)
      .zadd(`${k}z`, [{ score: 1.5, member: 'm' }], { incr: true })
      .set(`${k}t`, 'abc')
      .incr(`${k}t`)
      .get(`${k}missing`)
      .execSettled();
    expect(settled.slice(0, 4)).toEqual([
      { ok: true, value: 1 },
      { ok: true, value: { a: '1' } },
      { ok: true, value: 1.5 },
      { ok: true, value: 'OK' },
    ]);
    expect(errorOf(settled[4])).toBeInstanceOf(GoCacheCommandError);
    expect(errorOf(settled[4]).command).toBe('INCR');
    expect(settled[5]).toEqual({ ok: true, value: null });
  });
});

describe('a run-time error inside EXEC', () => {
  const key = `${P}runtime:text`;
  const after = `${P}runtime:after`;

  beforeAll(async () => {
    await client.del(after);
  });

  it('does not abort the rest: execSettled() shows each outcome', async () => {
    const settled = await client.multi().set(key, 'abc').incr(key).set(after, 'x').get(after).execSettled();
    expect(settled).toHaveLength(4);
    expect(settled[0]).toEqual({ ok: true, value: 'OK' });
    expect(settled[1].ok).toBe(false);
    const failed = settled[1] as Extract<Settled<unknown>, { ok: false }>;
    expect(failed.error).toBeInstanceOf(GoCacheCommandError);
    expect((failed.error as GoCacheCommandError).code).toBe('ERR');
    expect(failed.error.message).toMatch(/not an integer/);
    expect((failed.error as GoCacheCommandError).command).toBe('INCR');
    expect(settled[2]).toEqual({ ok: true, value: 'OK' });
    expect(settled[3]).toEqual({ ok: true, value: 'x' });
    expect(await client.get(key)).toBe('abc');
  });

  it('exec() rejects with GoCachePipelineError that keeps the other results', async () => {
    const error = await rejection(client.multi().set(key, 'abc').incr(key).get(key).exec());
    expect(error).toBeInstanceOf(GoCachePipelineError);
    const failure = error as GoCachePipelineError;
    expect(failure.errors.map((e) => e.index)).toEqual([1]);
    expect((failure.errors[0]!.error as GoCacheCommandError).command).toBe('INCR');
    expect(failure.results[0]).toEqual({ ok: true, value: 'OK' });
    expect(failure.results[2]).toEqual({ ok: true, value: 'abc' });
  });

  it('WRONGTYPE inside EXEC is a per-element error too', async () => {
    const list = `${P}runtime:list`;
    await client.del(list);
    const settled = await client.multi().rpush(list, 'a').get(list).llen(list).execSettled();
    expect(settled[0]).toEqual({ ok: true, value: 1 });
    expect(errorOf(settled[1]).code).toBe('WRONGTYPE');
    expect(settled[2]).toEqual({ ok: true, value: 1 });
  });

  it('the connection stays usable after it', async () => {
    await rejection(client.multi().incr(key).exec());
    expect(await client.get(key)).toBe('abc');
  });
});

describe('an invalid argument: nothing is sent', () => {
  it('exec() rejects with GoCacheArgumentError before MULTI is sent', async () => {
    const key = `${P}arg:k`;
    await client.set(key, 'before');
    const tx = client
      .multi()
      .set(key, 'inside')
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      .set(key, 'v', { ex: -1 } as any);
    expect(await rejection(tx.exec())).toBeInstanceOf(GoCacheArgumentError);
    expect(await rejection(tx.execSettled())).toBeInstanceOf(GoCacheArgumentError);
    // The valid SET before it never ran, and the connection is not left inside a MULTI.
    expect(await client.get(key)).toBe('before');
    expect(await client.sendCommand(['EXEC']).catch((e: unknown) => e)).toMatchObject({ message: 'ERR EXEC without MULTI' });
  });
});

describe('EXECABORT: a command refused while queued discards the transaction', () => {
  let server: RedisServerHandle;
  let admin: GoCacheClient<'redis'>;
  let limited: GoCacheClient<'redis'>;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis' });
    // A user that may do everything but GET: Redis refuses the GET when it is queued.
    expect(await admin.sendCommand(['ACL', 'SETUSER', 'noget', 'on', '>pw', '~*', '&*', '+@all', '-get'])).toBe('OK');
    limited = await GoCacheClient.connect({ host: server.host, port: server.port, server: 'redis', username: 'noget', password: 'pw' });
  });

  afterAll(async () => {
    await limited?.close();
    await admin?.close();
    await server?.stop();
  });

  it('exec() rejects with GoCacheCommandError code EXECABORT, naming the refused command', async () => {
    await admin.set('k', 'before');
    const error = await rejection(limited.multi().set('k', 'inside').get('k').incr('n').exec());
    expect(error).toBeInstanceOf(GoCacheCommandError);
    const abort = error as GoCacheCommandError;
    expect(abort.code).toBe('EXECABORT');
    expect(abort.message).toMatch(/^EXECABORT Transaction discarded because of previous errors\./);
    expect(abort.message).toContain('#1 GET');
    expect(abort.message).toContain('NOPERM');
    // Nothing ran.
    expect(await admin.get('k')).toBe('before');
    expect(await admin.get('n')).toBeNull();
  });

  it('execSettled() rejects with it too (nothing ran, so there are no outcomes)', async () => {
    const error = await rejection(limited.multi().set('k', 'inside').get('k').execSettled());
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect((error as GoCacheCommandError).code).toBe('EXECABORT');
    expect(await admin.get('k')).toBe('before');
  });

  it('the connection is usable afterwards', async () => {
    await rejection(limited.multi().get('k').exec());
    expect(await limited.set('k2', 'v')).toBe('OK');
    expect(await limited.multi().set('k2', 'w').incr('n2').exec()).toEqual(['OK', 1]);
  });

  it('a raw arity error while queued (sendCommand) gives EXECABORT with the code', async () => {
    const raw = await connectShared();
    const [multi, queued, exec] = await Promise.all([
      raw.sendCommand(['MULTI']),
      raw.sendCommand(['GET']).catch((e: unknown) => e),
      raw.sendCommand(['EXEC']).catch((e: unknown) => e),
    ]);
    expect(multi).toBe('OK');
    expect(queued).toBeInstanceOf(GoCacheCommandError);
    expect((queued as GoCacheCommandError).message).toMatch(/wrong number of arguments for 'get' command/);
    expect(exec).toBeInstanceOf(GoCacheCommandError);
    expect((exec as GoCacheCommandError).code).toBe('EXECABORT');
    expect((exec as GoCacheCommandError).message).toBe('EXECABORT Transaction discarded because of previous errors.');
  });
});

describe('DISCARD', () => {
  it('MULTI, SET, DISCARD sent raw: the key is unchanged', async () => {
    const key = `${P}discard`;
    await client.set(key, 'before');
    const raw = await connectShared();
    const replies = await Promise.all([raw.sendCommand(['MULTI']), raw.sendCommand(['SET', key, 'inside']), raw.sendCommand(['DISCARD'])]);
    expect(replies).toEqual(['OK', 'QUEUED', 'OK']);
    expect(await client.get(key)).toBe('before');
    // The connection left the transaction: a typed transaction works on it afterwards.
    expect(await raw.multi().get(key).exec()).toEqual(['before']);
  });
});

describe('watch()', () => {
  it('a concurrent write to a watched key makes the first attempt fail; the helper retries', async () => {
    const key = `${P}watch:retry`;
    await client.set(key, '10');
    let attempts = 0;
    const result = await client.watch([key], async (tx) => {
      attempts++;
      const now = Number(await tx.get(key));
      // Another client (this client's own connection: watch() runs on a connection of its own)
      // changes the key between WATCH and EXEC, once.
      if (attempts === 1) await client.set(key, '100');
      return tx.multi().set(key, String(now + 1)).get(key);
    });
    expect(attempts).toBe(2);
    expect(result).toEqual(['OK', '101']);
    expect(await client.get(key)).toBe('101');
  });

  it('with no concurrent write, it runs once', async () => {
    const key = `${P}watch:once`;
    await client.set(key, '1');
    let attempts = 0;
    const result = await client.watch([key], async (tx) => {
      attempts++;
      const now = Number(await tx.get(key));
      return tx.multi().set(key, String(now * 2)).incr(key);
    });
    expect(attempts).toBe(1);
    expect(result).toEqual(['OK', 3]);
  });

  it('with retries: 0 it rejects with GoCacheWatchError and the transaction did not run', async () => {
    const key = `${P}watch:zero`;
    const marker = `${P}watch:zero:marker`;
    await client.set(key, '1');
    await client.del(marker);
    let attempts = 0;
    const error = await rejection(
      client.watch(
        [key],
        async (tx) => {
          attempts++;
          await client.set(key, 'changed');
          return tx.multi().set(key, 'mine').set(marker, 'ran');
        },
        { retries: 0 },
      ),
    );
    expect(error).toBeInstanceOf(GoCacheWatchError);
    expect(attempts).toBe(1);
    expect(await client.get(key)).toBe('changed');
    expect(await client.get(marker)).toBeNull();
  });

  it('gives up after `retries` retries', async () => {
    const key = `${P}watch:always`;
    await client.set(key, '0');
    let attempts = 0;
    const error = await rejection(
      client.watch(
        [key],
        async (tx) => {
          attempts++;
          await client.incr(key);
          return tx.multi().set(key, 'mine');
        },
        { retries: 2 },
      ),
    );
    expect(error).toBeInstanceOf(GoCacheWatchError);
    expect(attempts).toBe(3);
    expect(await client.get(key)).toBe('3');
  });

  it('a run-time error inside the watched EXEC is not retried: GoCachePipelineError', async () => {
    const key = `${P}watch:runtime`;
    await client.set(key, 'text');
    let attempts = 0;
    const error = await rejection(
      client.watch([key], (tx) => {
        attempts++;
        return tx.multi().incr(key).get(key);
      }),
    );
    expect(error).toBeInstanceOf(GoCachePipelineError);
    expect(attempts).toBe(1);
    expect((error as GoCachePipelineError).results[1]).toEqual({ ok: true, value: 'text' });
  });

  it('build must use the client it was given', async () => {
    const key = `${P}watch:wrong-client`;
    const error = await rejection(client.watch([key], () => client.multi().set(key, 'v')));
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect(await client.get(key)).toBeNull();
  });

  it('closes its own connection afterwards, also after a failure', async () => {
    const key = `${P}watch:leak`;
    await client.set(key, '0');
    const ids: number[] = [];
    await client.watch([key], async (tx) => {
      ids.push(await tx.clientId());
      return tx.multi().incr(key);
    });
    await rejection(
      client.watch(
        [key],
        async (tx) => {
          ids.push(await tx.clientId());
          await client.incr(key);
          return tx.multi().incr(key);
        },
        { retries: 0 },
      ),
    );
    await rejection(
      client.watch([key], async (tx) => {
        ids.push(await tx.clientId());
        throw new Error('build failed');
      }),
    );
    expect(ids).toHaveLength(3);
    // The server no longer lists those connections (it may take a moment to see the close).
    const deadline = Date.now() + 2_000;
    for (const id of ids) {
      while ((await client.sendCommand(['CLIENT', 'LIST', 'ID', String(id)])) !== '') {
        if (Date.now() > deadline) throw new Error(`watch()'s connection ${id} is still open`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  });

  it('no key to watch: GoCacheArgumentError, build is never called', async () => {
    let built = false;
    const error = await rejection(
      client.watch([], (tx) => {
        built = true;
        return tx.multi().get(`${P}watch:none`);
      }),
    );
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect(built).toBe(false);
  });

  // retries is a count: like every other numeric option of the SDK, a value that is not a
  // non-negative integer should be refused up front. NaN in particular must not mean "retry forever".
  it.each([
    ['NaN', Number.NaN],
    ['-1', -1],
    ['1.5', 1.5],
  ])('retries: %s is refused with GoCacheArgumentError before anything runs', async (_name, retries) => {
    const key = `${P}watch:bad-retries`;
    await client.set(key, '0');
    let attempts = 0;
    const error = await rejection(
      client.watch(
        [key],
        async (tx) => {
          attempts++;
          // Guard: never loop forever under contention, whatever the helper does with `retries`.
          if (attempts > 20) throw new Error(`watch() retried ${attempts - 1} times with retries: ${retries}`);
          await client.incr(key);
          return tx.multi().set(key, 'mine');
        },
        { retries },
      ),
    );
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect(attempts).toBe(0);
  });

  it('on a gocache-target client it rejects with GoCacheArgumentError (GoCache has no WATCH)', async () => {
    const gocache = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'gocache' });
    extra.push(gocache as unknown as GoCacheClient<'redis'>);
    let built = false;
    // A GoCache client has no watch() in its type: this is what a JavaScript caller gets.
    const error = await rejection(
      (gocache as unknown as GoCacheClient<'redis'>).watch([`${P}watch:gocache`], (tx) => {
        built = true;
        return tx.multi().set(`${P}watch:gocache`, 'v');
      }),
    );
    expect(error).toBeInstanceOf(GoCacheArgumentError);
    expect((error as Error).message).toMatch(/WATCH/);
    expect(built).toBe(false);
  });
});

describe('other commands on the same client never land inside the transaction', () => {
  it('a GET issued in the same tick before and after multi().exec()', async () => {
    const key = `${P}iso:k`;
    await client.set(key, 'before');
    const first = client.get(key);
    const tx = client.multi().set(key, 'inside').get(key).exec();
    const second = client.get(key);
    expect(await Promise.all([first, tx, second])).toEqual(['before', ['OK', 'inside'], 'inside']);
  });

  it('a command issued between building and exec() goes out before MULTI', async () => {
    const key = `${P}iso:between`;
    await client.set(key, '0');
    const tx = client.multi().incr(key).incr(key);
    const between = client.incr(key);
    const done = tx.exec();
    expect(await Promise.all([between, done])).toEqual([1, [2, 3]]);
  });

  it('many transactions and plain commands interleaved in one tick', async () => {
    const key = `${P}iso:many`;
    await client.set(key, '0');
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      calls.push(client.incr(key));
      calls.push(client.multi().incr(key).get(key).exec());
      calls.push(client.get(key));
    }
    const results = await Promise.all(calls);
    for (let i = 0; i < 50; i++) {
      expect(results[3 * i]).toBe(2 * i + 1);
      expect(results[3 * i + 1]).toEqual([2 * i + 2, String(2 * i + 2)]);
      expect(results[3 * i + 2]).toBe(String(2 * i + 2));
    }
  });

  it('commands issued from other async tasks while a transaction is in flight', async () => {
    const key = `${P}iso:async`;
    await client.set(key, 'x');
    const noise = (async () => {
      const seen: unknown[] = [];
      for (let i = 0; i < 20; i++) seen.push(await client.get(key));
      return seen;
    })();
    const txs = Array.from({ length: 10 }, () => client.multi().set(key, 'x').get(key).exec());
    const [seen, ...done] = await Promise.all([noise, ...txs]);
    expect(seen).toEqual(Array.from({ length: 20 }, () => 'x'));
    for (const result of done) expect(result).toEqual(['OK', 'x']);
  });
});

describe('a dropped connection', () => {
  it('disconnect() right after multi().exec() rejects with GoCacheConnectionError (no hang)', async () => {
    const c = await connectShared();
    const pending = c.multi().set(`${P}drop:a`, '1').get(`${P}drop:a`).exec();
    c.disconnect();
    expect(await rejection(pending)).toBeInstanceOf(GoCacheConnectionError);
  });

  it('the server killing the connection with the transaction in flight rejects it (no hang)', async () => {
    const victim = await connectShared();
    const admin = await connectShared();
    const id = await victim.clientId();
    const empty = `${P}drop:empty`;
    await admin.del(empty);
    // A raw BLPOP blocks the client's own connection (the blpop() method would take a connection of
    // its own); MULTI ... EXEC are sent behind it and wait on the server.
    const blocked = rejection(victim.sendCommand(['BLPOP', empty, '0']));
    const pending = rejection(victim.multi().set(`${P}drop:b`, '1').get(`${P}drop:b`).exec());
    const deadline = Date.now() + 5_000;
    while (!/cmd=blpop/.test(String(await admin.sendCommand(['CLIENT', 'LIST', 'ID', String(id)])))) {
      if (Date.now() > deadline) throw new Error('the victim never blocked in BLPOP');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(id)])).toBe(1);
    expect(await blocked).toBeInstanceOf(GoCacheConnectionError);
    expect(await pending).toBeInstanceOf(GoCacheConnectionError);
    expect(await admin.get(`${P}drop:b`)).toBeNull();
  });
});
