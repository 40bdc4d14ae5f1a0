/**
 * The RESP request encoder. Every command goes out as a non-empty array of bulk strings with
 * honest byte lengths: GoCache has no recover() in its reader, so an empty array, a non-bulk element
 * or a wrong length can crash the whole server. Anything else is refused here, before a byte is made.
 */
import { GoCacheArgumentError } from '../errors.js';

/** One word of a command. Numbers are sent as their decimal text; binary values are sent as they are. */
export type CommandArg = string | Buffer | Uint8Array | number;

/**
 * The largest argument a server takes (Redis's proto-max-bulk-len, 512 MiB): a larger one would make
 * it drop the connection, and every command in flight on it, so it is refused here.
 */
export const MAX_ARGUMENT_BYTES = 512 * 1024 * 1024;

/** Node 20 has String#isWellFormed (ES2024); the project's lib is ES2022. */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Encodes one command as a RESP array of bulk strings.
 *
 * Returns a string when every argument is a string or a number (the fast path: the connection joins
 * strings into one socket write, encoded as UTF-8) and a Buffer when any argument is binary.
 * Throws GoCacheArgumentError, producing nothing, for an empty command, a name that is not a
 * non-empty string, an argument of another type, a number that is not finite, a string that is not
 * well-formed UTF-16 (a lone surrogate would be sent as U+FFFD, so '\uD800' and '\uDFFF' would be the
 * same key), or an argument over MAX_ARGUMENT_BYTES.
 */
export function encodeCommand(args: readonly CommandArg[]): string | Buffer {
  const count = args.length;
  // GoCache crashes on `*0`: a command always has at least its name.
  if (count === 0) {
    throw new GoCacheArgumentError('Cannot encode an empty command: a command needs at least its name');
  }
  const name = args[0];
  if (typeof name !== 'string') {
    throw new GoCacheArgumentError(`The command name (argument 0) must be a string, got ${describeType(name)}`);
  }
  if (name.length === 0) {
    throw new GoCacheArgumentError('The command name (argument 0) must not be empty');
  }

  // Strings and numbers accumulate in `head`; a binary argument flushes it into `pieces` and the
  // pieces are joined once at the end.
  let head = '*' + count + '\r\n';
  let pieces: Buffer[] | null = null;
  for (let i = 0; i < count; i++) {
    const arg = args[i];
    if (typeof arg === 'string') {
      const bytes = Buffer.byteLength(arg, 'utf8');
      if (bytes > MAX_ARGUMENT_BYTES) throw tooLarge(name, i, bytes);
      if (!isWellFormed(arg)) {
        throw new GoCacheArgumentError(`Argument ${i} of ${name} is not well-formed UTF-16 (it holds a lone surrogate, which UTF-8 cannot encode): send bytes as a Buffer instead`);
      }
      head += '$' + bytes + '\r\n' + arg + '\r\n';
    } else if (typeof arg === 'number') {
      if (!Number.isFinite(arg)) {
        throw new GoCacheArgumentError(`Argument ${i} of ${name} must be a finite number, got ${arg}`);
      }
      // Decimal text is ASCII, so its length is its byte length.
      const text = String(arg);
      head += '$' + text.length + '\r\n' + text + '\r\n';
    } else if (arg instanceof Uint8Array) {
      const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
      if (bytes.length > MAX_ARGUMENT_BYTES) throw tooLarge(name, i, bytes.length);
      head += '$' + bytes.length + '\r\n';
      if (pieces === null) pieces = [];
      pieces.push(Buffer.from(head, 'utf8'), bytes);
      head = '\r\n';
    } else {
      throw new GoCacheArgumentError(
        `Argument ${i} of ${name} must be a string, a number, a Buffer or a Uint8Array, got ${describeType(arg)}`,
      );
    }
  }
  if (pieces === null) return head;
  pieces.push(Buffer.from(head, 'utf8'));
  return Buffer.concat(pieces);
}

function tooLarge(name: string, index: number, bytes: number): GoCacheArgumentError {
  return new GoCacheArgumentError(`Argument ${index} of ${name} is ${bytes} bytes, over the ${MAX_ARGUMENT_BYTES}-byte (512 MiB) limit of a server's argument`);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  if (type === 'object' || type === 'function') {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    const ctorName = ctor !== undefined && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : undefined;
    return ctorName !== undefined && ctorName !== 'Object' && ctorName !== 'Function'
      ? `${type} (${ctorName})`
      : type;
  }
  return type;
}
