/**
 * The cluster client: the same generated commands as the single-node client, routed to the node that
 * holds their keys. GoCache's hash ring and Redis Cluster's slots (topology.ts), both MOVED forms and
 * ASK (with ASKING), a bounded number of hops.
 *
 * Routing comes from the spec (no hand-kept table): each generated builder records where it wrote
 * keys (ArgsContext.keyIndexes), and each command's descriptor says what to do when keys live on
 * several nodes (CommandInfo.cluster):
 * - one node holds every key: sent there;
 * - keys on several nodes (Redis: several slots): split per node and merged when the spec says how
 *   (`split`: 'sum' for DEL, EXISTS, UNLINK, TOUCH; 'ordered' for MGET, replies back in the caller's
 *   order; 'ok' for MSET), otherwise refused before sending with the keys and where they live;
 * - no key: any node, or every leader when the answer is per node (`everyNode`: DBSIZE sums, KEYS
 *   concatenates, FLUSHALL expects OK everywhere, SCRIPT LOAD the same SHA from each);
 * - `refuse`: not meaningful through a cluster client (the spec says why);
 * - `channel`: routed by its channel like a key (GoCache's pub/sub is per node; Redis's SPUBLISH).
 * One connection per node (and pools for blocking commands), opened when first needed.
 */
import { decodeScan, SCAN, scanArgs, type ScanOptions } from '../../generated/commands/generic.js';
import { ssubscribeArgs } from '../../generated/commands/pubsub.js';
import type { GoCacheCommands } from '../../generated/gocache-commands.js';
import { RedisClientCommands, RedisCommands } from '../../generated/redis-commands.js';
import { GoCacheArgumentError, GoCacheCommandError, GoCacheConnectionError, GoCacheError, GoCacheProtocolError } from '../runtime/errors.js';
import type { Kind, PromiseKind } from '../runtime/kind.js';
import type { RespValue } from '../runtime/resp/parser.js';
import type { ArgsBuilder, ArgsContext, CommandArg, CommandInfo, Decoder, ServerKind } from '../runtime/types.js';
import type { ClientCore } from '../client/client.js';
import type { Connection, ReplySink } from '../client/connection.js';
import { IsolatedPool } from '../client/isolated.js';
import { deriveOptions, resolveOptions, type ClientOptions, type ResolvedOptions } from '../client/options.js';
import { GoCachePipelineError, MultiImpl, type Multi, type Pipeline, type Settled } from '../client/pipeline.js';
import { rawCommand } from '../client/raw.js';
import { unprefixedDecoder } from '../client/dispatch.js';
import { openSubscription, type ChannelMessage, type Subscription } from '../client/pubsub.js';
import { ReconnectingConnection } from '../client/reconnecting.js';
import { traceTarget, tracing } from '../client/tracing.js';
import { ClusterSubscription } from './subscriptions.js';
import {
  GoCacheTopology,
  nodeAddress,
  parseRedirect,
  redisTopologyFromShards,
  RedisTopology,
  redisTopologyFromSlots,
  splitAddress,
  type GoCacheShardOptions,
  type NodeAddress,
  type Placement,
  type Shard,
  type Topology,
} from './topology.js';

/** Where reads may go: the shard's leader (default), a follower (replica), or any of them. */
export type ReadFrom = 'leader' | 'follower' | 'any';

export interface ClusterOptions extends Omit<ClientOptions, 'host' | 'port' | 'url' | 'path' | 'database'> {
  /** Redis: seed nodes (`host:port`), asked for the slot map. GoCache: optional, the shards say it. */
  nodes?: readonly string[];
  /** GoCache: every shard with its id (from the nodes' config), leader and followers: the ring is built from them. */
  shards?: readonly GoCacheShardOptions[];
  /** Where reads go; default 'leader'. Redis replicas get READONLY on connect. */
  readFrom?: ReadFrom;
  /** MOVED/ASK hops a command may take before it fails; default 5. */
  maxRedirections?: number;
  /** Milliseconds between slot-map refreshes (Redis), besides the ones MOVED and lost nodes cause; default 30,000; 0 off. */
  topologyRefreshInterval?: number;
}

/** What a cluster command descriptor says (from its spec). */
interface ClusterRouting {
  split?: 'sum' | 'ordered' | 'ok';
  everyNode?: 'sum' | 'concat' | 'ok' | 'equal';
  refuse?: string;
  channel?: boolean;
}

type RoutedInfo = CommandInfo & { cluster?: ClusterRouting };
type KeyedContext = ArgsContext & { keyIndexes?: number[] };

/** One node: its link (opened when first needed) and its pool for blocking commands. */
class NodeLink {
  private link: ReconnectingConnection | undefined;
  private opening: Promise<ReconnectingConnection> | undefined;
  readonly pool: IsolatedPool;
  closed = false;

  constructor(
    readonly address: NodeAddress,
    private readonly options: ResolvedOptions,
    private readonly readonlyReplica: boolean,
    private readonly onLost: (address: NodeAddress) => void,
  ) {
    this.pool = new IsolatedPool(options);
  }

  /** The open link, or a promise of it (undefined once closed). */
  get ready(): ReconnectingConnection | undefined {
    return this.link !== undefined && this.link.state === 'ready' ? this.link : undefined;
  }

  open(): Promise<ReconnectingConnection> {
    if (this.link !== undefined) return Promise.resolve(this.link);
    this.opening ??= ReconnectingConnection.open(this.options, undefined, this.readonlyReplica ? readonlySetup : undefined).then(
      (link) => {
        this.opening = undefined;
        if (this.closed) {
          link.destroy();
          throw new GoCacheConnectionError('The cluster client is closed');
        }
        this.link = link;
        link.on('reconnecting', () => this.onLost(this.address));
        return link;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  /** Sends through the link, opening it first when needed; a node that cannot be reached fails `sink` at once. */
  sendTo(sink: ReplySink, index: number, name: string, args: readonly CommandArg[], decode: Decoder, buffers: boolean): void {
    const link = this.ready;
    if (link !== undefined) return link.sendTo(sink, index, name, args, decode, buffers);
    this.open().then(
      (opened) => opened.sendTo(sink, index, name, args, decode, buffers),
      (error: unknown) => sink.fail(index, error instanceof GoCacheError ? error : new GoCacheConnectionError(String(error))),
    );
  }

  core(context: ArgsContext): Promise<ClientCore> {
    return this.open().then((link) => ({ link, pool: this.pool, options: this.options, context, trace: traceTarget(this.options) }));
  }

  close(reason?: GoCacheError): void {
    this.closed = true;
    this.link?.destroy(reason);
    this.pool.closeAll(reason);
  }

  async closeGracefully(): Promise<void> {
    this.closed = true;
    await this.link?.close();
    this.pool.closeAll();
  }
}

const rawReply: Decoder = (reply) => reply;
const ignored: ReplySink = { ok() {}, fail() {} };

/** How many words the command's name takes on the wire (`CLUSTER NODES`: 2): where its arguments start. */
function commandWords(info: CommandInfo): number {
  return info.name.includes(' ') ? info.name.split(' ').length : 1;
}

/** A Redis replica serves reads only after READONLY, on every connection. */
async function readonlySetup(connection: Connection): Promise<void> {
  await connection.send('READONLY', ['READONLY'], rawReply);
}

/** The cluster's runtime: every generated command, `dispatch` routes it. */
class ClusterImpl extends RedisClientCommands<string> {
  private readonly links = new Map<NodeAddress, NodeLink>();
  private lastLink: NodeLink | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closedReason: GoCacheError | undefined;
  readonly maxRedirections: number;
  readonly readFrom: ReadFrom;
  /** @internal What every command is built with: the server, and the keyPrefix when there is one. */
  readonly baseContext: ArgsContext;

  private constructor(
    readonly options: Readonly<ResolvedOptions>,
    private topology: Topology,
    private readonly seeds: NodeAddress[],
    settings: { maxRedirections: number; readFrom: ReadFrom; topologyRefreshInterval: number },
  ) {
    super();
    this.maxRedirections = settings.maxRedirections;
    this.readFrom = settings.readFrom;
    this.baseContext = { server: options.server, ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}) };
    if (topology.kind === 'redis' && settings.topologyRefreshInterval > 0) {
      this.refreshTimer = setInterval(() => void this.refresh().catch(() => undefined), settings.topologyRefreshInterval).unref();
    }
  }

  static async connect(input: ClusterOptions): Promise<ClusterImpl> {
    if (typeof input !== 'object' || input === null) throw new GoCacheArgumentError('GoCacheCluster.connect needs options: { nodes } (Redis) or { shards } (GoCache)');
    const { nodes, shards, readFrom = 'leader', maxRedirections = 5, topologyRefreshInterval = 30_000, ...rest } = input;
    const options = resolveOptions({ ...rest, ...(shards !== undefined && rest.server === undefined ? { server: 'gocache' } : {}) } as ClientOptions);
    if (!['leader', 'follower', 'any'].includes(readFrom)) throw new GoCacheArgumentError(`readFrom must be 'leader', 'follower' or 'any', got ${String(readFrom)}`);
    if (!(Number.isSafeInteger(maxRedirections) && maxRedirections >= 0)) throw new GoCacheArgumentError(`maxRedirections must be a non-negative integer, got ${String(maxRedirections)}`);
    const settings = { maxRedirections, readFrom, topologyRefreshInterval };
    if (options.server === 'gocache') {
      if (!Array.isArray(shards) || shards.length === 0) {
        throw new GoCacheArgumentError('A GoCache cluster needs its shards: [{ id, leader, followers? }] (no command reveals shard ids; they are in each node\'s config)');
      }
      const topology = new GoCacheTopology(shards);
      return new ClusterImpl(options, topology, topology.shards().map((s) => s.leader), settings);
    }
    if (!Array.isArray(nodes) || nodes.length === 0) throw new GoCacheArgumentError('A Redis cluster needs seed nodes: { nodes: ["host:port", ...] }');
    const seeds = nodes.map((node) => {
      const { host, port } = splitAddress(String(node));
      return nodeAddress(host, port);
    });
    const cluster = new ClusterImpl(options, new RedisTopology([]), seeds, settings);
    try {
      await cluster.refresh();
    } catch (error) {
      cluster.disconnect();
      throw error;
    }
    return cluster;
  }

  get server(): ServerKind {
    return this.options.server;
  }

  /** The node links (for tests and diagnostics): addresses with an open or opening connection. */
  get connectedNodes(): NodeAddress[] {
    return [...this.links.values()].filter((l) => l.ready !== undefined).map((l) => l.address);
  }

  // -------------------------------------------------------------------------------------------------
  // Topology

  /** Asks a known node for the slot map (Redis). One refresh at a time; MOVED and lost nodes trigger it. */
  refresh(): Promise<void> {
    if (this.options.server === 'gocache') return Promise.resolve();
    this.refreshing ??= (async () => {
      const candidates = [...new Set([...this.topology.shards().flatMap((s) => [s.leader, ...s.followers]), ...this.seeds])];
      let lastError: unknown;
      for (const address of candidates) {
        try {
          const link = await this.link(address).open();
          const shards = await link.send<RespValue>('CLUSTER', ['CLUSTER', 'SHARDS'], rawReply).catch(async (error: unknown) => {
            if (error instanceof GoCacheCommandError) return { slots: await link.send<RespValue>('CLUSTER', ['CLUSTER', 'SLOTS'], rawReply) };
            throw error;
          });
          const host = splitAddress(address).host;
          const topology = shards !== null && typeof shards === 'object' && 'slots' in shards ? redisTopologyFromSlots((shards as { slots: RespValue }).slots, host) : redisTopologyFromShards(shards as RespValue, host);
          if (topology.shards().length === 0) throw new GoCacheProtocolError(`${address} knows no slot owner: is it in a cluster?`);
          this.topology = topology;
          return;
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError instanceof GoCacheError ? lastError : new GoCacheConnectionError(`No cluster node answered (${candidates.join(', ')})`, { cause: lastError });
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private link(address: NodeAddress): NodeLink {
    // Consecutive commands often go to the node of the one before (one node, a hot shard): no Map lookup
    // then. Links are never removed, so the one kept here is never stale.
    if (this.lastLink?.address === address) return this.lastLink;
    let link = this.links.get(address);
    if (link === undefined) {
      const { host, port } = splitAddress(address);
      const readonlyReplica = this.options.server === 'redis' && this.readFrom !== 'leader' && this.topology.shards().some((s) => s.followers.includes(address));
      link = new NodeLink(address, deriveOptions(this.options, { host, port, offlineQueue: false }), readonlyReplica, () => void this.refresh().catch(() => undefined));
      this.links.set(address, link);
    }
    this.lastLink = link;
    return link;
  }

  /** The node for a shard: its leader, or (reads, with readFrom) a follower. */
  private nodeFor(shard: Shard, info: CommandInfo): NodeAddress {
    if (this.readFrom !== 'leader' && shard.followers.length > 0 && info.flags.includes('readonly')) {
      const pool = this.readFrom === 'follower' ? shard.followers : [shard.leader, ...shard.followers];
      return pool[Math.floor(Math.random() * pool.length)]!;
    }
    return shard.leader;
  }

  private anyLeader(): NodeAddress {
    const shards = this.topology.shards();
    if (shards.length === 0) return this.seeds[0]!;
    return shards[Math.floor(Math.random() * shards.length)]!.leader;
  }

  // -------------------------------------------------------------------------------------------------
  // Dispatch

  protected override dispatch(info: CommandInfo, build: ArgsBuilder, decode: Decoder): never {
    return this.dispatchAs(info, build, decode, false) as never;
  }

  /** @internal Builds, checks and routes one command; bulk strings as Buffers when `buffers`. */
  dispatchAs(info: CommandInfo, build: ArgsBuilder, decode: Decoder, buffers: boolean): Promise<unknown> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    const routed = info as RoutedInfo;
    const context: KeyedContext = { server: this.baseContext.server, keyPrefix: this.baseContext.keyPrefix, keyIndexes: [] };
    let wire: CommandArg[];
    try {
      wire = build(context);
      if (routed.cluster?.refuse !== undefined) throw new GoCacheArgumentError(`${info.name} is not sent through a cluster client: ${routed.cluster.refuse}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.route(routed, wire, context.keyIndexes!, unprefixedDecoder(info, decode, context), buffers || info.replyBytes === true);
  }

  /** The same commands, with bulk-string replies as Buffers (binary-safe). */
  get buffers(): ClusterBuffers {
    return (this.buffersView ??= new ClusterBuffers(this));
  }

  private buffersView: ClusterBuffers | undefined;

  /** Routes one built command: to the node of its keys, split across nodes, or to any or every node. */
  route(info: RoutedInfo, wire: CommandArg[], keyIndexes: readonly number[], decode: Decoder, buffers: boolean): Promise<unknown> {
    const keys = info.cluster?.channel ? [commandWords(info)] : keyIndexes;
    // The common case first: one key, one node.
    if (keys.length === 1) {
      const key = wire[keys[0]!]!;
      const shard = this.topology.shardOf(key);
      return this.sendRouted(info, wire, key, shard === undefined ? this.anyLeader() : this.nodeFor(shard, info), decode, buffers);
    }
    if (keys.length === 0) {
      const every = info.cluster?.everyNode;
      if (every !== undefined) return this.everyNode(info, wire, decode, buffers, every);
      return this.sendRouted(info, wire, undefined, this.anyLeader(), decode, buffers);
    }
    // GoCache takes some commands one key at a time (its DEL): one routed command per key, summed.
    if (this.options.server === 'gocache' && info.split !== undefined && keys.length > 1) {
      const words = commandWords(info);
      return Promise.all(keys.map((at) => this.route(info, [...wire.slice(0, words), wire[at]!], [words], decode, buffers))).then((replies) => (replies as number[]).reduce((a, b) => a + b, 0));
    }
    const placements = keys.map((at) => this.place(wire[at]!));
    const first = placements[0]!;
    const same = placements.every((p) => (this.topology.kind === 'redis' ? p?.slot === first?.slot : p?.shard === first?.shard));
    if (same) {
      const target = first === undefined ? this.anyLeader() : this.nodeFor(first.shard, info);
      return this.sendRouted(info, wire, wire[keys[0]!], target, decode, buffers);
    }
    const split = info.cluster?.split;
    if (split === undefined) return Promise.reject(this.crossNodeError(info, keys.map((at) => wire[at]!), placements));
    return this.splitAcross(info, wire, keys, placements, decode, buffers, split);
  }

  private place(key: CommandArg): Placement | undefined {
    return this.topology.place(key);
  }

  private crossNodeError(info: CommandInfo, keys: CommandArg[], placements: Array<Placement | undefined>): GoCacheArgumentError {
    const where = keys.map((key, i) => `${String(key)} (${placements[i]?.label ?? 'unknown'}, ${placements[i]?.shard.leader ?? '?'})`);
    const rule = this.topology.kind === 'redis' ? 'in one slot (use a {hash tag})' : 'on one shard';
    return new GoCacheArgumentError(`${info.name}: its keys must live ${rule} in a cluster, and this command cannot be split honestly: ${where.join(', ')}`);
  }

  /** Sub-commands per slot (Redis) or shard (GoCache), one write per node, merged as the spec says. */
  private async splitAcross(info: RoutedInfo, wire: CommandArg[], keys: readonly number[], placements: Array<Placement | undefined>, decode: Decoder, buffers: boolean, merge: 'sum' | 'ordered' | 'ok'): Promise<unknown> {
    const head = wire.slice(0, keys[0]!);
    const groups = new Map<string, { positions: number[]; wire: CommandArg[]; key: CommandArg; placement: Placement | undefined }>();
    keys.forEach((at, position) => {
      const placement = placements[position];
      const id = placement === undefined ? '?' : this.topology.kind === 'redis' ? `slot:${placement.slot}` : `shard:${placement.shard.id}`;
      let group = groups.get(id);
      if (group === undefined) groups.set(id, (group = { positions: [], wire: [...head], key: wire[at]!, placement }));
      group.positions.push(position);
      // A key and what follows it up to the next key (MSET's value).
      group.wire.push(...wire.slice(at, keys[position + 1] ?? wire.length));
    });
    const parts = [...groups.values()];
    const replies = await Promise.all(parts.map((g) => this.sendRouted(info, g.wire, g.key, g.placement === undefined ? this.anyLeader() : this.nodeFor(g.placement.shard, info), decode, buffers)));
    if (merge === 'sum') return (replies as number[]).reduce((a, b) => a + b, 0);
    if (merge === 'ok') return 'OK';
    const out = new Array<unknown>(keys.length);
    parts.forEach((part, i) => part.positions.forEach((position, j) => (out[position] = (replies[i] as unknown[])[j])));
    return out;
  }

  /** A keyless command whose answer is per node: every leader, merged. */
  private async everyNode(info: CommandInfo, wire: CommandArg[], decode: Decoder, buffers: boolean, merge: 'sum' | 'concat' | 'ok' | 'equal'): Promise<unknown> {
    const replies = await Promise.all(this.topology.shards().map((shard) => this.sendRouted(info, wire, undefined, shard.leader, decode, buffers)));
    switch (merge) {
      case 'sum':
        return (replies as number[]).reduce((a, b) => a + b, 0);
      case 'concat':
        return (replies as unknown[][]).flat();
      case 'ok':
        return replies[0];
      case 'equal': {
        const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString('latin1') : JSON.stringify(value));
        if (replies.some((r) => text(r) !== text(replies[0]))) throw new GoCacheProtocolError(`${info.name}: the nodes answered differently (${replies.map(text).join(', ')})`);
        return replies[0];
      }
    }
  }

  /** Sends to `address`, following MOVED and ASK (bounded), failing fast on an unreachable node. */
  sendRouted(info: CommandInfo, wire: CommandArg[], key: CommandArg | undefined, address: NodeAddress, decode: Decoder, buffers: boolean): Promise<unknown> {
    if (!tracing.commands) return new Promise((resolve, reject) => new Routed(this, info, wire, key, decode, buffers, resolve, reject).send(address, false));
    const send = () => new Promise((resolve, reject) => new Routed(this, info, wire, key, decode, buffers, resolve, reject).send(address, false));
    const { host, port } = splitAddress(address);
    const words = info.name.includes(' ') ? 2 : 1;
    return tracing.command({ server: this.options.server, serverAddress: host, serverPort: port, database: 0 }, info.name, wire.length - words, send);
  }

  /** @internal */
  sendOn(address: NodeAddress, asking: boolean, sink: ReplySink, info: CommandInfo, wire: CommandArg[], decode: Decoder, buffers: boolean): void {
    const link = this.link(address);
    if (info.blocking === true) {
      link.pool.send(info.name, wire, decode, buffers).then(
        (value) => sink.ok(0, value),
        (error: unknown) => sink.fail(0, error instanceof GoCacheError ? error : new GoCacheConnectionError(String(error))),
      );
      return;
    }
    // ASKING holds for the next command only; both go out in the same write.
    if (asking) link.sendTo(ignored, 0, 'ASKING', ['ASKING'], rawReply, false);
    link.sendTo(sink, 0, info.name, wire, decode, buffers);
  }

  /** @internal A redirection (or an unreachable node) seen by a routed command. */
  redirected(error: GoCacheError, key: CommandArg | undefined): { address: NodeAddress; asking: boolean } | undefined {
    if (!(error instanceof GoCacheCommandError)) return undefined;
    const redirect = parseRedirect(error.message);
    if (redirect === undefined) return undefined;
    if (redirect.kind === 'MOVED') {
      if (key !== undefined) this.topology.moved(key, redirect.target, redirect.address);
      if (this.topology.kind === 'redis') void this.refresh().catch(() => undefined);
      return { address: redirect.address, asking: false };
    }
    return { address: redirect.address, asking: true };
  }

  /** @internal A read a follower could not serve (down, or -LOADING) goes to its shard's leader. */
  followerFallback(error: GoCacheError, key: CommandArg | undefined, address: NodeAddress): { address: NodeAddress; asking: boolean } | undefined {
    if (key === undefined) return undefined;
    const unavailable = error instanceof GoCacheConnectionError || (error instanceof GoCacheCommandError && error.message.startsWith('LOADING'));
    if (!unavailable) return undefined;
    const leader = this.place(key)?.shard.leader;
    return leader !== undefined && leader !== address ? { address: leader, asking: false } : undefined;
  }

  /** @internal A node cannot be reached: the message names the shard and the address (GoCache's dead leader). */
  unreachable(error: GoCacheError, key: CommandArg | undefined, address: NodeAddress): GoCacheError {
    if (!(error instanceof GoCacheConnectionError)) return error;
    const placement = key === undefined ? undefined : this.place(key);
    if (this.topology.kind === 'redis') void this.refresh().catch(() => undefined);
    const what = placement === undefined ? `node ${address}` : `${placement.label}'s node ${address}`;
    return new GoCacheConnectionError(`${what} cannot be reached (${error.message}); the other ${this.topology.kind === 'redis' ? 'slots' : 'shards'} are still served`, { cause: error });
  }

  // -------------------------------------------------------------------------------------------------
  // What the core drives

  pipeline(): ClusterPipeline {
    return new ClusterPipeline(this);
  }

  multi(): ClusterMulti {
    return new ClusterMulti(this);
  }

  sendCommand<X = RespValue>(args: readonly CommandArg[]): Promise<X> {
    const raw = rawCommand(args);
    return this.dispatch(raw.info, raw.build, raw.decode);
  }

  /**
   * Subscribes to channels. GoCache's pub/sub is per node, so each channel is placed on the ring like a
   * key and subscribed on that node, where the cluster client also publishes it: a message published
   * through a cluster client reaches every subscriber of a cluster client. (To receive what other
   * clients publish on arbitrary nodes, subscribe on every node with a plain client per node.) Redis
   * Cluster propagates PUBLISH to every node, so one node serves every channel.
   */
  async subscribe(...channels: Array<string | Buffer>): Promise<ClusterSubscription> {
    if (channels.length === 0) throw new GoCacheArgumentError('SUBSCRIBE: at least one channel is needed');
    const byNode = new Map<NodeAddress, Array<string | Buffer>>();
    for (const channel of channels) {
      const address = this.topology.kind === 'gocache' ? this.anyLeaderFor(channel) : this.anyLeader();
      byNode.set(address, [...(byNode.get(address) ?? []), channel]);
    }
    return this.openMerged([...byNode].map(([address, names]) => this.openPart(address, 'channel', names)));
  }

  /**
   * Redis 7 sharded pub/sub: each shard channel is subscribed (SSUBSCRIBE, one per slot) on the primary
   * that owns its slot, where SPUBLISH posts it. When a slot moves, Redis unsubscribes its shard
   * channels itself; the client then learns the new slot map and subscribes them again on the new owner.
   */
  async ssubscribe(...channels: Array<string | Buffer>): Promise<ClusterSubscription> {
    if (channels.length === 0) throw new GoCacheArgumentError('SSUBSCRIBE: at least one shard channel is needed');
    // Built (and checked) before anything is sent: GoCache has no SSUBSCRIBE.
    ssubscribeArgs({ server: this.options.server }, channels);
    const byNode = new Map<NodeAddress, Map<number, Array<string | Buffer>>>();
    for (const channel of channels) {
      const placement = this.place(channel);
      const address = placement?.shard.leader ?? this.anyLeader();
      const slots = byNode.get(address) ?? new Map<number, Array<string | Buffer>>();
      const slot = placement?.slot ?? -1;
      slots.set(slot, [...(slots.get(slot) ?? []), channel]);
      byNode.set(address, slots);
    }
    const merged = await this.openMerged(
      [...byNode].map(async ([address, slots]) => {
        const [first, ...rest] = [...slots.values()];
        const part = await this.openPart(address, 'shard', first!);
        try {
          for (const names of rest) await part.subscribe(...names);
        } catch (error) {
          part.destroy();
          throw error;
        }
        return part;
      }),
    );
    const follow = (part: Subscription<ChannelMessage<string>>) => {
      part.onServerUnsubscribe = (channel) => {
        merged.opening++;
        void (async () => {
          try {
            await this.refresh();
            const address = this.place(channel)?.shard.leader ?? this.anyLeader();
            const moved = await this.openPart(address, 'shard', [channel]);
            follow(moved);
            merged.add(moved);
          } catch {
            // The channel cannot be followed now: the others keep running.
          } finally {
            merged.opening--;
          }
        })();
      };
    };
    merged.forEachPart(follow);
    return merged;
  }

  private openPart(address: NodeAddress, kind: 'channel' | 'shard', names: Array<string | Buffer>): Promise<Subscription<ChannelMessage<string>>> {
    const { host, port } = splitAddress(address);
    return openSubscription(deriveOptions(this.options, { host, port }), kind, names) as Promise<Subscription<ChannelMessage<string>>>;
  }

  /** Opens every part, or none: when one fails, those opened are closed and the failure is thrown. */
  private async openMerged(opening: Array<Promise<Subscription<ChannelMessage<string>>>>): Promise<ClusterSubscription> {
    const settled = await Promise.allSettled(opening);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const parts = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed !== undefined) {
      for (const part of parts) part.destroy();
      throw failed.reason;
    }
    return new ClusterSubscription(parts);
  }

  private anyLeaderFor(channel: CommandArg): NodeAddress {
    const placement = this.place(channel);
    return placement === undefined ? this.anyLeader() : placement.shard.leader;
  }

  /** SCAN's cursor belongs to one node: the cluster iterates every leader in turn. */
  override async *scanIterator(options?: ScanOptions): AsyncGenerator<string, void, undefined> {
    const context = this.baseContext;
    const decode = unprefixedDecoder(SCAN, decodeScan, context);
    for (const shard of this.topology.shards()) {
      let cursor = '0';
      do {
        const [next, items] = (await this.sendRouted(SCAN, scanArgs(context, cursor, options), undefined, shard.leader, decode, false)) as [string, string[]];
        cursor = String(next);
        yield* items;
      } while (cursor !== '0');
    }
  }

  /** @internal A node's core (for transactions and pipelines bound to one node). */
  nodeCore(address: NodeAddress): Promise<ClientCore> {
    return this.link(address).core({ server: this.options.server });
  }

  /** @internal */
  placeKey(key: CommandArg): Placement | undefined {
    return this.place(key);
  }

  /** @internal */
  anyNode(): NodeAddress {
    return this.anyLeader();
  }

  /** The shards as the client sees them now. */
  get shards(): Shard[] {
    return this.topology.shards().map((s) => ({ ...s, followers: [...s.followers] }));
  }

  async close(): Promise<void> {
    if (this.closedReason) return;
    this.closedReason = new GoCacheConnectionError('The cluster client is closed');
    clearInterval(this.refreshTimer);
    await Promise.all([...this.links.values()].map((link) => link.closeGracefully()));
  }

  disconnect(): void {
    const reason = new GoCacheConnectionError('The cluster client was disconnected');
    this.closedReason ??= reason;
    clearInterval(this.refreshTimer);
    for (const link of this.links.values()) link.close(reason);
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** One routed command: a ReplySink that follows MOVED and ASK, and names an unreachable node. */
class Routed implements ReplySink {
  private hops = 0;
  private address: NodeAddress = '';

  constructor(
    private readonly cluster: ClusterImpl,
    private readonly info: CommandInfo,
    private readonly wire: CommandArg[],
    private readonly key: CommandArg | undefined,
    private readonly decode: Decoder,
    private readonly buffers: boolean,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: GoCacheError) => void,
  ) {}

  send(address: NodeAddress, asking: boolean): void {
    this.address = address;
    this.cluster.sendOn(address, asking, this, this.info, this.wire, this.decode, this.buffers);
  }

  ok(_index: number, value: unknown): void {
    this.resolve(value);
  }

  fail(_index: number, error: GoCacheError): void {
    const redirect = this.cluster.redirected(error, this.key) ?? this.cluster.followerFallback(error, this.key, this.address);
    if (redirect !== undefined) {
      if (this.hops++ < this.cluster.maxRedirections) return this.send(redirect.address, redirect.asking);
      return this.reject(new GoCacheCommandError(`${error.message} (gave up after ${this.cluster.maxRedirections} redirections)`, this.info.name));
    }
    this.reject(this.cluster.unreachable(error, this.key, this.address));
  }
}

/** Queued commands with where their keys are; shared by cluster pipelines and transactions. */
interface ClusterQueued {
  info: RoutedInfo;
  wire: CommandArg[];
  keyIndexes: number[];
  decode: Decoder;
}

abstract class ClusterChain extends RedisCommands<string, Kind> {
  protected readonly queued: ClusterQueued[] = [];
  private buildError: unknown;

  constructor(protected readonly cluster: ClusterImpl) {
    super();
  }

  get length(): number {
    return this.queued.length;
  }

  protected override dispatch(info: CommandInfo, build: ArgsBuilder, decode: Decoder): never {
    const context: KeyedContext = { ...this.cluster.baseContext, keyIndexes: [] };
    try {
      const wire = build(context);
      const routed = info as RoutedInfo;
      if (routed.cluster?.refuse !== undefined) throw new GoCacheArgumentError(`${info.name} is not sent through a cluster client: ${routed.cluster.refuse}`);
      this.queued.push({ info: routed, wire, keyIndexes: context.keyIndexes!, decode: unprefixedDecoder(info, decode, context) });
    } catch (error) {
      this.buildError ??= error;
    }
    return this as never;
  }

  sendCommand(args: readonly CommandArg[]): this {
    const raw = rawCommand(args);
    return this.dispatch(raw.info, raw.build, raw.decode);
  }

  protected checkBuilt(): void {
    if (this.buildError !== undefined) throw this.buildError;
  }
}

/**
 * A pipeline across nodes: commands grouped per node, one write per node, replies reassembled in the
 * caller's order; a command that meets MOVED or ASK is re-sent alone, the others are not.
 */
class ClusterPipeline extends ClusterChain {
  readonly kind = 'pipeline';

  /**
   * Routes every command in one synchronous loop: each node's link writes what it got in this tick
   * in one write (automatic pipelining), so a pipeline is one write per node.
   */
  async execSettled(): Promise<Array<Settled<unknown>>> {
    this.checkBuilt();
    const outcomes = await Promise.allSettled(this.queued.map((command) => this.cluster.route(command.info, command.wire, command.keyIndexes, command.decode, false)));
    return outcomes.map((outcome) => (outcome.status === 'fulfilled' ? { ok: true as const, value: outcome.value } : { ok: false as const, error: outcome.reason as GoCacheError }));
  }

  async exec(): Promise<unknown[]> {
    const settled = await this.execSettled();
    const errors = settled.flatMap((result, index) => (result.ok ? [] : [{ index, error: result.error }]));
    if (errors.length > 0) throw new GoCachePipelineError(settled, errors);
    return settled.map((result) => (result as { value: unknown }).value);
  }
}

/**
 * A transaction goes to the node that holds all its keys (Redis: one slot; GoCache: one shard's
 * leader, never a follower, which would run queued writes locally); keys elsewhere are refused before
 * anything is sent (GoCache would silently strand the data on the wrong node).
 */
class ClusterMulti extends ClusterChain {
  readonly kind = 'multi';
  watched = false;

  private async target(): Promise<MultiImpl<string>> {
    this.checkBuilt();
    const keys = this.queued.flatMap((command) => command.keyIndexes.map((at) => command.wire[at]!));
    const placements = keys.map((key) => this.cluster.placeKey(key));
    const first = placements[0];
    const sameSlot = placements.every((p) => (p?.slot === first?.slot && p?.shard === first?.shard));
    if (!sameSlot) {
      const where = keys.map((key, i) => `${String(key)} (${placements[i]?.label ?? 'unknown'})`).join(', ');
      throw new GoCacheArgumentError(`A transaction's keys must live ${this.cluster.server === 'redis' ? 'in one slot (use a {hash tag})' : 'on one shard'}: ${where}`);
    }
    const address = first === undefined ? this.cluster.anyNode() : first.shard.leader;
    const core = await this.cluster.nodeCore(address);
    const multi = new MultiImpl<string>(core, false);
    multi.enqueue(this.queued.map((q) => ({ info: q.info, wires: [q.wire], decode: q.decode })));
    return multi;
  }

  async execSettled(): Promise<Array<Settled<unknown>>> {
    return (await this.target()).execSettled();
  }

  async exec(): Promise<unknown[]> {
    return (await this.target()).exec();
  }
}

/** A cluster's commands with bulk-string replies as Buffers: each routed like the cluster's own. */
class ClusterBuffers extends RedisClientCommands<Buffer> {
  constructor(private readonly cluster: ClusterImpl) {
    super();
  }

  protected override dispatch(info: CommandInfo, build: ArgsBuilder, decode: Decoder): never {
    return this.cluster.dispatchAs(info, build, decode, true) as never;
  }
}

/** What a cluster client has besides the commands. */
export interface ClusterApi<T extends ServerKind> {
  readonly options: Readonly<ResolvedOptions>;
  readonly server: T;
  /** The shards as the client sees them now (leaders, followers). */
  readonly shards: Shard[];
  readonly isOpen: boolean;
  /** The same commands, with bulk-string replies as Buffers (binary-safe), routed the same way. */
  readonly buffers: T extends 'redis' ? RedisClientCommands<Buffer> : GoCacheCommands<Buffer, PromiseKind>;
  /** Commands grouped per node, one write per node, replies in the caller's order. */
  pipeline<R extends unknown[] = []>(): Pipeline<T, string, R>;
  /** A transaction on the node that holds all its keys (refused before sending otherwise). */
  multi<R extends unknown[] = []>(): Multi<T, string, R>;
  sendCommand<X = RespValue>(args: readonly CommandArg[]): Promise<X>;
  /** Subscribes through the cluster (GoCache: each channel on the node the ring gives it). */
  subscribe(...channels: [string | Buffer, ...Array<string | Buffer>]): Promise<ClusterSubscription>;
  /** Redis 7 shard channels (SSUBSCRIBE), each on the primary that owns its slot, followed when the slot moves. */
  ssubscribe(...channels: [string | Buffer, ...Array<string | Buffer>]): Promise<ClusterSubscription>;
  /** Asks a node for the slot map again (Redis; GoCache learns from MOVED). */
  refresh(): Promise<void>;
  close(): Promise<void>;
  disconnect(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A cluster client: the commands of the server it targets, routed to the nodes that hold their keys. */
export type GoCacheCluster<T extends ServerKind = 'gocache'> = T extends 'redis'
  ? ClusterApi<T> & RedisClientCommands<string>
  : ClusterApi<T> & GoCacheCommands<string, PromiseKind>;

/**
 * What `GoCacheCluster` is as a value: `connect`, typed per server.
 * @inline
 */
export interface GoCacheClusterFactory {
  connect(options: ClusterOptions & { server: 'redis' }): Promise<GoCacheCluster<'redis'>>;
  connect(options: ClusterOptions & { shards: readonly GoCacheShardOptions[]; server?: 'gocache' }): Promise<GoCacheCluster<'gocache'>>;
}

/**
 * Connects to a cluster: `GoCacheCluster.connect({ server: 'redis', nodes: ['127.0.0.1:7000'] })` or
 * `GoCacheCluster.connect({ shards: [{ id: 'shard1', leader: '127.0.0.1:7001' }, ...] })` for GoCache.
 */
export const GoCacheCluster: GoCacheClusterFactory = ClusterImpl as unknown as GoCacheClusterFactory;
