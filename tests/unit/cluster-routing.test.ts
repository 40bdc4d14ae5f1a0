/**
 * How a cluster client learns where a command goes, from the spec to the wire: the model's checks of a
 * spec's `cluster:` field (each error names the file and the field), the descriptors generated from it,
 * and the key positions the generated builders record while building (argKeyAt), which is what the
 * cluster routes on: the position of each key in the built command, options and tokens included.
 */
import { describe, expect, it } from 'vitest';
import { SpecError, type LoadedSpec } from '../../codegen/load.js';
import { buildCommandModel } from '../../codegen/model.js';
import type { RawSpec } from '../../codegen/raw-spec.js';
import { DBSIZE, dbsizeArgs } from '../../generated/commands/server.js';
import { DEL, delArgs, KEYS, SCAN } from '../../generated/commands/generic.js';
import { PUBLISH, publishArgs } from '../../generated/commands/pubsub.js';
import { MGET, MSET, msetArgs, SET, setArgs } from '../../generated/commands/string.js';
import { ZUNIONSTORE, zunionstoreArgs } from '../../generated/commands/sorted-set.js';
import { EVAL, evalArgs } from '../../generated/commands/scripting.js';
import type { ArgsContext, CommandArg } from '../../src/runtime/types.js';

const FILE = 'spec/generic/cmd.yaml';
const loaded: LoadedSpec = { file: FILE, group: 'generic', data: null };

function failure(edit: Partial<RawSpec>): string {
  const spec: RawSpec = {
    command: 'CMD',
    summary: 'A command.',
    redis: '1.0.0',
    gocache: { supported: false },
    args: [{ name: 'key', type: 'key' }],
    reply: { type: 'integer' },
    examples: [{ calls: [{ call: ['cmd', 'k'], reply: 0 }] }],
    ...edit,
  };
  try {
    buildCommandModel(spec, loaded);
  } catch (error) {
    expect(error).toBeInstanceOf(SpecError);
    return (error as Error).message;
  }
  throw new Error('no SpecError');
}

/** Builds with a context that records key positions, as the cluster client does. */
function keyed(build: (context: ArgsContext) => CommandArg[]): { wire: CommandArg[]; keys: CommandArg[]; at: number[] } {
  const context: ArgsContext = { server: 'redis', keyIndexes: [] };
  const wire = build(context);
  return { wire, keys: context.keyIndexes!.map((at) => wire[at]!), at: context.keyIndexes! };
}

describe("the spec's cluster field, checked by the model", () => {
  it('split is for commands with keys, everyNode for those without, and one thing only', () => {
    expect(failure({ cluster: { everyNode: 'sum' } })).toBe(`${FILE}: cluster.everyNode: is for a command without keys`);
    expect(failure({ args: [{ name: 'n', type: 'integer' }], examples: [{ calls: [{ call: ['cmd', 1], reply: 0 }] }], cluster: { split: 'sum' } })).toBe(`${FILE}: cluster.split: is for a command with keys`);
    expect(failure({ cluster: { split: 'sum', refuse: 'no' } })).toBe(`${FILE}: cluster: says one thing: split, everyNode, refuse or channel`);
    expect(failure({ cluster: { channel: true } })).toBe(`${FILE}: cluster.channel: is for a keyless command whose first argument is its channel`);
  });
});

describe('the generated descriptors', () => {
  it('carry the routing the specs give', () => {
    expect(DEL.cluster).toEqual({ split: 'sum' });
    expect(MGET.cluster).toEqual({ split: 'ordered' });
    expect(MSET.cluster).toEqual({ split: 'ok' });
    expect(DBSIZE.cluster).toEqual({ everyNode: 'sum' });
    expect(KEYS.cluster).toEqual({ everyNode: 'concat' });
    expect(SCAN.cluster?.refuse).toMatch(/scanIterator/);
    expect(PUBLISH.cluster).toEqual({ channel: true });
    // Routed by its keys alone: no cluster field.
    expect(SET.cluster).toBeUndefined();
    expect(ZUNIONSTORE.cluster).toBeUndefined();
  });
});

describe('key positions recorded while building', () => {
  it('one key after the command name; none for a keyless command; nothing recorded without a keyIndexes array', () => {
    expect(keyed((c) => setArgs(c, 'k', 'v', { ex: 10 }))).toEqual({ wire: ['SET', 'k', 'v', 'EX', 10], keys: ['k'], at: [1] });
    expect(keyed((c) => dbsizeArgs(c)).at).toEqual([]);
    expect(keyed((c) => publishArgs(c, 'news', 'hi')).at).toEqual([]);
    const plain: ArgsContext = { server: 'redis' };
    expect(delArgs(plain, ['a', 'b'])).toEqual(['DEL', 'a', 'b']);
    expect(plain.keyIndexes).toBeUndefined();
  });

  it('every key of a variadic command, between values (MSET) or after a count and before options (ZUNIONSTORE)', () => {
    expect(keyed((c) => delArgs(c, ['a', 'b', 'c']))).toMatchObject({ keys: ['a', 'b', 'c'], at: [1, 2, 3] });
    expect(keyed((c) => msetArgs(c, { a: '1', b: '2' }))).toMatchObject({ keys: ['a', 'b'], at: [1, 3] });
    const z = keyed((c) => zunionstoreArgs(c, 'dest', ['s1', 's2'], { aggregate: 'MAX' } as never));
    expect(z.keys).toEqual(['dest', 's1', 's2']);
    expect(z.wire.slice(0, 5)).toEqual(['ZUNIONSTORE', 'dest', 2, 's1', 's2']);
  });

  it("EVAL's keys are keys (its script and argv are not)", () => {
    expect(keyed((c) => evalArgs(c, 'return 1', ['k1', 'k2'], ['argv']))).toMatchObject({ keys: ['k1', 'k2'], at: [3, 4] });
    expect(EVAL.cluster).toBeUndefined();
  });
});
