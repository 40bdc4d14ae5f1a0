/**
 * The streaming RESP2 + RESP3 reply parser: the hottest path of the SDK.
 *
 * One cursor moves forward through each chunk and never goes back over bytes already parsed:
 * - aggregates (arrays, maps, sets, pushes, attributes) live on a stack of partly filled frames, so
 *   one cut at the end of a chunk resumes where it stopped instead of re-parsing from its start;
 * - a bulk string that spans chunks is copied, as its bytes come, into one buffer of its final size
 *   (for a string, a reused scratch buffer), so nothing is joined at the end and no chunk is kept;
 * - only a cut line (a header such as `$12` or `:123` without its CRLF yet) is kept as an unparsed
 *   tail and put in front of the next chunk.
 * Integers and lengths are read by digit arithmetic; strings are decoded straight from the chunk.
 */
import { isAscii } from 'node:buffer';
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

export interface RespParserOptions {
  /** The largest bulk string length accepted; a larger declared length is a protocol error. Default 512 MiB. */
  maxBulkLength?: number;
}

/** Redis's own limit for a bulk string (proto-max-bulk-len). */
export const DEFAULT_MAX_BULK_LENGTH = 512 * 1024 * 1024;
/** The largest element count accepted for an array, set, push, map or attribute. */
export const MAX_AGGREGATE_LENGTH = 2 ** 31 - 1;
/** Arrays up to this length are preallocated; longer ones grow as their elements arrive. */
const PREALLOCATE_LIMIT = 65536;

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
    for (let i = 0; i < length; i++) out[i] = buf[start + i]!;
  } else {
    buf.copy(out, 0, start, end);
  }
  return out;
}

/** A partly filled aggregate. Frames are reused by depth, so nesting allocates nothing but the values. */
class Frame {
  kind = KIND_ARRAY;
  items: RespValue[] = [];
  index = 0;
  length = 0;
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

  /** The returnBuffers value captured for the reply being parsed. */
  private buffers = false;
  /** True between the first byte of a top-level reply (attributes included) and its delivery. */
  private inReply = false;

  private readonly frames: Frame[] = [];
  private depth = 0;

  /** Pieces of a cut line, from its type byte on, waiting for a chunk that contains LF. */
  private tail: Buffer[] | null = null;
  private tailLength = 0;

  /** Pieces of a bulk string (data and its CRLF) that spans chunks. */
  private bulkPieces: Buffer | null = null;
  private bulkFilled = 0;
  private bulkType = BULK_STRING;
  private bulkLength = 0;
  private bulkNeeded = 0;
  private bulkDataOffset = 0;
  /** Reused to join large string replies (never handed out). */
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
    const max = options.maxBulkLength ?? DEFAULT_MAX_BULK_LENGTH;
    if (!(max >= 0 && Number.isSafeInteger(max))) {
      throw new RangeError(`maxBulkLength must be a non-negative safe integer, got ${max}`);
    }
    this.maxBulkLength = max;
  }

  /**
   * Feeds the next chunk. Handlers are called synchronously for every reply it completes; they must
   * not throw. Throws GoCacheProtocolError on malformed input, after which the parser refuses more
   * input until reset(). The parser keeps no reference to `chunk` once feed returns (what it needs
   * later is copied), so the caller may reuse the buffer (the connection reads into one).
   */
  feed(chunk: Buffer): void {
    if (this.failed !== null) throw this.failed;
    const chunkLength = chunk.length;
    if (chunkLength === 0) return;
    this.interrupted = false;
    const chunkBase = this.fed;
    this.fed += chunkLength;

    if (this.bulkPieces !== null) {
      const offset = this.continueBulk(chunk);
      if (offset < 0 || this.interrupted) return;
      this.base = chunkBase;
      if (offset < chunkLength) this.parse(chunk, offset);
      return;
    }

    const tail = this.tail;
    if (tail !== null) {
      // A line can only end in a chunk that holds an LF: until then, just keep the pieces.
      tail.push(Buffer.from(chunk));
      const previousLength = this.tailLength;
      this.tailLength += chunkLength;
      if (chunk.indexOf(LF) === -1) {
        if (this.tailLength > this.maxBulkLength + 64) {
          throw this.fail(`A line longer than ${this.maxBulkLength} bytes at offset ${chunkBase - previousLength}`);
        }
        return;
      }
      const joined = Buffer.concat(tail, this.tailLength);
      this.tail = null;
      this.tailLength = 0;
      this.base = chunkBase - previousLength;
      this.parse(joined, 0);
      return;
    }

    this.base = chunkBase;
    this.parse(chunk, 0);
  }

  /** Drops any partial state (and a previous protocol error): the next byte fed starts a new reply. */
  reset(): void {
    for (let i = 0; i < this.depth; i++) this.frames[i]!.items = NO_ITEMS;
    this.depth = 0;
    this.inReply = false;
    this.tail = null;
    this.tailLength = 0;
    this.bulkPieces = null;
    this.failed = null;
    this.interrupted = true;
  }

  private parse(buf: Buffer, start: number): void {
    const len = buf.length;
    let offset = start;
    while (offset < len) {
      if (!this.inReply) {
        this.inReply = true;
        this.buffers = this.returnBuffers;
      }
      const type = buf[offset]!;
      let value: RespValue;
      switch (type) {
        case BULK_STRING: {
          const dataStart = this.readLength(buf, offset + 1, this.maxBulkLength, type);
          if (dataStart < 0) return this.keepTail(buf, offset);
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
          if (cr < 0) return this.keepTail(buf, offset);
          value = utf8(buf, offset + 1, cr);
          offset = cr + 2;
          break;
        }
        case INTEGER: {
          const next = this.readInteger(buf, offset + 1);
          if (next < 0) return this.keepTail(buf, offset);
          value = this.integer;
          offset = next;
          break;
        }
        case ARRAY:
        case SET:
        case PUSH:
        case MAP:
        case ATTRIBUTE: {
          const next = this.readLength(buf, offset + 1, MAX_AGGREGATE_LENGTH, type);
          if (next < 0) return this.keepTail(buf, offset);
          const n = this.integer;
          if (n === -1) {
            // RESP2's null array; RESP3 has `_` and never sends a null map, set, push or attribute.
            if (type !== ARRAY) throw this.nullLength(type, offset);
            value = null;
            offset = next;
            break;
          }
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
          this.pushFrame(kind, kind === KIND_MAP || kind === KIND_ATTRIBUTE ? n * 2 : n);
          continue;
        }
        case SIMPLE_ERROR: {
          const cr = this.findLineEnd(buf, offset + 1);
          if (cr < 0) return this.keepTail(buf, offset);
          value = new GoCacheCommandError(utf8(buf, offset + 1, cr));
          offset = cr + 2;
          break;
        }
        case NULL: {
          if (offset + 3 > len) return this.keepTail(buf, offset);
          if (buf[offset + 1] !== CR || buf[offset + 2] !== LF) throw this.malformed('null', offset);
          value = null;
          offset += 3;
          break;
        }
        case BOOLEAN: {
          if (offset + 4 > len) return this.keepTail(buf, offset);
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
          if (cr < 0) return this.keepTail(buf, offset);
          value = this.parseDouble(latin1(buf, offset + 1, cr), offset);
          offset = cr + 2;
          break;
        }
        case BIG_NUMBER: {
          const cr = this.findLineEnd(buf, offset + 1);
          if (cr < 0) return this.keepTail(buf, offset);
          const text = latin1(buf, offset + 1, cr);
          if (!BIG_NUMBER_TEXT.test(text)) throw this.malformed('big number', offset);
          value = BigInt(text);
          offset = cr + 2;
          break;
        }
        case VERBATIM_STRING:
        case BLOB_ERROR: {
          const dataStart = this.readLength(buf, offset + 1, this.maxBulkLength, type);
          if (dataStart < 0) return this.keepTail(buf, offset);
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
      this.deliver(value);
      if (this.interrupted) return;
    }
  }

  /** Adds a finished value to the innermost open aggregate, closing those it completes, or emits it. */
  private deliver(value: RespValue): void {
    let v = value;
    while (this.depth > 0) {
      const frame = this.frames[this.depth - 1]!;
      frame.items[frame.index++] = v;
      if (frame.index < frame.length) return;
      this.depth--;
      const items = frame.items;
      frame.items = NO_ITEMS;
      if (frame.kind === KIND_ARRAY) {
        v = items;
      } else if (frame.kind === KIND_MAP) {
        const map = new Map<RespValue, RespValue>();
        for (let i = 0; i < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
        v = map;
      } else if (frame.kind === KIND_PUSH) {
        if (this.depth === 0) return this.emitPush(items);
        v = items;
      } else {
        // An attribute describes the value that follows it; the SDK has no use for it.
        return;
      }
    }
    this.inReply = false;
    this.handlers.onReply(v);
  }

  private emitPush(items: RespValue[]): void {
    this.inReply = false;
    const onPush = this.handlers.onPush;
    if (onPush !== undefined) onPush.call(this.handlers, items);
    else this.handlers.onReply(items);
  }

  private pushFrame(kind: number, length: number): void {
    let frame = this.frames[this.depth];
    if (frame === undefined) {
      frame = new Frame();
      this.frames.push(frame);
    }
    frame.kind = kind;
    frame.items = length <= PREALLOCATE_LIMIT ? new Array<RespValue>(length) : [];
    frame.index = 0;
    frame.length = length;
    this.depth++;
  }

  /** Keeps the cut line that starts at `offset` (its type byte) for the next chunk. */
  private keepTail(buf: Buffer, offset: number): void {
    const rest = Buffer.from(offset === 0 ? buf : buf.subarray(offset));
    this.tail = [rest];
    this.tailLength = rest.length;
  }

  /**
   * Starts a bulk string whose data (or CRLF) goes past the end of `buf`: its bytes are copied, as
   * they come, into one buffer of the final size (a reused scratch buffer when the value becomes a
   * string), so no chunk is kept and nothing is joined at the end.
   */
  private startBulk(type: number, length: number, buf: Buffer, dataStart: number): void {
    const total = length + 2;
    let dest: Buffer;
    if (this.buffers && type === BULK_STRING) {
      dest = Buffer.allocUnsafeSlow(total);
    } else {
      dest = this.scratch !== null && this.scratch.length >= total ? this.scratch : Buffer.allocUnsafeSlow(total);
      if (total <= SCRATCH_KEEP_LIMIT) this.scratch = dest;
    }
    const available = buf.length - dataStart;
    if (available > 0) buf.copy(dest, 0, dataStart);
    this.bulkPieces = dest;
    this.bulkFilled = available;
    this.bulkType = type;
    this.bulkLength = length;
    this.bulkNeeded = total - available;
    this.bulkDataOffset = this.base + dataStart;
  }

  /** Takes what the pending bulk string needs from `chunk`; returns where parsing continues, or -1. */
  private continueBulk(chunk: Buffer): number {
    const dest = this.bulkPieces!;
    const needed = this.bulkNeeded;
    if (chunk.length < needed) {
      chunk.copy(dest, this.bulkFilled);
      this.bulkFilled += chunk.length;
      this.bulkNeeded = needed - chunk.length;
      return -1;
    }
    chunk.copy(dest, this.bulkFilled, 0, needed);
    this.bulkPieces = null;
    const n = this.bulkLength;
    if (dest[n] !== CR || dest[n + 1] !== LF) throw this.missingCrlf(this.bulkDataOffset + n);
    this.deliver(this.blobValue(this.bulkType, dest, 0, n, dest !== this.scratch, this.bulkDataOffset));
    return needed;
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

  /** The index of the CR ending the line that starts at `start`, or -1 when the line is cut. */
  private findLineEnd(buf: Buffer, start: number): number {
    const last = buf.length - 1;
    let i = start;
    while (i < last) {
      if (buf[i] === CR) {
        if (buf[i + 1] !== LF) throw this.fail(`A CR not followed by LF at offset ${this.base + i}`);
        return i;
      }
      i++;
    }
    return -1;
  }

  /**
   * Reads a decimal integer line by digit arithmetic into this.integer. Returns the offset after its
   * CRLF, or -1 when the line is cut. Throws on anything but an optional `-` and digits.
   */
  private readInteger(buf: Buffer, start: number): number {
    const len = buf.length;
    let i = start;
    let negative = false;
    if (i < len && buf[i] === 0x2d) {
      negative = true;
      i++;
    }
    const digitsStart = i;
    let n = 0;
    while (i < len) {
      const c = buf[i]!;
      if (c === CR) break;
      const digit = c - 0x30;
      if (digit >>> 0 > 9) throw this.malformedNumber(buf, start - 1, i);
      n = n * 10 + digit;
      i++;
    }
    if (i + 1 >= len) return -1;
    if (buf[i + 1] !== LF) throw this.fail(`A CR not followed by LF at offset ${this.base + i}`);
    if (i === digitsStart) throw this.malformedNumber(buf, start - 1, i);
    // Arithmetic is exact up to 2^53; past that, let Number round the text correctly.
    if (n > Number.MAX_SAFE_INTEGER) n = Number(latin1(buf, digitsStart, i));
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
      throw this.fail(`Invalid length ${latin1(buf, start, next - 2)} for type '${String.fromCharCode(type)}' at offset ${this.base + start - 1}`);
    }
    if (n > max) {
      throw this.fail(`Length ${latin1(buf, start, next - 2)} for type '${String.fromCharCode(type)}' at offset ${this.base + start - 1} is above the limit of ${max}`);
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

  private malformed(what: string, offset: number): GoCacheProtocolError {
    return this.fail(`A malformed ${what} at offset ${this.base + offset}`);
  }

  private malformedNumber(buf: Buffer, typeOffset: number, at: number): GoCacheProtocolError {
    const byte = buf[at];
    const found = byte === undefined || byte === CR ? 'nothing' : `byte 0x${byte.toString(16).padStart(2, '0')}`;
    return this.fail(
      `Expected a number after '${String.fromCharCode(buf[typeOffset]!)}' at offset ${this.base + typeOffset}, found ${found} at offset ${this.base + at}`,
    );
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
