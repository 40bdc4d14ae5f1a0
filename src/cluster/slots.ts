/**
 * Redis Cluster key slots: which of the 16,384 hash slots a key belongs to.
 *
 * The slot is CRC16 (the XMODEM variant: polynomial 0x1021, initial value 0, no reflection, no final
 * XOR) of the key's bytes, modulo 16,384. String keys are hashed as their UTF-8 bytes (a lone
 * surrogate as U+FFFD, the way Buffer.from(key, 'utf8') encodes it, which is what goes on the wire);
 * Buffers and other Uint8Arrays as they are.
 *
 * Hash tags follow Redis's keyHashSlot() exactly: when the key has a `{`, and a `}` somewhere after
 * the first `{`, and at least one byte lies between that first `{` and the first `}` after it, only
 * those bytes are hashed. Otherwise the whole key is. So `{user1000}.following` hashes `user1000`,
 * `foo{}{bar}` the whole key (the first tag is empty), `foo{{bar}}zap` hashes `{bar`, and
 * `foo{bar}{zap}` hashes `bar`.
 *
 * Hot path: a string key is hashed straight from its UTF-16 code units, encoding UTF-8 on the fly,
 * so no key (ASCII or not) allocates. `{` and `}` are ASCII and never appear inside a multi-byte
 * UTF-8 sequence, so the first `{` / `}` found in code units are the first ones in the bytes too.
 *
 * Runtime code: imports nothing (not even node: built-ins).
 */

/** The number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16384;

const SLOT_MASK = SLOT_COUNT - 1;
const OPEN_BRACE = 0x7b; // '{'
const CLOSE_BRACE = 0x7d; // '}'

/** CRC16-XMODEM of every byte value, for the byte-at-a-time table update. */
const CRC_TABLE = buildCrcTable();

function buildCrcTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
}

/** One byte into the running CRC. `byte` must be 0..255. */
function step(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ CRC_TABLE[(crc >>> 8) ^ byte]!;
}

/** CRC16-XMODEM of `bytes[start..end)`. */
function crc16Bytes(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = step(crc, bytes[i]!);
  return crc;
}

/** CRC16-XMODEM of the UTF-8 encoding of `text.slice(start, end)`, without encoding it into memory. */
function crc16Utf8(text: string, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      crc = step(crc, unit);
    } else if (unit < 0x800) {
      crc = step(crc, 0xc0 | (unit >>> 6));
      crc = step(crc, 0x80 | (unit & 0x3f));
    } else if (unit < 0xd800 || unit > 0xdfff) {
      crc = step(crc, 0xe0 | (unit >>> 12));
      crc = step(crc, 0x80 | ((unit >>> 6) & 0x3f));
      crc = step(crc, 0x80 | (unit & 0x3f));
    } else {
      const next = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: one code point above U+FFFF, four bytes.
        const codePoint = 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
        crc = step(crc, 0xf0 | (codePoint >>> 18));
        crc = step(crc, 0x80 | ((codePoint >>> 12) & 0x3f));
        crc = step(crc, 0x80 | ((codePoint >>> 6) & 0x3f));
        crc = step(crc, 0x80 | (codePoint & 0x3f));
        i++;
      } else {
        // A lone surrogate: UTF-8 encoders (Buffer, TextEncoder) write U+FFFD instead.
        crc = step(crc, 0xef);
        crc = step(crc, 0xbf);
        crc = step(crc, 0xbd);
      }
    }
  }
  return crc;
}

/**
 * CRC16-XMODEM (the variant Redis Cluster uses) of a string's UTF-8 bytes or of raw bytes.
 * `crc16('123456789')` is 0x31C3.
 */
export function crc16(data: string | Uint8Array): number {
  return typeof data === 'string' ? crc16Utf8(data, 0, data.length) : crc16Bytes(data, 0, data.length);
}

/** The Redis Cluster hash slot (0..16383) of a key, hash tags included; the same as CLUSTER KEYSLOT. */
export function keySlot(key: string | Uint8Array): number {
  if (typeof key === 'string') {
    const open = key.indexOf('{');
    if (open !== -1) {
      const close = key.indexOf('}', open + 1);
      if (close > open + 1) return crc16Utf8(key, open + 1, close) & SLOT_MASK;
    }
    return crc16Utf8(key, 0, key.length) & SLOT_MASK;
  }
  const length = key.length;
  let open = 0;
  while (open < length && key[open] !== OPEN_BRACE) open++;
  if (open < length) {
    let close = open + 1;
    while (close < length && key[close] !== CLOSE_BRACE) close++;
    if (close < length && close > open + 1) return crc16Bytes(key, open + 1, close) & SLOT_MASK;
  }
  return crc16Bytes(key, 0, length) & SLOT_MASK;
}
