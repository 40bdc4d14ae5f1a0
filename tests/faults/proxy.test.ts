// The fault proxy itself (testkit/fault-proxy.ts), with raw sockets on both ends: the rest of the
// fault suite relies on each fault doing exactly what it says, byte for byte.
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../testkit/fault-proxy.js';
import { within } from '../../testkit/promises.js';
import { sleep } from './helpers.js';

/** An upstream that keeps what it reads per connection and lets the test write to it. */
async function startUpstream(): Promise<{ server: Server; port: number; sockets: Socket[]; received: Buffer[][]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const received: Buffer[][] = [];
  const server = createServer((socket) => {
    const mine: Buffer[] = [];
    sockets.push(socket);
    received.push(mine);
    socket.on('data', (chunk: Buffer) => mine.push(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    sockets,
    received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client socket that collects what it reads and how it ended. */
function dial(port: number): Promise<{ socket: Socket; data: Buffer[]; chunks: number[]; ended: Promise<'fin' | string> }> {
  return new Promise((resolve, reject) => {
    const data: Buffer[] = [];
    const chunks: number[] = [];
    const socket = netConnect({ host: '127.0.0.1', port });
    const ended = new Promise<'fin' | string>((done) => {
      socket.on('end', () => done('fin'));
      socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    });
    socket.on('data', (chunk: Buffer) => {
      data.push(chunk);
      chunks.push(chunk.length);
    });
    socket.once('connect', () => resolve({ socket, data, chunks, ended }));
    socket.once('error', reject);
  });
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`proxy test: ${what} did not happen within 5 s`);
    await sleep(5);
  }
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ up: Awaited<ReturnType<typeof startUpstream>>; proxy: FaultProxy }> {
  const up = await startUpstream();
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: up.port } });
  cleanups.push(() => up.close(), () => proxy.close());
  return { up, proxy };
}

const bytes = (n: number, seed = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

describe('fault proxy', () => {
  it('forwards both ways and records what passed', async () => {
    const { up, proxy } = await setup();
    const client = await dial(proxy.port);
    client.socket.write('hello');
    await until(() => up.sockets.length === 1 && Buffer.concat(up.received[0]!).length === 5, 'the upstream read');
    up.sockets[0]!.write('world!');
    await until(() => Buffer.concat(client.data).toString() === 'world!', 'the client read');
    const [conn] = proxy.connections;
    expect(conn!.recorded('up').toString()).toBe('hello');
    expect(conn!.recorded('down').toString()).toBe('world!');
    expect([conn!.bytes('up'), conn!.bytes('down')]).toEqual([5, 6]);
    client.socket.destroy();
  });

  it.each(['down', 'up'] as const)('cutAt(%s, n) forwards exactly n bytes of that direction, then FIN to both sides', async (direction) => {
    const { up, proxy } = await setup();
    const next = proxy.nextConnection();
    const client = await dial(proxy.port);
    const conn = await next;
    conn.cutAt(direction, 1000);
    const payload = bytes(5000, 3);
    const upstreamEnded = await within(
      (async () => {
        await until(() => up.sockets.length === 1, 'the upstream connection');
        const ended = new Promise<void>((resolve) => up.sockets[0]!.once('end', () => resolve()));
        if (direction === 'down') up.sockets[0]!.write(payload);
        else client.socket.write(payload);
        await ended;
        return true;
      })(),
      5_000,
      'upstream FIN',
    );
    expect(upstreamEnded).toBe(true);
    expect(await within(client.ended, 5_000, 'client FIN')).toBe('fin');
    const got = direction === 'down' ? Buffer.concat(client.data) : Buffer.concat(up.received[0]!);
    expect(got.equals(payload.subarray(0, 1000))).toBe(true);
    expect(conn.end).toEqual({ by: 'proxy', how: 'cut' });
  });

  it('stall holds bytes in order and release forwards them all', async () => {
    const { up, proxy } = await setup();
    const next = proxy.nextConnection();
    const client = await dial(proxy.port);
    const conn = await next;
    await until(() => up.sockets.length === 1, 'the upstream connection');
    conn.stall('down');
    const payload = bytes(300_000, 5);
    up.sockets[0]!.write(payload.subarray(0, 100_000));
    up.sockets[0]!.write(payload.subarray(100_000));
    await until(() => conn.held('down') === payload.length, 'the bytes held');
    await sleep(50);
    expect(client.data.length).toBe(0);
    conn.release('down');
    await until(() => Buffer.concat(client.data).length === payload.length, 'the release');
    expect(Buffer.concat(client.data).equals(payload)).toBe(true);
    client.socket.destroy();
  });

  it('a black hole forwards nothing and conveys neither FIN nor RST of the server', async () => {
    const { up, proxy } = await setup();
    const next = proxy.nextConnection();
    const client = await dial(proxy.port);
    const conn = await next;
    await until(() => up.sockets.length === 1, 'the upstream connection');
    conn.blackHole();
    client.socket.write('request');
    up.sockets[0]!.write('reply');
    up.sockets[0]!.end();
    await until(() => conn.bytes('up') === 7 && conn.bytes('down') === 5, 'the proxy read both sides');
    let ended = false;
    void client.ended.then(() => (ended = true));
    await sleep(200);
    expect(client.data.length).toBe(0);
    expect(up.received[0]!.length).toBe(0);
    expect(ended).toBe(false);
    expect(client.socket.destroyed).toBe(false);
    // The client giving up closes the dark connection's upstream side too.
    client.socket.destroy();
    await within(conn.closed, 5_000, 'the dark connection closing');
  });

  it('reset() is an RST: the client gets ECONNRESET', async () => {
    const { proxy } = await setup();
    const next = proxy.nextConnection();
    const client = await dial(proxy.port);
    const conn = await next;
    conn.reset();
    expect(await within(client.ended, 5_000, 'the reset')).toBe('ECONNRESET');
  });

  it('drip forwards at most N bytes per tick, in order', async () => {
    const { up, proxy } = await setup();
    const next = proxy.nextConnection();
    const client = await dial(proxy.port);
    const conn = await next;
    await until(() => up.sockets.length === 1, 'the upstream connection');
    conn.drip('down', 3);
    const payload = bytes(600, 9);
    up.sockets[0]!.write(payload);
    await until(() => Buffer.concat(client.data).length === payload.length, 'the drip');
    expect(Buffer.concat(client.data).equals(payload)).toBe(true);
    expect(Math.max(...client.chunks)).toBeLessThanOrEqual(3 * 4); // a read may join a few ticks
    expect(client.chunks.length).toBeGreaterThanOrEqual(50);
    client.socket.destroy();
  });

  it('corrupt(direction, offset) changes that one byte as it passes', async () => {
    const { up, proxy } = await setup();
    const next = proxy.nextConnection();
    const client = await dial(proxy.port);
    const conn = await next;
    conn.corrupt('up', 10);
    conn.corrupt('up', 20, 0x41);
    const payload = bytes(100, 1);
    client.socket.write(payload.subarray(0, 15));
    client.socket.write(payload.subarray(15));
    await until(() => up.sockets.length === 1 && Buffer.concat(up.received[0]!).length === 100, 'the upstream read');
    const expected = Buffer.from(payload);
    expected[10] = ~payload[10]! & 0xff;
    expected[20] = 0x41;
    expect(Buffer.concat(up.received[0]!).equals(expected)).toBe(true);
    expect(conn.corruptions.map((c) => c.offset)).toEqual([10, 20]);
    client.socket.destroy();
  });

  it('refuse() closes the listener (ECONNREFUSED), open connections keep working; accept() listens on the same port again', async () => {
    const { up, proxy } = await setup();
    const before = await dial(proxy.port);
    const port = proxy.port;
    await proxy.refuse();
    const refused = await dial(port).then(
      () => 'connected',
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).toBe('ECONNREFUSED');
    before.socket.write('still here');
    await until(() => up.received.length === 1 && Buffer.concat(up.received[0]!).toString() === 'still here', 'the open connection forwarding');
    await proxy.accept();
    expect(proxy.port).toBe(port);
    const after = await dial(port);
    after.socket.write('again');
    await until(() => up.received.length === 2 && Buffer.concat(up.received[1]!).toString() === 'again', 'a new connection forwarding');
    before.socket.destroy();
    after.socket.destroy();
  });
});
