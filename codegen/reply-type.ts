/**
 * The reply type language of the spec (`string | null`, `array<string | null>`, `map<string, string>`,
 * `tuple<string, double>`, `'OK'`), parsed into a tree the emitters turn into a TypeScript type and a
 * decoder. Kept tiny on purpose: every word here has a decoder in src/runtime/decoders.ts.
 */
import { RUNTIME, type Imports } from './emit/imports.js';

export type ReplyType =
  | { kind: 'literal'; value: string }
  | { kind: 'string' | 'null' | 'integer' | 'double' | 'boolean' | 'bigint' }
  /** Whatever the server answers, raw (EVAL): a RespValue. */
  | { kind: 'any' }
  | { kind: 'array' | 'set'; of: ReplyType }
  | { kind: 'map'; key: ReplyType; value: ReplyType }
  /** A list of pairs: a flat array in RESP2 (ZRANGE ... WITHSCORES), an array of two-element arrays in RESP3. */
  | { kind: 'pairs'; first: ReplyType; second: ReplyType }
  | { kind: 'tuple'; items: ReplyType[] }
  /** A map with known fields, decoded into an object with those fields (`record<len: integer, matches?: any>`). */
  | { kind: 'record'; fields: Array<{ name: string; optional: boolean; type: ReplyType }> }
  | { kind: 'union'; of: ReplyType[] };

const SCALARS = new Set(['string', 'null', 'integer', 'double', 'boolean', 'bigint', 'any']);
const GENERIC_ARITY: Record<string, number> = { array: 1, set: 1, map: 2, pairs: 2, tuple: -1, record: -1 };

export function parseReplyType(text: string): ReplyType {
  const tokens = text.match(/'[^']*'|[A-Za-z][A-Za-z0-9]*|[<>,|:?]|\S/g) ?? [];
  let position = 0;
  const fail = (problem: string): never => {
    throw new Error(`${problem} in reply type "${text}"`);
  };
  const peek = () => tokens[position];
  const expect = (token: string) => {
    if (tokens[position] !== token) fail(`expected "${token}" but found ${tokens[position] ? `"${tokens[position]}"` : 'the end'}`);
    position++;
  };

  function union(): ReplyType {
    const members = [primary()];
    while (peek() === '|') {
      position++;
      members.push(primary());
    }
    return members.length === 1 ? members[0]! : { kind: 'union', of: members };
  }

  function primary(): ReplyType {
    const token = tokens[position++];
    if (token === undefined) return fail('unexpected end');
    if (token.startsWith("'")) return { kind: 'literal', value: token.slice(1, -1) };
    if (SCALARS.has(token)) return { kind: token as 'string' };
    const arity = GENERIC_ARITY[token];
    if (arity === undefined) return fail(`unknown type "${token}" (known: ${[...SCALARS, ...Object.keys(GENERIC_ARITY)].join(', ')}, 'literal')`);
    expect('<');
    if (token === 'record') return record();
    const params = [union()];
    while (peek() === ',') {
      position++;
      params.push(union());
    }
    expect('>');
    if (arity !== -1 && params.length !== arity) fail(`${token} takes ${arity} type parameter${arity > 1 ? 's' : ''}`);
    if (token === 'map') {
      if (params[0]!.kind !== 'string') fail('map keys must be string');
      return { kind: 'map', key: params[0]!, value: params[1]! };
    }
    if (token === 'pairs') return { kind: 'pairs', first: params[0]!, second: params[1]! };
    if (token === 'tuple') return { kind: 'tuple', items: params };
    return { kind: token as 'array', of: params[0]! };
  }

  /** `name: type` or `name?: type` fields, after `record<`. */
  function record(): ReplyType {
    const fields: Array<{ name: string; optional: boolean; type: ReplyType }> = [];
    do {
      if (fields.length > 0) position++;
      const name = tokens[position++];
      if (name === undefined || !/^[a-z][A-Za-z0-9]*$/.test(name)) fail(`expected a field name but found ${name ? `"${name}"` : 'the end'}`);
      const optional = peek() === '?';
      if (optional) position++;
      expect(':');
      if (fields.some((f) => f.name === name)) fail(`the field "${name}" is given twice`);
      fields.push({ name: name!, optional, type: union() });
    } while (peek() === ',');
    expect('>');
    return { kind: 'record', fields };
  }

  const result = union();
  if (position !== tokens.length) fail(`unexpected "${tokens[position]}"`);
  return result;
}

/**
 * The TypeScript type; `S` stands for the string type of the view (string, or Buffer in the buffers
 * view). `imports` records the runtime types the expression names.
 */
export function replyTypeToTs(type: ReplyType, stringType: string, imports?: Imports): string {
  const inner = (t: ReplyType) => replyTypeToTs(t, stringType, imports);
  switch (type.kind) {
    case 'literal':
      return `'${type.value}'`;
    case 'string':
      return stringType;
    case 'null':
      return 'null';
    case 'integer':
    case 'double':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'bigint';
    case 'any':
      return imports ? imports.type(RUNTIME.types, 'RespValue') : 'RespValue';
    case 'array':
    case 'set':
      return `Array<${inner(type.of)}>`;
    case 'map':
      return `Record<string, ${inner(type.value)}>`;
    case 'pairs':
      return `Array<[${inner(type.first)}, ${inner(type.second)}]>`;
    case 'tuple':
      return `[${type.items.map(inner).join(', ')}]`;
    case 'record':
      return `{ ${type.fields.map((f) => `${f.name}${f.optional ? '?' : ''}: ${inner(f.type)}`).join('; ')} }`;
    case 'union':
      return type.of.map(inner).join(' | ');
  }
}

/** An expression building the decoder from the combinators of src/runtime/decoders.ts (recorded in `imports`). */
export function replyTypeToDecoder(type: ReplyType, imports: Imports): string {
  const use = (name: string) => imports.value(RUNTIME.decoders, name);
  const inner = (t: ReplyType) => replyTypeToDecoder(t, imports);
  switch (type.kind) {
    case 'literal':
      return `${use('literal')}('${type.value}')`;
    case 'string':
      return use('bulkString');
    case 'null':
      return use('nil');
    case 'any':
      return use('anyReply');
    case 'integer':
      return use('integer');
    case 'double':
      return use('double');
    case 'boolean':
      return use('boolean');
    case 'bigint':
      return use('bigNumber');
    case 'array':
    case 'set':
      return `${use('arrayOf')}(${inner(type.of)})`;
    case 'map':
      return `${use('mapOf')}(${inner(type.value)})`;
    case 'pairs':
      return `${use('pairsOf')}(${inner(type.first)}, ${inner(type.second)})`;
    case 'tuple':
      return `${use('tupleOf')}(${type.items.map(inner).join(', ')})`;
    case 'record': {
      const fields = type.fields.map((f) => `${f.name}: ${inner(f.type)}`).join(', ');
      const optional = type.fields.filter((f) => f.optional).map((f) => `'${f.name}'`);
      return `${use('recordOf')}({ ${fields} }${optional.length > 0 ? `, [${optional.join(', ')}]` : ''})`;
    }
    case 'union': {
      const nonNull = type.of.filter((t) => t.kind !== 'null');
      const rest = nonNull.length === 1 ? inner(nonNull[0]!) : `${use('oneOf')}(${nonNull.map(inner).join(', ')})`;
      return nonNull.length < type.of.length ? `${use('nullable')}(${rest})` : rest;
    }
  }
}
