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
  since?: string;
  gocache?: false;
  doc?: string;
}

export interface RawChoice {
  oneOf: { name: string; since?: string; doc?: string; of: RawArg[] };
}

export type RawReply =
  | string
  | { type: string; doc?: string }
  | { when: string; then: string; else: string; doc?: string }
  | { parse: string; type: string; from?: 'string'; doc?: string };

export interface RawStep {
  call: [string, ...unknown[]];
  reply?: unknown;
  check?: 'nonEmpty' | 'any';
  error?: string;
}

export type RawExample = RawStep[] | { server?: 'cluster'; calls: RawStep[] };

export interface RawSpec {
  command: string;
  method?: string;
  core?: true;
  aliases?: string[];
  summary: string;
  redis: string | false;
  gocache: boolean | { note?: string; split?: 'sum'; multi?: false | string };
  flags?: string[];
  args: Array<RawArg | RawChoice>;
  reply: RawReply;
  examples: RawExample[];
  iterator?: { name: string };
  drift?: Record<string, string>;
}
