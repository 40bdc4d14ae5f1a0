/** How spec arguments read as TypeScript parameter types, and the runtime check each one gets. */
import type { ArgModel } from '../model.js';

/** The type of one value of the argument; a variadic one takes an array (or a rest parameter) of these. */
export function argTsType(arg: ArgModel): string {
  return singleTsType(arg);
}

/** The option's property type: a repeated option takes an array. */
export function optionTsType(arg: ArgModel): string {
  const one = singleTsType(arg);
  return arg.multiple ? `ReadonlyArray<${one}>` : one;
}

function singleTsType(arg: ArgModel): string {
  switch (arg.type) {
    case 'key':
      return 'RedisKey';
    case 'value':
      return 'RedisValue';
    case 'string':
      return 'RedisString';
    case 'integer':
    case 'double':
      return 'number';
    case 'unix-time':
    case 'unix-time-ms':
      return 'number | Date';
    case 'enum':
      return arg.values!.map((v) => `'${v}'`).join(' | ');
    case 'flag':
      return 'boolean';
    case 'pairs': {
      const [first, second] = arg.of!;
      return `PairsInput<${singleTsType(first!)}, ${singleTsType(second!)}>`;
    }
    case 'block':
      return `{ ${arg.of!.map((sub) => `${sub.name}${sub.optional ? '?' : ''}: ${optionTsType(sub)}`).join('; ')} }`;
    case 'count':
      throw new Error('a count argument is computed, it has no parameter');
  }
}

/**
 * An expression that checks `value` and yields the wire form (or, for a flag, a boolean).
 * `command` is an expression holding the command name, for error messages.
 */
export function checkExpression(arg: ArgModel, value: string, command: string, label: string = arg.name): string {
  const name = `'${label}'`;
  switch (arg.type) {
    case 'key':
      return `argKey(${value}, ${command}, ${name})`;
    case 'value':
      return `argValue(${value}, ${command}, ${name})`;
    case 'string':
      return `argString(${value}, ${command}, ${name})`;
    case 'integer':
      return `argInteger(${value}, ${command}, ${name}${bounds(arg)})`;
    case 'double':
      return `argDouble(${value}, ${command}, ${name}${bounds(arg)})`;
    case 'unix-time':
      return `argUnixTime(${value}, ${command}, ${name}, 'seconds')`;
    case 'unix-time-ms':
      return `argUnixTime(${value}, ${command}, ${name}, 'milliseconds')`;
    case 'enum':
      return `argEnum(${value}, ${command}, ${name}, [${arg.values!.map((v) => `'${v}'`).join(', ')}])`;
    case 'flag':
      return `argFlag(${value}, ${command}, ${name})`;
    case 'pairs':
    case 'block':
    case 'count':
      throw new Error(`${arg.type} arguments are written by statements, not an expression`);
  }
}

function bounds(arg: ArgModel): string {
  if (arg.min === undefined && arg.max === undefined) return '';
  return `, ${arg.min ?? 'undefined'}${arg.max !== undefined ? `, ${arg.max}` : ''}`;
}
