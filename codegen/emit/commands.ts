/**
 * Emits generated/commands/<group>.ts: per command, its descriptor, option types (exclusive choices
 * as unions, so two of them do not compile), the argument builder with runtime checks for callers
 * that are not type-checked, and its reply decoders.
 */
import type { SourceFile, WriterFunction } from 'ts-morph';
import { VariableDeclarationKind } from 'ts-morph';
import type { ArgModel, ChoiceModel, CommandModel } from '../model.js';
import { replyTypeToDecoder } from '../reply-type.js';
import { argTsType, checkExpression } from './ts-types.js';

export const infoName = (model: CommandModel) => model.words.join('_').toUpperCase();
export const builderName = (model: CommandModel) => `${model.method}Args`;
export const decoderName = (model: CommandModel, variant: '' | 'Then' | 'Else' = '') => `decode${model.method[0]!.toUpperCase()}${model.method.slice(1)}${variant}`;

/** The builder's parameters: the method's, except that a rest parameter arrives as an array. */
export function builderParameters(model: CommandModel): Array<{ name: string; type: string; optional: boolean }> {
  const params = model.positionals.map((arg) => ({
    name: arg.name,
    type: arg.multiple ? `ReadonlyArray<${argTsType({ ...arg, multiple: false })}>` : argTsType(arg),
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
            `{ name: '${model.command}', flags: [${model.flags.map((f) => `'${f}'`).join(', ')}], keys: [${model.keyArgs.map((k) => `'${k}'`).join(', ')}], gocache: ${model.gocache.supported}, redis: ${model.redis === false ? 'false' : `'${model.redis}'`} }`,
          ),
      },
    ],
  });

  for (const choice of model.choices) emitChoiceType(file, choice);
  if (model.optionsTypeName) emitOptionsType(file, model);
  emitBuilder(file, model);
  emitDecoders(file, model);
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
              w.writeLine(`${option.name}: ${option.type === 'flag' ? 'true' : argTsType(option)};`);
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
          w.writeLine(`${arg.name}?: ${argTsType(arg)};`);
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
      if (leadingOpen && !arg.optional && !arg.multiple && arg.type !== 'pairs' && arg.type !== 'block') {
        leading.push(checkExpression(arg, arg.name, C));
        continue;
      }
      leadingOpen = false;
      body.push(...positionalStatements(arg, C));
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
        `const args: CommandArg[] = [${leading.join(', ')}];`,
        ...body,
        'return args;',
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

function positionalStatements(arg: ArgModel, C: string): string[] {
  if (arg.type === 'pairs') {
    const [first, second] = arg.of!;
    return [
      `pushPairs(args, ${arg.name}, ${C}, '${arg.name}', (item) => ${checkExpression(first!, 'item', C, `${arg.name}.${first!.name}`)}, (item) => ${checkExpression(second!, 'item', C, `${arg.name}.${second!.name}`)});`,
    ];
  }
  if (arg.type === 'block') {
    const statements = arg.of!.map((sub) => `args.push(${checkExpression(sub, `${arg.name}.${sub.name}`, C, `${arg.name}.${sub.name}`)});`);
    return arg.optional ? [`if (${arg.name} !== undefined) {`, ...statements.map((s) => `  ${s}`), '}'] : statements;
  }
  if (arg.multiple) {
    return [`argNonEmpty(${arg.name}, ${C}, '${arg.name}');`, `for (const item of ${arg.name}) args.push(${checkExpression(arg, 'item', C)});`];
  }
  if (arg.optional) return [`if (${arg.name} !== undefined) args.push(${checkExpression(arg, arg.name, C)});`];
  return [`args.push(${checkExpression(arg, arg.name, C)});`];
}

function optionStatementsFor(option: ArgModel, C: string): string[] {
  const value = `options.${option.name}`;
  const guard = option.gocache ? [] : [`  if (target === 'gocache') throw notOnGoCache(${C}, '${option.name}');`];
  if (option.type === 'flag') {
    return [`if (${checkExpression(option, value, C)}) {`, ...guard, `  args.push('${option.token}');`, '}'];
  }
  let push: string[];
  if (option.type === 'block') {
    push = [`  args.push('${option.token}');`, ...option.of!.map((sub) => `  args.push(${checkExpression(sub, `${value}.${sub.name}`, C, `${option.name}.${sub.name}`)});`)];
  } else if (option.multiple) {
    push = [`  argNonEmpty(${value}, ${C}, '${option.name}');`, `  for (const item of ${value}) args.push('${option.token}', ${checkExpression(option, 'item', C)});`];
  } else if (option.type === 'pairs') {
    const [first, second] = option.of!;
    push = [
      `  args.push('${option.token}');`,
      `  pushPairs(args, ${value}, ${C}, '${option.name}', (item) => ${checkExpression(first!, 'item', C, option.name)}, (item) => ${checkExpression(second!, 'item', C, option.name)});`,
    ];
  } else {
    push = [`  args.push('${option.token}', ${checkExpression(option, value, C)});`];
  }
  return [`if (${value} !== undefined) {`, ...guard, ...push, '}'];
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
