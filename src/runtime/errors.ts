/**
 * The error hierarchy. Every error the SDK raises is a GoCacheError, so one `catch` covers all;
 * the subclasses say what went wrong: the network, the server's answer, or the bytes themselves.
 */
export class GoCacheError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Could not connect, the connection dropped, or the client was closed. Pending commands reject with it. */
export class GoCacheConnectionError extends GoCacheError {}

/** A command got no reply within `commandTimeout` (or a subscription's `replyTimeout`). */
export class GoCacheTimeoutError extends GoCacheError {}

/** A command's AbortSignal fired before its reply came; `cause` is the signal's reason. */
export class GoCacheAbortError extends GoCacheError {}

/** The server sent bytes that are not valid RESP. The connection is closed: its state is unknown. */
export class GoCacheProtocolError extends GoCacheError {}

/** The arguments of a call were invalid; nothing was sent. */
export class GoCacheArgumentError extends GoCacheError {}

// A code is the first word only when it is an upper-case token: GoCache sends texts such as
// "Length of command doesn't match" with no code at all.
const ERROR_CODE = /^[A-Z][A-Z0-9_-]*$/;

/**
 * The server answered with an error reply. `message` is the server's text, intact.
 * `code` is its first word when that word is an upper-case token (`ERR`, `WRONGTYPE`, `MOVED`, ...).
 */
export class GoCacheCommandError extends GoCacheError {
  readonly code: string | undefined;
  /** The command that failed (its name), when known. */
  command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    const space = message.indexOf(' ');
    const first = space === -1 ? message : message.slice(0, space);
    this.code = ERROR_CODE.test(first) ? first : undefined;
    this.command = command;
  }

  /** True for a write refused by a read-only replica: Redis's `READONLY ...` and GoCache's `ERR READONLY ...`. */
  get readOnly(): boolean {
    return this.code === 'READONLY' || (this.code === 'ERR' && this.message.startsWith('ERR READONLY'));
  }
}
