// The 21 integration scenarios of GoCache's first client (the Python `gocache` package, see
// shared/python-client-parity.md), in TypeScript idiom, against the real redis-server started by the
// vitest globalSetup. Keys carry this file's prefix: other files share the server and run in parallel.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GoCacheClient, GoCacheCommandError, GoCacheConnectionError, GoCacheError } from '../../src/index.js';
import { findFreePort } from '../../testkit/redis-server.js';

const P = 'it:python-parity:';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function connect(): Promise<GoCacheClient<'redis'>> {
  return GoCacheClient.connect({ host: inject('redisHost'), port: inject('redisPort'), server: 'redis' });
}

describe('Python client parity: integration scenarios', () => {
  let client: GoCacheClient<'redis'>;

  beforeAll(async () => {
    client = await connect();
  });

  afterAll(async () => {
    await client.close();
  });

  it('1. ping is PONG', async () => {
    expect(await client.ping()).toBe('PONG');
  });

  it('2. set returns OK', async () => {
    expect(await client.set(`${P}set-ok`, 'v')).toBe('OK');
  });

  it('3. set then get returns the value', async () => {
    await client.set(`${P}roundtrip`, 'hello');
    expect(await client.get(`${P}roundtrip`)).toBe('hello');
  });

  it('4. get of a missing key is null, not an error', async () => {
    expect(await client.get(`${P}never-set`)).toBeNull();
  });

  it('5. set overwrites', async () => {
    await client.set(`${P}overwrite`, 'first');
    await client.set(`${P}overwrite`, 'second');
    expect(await client.get(`${P}overwrite`)).toBe('second');
  });

  it('6. the empty string round-trips and is not null', async () => {
    await client.set(`${P}empty`, '');
    const value = await client.get(`${P}empty`);
    expect(value).toBe('');
    expect(value).not.toBeNull();
  });

  it('7. a value with spaces', async () => {
    await client.set(`${P}spaces`, 'hello big  wide world ');
    expect(await client.get(`${P}spaces`)).toBe('hello big  wide world ');
  });

  it('8. a unicode value', async () => {
    await client.set(`${P}unicode`, 'こんにちは');
    expect(await client.get(`${P}unicode`)).toBe('こんにちは');
  });

  it('9. a numeric string comes back as a string', async () => {
    await client.set(`${P}numeric`, '12345');
    const value = await client.get(`${P}numeric`);
    expect(value).toBe('12345');
    expect(typeof value).toBe('string');
  });

  it('10. delete of an existing key is 1', async () => {
    await client.set(`${P}del-existing`, 'v');
    expect(await client.delete(`${P}del-existing`)).toBe(1);
  });

  it('11. delete removes the key', async () => {
    await client.set(`${P}del-removes`, 'v');
    await client.del(`${P}del-removes`);
    expect(await client.get(`${P}del-removes`)).toBeNull();
  });

  it('12. delete of a missing key is 0', async () => {
    expect(await client.del(`${P}del-missing`)).toBe(0);
  });

  it('13. delete of 3 keys of which 2 exist is 2', async () => {
    await client.set(`${P}del3:a`, '1');
    await client.set(`${P}del3:b`, '2');
    expect(await client.delete(`${P}del3:a`, `${P}del3:b`, `${P}del3:missing`)).toBe(2);
    expect(await client.get(`${P}del3:a`)).toBeNull();
    expect(await client.get(`${P}del3:b`)).toBeNull();
  });

  it('14. delete of an already deleted key is 0', async () => {
    await client.set(`${P}del-twice`, 'v');
    expect(await client.del(`${P}del-twice`)).toBe(1);
    expect(await client.del(`${P}del-twice`)).toBe(0);
  });

  it('15. a key set with ex exists at once', async () => {
    expect(await client.set(`${P}ex-now`, 'v', { ex: 60 })).toBe('OK');
    expect(await client.get(`${P}ex-now`)).toBe('v');
    const ttl = await client.ttl(`${P}ex-now`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  // 16 and 17 wait for the same second: run them side by side.
  it.concurrent('16. a key set with ex=1 is gone after the second has passed', async () => {
    await client.set(`${P}ex-1`, 'v', { ex: 1 });
    expect(await client.get(`${P}ex-1`)).toBe('v');
    await sleep(1_150);
    expect(await client.get(`${P}ex-1`)).toBeNull();
  });

  it.concurrent('17. a key set without ex does not expire', async () => {
    await client.set(`${P}no-ex`, 'v');
    await sleep(1_150);
    expect(await client.get(`${P}no-ex`)).toBe('v');
    expect(await client.ttl(`${P}no-ex`)).toBe(-1);
  });

  it('18. an unknown command raises the command error, with the server text', async () => {
    const error = await client.sendCommand(['NOSUCHCOMMAND', 'x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheCommandError);
    expect(error).toBeInstanceOf(GoCacheError);
    expect((error as GoCacheCommandError).message).toMatch(/^ERR unknown command 'NOSUCHCOMMAND'/);
    expect((error as GoCacheCommandError).code).toBe('ERR');
    // The connection is still usable.
    expect(await client.ping()).toBe('PONG');
  });

  it('19. connecting to a port where nothing listens raises the connection error', async () => {
    const port = await findFreePort();
    const error = await GoCacheClient.connect({ host: 'localhost', port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoCacheConnectionError);
    expect(error).toBeInstanceOf(GoCacheError);
    expect((error as Error).message).toBe(`Could not connect to GoCache at localhost:${port}. Is the server running?`);
    // A client configured for Redis names Redis.
    const redisError = await GoCacheClient.connect({ host: 'localhost', port, server: 'redis' }).catch((e: unknown) => e);
    expect((redisError as Error).message).toBe(`Could not connect to Redis at localhost:${port}. Is the server running?`);
  });

  it('20. after an `await using` block the client is closed and a further command fails', async () => {
    let escaped: GoCacheClient<'redis'> | undefined;
    {
      await using scoped = await connect();
      escaped = scoped;
      expect(await scoped.set(`${P}using`, 'v')).toBe('OK');
      expect(scoped.isOpen).toBe(true);
    }
    expect(escaped.isOpen).toBe(false);
    await expect(escaped.get(`${P}using`)).rejects.toBeInstanceOf(GoCacheConnectionError);
  });

  it('20b. `await using` closes the client also when the block throws', async () => {
    let escaped: GoCacheClient<'redis'> | undefined;
    const failing = async (): Promise<void> => {
      await using scoped = await connect();
      escaped = scoped;
      await scoped.ping();
      throw new Error('boom');
    };
    await expect(failing()).rejects.toThrow('boom');
    expect(escaped?.isOpen).toBe(false);
    await expect(escaped!.ping()).rejects.toBeInstanceOf(GoCacheConnectionError);
  });

  it('21. five sets then five gets on one connection each return their own value', async () => {
    const keys = [1, 2, 3, 4, 5].map((i) => `${P}five:${i}`);
    for (const [i, key] of keys.entries()) expect(await client.set(key, `value-${i}`)).toBe('OK');
    for (const [i, key] of keys.entries()) expect(await client.get(key)).toBe(`value-${i}`);
    // And the same again, all in flight at once on the one connection.
    await Promise.all(keys.map((key, i) => client.set(key, `again-${i}`)));
    expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys.map((_, i) => `again-${i}`));
  });
});
