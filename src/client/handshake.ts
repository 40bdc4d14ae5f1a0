/**
 * What a new connection sends before anything else, the same for the client, its subscriptions and
 * its isolated connections: nothing at all unless the options ask for it (GoCache knows no HELLO,
 * AUTH, CLIENT or SELECT), then HELLO 3 or AUTH, CLIENT SETNAME, SELECT, built by the generated
 * builders like every other command.
 */
import { AUTH, authArgs, CLIENT_SETNAME, clientSetnameArgs, decodeAuth, decodeClientSetname, decodeHello, decodeSelect, HELLO, helloArgs, SELECT, selectArgs } from '../../generated/commands/connection.js';
import type { ArgsContext, CommandArg, CommandInfo, Decoder } from '../runtime/types.js';
import { GoCacheConnectionError } from '../runtime/errors.js';
import { serverName, type Connection } from './connection.js';
import type { ResolvedOptions } from './options.js';

/**
 * Runs the handshake, then `setup` (a cluster replica's READONLY), within `connectTimeout` (when it is
 * not 0): a server that accepts the socket and never answers must not hold a connect or a reconnect
 * for ever. On timeout the connection is destroyed, which rejects the pending step.
 */
export async function handshake(connection: Connection, options: ResolvedOptions, setup?: (connection: Connection) => Promise<void> | void): Promise<void> {
  const timer =
    options.connectTimeout > 0
      ? setTimeout(() => {
          connection.destroy(new GoCacheConnectionError(`The handshake got no answer within connectTimeout (${options.connectTimeout} ms) from ${serverName(options.server)} at ${connection.address}`));
        }, options.connectTimeout)
      : undefined;
  try {
    await runHandshake(connection, options);
    await setup?.(connection);
  } finally {
    clearTimeout(timer);
  }
}

async function runHandshake(connection: Connection, options: ResolvedOptions): Promise<void> {
  const { protocol, username, password, database, clientName } = options;
  const context: ArgsContext = { server: options.server };
  const run = (info: CommandInfo, args: CommandArg[], decode: Decoder) => connection.send(info.name, args, decode);
  if (protocol === 3) {
    const auth = password !== undefined ? { auth: { username: username ?? 'default', password } } : {};
    await run(HELLO, helloArgs(context, 3, { ...auth, ...(clientName !== undefined ? { clientName } : {}) }), decodeHello);
  } else {
    if (password !== undefined) await run(AUTH, authArgs(context, username !== undefined ? { username, password } : { password }), decodeAuth);
    if (clientName !== undefined) await run(CLIENT_SETNAME, clientSetnameArgs(context, clientName), decodeClientSetname);
  }
  if (database !== undefined && database !== 0) await run(SELECT, selectArgs(context, database), decodeSelect);
}
