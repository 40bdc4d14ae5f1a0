/** The public API of the `gocache` package. */
export { GoCacheClient, GoCacheBuffers, DEFAULT_PORT, type ClientOptions } from './client/client.js';
export { GoCacheError, GoCacheConnectionError, GoCacheCommandError, GoCacheProtocolError, GoCacheArgumentError, GoCacheTimeoutError } from './runtime/errors.js';
export type { RedisKey, RedisString, RedisValue, PairsInput, ServerKind, CommandArg, RespValue, CommandInfo } from './runtime/types.js';
export type { ClusterNode, ClientInfo, InfoSections, InfoValue } from './runtime/reply-parsers.js';
export * from '../generated/index.js';
export { Pipeline, Multi, GoCachePipelineError, GoCacheWatchError, type Settled, type SettledTuple, type ChainKinds } from './client/pipeline.js';
export { Subscription, type ChannelMessage, type PatternMessage, type PubSubMessage, type SubscriptionConfig } from './client/pubsub.js';
