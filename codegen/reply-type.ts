/**
 * The reply type language of the spec (`string | null`, `array<string | null>`, `map<string, string>`,
 * `tuple<string, double>`, `'OK'`), parsed into a tree the emitters turn into a TypeScript type and a
 * decoder. Kept tiny on purpose: every word here has a decoder in src/runtime/decoders.ts.
 *
 * Named forms turn positional replies into objects: `tuple<id: string, fields: pairs<string, string>>`
 * (a stream entry) is `{ id, fields }`, `pairs<stream: string, entries: ...>` is an array of
 * `{ stream, entries }`, and a record's server field names (`radix-tree-keys`, `library_name`) become
 * camelCase properties (`radixTreeKeys`, `libraryName`).
 */
import { RUNTIME, type Imports } from './emit/imports.js';

/** A field of a record or of a named tuple: the TypeScript property, and for a record the server's own name when it differs. */
export interface ReplyField {
  name: string;
  /** The record field's name as the server sends it (`radix-tree-keys`), when it is not `name`. */
  wire?: string;
  optional: boolean;
  type: ReplyType;
}

export type ReplyType =
  | { kind: 'literal'; value: string }
  | { kind: 'string' | 'null' | 'integer' | 'double' | 'boolean' | 'bigint' }
  /** An integer the server sends as text (XPENDING's per-consumer counts): a number. */
  | { kind: 'integer-string' }
  /** Raw bytes (DUMP's payload): a Buffer in every view, read by the client as bytes (CommandInfo.replyBytes). */
  | { kind: 'bytes' }
  /** Whatever the server answers, raw (EVAL): a RespValue. */
  | { kind: 'any' }
  | { kind: 'array' | 'set'; of: ReplyType }
  | { kind: 'map'; key: ReplyType; value: ReplyType }
  /**
   * A list of pairs: a flat array in RESP2 (ZRANGE ... WITHSCORES), an array of two-element arrays (or a
   * map) in RESP3. With `names` (`pairs<stream: string, entries: ...>`), each pair is an object with those two properties.
   */
  | { kind: 'pairs'; first: ReplyType; second: ReplyType; names?: [string, string] }
  | { kind: 'tuple'; items: ReplyType[] }
  /** A fixed-position array decoded into an object (`tuple<id: string, fields: ...>`); optional elements only at the end. */
  | { kind: 'namedTuple'; fields: ReplyField[] }
  /** A map with known fields, decoded into an object with those fields (`record<len: integer, matches?: any>`). */
  | { kind: 'record'; fields: ReplyField[] }
  | { kind: 'union'; of: ReplyType[] };

const SCALARS = new Set(['string', 'null', 'integer', 'integer-string', 'double', 'boolean', 'bigint', 'bytes', 'any']);

/** A TypeScript property name: what a named tuple or named pairs element is called. */
const PROPERTY = /^[a-z][A-Za-z0-9]*$/;
/** A record field as servers name them: `len`, `radix-tree-keys`, `library_name`. */
const RECORD_FIELD = /^[a-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$/;

/** `radix-tree-keys` and `library_name` as properties: `radixTreeKeys`, `libraryName`. */
export const camelField = (name: string) => name.replace(/[-_]([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase());

const GENERIC_ARITY: Record<string, number> = { array: 1, set: 1, map: 2, pairs: 2, tuple: -1, record: -1 };

export function parseReplyType(text: string): ReplyType {
  // A word may hold `-` and `_` inside (`integer-string`, a record's `radix-tree-keys`).
  const tokens = text.match(/'[^']*'|[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*|[<>,|:?]|\S/g) ?? [];
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
    // `tuple<id: string, ...>` and `pairs<stream: string, ...>`: named elements, decoded into objects.
    if ((token === 'tuple' || token === 'pairs') && named()) return namedParams(token);
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

  /** Whether the next parameter is named (`name:` or `name?:`). */
  function named(): boolean {
    return tokens[position + 1] === ':' || (tokens[position + 1] === '?' && tokens[position + 2] === ':');
  }

  /** `name: type` or `name?: type`, comma-separated, up to `>`; `nameOk` checks each name, `property` maps it to the TypeScript property. */
  function fieldList(what: string, nameOk: RegExp, property: (name: string) => string): ReplyField[] {
    const fields: ReplyField[] = [];
    do {
      if (fields.length > 0) position++;
      const name = tokens[position++];
      if (name === undefined || !nameOk.test(name)) fail(`expected ${what} but found ${name ? `"${name}"` : 'the end'}`);
      const optional = peek() === '?';
      if (optional) position++;
      expect(':');
      const prop = property(name!);
      if (fields.some((f) => f.name === prop)) fail(`the field "${name}" is given twice`);
      const field: ReplyField = { name: prop, optional, type: union() };
      if (prop !== name) field.wire = name!;
      fields.push(field);
    } while (peek() === ',');
    expect('>');
    return fields;
  }

  function namedParams(token: 'tuple' | 'pairs'): ReplyType {
    const fields = fieldList('an element name (every element of a named tuple or pairs has one)', PROPERTY, (name) => name);
    if (token === 'pairs') {
      if (fields.length !== 2) fail('pairs takes 2 type parameters');
      if (fields.some((f) => f.optional)) fail('both elements of a pair are always there');
      return { kind: 'pairs', first: fields[0]!.type, second: fields[1]!.type, names: [fields[0]!.name, fields[1]!.name] };
    }
    const firstOptional = fields.findIndex((f) => f.optional);
    if (firstOptional >= 0 && fields.slice(firstOptional).some((f) => !f.optional)) fail('only the last elements of a named tuple may be optional');
    return { kind: 'namedTuple', fields };
  }

  /** `name: type` or `name?: type` fields, after `record<`; a server name such as `radix-tree-keys` is the property `radixTreeKeys`. */
  function record(): ReplyType {
    return { kind: 'record', fields: fieldList('a field name', RECORD_FIELD, camelField) };
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
    case 'integer-string':
    case 'double':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'bigint';
    case 'bytes':
      return 'Buffer';
    case 'any':
      return imports ? imports.type(RUNTIME.types, 'RespValue') : 'RespValue';
    case 'array':
    case 'set':
      return `Array<${inner(type.of)}>`;
    case 'map':
      return `Record<string, ${inner(type.value)}>`;
    case 'pairs':
      if (type.names) return `Array<{ ${type.names[0]}: ${inner(type.first)}; ${type.names[1]}: ${inner(type.second)} }>`;
      return `Array<[${inner(type.first)}, ${inner(type.second)}]>`;
    case 'tuple':
      return `[${type.items.map(inner).join(', ')}]`;
    case 'namedTuple':
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
    case 'integer-string':
      return use('integerString');
    case 'bytes':
      return use('bytes');
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
      return `${use('pairsOf')}(${inner(type.first)}, ${inner(type.second)}${type.names ? `, ['${type.names[0]}', '${type.names[1]}']` : ''})`;
    case 'tuple':
      return `${use('tupleOf')}(${type.items.map(inner).join(', ')})`;
    case 'namedTuple':
    case 'record': {
      const fields = type.fields.map((f) => `${f.name}: ${inner(f.type)}`).join(', ');
      const optional = type.fields.filter((f) => f.optional).map((f) => `'${f.name}'`);
      const renamed = type.fields.filter((f) => f.wire !== undefined).map((f) => `${f.name}: '${f.wire}'`);
      const extra = renamed.length > 0 ? `, [${optional.join(', ')}], { ${renamed.join(', ')} }` : optional.length > 0 ? `, [${optional.join(', ')}]` : '';
      return `${use(type.kind === 'record' ? 'recordOf' : 'namedTupleOf')}({ ${fields} }${extra})`;
    }
    case 'union': {
      const nonNull = type.of.filter((t) => t.kind !== 'null');
      const rest = nonNull.length === 1 ? inner(nonNull[0]!) : `${use('oneOf')}(${nonNull.map(inner).join(', ')})`;
      return nonNull.length < type.of.length ? `${use('nullable')}(${rest})` : rest;
    }
  }
}
