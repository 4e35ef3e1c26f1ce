/**
 * The directory hash: the key under which a name's dirent is stored in its directory.
 *
 * Bits 63..32: CRC-32C summed over the name's parts split at '.', '-', '_' and '~', with bit
 * 63 forced on. Bits 31..16: a CRC-32C of the whole name folded onto itself. Bit 15 is set so
 * the low 15 bits can number hash collisions while keys stay clear of '.' and '..'.
 */
import { crc32c } from './crc32c';

const SEPARATORS = new Set([0x2e /* . */, 0x2d /* - */, 0x5f /* _ */, 0x7e /* ~ */]);

export function dirhash(name: Uint8Array): bigint {
  let parts = 0;
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    if (SEPARATORS.has(name[i])) {
      if (i !== start) parts = (parts + crc32c(name.subarray(start, i))) >>> 0;
      start = i + 1;
    }
  }
  if (name.length !== start) parts = (parts + crc32c(name.subarray(start))) >>> 0;
  let key = BigInt((parts | 0x80000000) >>> 0) << 32n;

  let whole = crc32c(name);
  whole = (whole ^ (whole << 16)) >>> 0;
  key |= BigInt((whole & 0xffff0000) >>> 0);
  key |= 0x8000n;
  return key;
}

export function dirhashString(name: string): bigint {
  return dirhash(Buffer.from(name, 'utf8'));
}
