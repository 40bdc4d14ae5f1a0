/**
 * The command surfaces, each command's method written once:
 * - generated/redis-commands.ts: `RedisCommands<S, K>`, every command as a method whose return type
 *   is `Apply<K, Reply>`. The client (K = PromiseKind), its buffers view (S = Buffer), pipelines and
 *   transactions (K = their own kinds) all extend it and supply one `dispatch`. `RedisClientCommands<S>`
 *   adds the cursor iterators, which only a client has.
 * - generated/gocache-commands.ts: `GoCacheCommands<S, K>`, the same methods as GoCache serves them
 *   (types only: the implementation is RedisCommands's, whose builders refuse at run time what GoCache
 *   lacks), and `GoCacheTransactionCommands<S, K>`, what a GoCache transaction may hold.
 */
import { Scope, StructureKind, type ClassDeclarationStructure, type InterfaceDeclarationStructure, type MethodDeclarationStructure, type MethodSignatureStructure, type OptionalKind } from 'ts-morph';
import { byKey } from '../sort.js';
import { gocacheView, type CommandModel, type WhenArg } from '../model.js';
import { replyTypeToTs, type ReplyType } from '../reply-type.js';
import { blockingInfoName, builderName, decoderName, infoName, objectType, typeAlias, type Statement } from './commands.js';
import { familyFile, RUNTIME, type Imports } from './imports.js';
import { methodDoc, overloadDoc, signatures, type Parameter, type Signature } from './signatures.js';

const TYPE_PARAMETERS = [
  { name: 'S', constraint: 'string | Buffer' },
  { name: 'K', constraint: 'Kind' },
];

/** The decoder for the reply case the arguments select: the first case whose arguments are all given, as the overloads are ordered. */
function decodeExpression(model: CommandModel, imports: Imports): string {
  const family = familyFile(model.group);
  const cases = model.reply.cases.map((replyCase, i) => {
    const given = replyCase.when.map(givenExpression);
    return `${given.join(' && ')} ? ${imports.value(family, decoderName(model, i))} : `;
  });
  return `${cases.join('')}${imports.value(family, decoderName(model))}`;
}

/** How a method tells whether an argument is given: a pure-token option as true, another option or a positional present. */
const givenExpression = (when: WhenArg) => (when.kind === 'flag' ? `options?.${when.name} === true` : when.kind === 'option' ? `options?.${when.name} !== undefined` : `${when.name} !== undefined`);

/** The descriptor a call dispatches: for a command that blocks only with an option, the blocking one when it is given. */
function infoExpression(model: CommandModel, imports: Imports): string {
  const family = familyFile(model.group);
  const info = imports.value(family, infoName(model));
  if (model.blocking.when !== 'option') return info;
  return `${givenExpression(model.blocking.option)} ? ${imports.value(family, blockingInfoName(model))} : ${info}`;
}

const applied = (imports: Imports, reply: string) => `${imports.type(RUNTIME.kind, 'Apply')}<K, ${reply}>`;

function overloadStructures(model: CommandModel, sigs: Signature[], imports: Imports, doc: string) {
  return sigs.map((sig, i) => ({ parameters: sig.parameters, returnType: applied(imports, sig.reply), docs: [i === 0 ? doc : overloadDoc(model, sig)] }));
}

const callArguments = (parameters: Parameter[]) => parameters.map((p) => (p.isRestParameter ? `...${p.name}` : p.name)).join(', ');

function classMethods(model: CommandModel, imports: Imports): Array<OptionalKind<MethodDeclarationStructure>> {
  const sigs = signatures(model, imports);
  const implementation = sigs[sigs.length - 1]!;
  const family = familyFile(model.group);
  const builderArgs = ['context', ...model.positionals.filter((p) => p.type !== 'count').map((p) => p.name), ...(model.optionsTypeName ? ['options'] : [])].join(', ');
  const dispatch = `return this.dispatch(${infoExpression(model, imports)}, (context) => ${imports.value(family, builderName(model))}(${builderArgs}), ${decodeExpression(model, imports)});`;
  const doc = methodDoc(model);
  const method = (name: string, statements: string[], docs: string): OptionalKind<MethodDeclarationStructure> => ({
    name,
    scope: Scope.Public,
    overloads: sigs.length > 1 ? overloadStructures(model, sigs, imports, docs) : [],
    docs: sigs.length > 1 ? [] : [docs],
    parameters: implementation.parameters,
    returnType: applied(imports, implementation.reply),
    statements,
  });
  return [
    method(model.method, [dispatch], doc),
    ...model.aliases.map((alias) => method(alias, [`return this.${model.method}(${callArguments(implementation.parameters)});`], `Alias of \`${model.method}\`.\n\n${doc}`)),
  ];
}

function methodSignatures(model: CommandModel, imports: Imports, server: 'Redis' | 'GoCache'): Array<OptionalKind<MethodSignatureStructure>> {
  const sigs = signatures(model, imports);
  const doc = methodDoc(model, server);
  const one = (name: string, docs: string) =>
    sigs.map((sig, i) => ({ name, parameters: sig.parameters, returnType: applied(imports, sig.reply), docs: [i === 0 ? docs : overloadDoc(model, sig)] }));
  return [...one(model.method, doc), ...model.aliases.flatMap((alias) => one(alias, `Alias of \`${model.method}\`.\n\n${doc}`))];
}

/** `for await (const key of client.scanIterator({ match: 'user:*' }))`: follows the cursor to the end. */
function iteratorMethod(model: CommandModel, imports: Imports): OptionalKind<MethodDeclarationStructure> {
  const items = (model.reply.type as Extract<ReplyType, { kind: 'tuple' }>).items[1]!;
  const element =
    items.kind === 'array' || items.kind === 'set'
      ? replyTypeToTs(items.of, 'S', imports)
      : items.kind === 'pairs'
        ? `[${replyTypeToTs(items.first, 'S', imports)}, ${replyTypeToTs(items.second, 'S', imports)}]`
        : 'unknown';
  const implementation = signatures(model, imports).at(-1)!;
  const parameters = implementation.parameters.filter((p) => p.name !== 'cursor');
  const call = implementation.parameters.map((p) => (p.name === 'cursor' ? 'cursor' : p.isRestParameter ? `...${p.name}` : p.name)).join(', ');
  const example = parameters.filter((p) => !p.hasQuestionToken).map((p) => `'${p.name}'`).join(', ');
  return {
    name: model.iterator!,
    scope: Scope.Public,
    isAsync: true,
    isGenerator: true,
    docs: [
      `Iterates with ${model.command} from cursor 0 until the server answers cursor 0 again, yielding each element. ` +
        `As with ${model.command} itself, an element may be yielded more than once if the collection changes meanwhile.\n\n` +
        `@example\n\`\`\`ts\nfor await (const item of client.${model.iterator}(${example})) console.log(item);\n\`\`\``,
    ],
    parameters,
    returnType: `AsyncGenerator<${element}, void, undefined>`,
    statements: ["let cursor = '0';", 'do {', `  const [next, items] = await this.${model.method}(${call});`, '  cursor = String(next);', '  yield* items;', "} while (cursor !== '0');"],
  };
}

/** generated/redis-commands.ts: every command once, for every kind. */
export function redisSurface(models: CommandModel[], imports: Imports): Statement[] {
  const methods = models.filter((m) => !m.core).sort(byKey((m) => m.method));
  const commands: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name: 'RedisCommands',
    isExported: true,
    isAbstract: true,
    typeParameters: TYPE_PARAMETERS.map((p) => ({ ...p, constraint: p.name === 'K' ? imports.type(RUNTIME.kind, 'Kind') : p.constraint })),
    docs: [
      'Every command of the spec as a typed method, written once for every kind `K` of caller: the client\n' +
        "(`Promise<Reply>`), a pipeline or a transaction (the chain, one result longer). Bulk strings decode as `S`.\n" +
        'Extended by the hand-written core, which supplies `dispatch`.',
    ],
    methods: [
      {
        name: 'dispatch',
        scope: Scope.Protected,
        isAbstract: true,
        docs: [
          'Hands one command over: `build` makes its checked arguments (and throws GoCacheArgumentError for a bad one),\n' +
            '`decode` turns its reply into the declared type. The client sends it and returns a promise; a pipeline\n' +
            'queues it and returns itself. Typed `never`: each method states what its kind returns.',
        ],
        parameters: [
          { name: 'info', type: imports.type(RUNTIME.types, 'CommandInfo') },
          { name: 'build', type: imports.type(RUNTIME.types, 'ArgsBuilder') },
          { name: 'decode', type: imports.type(RUNTIME.types, 'Decoder') },
        ],
        returnType: 'never',
      },
      ...methods.flatMap((model) => classMethods(model, imports)),
    ],
  };
  const client: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name: 'RedisClientCommands',
    isExported: true,
    isAbstract: true,
    typeParameters: [{ name: 'S', constraint: 'string | Buffer' }],
    extends: `RedisCommands<S, ${imports.type(RUNTIME.kind, 'PromiseKind')}>`,
    docs: ["The client's commands: every command returns a promise, and cursor commands also have an async iterator."],
    methods: methods.filter((m) => m.iterator).map((model) => iteratorMethod(model, imports)),
  };
  return [commands, client];
}

/** generated/gocache-commands.ts: the commands as GoCache serves them. */
export function gocacheSurface(models: CommandModel[], imports: Imports): Statement[] {
  const views = models
    .filter((m) => !m.core)
    .map((m) => gocacheView(m))
    .filter((m): m is CommandModel => m !== undefined)
    .sort(byKey((m) => m.method));
  const surface: InterfaceDeclarationStructure = {
    kind: StructureKind.Interface,
    name: 'GoCacheCommands',
    isExported: true,
    typeParameters: TYPE_PARAMETERS.map((p) => ({ ...p, constraint: p.name === 'K' ? imports.type(RUNTIME.kind, 'Kind') : p.constraint })),
    docs: [
      "The commands GoCache serves, with GoCache's own options: what a client connected with `server: 'gocache'`\n" +
        '(the default) offers. Calls of other commands and options do not compile; at run time (for callers without\n' +
        'a type checker) they are rejected before anything is sent.',
    ],
    methods: views.flatMap((view) => methodSignatures(view, imports, 'GoCache')),
  };
  const refused = views.filter((v) => v.gocache.multi !== undefined).flatMap((v) => [v.method, ...v.aliases]);
  const split = views.filter((v) => v.gocache.split);
  const single = split.flatMap((view) => {
    const one = { ...view, positionals: view.positionals.map((p) => ({ ...p, multiple: false })) };
    delete (one as Partial<CommandModel>).restParameter;
    return [view.method, ...view.aliases].map((name) => `${name}(${signatures(one, imports)[0]!.parameters.map((p) => `${p.name}: ${p.type}`).join(', ')}): ${applied(imports, signatures(one, imports)[0]!.reply)};`);
  });
  const omitted = [...refused, ...split.flatMap((v) => [v.method, ...v.aliases])].sort().map((n) => `'${n}'`);
  return [
    surface,
    typeAlias(
      "What a GoCache transaction may hold: not the commands GoCache refuses inside MULTI (or that deadlock it there),\nand one element per command where GoCache takes one (its DEL: several keys would be several commands).",
      `GoCacheTransactionCommands<S extends string | Buffer, K extends ${imports.type(RUNTIME.kind, 'Kind')}>`,
      [omitted.length > 0 ? `Omit<GoCacheCommands<S, K>, ${omitted.join(' | ')}>` : 'GoCacheCommands<S, K>', ...(single.length > 0 ? [objectType(single)] : [])].join(' & '),
    ),
  ];
}
