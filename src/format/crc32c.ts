/** iSCSI CRC-32C (Castagnoli), HAMMER2's `hammer2_icrc32`, through the crc-32 package. */
import CRC32C from 'crc-32/crc32c';

export function crc32c(data: Uint8Array, seed = 0): number {
  return CRC32C.buf(data, seed) >>> 0;
}
