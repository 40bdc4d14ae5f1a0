/** How spec arguments read as TypeScript parameter types, and the runtime check each one gets. */
import type { ArgModel } from '../model.js';
import { RUNTIME, type Imports } from './imports.js';

/** The type of one value of the argument; a variadic one takes an array (or a rest parameter) of these. */
export function argTsType(arg: ArgModel, imports: Imports): string {
  const type = (name: string) => imports.type(RUNTIME.types, name);
  switch (arg.type) {
    case 'key':
      return type('RedisKey');
    case 'value':
      return type('RedisValue');
    case 'string':
      return type('RedisString');
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
      return `${type('PairsInput')}<${argTsType(first!, imports)}, ${argTsType(second!, imports)}>`;
    }
    case 'block':
      return `{ ${arg.of!.map((sub) => `${sub.name}${sub.optional ? '?' : ''}: ${optionTsType(sub, imports)}`).join('; ')} }`;
    case 'count':
      throw new Error('a count argument is computed, it has no parameter');
  }
}

/** The option's property type: a repeated option takes an array. */
export function optionTsType(arg: ArgModel, imports: Imports): string {
  const one = argTsType(arg, imports);
  return arg.multiple ? `ReadonlyArray<${one}>` : one;
}

/**
 * An expression that checks `value` and yields the wire form (or, for a flag, a boolean).
 * `command` is an expression holding the command name, for error messages; `at`, for a key, is an
 * expression for its wire position (the builder's `context.keyIndexes` records it).
 */
export function checkExpression(arg: ArgModel, value: string, command: string, imports: Imports, label: string = arg.name, at = 'wire.length'): string {
  const name = `'${label}'`;
  const check = (fn: string) => imports.value(RUNTIME.args, fn);
  switch (arg.type) {
    case 'key':
      // `at` is where the key lands on the wire (wire.length just before it is pushed).
      return `${check('argKeyAt')}(${value}, ${command}, ${name}, context, ${at}${arg.unprefixed ? ', false' : ''})`;
    case 'value':
      return `${check('argValue')}(${value}, ${command}, ${name})`;
    case 'string':
      if (arg.keyPattern) return `${check('argKeyPattern')}(${value}, ${command}, ${name}, context)`;
      return `${check('argString')}(${value}, ${command}, ${name})`;
    case 'integer':
      return `${check('argInteger')}(${value}, ${command}, ${name}${bounds(arg)})`;
    case 'double':
      return `${check('argDouble')}(${value}, ${command}, ${name}${bounds(arg)})`;
    case 'unix-time':
      return `${check('argUnixTime')}(${value}, ${command}, ${name}, 'seconds')`;
    case 'unix-time-ms':
      return `${check('argUnixTime')}(${value}, ${command}, ${name}, 'milliseconds')`;
    case 'enum':
      return `${check('argEnum')}(${value}, ${command}, ${name}, [${arg.values!.map((v) => `'${v}'`).join(', ')}])`;
    case 'flag':
      return `${check('argFlag')}(${value}, ${command}, ${name})`;
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
