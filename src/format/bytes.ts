/**
 * Little-endian field access over a byte buffer, with bounds checked once per structure.
 * HAMMER2 is little-endian on every platform DragonFly runs on, and h2kit reads it as such.
 */
import { FormatError } from './errors';

/** A DataView over exactly `len` bytes at `off` of `buf`, after checking that they exist. */
export function viewOf(buf: Uint8Array, off: number, len: number, what: string): DataView {
  if (!Number.isInteger(off) || off < 0 || off + len > buf.byteLength) {
    throw new FormatError(`${what}: needs ${len} bytes at offset ${off}, buffer has ${buf.byteLength}`);
  }
  return new DataView(buf.buffer, buf.byteOffset + off, len);
}

/**
 * A copy of `len` bytes at `off`, so decoded structures never alias the I/O buffer. Always a
 * plain Uint8Array: slicing a Node Buffer would give a Buffer, whose own `slice` shares memory.
 */
export function copyBytes(buf: Uint8Array, off: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  // a plain view of the source: a Buffer's subarray would build another Buffer
  out.set(new Uint8Array(buf.buffer, buf.byteOffset + off, len));
  return out;
}

export function isAllZero(buf: Uint8Array, off = 0, len = buf.byteLength - off): boolean {
  const end = off + len;
  let i = off;
  // Compare 8 bytes at a time where the view allows; zero checks run on every data block.
  if ((buf.byteOffset + i) % 8 === 0) {
    const words = Math.floor((end - i) / 8);
    if (words > 0) {
      const w = new BigUint64Array(buf.buffer, buf.byteOffset + i, words);
      for (let k = 0; k < words; k++) if (w[k] !== 0n) return false;
      i += words * 8;
    }
  }
  for (; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Hex of a 64-bit value, zero padded to 16 digits (the tools' %016jx). */
export function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/** `0x`-prefixed hex for JSON output of 64-bit values. */
export function jsonHex(v: bigint): string {
  return '0x' + v.toString(16).padStart(16, '0');
}
