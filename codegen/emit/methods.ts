/**
 * Emits generated/methods.ts: the abstract class GoCacheCommands<S> with one typed method per
 * command (and its aliases). The client, and its buffers view, extend it and provide `execute`.
 * `S` is the type bulk strings decode to: string, or Buffer in the buffers view.
 */
import type { ClassDeclaration, MethodDeclarationOverloadStructure, OptionalKind, ParameterDeclarationStructure } from 'ts-morph';
import { Scope } from 'ts-morph';
import type { ArgModel, CommandModel, ExampleModel } from '../model.js';
import { replyTypeToTs, type ReplyType } from '../reply-type.js';
import { builderName, decoderName, infoName } from './commands.js';
import { argTsType } from './ts-types.js';

/** `A | B` without repeating members both sides share (`number | null | number`). */
function unionOf(...types: string[]): string {
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

interface Signature {
  parameters: OptionalKind<ParameterDeclarationStructure>[];
  returns: string;
}

/** A signature's variation: the options type (and whether it is required), a positional made required or left out. */
interface Variant {
  optionsType?: string;
  optionsRequired?: boolean;
  require?: string;
  omit?: string;
}

export function methodParameters(model: CommandModel, variant: Variant = {}): OptionalKind<ParameterDeclarationStructure>[] {
  const params: OptionalKind<ParameterDeclarationStructure>[] = model.positionals
    .filter((arg) => arg.type !== 'count' && arg.name !== variant.omit)
    .map((arg) => {
      const one = argTsType(arg);
      const optional = arg.optional && arg.name !== variant.require;
      if (arg.name === model.restParameter) return { name: arg.name, isRestParameter: true, type: arg.optional ? `${wrap(one)}[]` : `[${one}, ...${wrap(one)}[]]` };
      if (arg.multiple) return { name: arg.name, type: `ReadonlyArray<${one}>`, hasQuestionToken: optional };
      return { name: arg.name, type: one, hasQuestionToken: optional };
    });
  if (model.optionsTypeName) {
    params.push({ name: 'options', type: variant.optionsType ?? model.optionsTypeName, hasQuestionToken: !variant.optionsRequired });
  }
  return params;
}

/** One signature, or, for a reply that depends on a flag, one per case and a general one. */
export function signatures(model: CommandModel): Signature[] {
  const reply = model.reply;
  if (reply.kind === 'plain') return [{ parameters: methodParameters(model), returns: replyTypeToTs(reply.type) }];
  if (reply.kind === 'parsed') return [{ parameters: methodParameters(model), returns: reply.tsType }];
  const then = replyTypeToTs(reply.then);
  const otherwise = replyTypeToTs(reply.else);
  if (reply.whenKind === 'positional') {
    return [
      { parameters: methodParameters(model, { require: reply.when }), returns: then },
      { parameters: methodParameters(model, { omit: reply.when }), returns: otherwise },
      { parameters: methodParameters(model), returns: unionOf(then, otherwise) },
    ];
  }
  return [
    { parameters: methodParameters(model, { optionsType: `${model.optionsTypeName} & { ${reply.when}: true }`, optionsRequired: true }), returns: then },
    { parameters: methodParameters(model, { optionsType: `${model.optionsTypeName} & { ${reply.when}?: false }` }), returns: otherwise },
    { parameters: methodParameters(model), returns: unionOf(then, otherwise) },
  ];
}

function literal(value: unknown): string {
  if (value === null) return 'null';
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

function serversLine(model: CommandModel): string {
  const redis = model.redis === false ? 'not in Redis' : `Redis ≥ ${model.redis}`;
  if (!model.gocache.supported) return `Servers: ${redis}; not GoCache (rejected before sending when the client targets GoCache).`;
  return `Servers: ${redis}; GoCache${model.gocache.note ? `: ${model.gocache.note}` : '.'}`;
}

function paramDoc(arg: ArgModel): string {
  const notes = [arg.doc, arg.since ? `Redis ≥ ${arg.since}.` : undefined, arg.gocache ? undefined : 'Not supported by GoCache.'].filter(Boolean);
  const fallback = arg.type === 'key' ? (arg.multiple ? 'One or more keys.' : 'A key.') : `The ${arg.name}.`;
  return `@param ${arg.name} ${notes.join(' ') || fallback}`;
}

export function methodDoc(model: CommandModel): string {
  const reply = model.reply;
  const lines = [`${model.summary}`, '', `\`${model.command}\`. ${serversLine(model)}`, ''];
  for (const arg of model.positionals) lines.push(paramDoc(arg));
  if (model.optionsTypeName) lines.push(`@param options See {@link ${model.optionsTypeName}}.`);
  lines.push(`@returns ${reply.doc ?? (reply.kind === 'parsed' ? reply.tsType : replyTypeToTs(reply.kind === 'plain' ? reply.type : reply.else, 'string'))}`);
  const example = model.examples[0];
  if (example) lines.push('@example', '```ts', ...exampleLines(example), '```');
  return lines.join('\n');
}

/**
 * How the emitted method hands its command over: the client executes it and returns a promise; a
 * chain (pipeline, transaction) queues it and returns itself, typed with one more tuple element.
 */
export type MethodMode = 'client' | 'chain';

const wrapReturn = (mode: MethodMode, type: string) => (mode === 'client' ? `Promise<${type}>` : `ChainKinds<S, [...R, ${type}]>[K]`);

export function emitMethods(cls: ClassDeclaration, model: CommandModel, mode: MethodMode = 'client'): void {
  const sigs = signatures(model);
  const C = infoName(model);
  const [execute, executeSplit] = mode === 'client' ? ['execute', 'executeSplit'] : ['add', 'addSplit'];
  const callArgs = ['this.target', ...model.positionals.filter((p) => p.type !== 'count').map((p) => p.name), ...(model.optionsTypeName ? ['options'] : [])].join(', ');
  const decode =
    model.reply.kind !== 'conditional'
      ? decoderName(model)
      : model.reply.whenKind === 'positional'
        ? `${model.reply.when} !== undefined ? ${decoderName(model, 'Then')} : ${decoderName(model, 'Else')}`
        : `options?.${model.reply.when} ? ${decoderName(model, 'Then')} : ${decoderName(model, 'Else')}`;
  const implementation = sigs[sigs.length - 1]!;
  const statements: string[] = [];
  const variadic = model.positionals.find((p) => p.multiple);
  if (model.gocache.split && variadic) {
    const others = callArgs.replace(variadic.name, '[item]');
    statements.push(
      `if (this.target === 'gocache' && ${variadic.name}.length > 1) {`,
      `  return this.${executeSplit}(${C}, ${variadic.name}.map((item) => ${builderName(model)}(${others})), ${decode}, '${model.gocache.split}');`,
      '}',
    );
  }
  statements.push(`return this.${execute}(${C}, ${builderName(model)}(${callArgs}), ${decode});`);
  // A bad argument rejects the returned promise (a chain: its exec()) rather than throwing, like every other failure.
  const onError = mode === 'client' ? 'return Promise.reject(error);' : 'return this.fail(error);';
  const body = ['try {', ...statements.map((s) => `  ${s}`), '} catch (error) {', `  ${onError}`, '}'].join('\n');
  const docs = mode === 'client' ? methodDoc(model) : `Queues \`${model.command}\`: ${model.summary}\n\nSee {@link GoCacheCommands.${model.method}}; its reply takes the next place in the result tuple.`;

  const overloads: OptionalKind<MethodDeclarationOverloadStructure>[] =
    sigs.length > 1 ? sigs.map((sig) => ({ parameters: sig.parameters, returnType: wrapReturn(mode, sig.returns), docs: [docs] })) : [];
  cls.addMethod({
    name: model.method,
    scope: Scope.Public,
    docs: sigs.length > 1 ? [] : [docs],
    overloads,
    parameters: implementation.parameters,
    returnType: wrapReturn(mode, implementation.returns),
    statements: [body],
  });

  if (model.iterator && mode === 'client') emitIterator(cls, model, implementation);

  for (const alias of model.aliases) {
    const call = implementation.parameters.map((p) => (p.isRestParameter ? `...${p.name}` : p.name)).join(', ');
    cls.addMethod({
      name: alias,
      scope: Scope.Public,
      docs: [`Alias of {@link GoCacheCommands.${model.method}}.\n\n${docs}`],
      parameters: implementation.parameters,
      returnType: wrapReturn(mode, implementation.returns),
      statements: [`return this.${model.method}(${call});`],
    });
  }
}

/** `for await (const key of client.scanIterator({ match: 'user:*' }))`: follows the cursor to the end. */
function emitIterator(cls: ClassDeclaration, model: CommandModel, implementation: Signature): void {
  const reply = model.reply as { kind: 'plain'; type: Extract<ReplyType, { kind: 'tuple' }> };
  const items = reply.type.items[1]!;
  const element =
    items.kind === 'array' || items.kind === 'set'
      ? replyTypeToTs(items.of)
      : items.kind === 'pairs'
        ? `[${replyTypeToTs(items.first)}, ${replyTypeToTs(items.second)}]`
        : 'unknown';
  const parameters = implementation.parameters.filter((p) => p.name !== 'cursor');
  const call = implementation.parameters.map((p) => (p.name === 'cursor' ? 'cursor' : p.isRestParameter ? `...${p.name}` : p.name)).join(', ');
  cls.addMethod({
    name: model.iterator!,
    scope: Scope.Public,
    isAsync: true,
    isGenerator: true,
    docs: [
      `Iterates with ${model.command} from cursor 0 until the server answers cursor 0 again, yielding each element. ` +
        `As with ${model.command} itself, an element may be yielded more than once if the collection changes meanwhile.\n\n` +
        `@example\n\`\`\`ts\nfor await (const item of client.${model.iterator}(${parameters.filter((p) => !p.hasQuestionToken).map((p) => `'${p.name}'`).join(', ')})) console.log(item);\n\`\`\``,
    ],
    parameters,
    returnType: `AsyncGenerator<${element}, void, undefined>`,
    statements: [
      [
        "let cursor = '0';",
        'do {',
        `  const [next, items] = await this.${model.method}(${call});`,
        '  cursor = String(next);',
        '  yield* items;',
        "} while (cursor !== '0');",
      ].join('\n'),
    ],
  });
}
