/**
 * Stage 3: the intermediate model. Everything the emitters need is decided here (names, TypeScript
 * types, wire order, server support), so the emitters only print. Plain data, no ts-morph.
 */
import { SpecError, type LoadedSpec } from './load.js';
import type { ArgType, RawArg, RawChoice, RawExample, RawSpec, RawStep } from './raw-spec.js';
import { parseReplyType, type ReplyType } from './reply-type.js';

/** Every type a reply type contains, itself included. */
function replyTypes(type: ReplyType): ReplyType[] {
  switch (type.kind) {
    case 'array':
    case 'set':
      return [type, ...replyTypes(type.of)];
    case 'map':
      return [type, ...replyTypes(type.value)];
    case 'pairs':
      return [type, ...replyTypes(type.first), ...replyTypes(type.second)];
    case 'tuple':
      return [type, ...type.items.flatMap(replyTypes)];
    case 'namedTuple':
    case 'record':
      return [type, ...type.fields.flatMap((f) => replyTypes(f.type))];
    case 'union':
      return [type, ...type.of.flatMap(replyTypes)];
    default:
      return [type];
  }
}

/**
 * `bytes` is read by reading the whole reply as bytes, so it must be the whole reply (or with null):
 * inside an array, its neighbours would arrive as Buffers in the string view too.
 */
function bytesReply(type: ReplyType, file: string, field: string): boolean {
  const top = type.kind === 'union' ? type.of : [type];
  const atTop = top.some((t) => t.kind === 'bytes');
  if (atTop && !top.every((t) => t.kind === 'bytes' || t.kind === 'null')) throw new SpecError(file, field, 'bytes is a whole reply, alone or with null (the client reads the whole reply as bytes)');
  const nested = replyTypes(type).filter((t) => t.kind === 'bytes').length > top.filter((t) => t.kind === 'bytes').length;
  if (nested) throw new SpecError(file, field, 'bytes is a whole reply, alone or with null (the client reads the whole reply as bytes)');
  return atTop;
}

export interface ArgModel {
  name: string;
  /** `flag` is a pure token such as KEEPTTL. */
  type: ArgType | 'flag';
  token?: string;
  optional: boolean;
  multiple: boolean;
  min?: number;
  max?: number;
  values?: string[];
  of?: ArgModel[];
  /** For a `count` argument: the variadic argument whose length it sends. */
  countOf?: string;
  /** For `pairs`: every first part, then every second part (`STREAMS k1 k2 id1 id2`). */
  columns?: boolean;
  /** A glob pattern over key names: keyPrefix applies. */
  keyPattern?: true;
  /** A key-typed argument keyPrefix does not apply to (a shard channel). */
  unprefixed?: true;
  since?: string;
  gocache: boolean;
  doc?: string;
}

export interface ChoiceModel {
  name: string;
  typeName: string;
  /** One of the options must be given. */
  required: boolean;
  since?: string;
  doc?: string;
  options: ArgModel[];
}

export type WireItem = { kind: 'positional'; arg: ArgModel } | { kind: 'option'; arg: ArgModel } | { kind: 'choice'; choice: ChoiceModel };

/** An argument a reply case depends on: a pure-token option given as true, another option or an optional positional given. */
export interface WhenArg {
  name: string;
  kind: 'flag' | 'option' | 'positional';
}

export interface ReplyCase {
  /** Every one of these arguments is given. */
  when: WhenArg[];
  type: ReplyType;
}

export interface ReplyModel {
  /** The reply when no case applies (or the raw reply a parser reads). */
  type: ReplyType;
  /** Replies that depend on arguments: the first case whose arguments are all given applies. */
  cases: ReplyCase[];
  /** A hand-written parser of src/runtime/reply-parsers.ts, and the TypeScript type it returns. */
  parse?: { name: string; as: string };
  /** Where the reply holds key names (keyPrefix is removed from them): CommandInfo.replyKeys. */
  keys?: 'each' | 'one' | 'first' | 'scan';
  doc?: string;
}

export interface StepModel {
  method: string;
  args: unknown[];
  reply?: unknown;
  check?: 'nonEmpty' | 'any';
  /** The call must reject with a server error whose message starts with this. */
  error?: string;
}

export interface ExampleModel {
  server: 'redis' | 'cluster';
  steps: StepModel[];
}

export interface CommandModel {
  file: string;
  group: string;
  command: string;
  words: string[];
  method: string;
  /** Driven by the hand-written core (MULTI, SUBSCRIBE, ...): no generated method; what to call instead. */
  core?: { api: string };
  aliases: string[];
  summary: string;
  redis: string | false;
  gocache: { supported: boolean; note?: string; split?: 'sum'; multi?: false | string; reply?: ReplyType };
  deprecated?: { since: string; replacement: string };
  flags: string[];
  positionals: ArgModel[];
  /** Every option (token argument), standalone or inside a choice, in wire order. */
  options: ArgModel[];
  choices: ChoiceModel[];
  wire: WireItem[];
  /** `SetOptions`, when the command has options. */
  optionsTypeName?: string;
  /** A required choice makes the options parameter required. */
  optionsRequired: boolean;
  /** The positional that is a rest parameter (`...keys`): a variadic one that is last, with no options after it. */
  restParameter?: string;
  /** The async iterator method following this cursor command, if any. */
  iterator?: string;
  /**
   * Whether a call blocks its connection (CommandInfo.blocking): `always` for a command with the
   * `blocking` flag, the option that makes a call block (XREAD's `block`), or never.
   */
  blocking: { when: 'always' } | { when: 'option'; option: WhenArg } | { when: 'never' };
  /** The reply is raw bytes (`bytes`): the client reads it as bytes whatever the view (CommandInfo.replyBytes). */
  replyBytes: boolean;
  /** How a cluster client routes it when not simply by its keys (CommandInfo.cluster). */
  cluster?: NonNullable<RawSpec['cluster']>;
  reply: ReplyModel;
  examples: ExampleModel[];
  /** Names of the arguments that hold keys (routing, cluster). */
  keyArgs: string[];
  /** Known differences from the server's COMMAND DOCS, with the reason (make spec-drift). */
  drift: Record<string, string>;
}

/** Names the generated builders and methods use for their own variables. */
const RESERVED = new Set(['target', 'options', 'wire', 'item', 'error', 'next', 'items']);

export const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');

const camelFromCommand = (command: string) => {
  const words = command.toLowerCase().split(' ');
  return words[0]! + words.slice(1).map(pascal).join('');
};

function argModel(raw: RawArg, file: string, where: string): ArgModel {
  const type = raw.type ?? 'flag';
  const model: ArgModel = {
    name: raw.name,
    type,
    optional: raw.optional ?? false,
    multiple: raw.multiple ?? false,
    gocache: raw.gocache !== false,
  };
  if (raw.token !== undefined) model.token = raw.token;
  if (raw.min !== undefined) model.min = raw.min;
  if (raw.max !== undefined) model.max = raw.max;
  if (raw.values !== undefined) model.values = raw.values;
  if (raw.since !== undefined) model.since = raw.since;
  if (raw.doc !== undefined) model.doc = raw.doc;
  if (raw.countOf !== undefined) model.countOf = raw.countOf;
  if (raw.columns !== undefined) {
    if (type !== 'pairs') throw new SpecError(file, `${where}.columns`, 'columns applies to pairs arguments only');
    model.columns = raw.columns;
  }
  if (raw.keyPattern !== undefined) {
    if (type !== 'string') throw new SpecError(file, `${where}.keyPattern`, 'keyPattern applies to string arguments only');
    model.keyPattern = true;
  }
  if (raw.prefixed !== undefined) {
    if (type !== 'key') throw new SpecError(file, `${where}.prefixed`, 'prefixed applies to key arguments only');
    model.unprefixed = true;
  }
  if (raw.required !== undefined) {
    if (raw.token === undefined) throw new SpecError(file, `${where}.required`, 'required is for an argument with a token (one without a token is a positional parameter already)');
    if (type === 'flag') throw new SpecError(file, `${where}.required`, 'a pure token that is always sent is part of the command, not an argument');
    if (raw.optional) throw new SpecError(file, `${where}.required`, 'an argument cannot be both required and optional');
  }
  if (raw.of !== undefined) model.of = raw.of.map((sub, i) => argModel(sub, file, `${where}.of[${i}]`));
  if (type === 'pairs' && model.of?.length !== 2) throw new SpecError(file, `${where}.of`, 'a pairs argument has exactly two parts');
  if ((raw.min !== undefined || raw.max !== undefined) && !['integer', 'double'].includes(type)) {
    throw new SpecError(file, `${where}.min`, 'min and max apply to integer and double arguments only');
  }
  if (type === 'flag' && raw.multiple) throw new SpecError(file, `${where}.multiple`, 'a pure token cannot repeat');
  if (type === 'count' && (raw.token !== undefined || raw.optional || raw.multiple)) throw new SpecError(file, where, 'a count argument is a plain positional one');
  return model;
}

function replyModel(raw: RawSpec['reply'], file: string, field = 'reply'): ReplyModel {
  const parse = (text: string, field: string) => {
    try {
      return parseReplyType(text);
    } catch (error) {
      throw new SpecError(file, field, (error as Error).message);
    }
  };
  const model: ReplyModel = {
    type: parse(raw.type, `${field}.type`),
    // The kinds of the `when` arguments are resolved once the arguments are known.
    cases: (raw.cases ?? []).map((c, i) => ({ when: c.when.map((name) => ({ name, kind: 'flag' as const })), type: parse(c.type, `${field}.cases[${i}].type`) })),
  };
  if (raw.parse !== undefined) {
    if (model.cases.length > 0) throw new SpecError(file, 'reply.parse', 'a parsed reply has no cases');
    model.parse = { name: raw.parse, as: raw.as! };
  }
  if (raw.keys !== undefined) model.keys = raw.keys;
  if (raw.doc !== undefined) model.doc = raw.doc;
  return model;
}

function stepModel(raw: RawStep): StepModel {
  const [method, ...args] = raw.call;
  const step: StepModel = { method, args };
  if ('reply' in raw) step.reply = raw.reply;
  if (raw.check !== undefined) step.check = raw.check;
  if (raw.error !== undefined) step.error = raw.error;
  return step;
}

function exampleModel(raw: RawExample): ExampleModel {
  return { server: raw.server ?? 'redis', steps: raw.calls.map(stepModel) };
}

export function buildCommandModel(spec: RawSpec, loaded: LoadedSpec): CommandModel {
  const file = loaded.file;
  const method = spec.method ?? camelFromCommand(spec.command);
  const wire: WireItem[] = [];
  const positionals: ArgModel[] = [];
  const options: ArgModel[] = [];
  const choices: ChoiceModel[] = [];
  const names = new Set<string>();
  const claim = (name: string, where: string) => {
    if (RESERVED.has(name)) throw new SpecError(file, where, `"${name}" is reserved by the generated code; choose another name`);
    if (names.has(name)) throw new SpecError(file, where, `the name "${name}" is used twice`);
    names.add(name);
  };

  spec.args.forEach((raw, index) => {
    const where = `args[${index}]`;
    if ('oneOf' in raw) {
      const choice = (raw as RawChoice).oneOf;
      claim(choice.name, `${where}.oneOf.name`);
      const model: ChoiceModel = {
        name: choice.name,
        typeName: `${pascal(method)}${pascal(choice.name)}`,
        required: choice.required === true,
        options: choice.of.map((option, i) => {
          const arg = argModel(option, file, `${where}.oneOf.of[${i}]`);
          claim(arg.name, `${where}.oneOf.of[${i}].name`);
          if (choice.since !== undefined && arg.since === undefined) arg.since = choice.since;
          arg.optional = true;
          return arg;
        }),
      };
      if (choice.since !== undefined) model.since = choice.since;
      if (choice.doc !== undefined) model.doc = choice.doc;
      choices.push(model);
      options.push(...model.options);
      wire.push({ kind: 'choice', choice: model });
      return;
    }
    const arg = argModel(raw as RawArg, file, where);
    claim(arg.name, `${where}.name`);
    // A required token argument (XREAD's STREAMS ...) is a positional parameter that carries its token.
    if (arg.token !== undefined && (raw as RawArg).required !== true) {
      arg.optional = true;
      options.push(arg);
      wire.push({ kind: 'option', arg });
    } else {
      if (arg.type === 'flag') throw new SpecError(file, `${where}.type`, 'an argument without a token needs a type');
      const previous = positionals.filter((p) => p.type !== 'count').at(-1);
      if (previous?.optional && !arg.optional && arg.type !== 'count') throw new SpecError(file, where, 'a required argument cannot follow an optional one');
      positionals.push(arg);
      wire.push({ kind: 'positional', arg });
    }
  });

  for (const [i, arg] of positionals.entries()) {
    if (arg.type !== 'count') continue;
    const counted = positionals.find((p) => p.name === arg.countOf);
    if (!counted?.multiple) throw new SpecError(file, `args[${spec.args.indexOf(spec.args.find((a) => 'name' in a && a.name === arg.name)!)}].countOf`, `must name a variadic argument of this command (index ${i})`);
  }

  const reply = replyModel(spec.reply, file);
  const lastPositional = positionals.filter((p) => p.type !== 'count').at(-1);
  reply.cases.forEach((replyCase, i) =>
    replyCase.when.forEach((when, j) => {
      const where = `reply.cases[${i}].when[${j}]`;
      const option = options.find((o) => o.name === when.name);
      if (option !== undefined) {
        if (choices.some((c) => c.options.includes(option))) throw new SpecError(file, where, 'an option of a oneOf cannot decide the reply');
        when.kind = option.type === 'flag' ? 'flag' : 'option';
      } else if (lastPositional?.name === when.name && lastPositional.optional && !lastPositional.multiple) {
        when.kind = 'positional';
      } else {
        throw new SpecError(file, where, `must name an option or the last, optional, positional argument (options: ${options.map((o) => o.name).join(', ') || 'none'})`);
      }
    }),
  );
  // The client reads a reply as bytes by its descriptor, before it knows which case applies.
  const bytesInReplies = [reply.type, ...reply.cases.map((c) => c.type)].map((type, i) => bytesReply(type, file, i === 0 ? 'reply.type' : `reply.cases[${i - 1}].type`));
  const replyBytes = bytesInReplies.some(Boolean);
  if (replyBytes && (reply.parse !== undefined || !bytesInReplies.every(Boolean))) throw new SpecError(file, 'reply', 'a reply of raw bytes is bytes in every case, and not parsed');

  const flags = [...(spec.flags ?? [])].sort();
  let blocking: CommandModel['blocking'] = { when: flags.includes('blocking') ? 'always' : 'never' };
  if (spec.blockingWhen !== undefined) {
    if (!flags.includes('blocking')) throw new SpecError(file, 'blockingWhen', 'is for a command with the blocking flag');
    const option = options.find((o) => o.name === spec.blockingWhen);
    if (option === undefined) throw new SpecError(file, 'blockingWhen', `must name an option (options: ${options.map((o) => o.name).join(', ') || 'none'})`);
    blocking = { when: 'option', option: { name: option.name, kind: option.type === 'flag' ? 'flag' : 'option' } };
  }

  const { reply: gocacheReply, ...gocacheRest } = spec.gocache;
  const gocache: CommandModel['gocache'] = { ...gocacheRest };
  if (gocacheReply !== undefined) {
    gocache.reply = replyModel({ type: gocacheReply }, file, 'gocache.reply').type;
    if (bytesReply(gocache.reply, file, 'gocache.reply') !== replyBytes) throw new SpecError(file, 'gocache.reply', 'is raw bytes exactly when the reply is');
  }
  if (gocache.split) {
    // The split sends `<words> <one element>` per element: only a command whose arguments are that variadic can be split.
    if (!(positionals.length === 1 && positionals[0]!.multiple && options.length === 0)) throw new SpecError(file, 'gocache.split', 'needs a command whose only argument is a variadic one');
  }
  if (spec.redis === false && !gocache.supported) throw new SpecError(file, 'gocache', 'a command served by neither Redis nor GoCache');

  const model: CommandModel = {
    file,
    group: loaded.group,
    command: spec.command,
    words: spec.command.split(' '),
    method,
    aliases: spec.aliases ?? [],
    summary: spec.summary,
    redis: spec.redis,
    gocache,
    flags,
    blocking,
    replyBytes,
    ...(spec.cluster !== undefined ? { cluster: clusterRouting(spec, positionals, file) } : {}),
    optionsRequired: choices.some((c) => c.required),
    positionals,
    options,
    choices,
    wire,
    reply,
    examples: spec.examples.map(exampleModel),
    keyArgs: collectKeyArgs(spec.args),
    drift: spec.drift ?? {},
  };
  if (spec.core !== undefined) model.core = spec.core;
  if (spec.deprecated !== undefined) model.deprecated = spec.deprecated;
  if (options.length > 0) model.optionsTypeName = `${pascal(method)}Options`;
  if (model.optionsRequired && positionals.some((p) => p.optional)) throw new SpecError(file, 'args', 'a required oneOf makes options required, so no positional may be optional');
  const params = positionals.filter((p) => p.type !== 'count');
  const last = params.at(-1);
  if (last?.multiple && options.length === 0) model.restParameter = last.name;
  if (spec.iterator) {
    const cursorReply = reply.cases.length === 0 && !reply.parse && reply.type.kind === 'tuple' && reply.type.items.length === 2 && reply.type.items[0]!.kind === 'string';
    if (!cursorReply) throw new SpecError(file, 'iterator', 'needs a reply of tuple<string, array<T>> or tuple<string, pairs<A, B>> (cursor, items)');
    if (!params.some((p) => p.name === 'cursor')) throw new SpecError(file, 'iterator', 'needs a positional argument named cursor');
    model.iterator = spec.iterator.name;
  }
  return model;
}

/** The spec's cluster routing, checked against what the command is (keys to split, none for everyNode). */
function clusterRouting(spec: RawSpec, positionals: ArgModel[], file: string): NonNullable<RawSpec['cluster']> {
  const routing = spec.cluster!;
  const keyed = collectKeyArgs(spec.args).length > 0;
  const given = Object.keys(routing);
  if (given.length !== 1) throw new SpecError(file, 'cluster', 'says one thing: split, everyNode, refuse or channel');
  if (routing.split !== undefined && !keyed) throw new SpecError(file, 'cluster.split', 'is for a command with keys');
  if (routing.everyNode !== undefined && keyed) throw new SpecError(file, 'cluster.everyNode', 'is for a command without keys');
  if (routing.channel !== undefined && (keyed || positionals[0]?.type !== 'string')) throw new SpecError(file, 'cluster.channel', 'is for a keyless command whose first argument is its channel');
  return routing;
}

function collectKeyArgs(args: Array<RawArg | RawChoice>): string[] {
  const keys: string[] = [];
  const visit = (arg: RawArg) => {
    if (arg.type === 'key') keys.push(arg.name);
    arg.of?.forEach((sub) => sub.type === 'key' && keys.push(`${arg.name}.${sub.name}`));
  };
  for (const raw of args) 'oneOf' in raw ? raw.oneOf.of.forEach(visit) : visit(raw);
  return keys;
}

function holdsBytes(value: unknown): boolean {
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(holdsBytes);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsBytes);
  return false;
}

/** Client methods examples may call besides the generated ones (the raw escape hatch). */
const HAND_WRITTEN_METHODS = new Set(['sendCommand']);

/** Checks across files: names must be unique, and examples may only call methods that exist. */
export function checkModels(models: CommandModel[]): void {
  const owner = new Map<string, string>();
  for (const model of models) {
    for (const name of [model.method, ...model.aliases, ...(model.iterator ? [model.iterator] : [])]) {
      const other = owner.get(name);
      const field = name === model.method ? 'command' : name === model.iterator ? 'iterator.name' : 'aliases';
      if (other) throw new SpecError(model.file, field, `method name "${name}" is already used by ${other}`);
      owner.set(name, model.file);
    }
  }
  for (const model of models) {
    model.examples.forEach((example, i) =>
      example.steps.forEach((step, j) => {
        if (!owner.has(step.method) && !HAND_WRITTEN_METHODS.has(step.method)) throw new SpecError(model.file, `examples[${i}].calls[${j}].call[0]`, `no command has the method "${step.method}"`);
        // Replies are compared as text (a Buffer as its UTF-8 text): raw bytes cannot be spelled there.
        if (holdsBytes(step.reply)) throw new SpecError(model.file, `examples[${i}].calls[${j}].reply`, '!!binary is for arguments; a reply is compared as text');
      }),
    );
  }
}

/**
 * The command as GoCache serves it, for GoCache's types: without the arguments it does not accept
 * (`gocache: false`), without the reply cases those decided, with GoCache's own reply type when the
 * spec gives one. Option type names get a `GoCache` prefix when they differ from Redis's.
 * undefined when GoCache does not serve the command at all.
 */
export function gocacheView(model: CommandModel): CommandModel | undefined {
  if (!model.gocache.supported) return undefined;
  const accepted = (arg: ArgModel) => arg.gocache;
  const options = model.options.filter(accepted);
  const positionals = model.positionals.filter(accepted);
  const differs = options.length !== model.options.length || positionals.length !== model.positionals.length;
  if (!differs && model.gocache.reply === undefined) return model;
  const prefix = differs ? 'GoCache' : '';
  const choices = model.choices
    .map((choice) => ({ ...choice, typeName: `${prefix}${choice.typeName}`, options: choice.options.filter(accepted) }))
    .filter((choice) => choice.options.length > 0);
  const wire: WireItem[] = model.wire.flatMap((item): WireItem[] => {
    if (item.kind !== 'choice') return accepted(item.arg) ? [item] : [];
    const choice = choices.find((c) => c.name === item.choice.name);
    return choice ? [{ kind: 'choice', choice }] : [];
  });
  const names = new Set([...options, ...positionals].map((arg) => arg.name));
  const reply: ReplyModel =
    model.gocache.reply !== undefined
      ? { type: model.gocache.reply, cases: [] }
      : { ...model.reply, cases: model.reply.cases.filter((c) => c.when.every((w) => names.has(w.name))) };
  const view: CommandModel = { ...model, positionals, options, choices, wire, reply, optionsRequired: choices.some((c) => c.required) };
  if (options.length > 0) view.optionsTypeName = `${prefix}${model.optionsTypeName}`;
  else delete view.optionsTypeName;
  const last = positionals.filter((p) => p.type !== 'count').at(-1);
  if (last?.multiple && options.length === 0) view.restParameter = last.name;
  else delete view.restParameter;
  return view;
}
