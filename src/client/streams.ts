/**
 * Consuming streams as async iterators: `xreadIterator` follows streams from given ids, and
 * `xreadgroupIterator` consumes them as a member of a consumer group. Each waits with XREAD /
 * XREADGROUP BLOCK, which the client sends on a connection of its own (blocking commands never hold
 * up the client's other commands), and remembers where it is, so every entry is yielded once.
 *
 * A consumer group's entries are acknowledged (XACK) when the loop asks for the next entry, that is
 * once the loop body finished with it: an entry whose body throws or breaks out of the loop stays
 * pending, to be read again or claimed (XAUTOCLAIM) by another consumer (at-least-once delivery).
 * `ack: 'manual'` leaves acknowledging to `entry.ack()`. Before new entries, the iterator reads the
 * consumer's own pending ones (id 0), so a consumer that restarts under the same name finishes what
 * it had read and not acknowledged.
 */
import { GoCacheAbortError } from '../runtime/errors.js';
import type { PairsInput, RedisKey, RedisString } from '../runtime/types.js';

/** One entry of a stream, with the stream it came from. */
export interface StreamEntry<S extends string | Buffer = string> {
  stream: S;
  id: S;
  /** Field-value pairs in the order they were added (a field may repeat). */
  fields: Array<[S, S]>;
}

/** An entry read through a consumer group: acknowledge it with `ack()` (when `ack: 'manual'`). */
export interface GroupEntry<S extends string | Buffer = string> extends StreamEntry<S> {
  /** XACK for this entry; resolves to 1, or 0 when it was acknowledged already. */
  ack(): Promise<number>;
}

export interface StreamIteratorOptions {
  /** At most this many entries per stream and read (default 100). */
  count?: number;
  /** Milliseconds each XREAD waits for new entries before asking again (default 5,000). */
  block?: number;
  /** Aborting ends the iteration: a read that is waiting is cancelled (its connection closed). */
  signal?: AbortSignal;
}

export interface GroupIteratorOptions extends StreamIteratorOptions {
  /** `auto` (default): each entry is acknowledged once the loop asks for the next one. `manual`: call `entry.ack()`. */
  ack?: 'auto' | 'manual';
}

/** What the iterators need of a client: the stream commands of a view that honours a signal. */
export interface StreamCommands<S extends string | Buffer> {
  xread(streams: PairsInput<RedisKey, RedisString>, options?: { count?: number; block?: number }): Promise<Array<{ stream: S; entries: Array<{ id: S; fields: Array<[S, S]> }> }> | null>;
  xreadgroup(
    groupConsumer: { group: RedisString; consumer: RedisString },
    streams: PairsInput<RedisKey, RedisString>,
    options?: { count?: number; block?: number },
  ): Promise<Array<{ stream: S; entries: Array<{ id: S; fields: Array<[S, S]> | null }> }> | null>;
  xack(key: RedisKey, group: RedisString, ...ids: [RedisString, ...RedisString[]]): Promise<number>;
  xrevrange(key: RedisKey, end: RedisString, start: RedisString, options?: { count?: number }): Promise<Array<{ id: S; fields: Array<[S, S]> }>>;
}

const text = (value: string | Buffer | Uint8Array): string => (typeof value === 'string' ? value : Buffer.from(value).toString('latin1'));

/**
 * Matches the stream names a reply gives (with the client's keyPrefix, if any) to the keys the caller
 * gave: by the name itself, else by its end.
 */
function keyOfStream(keys: readonly RedisKey[], stream: string | Buffer): RedisKey | undefined {
  const name = text(stream);
  return keys.find((key) => text(key) === name) ?? keys.find((key) => name.endsWith(text(key)));
}

function pairsOf(streams: PairsInput<RedisKey, RedisString>): Array<[RedisKey, RedisString]> {
  if (Array.isArray(streams)) return streams.map(([k, v]) => [k, v]);
  if (streams instanceof Map) return [...streams];
  return Object.entries(streams as Record<string, RedisString>);
}

const aborted = (error: unknown, signal: AbortSignal | undefined): boolean => signal?.aborted === true && error instanceof GoCacheAbortError;

export async function* readStreams<S extends string | Buffer>(
  client: StreamCommands<S>,
  streams: PairsInput<RedisKey, RedisString>,
  options: StreamIteratorOptions = {},
): AsyncGenerator<StreamEntry<S>, void, undefined> {
  const positions = pairsOf(streams);
  const keys = positions.map(([key]) => key);
  const read = { count: options.count ?? 100, block: options.block ?? 5_000 };
  // `$` means "after the last entry" when a read starts; resolved once, here, so that an entry added
  // between two reads of the loop is not skipped.
  for (const [at, [key, id]] of positions.entries()) {
    if (text(id) !== '$') continue;
    const [last] = await client.xrevrange(key, '+', '-', { count: 1 });
    positions[at] = [key, last?.id ?? '0-0'];
  }
  while (options.signal?.aborted !== true) {
    let reply;
    try {
      reply = await client.xread(positions, read);
    } catch (error) {
      if (aborted(error, options.signal)) return;
      throw error;
    }
    for (const { stream, entries } of reply ?? []) {
      const key = keyOfStream(keys, stream);
      for (const { id, fields } of entries) {
        const at = positions.findIndex(([k]) => k === key);
        // From now on read after this entry: `$` (new entries only) becomes its id.
        if (at >= 0) positions[at] = [key!, id];
        yield { stream, id, fields };
      }
    }
  }
}

export async function* readGroup<S extends string | Buffer>(
  client: StreamCommands<S>,
  group: RedisString,
  consumer: RedisString,
  keys: readonly RedisKey[],
  options: GroupIteratorOptions = {},
): AsyncGenerator<GroupEntry<S>, void, undefined> {
  const auto = (options.ack ?? 'auto') === 'auto';
  const read = { count: options.count ?? 100, block: options.block ?? 5_000 };
  // First this consumer's own pending entries (id 0, read without blocking), then new ones (`>`).
  let history = true;
  const after = new Map<RedisKey, RedisString>(keys.map((key) => [key, '0']));
  while (options.signal?.aborted !== true) {
    let reply;
    try {
      const ids: Array<[RedisKey, RedisString]> = keys.map((key) => [key, history ? after.get(key)! : '>']);
      reply = await client.xreadgroup({ group, consumer }, ids, history ? { count: read.count } : read);
    } catch (error) {
      if (aborted(error, options.signal)) return;
      throw error;
    }
    let got = 0;
    for (const { stream, entries } of reply ?? []) {
      const key = keyOfStream(keys, stream) ?? (stream as RedisKey);
      for (const { id, fields } of entries) {
        got++;
        if (history) after.set(key, id);
        const ack = () => client.xack(key, group, id);
        // A pending entry deleted meanwhile comes back without fields: nothing to process.
        if (fields === null) {
          await ack();
          continue;
        }
        yield { stream, id, fields, ack };
        if (auto) await ack();
      }
    }
    if (history && got === 0) history = false;
  }
}
