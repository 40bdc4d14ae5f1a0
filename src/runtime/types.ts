/** The types shared by the hand-written core and the generated commands. */
import type { RespValue } from './resp/parser.js';
import type { CommandArg } from './resp/encoder.js';

export type { CommandArg, RespValue };

/** A key: text (sent as UTF-8) or bytes. */
export type RedisKey = string | Buffer | Uint8Array;
/** A text argument such as a field or channel name: text or bytes. */
export type RedisString = string | Buffer | Uint8Array;
/** A value: text, bytes, or a number (sent as its decimal text). */
export type RedisValue = string | Buffer | Uint8Array | number;

/** Pairs (field/value, key/value): a plain object, a Map, or an array of two-element tuples. */
export type PairsInput<K, V> = Readonly<Record<string, V>> | ReadonlyMap<K, V> | ReadonlyArray<readonly [K, V]>;

/**
 * Which server the client talks to. `gocache` (the default) never sends what GoCache does not
 * serve: commands and options it lacks are rejected before a byte is sent, and commands the spec
 * marks for it are adapted (DEL of several keys). `redis` sends Redis's full command set.
 */
export type ServerKind = 'gocache' | 'redis';

/**
 * What an argument builder needs besides the arguments: the server the command is built for (GoCache
 * refuses what it does not serve before anything is sent). One object per client, passed to every
 * builder, so what builders need later (a key prefix, key positions for a cluster) is added here.
 */
export interface ArgsContext {
  readonly server: ServerKind;
  /**
   * When set, every builder records here the wire position of each key it writes (a cluster routes
   * by them; MGET's are split by them). Left undefined by callers that do not need them.
   */
  readonly keyIndexes?: number[];
  /** The client's keyPrefix: put before every key (not before values or channels). */
  readonly keyPrefix?: string | Buffer;
}

/**
 * What a cluster client does with a command (from its spec). Keys on one node: sent there; keys on
 * several: `split` and merged ('sum' the counts, 'ordered' the replies back in the caller's order,
 * 'ok' every part answered OK), or refused; no key: any node, or `everyNode` merged ('sum', 'concat',
 * 'ok', 'equal': the same answer from each); `refuse`: why a cluster client does not send it;
 * `channel`: routed by its channel (the first argument) like a key.
 * @inline
 */
export interface ClusterRouting {
  readonly split?: 'sum' | 'ordered' | 'ok';
  readonly everyNode?: 'sum' | 'concat' | 'ok' | 'equal';
  readonly refuse?: string;
  readonly channel?: true;
}

/** A command's static description, from its spec. */
export interface CommandInfo {
  /** The command as sent: `GET`, `CLUSTER NODES`. */
  readonly name: string;
  readonly flags: readonly string[];
  /** Names of the arguments that hold keys. */
  readonly keys: readonly string[];
  readonly gocache: boolean;
  /** true, or why GoCache must never receive it inside MULTI (it refuses it there, or hangs). */
  readonly gocacheInMulti: true | false | string;
  readonly redis: string | false;
  /**
   * GoCache takes one element of the variadic argument per command (its DEL takes one key): against
   * GoCache, several are sent as one command each and the replies combined.
   */
  readonly split?: 'sum';
  /**
   * This call blocks its connection until the server has an answer (BLPOP; XREAD with BLOCK): send it
   * on a connection of its own, so that other commands do not wait behind it. Unlike the `blocking`
   * flag (the command *may* block, as COMMAND INFO says), this is per call: a command that blocks only
   * with an option (`blockingWhen`) has two descriptors, and its method dispatches the one with
   * `blocking: true` only when that option is given.
   */
  readonly blocking?: true;
  /** The option that makes a call block (XREAD's and XREADGROUP's `block`), for a command that blocks only with it. */
  readonly blockingWhen?: string;
  /**
   * The reply holds raw bytes (DUMP, FUNCTION DUMP): read it with bulk strings as Buffers whatever the
   * view, since decoding it as UTF-8 would lose every byte that is not valid UTF-8. Its decoder turns
   * the Buffer into the reply (a Buffer in the string view too).
   */
  readonly replyBytes?: true;
  /**
   * Where its decoded reply holds key names, from which a client's keyPrefix is removed: `each`
   * string (KEYS), the `one` string (RANDOMKEY), the `first` element (BLPOP's [key, value]), or the
   * keys of SCAN's [cursor, keys].
   */
  readonly replyKeys?: 'each' | 'one' | 'first' | 'scan';
  /** How a cluster client routes it, when not simply by its keys (or to any node when it has none). */
  readonly cluster?: ClusterRouting;
}

/** Builds a command's checked arguments; throws GoCacheArgumentError before anything is sent. */
export type ArgsBuilder = (context: ArgsContext) => CommandArg[];

/** Turns a raw reply into the declared type, or throws GoCacheProtocolError. */
export type Decoder = (reply: RespValue) => unknown;
