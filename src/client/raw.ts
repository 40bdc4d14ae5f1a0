/**
 * Raw commands (`sendCommand`): anything the spec does not cover yet, on a client, a pipeline or a
 * transaction. The name is upper-cased (GoCache only knows upper-case names); the reply comes back
 * as parsed, and a server error as a rejection.
 */
import { GoCacheArgumentError } from '../runtime/errors.js';
import type { ArgsBuilder, CommandArg, CommandInfo, Decoder } from '../runtime/types.js';

const rawReply: Decoder = (reply) => reply;

/** A raw command as a descriptor, builder and decoder, so every kind dispatches it like a generated one. */
export function rawCommand(args: readonly CommandArg[]): { info: CommandInfo; build: ArgsBuilder; decode: Decoder } {
  const first = Array.isArray(args) ? args[0] : undefined;
  const name = typeof first === 'string' && first.length > 0 ? first.toUpperCase() : '';
  const info: CommandInfo = { name: name || 'sendCommand', flags: [], keys: [], gocache: true, gocacheInMulti: true, redis: false };
  const build: ArgsBuilder = () => {
    if (!Array.isArray(args) || args.length === 0) throw new GoCacheArgumentError('sendCommand needs a non-empty array: [name, ...args]');
    if (name === '') throw new GoCacheArgumentError('sendCommand: the command name must be a non-empty string');
    return [name, ...args.slice(1)];
  };
  return { info, build, decode: rawReply };
}
