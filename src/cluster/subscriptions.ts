/**
 * One subscription made of several (a cluster's channels on several nodes): messages from every part,
 * in arrival order, through one async iterator; unsubscribe and close reach every part. Parts can be
 * added while it runs (a shard channel subscribed again on the node its slot moved to).
 *
 * Each part is drained as its messages arrive, into one buffer bounded like a subscription's own
 * (`highWaterMark`, the oldest dropped first and counted in `dropped`). A part that fails ends the
 * iteration with its error, after the buffered messages, and the other parts are closed.
 */
import { GoCacheConnectionError, type GoCacheError } from '../runtime/errors.js';
import { Queue } from '../client/queue.js';
import { DEFAULT_HIGH_WATER_MARK, type ChannelMessage, type Subscription } from '../client/pubsub.js';

type Part = Subscription<ChannelMessage<string>>;

export class ClusterSubscription implements AsyncIterable<ChannelMessage<string>>, AsyncDisposable {
  onError: ((error: GoCacheError) => void) | undefined;
  onReconnect: ((reconnects: number) => void) | undefined;
  private readonly parts: Part[] = [];
  private readonly messages = new Queue<ChannelMessage<string>>();
  private readonly waiters: Array<{ resolve(result: IteratorResult<ChannelMessage<string>>): void; reject(error: Error): void }> = [];
  private droppedHere = 0;
  private closed = false;
  private failure: GoCacheError | undefined;
  private failureThrown = false;
  /** Parts being opened (a shard channel subscribed again where its slot moved): an empty merge is not over yet. */
  opening = 0;

  constructor(
    parts: readonly Part[],
    private readonly highWaterMark = DEFAULT_HIGH_WATER_MARK,
  ) {
    for (const part of parts) this.add(part);
  }

  /** @internal */
  forEachPart(visit: (part: Part) => void): void {
    this.parts.forEach(visit);
  }

  /** @internal Takes a part in: its messages join the others from now on. */
  add(part: Part): void {
    if (this.closed || this.failure !== undefined) {
      part.destroy();
      return;
    }
    this.parts.push(part);
    part.onReconnect = () => this.onReconnect?.(this.reconnects);
    void this.pump(part);
  }

  private async pump(part: Part): Promise<void> {
    try {
      for (;;) {
        const result = await part.next();
        if (result.done) break;
        this.deliver(result.value);
      }
    } catch (error) {
      this.fail(error instanceof Error ? (error as GoCacheError) : new GoCacheConnectionError(String(error)));
      return;
    }
    const index = this.parts.indexOf(part);
    if (index >= 0) this.parts.splice(index, 1);
    if (this.parts.length === 0 && this.opening === 0) this.end();
  }

  get channels(): string[] {
    return this.parts.flatMap((part) => part.channels);
  }

  get isOpen(): boolean {
    return !this.closed && this.failure === undefined;
  }

  get dropped(): number {
    return this.droppedHere + this.parts.reduce((total, part) => total + part.dropped, 0);
  }

  get buffered(): number {
    return this.messages.length;
  }

  get reconnects(): number {
    return this.parts.reduce((total, part) => total + part.reconnects, 0);
  }

  get error(): GoCacheError | undefined {
    return this.failure;
  }

  next(): Promise<IteratorResult<ChannelMessage<string>>> {
    const message = this.messages.shift();
    if (message !== undefined) return Promise.resolve({ done: false, value: message });
    if (this.failure !== undefined && !this.failureThrown) {
      this.failureThrown = true;
      return Promise.reject(this.failure);
    }
    if (this.closed || this.failure !== undefined) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async subscribe(): Promise<void> {
    throw new GoCacheConnectionError('A cluster subscription takes its channels when it is opened: open another one for more');
  }

  async unsubscribe(...names: Array<string | Buffer>): Promise<void> {
    const wanted = names.map(String);
    await Promise.all(this.parts.map((part) => (names.length === 0 ? part.unsubscribe() : part.unsubscribe(...part.channels.filter((held) => wanted.includes(String(held)))))));
  }

  ping(): Promise<'PONG'> {
    return Promise.all(this.parts.map((part) => part.ping())).then(() => 'PONG' as const);
  }

  async close(): Promise<void> {
    this.end();
    await Promise.all(this.parts.splice(0).map((part) => part.close()));
  }

  destroy(reason?: GoCacheError): void {
    this.end();
    for (const part of this.parts.splice(0)) part.destroy(reason);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<ChannelMessage<string>> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        this.messages.drain();
        return { done: true, value: undefined };
      },
    };
  }

  private deliver(message: ChannelMessage<string>): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) return waiter.resolve({ done: false, value: message });
    if (this.messages.length >= this.highWaterMark) {
      this.messages.shift();
      this.droppedHere++;
    }
    this.messages.push(message);
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
  }

  private fail(error: GoCacheError): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = error;
    for (const part of this.parts.splice(0)) part.destroy(error);
    for (const waiter of this.waiters.splice(0)) {
      this.failureThrown = true;
      waiter.reject(error);
    }
    this.onError?.(error);
  }
}
