/**
 * tools/spec-drift.ts: the comparison on hand-made COMMAND DOCS / COMMAND INFO objects (table-driven),
 * drift notes (accepted, stale), the RESP2 parsers, the coverage of the server's commands by spec/ and
 * spec/left-out.yaml (on hand-made lists, and the committed list against a real redis-server).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedSpec } from '../../codegen/load.js';
import { buildCommandModel, type CommandModel } from '../../codegen/model.js';
import { createValidator } from '../../codegen/validate.js';
import { listSpecFiles, loadSpecFile } from '../../codegen/load.js';
import { redisCommand, startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import {
  applyDrift,
  checkCommand,
  checkCoverage,
  compareCommand,
  containerNames,
  coverageProblems,
  formatCoverage,
  loadLeftOut,
  parseLeftOut,
  serverListName,
  driftKeyCovers,
  formatFinding,
  ourKeySpecs,
  parseDocsReply,
  parseInfoReply,
  selectCommand,
  type CommandDocs,
  type CommandInfo,
  type DocArg,
  type KeySpec,
  type LeftOut,
  type ServerCommand,
} from '../../tools/spec-drift.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const validate = createValidator(join(root, 'spec', 'schema.json'));
const VERSION = { serverVersion: '7.0.15' };

/** A spec as a file would hold it (validated against spec/schema.json), with defaults for what the comparison ignores. */
function model(spec: Record<string, unknown>): CommandModel {
  const data = {
    summary: 'A command for the spec-drift tests.',
    redis: '1.2.0',
    gocache: { supported: false },
    flags: ['readonly'],
    reply: { type: 'any' },
    examples: [{ calls: [{ call: ['zrange'], check: 'any' }] }],
    ...spec,
  };
  const loaded: LoadedSpec = { file: 'spec/test/cmd.yaml', group: 'test', data };
  return buildCommandModel(validate(loaded), loaded);
}

const range1: KeySpec = { begin_search: { type: 'index', index: 1 }, find_keys: { type: 'range', lastkey: 0, keystep: 1, limit: 0 } };
const info = (flags: string[], keySpecs: KeySpec[] = [range1], name = 'cmd'): CommandInfo => ({ name, flags, key_specs: keySpecs });

// ZRANGE as redis-server 7.0 describes it.
const zrangeDocs: DocArg[] = [
  { name: 'key', type: 'key', key_spec_index: 0 },
  { name: 'start', type: 'string' },
  { name: 'stop', type: 'string' },
  {
    name: 'sortby',
    type: 'oneof',
    since: '6.2.0',
    flags: ['optional'],
    arguments: [
      { name: 'byscore', type: 'pure-token', token: 'BYSCORE' },
      { name: 'bylex', type: 'pure-token', token: 'BYLEX' },
    ],
  },
  { name: 'rev', type: 'pure-token', token: 'REV', since: '6.2.0', flags: ['optional'] },
  {
    name: 'offset_count',
    type: 'block',
    token: 'LIMIT',
    since: '6.2.0',
    flags: ['optional'],
    arguments: [
      { name: 'offset', type: 'integer' },
      { name: 'count', type: 'integer' },
    ],
  },
  { name: 'withscores', type: 'pure-token', token: 'WITHSCORES', flags: ['optional'] },
];

type Arg = Record<string, unknown>;
const zrangeArgs = (): Arg[] => [
  { name: 'key', type: 'key' },
  { name: 'start', type: 'value' },
  { name: 'stop', type: 'value' },
  { oneOf: { name: 'sortby', since: '6.2.0', of: [{ name: 'byscore', token: 'BYSCORE' }, { name: 'bylex', token: 'BYLEX' }] } },
  { name: 'rev', token: 'REV', since: '6.2.0' },
  { name: 'limit', token: 'LIMIT', type: 'block', since: '6.2.0', of: [{ name: 'offset', type: 'integer' }, { name: 'count', type: 'integer' }] },
  { name: 'withscores', token: 'WITHSCORES' },
];
const zrangeServer = (): ServerCommand => ({ docs: { since: '1.2.0', arguments: structuredClone(zrangeDocs) }, info: info(['readonly']) });

interface Case {
  name: string;
  /** Changes our args (a fresh copy of ZRANGE's). */
  ours?: (args: Arg[]) => Arg[];
  spec?: Record<string, unknown>;
  /** Changes the server's description (a fresh copy of ZRANGE's). */
  server?: (s: ServerCommand) => ServerCommand;
  expected: Array<[what: string, ours: string, server: string]>;
}

const cases: Case[] = [
  { name: 'identical', expected: [] },
  {
    name: 'renamed argument',
    ours: (a) => a.map((x) => (x['name'] === 'start' ? { ...x, name: 'from' } : x)),
    expected: [['args.start.name', 'from', 'start']],
  },
  {
    name: 'renamed oneof',
    ours: (a) => a.map((x) => ('oneOf' in x ? { oneOf: { ...(x['oneOf'] as Arg), name: 'by' } } : x)),
    expected: [['args.sortby.name', 'by', 'sortby']],
  },
  {
    name: 'missing optional argument',
    ours: (a) => a.filter((x) => x['name'] !== 'withscores'),
    expected: [['args.withscores', '(none)', 'withscores (pure-token WITHSCORES optional)']],
  },
  {
    name: 'argument only we have',
    ours: (a) => [...a, { name: 'extra', token: 'EXTRA' }],
    expected: [['args.extra', 'extra (flag EXTRA optional)', '(none)']],
  },
  {
    name: 'token differs',
    ours: (a) => a.map((x) => (x['name'] === 'rev' ? { ...x, token: 'REVERSE' } : x)),
    expected: [['args.rev.token', 'REVERSE', 'REV']],
  },
  {
    name: 'type differs',
    ours: (a) => a.map((x) => (x['name'] === 'start' ? { ...x, type: 'integer' } : x)),
    expected: [['args.start.type', 'integer', 'string']],
  },
  {
    name: 'optional differs inside a block',
    ours: (a) => a.map((x) => (x['name'] === 'limit' ? { ...x, of: [{ name: 'offset', type: 'integer' }, { name: 'count', type: 'integer', optional: true }] } : x)),
    expected: [['args.offset_count.count.optional', 'true', 'false']],
  },
  {
    name: 'order differs',
    ours: (a) => [...a.slice(0, 4), a[6]!, a[4]!, a[5]!],
    expected: [['order', '[key, start, stop, sortby, withscores, rev, offset_count]', '[key, start, stop, sortby, rev, offset_count, withscores]']],
  },
  {
    name: 'key position differs',
    server: (s) => ({ ...s, info: info(['readonly'], [{ ...range1, begin_search: { type: 'index', index: 2 } }]) }),
    expected: [['keys', '[index 1 range(lastkey 0, step 1)]', '[index 2 range(lastkey 0, step 1)]']],
  },
  {
    name: 'a key that is not typed key',
    ours: (a) => a.map((x) => (x['name'] === 'key' ? { ...x, type: 'string' } : x)),
    expected: [
      ['args.key.type', 'string', 'key'],
      ['keys', '[]', '[index 1 range(lastkey 0, step 1)]'],
    ],
  },
  {
    name: 'flags differ (only the spec format\'s flags count)',
    server: (s) => ({ ...s, info: info(['readonly', 'fast', 'loading', 'stale']) }),
    expected: [['flags', '[readonly]', '[fast, readonly]']],
  },
  {
    name: 'since differs',
    spec: { redis: '1.0.0' },
    expected: [['since', '1.0.0', '1.2.0']],
  },
  {
    name: 'the server has an argument newer than Redis 7.0: not a difference',
    server: (s) => ({ ...s, docs: { ...s.docs, arguments: [...s.docs.arguments!, { name: 'future', type: 'pure-token', token: 'FUTURE', since: '7.2.0', flags: ['optional'] }] } }),
    expected: [],
  },
  {
    name: 'an option may be named after its token, a oneof member too',
    server: (s) => {
      const args = s.docs.arguments!.map((a) => (a.name === 'rev' ? { ...a, name: 'reverse' } : a.name === 'sortby' ? { ...a, arguments: [{ name: 'score', type: 'pure-token', token: 'BYSCORE' }, { name: 'lex', type: 'pure-token', token: 'BYLEX' }] } : a));
      return { ...s, docs: { ...s.docs, arguments: args } };
    },
    expected: [],
  },
  {
    name: 'LIMIT on the block or on its first part is the same',
    server: (s) => {
      const args = s.docs.arguments!.map((a) =>
        a.name === 'offset_count' ? { name: 'limit', type: 'block', flags: ['optional'], arguments: [{ name: 'offset', type: 'integer', token: 'LIMIT' }, { name: 'count', type: 'integer' }] } : a,
      );
      return { ...s, docs: { ...s.docs, arguments: args } };
    },
    expected: [],
  },
];

describe('compareCommand (ZRANGE-like, table-driven)', () => {
  it.each(cases)('$name', ({ ours, spec, server, expected }) => {
    const m = model({ command: 'ZRANGE', args: (ours ?? ((a) => a))(zrangeArgs()), ...spec });
    const s = (server ?? ((x) => x))(zrangeServer());
    const { differences } = compareCommand(m, s, VERSION);
    expect(differences.map((d) => [d.what, d.ours, d.server])).toEqual(expected);
  });
});

describe('compareCommand: how shapes map', () => {
  const diffs = (spec: Record<string, unknown>, docs: DocArg[], keySpecs: KeySpec[] = [], flags = ['readonly'], since = '1.2.0') =>
    compareCommand(model(spec), { docs: { since, arguments: docs }, info: info(flags, keySpecs) }, VERSION).differences.map((d) => `${d.what}: ours ${d.ours}, server ${d.server}`);

  it('a multiple argument may be plural; its keys run to the end', () => {
    expect(
      diffs({ command: 'DEL', args: [{ name: 'keys', type: 'key', multiple: true }] }, [{ name: 'key', type: 'key', flags: ['multiple'] }], [
        { begin_search: { type: 'index', index: 1 }, find_keys: { type: 'range', lastkey: -1, keystep: 1 } },
      ]),
    ).toEqual([]);
  });

  it('a count argument is numkeys whatever its name; its keys are keynum keys', () => {
    const spec = {
      command: 'EVAL',
      args: [
        { name: 'script', type: 'string' },
        { name: 'keyCount', type: 'count', countOf: 'keys' },
        { name: 'keys', type: 'key', multiple: true, optional: true },
        { name: 'args', type: 'value', multiple: true, optional: true },
      ],
    };
    const docs: DocArg[] = [
      { name: 'script', type: 'string' },
      { name: 'numkeys', type: 'integer' },
      { name: 'key', type: 'key', flags: ['optional', 'multiple'] },
      { name: 'arg', type: 'string', flags: ['optional', 'multiple'] },
    ];
    const keynum: KeySpec = { begin_search: { type: 'index', index: 2 }, find_keys: { type: 'keynum', keynumidx: 0, firstkey: 1, keystep: 1 } };
    expect(diffs(spec, docs, [keynum])).toEqual([]);
    expect(diffs(spec, docs, [{ ...keynum, begin_search: { type: 'index', index: 1 } }])).toEqual([
      'keys: ours [index 2 keynum(idx 0, first 1, step 1)], server [index 1 keynum(idx 0, first 1, step 1)]',
    ]);
  });

  it('an enum is a oneof of pure tokens, with or without a token on the container', () => {
    const docs: DocArg[] = [
      { name: 'client-type', type: 'oneof', token: 'TYPE', flags: ['optional'], arguments: ['normal', 'master'].map((v) => ({ name: v, type: 'pure-token', token: v.toUpperCase() })) },
    ];
    expect(diffs({ command: 'CLIENT LIST', args: [{ name: 'type', token: 'TYPE', type: 'enum', values: ['NORMAL', 'MASTER'] }] }, docs)).toEqual([]);
    expect(diffs({ command: 'CLIENT LIST', args: [{ name: 'type', token: 'TYPE', type: 'enum', values: ['NORMAL', 'PRIMARY'] }] }, docs)).toEqual([
      'args.client-type.master: ours (none), server master (pure-token MASTER)',
      'args.client-type.primary: ours primary (value PRIMARY), server (none)',
    ]);
  });

  it("a token before many values: Redis's multiple_token against ours", () => {
    const once: DocArg[] = [{ name: 'client-id', type: 'integer', token: 'ID', flags: ['optional', 'multiple'] }];
    const perValue: DocArg[] = [{ name: 'pattern', type: 'pattern', token: 'GET', flags: ['optional', 'multiple', 'multiple_token'] }];
    const optionPerValue = (name: string, token: string) => ({ command: 'CMD', args: [{ name, token, type: 'integer', multiple: true }] });
    expect(diffs(optionPerValue('ids', 'ID'), once)).toEqual(['args.client-id.multiple_token: ours ID before each value, server ID once']);
    expect(diffs({ command: 'CMD', args: [{ name: 'ids', token: 'ID', type: 'block', of: [{ name: 'id', type: 'integer', multiple: true }] }] }, once)).toEqual([]);
    expect(diffs({ command: 'CMD', args: [{ name: 'get', token: 'GET', type: 'string', multiple: true }] }, perValue)).toEqual([]);
  });

  it('a required block without a token is its parts (AUTH [username] password)', () => {
    const spec = { command: 'AUTH', args: [{ name: 'credentials', type: 'block', of: [{ name: 'username', type: 'string', optional: true }, { name: 'password', type: 'string' }] }] };
    expect(diffs(spec, [{ name: 'username', type: 'string', flags: ['optional'] }, { name: 'password', type: 'string' }])).toEqual([]);
  });

  it('pairs is a repeated block; a block with one part is that part', () => {
    const mset = { command: 'MSET', args: [{ name: 'keyValues', type: 'pairs', of: [{ name: 'key', type: 'key' }, { name: 'value', type: 'value' }] }] };
    const msetDocs: DocArg[] = [{ name: 'key_value', type: 'block', flags: ['multiple'], arguments: [{ name: 'key', type: 'key' }, { name: 'value', type: 'string' }] }];
    expect(diffs(mset, msetDocs, [{ begin_search: { type: 'index', index: 1 }, find_keys: { type: 'range', lastkey: -1, keystep: 2 } }])).toEqual([]);
    const configGet = { command: 'CONFIG GET', args: [{ name: 'parameters', type: 'string', multiple: true }] };
    expect(diffs(configGet, [{ name: 'parameter', type: 'block', flags: ['multiple'], arguments: [{ name: 'parameter', type: 'string' }] }])).toEqual([]);
  });

  it('optional and multiple of a oneof: the oneof is optional, its members are not compared for it', () => {
    const spec = { command: 'CMD', args: [{ oneOf: { name: 'condition', of: [{ name: 'nx', token: 'NX' }, { name: 'xx', token: 'XX' }] } }] };
    const docs = (flags: string[]): DocArg[] => [{ name: 'condition', type: 'oneof', flags, arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }] }];
    expect(diffs(spec, docs(['optional']))).toEqual([]);
    expect(diffs(spec, docs([]))).toEqual(['args.condition.optional: ours true, server false']);
    expect(diffs(spec, docs(['optional', 'multiple']))).toEqual(['args.condition.multiple: ours false, server true']);
  });

  it('key positions: keys after fixed arguments, blocking lists, keywords, and ranges Redis joins', () => {
    const blpop = { command: 'BLPOP', flags: ['write', 'blocking'], args: [{ name: 'keys', type: 'key', multiple: true }, { name: 'timeout', type: 'double' }] };
    expect(ourKeySpecs(model(blpop))).toEqual(['index 1 range(lastkey -2, step 1)']);
    const store = { command: 'GEORADIUS', args: [{ name: 'key', type: 'key' }, { name: 'store', token: 'STORE', type: 'key' }] };
    expect(ourKeySpecs(model(store))).toEqual(['index 1 range(lastkey 0, step 1)', 'keyword STORE range(lastkey 0, step 1)']);
    const lcs = { command: 'LCS', args: [{ name: 'key1', type: 'key' }, { name: 'key2', type: 'key' }] };
    const lcsDocs: DocArg[] = [{ name: 'key1', type: 'key' }, { name: 'key2', type: 'key' }];
    expect(diffs(lcs, lcsDocs, [{ begin_search: { type: 'index', index: 1 }, find_keys: { type: 'range', lastkey: 1, keystep: 1 } }])).toEqual([]);
    const sub = { command: 'OBJECT ENCODING', args: [{ name: 'key', type: 'key' }] };
    expect(ourKeySpecs(model(sub))).toEqual(['index 2 range(lastkey 0, step 1)']);
  });
});

describe('deprecation: the spec says so when the server does, since the same version', () => {
  const server = (deprecatedSince?: string): ServerCommand => ({ docs: { since: '1.2.0', arguments: [], ...(deprecatedSince !== undefined ? { deprecatedSince } : {}) }, info: info(['readonly'], []) });
  const ours = (since?: string) => model({ command: 'OLDCMD', args: [], ...(since !== undefined ? { deprecated: { since, replacement: 'NEWCMD (newcmd)' } } : {}) });

  it.each([
    { name: 'both deprecated since the same version', spec: '6.2.0', docs: '6.2.0', expected: [] },
    { name: 'neither deprecated', spec: undefined, docs: undefined, expected: [] },
    { name: 'the server deprecated it, the spec does not say', spec: undefined, docs: '6.2.0', expected: [['deprecated', '(none)', 'since 6.2.0']] },
    { name: 'the spec deprecates what the server does not', spec: '6.2.0', docs: undefined, expected: [['deprecated', 'since 6.2.0', '(none)']] },
    { name: 'different versions', spec: '6.0.0', docs: '6.2.0', expected: [['deprecated', 'since 6.0.0', 'since 6.2.0']] },
    { name: 'the server gives no version: any of ours will do', spec: '6.2.0', docs: '', expected: [] },
    { name: 'the server gives no version, the spec does not say', spec: undefined, docs: '', expected: [['deprecated', '(none)', 'since (no version)']] },
  ])('$name', ({ spec, docs, expected }) => {
    expect(compareCommand(ours(spec), server(docs), VERSION).differences.map((d) => [d.what, d.ours, d.server])).toEqual(expected);
  });

  it('reads doc_flags and deprecated_since from COMMAND DOCS', () => {
    const docs = parseDocsReply(['getset', ['summary', 'x', 'since', '1.0.0', 'group', 'string', 'complexity', 'O(1)', 'doc_flags', ['deprecated'], 'deprecated_since', '6.2.0', 'replaced_by', '`SET` with the `!GET` argument']]);
    expect(docs['getset']?.deprecatedSince).toBe('6.2.0');
    expect(parseDocsReply(['get', ['summary', 'x', 'since', '1.0.0']])['get']?.deprecatedSince).toBeUndefined();
  });
});

describe('commands the server does not have', () => {
  const none = (spec: Record<string, unknown>) => checkCommand(model({ command: 'GOCACHEONLY', args: [], ...spec }), undefined, VERSION);

  it('GoCache-only (redis: false): skipped with a note', () => {
    expect(none({ redis: false, gocache: { supported: true } })).toEqual({ checked: false, findings: [{ kind: 'note', text: 'GOCACHEONLY is GoCache-only (redis: false): skipped' }] });
  });
  it('newer than the server: skipped with a note', () => {
    expect(none({ redis: '7.2.0' })).toEqual({ checked: false, findings: [{ kind: 'note', text: 'GOCACHEONLY needs Redis 7.2.0, the server is 7.0.15: skipped' }] });
  });
  it('old enough but absent: a difference', () => {
    expect(none({ redis: '1.0.0' }).findings).toEqual([{ kind: 'difference', what: 'command', ours: 'GOCACHEONLY since 1.0.0', server: '(none)' }]);
  });
});

describe('drift notes', () => {
  const renamed = () => model({ command: 'ZRANGE', args: zrangeArgs().map((x) => ('oneOf' in x ? { oneOf: { ...(x['oneOf'] as Arg), name: 'by' } } : x)), drift: { 'args.sortby': 'Named by in the SDK, as in ZRANGESTORE.' } });

  it('a recorded difference is accepted, and printed with its reason', () => {
    const result = checkCommand(renamed(), zrangeServer(), VERSION);
    expect(result.findings).toEqual([{ kind: 'accepted', what: 'args.sortby.name', ours: 'by', server: 'sortby', why: 'Named by in the SDK, as in ZRANGESTORE.' }]);
    expect(formatFinding('spec/sorted-set/zrange.yaml', result.findings[0]!)).toBe('spec/sorted-set/zrange.yaml: args.sortby.name: ours by, server sortby; accepted: Named by in the SDK, as in ZRANGESTORE.');
  });

  it('a recorded key with no difference is stale', () => {
    const m = model({ command: 'ZRANGE', args: zrangeArgs(), drift: { flags: 'Redis says fast, the SDK does not care.' } });
    const result = checkCommand(m, zrangeServer(), VERSION);
    expect(result.findings).toEqual([{ kind: 'stale', what: 'flags', why: 'Redis says fast, the SDK does not care.' }]);
    expect(formatFinding('spec/sorted-set/zrange.yaml', result.findings[0]!)).toBe('spec/sorted-set/zrange.yaml: drift.flags: stale: no such difference any more (recorded: Redis says fast, the SDK does not care.)');
  });

  it('an unrecorded difference is printed as ours/server', () => {
    const m = model({ command: 'ZRANGE', args: zrangeArgs(), flags: ['readonly', 'fast'] });
    const [finding] = checkCommand(m, zrangeServer(), VERSION).findings;
    expect(formatFinding('spec/sorted-set/zrange.yaml', finding!)).toBe('spec/sorted-set/zrange.yaml: flags: ours [fast, readonly], server [readonly]');
  });

  it('keys cover a path and what is under it, nested names, repeated names; in any spelling', () => {
    expect(driftKeyCovers('args.sortby', 'args.sortby.name')).toBe(true);
    expect(driftKeyCovers('args.sortBy', 'args.sortby.token')).toBe(true);
    expect(driftKeyCovers('args.sortby.token', 'args.sortby.name')).toBe(false);
    expect(driftKeyCovers('args.index_unit', 'args.index.end_index.index_unit.name')).toBe(true);
    expect(driftKeyCovers('args.pattern', 'args.pattern(BY)')).toBe(true);
    expect(driftKeyCovers('args.pattern(GET)', 'args.pattern(BY)')).toBe(false);
    expect(driftKeyCovers('since', 'args.x.since')).toBe(false);
    expect(driftKeyCovers('order', 'order')).toBe(true);
  });

  it('applyDrift keeps the order of the differences, then stale notes by key', () => {
    const findings = applyDrift({ z: 'a reason long enough', flags: 'another reason here' }, [
      { what: 'keys', ours: '[]', server: '[x]' },
      { what: 'flags', ours: '[]', server: '[fast]' },
    ]);
    expect(findings.map((f) => f.kind)).toEqual(['difference', 'accepted', 'stale']);
  });
});

describe('parsing the RESP2 replies', () => {
  // Verbatim from redis-server 7.0.15.
  const docsReply = [
    'object',
    ['summary', 'A container for object introspection commands', 'since', '2.2.3', 'group', 'generic', 'complexity', 'Depends on subcommand.', 'subcommands', [
      'object|encoding', ['summary', 'Inspect the internal encoding of a Redis object', 'since', '2.2.3', 'group', 'generic', 'complexity', 'O(1)', 'arguments', [['name', 'key', 'type', 'key', 'key_spec_index', 0]]],
    ]],
  ];
  const infoReply = [[
    'object', -2, [], 0, 0, 0, ['@slow'], [], [],
    [['object|encoding', 3, ['readonly'], 2, 2, 1, ['@keyspace', '@read', '@slow'], ['nondeterministic_output'], [['flags', ['RO'], 'begin_search', ['type', 'index', 'spec', ['index', 2]], 'find_keys', ['type', 'range', 'spec', ['lastkey', 0, 'keystep', 1, 'limit', 0]]]], []]],
  ]];

  it('finds a subcommand under its container', () => {
    const docs = parseDocsReply(docsReply);
    const infos = parseInfoReply(infoReply);
    const found = selectCommand(['OBJECT', 'ENCODING'], docs, infos);
    expect(found?.docs).toEqual({ since: '2.2.3', group: 'generic', arguments: [{ name: 'key', type: 'key', key_spec_index: 0 }] } satisfies CommandDocs);
    expect(found?.info).toEqual({ name: 'object|encoding', arity: 3, flags: ['readonly'], key_specs: [{ begin_search: { type: 'index', index: 2 }, find_keys: { type: 'range', lastkey: 0, keystep: 1, limit: 0 } }], subcommands: [] });
    expect(selectCommand(['OBJECT', 'NOPE'], docs, infos)).toBeUndefined();
    expect(compareCommand(model({ command: 'OBJECT ENCODING', redis: '2.2.3', args: [{ name: 'key', type: 'key' }] }), found, VERSION).differences).toEqual([]);
  });

  it('reads arguments with tokens, flags and nested arguments', () => {
    const docs = parseDocsReply([
      'set',
      ['since', '1.0.0', 'arguments', [['name', 'condition', 'type', 'oneof', 'since', '2.6.12', 'flags', ['optional'], 'arguments', [['name', 'nx', 'type', 'pure-token', 'token', 'NX']]]]],
    ]);
    expect(docs['set']?.arguments).toEqual([{ name: 'condition', type: 'oneof', since: '2.6.12', flags: ['optional'], arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }] }]);
  });
});

describe('the left-out list (spec/left-out.yaml)', () => {
  const why = 'A reason long enough to be a sentence.';

  it.each([
    { name: 'groups of names with reasons', data: { internal: { sync: why, 'client|reply': why } }, entries: ['internal.sync', 'internal.client|reply'], errors: [] },
    { name: 'not a map', data: ['sync'], entries: [], errors: ['must be a map of groups, each a map of command name to why it is left out'] },
    { name: 'a group that is not a map', data: { internal: ['sync'] }, entries: [], errors: ['internal: must be a map of command name to why it is left out'] },
    { name: 'a name in upper case', data: { internal: { SYNC: why } }, entries: [], errors: ['internal.SYNC: not a COMMAND LIST name (lower case, a subcommand as container|subcommand)'] },
    { name: 'a subcommand written with a space', data: { help: { 'acl help': why } }, entries: [], errors: ['help.acl help: not a COMMAND LIST name (lower case, a subcommand as container|subcommand)'] },
    { name: 'no reason', data: { internal: { sync: null } }, entries: [], errors: ['internal.sync: needs a reason (a sentence of at least 20 characters)'] },
    { name: 'a reason too short to say anything', data: { internal: { sync: 'internal' } }, entries: [], errors: ['internal.sync: needs a reason (a sentence of at least 20 characters)'] },
    { name: 'a name in two groups', data: { internal: { sync: why }, help: { sync: why } }, entries: ['internal.sync'], errors: ['help.sync: also listed under internal'] },
  ])('$name', ({ data, entries, errors }) => {
    const parsed = parseLeftOut(data);
    expect(parsed.entries.map((e) => `${e.group}.${e.name}`)).toEqual(entries);
    expect(parsed.errors).toEqual(errors);
  });

  it('the committed list loads, each entry with its reason', () => {
    const { entries, errors } = loadLeftOut(root);
    expect(errors).toEqual([]);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry.why.length, entry.name).toBeGreaterThanOrEqual(20);
    // The internal and replication commands the SDK never offers.
    expect(entries.filter((e) => e.group === 'internal').map((e) => e.name).sort()).toEqual(['debug', 'pfdebug', 'pfselftest', 'psync', 'replconf', 'restore-asking', 'sync']);
  });

  it('a missing file is an empty list', () => {
    expect(loadLeftOut(join(root, 'tests', 'tools'))).toEqual({ entries: [], errors: [] });
  });
});

describe('coverage: every command of the server is in spec/ or left out', () => {
  const leftOut = (name: string, group = 'internal'): LeftOut => ({ name, group, why: 'A reason long enough to be a sentence.' });
  const specs = new Map([
    ['get', 'spec/string/get.yaml'],
    ['client|kill', 'spec/connection/client-kill.yaml'],
    ['command', 'spec/server/command.yaml'],
  ]);

  it.each([
    {
      name: 'described, left out, a container, or missing',
      list: ['get', 'client', 'client|kill', 'client|help', 'sync', 'xadd', 'command'],
      left: [leftOut('sync'), leftOut('client|help', 'help')],
      expected: { inSpec: ['client|kill', 'command', 'get'], leftOut: ['client|help', 'sync'], containers: ['client'], missing: ['xadd'], unknown: [], described: [] },
      problems: ['missing: xadd is in neither spec/ nor spec/left-out.yaml'],
      summary: '7 server commands: 3 in spec, 2 left out, 1 containers, 1 missing',
    },
    {
      name: 'COMMAND LIST names compared in lower case, once each',
      list: ['GET', 'get', 'Client|Kill'],
      left: [],
      expected: { inSpec: ['client|kill', 'get'], leftOut: [], containers: [], missing: [], unknown: [], described: [] },
      problems: [],
      summary: '2 server commands: 2 in spec, 0 left out, 0 containers, 0 missing',
    },
    {
      name: 'a left-out name the server does not have, or that a spec describes, is stale',
      list: ['get', 'sync'],
      left: [leftOut('sync'), leftOut('synk'), leftOut('get')],
      expected: { inSpec: ['get'], leftOut: ['sync'], containers: [], missing: [], unknown: [leftOut('synk')], described: [{ entry: leftOut('get'), file: 'spec/string/get.yaml' }] },
      problems: ['spec/left-out.yaml: internal.synk: the server has no such command', 'spec/left-out.yaml: internal.get: left out, yet described by spec/string/get.yaml'],
      summary: '2 server commands: 1 in spec, 1 left out, 0 containers, 0 missing',
    },
    {
      name: 'a container without any spec or entry for its subcommands is not enough: they are missing',
      list: ['client', 'client|pause', 'client|unpause'],
      left: [],
      expected: { inSpec: [], leftOut: [], containers: ['client'], missing: ['client|pause', 'client|unpause'], unknown: [], described: [] },
      problems: ['missing: client|pause is in neither spec/ nor spec/left-out.yaml', 'missing: client|unpause is in neither spec/ nor spec/left-out.yaml'],
      summary: '3 server commands: 0 in spec, 0 left out, 1 containers, 2 missing',
    },
  ])('$name', ({ list, left, expected, problems, summary }) => {
    const coverage = checkCoverage(list, new Set(['client']), specs, left);
    expect(coverage).toEqual(expected);
    expect(coverageProblems(coverage)).toEqual(problems);
    expect(formatCoverage(coverage)).toBe(summary);
  });

  it('a container is a name with subcommands that needs one (arity -2); COMMAND also works alone (arity -1)', () => {
    const sub = (name: string): CommandInfo => ({ name, arity: 2, flags: [], key_specs: [] });
    const infos: CommandInfo[] = [
      { name: 'acl', arity: -2, flags: [], key_specs: [], subcommands: [sub('acl|cat')] },
      { name: 'command', arity: -1, flags: [], key_specs: [], subcommands: [sub('command|count')] },
      { name: 'get', arity: 2, flags: [], key_specs: [range1], subcommands: [] },
      { name: 'ping', arity: -1, flags: [], key_specs: [] },
    ];
    expect([...containerNames(infos)]).toEqual(['acl']);
  });

  it('a spec names its command as COMMAND LIST does', () => {
    expect(serverListName({ words: ['GET'] })).toBe('get');
    expect(serverListName({ words: ['CLIENT', 'NO-EVICT'] })).toBe('client|no-evict');
  });
});

describe('the committed left-out list against a real redis-server', () => {
  let server: RedisServerHandle;
  let list: string[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
    const reply = await redisCommand(server.host, server.port, ['COMMAND', 'LIST']);
    list = (reply as string[]).map(String);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('lists every HELP subcommand, names only commands the server has, and none a spec describes', async () => {
    const { entries } = loadLeftOut(root);
    const specs = new Map(listSpecFiles(join(root, 'spec')).map((path) => {
      const loaded = loadSpecFile(path, root);
      return [serverListName({ words: String((loaded.data as { command: string }).command).split(' ') }), loaded.file] as const;
    }));
    const infos = parseInfoReply(await redisCommand(server.host, server.port, ['COMMAND', 'INFO']));
    const coverage = checkCoverage(list, containerNames(infos), specs, entries);
    expect(list.length).toBeGreaterThan(300);
    expect(coverage.unknown).toEqual([]);
    expect(coverage.described).toEqual([]);
    const helps = list.filter((name) => name.endsWith('|help')).sort();
    expect(helps.length).toBeGreaterThan(10);
    expect(entries.filter((e) => e.group === 'help').map((e) => e.name).sort()).toEqual(helps);
    expect(coverage.containers).toEqual(expect.arrayContaining(['acl', 'client', 'cluster', 'config', 'object']));
    expect(coverage.containers).not.toContain('command');
  });
});

// The whole tool runs against a real redis-server as `make spec-drift`, a step of `make test` (and CI).
