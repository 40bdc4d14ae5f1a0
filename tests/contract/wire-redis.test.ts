/**
 * The wire contract in Redis mode, for every command of spec/ that Redis serves, driven by the
 * generated models (a command added to spec/ is covered with no change here). For each representative
 * call (tests/contract/representative.ts: the required arguments, every positional, each option in
 * turn) the argv the generated builder makes with `{ server: 'redis' }`:
 * - starts with the command's words, upper-case;
 * - `COMMAND GETKEYS <argv>` on a live redis-server answers exactly the values the spec marks as keys,
 *   in order (and "no key arguments" for a command without keys);
 * - is accepted by the server: its reply is not a syntax or arity error, an unknown command or
 *   subcommand, or an integer or float refused where the spec put one. How it is sent depends on the
 *   server's own ACL categories (COMMAND INFO), so a command added later is never run blindly:
 *   - executed for real, on a fresh connection to a redis-server of this file's own;
 *   - `@blocking` (BLPOP, ...): executed inside MULTI ... EXEC, where Redis runs it without blocking;
 *   - `@admin` or `@dangerous`, unless listed in LOCAL_ONLY (it only reads or clears this test
 *     server's own data): queued inside MULTI, then DISCARD, so the server checks its name and arity
 *     but never runs it (CONFIG SET, and anything that could reach another host, like MIGRATE).
 * A command or option newer than the server must be refused by it (the test says so, it does not skip).
 */
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandModel } from '../../codegen/model.js';
import { startRedisServer, type RedisServerHandle } from '../../testkit/redis-server.js';
import { builderOf, loadModels, representativeCalls, versionNumber, type Call } from './representative.js';

/** `@dangerous` / `@admin` commands that only read or clear this test server's own data: run for real. */
const LOCAL_ONLY = new Set(['sort', 'sort_ro', 'keys', 'swapdb', 'info', 'lastsave', 'restore', 'flushdb', 'flushall', 'client|list', 'config|get']);

/** Replies that mean the argv is malformed (the words are not what the server expects where they are). */
const MALFORMED = /syntax error|wrong number of arguments|unknown command|unknown subcommand|not an integer|not a float|not a valid float|invalid (argument|option)/i;

/**
 * Calls the server refuses although the spec allows them, each with why: at `getkeys` (COMMAND
 * GETKEYS answers this error) or at `send` (the server answers this error). The test asserts the
 * refusal still happens, so a fixed spec or builder makes it fail until the entry is removed. Nothing
 * else is exempt.
 */
const KNOWN_REFUSALS: Record<string, { at: 'getkeys' | 'send'; error: RegExp; why: string }> = {
  'HELLO option auth': {
    at: 'send',
    error: /^ERR Protocol version is not an integer or out of range$/,
    why: 'protover is an optional positional, but Redis needs it before AUTH (the builder sends HELLO AUTH u p, read as protover "AUTH")',
  },
  'HELLO option clientName': {
    at: 'send',
    error: /^ERR Protocol version is not an integer or out of range$/,
    why: 'as for auth: HELLO SETNAME n without a protover',
  },
  'CLIENT KILL required arguments': {
    at: 'send',
    error: /^ERR wrong number of arguments for 'client\|kill' command$/,
    why: 'every filter of CLIENT KILL is optional, but the server needs at least one; the spec format cannot say "at least one of these options" yet',
  },
  'XTRIM required arguments': {
    at: 'send',
    error: /^ERR syntax error, LIMIT cannot be used without the special ~ option$/,
    why: "the representative call gives LIMIT with the '=' operator; the spec format cannot tie LIMIT to '~' (its doc says so)",
  },
  'HRANDFIELD option withvalues': {
    at: 'send',
    error: /^ERR value is not an integer or out of range$/,
    why: 'WITHVALUES needs count (the spec says so in a doc), but the builder sends HRANDFIELD key WITHVALUES, read as the count',
  },
  'ZRANDMEMBER option withscores': {
    at: 'send',
    error: /^ERR value is not an integer or out of range$/,
    why: 'as for HRANDFIELD: WITHSCORES needs count',
  },
  'ZRANGE option limit': {
    at: 'send',
    error: /^ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX$/,
    why: 'LIMIT needs BYSCORE or BYLEX; the spec cannot say that one option needs another',
  },
  'ZRANGESTORE option limit': {
    at: 'send',
    error: /^ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX$/,
    why: 'as for ZRANGE',
  },
  'MIGRATE option keys': {
    at: 'getkeys',
    error: /^ERR Invalid arguments specified for command$/,
    why: "with KEYS the key argument must be '' (the spec says so in a doc); the representative call gives a key",
  },
};

// ---------------------------------------------------------------------------------------------------
// A raw RESP2 client, independent of src/ (whose builders are under test): one fresh connection per
// exchange, every reply read.

type Reply = string | number | null | Reply[] | { error: string };

function encode(argv: readonly string[]): Buffer {
  return Buffer.concat([Buffer.from(`*${argv.length}\r\n`), ...argv.flatMap((a) => [Buffer.from(`$${Buffer.byteLength(a)}\r\n${a}\r\n`)])]);
}

function parseReply(buf: Buffer, pos: number): { value: Reply; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd === -1) return undefined;
  const line = buf.toString('utf8', pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (String.fromCharCode(buf[pos]!)) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: { error: line }, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`not RESP2: ${JSON.stringify(buf.toString('latin1', pos, pos + 20))}`);
  }
}

/** Sends the commands in one write on a fresh connection; resolves to their replies. */
function exchange(server: RedisServerHandle, commands: readonly string[][]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const done = (error?: Error, replies?: Reply[]) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(replies!);
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const replies: Reply[] = [];
      let at = 0;
      while (replies.length < commands.length) {
        const reply = parseReply(received, at);
        if (reply === undefined) return;
        replies.push(reply.value);
        at = reply.end;
      }
      done(undefined, replies);
    });
    socket.once('error', (error) => done(error));
    socket.once('close', () => done(new Error(`connection closed before ${commands.length} replies to ${JSON.stringify(commands)}`)));
    socket.connect(server.port, server.host, () => socket.write(Buffer.concat(commands.map(encode))));
  });
}

const errorOf = (reply: Reply | undefined): string | undefined => (reply !== null && typeof reply === 'object' && !Array.isArray(reply) ? reply.error : undefined);

// ---------------------------------------------------------------------------------------------------

const models = loadModels().filter((model) => model.redis !== false);
let server: RedisServerHandle;
/** The server's ACL categories per command (`config|set`), from COMMAND INFO. */
const categories = new Map<string, string[]>();
/**
 * Commands whose every key spec the server flags `not_key` (shard channels: SPUBLISH, SSUBSCRIBE):
 * routed like keys, which is why a spec may mark them so, but never reported by COMMAND GETKEYS.
 */
const notKeysOnly = new Set<string>();

beforeAll(async () => {
  server = await startRedisServer();
  const [info] = await exchange(server, [['COMMAND', 'INFO']]);
  const visit = (entry: Reply) => {
    if (!Array.isArray(entry)) return;
    const [name, , , , , , acl, , keySpecs, subcommands] = entry;
    categories.set(String(name), (acl as string[]).map(String));
    // Each key spec is a flat [field, value, ...] list in RESP2.
    const flags = ((keySpecs ?? []) as Reply[][]).map((spec) => spec[spec.indexOf('flags') + 1] as string[]);
    if (flags.length > 0 && flags.every((f) => f.includes('not_key'))) notKeysOnly.add(String(name));
    if (Array.isArray(subcommands)) subcommands.forEach(visit);
  };
  (info as Reply[]).forEach(visit);
  expect(categories.get('get')).toContain('@read');
  expect(notKeysOnly).toContain('spublish');
  expect(notKeysOnly).not.toContain('get');
});
afterAll(async () => {
  await server?.stop();
});

/** The command's name in COMMAND INFO: `get`, `config|set` (a subcommand when the server has it as one). */
function serverName(model: CommandModel): string {
  const name = model.words.join('|').toLowerCase();
  return categories.has(name) ? name : model.words[0]!.toLowerCase();
}

/** How a command's call is sent, from the server's categories (see the header). */
function mode(model: CommandModel): 'execute' | 'multi-exec' | 'multi-discard' {
  const name = serverName(model);
  const acl = categories.get(name) ?? [];
  if (acl.includes('@blocking')) return 'multi-exec';
  if ((acl.includes('@admin') || acl.includes('@dangerous')) && !LOCAL_ONLY.has(name)) return 'multi-discard';
  return 'execute';
}

/** The reply the server gives the command, sent as `mode` says. */
async function send(model: CommandModel, argv: string[]): Promise<Reply> {
  switch (mode(model)) {
    case 'execute':
      return (await exchange(server, [argv]))[0]!;
    case 'multi-exec': {
      const [multi, queued, exec] = await exchange(server, [['MULTI'], argv, ['EXEC']]);
      expect(multi).toBe('OK');
      if (errorOf(queued) !== undefined) return queued!;
      expect(queued).toBe('QUEUED');
      return (exec as Reply[])[0]!;
    }
    case 'multi-discard': {
      const [multi, queued, discard] = await exchange(server, [['MULTI'], argv, ['DISCARD']]);
      expect(multi).toBe('OK');
      expect(discard).toBe('OK');
      return queued!;
    }
  }
}

const newer = (since: string | undefined): boolean => since !== undefined && versionNumber(since) > versionNumber(server.version);

describe.each(models.map((model) => ({ name: model.command, model })))('$name', ({ model }) => {
  const calls = representativeCalls(model);

  it.each(calls.map((call) => ({ label: call.label, call })))('$label: COMMAND GETKEYS finds the spec\'s keys and the server accepts the argv', async ({ call }: { call: Call }) => {
    const build = await builderOf(model);
    const argv = build({ server: 'redis' }, ...call.builderArgs).map(String);
    expect(argv.slice(0, model.words.length)).toEqual(model.words);
    for (const word of model.words) expect(word).toBe(word.toUpperCase());

    if (newer(model.redis as string)) {
      // Newer than this server: it must not know the command (so the test is not silently passing).
      expect(errorOf(await send(model, argv)), `${model.command} is newer than redis-server ${server.version}`).toMatch(/unknown (command|subcommand)/i);
      return;
    }

    const known = KNOWN_REFUSALS[`${model.command} ${call.label}`];
    const stillKnown = `known refusal (${known?.why}): remove it from KNOWN_REFUSALS once fixed`;
    // A command with key arguments answers the keys of this call (none, for EVAL's numkeys 0); one
    // without (or whose keys the server flags not_key) says it has none. GETKEYS needs an argument
    // after the name: a call of the bare name holds no key.
    if (argv.length === 1) {
      expect(call.keys).toEqual([]);
    } else {
      const [keys] = await exchange(server, [['COMMAND', 'GETKEYS', ...argv]]);
      if (known?.at === 'getkeys') expect(errorOf(keys), stillKnown).toMatch(known.error);
      else if (model.keyArgs.length > 0 && !notKeysOnly.has(serverName(model))) expect(keys, 'COMMAND GETKEYS').toEqual(call.keys);
      else expect(errorOf(keys), `COMMAND GETKEYS of ${argv.join(' ')}`).toBe('ERR The command has no key arguments');
    }

    const reply = await send(model, argv);
    const error = errorOf(reply);
    if (newer(call.option?.since)) {
      expect(error, `option ${call.option!.name} is newer than redis-server ${server.version}`).toMatch(MALFORMED);
    } else if (known?.at === 'send') {
      expect(error, stillKnown).toMatch(known.error);
    } else {
      expect(error ?? '', `${argv.join(' ')} (sent by ${mode(model)})`).not.toMatch(MALFORMED);
    }
  });
});

it('sends every blocking command inside MULTI/EXEC and runs the others for real, except the admin ones', () => {
  const sentAs = (m: ReturnType<typeof mode>) => models.filter((model) => mode(model) === m).map((model) => model.command);
  expect(sentAs('multi-exec')).toContain('BLPOP');
  expect(sentAs('multi-discard')).toContain('CONFIG SET');
  expect(sentAs('execute')).toEqual(expect.arrayContaining(['SET', 'SORT', 'FLUSHALL']));
  expect(Object.keys(KNOWN_REFUSALS).every((name) => models.some((m) => name.startsWith(`${m.command} `)))).toBe(true);
});
