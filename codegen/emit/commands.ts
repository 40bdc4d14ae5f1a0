/**
 * Emits generated/commands/<group>.ts: per command, its descriptor, option types (exclusive choices
 * as unions, so two of them do not compile), the argument builder with runtime checks for callers
 * that are not type-checked, and its reply decoders.
 */
import type { SourceFile, WriterFunction } from 'ts-morph';
import { VariableDeclarationKind } from 'ts-morph';
import type { ArgModel, ChoiceModel, CommandModel } from '../model.js';
import { replyTypeToDecoder } from '../reply-type.js';
import { argTsType, checkExpression, optionTsType } from './ts-types.js';

export const infoName = (model: CommandModel) => model.words.join('_').toUpperCase();
export const builderName = (model: CommandModel) => `${model.method}Args`;
export const decoderName = (model: CommandModel, variant: '' | 'Then' | 'Else' = '') => `decode${model.method[0]!.toUpperCase()}${model.method.slice(1)}${variant}`;

/** The builder's parameters: the method's, except that a rest parameter arrives as an array. */
export function builderParameters(model: CommandModel): Array<{ name: string; type: string; optional: boolean }> {
  const params = model.positionals
    .filter((arg) => arg.type !== 'count')
    .map((arg) => ({
      name: arg.name,
      type: arg.multiple ? `ReadonlyArray<${argTsType(arg)}>` : argTsType(arg),
      optional: arg.optional,
    }));
  if (model.optionsTypeName) params.push({ name: 'options', type: model.optionsTypeName, optional: true });
  return params;
}

export function emitCommand(file: SourceFile, model: CommandModel): void {
  const C = infoName(model);
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [`${model.command}: ${model.summary}`],
    declarations: [
      {
        name: C,
        type: 'CommandInfo',
        initializer: (w) =>
          w.write(
            `{ name: '${model.command}', flags: [${model.flags.map((f) => `'${f}'`).join(', ')}], keys: [${model.keyArgs.map((k) => `'${k}'`).join(', ')}], gocache: ${model.gocache.supported}, gocacheInMulti: ${gocacheInMulti(model)}, redis: ${model.redis === false ? 'false' : `'${model.redis}'`} }`,
          ),
      },
    ],
  });

  for (const choice of model.choices) emitChoiceType(file, choice);
  if (model.optionsTypeName) emitOptionsType(file, model);
  emitBuilder(file, model);
  emitDecoders(file, model);
}

/** true, or why GoCache must not receive the command inside MULTI. */
function gocacheInMulti(model: CommandModel): string {
  const multi = model.gocache.multi;
  if (!model.gocache.supported || multi === undefined) return String(model.gocache.supported);
  const reason = multi === false ? 'GoCache refuses it there' : multi;
  return `'${reason.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function optionDoc(arg: ArgModel): string[] {
  const notes = [arg.doc ?? '', arg.since ? `Redis ≥ ${arg.since}.` : '', arg.gocache ? '' : 'Not supported by GoCache.'].filter(Boolean);
  return notes.length > 0 ? [`/** ${notes.join(' ')} */`] : [];
}

function emitChoiceType(file: SourceFile, choice: ChoiceModel): void {
  const names = choice.options.map((o) => o.name);
  file.addTypeAlias({
    isExported: true,
    name: choice.typeName,
    docs: [`${choice.doc ?? 'Mutually exclusive options'}: at most one of ${names.map((n) => `\`${n}\``).join(', ')}.`],
    type: (w) => {
      const member = (chosen: ArgModel | undefined) => {
        w.write('{').newLine().indent(() => {
          for (const option of choice.options) {
            if (option === chosen) {
              optionDoc(option).forEach((line) => w.writeLine(line));
              w.writeLine(`${option.name}: ${option.type === 'flag' ? 'true' : optionTsType(option)};`);
            } else {
              w.writeLine(`${option.name}?: never;`);
            }
          }
        });
        w.write('}');
      };
      choice.options.forEach((option) => {
        w.newLine().write('| ');
        member(option);
      });
      w.newLine().write('| ');
      member(undefined);
    },
  });
}

function emitOptionsType(file: SourceFile, model: CommandModel): void {
  const standalone = model.wire.flatMap((item) => (item.kind === 'option' ? [item.arg] : []));
  const parts: Array<string | WriterFunction> = model.choices.map((c) => c.typeName);
  if (standalone.length > 0) {
    parts.push((w) => {
      w.write('{').newLine().indent(() => {
        for (const arg of standalone) {
          optionDoc(arg).forEach((line) => w.writeLine(line));
          w.writeLine(`${arg.name}?: ${optionTsType(arg)};`);
        }
      });
      w.write('}');
    });
  }
  file.addTypeAlias({
    isExported: true,
    name: model.optionsTypeName!,
    docs: [`Options of {@link GoCacheCommands.${model.method}} (${model.command}).`],
    type: (w) =>
      parts.forEach((part, i) => {
        if (i > 0) w.write(' & ');
        typeof part === 'string' ? w.write(part) : part(w);
      }),
  });
}

function emitBuilder(file: SourceFile, model: CommandModel): void {
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
        leading.push(checkExpression(arg, arg.name, C));
        continue;
      }
      leadingOpen = false;
      body.push(...positionalStatements(arg, C, model));
    } else if (!optionsWritten) {
      // Every option is written at the place of the first one: the spec keeps options together, as
      // Redis's grammar does, and positionals after them (ZADD's score/member pairs) follow.
      leadingOpen = false;
      optionsWritten = true;
      body.push('if (options !== undefined) {', ...optionsBlock(model, C).map((s) => `  ${s}`), '}');
    }
  }

  const params = builderParameters(model);
  file.addFunction({
    isExported: true,
    name: builderName(model),
    docs: [`The arguments of ${model.command}, checked. Throws GoCacheArgumentError before anything is sent.`],
    parameters: [{ name: 'target', type: 'ServerKind' }, ...params.map((p) => ({ name: p.name, type: p.type, hasQuestionToken: p.optional }))],
    returnType: 'CommandArg[]',
    statements: [
      [
        ...(model.gocache.supported ? [] : [`if (target === 'gocache') throw notOnGoCache(${C});`]),
        `const wire: CommandArg[] = [${leading.join(', ')}];`,
        ...body,
        'return wire;',
      ].join('\n'),
    ],
  });
}

function optionsBlock(model: CommandModel, C: string): string[] {
  const statements = [`argOptions(options, ${C}, [${model.options.map((o) => `'${o.name}'`).join(', ')}]);`];
  for (const choice of model.choices) {
    statements.push(`argExclusive(options, ${C}, [${choice.options.map((o) => `'${o.name}'`).join(', ')}]);`);
  }
  for (const option of model.options) statements.push(...optionStatementsFor(option, C));
  return statements;
}

function positionalStatements(arg: ArgModel, C: string, model: CommandModel): string[] {
  if (arg.type === 'count') {
    const counted = model.positionals.find((p) => p.name === arg.countOf)!;
    return [counted.optional ? `wire.push(${arg.countOf}?.length ?? 0);` : `wire.push(${arg.countOf}.length);`];
  }
  if (arg.multiple) {
    const loop = [`for (const item of ${arg.name}) {`, ...indent(valueStatements({ ...arg, multiple: false }, 'item', C, arg.name)), '}'];
    if (arg.optional) return [`if (${arg.name} !== undefined) {`, ...indent(loop), '}'];
    return [`argNonEmpty(${arg.name}, ${C}, '${arg.name}');`, ...loop];
  }
  const statements = valueStatements(arg, arg.name, C, arg.name);
  return arg.optional ? [`if (${arg.name} !== undefined) {`, ...indent(statements), '}'] : statements;
}

const indent = (lines: string[]) => lines.map((line) => `  ${line}`);

/**
 * Statements writing one present value of `arg` (its token first, when it has one); `value` is an
 * expression for it and `label` names it in error messages.
 */
function valueStatements(arg: ArgModel, value: string, C: string, label: string): string[] {
  const token = arg.token !== undefined ? `'${arg.token}', ` : '';
  switch (arg.type) {
    case 'flag':
      return [`if (${checkExpression(arg, value, C, label)}) wire.push('${arg.token}');`];
    case 'pairs': {
      const [first, second] = arg.of!;
      return [
        ...(arg.token !== undefined ? [`wire.push('${arg.token}');`] : []),
        `pushPairs(wire, ${value}, ${C}, '${label}', (item) => ${checkExpression(first!, 'item', C, `${label}.${first!.name}`)}, (item) => ${checkExpression(second!, 'item', C, `${label}.${second!.name}`)});`,
      ];
    }
    case 'block': {
      const statements = arg.token !== undefined ? [`wire.push('${arg.token}');`] : [];
      for (const sub of arg.of!) {
        const subValue = `${value}.${sub.name}`;
        const subStatements = sub.multiple
          ? [`for (const item of ${subValue}) {`, ...indent(valueStatements({ ...sub, multiple: false }, 'item', C, `${label}.${sub.name}`)), '}']
          : valueStatements(sub, subValue, C, `${label}.${sub.name}`);
        if (sub.optional && sub.type !== 'flag') statements.push(`if (${subValue} !== undefined) {`, ...indent(subStatements), '}');
        else statements.push(...subStatements);
      }
      return statements;
    }
    default:
      return [`wire.push(${token}${checkExpression(arg, value, C, label)});`];
  }
}

function optionStatementsFor(option: ArgModel, C: string): string[] {
  const value = `options.${option.name}`;
  const guard = option.gocache ? [] : [`if (target === 'gocache') throw notOnGoCache(${C}, '${option.name}');`];
  if (option.type === 'flag') {
    return [`if (${checkExpression(option, value, C)}) {`, ...indent(guard), `  wire.push('${option.token}');`, '}'];
  }
  const write = option.multiple
    ? [`argNonEmpty(${value}, ${C}, '${option.name}');`, `for (const item of ${value}) {`, ...indent(valueStatements({ ...option, multiple: false }, 'item', C, option.name)), '}']
    : valueStatements(option, value, C, option.name);
  return [`if (${value} !== undefined) {`, ...indent(guard), ...indent(write), '}'];
}

function emitDecoders(file: SourceFile, model: CommandModel): void {
  const add = (name: string, initializer: string, doc: string) =>
    file.addVariableStatement({
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [doc],
      declarations: [{ name, type: 'Decoder', initializer }],
    });
  const reply = model.reply;
  if (reply.kind === 'plain') add(decoderName(model), replyTypeToDecoder(reply.type), `Decodes the reply of ${model.command}.`);
  else if (reply.kind === 'parsed') add(decoderName(model), `parsed(bulkString, ${reply.parse})`, `Decodes the reply of ${model.command}.`);
  else {
    add(decoderName(model, 'Then'), replyTypeToDecoder(reply.then), `Decodes the reply of ${model.command} with \`${reply.when}\`.`);
    add(decoderName(model, 'Else'), replyTypeToDecoder(reply.else), `Decodes the reply of ${model.command} without \`${reply.when}\`.`);
  }
}

/** The identifiers a command file needs from src/, for its import declarations. */
export function runtimeImports(text: string, candidates: readonly string[]): string[] {
  return candidates.filter((name) => new RegExp(`\\b${name}\\b`).test(text));
}
