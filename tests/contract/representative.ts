/**
 * Representative calls of a command, built from its model (codegen/model.ts) rather than a hand list,
 * so a command added to spec/ is covered the moment it exists. Shared by the wire contract tests
 * (tests/contract/*.test.ts); a helper, not a test file.
 *
 * A value per argument type: a key is a name unique to the command and the argument (so the keys a
 * server reports can be matched to the arguments that hold them), an integer or a double its `min`
 * (else 1, or `max` when that is below 1), an enum its first value, a flag `true`, a variadic argument
 * two values, a block every part (optional ones too), pairs two pairs. Which positionals and options
 * a call gives is the call's variant: the required ones only, every positional, or one option more.
 */
import { fileURLToPath } from 'node:url';
import { familyFile } from '../../codegen/emit/imports.js';
import { generate } from '../../codegen/generate.js';
import type { ArgModel, ChoiceModel, CommandModel } from '../../codegen/model.js';
import type { ArgsContext, CommandArg } from '../../src/runtime/types.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every command of spec/, as the generator models it (the same run that writes generated/). */
export function loadModels(): CommandModel[] {
  return generate(root).models;
}

/**
 * Values an argument needs to mean something to a real server, by `type:name`: a representative
 * string is not a Lua script (EVAL would answer a Lua "syntax error", which is not the argv's fault),
 * a cursor, a lexicographic range bound or a bitfield encoding.
 */
const MEANINGFUL: Record<string, unknown> = {
  'string:script': 'return 1',
  'string:cursor': '0',
  'string:min': '-',
  'string:max': '+',
  'string:encoding': 'u8',
};

/** Several values for a variadic argument: two, so that a list of one is not the only case seen. */
const MANY = 2;

export interface Call {
  /** What the variant gives (for test names): `required`, `every positional`, `option ex`. */
  label: string;
  /** The method's arguments, in order, as a JavaScript caller passes them (rest parameters spread). */
  methodArgs: unknown[];
  /** The builder's arguments after the context (`<method>Args(context, ...builderArgs)`): variadic ones as arrays. */
  builderArgs: unknown[];
  /** The key values the call holds, in the order they go on the wire. */
  keys: string[];
  /** The option this variant adds, if any. */
  option?: ArgModel;
}

class Values {
  readonly keys: string[] = [];
  constructor(private readonly prefix: string) {}

  /** One value of `arg` (a variadic one: an array of MANY). `path` names it uniquely within the call. */
  of(arg: ArgModel, path: string): unknown {
    if (arg.multiple) return Array.from({ length: MANY }, (_, i) => this.one(arg, `${path}.${i}`));
    return this.one(arg, path);
  }

  private one(arg: ArgModel, path: string): unknown {
    const meaningful = `${arg.type}:${arg.name}`;
    if (meaningful in MEANINGFUL) return MEANINGFUL[meaningful];
    switch (arg.type) {
      case 'key': {
        const key = `${this.prefix}:${path}`;
        this.keys.push(key);
        return key;
      }
      case 'value':
        return '1'; // a value is often read as a number (ZRANGE's start, ZCOUNT's min): 1 fits both

      case 'string':
        return `s:${path}`;
      case 'integer':
      case 'double':
        return arg.min ?? (arg.max !== undefined && arg.max < 1 ? arg.max : 1);
      case 'unix-time':
        return 4_102_444_800; // 2100-01-01, in seconds
      case 'unix-time-ms':
        return 4_102_444_800_000;
      case 'enum':
        return arg.values![0];
      case 'flag':
        return true;
      case 'pairs': {
        const [first, second] = arg.of!;
        return Array.from({ length: MANY }, (_, i) => [this.one(first!, `${path}.${i}.${first!.name}`), this.one(second!, `${path}.${i}.${second!.name}`)]);
      }
      case 'block':
        return Object.fromEntries(arg.of!.map((sub) => [sub.name, this.of(sub, `${path}.${sub.name}`)]));
      case 'count':
        throw new Error(`${path}: a count argument has no value of its own`);
    }
  }
}

const choiceOf = (model: CommandModel, option: ArgModel): ChoiceModel | undefined => model.choices.find((c) => c.options.includes(option));

/**
 * One call of `model`. `positionals`: `required` gives only the required ones, `all` every one.
 * `options`: the options given (a required choice gets its first option unless one of its options is given).
 */
function call(model: CommandModel, label: string, positionals: 'required' | 'all', extra?: ArgModel): Call {
  const values = new Values(`ctr:${model.method}`);
  const options: Record<string, unknown> = {};
  // Keys go in wire order: walk the wire, filling what this call gives.
  const positional = new Map<string, unknown>();
  for (const item of model.wire) {
    if (item.kind === 'positional') {
      const arg = item.arg;
      if (arg.type === 'count' || (arg.optional && positionals === 'required')) continue;
      positional.set(arg.name, values.of(arg, arg.name));
    } else if (item.kind === 'option') {
      if (item.arg === extra) options[item.arg.name] = values.of(item.arg, item.arg.name);
    } else {
      const given = item.choice.options.find((o) => o === extra) ?? (item.choice.required ? item.choice.options[0] : undefined);
      if (given !== undefined) options[given.name] = values.of(given, given.name);
    }
  }
  const params = model.positionals.filter((p) => p.type !== 'count' && positional.has(p.name));
  const builderArgs: unknown[] = params.map((p) => positional.get(p.name));
  const methodArgs: unknown[] = params.flatMap((p) => (p.name === model.restParameter ? (positional.get(p.name) as unknown[]) : [positional.get(p.name)]));
  if (Object.keys(options).length > 0) {
    // An optional positional left out still takes its place before the options.
    const skipped = model.positionals.filter((p) => p.type !== 'count').length - params.length;
    const holes = Array<undefined>(skipped).fill(undefined);
    builderArgs.push(...holes, options);
    methodArgs.push(...holes, options);
  }
  const result: Call = { label, methodArgs, builderArgs, keys: values.keys };
  if (extra !== undefined) result.option = extra;
  return result;
}

/**
 * The variants of a command: its required arguments; every positional (when some are optional); and
 * for each option, the required arguments plus that option (replacing a required choice's default).
 * `options` filters which options get a variant of their own.
 */
export function representativeCalls(model: CommandModel, options: (option: ArgModel) => boolean = () => true): Call[] {
  const calls = [call(model, 'required arguments', 'required')];
  if (model.positionals.some((p) => p.optional)) calls.push(call(model, 'every positional', 'all'));
  for (const option of model.options) {
    if (!options(option)) continue;
    const choice = choiceOf(model, option);
    if (choice?.required && option === choice.options[0]) continue; // already in the required call
    calls.push(call(model, `option ${option.name}`, 'required', option));
  }
  return calls;
}

/** The call of `model` with the required arguments and one option (for an option GoCache refuses). */
export function callWithOption(model: CommandModel, option: ArgModel): Call {
  return call(model, `option ${option.name}`, 'required', option);
}

type Builder = (context: ArgsContext, ...args: unknown[]) => CommandArg[];

/** The generated builder of a command (`setArgs` in generated/commands/string.ts). */
export async function builderOf(model: CommandModel): Promise<Builder> {
  const module = (await import(/* @vite-ignore */ `../../${familyFile(model.group).replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
  const builder = module[`${model.method}Args`];
  if (typeof builder !== 'function') throw new Error(`${familyFile(model.group)} has no ${model.method}Args for ${model.command}`);
  return builder as Builder;
}

/** `7.0.15` -> a number that sorts like the version. */
export function versionNumber(version: string): number {
  return version.split('.').reduce((total, part) => total * 1000 + Number(part), 0);
}

// ---------------------------------------------------------------------------------------------------
// What a client wrote, read strictly (independent of src/): only non-empty arrays of bulk strings with
// honest lengths are requests; anything else throws, naming the offset.

export function parseRequests(bytes: Buffer): Buffer[][] {
  const requests: Buffer[][] = [];
  let offset = 0;
  const line = (): string => {
    const end = bytes.indexOf('\r\n', offset);
    if (end < 0) throw new Error(`no CRLF after offset ${offset}: ${JSON.stringify(bytes.toString('latin1', offset, offset + 40))}`);
    const text = bytes.toString('latin1', offset, end);
    offset = end + 2;
    return text;
  };
  while (offset < bytes.length) {
    const at = offset;
    const header = line();
    if (!/^\*[1-9][0-9]*$/.test(header)) throw new Error(`offset ${at}: ${JSON.stringify(header)} is not the header of a non-empty array`);
    const words: Buffer[] = [];
    for (let i = 0; i < Number(header.slice(1)); i++) {
      const lengthAt = offset;
      const length = line();
      if (!/^\$(0|[1-9][0-9]*)$/.test(length)) throw new Error(`offset ${lengthAt}: ${JSON.stringify(length)} is not a bulk string length`);
      const n = Number(length.slice(1));
      if (bytes.length < offset + n + 2) throw new Error(`offset ${lengthAt}: a bulk string of ${n} bytes runs past the end`);
      if (bytes.toString('latin1', offset + n, offset + n + 2) !== '\r\n') throw new Error(`offset ${lengthAt}: the declared length ${n} is not followed by CRLF`);
      words.push(bytes.subarray(offset, offset + n));
      offset += n + 2;
    }
    requests.push(words);
  }
  return requests;
}
