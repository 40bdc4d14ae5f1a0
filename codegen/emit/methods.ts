/**
 * Emits generated/methods.ts: the abstract class GoCacheCommands<S> with one typed method per
 * command (and its aliases). The client, and its buffers view, extend it and provide `execute`.
 * `S` is the type bulk strings decode to: string, or Buffer in the buffers view.
 */
import type { ClassDeclaration, MethodDeclarationOverloadStructure, OptionalKind, ParameterDeclarationStructure } from 'ts-morph';
import { Scope } from 'ts-morph';
import type { ArgModel, CommandModel, ExampleModel } from '../model.js';
import { replyTypeToTs } from '../reply-type.js';
import { builderName, decoderName, infoName } from './commands.js';
import { argTsType } from './ts-types.js';

interface Signature {
  parameters: OptionalKind<ParameterDeclarationStructure>[];
  returns: string;
}

export function methodParameters(model: CommandModel, optionsType?: string, optionsRequired = false): OptionalKind<ParameterDeclarationStructure>[] {
  const params: OptionalKind<ParameterDeclarationStructure>[] = model.positionals.map((arg) =>
    arg.multiple
      ? { name: arg.name, isRestParameter: true, type: `[${argTsType({ ...arg, multiple: false })}, ...${argTsType({ ...arg, multiple: false })}[]]` }
      : { name: arg.name, type: argTsType(arg), hasQuestionToken: arg.optional },
  );
  if (model.optionsTypeName) {
    const type = optionsType ?? model.optionsTypeName;
    params.push({ name: 'options', type, hasQuestionToken: !optionsRequired });
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
  return [
    { parameters: methodParameters(model, `${model.optionsTypeName} & { ${reply.when}: true }`, true), returns: then },
    { parameters: methodParameters(model, `${model.optionsTypeName} & { ${reply.when}?: false }`), returns: otherwise },
    { parameters: methodParameters(model), returns: `${then} | ${otherwise}` },
  ];
}

function literal(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
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

export function emitMethods(cls: ClassDeclaration, model: CommandModel): void {
  const sigs = signatures(model);
  const C = infoName(model);
  const callArgs = ['this.target', ...model.positionals.map((p) => p.name), ...(model.optionsTypeName ? ['options'] : [])].join(', ');
  const decode =
    model.reply.kind === 'conditional'
      ? `options?.${model.reply.when} ? ${decoderName(model, 'Then')} : ${decoderName(model, 'Else')}`
      : decoderName(model);
  const implementation = sigs[sigs.length - 1]!;
  const statements: string[] = [];
  const variadic = model.positionals.find((p) => p.multiple);
  if (model.gocache.split && variadic) {
    const others = callArgs.replace(variadic.name, '[item]');
    statements.push(
      `if (this.target === 'gocache' && ${variadic.name}.length > 1) {`,
      `  return this.executeSplit(${C}, ${variadic.name}.map((item) => ${builderName(model)}(${others})), ${decode}, '${model.gocache.split}');`,
      '}',
    );
  }
  statements.push(`return this.execute(${C}, ${builderName(model)}(${callArgs}), ${decode});`);
  // A bad argument rejects the returned promise rather than throwing, like every other failure.
  const body = ['try {', ...statements.map((s) => `  ${s}`), '} catch (error) {', '  return Promise.reject(error);', '}'].join('\n');

  const overloads: OptionalKind<MethodDeclarationOverloadStructure>[] =
    sigs.length > 1 ? sigs.map((sig) => ({ parameters: sig.parameters, returnType: `Promise<${sig.returns}>`, docs: [methodDoc(model)] })) : [];
  cls.addMethod({
    name: model.method,
    scope: Scope.Public,
    docs: sigs.length > 1 ? [] : [methodDoc(model)],
    overloads,
    parameters: implementation.parameters,
    returnType: `Promise<${implementation.returns}>`,
    statements: [body],
  });

  for (const alias of model.aliases) {
    const call = implementation.parameters.map((p) => (p.isRestParameter ? `...${p.name}` : p.name)).join(', ');
    cls.addMethod({
      name: alias,
      scope: Scope.Public,
      docs: [`Alias of {@link GoCacheCommands.${model.method}}.\n\n${methodDoc(model)}`],
      parameters: implementation.parameters,
      returnType: `Promise<${implementation.returns}>`,
      statements: [`return this.${model.method}(${call});`],
    });
  }
}
