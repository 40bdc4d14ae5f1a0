/**
 * codegen/model.ts on its own, fast: spec objects in, plain models (or the exact SpecError) out. These
 * are the tests `make mutate` runs against the model (tests/codegen/generator.test.ts covers it too,
 * end to end, but takes a minute per run), so each rule of the model has a case that fails when the
 * rule is changed: every field copied, every default, every error with its field and its text.
 */
import { describe, expect, it } from 'vitest';
import { SpecError, type LoadedSpec } from '../../codegen/load.js';
import { buildCommandModel, checkModels, gocacheView, pascal, type CommandModel } from '../../codegen/model.js';
import type { RawArg, RawChoice, RawSpec } from '../../codegen/raw-spec.js';

const FILE = 'spec/string/cmd.yaml';
const loaded: LoadedSpec = { file: FILE, group: 'string', data: null };

/** A minimal valid spec (CMD key -> string | null), with `edit` applied. */
function spec(edit: Partial<RawSpec> = {}): RawSpec {
  return {
    command: 'CMD',
    summary: 'A command.',
    redis: '1.0.0',
    gocache: { supported: false },
    args: [{ name: 'key', type: 'key' }],
    reply: { type: 'string | null' },
    examples: [{ calls: [{ call: ['cmd', 'k'], reply: null }] }],
    ...edit,
  };
}

const build = (edit: Partial<RawSpec> = {}): CommandModel => buildCommandModel(spec(edit), loaded);
const withArgs = (...args: Array<RawArg | RawChoice>): CommandModel => build({ args });

/** The SpecError message building `edit` throws. */
function failure(edit: Partial<RawSpec>): string {
  try {
    build(edit);
  } catch (error) {
    expect(error).toBeInstanceOf(SpecError);
    return (error as Error).message;
  }
  throw new Error('no SpecError');
}
const argsFailure = (...args: Array<RawArg | RawChoice>): string => failure({ args });

describe('pascal and method names', () => {
  it('pascal splits on anything but letters and digits and capitalises each word', () => {
    expect(pascal('with-scores_and 2x')).toBe('WithScoresAnd2x');
    expect(pascal('--a--b--')).toBe('AB');
    expect(pascal('')).toBe('');
  });

  it('the method is the camelCase of the command, subcommand words capitalised; `method` overrides it', () => {
    expect(build({ command: 'CLUSTER NODES' }).method).toBe('clusterNodes');
    expect(build({ command: 'OBJECT FREQ' }).words).toEqual(['OBJECT', 'FREQ']);
    expect(build({ command: 'GETDEL' }).method).toBe('getdel');
    expect(build({ command: 'SORT_RO', method: 'sortRo' }).method).toBe('sortRo');
  });
});

describe('arguments', () => {
  it('copies every field of an argument and fills the defaults', () => {
    const model = withArgs(
      { name: 'key', type: 'key' },
      { name: 'count', type: 'integer', min: 1, max: 9, since: '6.2.0', doc: 'How many.', optional: true },
    );
    expect(model.positionals).toEqual([
      { name: 'key', type: 'key', optional: false, multiple: false, gocache: true },
      { name: 'count', type: 'integer', optional: true, multiple: false, gocache: true, min: 1, max: 9, since: '6.2.0', doc: 'How many.' },
    ]);
    expect(withArgs({ name: 'keys', type: 'key', multiple: true, gocache: false }).positionals[0]).toEqual({ name: 'keys', type: 'key', optional: false, multiple: true, gocache: false });
    expect(withArgs({ name: 'key', type: 'key' }, { name: 'dir', type: 'enum', values: ['LEFT', 'RIGHT'] }).positionals[1]!.values).toEqual(['LEFT', 'RIGHT']);
  });

  it('a token makes an option (optional, in wire order); no type makes a flag', () => {
    const model = withArgs({ name: 'key', type: 'key' }, { name: 'ex', token: 'EX', type: 'integer' }, { name: 'keepttl', token: 'KEEPTTL' });
    expect(model.options).toEqual([
      { name: 'ex', type: 'integer', token: 'EX', optional: true, multiple: false, gocache: true },
      { name: 'keepttl', type: 'flag', token: 'KEEPTTL', optional: true, multiple: false, gocache: true },
    ]);
    expect(model.wire.map((w) => w.kind)).toEqual(['positional', 'option', 'option']);
    expect(model.optionsTypeName).toBe('CmdOptions');
    expect(model.restParameter).toBeUndefined();
    expect(withArgs({ name: 'key', type: 'key' }).optionsTypeName).toBeUndefined();
  });

  it('a required token argument is a positional that keeps its token', () => {
    const model = withArgs({ name: 'streams', token: 'STREAMS', type: 'pairs', required: true, columns: true, of: [{ name: 'key', type: 'key' }, { name: 'id', type: 'string' }] });
    expect(model.options).toEqual([]);
    expect(model.positionals).toHaveLength(1);
    expect(model.positionals[0]).toMatchObject({ name: 'streams', token: 'STREAMS', optional: false, columns: true });
    expect(model.positionals[0]!.of!.map((p) => p.name)).toEqual(['key', 'id']);
    expect(model.keyArgs).toEqual(['streams.key']);
  });

  it('blocks and pairs keep their parts, checked with their own paths', () => {
    const model = withArgs({ name: 'key', type: 'key' }, { name: 'limit', token: 'LIMIT', type: 'block', of: [{ name: 'offset', type: 'integer' }, { name: 'count', type: 'integer', optional: true }] });
    expect(model.options[0]!.of).toEqual([
      { name: 'offset', type: 'integer', optional: false, multiple: false, gocache: true },
      { name: 'count', type: 'integer', optional: true, multiple: false, gocache: true },
    ]);
    expect(argsFailure({ name: 'b', type: 'block', of: [{ name: 'x', type: 'string', min: 1 }] })).toBe(`${FILE}: args[0].of[0].min: min and max apply to integer and double arguments only`);
  });

  it.each([
    [{ name: 'p', type: 'pairs', of: [{ name: 'a', type: 'string' }] } as RawArg, 'args[0].of: a pairs argument has exactly two parts'],
    [{ name: 'p', type: 'pairs' } as RawArg, 'args[0].of: a pairs argument has exactly two parts'],
    [{ name: 's', type: 'string', max: 3 } as RawArg, 'args[0].min: min and max apply to integer and double arguments only'],
    [{ name: 'd', type: 'double', min: 0, max: 1 } as RawArg, null],
    [{ name: 'f', token: 'F', multiple: true } as RawArg, 'args[0].multiple: a pure token cannot repeat'],
    [{ name: 'c', type: 'string', columns: true } as RawArg, 'args[0].columns: columns applies to pairs arguments only'],
    [{ name: 'r', type: 'string', required: true } as RawArg, 'args[0].required: required is for an argument with a token (one without a token is a positional parameter already)'],
    [{ name: 'r', token: 'R', required: true } as RawArg, 'args[0].required: a pure token that is always sent is part of the command, not an argument'],
    [{ name: 'r', token: 'R', type: 'string', required: true, optional: true } as RawArg, 'args[0].required: an argument cannot be both required and optional'],
    [{ name: 'n', type: 'string' } as RawArg, null],
    [{ name: 'x' } as RawArg, 'args[0].type: an argument without a token needs a type'],
  ])('argument %j: %s', (arg, problem) => {
    if (problem === null) expect(withArgs(arg).positionals).toHaveLength(1);
    else expect(argsFailure(arg)).toBe(`${FILE}: ${problem}`);
  });

  it.each([
    [{ name: 'n', type: 'count', countOf: 'keys', token: 'N' } as RawArg],
    [{ name: 'n', type: 'count', countOf: 'keys', optional: true } as RawArg],
    [{ name: 'n', type: 'count', countOf: 'keys', multiple: true } as RawArg],
  ])('a count argument is a plain positional: %j', (count) => {
    expect(argsFailure(count, { name: 'keys', type: 'key', multiple: true })).toBe(`${FILE}: args[0]: a count argument is a plain positional one`);
  });

  it('a count names a variadic positional; the rest parameter is the last variadic one without options', () => {
    const model = withArgs({ name: 'numkeys', type: 'count', countOf: 'keys' }, { name: 'keys', type: 'key', multiple: true });
    expect(model.positionals.map((p) => [p.name, p.countOf])).toEqual([
      ['numkeys', 'keys'],
      ['keys', undefined],
    ]);
    expect(model.restParameter).toBe('keys');
    expect(argsFailure({ name: 'key', type: 'key' }, { name: 'numkeys', type: 'count', countOf: 'key' })).toBe(`${FILE}: args[1].countOf: must name a variadic argument of this command (index 1)`);
    expect(argsFailure({ name: 'numkeys', type: 'count', countOf: 'nothing' }, { name: 'keys', type: 'key', multiple: true })).toBe(`${FILE}: args[0].countOf: must name a variadic argument of this command (index 0)`);
    expect(withArgs({ name: 'keys', type: 'key', multiple: true }, { name: 'count', token: 'COUNT', type: 'integer' }).restParameter).toBeUndefined();
    expect(withArgs({ name: 'keys', type: 'key', multiple: true }, { name: 'where', type: 'string' }).restParameter).toBeUndefined();
  });

  it('a required positional cannot follow an optional one (a count does not count)', () => {
    expect(argsFailure({ name: 'a', type: 'string', optional: true }, { name: 'b', type: 'string' })).toBe(`${FILE}: args[1]: a required argument cannot follow an optional one`);
    expect(withArgs({ name: 'a', type: 'string', optional: true }, { name: 'b', type: 'string', optional: true }).positionals.map((p) => p.optional)).toEqual([true, true]);
    expect(withArgs({ name: 'keys', type: 'key', multiple: true, optional: true }, { name: 'n', type: 'count', countOf: 'keys' }).positionals).toHaveLength(2);
    expect(withArgs({ name: 'n', type: 'count', countOf: 'keys' }, { name: 'keys', type: 'key', multiple: true }, { name: 'a', type: 'string' }).positionals).toHaveLength(3);
  });

  it('names are unique and none is reserved by the generated code', () => {
    expect(argsFailure({ name: 'key', type: 'key' }, { name: 'key', token: 'K', type: 'string' })).toBe(`${FILE}: args[1].name: the name "key" is used twice`);
    for (const reserved of ['target', 'options', 'wire', 'item', 'error', 'next', 'items']) {
      expect(argsFailure({ name: reserved, type: 'string' })).toBe(`${FILE}: args[0].name: "${reserved}" is reserved by the generated code; choose another name`);
    }
    expect(argsFailure({ oneOf: { name: 'key', of: [{ name: 'a', token: 'A' }, { name: 'b', token: 'B' }] } }, { name: 'key', type: 'key' })).toBe(`${FILE}: args[1].name: the name "key" is used twice`);
    expect(argsFailure({ name: 'a', type: 'key' }, { oneOf: { name: 'c', of: [{ name: 'a', token: 'A' }, { name: 'b', token: 'B' }] } })).toBe(`${FILE}: args[1].oneOf.of[0].name: the name "a" is used twice`);
    expect(argsFailure({ oneOf: { name: 'options', of: [{ name: 'a', token: 'A' }, { name: 'b', token: 'B' }] } })).toBe(`${FILE}: args[0].oneOf.name: "options" is reserved by the generated code; choose another name`);
  });
});

describe('choices (oneOf)', () => {
  it('a choice holds optional options, named after the method; since and doc are kept and inherited', () => {
    const model = withArgs({ name: 'key', type: 'key' }, { oneOf: { name: 'condition', since: '2.6.12', doc: 'When.', of: [{ name: 'nx', token: 'NX' }, { name: 'xx', token: 'XX', since: '3.0.0' }] } });
    expect(model.choices).toEqual([
      {
        name: 'condition',
        typeName: 'CmdCondition',
        required: false,
        since: '2.6.12',
        doc: 'When.',
        options: [
          { name: 'nx', type: 'flag', token: 'NX', optional: true, multiple: false, gocache: true, since: '2.6.12' },
          { name: 'xx', type: 'flag', token: 'XX', optional: true, multiple: false, gocache: true, since: '3.0.0' },
        ],
      },
    ]);
    expect(model.options.map((o) => o.name)).toEqual(['nx', 'xx']);
    expect(model.wire.map((w) => w.kind)).toEqual(['positional', 'choice']);
    expect(model.optionsRequired).toBe(false);
    const plain = withArgs({ oneOf: { name: 'c', of: [{ name: 'a', token: 'A' }, { name: 'b', token: 'B' }] } }).choices[0]!;
    expect('since' in plain || 'doc' in plain).toBe(false);
    expect(plain.options[0]!.since).toBeUndefined();
  });

  it('a required choice makes the options required, which no optional positional may precede', () => {
    const model = withArgs({ name: 'key', type: 'key' }, { oneOf: { name: 'from', required: true, of: [{ name: 'member', token: 'FROMMEMBER', type: 'string' }, { name: 'here', token: 'HERE' }] } });
    expect(model.choices[0]!.required).toBe(true);
    expect(model.optionsRequired).toBe(true);
    expect(argsFailure({ name: 'key', type: 'key', optional: true }, { oneOf: { name: 'from', required: true, of: [{ name: 'a', token: 'A' }, { name: 'b', token: 'B' }] } })).toBe(
      `${FILE}: args: a required oneOf makes options required, so no positional may be optional`,
    );
  });

  it('the keys of choices and pairs are collected with their paths', () => {
    const model = withArgs(
      { name: 'key', type: 'key' },
      { name: 'entries', type: 'pairs', of: [{ name: 'key', type: 'key' }, { name: 'value', type: 'value' }] },
      { oneOf: { name: 'output', of: [{ name: 'store', token: 'STORE', type: 'key' }, { name: 'show', token: 'SHOW' }] } },
    );
    expect(model.keyArgs).toEqual(['key', 'entries.key', 'store']);
    expect(withArgs({ name: 'field', type: 'string' }).keyArgs).toEqual([]);
  });
});

describe('replies', () => {
  it('parses the reply type; cases resolve their arguments to a flag, an option or the last optional positional', () => {
    const model = build({
      args: [{ name: 'key', type: 'key' }, { name: 'count', type: 'integer', optional: true }, { name: 'withscores', token: 'WITHSCORES' }, { name: 'limit', token: 'LIMIT', type: 'integer' }],
      reply: { type: 'string | null', doc: 'The value.', cases: [{ when: ['count', 'withscores'], type: 'pairs<string, double>' }, { when: ['limit'], type: 'array<string>' }] },
    });
    expect(model.reply.type).toEqual({ kind: 'union', of: [{ kind: 'string' }, { kind: 'null' }] });
    expect(model.reply.doc).toBe('The value.');
    expect(model.reply.cases.map((c) => c.when)).toEqual([
      [
        { name: 'count', kind: 'positional' },
        { name: 'withscores', kind: 'flag' },
      ],
      [{ name: 'limit', kind: 'option' }],
    ]);
    expect(model.reply.cases[1]!.type).toEqual({ kind: 'array', of: { kind: 'string' } });
    expect(build().reply.cases).toEqual([]);
    expect('doc' in build().reply).toBe(false);
  });

  it.each([
    [{ type: 'string', cases: [{ when: ['nx'], type: 'string' }] }, [{ name: 'key', type: 'key' }, { oneOf: { name: 'c', of: [{ name: 'nx', token: 'NX' }, { name: 'xx', token: 'XX' }] } }], 'reply.cases[0].when[0]: an option of a oneOf cannot decide the reply'],
    [{ type: 'string', cases: [{ when: ['key'], type: 'string' }] }, [{ name: 'key', type: 'key' }], 'reply.cases[0].when[0]: must name an option or the last, optional, positional argument (options: none)'],
    [{ type: 'string', cases: [{ when: ['nope'], type: 'string' }] }, [{ name: 'key', type: 'key' }, { name: 'ex', token: 'EX', type: 'integer' }], 'reply.cases[0].when[0]: must name an option or the last, optional, positional argument (options: ex)'],
    [{ type: 'string', cases: [{ when: ['a'], type: 'string' }] }, [{ name: 'a', type: 'string', optional: true }, { name: 'b', type: 'string', optional: true }], 'reply.cases[0].when[0]: must name an option or the last, optional, positional argument (options: none)'],
    [{ type: 'string', cases: [{ when: ['ks'], type: 'string' }] }, [{ name: 'ks', type: 'key', optional: true, multiple: true }], 'reply.cases[0].when[0]: must name an option or the last, optional, positional argument (options: none)'],
    [{ type: 'array<', cases: [] }, [{ name: 'key', type: 'key' }], null],
    [{ type: 'string', cases: [{ when: ['ex'], type: 'array<' }] }, [{ name: 'key', type: 'key' }, { name: 'ex', token: 'EX', type: 'integer' }], null],
    [{ type: 'string', parse: 'parseInfo', as: 'Info', cases: [{ when: ['ex'], type: 'string' }] }, [{ name: 'key', type: 'key' }, { name: 'ex', token: 'EX', type: 'integer' }], 'reply.parse: a parsed reply has no cases'],
  ])('reply %j is refused', (reply, args, problem) => {
    const message = failure({ reply: reply as RawSpec['reply'], args: args as RawArg[] });
    if (problem !== null) expect(message).toBe(`${FILE}: ${problem}`);
    else expect(message).toMatch(reply.type === 'array<' ? /^spec\/string\/cmd\.yaml: reply\.type: / : /^spec\/string\/cmd\.yaml: reply\.cases\[0\]\.type: /);
  });

  it('a parsed reply names its parser and type', () => {
    expect(build({ reply: { type: 'string', parse: 'parseClusterNodes', as: 'ClusterNode[]' } }).reply.parse).toEqual({ name: 'parseClusterNodes', as: 'ClusterNode[]' });
    expect(build().reply.parse).toBeUndefined();
  });

  it('raw bytes are a whole reply (or with null), in every case, never parsed', () => {
    expect(build({ reply: { type: 'bytes | null' } }).replyBytes).toBe(true);
    expect(build({ reply: { type: 'bytes' } }).replyBytes).toBe(true);
    expect(build().replyBytes).toBe(false);
    const whole = `${FILE}: reply.type: bytes is a whole reply, alone or with null (the client reads the whole reply as bytes)`;
    expect(failure({ reply: { type: 'bytes | string' } })).toBe(whole);
    expect(failure({ reply: { type: 'array<bytes>' } })).toBe(whole);
    expect(failure({ reply: { type: 'bytes | array<bytes>' } })).toBe(whole);
    expect(failure({ args: [{ name: 'key', type: 'key' }, { name: 'ex', token: 'EX', type: 'integer' }], reply: { type: 'bytes', cases: [{ when: ['ex'], type: 'string' }] } })).toBe(`${FILE}: reply: a reply of raw bytes is bytes in every case, and not parsed`);
    expect(failure({ reply: { type: 'bytes', parse: 'parseInfo', as: 'Info' } })).toBe(`${FILE}: reply: a reply of raw bytes is bytes in every case, and not parsed`);
    expect(failure({ args: [{ name: 'key', type: 'key' }, { name: 'ex', token: 'EX', type: 'integer' }], reply: { type: 'string', cases: [{ when: ['ex'], type: 'array<bytes>' }] } })).toBe(
      `${FILE}: reply.cases[0].type: bytes is a whole reply, alone or with null (the client reads the whole reply as bytes)`,
    );
  });
});

describe('the rest of a command', () => {
  it('copies what the spec says and fills the defaults', () => {
    const model = build({ command: 'CMD SUB', aliases: ['alias'], flags: ['write', 'fast'], core: { api: 'client.x()' }, deprecated: { since: '6.2.0', replacement: 'use Y' }, drift: { 'args.key': 'why' } });
    expect(model).toMatchObject({ file: FILE, group: 'string', command: 'CMD SUB', words: ['CMD', 'SUB'], method: 'cmdSub', aliases: ['alias'], summary: 'A command.', redis: '1.0.0', flags: ['fast', 'write'], core: { api: 'client.x()' }, deprecated: { since: '6.2.0', replacement: 'use Y' }, drift: { 'args.key': 'why' } });
    const plain = build();
    expect([plain.aliases, plain.flags, plain.drift]).toEqual([[], [], {}]);
    expect('core' in plain || 'deprecated' in plain || 'iterator' in plain).toBe(false);
  });

  it('examples: steps keep reply (null too), check and error; the server defaults to redis', () => {
    const model = build({
      examples: [
        { calls: [{ call: ['cmd', 'k'], reply: null }, { call: ['cmd', 'k'], check: 'nonEmpty' }, { call: ['cmd', 'k', 1], error: 'ERR x' }] },
        { server: 'cluster', calls: [{ call: ['cmd'] }] },
      ],
    });
    expect(model.examples).toEqual([
      {
        server: 'redis',
        steps: [
          { method: 'cmd', args: ['k'], reply: null },
          { method: 'cmd', args: ['k'], check: 'nonEmpty' },
          { method: 'cmd', args: ['k', 1], error: 'ERR x' },
        ],
      },
      { server: 'cluster', steps: [{ method: 'cmd', args: [] }] },
    ]);
  });

  it('blocking: always with the flag, never without, or when an option is given', () => {
    expect(build({ flags: ['blocking'] }).blocking).toEqual({ when: 'always' });
    expect(build().blocking).toEqual({ when: 'never' });
    const args: RawArg[] = [{ name: 'key', type: 'key' }, { name: 'block', token: 'BLOCK', type: 'integer' }, { name: 'nowait', token: 'NOWAIT' }];
    expect(build({ flags: ['blocking'], blockingWhen: 'block', args }).blocking).toEqual({ when: 'option', option: { name: 'block', kind: 'option' } });
    expect(build({ flags: ['blocking'], blockingWhen: 'nowait', args }).blocking).toEqual({ when: 'option', option: { name: 'nowait', kind: 'flag' } });
    expect(failure({ blockingWhen: 'block', args })).toBe(`${FILE}: blockingWhen: is for a command with the blocking flag`);
    expect(failure({ flags: ['blocking'], blockingWhen: 'key', args })).toBe(`${FILE}: blockingWhen: must name an option (options: block, nowait)`);
    expect(failure({ flags: ['blocking'], blockingWhen: 'x' })).toBe(`${FILE}: blockingWhen: must name an option (options: none)`);
  });

  it('GoCache: its own reply, a split of a lone variadic argument, and a command someone serves', () => {
    const model = build({ gocache: { supported: true, note: 'n', multi: false, reply: "'OK'" } });
    expect(model.gocache).toEqual({ supported: true, note: 'n', multi: false, reply: { kind: 'literal', value: 'OK' } });
    expect(build({ gocache: { supported: true } }).gocache).toEqual({ supported: true });
    expect(build({ gocache: { supported: true, split: 'sum' }, args: [{ name: 'keys', type: 'key', multiple: true }] }).gocache.split).toBe('sum');
    const split = `${FILE}: gocache.split: needs a command whose only argument is a variadic one`;
    expect(failure({ gocache: { supported: true, split: 'sum' } })).toBe(split);
    expect(failure({ gocache: { supported: true, split: 'sum' }, args: [{ name: 'keys', type: 'key', multiple: true }, { name: 'x', token: 'X' }] })).toBe(split);
    expect(failure({ gocache: { supported: true, split: 'sum' }, args: [{ name: 'a', type: 'key' }, { name: 'keys', type: 'key', multiple: true }] })).toBe(split);
    expect(failure({ redis: false })).toBe(`${FILE}: gocache: a command served by neither Redis nor GoCache`);
    expect(build({ redis: false, gocache: { supported: true } }).redis).toBe(false);
    expect(failure({ gocache: { supported: true, reply: 'array<' } })).toMatch(/^spec\/string\/cmd\.yaml: gocache\.reply\.type: /);
    expect(failure({ gocache: { supported: true, reply: 'string' }, reply: { type: 'bytes' } })).toBe(`${FILE}: gocache.reply: is raw bytes exactly when the reply is`);
    expect(build({ gocache: { supported: true, reply: 'bytes' }, reply: { type: 'bytes' } }).gocache.reply).toEqual({ kind: 'bytes' });
  });

  it('an iterator needs a cursor reply and a cursor argument', () => {
    const args: RawArg[] = [{ name: 'cursor', type: 'string' }];
    const cursorReply = { type: 'tuple<string, array<string>>' };
    expect(build({ iterator: { name: 'cmdIterator' }, args, reply: cursorReply }).iterator).toBe('cmdIterator');
    const needsReply = `${FILE}: iterator: needs a reply of tuple<string, array<T>> or tuple<string, pairs<A, B>> (cursor, items)`;
    expect(failure({ iterator: { name: 'i' }, args, reply: { type: 'array<string>' } })).toBe(needsReply);
    expect(failure({ iterator: { name: 'i' }, args, reply: { type: 'tuple<string, array<string>, string>' } })).toBe(needsReply);
    expect(failure({ iterator: { name: 'i' }, args, reply: { type: 'tuple<integer, array<string>>' } })).toBe(needsReply);
    expect(failure({ iterator: { name: 'i' }, args: [...args, { name: 'count', token: 'COUNT', type: 'integer' }], reply: { ...cursorReply, cases: [{ when: ['count'], type: 'tuple<string, array<string>>' }] } })).toBe(needsReply);
    expect(failure({ iterator: { name: 'i' }, args, reply: { ...cursorReply, parse: 'parseX', as: 'X' } })).toBe(needsReply);
    expect(failure({ iterator: { name: 'i' }, args: [{ name: 'start', type: 'string' }], reply: cursorReply })).toBe(`${FILE}: iterator: needs a positional argument named cursor`);
  });
});

describe('checkModels', () => {
  const named = (command: string, edit: Partial<RawSpec> = {}) =>
    buildCommandModel(spec({ command, examples: [{ calls: [{ call: [command.toLowerCase()] }] }], ...edit }), { ...loaded, file: `spec/string/${command.toLowerCase()}.yaml` });

  it('accepts distinct names and examples that call existing methods or sendCommand', () => {
    const models = [named('ONE', { examples: [{ calls: [{ call: ['two', 'k'] }, { call: ['sendCommand', ['X']] }] }] }), named('TWO', { aliases: ['deux'] })];
    expect(() => checkModels(models)).not.toThrow();
  });

  it('refuses a name used twice, naming the field: command, alias or iterator', () => {
    const cursor = { args: [{ name: 'cursor', type: 'string' } as RawArg], reply: { type: 'tuple<string, array<string>>' } };
    expect(() => checkModels([named('ONE'), named('TWO', { method: 'one' })])).toThrow('spec/string/two.yaml: command: method name "one" is already used by spec/string/one.yaml');
    expect(() => checkModels([named('ONE'), named('TWO', { aliases: ['one'] })])).toThrow('spec/string/two.yaml: aliases: method name "one" is already used by spec/string/one.yaml');
    expect(() => checkModels([named('ONE'), named('TWO', { ...cursor, iterator: { name: 'one' } })])).toThrow('spec/string/two.yaml: iterator.name: method name "one" is already used by spec/string/one.yaml');
    expect(() => checkModels([named('ONE', { ...cursor, iterator: { name: 'oneIterator' } }), named('TWO', { aliases: ['oneIterator'] })])).toThrow('spec/string/two.yaml: aliases: method name "oneIterator" is already used by spec/string/one.yaml');
  });

  it('refuses an example calling no method, or a reply spelled with raw bytes', () => {
    expect(() => checkModels([named('ONE', { examples: [{ calls: [{ call: ['one'] }, { call: ['nope'] }] }] })])).toThrow('spec/string/one.yaml: examples[0].calls[1].call[0]: no command has the method "nope"');
    const bytes = (reply: unknown) => () => checkModels([named('ONE', { examples: [{ calls: [{ call: ['one'], reply: null }] }, { calls: [{ call: ['one'], reply }] }] })]);
    const text = 'spec/string/one.yaml: examples[1].calls[0].reply: !!binary is for arguments; a reply is compared as text';
    expect(bytes(Buffer.from('x'))).toThrow(text);
    expect(bytes([['a', new Uint8Array([1])]])).toThrow(text);
    expect(bytes({ field: Buffer.from('x') })).toThrow(text);
    expect(bytes({ field: ['a', { b: 'c' }] })).not.toThrow();
    expect(bytes(null)).not.toThrow();
  });
});

describe('gocacheView', () => {
  const setLike = (): CommandModel =>
    build({
      command: 'SET',
      gocache: { supported: true },
      args: [
        { name: 'key', type: 'key' },
        { name: 'value', type: 'value' },
        { oneOf: { name: 'condition', of: [{ name: 'nx', token: 'NX', gocache: false }, { name: 'xx', token: 'XX', gocache: false }] } },
        { oneOf: { name: 'expiration', of: [{ name: 'ex', token: 'EX', type: 'integer' }, { name: 'px', token: 'PX', type: 'integer', gocache: false }] } },
        { name: 'get', token: 'GET', gocache: false },
      ],
      reply: { type: "'OK' | null", cases: [{ when: ['get'], type: 'string | null' }] },
    });

  it('is undefined for a command GoCache does not serve, and the model itself when nothing differs', () => {
    expect(gocacheView(build())).toBeUndefined();
    const same = build({ gocache: { supported: true } });
    expect(gocacheView(same)).toBe(same);
  });

  it('drops what GoCache does not accept: options, emptied choices, their wire items and reply cases', () => {
    const model = setLike();
    const view = gocacheView(model)!;
    expect(view.options.map((o) => o.name)).toEqual(['ex']);
    expect(view.positionals.map((p) => p.name)).toEqual(['key', 'value']);
    expect(view.choices).toEqual([{ ...model.choices[1]!, typeName: 'GoCacheSetExpiration', options: [model.options[2]!] }]);
    expect(view.wire.map((w) => (w.kind === 'choice' ? `choice ${w.choice.typeName}` : `${w.kind} ${w.arg.name}`))).toEqual(['positional key', 'positional value', 'choice GoCacheSetExpiration']);
    expect(view.reply.cases).toEqual([]);
    expect(view.reply.type).toEqual(model.reply.type);
    expect(view.optionsTypeName).toBe('GoCacheSetOptions');
    expect(model.optionsTypeName).toBe('SetOptions');
    expect(model.reply.cases).toHaveLength(1);
  });

  it('keeps the cases GoCache can decide, and takes its own reply type when the spec gives one', () => {
    const model = build({
      gocache: { supported: true },
      args: [{ name: 'key', type: 'key' }, { name: 'ws', token: 'WS' }, { name: 'px', token: 'PX', type: 'integer', gocache: false }],
      reply: { type: 'string', cases: [{ when: ['ws'], type: 'array<string>' }, { when: ['ws', 'px'], type: 'integer' }] },
    });
    expect(gocacheView(model)!.reply.cases.map((c) => c.when.map((w) => w.name))).toEqual([['ws']]);
    const own = gocacheView(build({ gocache: { supported: true, reply: "'OK'" } }))!;
    expect(own.reply).toEqual({ type: { kind: 'literal', value: 'OK' }, cases: [] });
    // Only the reply differs: the option type names keep Redis's.
    const sameArgs = gocacheView(build({ gocache: { supported: true, reply: "'OK'" }, args: [{ name: 'key', type: 'key' }, { oneOf: { name: 'c', of: [{ name: 'a', token: 'A' }, { name: 'b', token: 'B' }] } }] }))!;
    expect(sameArgs.optionsTypeName).toBe('CmdOptions');
    expect(sameArgs.choices[0]!.typeName).toBe('CmdC');
  });

  it('recomputes the rest parameter and drops the options type when no option is left', () => {
    const model = build({ gocache: { supported: true }, args: [{ name: 'keys', type: 'key', multiple: true }, { name: 'x', token: 'X', gocache: false }] });
    expect(model.restParameter).toBeUndefined();
    const view = gocacheView(model)!;
    expect(view.restParameter).toBe('keys');
    expect('optionsTypeName' in view).toBe(false);
    const rest = gocacheView(build({ gocache: { supported: true }, args: [{ name: 'keys', type: 'key', multiple: true, gocache: false }, { name: 'x', token: 'X' }] }))!;
    expect('restParameter' in rest).toBe(false);
    expect(rest.optionsTypeName).toBe('GoCacheCmdOptions');
    const required = gocacheView(build({ gocache: { supported: true }, args: [{ name: 'key', type: 'key' }, { oneOf: { name: 'from', required: true, of: [{ name: 'a', token: 'A', gocache: false }, { name: 'b', token: 'B', gocache: false }] } }, { name: 'x', token: 'X' }] }))!;
    expect(required.optionsRequired).toBe(false);
    expect(required.choices).toEqual([]);
  });
});

describe('rules added with key prefixes and the cluster client', () => {
  it('raw bytes nested in any reply form are refused, each form walked', () => {
    const whole = `${FILE}: reply.type: bytes is a whole reply, alone or with null (the client reads the whole reply as bytes)`;
    for (const type of ['set<bytes>', 'map<string, bytes>', 'pairs<string, bytes>', 'pairs<bytes, string>', 'tuple<string, bytes>', 'tuple<id: string, data: bytes>', 'record<len: integer, data: bytes>', 'string | array<bytes>']) {
      expect(failure({ reply: { type } })).toBe(whole);
    }
    expect(build({ reply: { type: 'map<string, string>' } }).replyBytes).toBe(false);
  });

  it('keyPattern marks a string argument, prefixed: false a key one; each on the wrong type is refused', () => {
    expect(withArgs({ name: 'key', type: 'key' }, { name: 'match', token: 'MATCH', type: 'string', keyPattern: true }).options[0]!.keyPattern).toBe(true);
    expect(withArgs({ name: 'key', type: 'key' }, { name: 'match', token: 'MATCH', type: 'string' }).options[0]!.keyPattern).toBeUndefined();
    expect(argsFailure({ name: 'key', type: 'key', keyPattern: true })).toBe(`${FILE}: args[0].keyPattern: keyPattern applies to string arguments only`);
    expect(withArgs({ name: 'channel', type: 'key', prefixed: false }).positionals[0]!.unprefixed).toBe(true);
    expect(withArgs({ name: 'key', type: 'key' }).positionals[0]!.unprefixed).toBeUndefined();
    expect(argsFailure({ name: 'channel', type: 'string', prefixed: false })).toBe(`${FILE}: args[0].prefixed: prefixed applies to key arguments only`);
  });

  it('reply.keys is copied as written', () => {
    expect(build({ reply: { type: 'array<string>', keys: 'each' } }).reply.keys).toBe('each');
    expect(build().reply.keys).toBeUndefined();
  });

  it('cluster routing says one thing, fitting the command: split needs keys, everyNode and channel none', () => {
    expect(build({ cluster: { split: 'sum' } }).cluster).toEqual({ split: 'sum' });
    expect(build({ args: [], cluster: { everyNode: 'sum' } }).cluster).toEqual({ everyNode: 'sum' });
    expect(build({ args: [{ name: 'channel', type: 'string' }], cluster: { channel: true } }).cluster).toEqual({ channel: true });
    expect(build({ cluster: { refuse: 'no' } }).cluster).toEqual({ refuse: 'no' });
    expect(build().cluster).toBeUndefined();
    expect('cluster' in build()).toBe(false);
    expect(failure({ cluster: {} })).toBe(`${FILE}: cluster: says one thing: split, everyNode, refuse or channel`);
    expect(failure({ cluster: { split: 'sum', refuse: 'no' } })).toBe(`${FILE}: cluster: says one thing: split, everyNode, refuse or channel`);
    expect(failure({ args: [], cluster: { split: 'sum' } })).toBe(`${FILE}: cluster.split: is for a command with keys`);
    expect(failure({ cluster: { everyNode: 'sum' } })).toBe(`${FILE}: cluster.everyNode: is for a command without keys`);
    const channel = `${FILE}: cluster.channel: is for a keyless command whose first argument is its channel`;
    expect(failure({ cluster: { channel: true } })).toBe(channel);
    expect(failure({ args: [], cluster: { channel: true } })).toBe(channel);
    expect(failure({ args: [{ name: 'n', type: 'integer' }], cluster: { channel: true } })).toBe(channel);
    // A key inside a choice or a block counts as a key.
    expect(failure({ args: [{ oneOf: { name: 'from', of: [{ name: 'member', token: 'FROMMEMBER', type: 'key' }] } }], cluster: { everyNode: 'ok' } } as Partial<RawSpec>)).toBe(`${FILE}: cluster.everyNode: is for a command without keys`);
    expect(failure({ args: [{ name: 'pair', type: 'block', multiple: true, of: [{ name: 'key', type: 'key' }, { name: 'value', type: 'value' }] }], cluster: { everyNode: 'ok' } } as Partial<RawSpec>)).toBe(`${FILE}: cluster.everyNode: is for a command without keys`);
  });
});
