/**
 * The streaming RESP2 + RESP3 reply parser: the hottest path of the SDK.
 *
 * One cursor moves forward through each chunk and never goes back over bytes already parsed:
 * - aggregates (arrays, maps, sets, pushes, attributes) live on a stack of partly filled frames, so
 *   one cut at the end of a chunk resumes where it stopped instead of re-parsing from its start;
 * - a bulk string that spans chunks is copied, as its bytes come, into one buffer that grows with
 *   the bytes received (a reused scratch buffer, except the final one of a Buffer reply, which is
 *   the value), so no chunk is kept;
 * - a cut line (a header such as `$12` or `:123` without its CRLF yet) is copied into a small line
 *   buffer; each later chunk is searched only for the rest of that line, from where the last search
 *   stopped, and the chunk is then parsed in place from the line's end.
 * Integers and lengths are read by digit arithmetic; strings are decoded straight from the chunk.
 *
 * A hostile or broken server must not be able to exhaust memory or CPU with a few bytes, so every
 * declared size is checked against a limit before anything is reserved for it, and nothing is
 * reserved from a header alone beyond a small, fixed amount. The limits (RespParserOptions) are:
 * - `maxBulkLength` (DEFAULT_MAX_BULK_LENGTH, 512 MiB, Redis's proto-max-bulk-len): the largest
 *   `$`, `=` or `!` payload. A bulk buffer is reserved at its declared size only up to 1 MiB, or
 *   up to BULK_GROWTH times the bytes already received; past that it grows as the bytes arrive.
 * - `maxAggregateLength` (DEFAULT_MAX_AGGREGATE_LENGTH, 2^24): the largest element count of an
 *   array, set or push, and pair count of a map or attribute. At most MAX_AGGREGATE_LENGTH.
 * - `maxDepth` (DEFAULT_MAX_DEPTH, 128): how many aggregates may be open at once (an aggregate
 *   inside 128 others is refused).
 * - `maxLineLength` (DEFAULT_MAX_LINE_LENGTH, 64 KiB, Redis's own inline and header limit): the
 *   most bytes between a line's type byte and its CRLF, for simple strings, errors, integers,
 *   doubles, big numbers and every length header, whether the line comes in one chunk or many.
 * Exceeding one throws a GoCacheProtocolError naming the limit and the stream offset, like any
 * other malformed input; the parser then refuses input until reset().
 *
 * The same bytes give the same replies and the same error however they are cut into chunks (the
 * unit tests feed them split at every byte; tests/unit/parser-fuzz.test.ts checks it on random
 * input against a reference decoder).
 */
import { constants as bufferConstants, isAscii } from 'node:buffer';
import { GoCacheCommandError, GoCacheProtocolError } from '../errors.js';

/** A parsed reply. Server errors are values (GoCacheCommandError), not exceptions, also when nested. */
export type RespValue =
  | string
  | Buffer
  | number
  | bigint
  | boolean
  | null
  | GoCacheCommandError
  | RespValue[]
  | Map<RespValue, RespValue>;

export interface RespParserHandlers {
  /** One call per complete top-level reply, in order. */
  onReply(value: RespValue): void;
  /** RESP3 `>` push frames (top level). When absent they are delivered through onReply. */
  onPush?(value: RespValue[]): void;
}

/** Limits on what the server may send; each is checked on every path, in one chunk or across many. */
export interface RespParserOptions {
  /** The largest bulk, verbatim or blob-error payload, in bytes. Default DEFAULT_MAX_BULK_LENGTH (512 MiB). */
  maxBulkLength?: number;
  /**
   * The largest element count of an array, set or push, and pair count of a map or attribute.
   * Default DEFAULT_MAX_AGGREGATE_LENGTH (2^24); at most MAX_AGGREGATE_LENGTH.
   */
  maxAggregateLength?: number;
  /** How many aggregates may be nested (open at once). Default DEFAULT_MAX_DEPTH (128). */
  maxDepth?: number;
  /** The most bytes between a line's type byte and its CR. Default DEFAULT_MAX_LINE_LENGTH (64 KiB). */
  maxLineLength?: number;
}

/**
 * Redis's own limit for a bulk string (proto-max-bulk-len). As a string (returnBuffers false) a
 * value is also bounded by V8's longest string, 2^29 - 24 UTF-16 units: decoding a larger one
 * throws V8's own error, which feed() lets through; read such values as Buffers.
 */
export const DEFAULT_MAX_BULK_LENGTH = 512 * 1024 * 1024;
/**
 * The default maxAggregateLength: 16,777,216 elements (or pairs). Legitimate replies get big (KEYS,
 * SMEMBERS or HGETALL on a large database return millions of elements), so the default is as high
 * as one limit can safely be for every aggregate type: it is exactly the most entries a JavaScript
 * Map holds (one more is a RangeError), and an array of that length is already about 128 MiB of
 * pointers before its values. A large declared length costs nothing up front (arrays grow as their
 * elements arrive, see PREALLOCATE_LIMIT), so this limit bounds sizes, not reservations.
 */
export const DEFAULT_MAX_AGGREGATE_LENGTH = 2 ** 24;
/**
 * The highest maxAggregateLength accepted (2^26). V8 aborts the whole process (a fatal error, not
 * an exception) when an array's backing store must grow past 134,217,725 slots (measured on Node 20:
 * at about 112 million elements); an array of 2^26 and its growth stay well below that. Maps and
 * attributes are refused above MAX_MAP_SIZE pairs whatever the option says.
 */
export const MAX_AGGREGATE_LENGTH = 2 ** 26;
/** The most entries a JavaScript Map holds. */
export const MAX_MAP_SIZE = 2 ** 24;
/**
 * Replies nest a few levels (EXEC of XREADs, COMMAND DOCS, Lua tables); 128 leaves room for any of
 * them while refusing a stream of `*1` headers that would build millions of frames (4 million
 * nested `*1`, 16 MB on the wire, took 580 MB before this limit).
 */
export const DEFAULT_MAX_DEPTH = 128;
/** Redis refuses inline requests and multibulk headers longer than 64 KiB (PROTO_INLINE_MAX_SIZE); so do we. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/** Arrays up to this length are preallocated; longer ones grow as their elements arrive. */
const PREALLOCATE_LIMIT = 65536;
/**
 * The most array slots preallocated for all open frames together (otherwise 128 nested `*65536`
 * headers, 1 KiB on the wire, would reserve 64 MiB of pointers); past it, frames grow as elements arrive.
 */
const PREALLOCATE_BUDGET = 2 * PREALLOCATE_LIMIT;
/** A bulk payload up to this size gets a buffer of its declared size at once (one copy per byte). */
const BULK_PREALLOCATE_LIMIT = 1024 * 1024;
/**
 * Above BULK_PREALLOCATE_LIMIT a bulk buffer holds at most this many times the bytes received so
 * far, so a 13-byte `$536870912` header reserves 1 MiB, not 512 MiB, and a liar must send 1/8 of
 * what it claims to get it reserved. A 64 MiB value that arrives in 64 KiB chunks is copied into
 * 1 MiB, 8.5 MiB then 64 MiB buffers: 15% more copying than reserving it from the header (the
 * first ones are the reused scratch buffer, so it is not 15% more allocation too).
 */
const BULK_GROWTH = 8;
/** A line buffer up to this size is kept for the next cut line. */
const LINE_KEEP_LIMIT = 4096;

// Type bytes.
const SIMPLE_STRING = 0x2b; // +
const SIMPLE_ERROR = 0x2d; // -
const INTEGER = 0x3a; // :
const BULK_STRING = 0x24; // $
const ARRAY = 0x2a; // *
const NULL = 0x5f; // _
const DOUBLE = 0x2c; // ,
const BOOLEAN = 0x23; // #
const BIG_NUMBER = 0x28; // (
const VERBATIM_STRING = 0x3d; // =
const BLOB_ERROR = 0x21; // !
const MAP = 0x25; // %
const SET = 0x7e; // ~
const PUSH = 0x3e; // >
const ATTRIBUTE = 0x7c; // |

const CR = 0x0d;
const LF = 0x0a;
const MINUS = 0x2d;

// Frame kinds: what a finished aggregate becomes.
const KIND_ARRAY = 0;
const KIND_MAP = 1;
const KIND_PUSH = 2;
const KIND_ATTRIBUTE = 3;

const DOUBLE_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BIG_NUMBER_TEXT = /^[+-]?\d+$/;

/** Node's undocumented but long-standing direct slicers, which skip toString's argument handling. */
interface FastSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/** Up to 16 ASCII bytes: String.fromCharCode beats the native slice call (~30 vs ~40 ns). */
function shortAscii(buf: Buffer, start: number, end: number): string | undefined {
  let bits = 0;
  for (let i = start; i < end; i++) bits |= buf[i]!;
  if (bits >= 0x80) return undefined;
  switch (end - start) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(buf[start]!);
    case 2:
      return String.fromCharCode(buf[start]!, buf[start + 1]!);
    case 3:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!);
    case 4:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!);
    case 5:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!);
    case 6:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!);
    case 7:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!);
    case 8:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!);
    case 9:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!);
    case 10:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!, buf[start + 9]!);
    case 11:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!, buf[start + 9]!, buf[start + 10]!);
    case 12:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!, buf[start + 9]!, buf[start + 10]!, buf[start + 11]!);
    case 13:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!, buf[start + 9]!, buf[start + 10]!, buf[start + 11]!, buf[start + 12]!);
    case 14:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!, buf[start + 9]!, buf[start + 10]!, buf[start + 11]!, buf[start + 12]!, buf[start + 13]!);
    case 15:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!, buf[start + 9]!, buf[start + 10]!, buf[start + 11]!, buf[start + 12]!, buf[start + 13]!, buf[start + 14]!);
    case 16:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!, buf[start + 4]!, buf[start + 5]!, buf[start + 6]!, buf[start + 7]!, buf[start + 8]!, buf[start + 9]!, buf[start + 10]!, buf[start + 11]!, buf[start + 12]!, buf[start + 13]!, buf[start + 14]!, buf[start + 15]!);
  }
  return undefined;
}

function utf8(buf: Buffer, start: number, end: number): string {
  if (end - start <= 16) {
    const text = shortAscii(buf, start, end);
    if (text !== undefined) return text;
  }
  if (end - start >= ASCII_CHECK_FROM && isAscii(buf.subarray(start, end))) return (buf as unknown as FastSlices).latin1Slice(start, end);
  return (buf as unknown as FastSlices).utf8Slice(start, end);
}

function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as FastSlices).latin1Slice(start, end);
}

/**
 * From this size, an ASCII bulk string is made with latin1Slice, which skips UTF-8 decoding and,
 * above ~1 MB, gives V8 an external string (one memcpy, outside the JS heap) instead of a fresh
 * large-object-space string: 2x faster at 1 MiB. isAscii (simdutf) costs ~1% of that.
 */
const ASCII_CHECK_FROM = 128 * 1024;
/** A scratch buffer up to this size is kept to join the pieces of large strings (string mode). */
const SCRATCH_KEEP_LIMIT = 16 * 1024 * 1024;

/** Below this size a byte loop beats the native copy call (measured on Node 20). */
const LOOP_COPY_LIMIT = 48;

/** A copy, so the value does not alias (or keep alive) the socket's chunk. */
function copyBytes(buf: Buffer, start: number, end: number): Buffer {
  const length = end - start;
  const out = Buffer.allocUnsafe(length);
  if (length < LOOP_COPY_LIMIT) {
    // Four bytes a step: a quarter of the loop's tests (measured: a 13-byte copy 20% cheaper).
    let i = 0;
    for (const last4 = length - 3; i < last4; i += 4) {
      out[i] = buf[start + i]!;
      out[i + 1] = buf[start + i + 1]!;
      out[i + 2] = buf[start + i + 2]!;
      out[i + 3] = buf[start + i + 3]!;
    }
    for (; i < length; i++) out[i] = buf[start + i]!;
  } else {
    buf.copy(out, 0, start, end);
  }
  return out;
}

/** Lines whose content is an optional `-` and digits (integers and every length header). */
function isNumericLine(type: number): boolean {
  return type !== SIMPLE_STRING && type !== SIMPLE_ERROR && type !== DOUBLE && type !== BIG_NUMBER;
}

/** A header's number for an error message, shortened: it may be up to maxLineLength digits. */
function shortText(buf: Buffer, start: number, end: number): string {
  return end - start <= 24 ? latin1(buf, start, end) : `${latin1(buf, start, start + 20)}... (${end - start} digits)`;
}

function checkLimit(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** A partly filled aggregate. Frames are reused by depth, so nesting allocates nothing but the values. */
class Frame {
  kind = KIND_ARRAY;
  items: RespValue[] = [];
  index = 0;
  length = 0;
  /** Slots preallocated for this frame, counted in the parser's budget until it closes. */
  reserved = 0;
}

const NO_ITEMS: RespValue[] = [];

export class RespParser {
  /**
   * When true, bulk and verbatim strings are returned as Buffers instead of UTF-8 strings.
   * Read at the start of each top-level reply, so it may be flipped from inside onReply for the next one.
   */
  returnBuffers = false;

  private readonly handlers: RespParserHandlers;
  private readonly maxBulkLength: number;
  private readonly maxAggregateLength: number;
  private readonly maxDepth: number;
  private readonly maxLineLength: number;
  /** Numbers of up to this many digits need no check beyond the digits: min(15, maxLineLength - 1). */
  private readonly shortDigits: number;

  /**
   * The returnBuffers value for the reply being parsed: taken when no reply is in progress, at the
   * start of feed() and after each top-level reply is delivered (so after a handler's flip).
   */
  private buffers = false;
  /** A top-level attribute was parsed and the value it describes (the same reply) is not delivered yet. */
  private afterAttribute = false;

  private readonly frames: Frame[] = [];
  private depth = 0;
  /** frames[depth - 1], the innermost open aggregate, or null. */
  private top: Frame | null = null;
  /** Slots preallocated by the open frames (at most PREALLOCATE_BUDGET). */
  private reserved = 0;

  /**
   * A cut line, from its type byte on, waiting for the rest: line[0, lineFilled). Of its content
   * (after the type byte), the first lineScanned bytes are known to hold no CR (and, for a numeric
   * line, to be valid); lineCr: its last byte is the CR, only the byte after it is missing.
   */
  private linePending = false;
  private line: Buffer | null = null;
  private lineFilled = 0;
  private lineScanned = 0;
  private lineCr = false;
  /** Stream offset of the cut line's type byte. */
  private lineOffset = 0;

  /** A bulk string (data and its CRLF) that spans chunks: bulkBuffer[0, bulkFilled) received so far. */
  private bulkPending = false;
  private bulkBuffer: Buffer | null = null;
  private bulkFilled = 0;
  private bulkType = BULK_STRING;
  private bulkLength = 0;
  /** True when the bulk buffer is the value's own (a Buffer reply): it is returned, not copied. */
  private bulkOwned = false;
  private bulkDataOffset = 0;
  /** Reused for the bytes of strings and the first part of large Buffers that span chunks (never handed out). */
  private scratch: Buffer | null = null;

  /** Result of readInteger. */
  private integer = 0;
  /** Stream offset of byte 0 of the buffer being parsed, for error messages. */
  private base = 0;
  /** Bytes fed so far. */
  private fed = 0;
  private failed: GoCacheProtocolError | null = null;
  /** Set by reset(), so a reset from inside a handler stops the parse of the current chunk. */
  private interrupted = false;

  constructor(handlers: RespParserHandlers, options: RespParserOptions = {}) {
    this.handlers = handlers;
    this.maxBulkLength = checkLimit('maxBulkLength', options.maxBulkLength, DEFAULT_MAX_BULK_LENGTH, 0, bufferConstants.MAX_LENGTH - 2);
    this.maxAggregateLength = checkLimit('maxAggregateLength', options.maxAggregateLength, DEFAULT_MAX_AGGREGATE_LENGTH, 0, MAX_AGGREGATE_LENGTH);
    this.maxDepth = checkLimit('maxDepth', options.maxDepth, DEFAULT_MAX_DEPTH, 0, Number.MAX_SAFE_INTEGER);
    // At least 1: a boolean's line (`#t`) always holds one byte.
    this.maxLineLength = checkLimit('maxLineLength', options.maxLineLength, DEFAULT_MAX_LINE_LENGTH, 1, Number.MAX_SAFE_INTEGER - 4);
    // 15 digits are always exact in a double; a sign and maxLineLength - 1 digits fit the line limit.
    this.shortDigits = Math.min(15, this.maxLineLength - 1);
  }

  /**
   * Feeds the next chunk. Handlers are called synchronously for every reply it completes; they must
   * not throw. Throws GoCacheProtocolError on malformed input or an exceeded limit, after which the
   * parser refuses more input until reset(). The parser keeps no reference to `chunk` once feed
   * returns (what it needs later is copied), so the caller may reuse the buffer (the connection
   * reads into one).
   */
  feed(chunk: Buffer): void {
    if (this.failed !== null) throw this.failed;
    const chunkLength = chunk.length;
    if (chunkLength === 0) return;
    this.interrupted = false;
    const chunkBase = this.fed;
    this.fed += chunkLength;
    if (this.depth === 0 && !this.linePending && !this.bulkPending && !this.afterAttribute) this.buffers = this.returnBuffers;

    let offset = 0;
    if (this.linePending) {
      offset = this.continueLine(chunk);
      // The line may have been a bulk header: its data follows in this chunk.
      if (offset < 0 || this.interrupted) return;
    }
    if (this.bulkPending) {
      offset = this.continueBulk(chunk, offset);
      if (offset < 0 || this.interrupted) return;
    }
    if (offset < chunkLength) {
      this.base = chunkBase;
      this.parse(chunk, offset);
    }
  }

  /** Drops any partial state (and a previous protocol error): the next byte fed starts a new reply. */
  reset(): void {
    for (let i = 0; i < this.depth; i++) this.frames[i]!.items = NO_ITEMS;
    this.depth = 0;
    this.top = null;
    this.reserved = 0;
    this.afterAttribute = false;
    this.linePending = false;
    this.lineFilled = 0;
    this.bulkPending = false;
    this.bulkBuffer = null;
    this.failed = null;
    this.interrupted = true;
  }

  private parse(buf: Buffer, start: number): void {
    const len = buf.length;
    let offset = start;
    while (offset < len) {
      const type = buf[offset]!;
      let value: RespValue;
      switch (type) {
        case BULK_STRING: {
          const dataStart = this.readLength(buf, offset + 1, this.maxBulkLength, type);
          if (dataStart < 0) return this.keepLine(buf, offset);
          const n = this.integer;
          if (n === -1) {
            value = null;
            offset = dataStart;
            break;
          }
          const dataEnd = dataStart + n;
          if (dataEnd + 2 > len) return this.startBulk(type, n, buf, dataStart);
          if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) throw this.missingCrlf(this.base + dataEnd);
          value = this.buffers ? copyBytes(buf, dataStart, dataEnd) : utf8(buf, dataStart, dataEnd);
          offset = dataEnd + 2;
          break;
        }
        case SIMPLE_STRING: {
          // `+OK\r\n`, the reply of SET and most writes: a constant, no string to make.
          if (offset + 4 < len && buf[offset + 1] === 0x4f && buf[offset + 2] === 0x4b && buf[offset + 3] === CR && buf[offset + 4] === LF) {
            value = 'OK';
            offset += 5;
            break;
          }
          const cr = this.findLineEnd(buf, offset + 1);
          if (cr < 0) return this.keepLine(buf, offset);
          value = utf8(buf, offset + 1, cr);
          offset = cr + 2;
          break;
        }
        case INTEGER: {
          const next = this.readInteger(buf, offset + 1);
          if (next < 0) return this.keepLine(buf, offset);
          value = this.integer;
          offset = next;
          break;
        }
        case ARRAY:
        case SET:
        case PUSH:
        case MAP:
        case ATTRIBUTE: {
          const next = this.readLength(buf, offset + 1, this.maxAggregateLength, type);
          if (next < 0) return this.keepLine(buf, offset);
          const n = this.integer;
          if (n === -1) {
            // RESP2's null array; RESP3 has `_` and never sends a null map, set, push or attribute.
            if (type !== ARRAY) throw this.nullLength(type, offset);
            value = null;
            offset = next;
            break;
          }
          if (this.depth >= this.maxDepth) throw this.tooDeep(type, offset);
          const pairs = type === MAP || type === ATTRIBUTE;
          if (pairs && n > MAX_MAP_SIZE) throw this.tooLong(buf, offset, next, type, `${MAX_MAP_SIZE}, the most entries a JavaScript Map holds`);
          offset = next;
          if (n === 0) {
            if (type === ATTRIBUTE) continue; // an empty attribute: nothing to skip
            if (type === MAP) value = new Map();
            else if (type === PUSH && this.depth === 0) {
              this.emitPush([]);
              if (this.interrupted) return;
              continue;
            } else value = [];
            break;
          }
          const kind = type === MAP ? KIND_MAP : type === ATTRIBUTE ? KIND_ATTRIBUTE : type === PUSH ? KIND_PUSH : KIND_ARRAY;
          this.pushFrame(kind, pairs ? n * 2 : n);
          continue;
        }
        case SIMPLE_ERROR: {
          const cr = this.findLineEnd(buf, offset + 1);
          if (cr < 0) return this.keepLine(buf, offset);
          value = new GoCacheCommandError(utf8(buf, offset + 1, cr));
          offset = cr + 2;
          break;
        }
        case NULL: {
          if (offset + 3 > len) return this.keepLine(buf, offset);
          if (buf[offset + 1] !== CR || buf[offset + 2] !== LF) throw this.malformed('null', offset);
          value = null;
          offset += 3;
          break;
        }
        case BOOLEAN: {
          if (offset + 4 > len) return this.keepLine(buf, offset);
          const flag = buf[offset + 1];
          if ((flag !== 0x74 && flag !== 0x66) || buf[offset + 2] !== CR || buf[offset + 3] !== LF) {
            throw this.malformed('boolean', offset);
          }
          value = flag === 0x74; // t
          offset += 4;
          break;
        }
        case DOUBLE: {
          const cr = this.findLineEnd(buf, offset + 1);
          if (cr < 0) return this.keepLine(buf, offset);
          value = this.parseDouble(latin1(buf, offset + 1, cr), offset);
          offset = cr + 2;
          break;
        }
        case BIG_NUMBER: {
          const cr = this.findLineEnd(buf, offset + 1);
          if (cr < 0) return this.keepLine(buf, offset);
          const text = latin1(buf, offset + 1, cr);
          if (!BIG_NUMBER_TEXT.test(text)) throw this.malformed('big number', offset);
          value = BigInt(text);
          offset = cr + 2;
          break;
        }
        case VERBATIM_STRING:
        case BLOB_ERROR: {
          const dataStart = this.readLength(buf, offset + 1, this.maxBulkLength, type);
          if (dataStart < 0) return this.keepLine(buf, offset);
          const n = this.integer;
          if (n === -1) throw this.nullLength(type, offset);
          const dataEnd = dataStart + n;
          if (dataEnd + 2 > len) return this.startBulk(type, n, buf, dataStart);
          if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) throw this.missingCrlf(this.base + dataEnd);
          value = this.blobValue(type, buf, dataStart, dataEnd, false, this.base + dataStart);
          offset = dataEnd + 2;
          break;
        }
        default:
          throw this.fail(
            `Unexpected RESP type byte 0x${type.toString(16).padStart(2, '0')}` +
              `${type >= 0x20 && type < 0x7f ? ` ('${String.fromCharCode(type)}')` : ''} at offset ${this.base + offset}`,
          );
      }
      if (this.deliver(value)) return;
    }
  }

  /**
   * Adds a finished value to the innermost open aggregate, closing those it completes, or emits it.
   * Returns true when a handler called reset(): the parse of this chunk must stop.
   */
  private deliver(value: RespValue): boolean {
    let v = value;
    let frame = this.top;
    while (frame !== null) {
      frame.items[frame.index++] = v;
      if (frame.index < frame.length) return false;
      const depth = --this.depth;
      this.top = depth > 0 ? this.frames[depth - 1]! : null;
      this.reserved -= frame.reserved;
      const items = frame.items;
      frame.items = NO_ITEMS;
      if (frame.kind === KIND_ARRAY) {
        v = items;
      } else if (frame.kind === KIND_MAP) {
        const map = new Map<RespValue, RespValue>();
        for (let i = 0; i < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
        v = map;
      } else if (frame.kind === KIND_PUSH) {
        if (depth === 0) {
          this.emitPush(items);
          return this.interrupted;
        }
        v = items;
      } else {
        // An attribute describes the value that follows it; the SDK has no use for it.
        if (depth === 0) this.afterAttribute = true;
        return false;
      }
      frame = this.top;
    }
    this.afterAttribute = false;
    this.handlers.onReply(v);
    this.buffers = this.returnBuffers;
    return this.interrupted;
  }

  private emitPush(items: RespValue[]): void {
    this.afterAttribute = false;
    const onPush = this.handlers.onPush;
    if (onPush !== undefined) onPush.call(this.handlers, items);
    else this.handlers.onReply(items);
    this.buffers = this.returnBuffers;
  }

  private pushFrame(kind: number, length: number): void {
    let frame = this.frames[this.depth];
    if (frame === undefined) {
      frame = new Frame();
      this.frames.push(frame);
    }
    frame.kind = kind;
    if (length <= PREALLOCATE_LIMIT && this.reserved + length <= PREALLOCATE_BUDGET) {
      frame.items = new Array<RespValue>(length);
      frame.reserved = length;
      this.reserved += length;
    } else {
      frame.items = [];
      frame.reserved = 0;
    }
    frame.index = 0;
    frame.length = length;
    this.top = frame;
    this.depth++;
  }

  /**
   * Keeps the cut line that starts at `offset` (its type byte) for the next chunk. Its content was
   * scanned by findLineEnd or readInteger: no CR, and valid digits for a numeric line, except that
   * the last byte may be a CR (or, after findLineEnd, not examined yet).
   */
  private keepLine(buf: Buffer, offset: number): void {
    const kept = buf.length - offset;
    this.lineFilled = 0;
    this.appendLine(buf, offset, buf.length);
    this.lineOffset = this.base + offset;
    this.linePending = true;
    const content = kept - 1;
    const type = buf[offset];
    if (type === NULL || type === BOOLEAN) return; // fixed-size: continueLine counts bytes
    if (content > 0 && buf[buf.length - 1] === CR) {
      this.lineCr = true;
      this.lineScanned = content - 1;
    } else {
      this.lineCr = false;
      this.lineScanned = content;
      // maxLineLength + 1 content bytes without a CR: too long, whatever comes next.
      if (content > this.maxLineLength) throw this.lineTooLong(this.lineOffset);
    }
  }

  private appendLine(src: Buffer, start: number, end: number): void {
    const filled = this.lineFilled;
    const needed = filled + end - start;
    let line = this.line;
    if (line === null || line.length < needed) {
      // Lines are at most maxLineLength + 3 bytes, so doubling is bounded by the limit.
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, line === null ? 64 : line.length * 2));
      if (line !== null && filled > 0) line.copy(grown, 0, 0, filled);
      this.line = line = grown;
    }
    src.copy(line, filled, start, end);
    this.lineFilled = needed;
  }

  /**
   * Takes from `chunk` the rest of the cut line, scanning only bytes not scanned before; when the
   * line is complete, parses it and returns the offset in `chunk` after it, or -1 when the whole
   * chunk belonged to the line.
   */
  private continueLine(chunk: Buffer): number {
    const type = this.line![0]!;
    const chunkLength = chunk.length;
    let take: number;
    if (type === NULL || type === BOOLEAN) {
      const missing = (type === NULL ? 3 : 4) - this.lineFilled;
      if (chunkLength < missing) {
        this.appendLine(chunk, 0, chunkLength);
        return -1;
      }
      take = missing;
    } else if (this.lineCr) {
      take = 1; // the byte after the CR: parse() checks that it is LF
    } else {
      const scanned = this.lineScanned;
      // The CR may be at content position maxLineLength at the latest: chunk index `room`.
      const room = this.maxLineLength - scanned;
      let cr: number;
      if (isNumericLine(type)) {
        // Validated byte by byte, like readInteger does, so the same bytes fail the same way however they are cut.
        const end = chunkLength < room + 1 ? chunkLength : room + 1;
        cr = -1;
        for (let j = 0; j < end; j++) {
          const c = chunk[j]!;
          if (c === CR) {
            cr = j;
            break;
          }
          if ((c - 0x30) >>> 0 > 9 && !(c === MINUS && scanned + j === 0)) {
            throw this.fail(this.numberMessage(type, this.lineOffset, c, this.lineOffset + 1 + scanned + j));
          }
        }
        if (cr < 0 && end === room + 1) throw this.lineTooLong(this.lineOffset);
      } else {
        cr = chunk.indexOf(CR);
        if (cr > room || (cr < 0 && chunkLength > room)) throw this.lineTooLong(this.lineOffset);
      }
      if (cr < 0) {
        this.appendLine(chunk, 0, chunkLength);
        this.lineScanned = scanned + chunkLength;
        return -1;
      }
      take = cr + 2;
      if (take > chunkLength) {
        this.appendLine(chunk, 0, chunkLength);
        this.lineScanned = scanned + cr;
        this.lineCr = true;
        return -1;
      }
    }
    this.appendLine(chunk, 0, take);
    this.linePending = false;
    const line = this.line!;
    const complete = line.subarray(0, this.lineFilled);
    if (line.length > LINE_KEEP_LIMIT) this.line = null;
    this.base = this.lineOffset;
    this.parse(complete, 0);
    return take;
  }

  /**
   * Starts a bulk string whose data (or CRLF) goes past the end of `buf`. Its bytes are copied, as
   * they come, into one buffer: of the final size when that is at most BULK_PREALLOCATE_LIMIT or
   * BULK_GROWTH times what has arrived (or when the string-mode scratch buffer is big enough),
   * otherwise of BULK_GROWTH times what has arrived, grown the same way as more comes.
   */
  private startBulk(type: number, length: number, buf: Buffer, dataStart: number): void {
    const total = length + 2;
    const available = buf.length - dataStart;
    const owned = this.buffers && type === BULK_STRING;
    const dest = this.allocBulk(owned, total, this.bulkCapacity(total, available));
    if (available > 0) buf.copy(dest, 0, dataStart);
    this.bulkBuffer = dest;
    this.bulkOwned = owned;
    this.bulkFilled = available;
    this.bulkType = type;
    this.bulkLength = length;
    this.bulkDataOffset = this.base + dataStart;
    this.bulkPending = true;
  }

  /** The capacity for a bulk of `total` bytes (data and CRLF) of which `received` have arrived. */
  private bulkCapacity(total: number, received: number): number {
    if (total <= BULK_PREALLOCATE_LIMIT + 2) return total;
    const bound = Math.max(BULK_PREALLOCATE_LIMIT, BULK_GROWTH * received);
    return total <= bound ? total : bound;
  }

  /**
   * A buffer for `capacity` bytes of a bulk of `total`: the value's own, of the exact size, when it
   * will be returned as a Buffer; otherwise (a string's bytes, or the first part of a large Buffer
   * that must still grow) the scratch buffer when big enough, or a new one, kept as the scratch
   * buffer up to SCRATCH_KEEP_LIMIT. The scratch buffer is never handed out.
   */
  private allocBulk(owned: boolean, total: number, capacity: number): Buffer {
    if (owned && capacity === total) return Buffer.allocUnsafeSlow(capacity);
    const scratch = this.scratch;
    if (scratch !== null && scratch.length >= capacity) return scratch;
    const dest = Buffer.allocUnsafeSlow(capacity);
    if (capacity <= SCRATCH_KEEP_LIMIT) this.scratch = dest;
    return dest;
  }

  /** Takes what the pending bulk string needs from chunk[offset...]; returns where parsing continues, or -1. */
  private continueBulk(chunk: Buffer, offset: number): number {
    let dest = this.bulkBuffer!;
    const filled = this.bulkFilled;
    const total = this.bulkLength + 2;
    const available = chunk.length - offset;
    const take = available < total - filled ? available : total - filled;
    if (filled + take > dest.length) {
      // Grow with what has arrived (never from the header alone): see BULK_GROWTH.
      const grown = this.allocBulk(this.bulkOwned, total, this.bulkCapacity(total, filled + take));
      dest.copy(grown, 0, 0, filled);
      this.bulkBuffer = dest = grown;
    }
    chunk.copy(dest, filled, offset, offset + take);
    this.bulkFilled = filled + take;
    if (filled + take < total) return -1;
    this.bulkPending = false;
    this.bulkBuffer = null;
    const n = this.bulkLength;
    if (dest[n] !== CR || dest[n + 1] !== LF) throw this.missingCrlf(this.bulkDataOffset + n);
    // A string-mode buffer too big to be kept as scratch is ours alone too: a view of it needs no copy.
    this.deliver(this.blobValue(this.bulkType, dest, 0, n, this.bulkOwned || dest !== this.scratch, this.bulkDataOffset));
    return offset + take;
  }

  /**
   * The value of a `$`, `=` or `!` payload held in buf[start, end). `fresh`: buf is ours, a view of it
   * needs no copy. `dataOffset`: the stream offset of `start`, for errors.
   */
  private blobValue(type: number, buf: Buffer, start: number, end: number, fresh: boolean, dataOffset: number): RespValue {
    if (type === BLOB_ERROR) return new GoCacheCommandError(utf8(buf, start, end));
    if (type === VERBATIM_STRING) {
      // `=<len>\r\ntxt:<text>\r\n`: three letters of format and a colon, which the caller does not want.
      if (end - start < 4 || buf[start + 3] !== 0x3a) {
        throw this.fail(`A verbatim string without its format prefix at offset ${dataOffset}`);
      }
      start += 4;
    }
    if (!this.buffers) return utf8(buf, start, end);
    return fresh ? buf.subarray(start, end) : copyBytes(buf, start, end);
  }

  /**
   * The index of the CR ending the line whose content starts at `start`, or -1 when the line is cut
   * (its last byte not examined: a CR needs the byte after it). Throws when more than maxLineLength
   * bytes come before the CR.
   */
  private findLineEnd(buf: Buffer, start: number): number {
    const last = buf.length - 1;
    let i = start;
    while (i < last) {
      if (buf[i] === CR) break;
      i++;
    }
    if (i - start > this.maxLineLength) throw this.lineTooLong(this.base + start - 1);
    if (i >= last) return -1; // (start may be past the last byte: a cut right after the type byte)
    if (buf[i + 1] !== LF) throw this.fail(`A CR not followed by LF at offset ${this.base + i}`);
    return i;
  }

  /**
   * Reads a decimal integer line by digit arithmetic into this.integer. Returns the offset after its
   * CRLF, or -1 when the line is cut. Throws on anything but an optional `-` and digits, and on a
   * line longer than maxLineLength. The common case (1 to shortDigits digits) costs one test after
   * the digits; the loop runs to the end of the buffer and the line limit is checked after it (a
   * chunk is at most read once), which measured cheaper than bounding the loop by the limit.
   */
  private readInteger(buf: Buffer, start: number): number {
    const len = buf.length;
    let i = start;
    let negative = false;
    if (i < len && buf[i] === MINUS) {
      negative = true;
      i++;
    }
    const digitsStart = i;
    let n = 0;
    while (i < len) {
      const digit = buf[i]! - 0x30;
      if (digit >>> 0 > 9) break;
      n = n * 10 + digit;
      i++;
    }
    const count = i - digitsStart;
    // One test for the rare cases: no digit, or more digits than shortDigits.
    if ((count - 1) >>> 0 >= this.shortDigits) {
      // Only digits (and a sign) so far: more than maxLineLength of them is too long, whatever follows.
      if (i - start > this.maxLineLength) throw this.lineTooLong(this.base + start - 1);
      // Arithmetic is exact up to 2^53; past that, let Number round the text correctly.
      if (n > Number.MAX_SAFE_INTEGER) n = Number(latin1(buf, digitsStart, i));
    }
    if (i + 1 >= len) {
      // Cut, at the end of the buffer or at its last byte, which may only be the CR.
      if (i < len && buf[i] !== CR) throw this.malformedNumber(buf, start - 1, i);
      return -1;
    }
    if (buf[i] !== CR) throw this.malformedNumber(buf, start - 1, i);
    if (buf[i + 1] !== LF) throw this.fail(`A CR not followed by LF at offset ${this.base + i}`);
    if (count === 0) throw this.malformedNumber(buf, start - 1, i);
    this.integer = negative ? 0 - n : n;
    return i + 2;
  }

  /** readInteger for a length: -1 (null) or 0 to `max`. */
  private readLength(buf: Buffer, start: number, max: number, type: number): number {
    const next = this.readInteger(buf, start);
    if (next < 0) return next;
    const n = this.integer;
    // Only exactly `-1` (null) may be negative.
    if (n < 0 && (n !== -1 || next - start !== 4)) {
      throw this.fail(`Invalid length ${shortText(buf, start, next - 2)} for type '${String.fromCharCode(type)}' at offset ${this.base + start - 1}`);
    }
    if (n > max) {
      const name = type === BULK_STRING || type === VERBATIM_STRING || type === BLOB_ERROR ? 'maxBulkLength' : 'maxAggregateLength';
      throw this.tooLong(buf, start - 1, next, type, `${name} ${max}`);
    }
    return next;
  }

  private parseDouble(text: string, offset: number): number {
    switch (text) {
      case 'inf':
      case '+inf':
        return Infinity;
      case '-inf':
        return -Infinity;
      case 'nan':
      case '-nan':
        return NaN;
    }
    if (!DOUBLE_TEXT.test(text)) throw this.malformed('double', offset);
    return Number(text);
  }

  /** `limit`: what the length exceeds, e.g. `maxBulkLength 536870912`. */
  private tooLong(buf: Buffer, typeOffset: number, next: number, type: number, limit: string): GoCacheProtocolError {
    const text = shortText(buf, typeOffset + 1, next - 2);
    return this.fail(`Length ${text} for type '${String.fromCharCode(type)}' at offset ${this.base + typeOffset} exceeds ${limit}`);
  }

  private tooDeep(type: number, offset: number): GoCacheProtocolError {
    return this.fail(`An aggregate ('${String.fromCharCode(type)}') at offset ${this.base + offset} nested ${this.depth + 1} deep exceeds maxDepth ${this.maxDepth}`);
  }

  private lineTooLong(lineOffset: number): GoCacheProtocolError {
    return this.fail(`A line at offset ${lineOffset} exceeds maxLineLength ${this.maxLineLength}`);
  }

  private malformed(what: string, offset: number): GoCacheProtocolError {
    return this.fail(`A malformed ${what} at offset ${this.base + offset}`);
  }

  private malformedNumber(buf: Buffer, typeOffset: number, at: number): GoCacheProtocolError {
    const byte = buf[at];
    return this.fail(this.numberMessage(buf[typeOffset]!, this.base + typeOffset, byte === undefined || byte === CR ? -1 : byte, this.base + at));
  }

  /** `byte` -1: the line ended (no digits). Offsets are stream offsets. */
  private numberMessage(type: number, typeOffset: number, byte: number, at: number): string {
    const found = byte < 0 ? 'nothing' : `byte 0x${byte.toString(16).padStart(2, '0')}`;
    return `Expected a number after '${String.fromCharCode(type)}' at offset ${typeOffset}, found ${found} at offset ${at}`;
  }

  private nullLength(type: number, typeOffset: number): GoCacheProtocolError {
    return this.fail(`A null length (-1) for type '${String.fromCharCode(type)}' at offset ${this.base + typeOffset}`);
  }

  private missingCrlf(offset: number): GoCacheProtocolError {
    return this.fail(`Missing CRLF after bulk data at offset ${offset}`);
  }

  private fail(message: string): GoCacheProtocolError {
    const error = new GoCacheProtocolError(message);
    this.failed = error;
    return error;
  }
}
