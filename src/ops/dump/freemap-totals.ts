/** The storage totals `hammer2 freemap` prints under the tree, from the leaves' 2-bit states. */
import { BMAP_BLOCKS_PER_ELEMENT, BmapData, FREEMAP_BLOCK_SIZE } from '../../format';

export interface FreemapTotals {
  /** bytes per 2-bit state (0 free, 1 reserved, 2 possibly free, 3 allocated), by 16 KiB block */
  accum16: bigint[];
  /** the same, counting only whole 64 KiB chunks whose four blocks share the state */
  accum64: bigint[];
  /** 4 MiB segments outside the allocatable range (boot/aux areas, past the end) */
  unavail: bigint;
  /** bytes covered by freemap leaves */
  freemap: bigint;
}

export function newFreemapTotals(): FreemapTotals {
  return { accum16: [0n, 0n, 0n, 0n], accum64: [0n, 0n, 0n, 0n], unavail: 0n, freemap: 0n };
}

const CHUNK64 = BigInt(4 * FREEMAP_BLOCK_SIZE);

export function countFreemapBlocks(bm: BmapData, t: FreemapTotals): void {
  for (const word of bm.bitmapq) {
    for (let j = 0; j < BMAP_BLOCKS_PER_ELEMENT; j++) {
      t.accum16[Number((word >> BigInt(2 * j)) & 3n)] += BigInt(FREEMAP_BLOCK_SIZE);
    }
    for (let j = 0; j < BMAP_BLOCKS_PER_ELEMENT / 4; j++) {
      const byte = Number((word >> BigInt(8 * j)) & 0xffn);
      const s = byte & 3;
      if (byte === (s | (s << 2) | (s << 4) | (s << 6))) t.accum64[s] += CHUNK64;
    }
  }
}
