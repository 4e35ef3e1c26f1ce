/**
 * Data block compression as the kernel stores it.
 *
 * - LZ4: a 4-byte little-endian length of the compressed stream, then a raw LZ4 block. The
 *   physical block is that, rounded up to a power of two.
 * - ZLIB: a zlib stream (header, deflate data, adler32), rounded up likewise.
 * - AUTOZERO: not a codec; all-zero logical blocks are stored as holes, anything else raw.
 *
 * Every length in a compressed block comes from the media, so each is checked here before it
 * is trusted: lz4js does no bounds checking of its own.
 */
import * as lz4 from 'lz4js';
import * as pako from 'pako';
import { COMP_AUTOZERO, COMP_LZ4, COMP_NONE, COMP_ZLIB } from './constants';
import { FormatError } from './errors';

export const LZ4_PREFIX_BYTES = 4;

export function lz4Decompress(phys: Uint8Array, logicalSize: number): Uint8Array {
  if (phys.length < LZ4_PREFIX_BYTES) throw new FormatError(`lz4: block of ${phys.length} bytes has no length prefix`);
  const clen = new DataView(phys.buffer, phys.byteOffset, phys.byteLength).getInt32(0, true);
  if (clen < 0 || clen > phys.length - LZ4_PREFIX_BYTES) {
    throw new FormatError(`lz4: compressed length ${clen} exceeds the ${phys.length - LZ4_PREFIX_BYTES} bytes of the block`);
  }
  // A dst one byte larger than needed lets an overrun be seen in the returned length.
  const dst = new Uint8Array(logicalSize + 1);
  const src = phys.subarray(LZ4_PREFIX_BYTES, LZ4_PREFIX_BYTES + clen);
  let n: number;
  try {
    n = lz4.decompressBlock(src, dst, 0, clen, 0);
  } catch (e) {
    throw new FormatError(`lz4: undecodable stream (${(e as Error).message})`);
  }
  if (!Number.isInteger(n) || n < 0 || n > logicalSize) {
    throw new FormatError(`lz4: stream decodes past the ${logicalSize}-byte logical block`);
  }
  return dst.subarray(0, logicalSize); // the tail past n is zero, as the kernel zero-fills it
}

/** One hash table for every compression: cleared per block rather than allocated per block. */
const LZ4_HASH = new Uint32Array(1 << 16);

/** LZ4 with the length prefix; null when the result would not be smaller than `maxPhys`. */
export function lz4Compress(data: Uint8Array, maxPhys = data.length): Uint8Array | null {
  const bound = lz4.compressBound(data.length);
  const out = new Uint8Array(LZ4_PREFIX_BYTES + bound);
  LZ4_HASH.fill(0);
  const n = lz4.compressBlock(data, out.subarray(LZ4_PREFIX_BYTES), 0, data.length, LZ4_HASH);
  if (n <= 0 || n + LZ4_PREFIX_BYTES > maxPhys) return null;
  new DataView(out.buffer).setInt32(0, n, true);
  return out.subarray(0, LZ4_PREFIX_BYTES + n);
}

export function zlibDecompress(phys: Uint8Array, logicalSize: number): Uint8Array {
  const inflator = new pako.Inflate({ chunkSize: Math.max(logicalSize, 1024) });
  try {
    inflator.push(phys, true);
  } catch (e) {
    throw new FormatError(`zlib: undecodable stream (${(e as Error).message})`);
  }
  if (inflator.err) throw new FormatError(`zlib: ${inflator.msg || 'error ' + inflator.err}`);
  const result = inflator.result as Uint8Array | undefined;
  if (!result) throw new FormatError('zlib: stream is incomplete');
  if (result.length > logicalSize) throw new FormatError(`zlib: stream decodes past the ${logicalSize}-byte logical block`);
  const out = new Uint8Array(logicalSize);
  out.set(result);
  return out;
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
