/** The shape of a spec file as spec/schema.json admits it (what validate() hands to the model). */
export type ArgType = 'key' | 'value' | 'string' | 'integer' | 'double' | 'unix-time' | 'unix-time-ms' | 'enum' | 'pairs' | 'block' | 'count';

export interface RawArg {
  name: string;
  type?: ArgType;
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  min?: number;
  max?: number;
  values?: string[];
  of?: RawArg[];
  countOf?: string;
  /** A token argument the command always needs: a positional parameter, sent after its token (XREAD's STREAMS). */
  required?: boolean;
  /** For pairs: every first part, then every second part (XREAD's `STREAMS key key id id`). */
  columns?: boolean;
  /** A string that is a glob pattern over key names (KEYS, SCAN's MATCH): the client's keyPrefix applies. */
  keyPattern?: true;
  /** A key-typed argument that is not a key's name (a shard channel, placed like a key): no keyPrefix. */
  prefixed?: false;
  since?: string;
  gocache?: false;
  doc?: string;
}

export interface RawChoice {
  oneOf: { name: string; since?: string; doc?: string; required?: boolean; of: RawArg[] };
}

export interface RawReply {
  type: string;
  cases?: Array<{ when: string[]; type: string }>;
  parse?: string;
  as?: string;
  /** Where the reply holds key names, which lose the client's keyPrefix: 'each' string, the 'one' string, the 'first' element, or SCAN's page ('scan'). */
  keys?: 'each' | 'one' | 'first' | 'scan';
  doc?: string;
}

export interface RawStep {
  call: [string, ...unknown[]];
  reply?: unknown;
  check?: 'nonEmpty' | 'any';
  error?: string;
}

export interface RawExample {
  server?: 'cluster';
  calls: RawStep[];
}

export interface RawGoCache {
  supported: boolean;
  note?: string;
  split?: 'sum';
  multi?: false | string;
  reply?: string;
}

export interface RawSpec {
  command: string;
  method?: string;
  core?: { api: string };
  aliases?: string[];
  summary: string;
  redis: string | false;
  gocache: RawGoCache;
  deprecated?: { since: string; replacement: string };
  flags?: string[];
  args: Array<RawArg | RawChoice>;
  reply: RawReply;
  examples: RawExample[];
  iterator?: { name: string };
  /** The option that makes a call block, for a command with the `blocking` flag that blocks only with it. */
  blockingWhen?: string;
  cluster?: { split?: 'sum' | 'ordered' | 'ok'; everyNode?: 'sum' | 'concat' | 'ok' | 'equal'; refuse?: string; channel?: true };
  drift?: Record<string, string>;
}
