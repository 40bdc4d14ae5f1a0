/**
 * Where `connect()` goes, observed rather than read from a constant: a GoCache client without a port
 * (neither host nor port, a host alone, a `gocache://host` URL) dials port 7000, and a `redis://host` URL
 * dials 6379. The real ports are neither used nor needed: an injected `lookup` resolves the name to a
 * loopback alias of this test's own (a random 127.x.y.z, all of 127/8 being local on Linux), where a
 * listener of the test waits on 7000 or 6379; the connection it accepts, and the PING it then answers,
 * show the port the client dialled. If no alias can take the port (something listens on it on every
 * address), the test fails and says so: it is never skipped.
 */
import { createServer, type LookupFunction, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GoCacheClient, type ClientOptions, type ServerKind } from '../../src/index.js';
import { within } from '../../testkit/promises.js';

interface Listener {
  address: string;
  port: number;
  /** Sockets accepted so far, and what each received. */
  accepted: Array<{ socket: Socket; received: Buffer[] }>;
  server: Server;
}

const listeners: Listener[] = [];
const clients: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const l of listeners.splice(0)) {
    for (const { socket } of l.accepted) socket.destroy();
    await new Promise((resolve) => l.server.close(resolve));
  }
});

const randomAlias = (): string => `127.${1 + Math.floor(Math.random() * 254)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;

/** A listener on `port` of a random loopback alias, answering +PONG to whatever it receives. */
async function listenOnAlias(port: number): Promise<Listener> {
  const problems: string[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const address = randomAlias();
    const listener: Listener = { address, port, accepted: [], server: createServer() };
    listener.server.on('connection', (socket) => {
      const entry = { socket, received: [] as Buffer[] };
      listener.accepted.push(entry);
      socket.on('data', (chunk: Buffer) => {
        entry.received.push(chunk);
        socket.write('+PONG\r\n');
      });
      socket.on('error', () => socket.destroy());
    });
    const failure = await new Promise<Error | null>((resolve) => {
      listener.server.once('error', resolve);
      listener.server.listen(port, address, () => resolve(null));
    });
    if (failure === null) {
      listeners.push(listener);
      return listener;
    }
    problems.push(`${address}:${port}: ${(failure as NodeJS.ErrnoException).code ?? failure.message}`);
  }
  throw new Error(
    `cannot listen on port ${port} of any loopback alias (${problems.join('; ')}). This test observes the port a client dials ` +
      `through a listener on 127.x.y.z:${port}; it needs port ${port} free on those addresses (not on 127.0.0.1), i.e. nothing listening on ${port} on every address (0.0.0.0).`,
  );
}

/** A lookup that answers `address` for any name, in both forms net.connect asks for; it records the names. */
function lookupTo(address: string, names: string[]): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    names.push(hostname);
    if (options?.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  }) as LookupFunction;
}

/** Connects with `options` (plus a lookup to the listener's alias) and shows which port it reached. */
async function dial(listener: Listener, options: ClientOptions): Promise<{ names: string[]; server: string }> {
  const names: string[] = [];
  const connect = GoCacheClient.connect as (options: ClientOptions) => Promise<GoCacheClient<ServerKind>>;
  const client = await within(connect({ ...options, lookup: lookupTo(listener.address, names) }), 10_000, 'connect');
  clients.push(client);
  // The connection the listener accepts is the client's: its PING arrives there and is answered
  // (only after the answer is the accept certain to have been seen on this side too).
  expect(await within(client.ping(), 10_000, 'ping')).toBe('PONG');
  expect(listener.accepted).toHaveLength(1);
  const [{ socket, received }] = listener.accepted as [Listener['accepted'][number]];
  expect(socket.localAddress).toBe(listener.address);
  expect(socket.localPort).toBe(listener.port);
  expect(Buffer.concat(received).toString('latin1')).toBe('*1\r\n$4\r\nPING\r\n');
  return { names, server: client.server };
}

describe('the port connect() dials', () => {
  it('neither host nor port: localhost, port 7000, as a GoCache client', async () => {
    const listener = await listenOnAlias(7000);
    expect(await dial(listener, {})).toEqual({ names: ['localhost'], server: 'gocache' });
  });

  it('a host without a port: port 7000', async () => {
    const listener = await listenOnAlias(7000);
    expect(await dial(listener, { host: 'cache.test' })).toEqual({ names: ['cache.test'], server: 'gocache' });
  });

  it('gocache://host: port 7000', async () => {
    const listener = await listenOnAlias(7000);
    expect(await dial(listener, { url: 'gocache://cache.test' })).toEqual({ names: ['cache.test'], server: 'gocache' });
  });

  it('redis://host: port 6379, as a Redis client', async () => {
    const listener = await listenOnAlias(6379);
    expect(await dial(listener, { url: 'redis://cache.test' })).toEqual({ names: ['cache.test'], server: 'redis' });
  });

  it('server: redis without a port: port 6379', async () => {
    const listener = await listenOnAlias(6379);
    expect(await dial(listener, { host: 'cache.test', server: 'redis' })).toEqual({ names: ['cache.test'], server: 'redis' });
  });
});
