/**
 * A command's method signatures and its JSDoc, for the Redis surface (every command) and the GoCache
 * one (a command as GoCache serves it: see gocacheView). A reply that depends on arguments gives one
 * overload per case, in the spec's order (TypeScript picks the first overload that fits, as the
 * runtime picks the first case whose arguments are given), then the reply without any case, then a
 * general overload for arguments whose values are not known at compile time.
 */
import type { OptionalKind, ParameterDeclarationStructure } from 'ts-morph';
import type { ArgModel, CommandModel, ExampleModel, ReplyCase } from '../model.js';
import { replyTypeToTs } from '../reply-type.js';
import { familyFile, RUNTIME, type Imports } from './imports.js';
import { argTsType, optionTsType } from './ts-types.js';

export type Parameter = OptionalKind<ParameterDeclarationStructure>;

export interface Signature {
  parameters: Parameter[];
  /** The reply type (the method returns it wrapped by its kind). */
  reply: string;
  /** What this overload is for, when there are several. */
  label?: string;
}

/** `A | B` without repeating members both sides share (`number | null | number`). */
export function unionOf(...types: string[]): string {
  const members: string[] = [];
  for (const type of types) {
    let depth = 0;
    let start = 0;
    for (let i = 0; i <= type.length; i++) {
      const c = type[i];
      if (c === '<' || c === '[' || c === '(' || c === '{') depth++;
      else if (c === '>' || c === ']' || c === ')' || c === '}') depth--;
      else if ((c === '|' && depth === 0) || i === type.length) {
        const member = type.slice(start, i).trim();
        if (!members.includes(member)) members.push(member);
        start = i + 1;
      }
    }
  }
  return members.join(' | ');
}

const wrap = (type: string) => (/[|&]/.test(type) ? `(${type})` : type);

/** How one overload narrows the parameters: positionals made required or left out, option properties fixed. */
interface Narrowing {
  require?: ReadonlySet<string>;
  omit?: ReadonlySet<string>;
  /** Extra members intersected with the options type (`{ withscores: true }`). */
  optionMembers?: string[];
  optionsRequired?: boolean;
}

export function methodParameters(model: CommandModel, imports: Imports, narrowing: Narrowing = {}): Parameter[] {
  // An omitted positional (absent in this overload) is left out when it is the last parameter; with
  // options after it, it stays in its place as `undefined`, so the options stay where the run time reads them.
  const omittedInPlace = model.optionsTypeName !== undefined;
  const params: Parameter[] = model.positionals
    .filter((arg) => arg.type !== 'count' && (omittedInPlace || !narrowing.omit?.has(arg.name)))
    .map((arg) => {
      if (narrowing.omit?.has(arg.name)) return { name: arg.name, type: 'undefined', hasQuestionToken: true };
      const one = argTsType(arg, imports);
      const optional = arg.optional && !narrowing.require?.has(arg.name);
      if (arg.name === model.restParameter) return { name: arg.name, isRestParameter: true, type: arg.optional ? `${wrap(one)}[]` : `[${one}, ...${wrap(one)}[]]` };
      if (arg.multiple) return { name: arg.name, type: `ReadonlyArray<${one}>`, hasQuestionToken: optional };
      return { name: arg.name, type: one, hasQuestionToken: optional };
    });
  if (model.optionsTypeName) {
    imports.type(familyFile(model.group), model.optionsTypeName);
    const members = narrowing.optionMembers ?? [];
    const type = members.length > 0 ? `${model.optionsTypeName} & { ${members.join('; ')} }` : model.optionsTypeName;
    params.push({ name: 'options', type, hasQuestionToken: !(model.optionsRequired || narrowing.optionsRequired) });
  }
  return params;
}

/** The reply type of a case, or of the command without any case, as TypeScript. */
function replyTs(model: CommandModel, type: CommandModel['reply']['type'], imports: Imports): string {
  const parsed = model.reply.parse?.as;
  if (parsed === undefined) return replyTypeToTs(type, 'S', imports);
  imports.type(RUNTIME.replyParsers, parsed.replace(/\[\]$/, ''));
  return parsed;
}

function caseNarrowing(model: CommandModel, replyCase: ReplyCase, imports: Imports): Narrowing {
  const option = (name: string): ArgModel => model.options.find((o) => o.name === name)!;
  const members = replyCase.when.filter((w) => w.kind !== 'positional').map((w) => (w.kind === 'flag' ? `${w.name}: true` : `${w.name}: ${optionTsType(option(w.name), imports)}`));
  return {
    require: new Set(replyCase.when.filter((w) => w.kind === 'positional').map((w) => w.name)),
    optionMembers: members,
    optionsRequired: members.length > 0,
  };
}

/** The narrowing where no case applies: every argument a case depends on is absent. */
function noCaseNarrowing(model: CommandModel): Narrowing {
  const whens = new Map(model.reply.cases.flatMap((c) => c.when.map((w) => [w.name, w.kind] as const)));
  return {
    omit: new Set([...whens].filter(([, kind]) => kind === 'positional').map(([name]) => name)),
    optionMembers: [...whens].filter(([, kind]) => kind !== 'positional').map(([name, kind]) => `${name}?: ${kind === 'flag' ? 'false' : 'undefined'}`),
  };
}

export function signatures(model: CommandModel, imports: Imports): Signature[] {
  const plain = replyTs(model, model.reply.type, imports);
  if (model.reply.cases.length === 0) return [{ parameters: methodParameters(model, imports), reply: plain }];
  const cases = model.reply.cases.map((replyCase) => ({
    parameters: methodParameters(model, imports, caseNarrowing(model, replyCase, imports)),
    reply: replyTs(model, replyCase.type, imports),
    label: `with ${replyCase.when.map((w) => `\`${w.name}\``).join(' and ')}`,
  }));
  return [
    ...cases,
    { parameters: methodParameters(model, imports, noCaseNarrowing(model)), reply: plain, label: `without ${[...new Set(model.reply.cases.flatMap((c) => c.when.map((w) => `\`${w.name}\``)))].join(' or ')}` },
    { parameters: methodParameters(model, imports), reply: unionOf(...cases.map((c) => c.reply), plain), label: 'when which case applies is only known at run time' },
  ];
}

function literal(value: unknown): string {
  if (value === null) return 'null';
  // Raw bytes (`!!binary` in the spec) as the Buffer they are.
  if (value instanceof Uint8Array) return `Buffer.from('${Buffer.from(value).toString('base64')}', 'base64')`;
  // JSON's escapes (control characters included) are valid in a JavaScript string literal.
  if (typeof value === 'string') return `'${JSON.stringify(value).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') {
    return `{ ${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : literal(k)}: ${literal(v)}`)
      .join(', ')} }`;
  }
  return String(value);
}

export function exampleLines(example: ExampleModel): string[] {
  return example.steps.map((step) => {
    const call = `await client.${step.method}(${step.args.map(literal).join(', ')});`;
    if (step.error !== undefined) return `${call} // rejects: ${step.error}…`;
    return 'reply' in step ? `${call} // ${literal(step.reply)}` : call;
  });
}

function serversLine(model: CommandModel, server: 'Redis' | 'GoCache'): string {
  if (server === 'GoCache') return `GoCache${model.gocache.note ? `: ${model.gocache.note}` : '.'}`;
  const redis = model.redis === false ? 'not in Redis' : `Redis ≥ ${model.redis}`;
  if (!model.gocache.supported) return `Servers: ${redis}; not GoCache (rejected before sending when the client targets GoCache).`;
  return `Servers: ${redis}; GoCache${model.gocache.note ? `: ${model.gocache.note}` : '.'}`;
}

function paramDoc(arg: ArgModel, server: 'Redis' | 'GoCache'): string {
  const notes = [arg.doc, arg.since && server === 'Redis' ? `Redis ≥ ${arg.since}.` : undefined, arg.gocache || server === 'GoCache' ? undefined : 'Not supported by GoCache.'].filter(Boolean);
  const fallback = arg.type === 'key' ? (arg.multiple ? 'One or more keys.' : 'A key.') : `The ${arg.name}.`;
  return `@param ${arg.name} ${notes.join(' ') || fallback}`;
}

/** The JSDoc of a command's method: summary, servers, parameters, reply, the spec's first example. */
export function methodDoc(model: CommandModel, server: 'Redis' | 'GoCache' = 'Redis'): string {
  const lines = [model.summary, '', `\`${model.command}\`. ${serversLine(model, server)}`, ''];
  for (const arg of model.positionals) if (arg.type !== 'count') lines.push(paramDoc(arg, server));
  if (model.optionsTypeName) lines.push(`@param options See {@link ${model.optionsTypeName}}.`);
  lines.push(`@returns ${model.reply.doc ?? replyTypeToTs(model.reply.type, 'string')}`);
  if (model.deprecated) lines.push(`@deprecated Since Redis ${model.deprecated.since}: ${model.deprecated.replacement}`);
  // The spec's examples run against Redis; GoCache's surface shows none rather than one it could refuse.
  const example = server === 'Redis' ? model.examples[0] : undefined;
  if (example) lines.push('@example', '```ts', ...exampleLines(example), '```');
  return lines.join('\n');
}

/** The doc of an overload after the first: one line pointing at the first, where the whole doc is. */
export function overloadDoc(model: CommandModel, signature: Signature): string {
  return `${model.command} ${signature.label ?? ''}: see the first signature of \`${model.method}\` for the documentation.`;
}
