/**
 * The raw LZ4 block codec, as HAMMER2 needs it.
 *
 * The kernel reads LZ4 data blocks with `LZ4_decompress_safe` (hammer2_lz4.c), an early LZ4
 * decoder that is strict about the end of a block: a sequence whose literals would end within
 * `LZ4_MFLIMIT` bytes of the end of the output, or within `LZ4_LAST_SEQUENCE_INPUT` bytes of
 * the end of the input, is taken to be the last one, and it must then end the input exactly.
 * So every match must start at least 12 bytes before the end of the block, and end at least 5
 * bytes before it. A block it rejects is read as zeros at best (and, in makefs's copy of the
 * read path, a negative length reaches bzero). `lz4DecodeKernel` applies exactly those rules;
 * `lz4DecodeLenient` only keeps reads and writes in bounds, to salvage what older h2kit
 * versions wrote (lz4js let the last match start 10 or 11 bytes before the end).
 * `lz4ValidateKernel` follows the same rules (the same code) without writing any output.
 *
 * `lz4EncodeBlock` is a greedy encoder (one 64 Ki-entry table of the last position of each
 * 4-byte hash, no chains) that honours those limits by construction.
 */
import {
  LZ4_EXT_MORE,
  LZ4_LAST_LITERALS,
  LZ4_LAST_SEQUENCE_INPUT,
  LZ4_MATCH_EXT_TAIL,
  LZ4_MAX_OFFSET,
  LZ4_MFLIMIT,
  LZ4_MIN_MATCH,
  LZ4_NIBBLE_MAX,
} from './constants';
import { FormatError } from './errors';

const fail = (msg: string): never => {
  throw new FormatError(`lz4: ${msg}`);
};

/**
 * Decode `src` into `dst` (sized to the logical block) as the kernel does; returns the number
 * of bytes produced (the kernel zero-fills the rest). Throws where the kernel returns an error.
 * One rule is stricter than the kernel: a zero offset, which the LZ4 format forbids and for
 * which the kernel would copy whatever its buffer held.
 */
export function lz4DecodeKernel(src: Uint8Array, dst: Uint8Array): number {
  return kernelSequences(src, dst, dst.length);
}

/**
 * What `lz4DecodeKernel` would return for a `logicalSize`-byte output block, or its error,
 * without producing a byte: fsck only needs to know whether the kernel can decode a block
 * whose check code (over the compressed bytes) is already good.
 */
export function lz4ValidateKernel(src: Uint8Array, logicalSize: number): number {
  return kernelSequences(src, null, logicalSize);
}

/**
 * The kernel's sequence rules, in one place for the decoder and the validator: with `dst`
 * null only the produced length is followed (a match's source is then known to lie inside
 * what was produced, which is all the copy needs).
 */
function kernelSequences(src: Uint8Array, dst: Uint8Array | null, oend: number): number {
  const iend = src.length;
  if (oend === 0) fail('empty output block');
  let ip = 0;
  let op = 0;
  for (;;) {
    // The kernel reads the token unchecked; only an empty stream can get here without input.
    if (ip >= iend) fail('the stream is empty');
    const token = src[ip++];
    let len = token >> 4;
    if (len === LZ4_NIBBLE_MAX) {
      let s = LZ4_EXT_MORE;
      while (ip < iend && s === LZ4_EXT_MORE) {
        s = src[ip++];
        len += s;
      }
    }
    const litEnd = op + len;
    if (litEnd > oend - LZ4_MFLIMIT || ip + len > iend - LZ4_LAST_SEQUENCE_INPUT) {
      // the last sequence: literals only, ending the input exactly, inside the output
      if (litEnd > oend) fail(`stream decodes past the ${oend}-byte logical block`);
      if (ip + len !== iend) {
        fail(
          litEnd > oend - LZ4_MFLIMIT && ip + len < iend
            ? `a match starts ${oend - litEnd} bytes before the end of the block (at least ${LZ4_MFLIMIT} needed)`
            : `the last literals end at ${ip + len}, not at the end of the ${iend}-byte stream`,
        );
      }
      if (dst) copyLiterals(dst, op, src, ip, len);
      return litEnd;
    }
    if (dst) copyLiterals(dst, op, src, ip, len);
    ip += len;
    op = litEnd;
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset > op) fail(`offset ${offset} reaches before the start of the block (at ${op})`);
    if (offset === 0) fail(`zero offset at ${op}`);
    len = token & LZ4_NIBBLE_MAX;
    if (len === LZ4_NIBBLE_MAX) {
      // the kernel stops reading the extension where the last literals must begin
      while (ip < iend - LZ4_MATCH_EXT_TAIL) {
        const s = src[ip++];
        len += s;
        if (s !== LZ4_EXT_MORE) break;
      }
    }
    len += LZ4_MIN_MATCH;
    if (op + len > oend - LZ4_LAST_LITERALS) {
      fail(
        op + len > oend
          ? `stream decodes past the ${oend}-byte logical block`
          : `a match ends ${oend - op - len} bytes before the end of the block (at least ${LZ4_LAST_LITERALS} needed)`,
      );
    }
    if (dst) copyMatch(dst, op, offset, len);
    op += len;
  }
}

/**
 * Decode with only the bounds checked: no end-of-block limits, the stream may end after a
 * match. Returns the number of bytes produced. For salvaging blocks the kernel rejects.
 */
export function lz4DecodeLenient(src: Uint8Array, dst: Uint8Array): number {
  const iend = src.length;
  const oend = dst.length;
  let ip = 0;
  let op = 0;
  const ext = (len: number): number => {
    for (;;) {
      if (ip >= iend) fail('a length runs past the end of the stream');
      const s = src[ip++];
      len += s;
      if (s !== LZ4_EXT_MORE) return len;
    }
  };
  while (ip < iend) {
    const token = src[ip++];
    let len = token >> 4;
    if (len === LZ4_NIBBLE_MAX) len = ext(len);
    if (ip + len > iend) fail('literals run past the end of the stream');
    if (op + len > oend) fail(`stream decodes past the ${oend}-byte logical block`);
    copyLiterals(dst, op, src, ip, len);
    ip += len;
    op += len;
    if (ip === iend) break;
    if (ip + 2 > iend) fail('an offset runs past the end of the stream');
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) fail(`offset ${offset} is outside the block (at ${op})`);
    len = token & LZ4_NIBBLE_MAX;
    if (len === LZ4_NIBBLE_MAX) len = ext(len);
    len += LZ4_MIN_MATCH;
    if (op + len > oend) fail(`stream decodes past the ${oend}-byte logical block`);
    copyMatch(dst, op, offset, len);
    op += len;
  }
  return op;
}

/** Below this many bytes a plain loop copies faster than set/copyWithin and their subarrays. */
const SHORT_COPY = 32;

function copyLiterals(dst: Uint8Array, op: number, src: Uint8Array, ip: number, len: number): void {
  if (len >= SHORT_COPY) {
    dst.set(src.subarray(ip, ip + len), op);
    return;
  }
  for (let i = 0; i < len; i++) dst[op + i] = src[ip + i];
}

/** Copy a match that may overlap what it produces (offset < length repeats a pattern). */
function copyMatch(dst: Uint8Array, op: number, offset: number, len: number): void {
  if (offset >= len && len >= SHORT_COPY) {
    dst.copyWithin(op, op - offset, op - offset + len);
    return;
  }
  for (let i = 0; i < len; i++) dst[op + i] = dst[op + i - offset];
}

/** The largest raw block `lz4EncodeBlock` can produce for `n` input bytes. */
export function lz4Bound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

const HASH_BITS = 16;
/**
 * Positions, shared by every call and never reallocated. Each call stores `position + base`
 * with a base past everything earlier calls stored, so older entries read as empty without
 * clearing the whole table for every (often 1 KiB) block.
 */
const TABLE = new Int32Array(1 << HASH_BITS);
let tableBase = 1;
/** The base restarts (with one clear) before positions could overflow the 32-bit entries. */
const TABLE_BASE_LIMIT = 0x7fffffff - (1 << 24);
/** After this many literal bytes without a match, the search steps further each time. */
const SKIP_SHIFT = 6;

const read32 = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
/** Knuth's multiplicative hash: 2^32 divided by the golden ratio. */
const HASH_MULTIPLIER = 2654435761;
const hash32 = (v: number): number => Math.imul(v, HASH_MULTIPLIER) >>> (32 - HASH_BITS);

/**
 * Encode `src` as one raw LZ4 block into `dst` (at least `lz4Bound(src.length)` bytes);
 * returns its length. Every match starts at least LZ4_MFLIMIT bytes before the end and ends
 * at least LZ4_LAST_LITERALS bytes before it, so the kernel's decoder takes every block.
 */
export function lz4EncodeBlock(src: Uint8Array, dst: Uint8Array): number {
  const n = src.length;
  let op = 0;
  let anchor = 0;
  const putLength = (rest: number): void => {
    while (rest >= LZ4_EXT_MORE) {
      dst[op++] = LZ4_EXT_MORE;
      rest -= LZ4_EXT_MORE;
    }
    dst[op++] = rest;
  };
  const putLiterals = (token: number, from: number, to: number): void => {
    const lit = to - from;
    dst[op++] = (Math.min(lit, LZ4_NIBBLE_MAX) << 4) | token;
    if (lit >= LZ4_NIBBLE_MAX) putLength(lit - LZ4_NIBBLE_MAX);
    copyLiterals(dst, op, src, from, lit);
    op += lit;
  };

  const lastStart = n - LZ4_MFLIMIT; // a match may start here at the latest
  const matchEnd = n - LZ4_LAST_LITERALS; // and end here at the latest
  if (n > LZ4_MFLIMIT) {
    if (tableBase + n >= TABLE_BASE_LIMIT) {
      TABLE.fill(0);
      tableBase = 1;
    }
    const base = tableBase;
    tableBase += n + 1;
    let ip = 0;
    let misses = 0;
    while (ip <= lastStart) {
      const seq = read32(src, ip);
      const h = hash32(seq);
      let ref = TABLE[h] - base;
      TABLE[h] = ip + base;
      if (ref < 0 || ip - ref > LZ4_MAX_OFFSET || read32(src, ref) !== seq) {
        ip += 1 + (misses++ >> SKIP_SHIFT);
        continue;
      }
      misses = 0;
      // grow the match backwards over literals not yet emitted, then forwards
      let start = ip;
      while (start > anchor && ref > 0 && src[start - 1] === src[ref - 1]) {
        start--;
        ref--;
      }
      let end = ip + LZ4_MIN_MATCH;
      let r = ref + (end - start);
      while (end < matchEnd && src[end] === src[r]) {
        end++;
        r++;
      }
      const mlen = end - start - LZ4_MIN_MATCH;
      putLiterals(Math.min(mlen, LZ4_NIBBLE_MAX), anchor, start);
      const offset = start - ref;
      dst[op++] = offset & 0xff;
      dst[op++] = offset >> 8;
      if (mlen >= LZ4_NIBBLE_MAX) putLength(mlen - LZ4_NIBBLE_MAX);
      anchor = end;
      // remember a position inside the match, so the next one can chain onto it
      if (end - 2 <= lastStart) TABLE[hash32(read32(src, end - 2))] = end - 2 + base;
      ip = end;
    }
  }
  putLiterals(0, anchor, n);
  return op;
}
