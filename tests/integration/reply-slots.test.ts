// The reply-slot invariant: a command waits for a reply if and only if its bytes were handed to the
// socket. A command that cannot be encoded or buffered is rejected alone, and every other command
// still gets its own reply, also after one tick that queues more text than V8 can hold in one string
// (520 SETs of 1 MiB: ~520 MiB, past V8's ~512 MiB string limit). Against the shared redis-server.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { GoCacheArgumentError, GoCacheClient } from '../../src/index.js';

const P = 'it:reply-slots:';
const MiB = 1024 * 1024;
const COUNT = 520;

const clients: GoCacheClient<'redis'>[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

async function redis(): Promise<GoCacheClient<'redis'>> {
  const client = await GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
  clients.push(client);
  return client;
}

describe('a command that cannot be sent takes no reply slot', () => {
  it('an argument the encoder refuses, between two GETs of one tick, rejects alone', async () => {
    const client = await redis();
    await client.set(`${P}a`, 'A');
    await client.set(`${P}b`, 'B');
    const [a, bad, b] = await Promise.allSettled([
      client.get(`${P}a`),
      client.sendCommand(['SET', `${P}c`, {} as never]),
      client.get(`${P}b`),
    ]);
    expect(a).toEqual({ status: 'fulfilled', value: 'A' });
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(GoCacheArgumentError);
    expect(b).toEqual({ status: 'fulfilled', value: 'B' });
    expect(await client.exists(`${P}c`)).toBe(0);
  });

  it(`${COUNT} SETs of 1 MiB in one tick (more text than one string can hold) are each answered, and the next commands get their own replies`, { timeout: 120_000 }, async () => {
    const client = await redis();
    const value = 'v'.repeat(MiB);
    const sets = Array.from({ length: COUNT }, () => client.set(`${P}big`, value));
    const after = [client.get(`${P}missing0`), client.set(`${P}marker`, 'm'), client.get(`${P}marker`)];
    expect(await Promise.all(sets)).toEqual(Array.from({ length: COUNT }, () => 'OK'));
    expect(await Promise.all(after)).toEqual([null, 'OK', 'm']);
    expect(await client.strlen(`${P}big`)).toBe(MiB);
    expect(await client.get(`${P}missing1`)).toBeNull();
    await client.del(`${P}big`, `${P}marker`);
  });

  it(`the same ${COUNT} x 1 MiB through one pipeline()`, { timeout: 120_000 }, async () => {
    const client = await redis();
    const value = 'w'.repeat(MiB);
    let pipeline = client.pipeline<unknown[]>();
    for (let i = 0; i < COUNT; i++) pipeline = pipeline.set(`${P}big`, value);
    const results = await pipeline.get(`${P}missing0`).set(`${P}marker`, 'p').get(`${P}marker`).exec();
    expect(results).toHaveLength(COUNT + 3);
    expect(results.slice(0, COUNT).every((r) => r === 'OK')).toBe(true);
    expect(results.slice(COUNT)).toEqual([null, 'OK', 'p']);
    expect(await client.get(`${P}missing1`)).toBeNull();
    await client.del(`${P}big`, `${P}marker`);
  });
});
