/**
 * Emits generated/commands/<family>.ts: per command, its descriptor, option types (exclusive choices
 * as unions, so two of them do not compile; GoCache's narrower ones beside Redis's), the argument
 * builder with runtime checks for callers that are not type-checked, and its reply decoders.
 */
import { StructureKind, VariableDeclarationKind, type StatementStructures } from 'ts-morph';
import { gocacheView, type ArgModel, type ChoiceModel, type CommandModel } from '../model.js';
import { replyTypeToDecoder } from '../reply-type.js';
import { RUNTIME, type Imports } from './imports.js';
import { argTsType, checkExpression, optionTsType } from './ts-types.js';

/** A statement of a generated file: a structure, or text written as it is. */
export type Statement = string | StatementStructures;

export const infoName = (model: CommandModel) => model.words.join('_').toUpperCase().replace(/-/g, '_');
/** The descriptor of the calls that block, for a command that blocks only with an option (`XREAD_BLOCKING`). */
export const blockingInfoName = (model: CommandModel) => `${infoName(model)}_BLOCKING`;
export const builderName = (model: CommandModel) => `${model.method}Args`;
const capital = (name: string) => name[0]!.toUpperCase() + name.slice(1);
/** decodeGet; with a reply case, decodeZrangeWithWithscores. */
export const decoderName = (model: CommandModel, caseIndex?: number) =>
  `decode${capital(model.method)}${caseIndex === undefined ? '' : `With${model.reply.cases[caseIndex]!.when.map((w) => capital(w.name)).join('And')}`}`;

/** Every statement of a command's part of its family file. */
export function commandStatements(model: CommandModel, imports: Imports): Statement[] {
  const statements: Statement[] = [descriptor(model, imports)];
  if (model.blocking.when === 'option') statements.push(blockingDescriptor(model, imports));
  for (const choice of model.choices) statements.push(choiceType(choice, imports));
  if (model.optionsTypeName) statements.push(optionsType(model, imports));
  const gocache = gocacheView(model);
  if (gocache !== undefined && gocache !== model && gocache.optionsTypeName !== model.optionsTypeName) {
    for (const choice of gocache.choices) statements.push(choiceType(choice, imports, 'GoCache'));
    if (gocache.optionsTypeName) statements.push(optionsType(gocache, imports, 'GoCache'));
  }
  statements.push(builder(model, imports));
  statements.push(...decoders(model, imports));
  return statements;
}

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function descriptor(model: CommandModel, imports: Imports): Statement {
  const fields = [
    `name: '${model.command}'`,
    `flags: [${model.flags.map((f) => `'${f}'`).join(', ')}]`,
    `keys: [${model.keyArgs.map((k) => `'${k}'`).join(', ')}]`,
    `gocache: ${model.gocache.supported}`,
    `gocacheInMulti: ${gocacheInMulti(model)}`,
    `redis: ${model.redis === false ? 'false' : `'${model.redis}'`}`,
    ...(model.gocache.split ? [`split: '${model.gocache.split}'`] : []),
    ...(model.blocking.when === 'always' ? ['blocking: true'] : model.blocking.when === 'option' ? [`blockingWhen: '${model.blocking.option.name}'`] : []),
    ...(model.replyBytes ? ['replyBytes: true'] : []),
    ...(model.reply.keys !== undefined ? [`replyKeys: '${model.reply.keys}'`] : []),
    ...(model.cluster !== undefined ? [`cluster: { ${Object.entries(model.cluster).map(([k, v]) => `${k}: ${typeof v === 'string' ? quote(v) : String(v)}`).join(', ')} }`] : []),
  ];
  return {
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [`${model.command}: ${model.summary}`],
    declarations: [{ name: infoName(model), type: imports.type(RUNTIME.types, 'CommandInfo'), initializer: `{ ${fields.join(', ')} }` }],
  };
}

function blockingDescriptor(model: CommandModel, imports: Imports): Statement {
  const option = model.blocking.when === 'option' ? model.blocking.option.name : '';
  return {
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [`${model.command} with \`${option}\` given: the call blocks its connection (CommandInfo.blocking).`],
    declarations: [{ name: blockingInfoName(model), type: imports.type(RUNTIME.types, 'CommandInfo'), initializer: `{ ...${infoName(model)}, blocking: true }` }],
  };
}

/** true, or why GoCache must not receive the command inside MULTI. */
function gocacheInMulti(model: CommandModel): string {
  const multi = model.gocache.multi;
  if (!model.gocache.supported || multi === undefined) return String(model.gocache.supported);
  return quote(multi === false ? 'GoCache refuses it there' : multi);
}

function optionDoc(arg: ArgModel, server: 'Redis' | 'GoCache'): string[] {
  const notes = [arg.doc ?? '', arg.since && server === 'Redis' ? `Redis ≥ ${arg.since}.` : '', arg.gocache || server === 'GoCache' ? '' : 'Not supported by GoCache.'].filter(Boolean);
  return notes.length > 0 ? [`/** ${notes.join(' ')} */`] : [];
}

/** A documented, exported type alias, written as text: the printer would indent a multi-line type by a level too many. */
export function typeAlias(doc: string, name: string, type: string): string {
  const comment = doc.includes('\n') ? `/**\n${doc.split('\n').map((line) => ` * ${line}`).join('\n')}\n */` : `/** ${doc} */`;
  return `${comment}\nexport type ${name} = ${type};`;
}

/** An object type literal, one member per line. */
export function objectType(lines: string[]): string {
  return `{\n${lines.map((line) => `  ${line}`).join('\n')}\n}`;
}

function choiceType(choice: ChoiceModel, imports: Imports, server: 'Redis' | 'GoCache' = 'Redis'): Statement {
  const names = choice.options.map((o) => `\`${o.name}\``).join(', ');
  const member = (chosen: ArgModel | undefined) => {
    const lines = choice.options.flatMap((option) =>
      option === chosen ? [...optionDoc(option, server), `${option.name}: ${option.type === 'flag' ? 'true' : optionTsType(option, imports)};`] : [`${option.name}?: never;`],
    );
    return `  | {\n${lines.map((line) => `    ${line}`).join('\n')}\n  }`;
  };
  const members = [...choice.options, ...(choice.required ? [] : [undefined])].map(member);
  const doc = `${choice.doc ?? 'Mutually exclusive options'}: ${choice.required ? 'exactly' : 'at most'} one of ${names}.`;
  return typeAlias(doc, choice.typeName, `\n${members.join('\n')}`);
}

function optionsType(model: CommandModel, imports: Imports, server: 'Redis' | 'GoCache' = 'Redis'): Statement {
  const standalone = model.wire.flatMap((item) => (item.kind === 'option' ? [item.arg] : []));
  const parts = model.choices.map((c) => c.typeName);
  if (standalone.length > 0) parts.push(objectType(standalone.flatMap((arg) => [...optionDoc(arg, server), `${arg.name}?: ${optionTsType(arg, imports)};`])));
  const doc = `Options of \`${model.method}\` (${model.command})${server === 'GoCache' ? ', as GoCache accepts them' : ''}.`;
  return typeAlias(doc, model.optionsTypeName!, parts.join(' & '));
}

/** The builder's parameters: the method's, except that a rest parameter arrives as an array. */
export function builderParameters(model: CommandModel, imports: Imports): Array<{ name: string; type: string; hasQuestionToken: boolean }> {
  const params = model.positionals
    .filter((arg) => arg.type !== 'count')
    .map((arg) => ({
      name: arg.name,
      type: arg.multiple ? `ReadonlyArray<${argTsType(arg, imports)}>` : argTsType(arg, imports),
      hasQuestionToken: arg.optional,
    }));
  if (model.optionsTypeName) params.push({ name: 'options', type: model.optionsTypeName, hasQuestionToken: !model.optionsRequired });
  return params;
}

function builder(model: CommandModel, imports: Imports): Statement {
  const C = `${infoName(model)}.name`;
  // Required single positionals before the first option or variadic go straight into the array literal.
  const leading: string[] = model.words.map((word) => `'${word}'`);
  const body: string[] = [];
  let leadingOpen = true;
  let optionsWritten = false;
  for (const item of model.wire) {
    if (item.kind === 'positional') {
      const arg = item.arg;
      if (leadingOpen && !arg.optional && !arg.multiple && !['pairs', 'block', 'count'].includes(arg.type)) {
        if (arg.token !== undefined) leading.push(`'${arg.token}'`);
        leading.push(checkExpression(arg, arg.name, C, imports, arg.name, String(leading.length)));
        continue;
      }
      leadingOpen = false;
      body.push(...positionalStatements(arg, C, model, imports));
    } else if (!optionsWritten) {
      // Every option is written at the place of the first one: the spec keeps options together, as
      // Redis's grammar does, and positionals after them (ZADD's score/member pairs) follow.
      leadingOpen = false;
      optionsWritten = true;
      const block = optionsBlock(model, C, imports);
      body.push(...(model.optionsRequired ? block : ['if (options !== undefined) {', ...indent(block), '}']));
    }
  }
  const notOnGoCache = imports.value(RUNTIME.args, 'notOnGoCache');
  return {
    kind: StructureKind.Function,
    isExported: true,
    name: builderName(model),
    docs: [`The arguments of ${model.command}, checked. Throws GoCacheArgumentError before anything is sent.`],
    parameters: [{ name: 'context', type: imports.type(RUNTIME.types, 'ArgsContext') }, ...builderParameters(model, imports)],
    returnType: `${imports.type(RUNTIME.types, 'CommandArg')}[]`,
    statements: [
      ...(model.gocache.supported ? [] : [`if (context.server === 'gocache') throw ${notOnGoCache}(${C});`]),
      `const wire: CommandArg[] = [${leading.join(', ')}];`,
      ...body,
      'return wire;',
    ],
  };
}

function optionsBlock(model: CommandModel, C: string, imports: Imports): string[] {
  const names = (options: ArgModel[]) => `[${options.map((o) => `'${o.name}'`).join(', ')}]`;
  const statements = [`${imports.value(RUNTIME.args, 'argOptions')}(options, ${C}, ${names(model.options)});`];
  for (const choice of model.choices) {
    const check = choice.required ? 'argOneOf' : 'argExclusive';
    statements.push(`${imports.value(RUNTIME.args, check)}(options, ${C}, ${names(choice.options)});`);
  }
  for (const option of model.options) statements.push(...optionStatementsFor(option, C, imports));
  return statements;
}

function positionalStatements(arg: ArgModel, C: string, model: CommandModel, imports: Imports): string[] {
  if (arg.type === 'count') {
    const counted = model.positionals.find((p) => p.name === arg.countOf)!;
    return [counted.optional ? `wire.push(${arg.countOf}?.length ?? 0);` : `wire.push(${arg.countOf}.length);`];
  }
  if (arg.multiple) {
    const loop = [`for (const item of ${arg.name}) {`, ...indent(valueStatements({ ...arg, multiple: false }, 'item', C, arg.name, imports)), '}'];
    if (arg.optional) return [`if (${arg.name} !== undefined) {`, ...indent(loop), '}'];
    return [`${imports.value(RUNTIME.args, 'argNonEmpty')}(${arg.name}, ${C}, '${arg.name}');`, ...loop];
  }
  const statements = valueStatements(arg, arg.name, C, arg.name, imports);
  return arg.optional ? [`if (${arg.name} !== undefined) {`, ...indent(statements), '}'] : statements;
}

const indent = (lines: string[]) => lines.map((line) => `  ${line}`);

/**
 * Statements writing one present value of `arg` (its token first, when it has one); `value` is an
 * expression for it and `label` names it in error messages.
 */
function valueStatements(arg: ArgModel, value: string, C: string, label: string, imports: Imports): string[] {
  const token = arg.token !== undefined ? `'${arg.token}', ` : '';
  switch (arg.type) {
    case 'flag':
      return [`if (${checkExpression(arg, value, C, imports, label)}) wire.push('${arg.token}');`];
    case 'pairs': {
      const [first, second] = arg.of!;
      // In columns (XREAD's STREAMS k1 k2 id1 id2), every first part goes before every second part.
      const push = imports.value(RUNTIME.args, arg.columns ? 'pushPairColumns' : 'pushPairs');
      return [
        ...(arg.token !== undefined ? [`wire.push('${arg.token}');`] : []),
        `${push}(wire, ${value}, ${C}, '${label}', (item) => ${checkExpression(first!, 'item', C, imports, `${label}.${first!.name}`)}, (item) => ${checkExpression(second!, 'item', C, imports, `${label}.${second!.name}`)});`,
      ];
    }
    case 'block': {
      const statements = arg.token !== undefined ? [`wire.push('${arg.token}');`] : [];
      for (const sub of arg.of!) {
        const subValue = `${value}.${sub.name}`;
        const subStatements = sub.multiple
          ? [`for (const item of ${subValue}) {`, ...indent(valueStatements({ ...sub, multiple: false }, 'item', C, `${label}.${sub.name}`, imports)), '}']
          : valueStatements(sub, subValue, C, `${label}.${sub.name}`, imports);
        if (sub.optional && sub.type !== 'flag') statements.push(`if (${subValue} !== undefined) {`, ...indent(subStatements), '}');
        else statements.push(...subStatements);
      }
      return statements;
    }
    default:
      return [`wire.push(${token}${checkExpression(arg, value, C, imports, label)});`];
  }
}

function optionStatementsFor(option: ArgModel, C: string, imports: Imports): string[] {
  const value = `options.${option.name}`;
  const guard = option.gocache ? [] : [`if (context.server === 'gocache') throw ${imports.value(RUNTIME.args, 'notOnGoCache')}(${C}, '${option.name}');`];
  if (option.type === 'flag') {
    return [`if (${checkExpression(option, value, C, imports)}) {`, ...indent(guard), `  wire.push('${option.token}');`, '}'];
  }
  const write = option.multiple
    ? [`${imports.value(RUNTIME.args, 'argNonEmpty')}(${value}, ${C}, '${option.name}');`, `for (const item of ${value}) {`, ...indent(valueStatements({ ...option, multiple: false }, 'item', C, option.name, imports)), '}']
    : valueStatements(option, value, C, option.name, imports);
  return [`if (${value} !== undefined) {`, ...indent(guard), ...indent(write), '}'];
}

function decoders(model: CommandModel, imports: Imports): Statement[] {
  const decoder = (name: string, initializer: string, doc: string): Statement => ({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [doc],
    declarations: [{ name, type: imports.type(RUNTIME.types, 'Decoder'), initializer }],
  });
  const reply = model.reply;
  if (reply.parse) {
    const parse = imports.value(RUNTIME.replyParsers, reply.parse.name);
    return [decoder(decoderName(model), `${imports.value(RUNTIME.decoders, 'parsed')}(${replyTypeToDecoder(reply.type, imports)}, ${parse})`, `Decodes the reply of ${model.command}.`)];
  }
  return [
    decoder(decoderName(model), replyTypeToDecoder(reply.type, imports), `Decodes the reply of ${model.command}${reply.cases.length > 0 ? ' when no case applies' : ''}.`),
    ...reply.cases.map((replyCase, i) =>
      decoder(decoderName(model, i), replyTypeToDecoder(replyCase.type, imports), `Decodes the reply of ${model.command} with ${replyCase.when.map((w) => `\`${w.name}\``).join(' and ')}.`),
    ),
  ];
}
