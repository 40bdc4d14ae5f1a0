/** The public API of the `gocache` package. */
export { GoCacheClient, type GoCacheBuffers, type ClientView, type RedisClient, type ClientApi, type ClientCommands, type ClientLifecycle, type RedisApi, type RedisClientApi, type GoCacheClientFactory } from './client/client.js';
export { DEFAULT_PORT, DEFAULT_REDIS_PORT, defaultRetryStrategy, type RetryStrategy, type OfflineQueueOptions, type ReplyLimits, type ClientOptions, type GoCacheClientOptions, type RedisClientOptions, type RedisServerOptions, type RedisUrlOptions, type Resp3Options, type RedisUrl, type ResolvedOptions } from './client/options.js';
export { GoCachePipelineError, GoCacheWatchError, type Pipeline, type Multi, type PipelineKind, type MultiKind, type RedisPipelineKind, type GoCachePipelineKind, type RedisMultiKind, type GoCacheMultiKind, type RedisPipeline, type GoCachePipeline, type RedisMulti, type GoCacheMulti, type ChainApi, type Settled, type SettledTuple } from './client/pipeline.js';
export { Subscription, type ChannelMessage, type PatternMessage, type PubSubMessage, type SubscriptionConfig, type SubscriptionKind } from './client/pubsub.js';
export { GoCacheError, GoCacheConnectionError, GoCacheCommandError, GoCacheProtocolError, GoCacheArgumentError, GoCacheTimeoutError, GoCacheAbortError } from './runtime/errors.js';
export type { Kind, Apply, PromiseKind } from './runtime/kind.js';
export type { RedisKey, RedisString, RedisValue, PairsInput, ServerKind, CommandArg, RespValue, CommandInfo } from './runtime/types.js';
export type { ClusterNode, ClientInfo, InfoSections, InfoValue } from './runtime/reply-parsers.js';
export type { StreamEntry, GroupEntry, StreamIteratorOptions, GroupIteratorOptions } from './client/streams.js';
export { Monitor, parseMonitorLine, type MonitorEvent, type MonitorConfig } from './client/monitor.js';
export { TRACING_CHANNELS, type CommandTraceContext, type BatchTraceContext, type ConnectTraceContext, type TraceTarget } from './client/tracing.js';
export { GoCacheCluster, type ClusterOptions, type ClusterApi, type ReadFrom } from './cluster/cluster.js';
export type { GoCacheShardOptions, Shard, NodeAddress } from './cluster/topology.js';
export type { ClusterSubscription } from './cluster/subscriptions.js';
export * from '../generated/index.js';
