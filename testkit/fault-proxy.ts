// An in-process TCP fault proxy for tests: client <-> proxy <-> upstream server, all on loopback.
//
// Every connection the proxy accepts gets one upstream connection of its own, so what a test does
// to one proxied connection is what the client sees on one of its sockets. The two directions are
// called `up` (client -> server, the requests) and `down` (server -> client, the replies). An
// offset is the index of a byte in one direction's stream of one connection, counted from 0 (the
// first byte the sender ever wrote on it); `bytes(direction)` is how many the sender has written so
// far, so `conn.cutAt('down', conn.bytes('down') + 100)` cuts 100 bytes from now.
//
// Faults, on one connection (ProxyConnection) or on every one (FaultProxy), at any moment:
// - `cutAt(direction, offset)`: forwards that direction up to `offset` exactly, then ends the
//   connection with FIN on both sides (bytes of the other direction not yet forwarded are dropped).
//   An offset already passed cuts at once. `cut()` cuts now.
// - `stall(direction?)` / `release(direction?)`: holds the bytes (both directions by default) and
//   later forwards them, in order, nothing lost (what TCP does over a link that stops and comes
//   back). A FIN that arrives while stalled is forwarded after the held bytes. Reading pauses once
//   HOLD_LIMIT bytes are held, so the sender then sees TCP backpressure.
// - `blackHole()`: a half-open link: the sockets stay open, nothing is forwarded either way, and
//   neither FIN nor RST is conveyed (bytes are read and dropped, as a vanished peer would leave them).
//   A black-holed connection never forwards again (bytes were lost: resuming would shift the stream);
//   the client has to notice and drop it. When the client closes it, the proxy closes the upstream
//   side too (invisible to the client); when the server closes it, the client is told nothing.
// - `reset()`: destroys both sides with RST (ECONNRESET for the client).
// - `drip(direction, bytesPerTick, intervalMs = 0)`: forwards at most `bytesPerTick` bytes per tick
//   (a setImmediate turn when intervalMs is 0, else a timer); `release(direction)` ends it.
// - `corrupt(direction, offset, value?)`: the byte at `offset` is replaced when it passes (by
//   `value`, default its bitwise complement); `corruptions` lists what was changed.
// - Proxy-wide: `stall`, `release`, `drip` and `blackHole` also apply to connections accepted later,
//   until `release()` (stall, drip) or `forward()` (black-hole); `cut()` and `reset()` apply to the
//   open connections. `refuse()` closes the listener (new connections get ECONNREFUSED, open ones
//   are untouched) and `accept()` listens again on the same port; `retarget(target)` sends new
//   connections to another upstream (e.g. a redis-server restarted on another port).
//   `onConnection(listener)` runs for each new connection before any of its bytes is forwarded, so a
//   fault can be armed on it first; `nextConnection()` resolves with the next one.
//
// Upstream events are conveyed as they happened: the server's FIN becomes a FIN to the client (after
// the bytes already read from the server), its RST an RST; an upstream that refuses the connection
// becomes an RST to the client (the proxy had already accepted it). For a server that is down, use
// `refuse()` so that clients get ECONNREFUSED, as from the server itself.
//
// Recording: each connection keeps the first `recordLimit` bytes of each direction (default 1 MiB;
// `recorded(direction)`), and counts every byte (`bytes(direction)`), so tests can assert what went
// over the wire (for example that a resubscribe sent SUBSCRIBE only).
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

export type Direction = 'up' | 'down';

export interface FaultProxyOptions {
  /** Where the proxy connects each accepted connection to. */
  target: { host: string; port: number };
  /** The listening address: default 127.0.0.1. */
  host?: string;
  /** The listening port: default 0 (a free one). */
  port?: number;
  /** Bytes kept per direction per connection for `recorded()`; default 1 MiB. */
  recordLimit?: number;
}

/** Bytes held per direction (stalled or dripping) before the proxy stops reading from the sender. */
export const HOLD_LIMIT = 16 * 1024 * 1024;

const DIRECTIONS: readonly Direction[] = ['up', 'down'];

/** How a proxied connection ended. */
export interface ConnectionEnd {
  /** Who ended it first: the client, the server, or the proxy (a fault, or close()). */
  by: 'client' | 'server' | 'proxy';
  /** fin: an orderly end; reset: RST or a socket error; cut/reset/close for the proxy's own. */
  how: 'fin' | 'reset' | 'cut' | 'close' | 'upstream-refused';
}

type Mode = 'flow' | 'stall' | 'drip';

/** One direction of one connection: bytes read from `source`, forwarded to `sink`. */
class Pipe {
  /** Bytes read from the source (the stream offset of the next byte to arrive). */
  received = 0;
  /** Bytes forwarded or dropped (the stream offset of the next byte to forward). */
  position = 0;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  mode: Mode = 'flow';
  dripBytes = 0;
  dripInterval = 0;
  private dripTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  cutAt: number | undefined;
  readonly corruptAt = new Map<number, number | undefined>();
  readonly recordChunks: Buffer[] = [];
  private recordedBytes = 0;
  /** The source sent FIN: forwarded once the queue is empty. */
  sourceEnded = false;
  /** The sink may be written (the upstream is connected). */
  sinkReady = false;
  private waitingForDrain = false;
  private pausedForHold = false;

  constructor(
    readonly direction: Direction,
    readonly conn: ProxyConnection,
    readonly source: Socket,
    readonly sink: Socket,
    private readonly recordLimit: number,
  ) {}

  onData(chunk: Buffer): void {
    if (this.recordedBytes < this.recordLimit) {
      const keep = chunk.subarray(0, this.recordLimit - this.recordedBytes);
      this.recordChunks.push(Buffer.from(keep));
      this.recordedBytes += keep.length;
    }
    this.received += chunk.length;
    if (this.conn.dark) {
      this.position += chunk.length;
      return;
    }
    // The read buffer may be reused: keep a copy of what is held.
    this.queue.push(Buffer.from(chunk));
    this.queued += chunk.length;
    if (this.queued >= HOLD_LIMIT && !this.pausedForHold) {
      this.pausedForHold = true;
      this.source.pause();
    }
    this.pump();
  }

  onEnd(): void {
    this.sourceEnded = true;
    this.pump();
  }

  get held(): number {
    return this.queued;
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    if (this.dripTimer !== undefined) this.clearDrip();
    this.pump();
  }

  /** Forwards what the mode allows now. */
  pump(budget = this.mode === 'drip' ? 0 : Infinity): void {
    if (this.conn.dark || this.conn.finished || !this.sinkReady || this.waitingForDrain) return;
    if (this.mode === 'stall') return;
    if (this.mode === 'drip' && budget === 0) {
      this.scheduleDrip();
      return;
    }
    while (this.queue.length > 0 && budget > 0) {
      const head = this.queue[0]!;
      let n = Math.min(head.length, budget);
      if (this.cutAt !== undefined) n = Math.min(n, this.cutAt - this.position);
      if (n > 0) {
        const piece = this.corrupt(head.subarray(0, n));
        if (n === head.length) this.queue.shift();
        else this.queue[0] = head.subarray(n);
        this.queued -= n;
        this.position += n;
        budget -= n;
        const flushed = this.sink.write(piece);
        if (!flushed) {
          this.waitingForDrain = true;
          this.source.pause();
          this.sink.once('drain', () => {
            this.waitingForDrain = false;
            this.resumeSource();
            this.pump();
          });
        }
      }
      if (this.cutAt !== undefined && this.position >= this.cutAt) {
        this.conn.cutNow();
        return;
      }
      if (this.waitingForDrain) return;
    }
    if (this.pausedForHold && this.queued < HOLD_LIMIT / 2) this.resumeSource();
    if (this.queue.length > 0 && this.mode === 'drip') this.scheduleDrip();
    if (this.queue.length === 0 && this.sourceEnded) this.conn.endBoth(this.direction === 'up' ? 'client' : 'server');
  }

  private resumeSource(): void {
    this.pausedForHold = false;
    if (!this.waitingForDrain && this.queued < HOLD_LIMIT) this.source.resume();
  }

  private scheduleDrip(): void {
    if (this.dripTimer !== undefined || this.queue.length === 0) return;
    const tick = (): void => {
      this.dripTimer = undefined;
      if (this.mode === 'drip') this.pump(this.dripBytes);
    };
    this.dripTimer = this.dripInterval > 0 ? setTimeout(tick, this.dripInterval) : setImmediate(tick);
  }

  clearDrip(): void {
    if (this.dripTimer === undefined) return;
    clearTimeout(this.dripTimer as NodeJS.Timeout);
    clearImmediate(this.dripTimer as NodeJS.Immediate);
    this.dripTimer = undefined;
  }

  private corrupt(piece: Buffer): Buffer {
    if (this.corruptAt.size === 0) return piece;
    let copy: Buffer | undefined;
    for (const [offset, value] of this.corruptAt) {
      const at = offset - this.position;
      if (at < 0 || at >= piece.length) continue;
      copy ??= Buffer.from(piece);
      const original = copy[at]!;
      const replaced = value ?? (~original & 0xff);
      copy[at] = replaced;
      this.corruptAt.delete(offset);
      this.conn.corruptions.push({ direction: this.direction, offset, original, replaced });
    }
    return copy ?? piece;
  }

  recorded(): Buffer {
    return Buffer.concat(this.recordChunks);
  }
}

/** One proxied connection: the client's socket and its own upstream socket. */
export class ProxyConnection {
  /** 1 for the first connection the proxy accepted, then 2, ... */
  readonly id: number;
  /** Black-holed: forwards nothing, conveys no FIN or RST, for good. */
  dark = false;
  /** Both sockets are done (or being torn down). */
  finished = false;
  /** What was changed by `corrupt()`, as it passed. */
  readonly corruptions: Array<{ direction: Direction; offset: number; original: number; replaced: number }> = [];
  /** Resolves once both sockets are closed, with who ended the connection and how. */
  readonly closed: Promise<ConnectionEnd>;
  private endInfo: ConnectionEnd | undefined;
  private resolveClosed!: (end: ConnectionEnd) => void;
  private readonly pipes: Record<Direction, Pipe>;
  private closedSockets = 0;

  /** @internal Made by the proxy. */
  constructor(
    id: number,
    readonly client: Socket,
    readonly upstream: Socket,
    recordLimit: number,
  ) {
    this.id = id;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.pipes = {
      up: new Pipe('up', this, client, upstream, recordLimit),
      down: new Pipe('down', this, upstream, client, recordLimit),
    };
    this.pipes.down.sinkReady = true;
  }

  /** @internal Wires the sockets once the test's onConnection hooks ran. */
  start(): void {
    const { client, upstream } = this;
    client.on('data', (chunk: Buffer) => this.pipes.up.onData(chunk));
    upstream.on('data', (chunk: Buffer) => this.pipes.down.onData(chunk));
    client.on('end', () => this.onSourceEnd('up'));
    upstream.on('end', () => this.onSourceEnd('down'));
    upstream.once('connect', () => {
      this.pipes.up.sinkReady = true;
      this.pipes.up.pump();
    });
    client.on('error', () => this.onSourceError('client'));
    upstream.on('error', (error: NodeJS.ErrnoException) => this.onSourceError('server', error));
    for (const socket of [client, upstream]) {
      socket.once('close', () => {
        if (++this.closedSockets === 2) this.resolveClosed(this.endInfo ?? { by: 'proxy', how: 'close' });
      });
    }
    client.on('close', () => this.onSocketClose('client'));
    upstream.on('close', () => this.onSocketClose('server'));
  }

  /** True until the connection ended (either side, or a fault). */
  get open(): boolean {
    return !this.finished;
  }

  /** How the connection ended, once it has. */
  get end(): ConnectionEnd | undefined {
    return this.endInfo;
  }

  /** Bytes the sender has written in `direction` so far (whatever was done with them). */
  bytes(direction: Direction): number {
    return this.pipes[direction].received;
  }

  /** Bytes of `direction` forwarded (or dropped) so far: the offset of the next byte to forward. */
  forwarded(direction: Direction): number {
    return this.pipes[direction].position;
  }

  /** Bytes of `direction` held now (stalled or dripping). */
  held(direction: Direction): number {
    return this.pipes[direction].held;
  }

  /** The first `recordLimit` bytes the sender wrote in `direction`. */
  recorded(direction: Direction): Buffer {
    return this.pipes[direction].recorded();
  }

  /** Ends the connection (FIN both sides) once `direction` has forwarded exactly `offset` bytes. */
  cutAt(direction: Direction, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`cutAt: offset must be a non-negative integer, got ${offset}`);
    const pipe = this.pipes[direction];
    pipe.cutAt = offset;
    if (pipe.position >= offset) this.cutNow();
    else pipe.pump();
  }

  /** Ends the connection now with FIN on both sides; bytes not yet forwarded are dropped. */
  cut(): void {
    this.cutNow();
  }

  /** Holds the bytes of `direction` (both by default) until release(). */
  stall(direction?: Direction): void {
    for (const d of direction ? [direction] : DIRECTIONS) this.pipes[d].setMode('stall');
  }

  /** Forwards what was held and goes back to forwarding at once (also ends a drip). */
  release(direction?: Direction): void {
    for (const d of direction ? [direction] : DIRECTIONS) this.pipes[d].setMode('flow');
  }

  /** Forwards at most `bytesPerTick` bytes of `direction` per tick (setImmediate, or every intervalMs). */
  drip(direction: Direction, bytesPerTick: number, intervalMs = 0): void {
    if (!Number.isSafeInteger(bytesPerTick) || bytesPerTick <= 0) throw new RangeError(`drip: bytesPerTick must be a positive integer, got ${bytesPerTick}`);
    const pipe = this.pipes[direction];
    pipe.dripBytes = bytesPerTick;
    pipe.dripInterval = intervalMs;
    pipe.setMode('drip');
  }

  /** A half-open link from now on: nothing forwarded, no FIN, no RST, for good (see the file header). */
  blackHole(): void {
    if (this.finished) return;
    this.dark = true;
    for (const d of DIRECTIONS) this.pipes[d].clearDrip();
  }

  /** Replaces the byte at `offset` of `direction` as it passes (by `value`, default its complement). */
  corrupt(direction: Direction, offset: number, value?: number): void {
    const pipe = this.pipes[direction];
    if (offset < pipe.position) throw new RangeError(`corrupt: offset ${offset} of ${direction} was already forwarded (at ${pipe.position})`);
    pipe.corruptAt.set(offset, value);
  }

  /** Destroys both sides with RST. */
  reset(): void {
    if (this.finished) return;
    this.finish({ by: 'proxy', how: 'reset' });
    resetSocket(this.client);
    resetSocket(this.upstream);
  }

  /** @internal Ends both sides with FIN (a cut). */
  cutNow(): void {
    if (this.finished) return;
    this.finish({ by: 'proxy', how: 'cut' });
    this.client.end();
    this.upstream.end();
    // Destroyed if a peer lingers; the FIN is on its way first.
    setTimeout(() => {
      this.client.destroy();
      this.upstream.destroy();
    }, 1_000).unref();
  }

  /** @internal A source's FIN reached the sink after its bytes: end the connection. */
  endBoth(by: 'client' | 'server'): void {
    if (this.finished) return;
    this.finish({ by, how: 'fin' });
    this.client.end();
    this.upstream.end();
    setTimeout(() => {
      this.client.destroy();
      this.upstream.destroy();
    }, 1_000).unref();
  }

  /** @internal Closes both sides now (the proxy is closing). */
  destroy(): void {
    if (!this.finished) this.finish({ by: 'proxy', how: 'close' });
    this.client.destroy();
    this.upstream.destroy();
  }

  /** @internal The upstream refused: RST to the client. */
  upstreamRefused(): void {
    if (this.finished) return;
    this.finish({ by: 'server', how: 'upstream-refused' });
    resetSocket(this.client);
    this.upstream.destroy();
  }

  private finish(end: ConnectionEnd): void {
    this.finished = true;
    this.endInfo ??= end;
    for (const d of DIRECTIONS) this.pipes[d].clearDrip();
  }

  private onSourceEnd(direction: Direction): void {
    // A FIN from a dark connection's peer goes nowhere; the client's means it gave up on the link.
    if (this.dark) {
      if (direction === 'up') this.finishDark('client');
      return;
    }
    this.pipes[direction].onEnd();
  }

  private onSourceError(side: 'client' | 'server', error?: NodeJS.ErrnoException): void {
    if (side === 'server' && !this.pipes.up.sinkReady && error !== undefined && !this.finished) {
      this.upstreamRefused();
      return;
    }
    if (this.finished) return;
    if (this.dark) {
      if (side === 'client') this.finishDark('client');
      return;
    }
    this.finish({ by: side, how: 'reset' });
    resetSocket(side === 'client' ? this.upstream : this.client);
  }

  private onSocketClose(side: 'client' | 'server'): void {
    if (this.finished) return;
    if (this.dark) {
      // The client gave up on the half-open link: close the upstream side too (it cannot see that).
      // The server closing is not conveyed: the client must notice by itself.
      if (side === 'client') this.finishDark('client');
      return;
    }
    // Closed without FIN first (destroyed): convey as RST.
    this.finish({ by: side, how: 'reset' });
    resetSocket(side === 'client' ? this.upstream : this.client);
  }

  private finishDark(by: 'client'): void {
    this.finish({ by, how: 'close' });
    this.client.destroy();
    this.upstream.destroy();
  }
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy needs a connected TCP handle; a socket still connecting is simply destroyed.
  if (socket.connecting || socket.pending) socket.destroy();
  else socket.resetAndDestroy();
}

type Persistent = { stall: Set<Direction>; drip: Map<Direction, { bytes: number; interval: number }>; dark: boolean };

export class FaultProxy {
  readonly host: string;
  private portValue = 0;
  private server: Server | undefined;
  private target: { host: string; port: number };
  private readonly recordLimit: number;
  private nextId = 1;
  private readonly live = new Set<ProxyConnection>();
  /** Every connection accepted, in order. */
  readonly history: ProxyConnection[] = [];
  private readonly listeners = new Set<(connection: ProxyConnection) => void>();
  private readonly persistent: Persistent = { stall: new Set(), drip: new Map(), dark: false };
  private closedForGood = false;

  private constructor(options: FaultProxyOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.portValue = options.port ?? 0;
    this.target = { ...options.target };
    this.recordLimit = options.recordLimit ?? 1024 * 1024;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await proxy.accept();
    return proxy;
  }

  get port(): number {
    return this.portValue;
  }

  /** True while the listener accepts connections. */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** The open connections, oldest first. */
  get connections(): ProxyConnection[] {
    return [...this.live];
  }

  /** Where new connections go. */
  get upstream(): { host: string; port: number } {
    return { ...this.target };
  }

  /** New connections go to `target` from now on; open ones keep their upstream. */
  retarget(target: { host: string; port: number }): void {
    this.target = { ...target };
  }

  /** Runs for each new connection before any byte of it is forwarded; returns a function that stops it. */
  onConnection(listener: (connection: ProxyConnection) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next connection the proxy accepts. */
  nextConnection(): Promise<ProxyConnection> {
    return new Promise((resolve) => {
      const stop = this.onConnection((connection) => {
        stop();
        resolve(connection);
      });
    });
  }

  /** Closes the listener: new connections are refused (ECONNREFUSED); open ones are untouched. */
  async refuse(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    // close() stops listening at once; its callback waits for the accepted sockets, so not awaited.
    server.close();
    // The listening handle closes on the next turns of the event loop: from then on, ECONNREFUSED.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Listens (again) on the same port; retries for a while if the port is briefly taken. */
  async accept(): Promise<void> {
    if (this.closedForGood) throw new Error('fault proxy: closed');
    if (this.server !== undefined) return;
    const deadline = Date.now() + 5_000;
    for (;;) {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.onAccept(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: this.host, port: this.portValue, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && this.portValue !== 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        throw error;
      }
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('fault proxy: no TCP address');
      this.portValue = address.port;
      this.server = server;
      return;
    }
  }

  /** Cuts every open connection now (FIN both sides). */
  cut(): void {
    for (const c of this.live) c.cut();
  }

  /** Resets every open connection (RST both sides). */
  reset(): void {
    for (const c of this.live) c.reset();
  }

  /** Stalls `direction` (both by default) on every open connection and on new ones, until release(). */
  stall(direction?: Direction): void {
    for (const d of direction ? [direction] : DIRECTIONS) {
      this.persistent.stall.add(d);
      this.persistent.drip.delete(d);
    }
    for (const c of this.live) c.stall(direction);
  }

  /** Drips `direction` on every open connection and on new ones, until release(). */
  drip(direction: Direction, bytesPerTick: number, intervalMs = 0): void {
    this.persistent.stall.delete(direction);
    this.persistent.drip.set(direction, { bytes: bytesPerTick, interval: intervalMs });
    for (const c of this.live) c.drip(direction, bytesPerTick, intervalMs);
  }

  /** Ends stalls and drips on every open connection and for new ones. */
  release(direction?: Direction): void {
    for (const d of direction ? [direction] : DIRECTIONS) {
      this.persistent.stall.delete(d);
      this.persistent.drip.delete(d);
    }
    for (const c of this.live) c.release(direction);
  }

  /** Black-holes every open connection, and every new one until forward(). */
  blackHole(): void {
    this.persistent.dark = true;
    for (const c of this.live) c.blackHole();
  }

  /** New connections are forwarded again (black-holed ones stay dark: see the file header). */
  forward(): void {
    this.persistent.dark = false;
  }

  /** Closes the listener and destroys every connection. */
  async close(): Promise<void> {
    this.closedForGood = true;
    const refused = this.refuse();
    const closing = [...this.live].map((c) => c.closed);
    for (const c of this.live) c.destroy();
    await Promise.all([refused, ...closing]);
  }

  private onAccept(client: Socket): void {
    if (this.closedForGood) {
      client.destroy();
      return;
    }
    const upstream = netConnect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    const connection = new ProxyConnection(this.nextId++, client, upstream, this.recordLimit);
    this.live.add(connection);
    this.history.push(connection);
    void connection.closed.then(() => this.live.delete(connection));
    for (const d of this.persistent.stall) connection.stall(d);
    for (const [d, drip] of this.persistent.drip) connection.drip(d, drip.bytes, drip.interval);
    if (this.persistent.dark) connection.blackHole();
    for (const listener of [...this.listeners]) listener(connection);
    connection.start();
    client.resume();
  }
}

/** Starts a fault proxy in front of `target` on a free loopback port (see FaultProxy). */
export function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  return FaultProxy.start(options);
}
