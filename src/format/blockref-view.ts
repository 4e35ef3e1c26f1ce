/**
 * Blockref fields read in place from the bytes of a block table, for passes that visit every
 * blockref of a volume (fsck, dump show): no object and no BigInt per entry. 64-bit fields come as two
 * unsigned 32-bit halves, data_off's offset as a Number (exact below 2^53 bytes), and the full
 * Blockref (decodeBlockref) only when a finding must be reported. Layout: see blockref.ts.
 */
import { Blockref, CHECK_BYTES, CHECK_OFF, EMBED_BYTES, EMBED_OFF, decodeBlockref } from './blockref';
import { CHECK_DISABLED, CHECK_FREEMAP, CHECK_ISCSI32, CHECK_NONE, CHECK_XXHASH64, OFF_MASK_RADIX, decCheck } from './constants';
import { verifyCheck } from './check';
import { crc32c } from './crc32c';
import { xxh64 } from './xxh64';

export const TWO_32 = 2 ** 32;
const TWO32 = TWO_32;
/** the low bits of data_off that hold the size radix, as a Number */
const RADIX_BITS = Number(OFF_MASK_RADIX);

/** Byte offsets of the fields inside a blockref (the layout decodeBlockref reads). */
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

/** Little-endian unsigned 16 bits at `o`. */
export const u16At = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);

/** Little-endian unsigned 32 bits at `o`. */
export const u32At = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/** Little-endian unsigned 64 bits at `o` as a Number: exact below 2^53, rounded above. */
export const u64NumAt = (b: Uint8Array, o: number): number => u32At(b, o + 4) * TWO32 + u32At(b, o);

/** Little-endian unsigned 64 bits at `o` as a BigInt (for the rare exact uses). */
export const u64At = (b: Uint8Array, o: number): bigint => (BigInt(u32At(b, o + 4)) << 32n) | BigInt(u32At(b, o));

export const bvType = (b: Uint8Array, o: number): number => b[o];
export const bvMethods = (b: Uint8Array, o: number): number => b[o + BREF_AT.methods];
export const bvKeybits = (b: Uint8Array, o: number): number => b[o + BREF_AT.keybits];
export const bvKeyLo = (b: Uint8Array, o: number): number => u32At(b, o + BREF_AT.key);
export const bvKeyHi = (b: Uint8Array, o: number): number => u32At(b, o + BREF_AT.key + 4);
export const bvKey = (b: Uint8Array, o: number): bigint => u64At(b, o + BREF_AT.key);
export const bvMirrorLo = (b: Uint8Array, o: number): number => u32At(b, o + BREF_AT.mirrorTid);
export const bvMirrorHi = (b: Uint8Array, o: number): number => u32At(b, o + BREF_AT.mirrorTid + 4);
/** Size radix of the referenced block (0: no storage). */
export const bvRadix = (b: Uint8Array, o: number): number => b[o + BREF_AT.dataOff] & RADIX_BITS;
/** Physical byte offset of the referenced block as a Number (exact below 2^53). */
export const bvOffset = (b: Uint8Array, o: number): number => u32At(b, o + BREF_AT.dataOff + 4) * TWO32 + ((u32At(b, o + BREF_AT.dataOff) & ~RADIX_BITS) >>> 0);
/** True when the offset is exact as a Number. */
export const bvOffsetExact = (b: Uint8Array, o: number): boolean => u32At(b, o + BREF_AT.dataOff + 4) < 0x200000;
/** embed.stats data_count and inode_count as Numbers (exact below 2^53). */
export const bvStatData = (b: Uint8Array, o: number): number => u64NumAt(b, o + STATS_AT.dataCount);
export const bvStatInodes = (b: Uint8Array, o: number): number => u64NumAt(b, o + STATS_AT.inodeCount);
/** The check union's bytes, shared with the table. */
export const bvCheckBytes = (b: Uint8Array, o: number): Uint8Array => b.subarray(o + CHECK_OFF, o + CHECK_OFF + CHECK_BYTES);

/** (aHi, aLo) < (bHi, bLo), unsigned. */
export const lt64 = (aHi: number, aLo: number, bHi: number, bLo: number): boolean => aHi < bHi || (aHi === bHi && aLo < bLo);

/** The two halves [hi, lo] of an unsigned 64-bit BigInt, and back. */
export const halves = (v: bigint): [number, number] => [Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
export const joinHalves = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);

/** (aHi, aLo) > (bHi, bLo) for 64-bit values split in unsigned halves. */
export const gt64 = (aHi: number, aLo: number, bHi: number, bLo: number): boolean => aHi > bHi || (aHi === bHi && aLo > bLo);

/**
 * The last key an entry covers (key + 2^keybits - 1, at most the largest key), as halves in
 * `out` [hi, lo]. Every step stays below 2^35, so Numbers hold it exactly.
 */
export function bvKeyEnd(b: Uint8Array, o: number, out: Float64Array | number[]): void {
  const kb = bvKeybits(b, o);
  if (kb >= 64) {
    out[0] = 0xffffffff;
    out[1] = 0xffffffff;
    return;
  }
  const addHi = kb > 32 ? 2 ** (kb - 32) - 1 : 0;
  const addLo = kb >= 32 ? 0xffffffff : 2 ** kb - 1;
  let lo = bvKeyLo(b, o) + addLo;
  let hi = bvKeyHi(b, o) + addHi;
  if (lo >= TWO32) {
    lo -= TWO32;
    hi += 1;
  }
  if (hi >= TWO32) {
    hi = 0xffffffff;
    lo = 0xffffffff;
  }
  out[0] = hi;
  out[1] = lo;
}

/** The blockref at `o` as an object (a private copy): for findings and the rare exact paths. */
export const bvBlockref = (b: Uint8Array, o: number): Blockref => decodeBlockref(b, o);

/**
 * The blockref at `o` as an object whose embed and check areas are views of `b` (no copy): for
 * a table nothing rewrites, like the walk's private copies, when the object is needed at every
 * entry of a kind (fsck's inodes and dirents).
 */
export function bvBlockrefShared(b: Uint8Array, o: number): Blockref {
  return {
    type: b[o],
    methods: b[o + BREF_AT.methods],
    copyid: b[o + 0x02],
    keybits: b[o + BREF_AT.keybits],
    vradix: b[o + 0x04],
    flags: b[o + 0x05],
    leafCount: b[o + 0x06] | (b[o + 0x07] << 8),
    key: u64At(b, o + BREF_AT.key),
    mirrorTid: u64At(b, o + 0x10),
    modifyTid: u64At(b, o + 0x18),
    dataOff: u64At(b, o + 0x20),
    updateTid: u64At(b, o + 0x28),
    embed: b.subarray(o + EMBED_OFF, o + EMBED_OFF + EMBED_BYTES),
    check: b.subarray(o + CHECK_OFF, o + CHECK_OFF + CHECK_BYTES),
  };
}

/**
 * Whether `data` matches the check code of the blockref at `o` (verifyCheck's verdict without
 * its printable strings; a caller that needs them decodes the blockref and asks verifyCheck).
 */
export function bvVerify(b: Uint8Array, o: number, data: Uint8Array): boolean {
  switch (decCheck(bvMethods(b, o))) {
    case CHECK_ISCSI32:
    case CHECK_FREEMAP:
      // both keep a CRC-32C in the first four bytes of the union
      return u32At(b, o + CHECK_OFF) === crc32c(data) >>> 0;
    case CHECK_XXHASH64:
      return xxh64(data) === u64At(b, o + CHECK_OFF);
    case CHECK_NONE:
    case CHECK_DISABLED:
      return true;
    default:
      return verifyCheck(bvBlockref(b, o), data).ok;
  }
}
