/**
 * The reply type language of the spec (`string | null`, `array<string | null>`, `map<string, string>`,
 * `tuple<string, double>`, `'OK'`), parsed into a tree the emitters turn into a TypeScript type and a
 * decoder. Kept tiny on purpose: every word here has a decoder in src/runtime/decoders.ts.
 */
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
  | { kind: 'union'; of: ReplyType[] };

const SCALARS = new Set(['string', 'null', 'integer', 'double', 'boolean', 'bigint', 'any']);
const GENERIC_ARITY: Record<string, number> = { array: 1, set: 1, map: 2, pairs: 2, tuple: -1 };

export function parseReplyType(text: string): ReplyType {
  const tokens = text.match(/'[^']*'|[A-Za-z]+|[<>,|]|\S/g) ?? [];
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

  const result = union();
  if (position !== tokens.length) fail(`unexpected "${tokens[position]}"`);
  return result;
}

/** The TypeScript type; `S` stands for the string type of the view (string, or Buffer in the buffers view). */
export function replyTypeToTs(type: ReplyType, stringType = 'S'): string {
  const inner = (t: ReplyType) => replyTypeToTs(t, stringType);
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
      return 'RespValue';
    case 'array':
    case 'set':
      return `Array<${inner(type.of)}>`;
    case 'map':
      return `Record<string, ${inner(type.value)}>`;
    case 'pairs':
      return `Array<[${inner(type.first)}, ${inner(type.second)}]>`;
    case 'tuple':
      return `[${type.items.map(inner).join(', ')}]`;
    case 'union':
      return type.of.map(inner).join(' | ');
  }
}

/** An expression building the decoder from the combinators of src/runtime/decoders.ts. */
export function replyTypeToDecoder(type: ReplyType): string {
  switch (type.kind) {
    case 'literal':
      return `literal('${type.value}')`;
    case 'string':
      return 'bulkString';
    case 'null':
      return 'nil';
    case 'any':
      return 'anyReply';
    case 'integer':
    case 'double':
    case 'boolean':
    case 'bigint':
      return type.kind === 'bigint' ? 'bigNumber' : type.kind;
    case 'array':
    case 'set':
      return `arrayOf(${replyTypeToDecoder(type.of)})`;
    case 'map':
      return `mapOf(${replyTypeToDecoder(type.value)})`;
    case 'pairs':
      return `pairsOf(${replyTypeToDecoder(type.first)}, ${replyTypeToDecoder(type.second)})`;
    case 'tuple':
      return `tupleOf(${type.items.map(replyTypeToDecoder).join(', ')})`;
    case 'union': {
      const nonNull = type.of.filter((t) => t.kind !== 'null');
      const rest = nonNull.length === 1 ? replyTypeToDecoder(nonNull[0]!) : `oneOf(${nonNull.map(replyTypeToDecoder).join(', ')})`;
      return nonNull.length < type.of.length ? `nullable(${rest})` : rest;
    }
  }
}
