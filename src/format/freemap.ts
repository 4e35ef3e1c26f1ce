/**
 * Freemap leaves: 256 `bmap_data` entries of 128 bytes, each describing one 4 MiB segment
 * with a 2-bit state per 16 KiB block (00 free, 10 possibly free, 11 allocated).
 *
 *   00 linear (int32)  04 class (type<<8 | radix)  1C avail (uint32)  40 bitmapq[8] (uint64)
 */
import { viewOf, copyBytes } from './bytes';
import {
  BMAP_BLOCKS_PER_ELEMENT,
  BMAP_DATA_BYTES,
  BMAP_ELEMENTS,
  FREEMAP_BLOCK_SIZE,
  FREEMAP_COUNT,
  FREEMAP_LEVEL0_SIZE,
  FREEMAP_LEVEL1_SIZE,
  FREEMAP_LEVELN_PSIZE,
  ZONE_SEG,
} from './constants';

/** ZONE_SEG is reserved at the start of every started GiB of the filesystem (newfs's "topo-reserved"). */
export function topoReservedBytes(total: bigint): bigint {
  return ((total + FREEMAP_LEVEL1_SIZE - 1n) / FREEMAP_LEVEL1_SIZE) * ZONE_SEG;
}

/**
 * The space the allocator may hand out: the filesystem less its reserved segments and the boot
 * and aux areas. allocator_free is this less the granules the freemap marks allocated.
 */
export function allocatableBytes(h: { bootBeg: bigint; bootEnd: bigint; auxBeg: bigint; auxEnd: bigint }, total: bigint): bigint {
  return total - topoReservedBytes(total) - (h.bootEnd - h.bootBeg) - (h.auxEnd - h.auxBeg);
}

const BMAP = { linear: 0x00, class: 0x04, avail: 0x1c, bitmapq: 0x40 } as const;

export interface BmapData {
  linear: number;
  class: number;
  avail: number;
  bitmapq: bigint[];
  /** the 128 bytes as read, keeping reserved fields */
  raw: Uint8Array;
}

export function decodeBmapData(buf: Uint8Array, off = 0): BmapData {
  const v = viewOf(buf, off, BMAP_DATA_BYTES, 'bmap_data');
  return {
    linear: v.getInt32(BMAP.linear, true),
    class: v.getUint16(BMAP.class, true),
    avail: v.getUint32(BMAP.avail, true),
    bitmapq: Array.from({ length: BMAP_ELEMENTS }, (_, i) => v.getBigUint64(BMAP.bitmapq + 8 * i, true)),
    raw: copyBytes(buf, off, BMAP_DATA_BYTES),
  };
}

export function encodeBmapData(b: BmapData, buf: Uint8Array, off = 0): void {
  buf.set(b.raw.length === BMAP_DATA_BYTES ? b.raw : new Uint8Array(BMAP_DATA_BYTES), off);
  const v = viewOf(buf, off, BMAP_DATA_BYTES, 'bmap_data');
  v.setInt32(BMAP.linear, b.linear, true);
  v.setUint16(BMAP.class, b.class, true);
  v.setUint32(BMAP.avail, b.avail >>> 0, true);
  b.bitmapq.forEach((w, i) => v.setBigUint64(BMAP.bitmapq + 8 * i, w, true));
}

export function emptyBmapData(): BmapData {
  return { linear: 0, class: 0, avail: 0, bitmapq: new Array(BMAP_ELEMENTS).fill(0n), raw: new Uint8Array(BMAP_DATA_BYTES) };
}

/** A freemap leaf: the 256 segments of one 1 GiB range. */
export function decodeFreemapLeaf(buf: Uint8Array, off = 0): BmapData[] {
  viewOf(buf, off, FREEMAP_LEVELN_PSIZE, 'freemap leaf');
  return Array.from({ length: FREEMAP_COUNT }, (_, i) => decodeBmapData(buf, off + i * BMAP_DATA_BYTES));
}

export function encodeFreemapLeaf(leaf: BmapData[]): Uint8Array {
  const out = new Uint8Array(FREEMAP_LEVELN_PSIZE);
  leaf.forEach((b, i) => encodeBmapData(b, out, i * BMAP_DATA_BYTES));
  return out;
}

/** The 2-bit state of 16 KiB block `n` (0..255) of a segment. */
export function bmapState(b: BmapData, n: number): number {
  const word = b.bitmapq[Math.floor(n / BMAP_BLOCKS_PER_ELEMENT)];
  return Number((word >> BigInt((n % BMAP_BLOCKS_PER_ELEMENT) * 2)) & 3n);
}

export function setBmapState(b: BmapData, n: number, state: number): void {
  const i = Math.floor(n / BMAP_BLOCKS_PER_ELEMENT);
  const shift = BigInt((n % BMAP_BLOCKS_PER_ELEMENT) * 2);
  b.bitmapq[i] = (b.bitmapq[i] & ~(3n << shift)) | (BigInt(state & 3) << shift);
}

/** 16 KiB blocks per segment (256). */
export const BLOCKS_PER_SEGMENT = Number(FREEMAP_LEVEL0_SIZE) / FREEMAP_BLOCK_SIZE;
