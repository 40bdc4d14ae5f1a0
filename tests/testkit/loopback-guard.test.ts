// The loopback guard of every test worker (testkit/loopback-guard.ts, a vitest setupFile).
//
// No test here can send a packet outside loopback even if the guard were broken: for an IP literal,
// Node only starts connecting on the next tick, and each attempt is destroyed in the same tick it was
// made; a name is only ever resolved through an injected lookup.
import { connect as netConnect, createServer, Socket, type LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { guardedLookup, isLoopbackAddress, NonLoopbackConnectionError } from '../../testkit/loopback-guard.js';

// Built at run time so that no non-loopback address literal appears in the test sources.
const outside = [10, 255, 255, 1].join('.');
const outside6 = ['2001', 'db8', '', '1'].join(':');

/** Calls `open`; if it returns a socket instead of throwing, destroys it before it can connect. */
function attempt(open: () => Socket): unknown {
  try {
    open().destroy();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('the loopback guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    [outside, false],
    [outside6, false],
    ['0.0.0.0', false],
    ['not an address', false],
  ])('isLoopbackAddress(%s) is %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it('is installed on Socket#connect in this worker', () => {
    expect(attempt(() => netConnect(7000, outside))).toBeInstanceOf(NonLoopbackConnectionError);
    expect(attempt(() => netConnect({ host: outside6, port: 7000 }))).toBeInstanceOf(NonLoopbackConnectionError);
    expect(attempt(() => new Socket().connect(7000, outside))).toBeInstanceOf(NonLoopbackConnectionError);
  });

  it('refuses a made-up name through the system resolver', () => {
    const error = attempt(() => netConnect({ host: 'no-such-host.invalid', port: 7000 }));
    expect(error).toBeInstanceOf(NonLoopbackConnectionError);
    expect(String(error)).toMatch(/inject a lookup/);
  });

  it('lets loopback through: a real connection to a local listener', async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const host of ['127.0.0.1', 'localhost', undefined]) {
        const socket = host === undefined ? netConnect(port) : netConnect(port, host);
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        expect(socket.remotePort).toBe(port);
        socket.destroy();
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('wraps an injected lookup: a socket hands its lookup answer to the guard', async () => {
    let socket: Socket | undefined;
    // `family: 4` takes Node's single-address path, which emits 'lookup' even for a destroyed socket.
    // The socket is destroyed before the answer is handed over, so Node never connects to it.
    const lookup = ((_host: string, _options: unknown, callback: (error: Error | null, address: string, family: number) => void) => {
      setImmediate(() => {
        socket!.destroy();
        callback(null, outside, 4);
      });
    }) as unknown as LookupFunction;
    socket = netConnect({ host: 'service.test', port: 7000, family: 4, lookup });
    const error = await new Promise<unknown>((resolve) => socket!.once('lookup', resolve));
    expect(error).toBeInstanceOf(NonLoopbackConnectionError);
  });

  it.each([
    ['one address', { all: false }, outside, true],
    ['every address (all: true)', { all: true }, [{ address: '127.0.0.1', family: 4 }, { address: outside, family: 4 }], true],
    ['loopback only', { all: true }, [{ address: '::1', family: 6 }], false],
  ])('a guarded lookup refuses answers outside loopback: %s', async (_name, options, answer, refused) => {
    const inner = ((_host: string, _options: unknown, callback: (error: null, address: unknown, family?: number) => void) =>
      callback(null, answer, 4)) as unknown as LookupFunction;
    const [error, address] = await new Promise<[unknown, unknown]>((resolve) =>
      (guardedLookup(inner) as unknown as (h: string, o: unknown, cb: (e: unknown, a: unknown) => void) => void)('service.test', options, (e, a) => resolve([e, a])),
    );
    if (refused) {
      expect(error).toBeInstanceOf(NonLoopbackConnectionError);
    } else {
      expect(error).toBeNull();
      expect(address).toEqual(answer);
    }
  });
});
