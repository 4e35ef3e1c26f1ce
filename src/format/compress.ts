/**
 * Data block compression as the kernel stores it.
 *
 * - LZ4: a 4-byte little-endian length of the compressed stream, then a raw LZ4 block. The
 *   physical block is that, rounded up to a power of two.
 * - ZLIB: a zlib stream (header, deflate data, adler32), rounded up likewise.
 * - AUTOZERO: not a codec; all-zero logical blocks are stored as holes, anything else raw.
 *
 * Decoding follows the kernel's read path (hammer2_strategy.c): the output buffer is the
 * logical block, a shorter result is zero-filled, and a stream the kernel's decoder refuses is
 * an error here too, so what h2kit reads is what DragonFly reads. `validateBlock` answers only
 * whether that read would succeed, without keeping the logical bytes (fsck's question).
 */
import * as pako from 'pako';
import { COMP_AUTOZERO, COMP_LZ4, COMP_NONE, COMP_ZLIB, LZ4_PREFIX_BYTES } from './constants';
import { FormatError } from './errors';
import { lz4Bound, lz4DecodeKernel, lz4DecodeLenient, lz4EncodeBlock, lz4ValidateKernel } from './lz4';

/** The raw stream of an LZ4 data block, after its length prefix (which must fit the block). */
function lz4Stream(phys: Uint8Array): Uint8Array {
  if (phys.length < LZ4_PREFIX_BYTES) throw new FormatError(`lz4: block of ${phys.length} bytes has no length prefix`);
  const clen = new DataView(phys.buffer, phys.byteOffset, phys.byteLength).getInt32(0, true);
  if (clen < 0 || clen > phys.length - LZ4_PREFIX_BYTES) {
    throw new FormatError(`lz4: compressed length ${clen} exceeds the ${phys.length - LZ4_PREFIX_BYTES} bytes of the block`);
  }
  return phys.subarray(LZ4_PREFIX_BYTES, LZ4_PREFIX_BYTES + clen);
}

/** The logical block, decoded by the kernel's rules (see lz4.ts); the tail past the stream is zero. */
export function lz4Decompress(phys: Uint8Array, logicalSize: number): Uint8Array {
  const dst = new Uint8Array(logicalSize);
  lz4DecodeKernel(lz4Stream(phys), dst);
  return dst;
}

/**
 * The logical block of a stream the kernel refuses, decoded with bounds checks only; only a
 * stream that fills the logical block exactly counts, since anything else is not what any
 * encoder of ours wrote.
 */
export function lz4DecompressLenient(phys: Uint8Array, logicalSize: number): Uint8Array {
  const dst = new Uint8Array(logicalSize);
  const n = lz4DecodeLenient(lz4Stream(phys), dst);
  if (n !== logicalSize) throw new FormatError(`lz4: stream decodes to ${n} bytes, not the ${logicalSize}-byte logical block`);
  return dst;
}

/** What lz4Decompress would produce (its length) or throw, without producing it. */
export function lz4Validate(phys: Uint8Array, logicalSize: number): number {
  return lz4ValidateKernel(lz4Stream(phys), logicalSize);
}

/** LZ4 with the length prefix; null when the result would not be smaller than `maxPhys`. */
export function lz4Compress(data: Uint8Array, maxPhys = data.length): Uint8Array | null {
  const out = new Uint8Array(LZ4_PREFIX_BYTES + lz4Bound(data.length));
  const n = lz4EncodeBlock(data, out.subarray(LZ4_PREFIX_BYTES));
  if (n + LZ4_PREFIX_BYTES > maxPhys) return null;
  new DataView(out.buffer).setInt32(0, n, true);
  return out.subarray(0, LZ4_PREFIX_BYTES + n);
}

/**
 * The kernel inflates with Z_FINISH into the logical block and accepts only Z_STREAM_END:
 * the stream must end (adler32 included) within the logical size; bytes after it are padding.
 * Output is collected a logical block at a time, and decoding stops at the first byte past it.
 */
export function zlibDecompress(phys: Uint8Array, logicalSize: number): Uint8Array {
  const out = new Uint8Array(logicalSize);
  inflateWithin(phys, logicalSize, (chunk, at) => out.set(chunk, at));
  return out;
}

/** The bytes a zlib block inflates to (the kernel's rules, as zlibDecompress), keeping none. */
export function zlibValidate(phys: Uint8Array, logicalSize: number): number {
  return inflateWithin(phys, logicalSize, () => undefined);
}

/** Inflate as the kernel does, handing each chunk with its offset to `take`; returns the length. */
function inflateWithin(phys: Uint8Array, logicalSize: number, take: (chunk: Uint8Array, at: number) => void): number {
  let n = 0;
  const inflator = new pako.Inflate({ chunkSize: Math.max(logicalSize, 1) });
  inflator.onData = (chunk: Uint8Array): void => {
    if (n + chunk.length > logicalSize) throw new FormatError(`zlib: stream decodes past the ${logicalSize}-byte logical block`);
    take(chunk, n);
    n += chunk.length;
  };
  inflator.onEnd = (): void => undefined;
  try {
    inflator.push(phys, true);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`zlib: undecodable stream (${(e as Error).message})`);
  }
  if (inflator.err) throw new FormatError(`zlib: ${inflator.msg || 'error ' + inflator.err}`);
  if (!inflator.ended) throw new FormatError('zlib: stream is incomplete');
  return n;
}

export function zlibCompress(data: Uint8Array, level = 6, maxPhys = data.length): Uint8Array | null {
  const out = pako.deflate(data, { level: level as pako.DeflateOptions['level'] });
  return out.length > maxPhys ? null : out;
}

/** The logical bytes of a data block stored with compression `comp`. */
export function decompressBlock(comp: number, phys: Uint8Array, logicalSize: number): Uint8Array {
  switch (comp) {
    case COMP_LZ4:
      return lz4Decompress(phys, logicalSize);
    case COMP_ZLIB:
      return zlibDecompress(phys, logicalSize);
    case COMP_NONE:
    case COMP_AUTOZERO: {
      const out = new Uint8Array(logicalSize);
      out.set(phys.subarray(0, Math.min(phys.length, logicalSize)));
      return out;
    }
    default:
      throw new FormatError(`unknown compression method ${comp}`);
  }
}

/**
 * Throws exactly where decompressBlock would (the same rules), without keeping the logical
 * bytes; returns how many the codec produces (the rest of the block reads as zeros).
 */
export function validateBlock(comp: number, phys: Uint8Array, logicalSize: number): number {
  switch (comp) {
    case COMP_LZ4:
      return lz4Validate(phys, logicalSize);
    case COMP_ZLIB:
      return zlibValidate(phys, logicalSize);
    case COMP_NONE:
    case COMP_AUTOZERO:
      return Math.min(phys.length, logicalSize);
    default:
      throw new FormatError(`unknown compression method ${comp}`);
  }
}
