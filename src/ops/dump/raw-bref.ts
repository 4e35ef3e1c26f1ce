/**
 * Blockref fields read in place from a table's bytes, for the dump's hot path: one blockref
 * object per entry (BigInts, private copies of the unions) cost more than printing it. Small
 * fields are numbers; 64-bit fields are two unsigned 32-bit halves, which is all that hex
 * printing and ordering need. The layout is the one documented in src/format/blockref.ts.
 */
import { CHECK_OFF, EMBED_OFF } from '../../format/blockref';

/** Byte offsets inside a blockref that src/format/blockref.ts reads through its decoder. */
export const BREF_AT = {
  type: 0x00,
  methods: 0x01,
  keybits: 0x03,
  flags: 0x05,
  leafCount: 0x06,
  key: 0x08,
  mirrorTid: 0x10,
  modifyTid: 0x18,
  dataOff: 0x20,
  embed: EMBED_OFF,
  check: CHECK_OFF,
} as const;

/** The dirent head in the embed union: inum, name length, object type. */
export const DIRENT_AT = { inum: EMBED_OFF, namlen: EMBED_OFF + 8, type: EMBED_OFF + 10 } as const;
/** Inode statistics in the embed union. */
export const STATS_AT = { dataCount: EMBED_OFF, inodeCount: EMBED_OFF + 8 } as const;
/** The freemap variant of the check union. */
export const FMCHECK_AT = { icrc32: CHECK_OFF, bigmask: CHECK_OFF + 4, avail: CHECK_OFF + 8 } as const;

export const TWO_32 = 4294967296;

export function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** hi:lo < hi2:lo2, unsigned. */
export function lt64(hi: number, lo: number, hi2: number, lo2: number): boolean {
  return hi < hi2 || (hi === hi2 && lo < lo2);
}

/** The two halves of an unsigned 64-bit BigInt. */
export function halves(v: bigint): [number, number] {
  return [Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
}

export function joinHalves(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}
