/**
 * The 128-byte blockref: the pointer from a parent to a child block, carrying the child's
 * type, key range, transaction ids, physical location and check code.
 *
 *   00 type  01 methods  02 copyid  03 keybits  04 vradix  05 flags  06 leaf_count(16)
 *   08 key   10 mirror_tid   18 modify_tid   20 data_off   28 update_tid
 *   30 embed union (16 bytes)   40 check union (64 bytes)
 */
import { viewOf, copyBytes } from './bytes';
import {
  BLOCKREF_BYTES,
  OFF_MASK,
  OFF_MASK_RADIX,
  BREF_TYPE_EMPTY,
  KEY_MAX,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  decCheck,
  decComp,
} from './constants';

export const EMBED_OFF = 0x30;
export const EMBED_BYTES = 16;
export const CHECK_OFF = 0x40;
export const CHECK_BYTES = 64;

export interface Blockref {
  type: number;
  /** check method (high nibble) and compression (low nibble) */
  methods: number;
  copyid: number;
  /** number of key bits this reference covers; 0 for a single key */
  keybits: number;
  vradix: number;
  flags: number;
  leafCount: number;
  key: bigint;
  mirrorTid: bigint;
  modifyTid: bigint;
  /** byte offset with the size radix in the low 6 bits */
  dataOff: bigint;
  updateTid: bigint;
  /** the embed union: dirent head or inode statistics, see embedDirent/embedStats */
  embed: Uint8Array;
  /** the check union: check code, dirent name or freemap summary */
  check: Uint8Array;
}

export function emptyBlockref(): Blockref {
  return {
    type: BREF_TYPE_EMPTY,
    methods: 0,
    copyid: 0,
    keybits: 0,
    vradix: 0,
    flags: 0,
    leafCount: 0,
    key: 0n,
    mirrorTid: 0n,
    modifyTid: 0n,
    dataOff: 0n,
    updateTid: 0n,
    embed: new Uint8Array(EMBED_BYTES),
    check: new Uint8Array(CHECK_BYTES),
  };
}

/**
 * A copy that shares no bytes with `b`. (`new Uint8Array(x)` copies; a Node Buffer's `slice`
 * would not.)
 */
export function cloneBlockref(b: Blockref): Blockref {
  return { ...b, embed: new Uint8Array(b.embed), check: new Uint8Array(b.check) };
}

export function decodeBlockref(buf: Uint8Array, off = 0): Blockref {
  const v = viewOf(buf, off, BLOCKREF_BYTES, 'blockref');
  return decodeAt(v, 0, copyBytes(buf, off, BLOCKREF_BYTES), 0);
}

/** Fields from `v` at `at`; embed and check are views of `own`, a private copy, at `ownAt`. */
function decodeAt(v: DataView, at: number, own: Uint8Array, ownAt: number): Blockref {
  return {
    type: v.getUint8(at + 0x00),
    methods: v.getUint8(at + 0x01),
    copyid: v.getUint8(at + 0x02),
    keybits: v.getUint8(at + 0x03),
    vradix: v.getUint8(at + 0x04),
    flags: v.getUint8(at + 0x05),
    leafCount: v.getUint16(at + 0x06, true),
    key: v.getBigUint64(at + 0x08, true),
    mirrorTid: v.getBigUint64(at + 0x10, true),
    modifyTid: v.getBigUint64(at + 0x18, true),
    dataOff: v.getBigUint64(at + 0x20, true),
    updateTid: v.getBigUint64(at + 0x28, true),
    embed: own.subarray(ownAt + EMBED_OFF, ownAt + EMBED_OFF + EMBED_BYTES),
    check: own.subarray(ownAt + CHECK_OFF, ownAt + CHECK_OFF + CHECK_BYTES),
  };
}

export function encodeBlockref(b: Blockref, buf: Uint8Array, off = 0): void {
  const v = viewOf(buf, off, BLOCKREF_BYTES, 'blockref');
  v.setUint8(0x00, b.type);
  v.setUint8(0x01, b.methods);
  v.setUint8(0x02, b.copyid);
  v.setUint8(0x03, b.keybits);
  v.setUint8(0x04, b.vradix);
  v.setUint8(0x05, b.flags);
  v.setUint16(0x06, b.leafCount, true);
  v.setBigUint64(0x08, b.key, true);
  v.setBigUint64(0x10, b.mirrorTid, true);
  v.setBigUint64(0x18, b.modifyTid, true);
  v.setBigUint64(0x20, b.dataOff, true);
  v.setBigUint64(0x28, b.updateTid, true);
  buf.set(b.embed.subarray(0, EMBED_BYTES), off + EMBED_OFF);
  buf.set(b.check.subarray(0, CHECK_BYTES), off + CHECK_OFF);
}

/** Decode the `count` blockrefs of a block table (indirect block, blockset, freemap node). */
/** A table of blockrefs; one private copy of the table backs all their embed and check areas. */
export function decodeBlockrefs(buf: Uint8Array, off: number, count: number): Blockref[] {
  const v = viewOf(buf, off, count * BLOCKREF_BYTES, 'blockref table');
  const own = copyBytes(buf, off, count * BLOCKREF_BYTES);
  const out: Blockref[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = decodeAt(v, i * BLOCKREF_BYTES, own, i * BLOCKREF_BYTES);
  return out;
}

/** The last key an entry covers (key + 2^keybits - 1, at most KEY_MAX). */
export function keyEnd(b: Blockref): bigint {
  const end = b.key + (1n << BigInt(b.keybits)) - 1n;
  return end > KEY_MAX ? KEY_MAX : end;
}

// ---- data_off ------------------------------------------------------------------------------

/** Physical byte offset of the referenced block. */
export const brefOffset = (b: Blockref): bigint => b.dataOff & OFF_MASK;
/** Size radix of the referenced block (0: no storage). */
export const brefRadix = (b: Blockref): number => Number(b.dataOff & OFF_MASK_RADIX);
/** Physical size in bytes of the referenced block (0: no storage). */
export const brefBytes = (b: Blockref): number => {
  const r = brefRadix(b);
  return r === 0 ? 0 : 2 ** r;
};
export const brefCheckMethod = (b: Blockref): number => decCheck(b.methods);
export const brefCompMethod = (b: Blockref): number => decComp(b.methods);

export function makeDataOff(offset: bigint, radix: number): bigint {
  return (offset & OFF_MASK) | BigInt(radix);
}

// ---- embed union ----------------------------------------------------------------------------

/** The dirent head embedded in a DIRENT blockref. */
export interface DirentHead {
  inum: bigint;
  namlen: number;
  type: number;
}

export function embedDirent(b: Blockref): DirentHead {
  const v = viewOf(b.embed, 0, EMBED_BYTES, 'blockref.embed.dirent');
  return { inum: v.getBigUint64(0, true), namlen: v.getUint16(8, true), type: v.getUint8(10) };
}

export function setEmbedDirent(b: Blockref, d: DirentHead): void {
  b.embed.fill(0);
  const v = viewOf(b.embed, 0, EMBED_BYTES, 'blockref.embed.dirent');
  v.setBigUint64(0, d.inum, true);
  v.setUint16(8, d.namlen, true);
  v.setUint8(10, d.type);
}

/** Subtree statistics embedded in INODE (and indirect) blockrefs. */
export interface EmbedStats {
  dataCount: bigint;
  inodeCount: bigint;
}

export function embedStats(b: Blockref): EmbedStats {
  const v = viewOf(b.embed, 0, EMBED_BYTES, 'blockref.embed.stats');
  return { dataCount: v.getBigUint64(0, true), inodeCount: v.getBigUint64(8, true) };
}

export function setEmbedStats(b: Blockref, s: EmbedStats): void {
  const v = viewOf(b.embed, 0, EMBED_BYTES, 'blockref.embed.stats');
  v.setBigUint64(0, s.dataCount, true);
  v.setBigUint64(8, s.inodeCount, true);
}

/**
 * What a child blockref adds to its parent's embed.stats: its own allocation, one inode if it is
 * an inode, and the totals it carries itself if it is an inode or an indirect block.
 */
export function childStats(elm: Blockref): EmbedStats {
  const radix = brefRadix(elm);
  const out = { dataCount: radix ? 1n << BigInt(radix) : 0n, inodeCount: elm.type === BREF_TYPE_INODE ? 1n : 0n };
  if (elm.type === BREF_TYPE_INODE || elm.type === BREF_TYPE_INDIRECT) {
    const c = embedStats(elm);
    out.dataCount += c.dataCount;
    out.inodeCount += c.inodeCount;
  }
  return out;
}

// ---- check union ----------------------------------------------------------------------------

export const checkIscsi32 = (b: Blockref): number => viewOf(b.check, 0, 4, 'check.iscsi32').getUint32(0, true);
export const checkXxhash64 = (b: Blockref): bigint =>
  viewOf(b.check, 0, 8, 'check.xxhash64').getBigUint64(0, true);
/** The 24 bytes of a sha192 check. */
export const checkSha192 = (b: Blockref): Uint8Array => b.check.subarray(0, 24);

/** The freemap variant of the check union, used by freemap nodes and leaves. */
export interface FreemapCheck {
  icrc32: number;
  /** radixes still available for allocation below this reference */
  bigmask: number;
  /** bytes still available below this reference */
  avail: bigint;
}

export function checkFreemap(b: Blockref): FreemapCheck {
  const v = viewOf(b.check, 0, 16, 'check.freemap');
  return { icrc32: v.getUint32(0, true), bigmask: v.getUint32(4, true), avail: v.getBigUint64(8, true) };
}

export function setCheckFreemap(b: Blockref, f: FreemapCheck): void {
  const v = viewOf(b.check, 0, 16, 'check.freemap');
  v.setUint32(0, f.icrc32 >>> 0, true);
  v.setUint32(4, f.bigmask >>> 0, true);
  v.setBigUint64(8, f.avail, true);
}
