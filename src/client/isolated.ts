/**
 * Connections of their own for blocking commands (BLPOP, BRPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...),
 * taken from a small pool the client manages, so a command that waits on the server never stalls the
 * others (node-redis calls this isolation). A blocking command that times out client-side or is
 * aborted leaves its connection in an unknown state (the server may still answer it later): that
 * connection is closed, and only it.
 */
import { GoCacheConnectionError, GoCacheError } from '../runtime/errors.js';
import type { CommandArg, Decoder } from '../runtime/types.js';
import { Connection } from './connection.js';
import { handshake } from './handshake.js';
import type { ResolvedOptions } from './options.js';

export class IsolatedPool {
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  private opening = 0;
  private readonly waiters: Array<{ resolve(connection: Connection): void; reject(error: GoCacheError): void }> = [];
  private closed: GoCacheError | undefined;

  constructor(private readonly options: ResolvedOptions) {}

  /** Connections open now (idle and busy). */
  get size(): number {
    return this.idle.length + this.busy.size;
  }

  /** Sends one command on a connection of its own; its connection goes back to the pool once answered. */
  async send<T>(name: string, args: readonly CommandArg[], decode: Decoder, buffers: boolean, signal?: AbortSignal): Promise<T> {
    const connection = await this.acquire();
    // Sent first, so the command's own abort handler rejects it with GoCacheAbortError before this one closes the connection.
    const reply = connection.send<T>(name, args, decode, buffers, signal);
    const onAbort = (): void => connection.destroy(new GoCacheConnectionError(`${name} was aborted: its connection is closed`));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await reply;
    } catch (error) {
      // Timed out or aborted client-side, the server may still answer: this connection is done.
      if (connection.pendingCount > 0) connection.destroy(new GoCacheConnectionError(`${name} did not complete: its connection is closed`));
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.release(connection);
    }
  }

  /** Runs `use` with a connection of its own (a pipeline holding a blocking command). */
  async with<T>(use: (connection: Connection) => Promise<T>): Promise<T> {
    const connection = await this.acquire();
    try {
      return await use(connection);
    } finally {
      if (connection.pendingCount > 0) connection.destroy();
      this.release(connection);
    }
  }

  closeAll(reason: GoCacheError = new GoCacheConnectionError('The client is closed')): void {
    this.closed = reason;
    for (const connection of [...this.idle, ...this.busy]) connection.destroy(reason);
    this.idle.length = 0;
    this.busy.clear();
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
  }

  private acquire(): Promise<Connection> {
    if (this.closed) return Promise.reject(this.closed);
    const idle = this.idle.pop();
    if (idle !== undefined) {
      this.busy.add(idle);
      return Promise.resolve(idle);
    }
    if (this.size + this.opening < this.options.isolationPoolSize) return this.open();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async open(): Promise<Connection> {
    this.opening++;
    try {
      const connection = await Connection.open(this.options);
      try {
        await handshake(connection, this.options);
      } catch (error) {
        connection.destroy();
        throw error;
      }
      if (this.closed) {
        connection.destroy(this.closed);
        throw this.closed;
      }
      connection.onClose(() => {
        this.busy.delete(connection);
        const at = this.idle.indexOf(connection);
        if (at >= 0) this.idle.splice(at, 1);
      });
      this.busy.add(connection);
      return connection;
    } finally {
      this.opening--;
    }
  }

  private release(connection: Connection): void {
    this.busy.delete(connection);
    const waiter = this.waiters.shift();
    if (!connection.isOpen) {
      // Closed (timed out, aborted or lost): a waiter gets a new connection instead.
      if (waiter !== undefined) this.open().then(waiter.resolve, waiter.reject);
      return;
    }
    if (waiter !== undefined) {
      this.busy.add(connection);
      waiter.resolve(connection);
    } else {
      this.idle.push(connection);
    }
  }
}
