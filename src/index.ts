/** The public API of the `gocache` package. */
export { GoCacheClient, GoCacheBuffers, DEFAULT_PORT, type ClientOptions } from './client.js';
export { GoCacheTimeoutError } from './connection.js';
export { GoCacheError, GoCacheConnectionError, GoCacheCommandError, GoCacheProtocolError, GoCacheArgumentError } from './errors.js';
export type { RedisKey, RedisString, RedisValue, PairsInput, ServerKind, CommandArg, RespValue, CommandInfo } from './types.js';
export type { ClusterNode, ClientInfo, InfoSections, InfoValue } from './reply-parsers.js';
export * from '../generated/index.js';
export { Pipeline, Multi, GoCachePipelineError, GoCacheWatchError, type Settled, type SettledTuple, type ChainKinds } from './pipeline.js';
export { Subscription, type ChannelMessage, type PatternMessage, type PubSubMessage, type SubscriptionConfig } from './pubsub.js';
