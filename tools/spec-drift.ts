/**
 * `make spec-drift`: compare every spec with what a real redis-server says about the command
 * (`COMMAND DOCS` and `COMMAND INFO`), and report where they differ.
 *
 *   npx tsx tools/spec-drift.ts
 *
 * Per spec file, one line per difference: `spec/<family>/<file>.yaml: <what>: ours <x>, server <y>`
 * (`; accepted: <why>` when the spec records it). Then coverage: every command of the server's
 * `COMMAND LIST` (subcommands included) must be in a spec of spec/ or in spec/left-out.yaml, the
 * commands left out on purpose, each with why; one line per command that is in neither
 * (`missing: <name>`), and per entry of the list the server does not have or a spec describes. Last,
 * one summary line: `N commands checked, M differences, K accepted; S server commands: A in spec, B
 * left out, C containers, D missing` (M counts the accepted ones too; a container is a name such as
 * `acl` that is only a prefix of its subcommands, refused alone). Exit code 1 when a difference is not
 * recorded in the spec's `drift:`, a recorded one no longer happens (a stale note), a spec does not
 * load, a command is missing, or the left-out list is invalid or stale; 2 when the tool itself cannot
 * run (no redis-server, no COMMAND DOCS); else 0. Output is sorted by file.
 *
 * How the two sides are compared (the decisions that keep it useful but not noisy):
 * - Both argument lists are first put in one canonical shape (`Node`): our `value`/`string` and Redis's
 *   `string`/`pattern` are text, `unix-time-ms` is `unix-time`, `count` is an integer, a pure token is
 *   `pure-token`, `enum` is a `oneof` of pure tokens (its values are the tokens), `pairs` is a multiple
 *   block, a `oneOf` is a `oneof`. A block without a token whose first part is a required token
 *   (Redis's `[COUNT count [ANY]]`) is a block with that token; a block with a token and one part
 *   (`ID id [id ...]`) is that part with the token. So `LIMIT offset count` written either way, and a
 *   token sent once before many values (Redis without `multiple_token`), compare equal when they are.
 * - Arguments are paired by token, then by name (case, `-`, `_` ignored; a `multiple` argument may be
 *   plural: `keys` ~ `key`; an option may be named after its token: `ex` ~ `seconds` with EX; a `count`
 *   argument is not a parameter, so its name does not matter against `numkeys`), then leftovers of the
 *   same kind in order (reported as a rename). Compared: name, type, token, optional (not for the
 *   members of a oneof: there the oneof itself is optional), multiple, and, for a multiple argument
 *   with a token, whether the token repeats per value. The order of the paired arguments is compared
 *   at the top level and inside blocks (not inside a oneof). Argument `since` is not compared.
 * - Arguments the server marks with a version newer than Redis 7.0 (the SDK's baseline) are never
 *   reported missing; ours newer than the running server are never reported extra.
 * - Key positions: our `type: key` arguments give key specs (begin_search index/keyword, find_keys
 *   range/keynum), compared with COMMAND INFO's key specs (`limit`, `startfrom` and spec flags ignored).
 * - Flags: only the flags the spec format knows (readonly, write, pubsub, no-multi, ...) are compared.
 * - Deprecation: a command the server's docs flag deprecated needs `deprecated:` in its spec, since the
 *   same version (key `deprecated`); a spec may not mark deprecated what the server does not.
 * - `drift: { "<what>": "<why>" }` in a spec accepts every difference whose `what` starts with that key
 *   (segments compared like names): `args.sortby` accepts `args.sortby.name` and `args.sortby.token`.
 *   Keys: `args.<redis argument>[.<part>...]`, `order`, `args.<block>.order`, `keys`, `flags`, `since`,
 *   `command`. An argument only we have is named by our name. A recorded key nothing matches is stale.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { listSpecFiles, loadSpecFile, SpecError } from '../codegen/load.js';
import { buildCommandModel, type ArgModel, type CommandModel } from '../codegen/model.js';
import { createValidator } from '../codegen/validate.js';
import { redisCommand, startRedisServer, type RawReply } from '../testkit/redis-server.js';

/** The Redis version the SDK targets: what the server marks as newer cannot be missing from a spec. */
export const BASELINE = '7.0';

/** The flags of the spec format (spec/schema.json), when the schema cannot be read. */
export const DEFAULT_FLAGS = ['readonly', 'write', 'pubsub', 'no-multi', 'fast', 'blocking', 'admin', 'noscript'];

// ---------------------------------------------------------------------------------------------------
// What the server says, as plain objects (parsed from RESP2, or written by hand in tests).

export interface DocArg {
  name: string;
  /** string, integer, double, key, pattern, unix-time, pure-token, oneof, block */
  type: string;
  token?: string;
  since?: string;
  /** optional, multiple, multiple_token */
  flags?: string[];
  arguments?: DocArg[];
  key_spec_index?: number;
}

export interface CommandDocs {
  since?: string;
  group?: string;
  /** Set when the docs flag the command deprecated: since which version (`''` when they do not say). */
  deprecatedSince?: string;
  arguments?: DocArg[];
  /** By full name: `object|encoding`. */
  subcommands?: Record<string, CommandDocs>;
}

export type BeginSearch = { type: 'index'; index: number } | { type: 'keyword'; keyword: string; startfrom?: number } | { type: 'unknown' };
export type FindKeys =
  | { type: 'range'; lastkey: number; keystep: number; limit?: number }
  | { type: 'keynum'; keynumidx: number; firstkey: number; keystep: number }
  | { type: 'unknown' };

export interface KeySpec {
  begin_search: BeginSearch;
  find_keys: FindKeys;
}

export interface CommandInfo {
  name: string;
  arity?: number;
  flags: string[];
  key_specs: KeySpec[];
  subcommands?: CommandInfo[];
}

export interface ServerCommand {
  docs: CommandDocs;
  info: CommandInfo;
}

// ---------------------------------------------------------------------------------------------------
// Results.

export interface Difference {
  /** Dotted path, also the drift key it is accepted under: `args.expiration.seconds.token`, `flags`. */
  what: string;
  ours: string;
  server: string;
}

export type Finding =
  | { kind: 'difference'; what: string; ours: string; server: string }
  | { kind: 'accepted'; what: string; ours: string; server: string; why: string }
  | { kind: 'stale'; what: string; why: string }
  | { kind: 'note'; text: string };

export interface CompareOptions {
  /** `redis_version` of the server that answered. */
  serverVersion: string;
  /** The flags the spec format knows; only these are compared. */
  flagVocabulary?: readonly string[];
}

export interface CommandResult {
  /** false when the command was skipped (a note says why). */
  checked: boolean;
  findings: Finding[];
}

// ---------------------------------------------------------------------------------------------------
// Versions and names.

function versionParts(version: string): number[] {
  return version.split('.').map((part) => Number.parseInt(part, 10) || 0);
}

export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Newer than the baseline's major.minor: 7.0.15 is not newer than 7.0, 7.2.0 is. */
function newerThanBaseline(since: string | undefined): boolean {
  if (since === undefined) return false;
  const [major = 0, minor = 0] = versionParts(since);
  const [bMajor = 0, bMinor = 0] = versionParts(BASELINE);
  return major > bMajor || (major === bMajor && minor > bMinor);
}

/** Case, `-` and `_` do not count: `unix-time-seconds`, `unix_time_seconds` and `unixTimeSeconds` are one name. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

// ---------------------------------------------------------------------------------------------------
// The canonical shape both sides are compared in.

interface Node {
  name: string;
  /** key, string, integer, double, unix-time, pure-token, oneof, block (or whatever else Redis says). */
  type: string;
  /** The type as the side writes it, for messages: ours `value`, `enum`, ...; Redis `pattern`, ... */
  shownType: string;
  token?: string;
  optional: boolean;
  multiple: boolean;
  /** For a multiple argument with a token: the token is sent before each value (else once). */
  tokenPerValue: boolean;
  since?: string;
  children: Node[];
  /** Ours: a `count` argument (not a parameter; the length of `countOf`). */
  countOf?: string;
}

function ourNode(arg: ArgModel): Node {
  const node: Node = {
    name: arg.name,
    type: arg.type,
    shownType: arg.type,
    optional: arg.optional,
    multiple: arg.multiple || arg.type === 'pairs',
    tokenPerValue: true,
    children: [],
  };
  if (arg.token !== undefined) node.token = arg.token;
  if (arg.since !== undefined) node.since = arg.since;
  switch (arg.type) {
    case 'flag':
      node.type = 'pure-token';
      break;
    case 'value':
    case 'string':
      node.type = 'string';
      break;
    case 'unix-time-ms':
      node.type = 'unix-time';
      break;
    case 'count':
      node.type = 'integer';
      if (arg.countOf !== undefined) node.countOf = arg.countOf;
      break;
    case 'enum':
      node.type = 'oneof';
      node.children = (arg.values ?? []).map((value) => ({
        name: value.toLowerCase(),
        type: 'pure-token',
        shownType: 'value',
        token: value,
        optional: false,
        multiple: false,
        tokenPerValue: true,
        children: [],
      }));
      break;
    case 'pairs':
    case 'block':
      node.type = 'block';
      node.children = flatten((arg.of ?? []).map(ourNode));
      break;
    default:
      break;
  }
  return canonical(node);
}

export function ourNodes(model: CommandModel): Node[] {
  return flatten(model.wire.map((item) => {
    if (item.kind !== 'choice') return ourNode(item.arg);
    const node: Node = {
      name: item.choice.name,
      type: 'oneof',
      shownType: 'oneOf',
      optional: !item.choice.required,
      multiple: false,
      tokenPerValue: true,
      children: item.choice.options.map(ourNode),
    };
    if (item.choice.since !== undefined) node.since = item.choice.since;
    return node;
  }));
}

function serverNode(arg: DocArg): Node {
  const flags = arg.flags ?? [];
  const node: Node = {
    name: arg.name,
    type: arg.type === 'pattern' ? 'string' : arg.type,
    shownType: arg.type,
    optional: flags.includes('optional'),
    multiple: flags.includes('multiple'),
    tokenPerValue: flags.includes('multiple_token'),
    children: flatten((arg.arguments ?? []).map(serverNode)),
  };
  if (arg.token !== undefined) node.token = arg.token;
  if (arg.since !== undefined) node.since = arg.since;
  return canonical(node);
}

export function serverNodes(docs: CommandDocs): Node[] {
  return flatten((docs.arguments ?? []).map(serverNode));
}

/**
 * One shape for what goes on the wire the same way:
 * - a block without a token whose first part is a required, single token (`[COUNT count [ANY]]`)
 *   is a block with that token (`COUNT` + `count [ANY]`);
 * - a block with a token and one part without a token (`ID id [id ...]`) is that part with the token,
 *   sent once before the values (or before each, when the block itself repeats);
 * - a block without a token and with one part (CONFIG GET's `parameter [parameter ...]`) is that part;
 * - a required block without a token that does not repeat is its parts, in place (`flatten`).
 */
function canonical(node: Node): Node {
  if (node.type !== 'block') return node;
  let out = node;
  const first = out.children[0];
  if (out.token === undefined && first?.token !== undefined && !first.optional && !first.multiple) {
    const { token, ...value } = first;
    const head: Node[] = first.type === 'pure-token' ? [] : [value];
    out = { ...out, token, tokenPerValue: true, children: [...head, ...out.children.slice(1)] };
  }
  if (out.token !== undefined && out.children.length === 0) {
    return { ...out, type: 'pure-token', shownType: out.shownType, multiple: false };
  }
  const only = out.children[0];
  if (out.children.length === 1 && only !== undefined && only.token === undefined && !(out.multiple && only.multiple)) {
    const collapsed: Node = {
      ...only,
      name: out.name,
      optional: out.optional || only.optional,
      multiple: out.multiple || only.multiple,
      tokenPerValue: out.multiple,
    };
    if (out.token !== undefined) collapsed.token = out.token;
    if (out.since !== undefined) collapsed.since = out.since;
    return collapsed;
  }
  return { ...out, children: flatten(out.children) };
}

/** A required block without a token that does not repeat is just its parts, one after the other, on the wire. */
function flatten(nodes: Node[]): Node[] {
  return nodes.flatMap((n) => (n.type === 'block' && n.token === undefined && !n.optional && !n.multiple ? n.children : [n]));
}

// ---------------------------------------------------------------------------------------------------
// Comparing argument lists.

function plural(a: string, b: string): boolean {
  return a === `${b}s` || a === `${b}es` || b === `${a}s` || b === `${a}es`;
}

/** The same name: case, `-`, `_` ignored; plural for a multiple one; any name for a count against `num...`. */
function sameName(server: Node, ours: Node): boolean {
  const s = normalizeName(server.name);
  const o = normalizeName(ours.name);
  if (s === o) return true;
  if ((server.multiple || ours.multiple) && plural(s, o)) return true;
  // A count argument is not a parameter: its name is never seen.
  if (ours.countOf !== undefined && server.type === 'integer' && server.token === undefined && s.startsWith('num')) return true;
  return false;
}

/** Whether our argument's name is acceptable for the server's argument it is paired with. */
function nameMatches(server: Node, ours: Node): boolean {
  if (sameName(server, ours)) return true;
  // An option named after its token: `ex` for EX (Redis: `seconds`), `limit` for LIMIT (`offset_count`), `ids` for ID.
  const o = normalizeName(ours.name);
  const many = server.multiple || ours.multiple;
  return [ours.token, server.token].some((token) => token !== undefined && token !== '' && (o === normalizeName(token) || (many && plural(o, normalizeName(token)))));
}

function sameToken(a: Node, b: Node): boolean {
  return a.token !== undefined && b.token !== undefined && a.token.toUpperCase() === b.token.toUpperCase();
}

function describe(node: Node): string {
  const parts = [node.shownType];
  if (node.token !== undefined) parts.push(node.token === '' ? '""' : node.token);
  if (node.type === 'oneof' || node.type === 'block') parts.push(`[${node.children.map((c) => c.token !== undefined && c.type === 'pure-token' ? c.token : c.name).join(', ')}]`);
  if (node.optional) parts.push('optional');
  if (node.multiple) parts.push('multiple');
  return `${node.name} (${parts.join(' ')})`;
}

/** Path segments for the server's arguments at one level: the name, or `name(TOKEN)` when a name repeats. */
function segments(nodes: Node[]): string[] {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.name, (counts.get(n.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  return nodes.map((n) => {
    if ((counts.get(n.name) ?? 0) < 2) return n.name;
    if (n.token !== undefined && n.token !== '') return `${n.name}(${n.token})`;
    const i = (seen.get(n.name) ?? 0) + 1;
    seen.set(n.name, i);
    return `${n.name}(${i})`;
  });
}

interface Pairing {
  pairs: Array<{ server: number; ours: number; renamed: boolean }>;
  missing: number[];
  extra: number[];
}

function pairUp(server: Node[], ours: Node[]): Pairing {
  const taken = new Set<number>();
  const serverTaken = new Set<number>();
  const pairs: Pairing['pairs'] = [];
  // 1. by token, then by name.
  for (const [si, s] of server.entries()) {
    let pick = ours.findIndex((o, oi) => !taken.has(oi) && sameToken(s, o));
    if (pick < 0) pick = ours.findIndex((o, oi) => !taken.has(oi) && (sameName(s, o) || (s.token !== undefined && s.token !== '' && normalizeName(o.name) === normalizeName(s.token))));
    if (pick < 0) continue;
    taken.add(pick);
    serverTaken.add(si);
    pairs.push({ server: si, ours: pick, renamed: false });
  }
  // 2. leftovers of the same kind (no token on either side, same type), in order: a rename.
  for (const [si, s] of server.entries()) {
    if (serverTaken.has(si) || s.token !== undefined) continue;
    const pick = ours.findIndex((o, oi) => !taken.has(oi) && o.token === undefined && o.type === s.type);
    if (pick < 0) continue;
    taken.add(pick);
    serverTaken.add(si);
    pairs.push({ server: si, ours: pick, renamed: true });
  }
  pairs.sort((a, b) => a.server - b.server);
  return {
    pairs,
    missing: server.map((_, i) => i).filter((i) => !serverTaken.has(i)),
    extra: ours.map((_, i) => i).filter((i) => !taken.has(i)),
  };
}

const show = (value: string | undefined) => (value === undefined ? '(none)' : value === '' ? '""' : value);

function compareLists(server: Node[], ours: Node[], path: string, inOneof: boolean, options: CompareOptions, out: Difference[], orderKey: string): void {
  const names = segments(server);
  const pairing = pairUp(server, ours);
  for (const { server: si, ours: oi, renamed } of pairing.pairs) {
    const s = server[si]!;
    const o = ours[oi]!;
    const at = `${path}.${names[si]!}`;
    if (renamed || !nameMatches(s, o)) out.push({ what: `${at}.name`, ours: o.name, server: s.name });
    compareNodes(s, o, at, inOneof, options, out);
  }
  for (const si of pairing.missing) {
    const s = server[si]!;
    if (newerThanBaseline(s.since)) continue;
    out.push({ what: `${path}.${names[si]!}`, ours: '(none)', server: describe(s) });
  }
  for (const oi of pairing.extra) {
    const o = ours[oi]!;
    if (o.since !== undefined && compareVersions(o.since, options.serverVersion) > 0) continue;
    out.push({ what: `${path}.${o.name}`, ours: describe(o), server: '(none)' });
  }
  if (!inOneof) {
    const byServer = pairing.pairs.map((p) => names[p.server]!);
    const byOurs = [...pairing.pairs].sort((a, b) => a.ours - b.ours).map((p) => names[p.server]!);
    if (byServer.join(' ') !== byOurs.join(' ')) out.push({ what: orderKey, ours: `[${byOurs.join(', ')}]`, server: `[${byServer.join(', ')}]` });
  }
}

function compareNodes(s: Node, o: Node, at: string, inOneof: boolean, options: CompareOptions, out: Difference[]): void {
  if (s.type !== o.type) {
    out.push({ what: `${at}.type`, ours: o.shownType, server: s.shownType });
  }
  if ((s.token ?? undefined)?.toUpperCase() !== (o.token ?? undefined)?.toUpperCase()) {
    out.push({ what: `${at}.token`, ours: show(o.token), server: show(s.token) });
  }
  // Inside a oneof, being optional is the oneof's business (ours are all optional by construction).
  if (!inOneof && s.optional !== o.optional) out.push({ what: `${at}.optional`, ours: String(o.optional), server: String(s.optional) });
  if (s.multiple !== o.multiple) out.push({ what: `${at}.multiple`, ours: String(o.multiple), server: String(s.multiple) });
  if (s.multiple && o.multiple && s.token !== undefined && o.token !== undefined && s.tokenPerValue !== o.tokenPerValue) {
    const say = (perValue: boolean, token: string) => (perValue ? `${token} before each value` : `${token} once`);
    out.push({ what: `${at}.multiple_token`, ours: say(o.tokenPerValue, o.token), server: say(s.tokenPerValue, s.token) });
  }
  if (s.type === o.type && (s.type === 'oneof' || s.type === 'block')) {
    compareLists(s.children, o.children, at, s.type === 'oneof', options, out, `${at}.order`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Key positions.

/** A key spec in a comparable form; `?` (ours: depends on optional arguments) and `unknown` (server) match anything. */
interface KeyDesc {
  begin: { type: 'index'; index: number | '?' } | { type: 'keyword'; keyword: string } | { type: 'unknown' };
  find: { type: 'range'; lastkey: number | '?'; keystep: number } | { type: 'keynum'; keynumidx: number; firstkey: number; keystep: number } | { type: 'unknown' };
}

function keyText(spec: KeyDesc): string {
  const b = spec.begin;
  const f = spec.find;
  const begin = b.type === 'index' ? `index ${b.index}` : b.type === 'keyword' ? `keyword ${b.keyword}` : 'unknown';
  const find =
    f.type === 'range' ? `range(lastkey ${f.lastkey}, step ${f.keystep})` : f.type === 'keynum' ? `keynum(idx ${f.keynumidx}, first ${f.firstkey}, step ${f.keystep})` : 'unknown';
  return `${begin} ${find}`;
}

function keyMatches(ours: KeyDesc, server: KeyDesc): boolean {
  const b = ours.begin;
  const sb = server.begin;
  const beginOk =
    sb.type === 'unknown' ||
    (b.type === 'index' && sb.type === 'index' && (b.index === '?' || b.index === sb.index)) ||
    (b.type === 'keyword' && sb.type === 'keyword' && b.keyword.toUpperCase() === sb.keyword.toUpperCase());
  const f = ours.find;
  const sf = server.find;
  const findOk =
    sf.type === 'unknown' ||
    (f.type === 'range' && sf.type === 'range' && (f.lastkey === '?' || f.lastkey === sf.lastkey) && f.keystep === sf.keystep) ||
    (f.type === 'keynum' && sf.type === 'keynum' && f.keynumidx === sf.keynumidx && f.firstkey === sf.firstkey && f.keystep === sf.keystep);
  return beginOk && findOk;
}

/** How many words a required node always takes, or undefined when that varies. */
function fixedWidth(node: Node): number | undefined {
  if (node.optional || node.multiple) return undefined;
  const tokenWidth = node.token !== undefined ? 1 : 0;
  switch (node.type) {
    case 'pure-token':
      return 1;
    case 'block': {
      let sum = 0;
      for (const child of node.children) {
        const w = fixedWidth(child);
        if (w === undefined) return undefined;
        sum += w;
      }
      return tokenWidth + sum;
    }
    case 'oneof': {
      const widths = node.children.map(fixedWidth);
      const w = widths[0];
      return w !== undefined && widths.every((x) => x === w) ? tokenWidth + w : undefined;
    }
    default:
      return tokenWidth + 1;
  }
}

/** The width of one repetition of a node's value (a block's parts; 1 for a single value). */
function stepWidth(node: Node): number {
  if (node.type !== 'block') return 1;
  return fixedWidth({ ...node, token: undefined, optional: false, multiple: false } as Node) ?? 1;
}

/** Offsets of the keys inside one repetition of a node's value: [0] for a key, the key parts' offsets for a block. */
function keyOffsets(node: Node): number[] {
  if (node.type === 'key') return [0];
  if (node.type !== 'block') return [];
  const offsets: number[] = [];
  let at = 0;
  for (const child of node.children) {
    if (child.type === 'key' && child.token === undefined) offsets.push(at);
    const w = fixedWidth(child);
    if (w === undefined) break;
    at += w;
  }
  return offsets;
}

function ourKeyDescs(model: CommandModel): KeyDesc[] {
  const nodes = ourNodes(model);
  const specs: KeyDesc[] = [];
  let pos: number | undefined = model.words.length;
  const tailWidth = (from: number): number | undefined => {
    let sum = 0;
    for (const n of nodes.slice(from)) {
      const w = fixedWidth(n);
      if (w === undefined) return undefined;
      sum += w;
    }
    return sum;
  };
  /** A key after a token is found by the token, wherever it is. */
  const byKeyword = (node: Node) => {
    if (node.token === undefined || node.token === '') return;
    if (keyOffsets(node).length === 0) return;
    specs.push({
      begin: { type: 'keyword', keyword: node.token },
      find: { type: 'range', lastkey: node.multiple ? -1 : 0, keystep: node.multiple ? stepWidth(node) : 1 },
    });
  };
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const at = pos;
    if (node.token !== undefined) {
      byKeyword(node);
    } else if (node.type === 'oneof') {
      for (const child of node.children) {
        if (child.token !== undefined) byKeyword(child);
        else if (child.type === 'key') specs.push({ begin: { type: 'index', index: at ?? '?' }, find: { type: 'range', lastkey: 0, keystep: 1 } });
      }
    } else if (node.countOf !== undefined && nodes[i + 1]?.name === node.countOf) {
      const counted = nodes[i + 1]!;
      for (const offset of keyOffsets(counted)) {
        specs.push({ begin: { type: 'index', index: at ?? '?' }, find: { type: 'keynum', keynumidx: 0, firstkey: 1 + offset, keystep: stepWidth(counted) } });
      }
      i++;
      pos = undefined;
      continue;
    } else {
      for (const offset of keyOffsets(node)) {
        const begin = { type: 'index', index: at === undefined ? '?' : at + offset } as const;
        if (!node.multiple) {
          specs.push({ begin, find: { type: 'range', lastkey: 0, keystep: 1 } });
        } else {
          const tail = tailWidth(i + 1);
          specs.push({ begin, find: { type: 'range', lastkey: tail === undefined ? '?' : -1 - tail, keystep: stepWidth(node) } });
        }
      }
    }
    const w = fixedWidth(node);
    pos = pos !== undefined && w !== undefined ? pos + w : undefined;
  }
  return specs;
}

/** Our key specs, derived from the `type: key` arguments and where they go on the wire (as text). */
export function ourKeySpecs(model: CommandModel): string[] {
  return ourKeyDescs(model).map(keyText).sort();
}

/** `index 1 range(lastkey 1, step 1)` is the keys at 1 and 2: Redis joins neighbours with the same flags, we cannot tell. */
function expandKeys(specs: KeyDesc[]): KeyDesc[] {
  return specs.flatMap((spec) => {
    const b = spec.begin;
    const f = spec.find;
    if (b.type !== 'index' || b.index === '?' || f.type !== 'range' || f.lastkey === '?' || f.lastkey <= 0 || f.keystep < 1) return [spec];
    const out: KeyDesc[] = [];
    for (let at = 0; at <= f.lastkey; at += f.keystep) out.push({ begin: { type: 'index', index: b.index + at }, find: { type: 'range', lastkey: 0, keystep: 1 } });
    return out;
  });
}

function serverKeyDescs(info: CommandInfo): KeyDesc[] {
  return info.key_specs.map((spec) => {
    const b = spec.begin_search;
    const f = spec.find_keys;
    return {
      begin: b.type === 'index' ? { type: 'index', index: b.index } : b.type === 'keyword' ? { type: 'keyword', keyword: b.keyword } : { type: 'unknown' },
      find: f.type === 'range' ? { type: 'range', lastkey: f.lastkey, keystep: f.keystep } : f.type === 'keynum' ? { ...f } : { type: 'unknown' },
    };
  });
}

export function serverKeySpecs(info: CommandInfo): string[] {
  return serverKeyDescs(info).map(keyText).sort();
}

function compareKeys(ours: KeyDesc[], server: KeyDesc[], out: Difference[]): void {
  const left = expandKeys(server);
  let unmatched = 0;
  for (const spec of expandKeys(ours)) {
    const i = left.findIndex((s) => keyMatches(spec, s));
    if (i >= 0) left.splice(i, 1);
    else unmatched++;
  }
  if (unmatched > 0 || left.length > 0) {
    out.push({ what: 'keys', ours: `[${ours.map(keyText).sort().join('; ')}]`, server: `[${server.map(keyText).sort().join('; ')}]` });
  }
}

// ---------------------------------------------------------------------------------------------------
// One command.

/** Finds a command (or `container|sub` subcommand) in what the server said about its container. */
export function selectCommand(words: string[], docs: Record<string, CommandDocs>, info: CommandInfo[]): ServerCommand | undefined {
  const container = words[0]!.toLowerCase();
  const d = docs[container];
  const i = info.find((entry) => entry.name.toLowerCase() === container);
  if (d === undefined || i === undefined) return undefined;
  if (words.length === 1) return { docs: d, info: i };
  const full = `${container}|${words.slice(1).join(' ').toLowerCase()}`;
  const sd = d.subcommands?.[full];
  const si = i.subcommands?.find((entry) => entry.name.toLowerCase() === full);
  return sd !== undefined && si !== undefined ? { docs: sd, info: si } : undefined;
}

/** Every difference between our model and the server's description, before `drift:` is applied. */
export function compareCommand(model: CommandModel, server: ServerCommand | undefined, options: CompareOptions): { differences: Difference[]; notes: string[]; checked: boolean } {
  const differences: Difference[] = [];
  const notes: string[] = [];
  if (server === undefined) {
    if (model.redis === false) {
      notes.push(`${model.command} is GoCache-only (redis: false): skipped`);
      return { differences, notes, checked: false };
    }
    if (compareVersions(model.redis, options.serverVersion) > 0) {
      notes.push(`${model.command} needs Redis ${model.redis}, the server is ${options.serverVersion}: skipped`);
      return { differences, notes, checked: false };
    }
    differences.push({ what: 'command', ours: `${model.command} since ${model.redis}`, server: '(none)' });
    return { differences, notes, checked: true };
  }
  if (model.redis === false) {
    differences.push({ what: 'since', ours: 'false (GoCache-only)', server: server.docs.since ?? '(none)' });
  } else if (server.docs.since !== undefined && server.docs.since !== model.redis) {
    differences.push({ what: 'since', ours: model.redis, server: server.docs.since });
  }
  const ourDeprecation = model.deprecated?.since;
  if (ourDeprecation !== server.docs.deprecatedSince && !(ourDeprecation !== undefined && server.docs.deprecatedSince === '')) {
    differences.push({ what: 'deprecated', ours: ourDeprecation === undefined ? '(none)' : `since ${ourDeprecation}`, server: server.docs.deprecatedSince === undefined ? '(none)' : `since ${server.docs.deprecatedSince || '(no version)'}` });
  }
  compareLists(serverNodes(server.docs), ourNodes(model), 'args', false, options, differences, 'order');
  compareKeys(ourKeyDescs(model), serverKeyDescs(server.info), differences);
  const vocabulary = new Set(options.flagVocabulary ?? DEFAULT_FLAGS);
  const serverFlags = server.info.flags.map((f) => f.toLowerCase().replace(/_/g, '-')).filter((f) => vocabulary.has(f)).sort();
  const ourFlags = model.flags.filter((f) => vocabulary.has(f)).sort();
  if (serverFlags.join(' ') !== ourFlags.join(' ')) differences.push({ what: 'flags', ours: `[${ourFlags.join(', ')}]`, server: `[${serverFlags.join(', ')}]` });
  return { differences, notes, checked: true };
}

/**
 * Whether a recorded drift key accepts a difference: the key's segments start the difference's path
 * (`args.sortby` accepts `args.sortby.name`). Besides, `args.<name>` also finds a nested argument
 * (`args.index_unit` accepts `args.index.index_unit.name`), and `name` stands for `name(TOKEN)` when
 * Redis gives several arguments one name (SORT's two `pattern`s).
 */
export function driftKeyCovers(key: string, what: string): boolean {
  const k = key.split('.').map(normalizeName);
  const w = what.split('.').map(normalizeName);
  const same = (a: string, b: string | undefined) => b !== undefined && (a === b || (!a.includes('(') && b.replace(/\(.*\)$/, '') === a));
  if (k.length <= w.length && k.every((part, i) => same(part, w[i]))) return true;
  if (k[0] !== 'args' || w[0] !== 'args') return false;
  for (let offset = 2; offset + k.length - 1 <= w.length; offset++) {
    if (k.slice(1).every((part, i) => same(part, w[offset + i]))) return true;
  }
  return false;
}

/** Applies the spec's `drift:` notes: recorded differences are accepted, notes that match nothing are stale. */
export function applyDrift(drift: Record<string, string>, differences: Difference[]): Finding[] {
  const keys = Object.keys(drift).sort();
  const used = new Set<string>();
  const findings: Finding[] = differences.map((d) => {
    const key = keys.find((k) => driftKeyCovers(k, d.what));
    if (key === undefined) return { kind: 'difference', ...d };
    used.add(key);
    return { kind: 'accepted', ...d, why: drift[key]! };
  });
  for (const key of keys) if (!used.has(key)) findings.push({ kind: 'stale', what: key, why: drift[key]! });
  return findings;
}

export function checkCommand(model: CommandModel, server: ServerCommand | undefined, options: CompareOptions): CommandResult {
  const { differences, notes, checked } = compareCommand(model, server, options);
  const findings: Finding[] = notes.map((text) => ({ kind: 'note', text }));
  // A skipped command cannot show its recorded differences; its notes are not stale either.
  if (checked) findings.push(...applyDrift(model.drift, differences));
  return { checked, findings };
}

export function formatFinding(file: string, finding: Finding): string {
  switch (finding.kind) {
    case 'difference':
      return `${file}: ${finding.what}: ours ${finding.ours}, server ${finding.server}`;
    case 'accepted':
      return `${file}: ${finding.what}: ours ${finding.ours}, server ${finding.server}; accepted: ${finding.why}`;
    case 'stale':
      return `${file}: drift.${finding.what}: stale: no such difference any more (recorded: ${finding.why})`;
    case 'note':
      return `${file}: note: ${finding.text}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// RESP2 replies of COMMAND DOCS / COMMAND INFO into the objects above.

function flatMap(reply: RawReply): Map<string, RawReply> {
  const map = new Map<string, RawReply>();
  if (!Array.isArray(reply)) return map;
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]!);
  return map;
}

const asString = (v: RawReply | undefined) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const asStrings = (v: RawReply | undefined) => (Array.isArray(v) ? v.map((x) => String(x)) : []);
const asNumber = (v: RawReply | undefined) => (typeof v === 'number' ? v : Number(v));

function parseDocArg(reply: RawReply): DocArg {
  const m = flatMap(reply);
  const arg: DocArg = { name: asString(m.get('name')) ?? '', type: asString(m.get('type')) ?? '' };
  const token = asString(m.get('token'));
  if (token !== undefined) arg.token = token;
  const since = asString(m.get('since'));
  if (since !== undefined) arg.since = since;
  if (m.has('flags')) arg.flags = asStrings(m.get('flags'));
  if (m.has('key_spec_index')) arg.key_spec_index = asNumber(m.get('key_spec_index'));
  const args = m.get('arguments');
  if (Array.isArray(args)) arg.arguments = args.map(parseDocArg);
  return arg;
}

function parseDocs(reply: RawReply): CommandDocs {
  const m = flatMap(reply);
  const docs: CommandDocs = {};
  const since = asString(m.get('since'));
  if (since !== undefined) docs.since = since;
  const group = asString(m.get('group'));
  if (group !== undefined) docs.group = group;
  if (asStrings(m.get('doc_flags')).includes('deprecated')) docs.deprecatedSince = asString(m.get('deprecated_since')) ?? '';
  const args = m.get('arguments');
  if (Array.isArray(args)) docs.arguments = args.map(parseDocArg);
  const subs = m.get('subcommands');
  if (Array.isArray(subs)) docs.subcommands = Object.fromEntries([...flatMap(subs)].map(([name, value]) => [name.toLowerCase(), parseDocs(value)]));
  return docs;
}

/** `COMMAND DOCS name ...` (RESP2): name, docs, name, docs, ... */
export function parseDocsReply(reply: RawReply): Record<string, CommandDocs> {
  return Object.fromEntries([...flatMap(reply)].map(([name, value]) => [name.toLowerCase(), parseDocs(value)]));
}

function parseKeySpec(reply: RawReply): KeySpec {
  const m = flatMap(reply);
  const begin = flatMap(m.get('begin_search') ?? null);
  const find = flatMap(m.get('find_keys') ?? null);
  const bspec = flatMap(begin.get('spec') ?? null);
  const fspec = flatMap(find.get('spec') ?? null);
  const beginType = asString(begin.get('type'));
  const findType = asString(find.get('type'));
  const begin_search: BeginSearch =
    beginType === 'index'
      ? { type: 'index', index: asNumber(bspec.get('index')) }
      : beginType === 'keyword'
        ? { type: 'keyword', keyword: asString(bspec.get('keyword')) ?? '', startfrom: asNumber(bspec.get('startfrom')) }
        : { type: 'unknown' };
  const find_keys: FindKeys =
    findType === 'range'
      ? { type: 'range', lastkey: asNumber(fspec.get('lastkey')), keystep: asNumber(fspec.get('keystep')), limit: asNumber(fspec.get('limit')) }
      : findType === 'keynum'
        ? { type: 'keynum', keynumidx: asNumber(fspec.get('keynumidx')), firstkey: asNumber(fspec.get('firstkey')), keystep: asNumber(fspec.get('keystep')) }
        : { type: 'unknown' };
  return { begin_search, find_keys };
}

function parseInfo(reply: RawReply): CommandInfo | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [name, arity, flags, , , , , , keySpecs, subcommands] = reply;
  const info: CommandInfo = {
    name: String(name),
    arity: asNumber(arity),
    flags: asStrings(flags),
    key_specs: Array.isArray(keySpecs) ? keySpecs.map(parseKeySpec) : [],
  };
  if (Array.isArray(subcommands)) info.subcommands = subcommands.map(parseInfo).filter((x): x is CommandInfo => x !== undefined);
  return info;
}

/** `COMMAND INFO name ...` (RESP2): one entry per name, null for an unknown one. */
export function parseInfoReply(reply: RawReply): CommandInfo[] {
  return Array.isArray(reply) ? reply.map(parseInfo).filter((x): x is CommandInfo => x !== undefined) : [];
}

// ---------------------------------------------------------------------------------------------------
// Coverage: every command of the server is described in spec/ or left out on purpose, with why.

/** A command left out on purpose (spec/left-out.yaml): its COMMAND LIST name, the list's group, why. */
export interface LeftOut {
  /** As COMMAND LIST names it: `sync`, `client|reply`. */
  name: string;
  group: string;
  why: string;
}

/** A COMMAND LIST name: lower case, a subcommand after `|`. */
const LEFT_OUT_NAME = /^[a-z][a-z0-9_-]*(\|[a-z][a-z0-9_-]*)?$/;

/**
 * The left-out list as spec/left-out.yaml holds it: groups (`internal`, `help`, ...), each a map of
 * command name to the reason it is left out (a sentence). Anything else is an error, named by where it is.
 */
export function parseLeftOut(data: unknown): { entries: LeftOut[]; errors: string[] } {
  const entries: LeftOut[] = [];
  const errors: string[] = [];
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(data)) return { entries, errors: ['must be a map of groups, each a map of command name to why it is left out'] };
  const seen = new Map<string, string>();
  for (const [group, members] of Object.entries(data)) {
    if (!isMap(members)) {
      errors.push(`${group}: must be a map of command name to why it is left out`);
      continue;
    }
    for (const [name, why] of Object.entries(members)) {
      const at = `${group}.${name}`;
      if (!LEFT_OUT_NAME.test(name)) errors.push(`${at}: not a COMMAND LIST name (lower case, a subcommand as container|subcommand)`);
      else if (typeof why !== 'string' || why.trim().length < 20) errors.push(`${at}: needs a reason (a sentence of at least 20 characters)`);
      else if (seen.has(name)) errors.push(`${at}: also listed under ${seen.get(name)}`);
      else {
        seen.set(name, group);
        entries.push({ name, group, why: why.trim() });
      }
    }
  }
  return { entries, errors };
}

/** Reads spec/left-out.yaml; a missing file is an empty list. */
export function loadLeftOut(root: string): { entries: LeftOut[]; errors: string[] } {
  const path = join(root, 'spec', 'left-out.yaml');
  if (!existsSync(path)) return { entries: [], errors: [] };
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'), { uniqueKeys: true });
  } catch (error) {
    return { entries: [], errors: [`invalid YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  return parseLeftOut(data);
}

/** The name COMMAND LIST gives the command a spec describes: `get`, `client|kill`. */
export const serverListName = (model: Pick<CommandModel, 'words'>): string => model.words.join('|').toLowerCase();

/**
 * Names that are only a prefix of their subcommands: a command with subcommands that needs at least
 * two words (arity -2, `ACL`, `CLIENT`). `COMMAND` has subcommands too but also works alone (arity -1),
 * so it is a command of its own.
 */
export function containerNames(info: readonly CommandInfo[]): Set<string> {
  return new Set(info.filter((c) => (c.subcommands?.length ?? 0) > 0 && c.arity !== undefined && c.arity <= -2).map((c) => c.name.toLowerCase()));
}

export interface Coverage {
  /** The server's names a spec describes. */
  inSpec: string[];
  /** The server's names in the left-out list. */
  leftOut: string[];
  /** The server's names that are only a prefix of their subcommands. */
  containers: string[];
  /** The server's names in neither: each one fails the tool. */
  missing: string[];
  /** Left-out entries the server does not have (a typo, or a command that is gone): each fails the tool. */
  unknown: LeftOut[];
  /** Left-out entries a spec describes too (by the spec's file): each fails the tool. */
  described: Array<{ entry: LeftOut; file: string }>;
}

/** Sorts every command of the server (COMMAND LIST) into described, left out, container, or missing. */
export function checkCoverage(serverList: readonly string[], containers: ReadonlySet<string>, specs: ReadonlyMap<string, string>, leftOut: readonly LeftOut[]): Coverage {
  const names = [...new Set(serverList.map((n) => n.toLowerCase()))].sort();
  const server = new Set(names);
  const left = new Map(leftOut.map((e) => [e.name, e]));
  const result: Coverage = { inSpec: [], leftOut: [], containers: [], missing: [], unknown: [], described: [] };
  for (const name of names) {
    if (specs.has(name)) result.inSpec.push(name);
    else if (left.has(name)) result.leftOut.push(name);
    else if (containers.has(name)) result.containers.push(name);
    else result.missing.push(name);
  }
  for (const entry of leftOut) {
    if (!server.has(entry.name)) result.unknown.push(entry);
    else if (specs.has(entry.name)) result.described.push({ entry, file: specs.get(entry.name)! });
  }
  return result;
}

/** One line per problem of the coverage (missing, unknown or described entries), sorted. */
export function coverageProblems(coverage: Coverage): string[] {
  return [
    ...coverage.missing.map((name) => `missing: ${name} is in neither spec/ nor spec/left-out.yaml`),
    ...coverage.unknown.map((e) => `spec/left-out.yaml: ${e.group}.${e.name}: the server has no such command`),
    ...coverage.described.map(({ entry, file }) => `spec/left-out.yaml: ${entry.group}.${entry.name}: left out, yet described by ${file}`),
  ];
}

export function formatCoverage(coverage: Coverage): string {
  const total = coverage.inSpec.length + coverage.leftOut.length + coverage.containers.length + coverage.missing.length;
  return `${total} server commands: ${coverage.inSpec.length} in spec, ${coverage.leftOut.length} left out, ${coverage.containers.length} containers, ${coverage.missing.length} missing`;
}

// ---------------------------------------------------------------------------------------------------
// The tool.

function flagVocabulary(root: string): string[] {
  try {
    const schema = JSON.parse(readFileSync(join(root, 'spec', 'schema.json'), 'utf8')) as { properties?: { flags?: { items?: { enum?: unknown } } } };
    const values = schema.properties?.flags?.items?.enum;
    return Array.isArray(values) && values.every((v) => typeof v === 'string') ? values : DEFAULT_FLAGS;
  } catch {
    return DEFAULT_FLAGS;
  }
}

/** Loads every spec (load, validate, model; nothing emitted). A spec that does not load is reported and counts as a failure. */
function loadModels(root: string): { models: CommandModel[]; errors: string[] } {
  const validate = createValidator(join(root, 'spec', 'schema.json'));
  const models: CommandModel[] = [];
  const errors: string[] = [];
  for (const path of listSpecFiles(join(root, 'spec'))) {
    try {
      const loaded = loadSpecFile(path, root);
      models.push(buildCommandModel(validate(loaded), loaded));
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      errors.push(`spec error: ${error.message}`);
    }
  }
  models.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { models, errors };
}

/** Prints one summary line, and a line per finding that needs attention (every finding with `verbose`). */
export async function runSpecDrift(root: string, print: (line: string) => void = (line) => console.log(line), options: { verbose?: boolean } = {}): Promise<number> {
  const { models, errors } = loadModels(root);
  for (const error of errors) print(error);
  const leftOut = loadLeftOut(root);
  for (const error of leftOut.errors) print(`spec/left-out.yaml: ${error}`);
  const vocabulary = flagVocabulary(root);
  const server = await startRedisServer();
  let checked = 0;
  let differences = 0;
  let accepted = 0;
  let stale = 0;
  let coverage: Coverage | undefined;
  try {
    const docsCache = new Map<string, Record<string, CommandDocs>>();
    const infoCache = new Map<string, CommandInfo[]>();
    const ask = async (args: string[]) => {
      const reply = await redisCommand(server.host, server.port, args);
      if (reply !== null && typeof reply === 'object' && !Array.isArray(reply)) throw new Error(`redis-server answered ${args.join(' ')} with ${reply.error}`);
      return reply;
    };
    for (const model of models) {
      const container = model.words[0]!.toLowerCase();
      if (!docsCache.has(container)) {
        docsCache.set(container, parseDocsReply(await ask(['COMMAND', 'DOCS', container])));
        infoCache.set(container, parseInfoReply(await ask(['COMMAND', 'INFO', container])));
      }
      const found = selectCommand(model.words, docsCache.get(container)!, infoCache.get(container)!);
      const result = checkCommand(model, found, { serverVersion: server.version, flagVocabulary: vocabulary });
      if (result.checked) checked++;
      for (const finding of result.findings) {
        if (finding.kind !== 'accepted' || options.verbose) print(formatFinding(model.file, finding));
        if (finding.kind === 'difference') differences++;
        if (finding.kind === 'accepted') {
          differences++;
          accepted++;
        }
        if (finding.kind === 'stale') stale++;
      }
    }
    const list = await ask(['COMMAND', 'LIST']);
    if (!Array.isArray(list) || list.length === 0) throw new Error('redis-server answered COMMAND LIST with no command');
    const specs = new Map(models.map((m) => [serverListName(m), m.file] as const));
    coverage = checkCoverage(list.map(String), containerNames(parseInfoReply(await ask(['COMMAND', 'INFO']))), specs, leftOut.entries);
    for (const line of coverageProblems(coverage)) print(line);
  } finally {
    await server.stop();
  }
  const staleText = stale > 0 ? `, ${stale} stale drift note${stale === 1 ? '' : 's'}` : '';
  const errorText = errors.length > 0 ? `, ${errors.length} spec${errors.length === 1 ? '' : 's'} not loaded` : '';
  const leftOutText = leftOut.errors.length > 0 ? `, ${leftOut.errors.length} left-out list error${leftOut.errors.length === 1 ? '' : 's'}` : '';
  const coverageText = coverage === undefined ? '' : `; ${formatCoverage(coverage)}${coverage.unknown.length + coverage.described.length > 0 ? `, ${coverage.unknown.length + coverage.described.length} stale left-out entries` : ''}`;
  print(`${checked} commands checked, ${differences} differences, ${accepted} accepted${staleText}${errorText}${leftOutText}${coverageText} (redis-server ${server.version})`);
  const uncovered = coverage === undefined ? 1 : coverageProblems(coverage).length;
  return differences > accepted || stale > 0 || errors.length > 0 || leftOut.errors.length > 0 || uncovered > 0 ? 1 : 0;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  runSpecDrift(root, undefined, { verbose: process.argv.includes('--verbose') }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`spec-drift: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 2;
    },
  );
}
