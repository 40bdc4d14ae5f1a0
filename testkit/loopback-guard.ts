// vitest setupFiles: every test worker refuses to open a TCP connection to anything but loopback.
//
// Tests, benchmarks and examples send packets to 127.0.0.0/8 and ::1 only: never to another address,
// not even an unroutable one, and never through the system resolver for a made-up name. This guard
// makes a slip fail loudly instead of quietly sending a SYN somewhere: `Socket#connect` (which
// net.connect and tls.connect both reach) throws before Node schedules the connection when the
// host is an IP outside loopback, or a name other than `localhost` without an injected `lookup`; an
// injected lookup's answers are checked the same way.
import { isIP, Socket, type LookupFunction } from 'node:net';

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z). */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 4) return bare.startsWith('127.');
  if (family === 6) {
    const lower = bare.toLowerCase();
    if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

export class NonLoopbackConnectionError extends Error {}

/** Throws unless a connection to `host` (with or without an injected lookup) can only reach loopback. */
export function assertLoopbackTarget(host: string | undefined, hasLookup: boolean): void {
  if (host === undefined || host === '' || host === 'localhost') return;
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) {
    if (!isLoopbackAddress(host)) throw new NonLoopbackConnectionError(`loopback guard: a test tried to connect to ${host}, outside 127.0.0.0/8 and ::1`);
    return;
  }
  if (!hasLookup) {
    throw new NonLoopbackConnectionError(`loopback guard: a test tried to resolve "${host}" through the system resolver; inject a lookup function instead`);
  }
}

/** Wraps an injected lookup so that an answer outside loopback fails the connection. */
export function guardedLookup(lookup: LookupFunction): LookupFunction {
  return ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
    (lookup as (h: string, o: unknown, cb: (...args: unknown[]) => void) => void)(hostname, options, (error: unknown, address: unknown, family: unknown) => {
      if (error) return callback(error);
      const addresses = Array.isArray(address) ? (address as Array<{ address: string }>).map((a) => a.address) : [address as string];
      const outside = addresses.find((a) => !isLoopbackAddress(a));
      if (outside !== undefined) return callback(new NonLoopbackConnectionError(`loopback guard: lookup of "${hostname}" answered ${outside}, outside loopback`));
      callback(null, address, family);
    });
  }) as LookupFunction;
}

type Connect = (this: Socket, ...args: unknown[]) => Socket;
const GUARDED = Symbol.for('gocache.loopbackGuard');
const proto = Socket.prototype as unknown as { connect: Connect & { [GUARDED]?: true } };

if (proto.connect[GUARDED] !== true) {
  const original = proto.connect;
  const guarded = function (this: Socket, ...args: unknown[]): Socket {
    // Node's internal normalizeArgs may pass [options, callback] with a symbol marker: read the options.
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    if (typeof first === 'object' && first !== null) {
      const options = first as { path?: string; host?: string; lookup?: LookupFunction };
      if (options.path === undefined) {
        assertLoopbackTarget(options.host, typeof options.lookup === 'function');
        if (typeof options.lookup === 'function') options.lookup = guardedLookup(options.lookup);
      }
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      assertLoopbackTarget(typeof args[1] === 'string' ? args[1] : undefined, false);
    }
    return original.apply(this, args);
  } as Connect & { [GUARDED]?: true };
  guarded[GUARDED] = true;
  proto.connect = guarded;
}
