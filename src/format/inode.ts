/**
 * The 1024-byte inode (`hammer2_inode_data`): 256 bytes of meta, 256 bytes of file name,
 * and 512 bytes holding either a 4-entry blockset or up to 512 bytes of direct file data
 * (OPFLAG_DIRECTDATA).
 */
import { viewOf, copyBytes } from './bytes';
import { Blockref, decodeBlockrefs, encodeBlockref } from './blockref';
import {
  BLOCKREF_BYTES,
  EMBEDDED_BYTES,
  INODE_BYTES,
  INODE_MAXNAME,
  OPFLAG_DIRECTDATA,
  SET_COUNT,
} from './constants';
import { UUID_BYTES } from './uuid';
import { FormatError } from './errors';

export const INODE_META_BYTES = 256;
export const INODE_FILENAME_OFF = 0x100;
export const INODE_U_OFF = 0x200;

/** Byte offsets of the meta fields. */
export const META = {
  version: 0x00,
  pfsSubtype: 0x03,
  uflags: 0x04,
  rmajor: 0x08,
  rminor: 0x0c,
  ctime: 0x10,
  mtime: 0x18,
  atime: 0x20,
  btime: 0x28,
  uid: 0x30,
  gid: 0x40,
  type: 0x50,
  opFlags: 0x51,
  capFlags: 0x52,
  mode: 0x54,
  inum: 0x58,
  size: 0x60,
  nlinks: 0x68,
  iparent: 0x70,
  nameKey: 0x78,
  nameLen: 0x80,
  ncopies: 0x82,
  compAlgo: 0x83,
  checkAlgo: 0x85,
  pfsNmasters: 0x86,
  pfsType: 0x87,
  pfsInum: 0x88,
  pfsClid: 0x90,
  pfsFsid: 0xa0,
  dataQuota: 0xb0,
  inodeQuota: 0xc0,
  pfsLsnapTid: 0xd0,
  decryptCheck: 0xe0,
} as const;

export interface InodeMeta {
  version: number;
  pfsSubtype: number;
  uflags: number;
  rmajor: number;
  rminor: number;
  /** times in microseconds since the epoch */
  ctime: bigint;
  mtime: bigint;
  atime: bigint;
  btime: bigint;
  /** uid and gid as UUIDs; unix ids are degenerate UUIDs holding the id in the first field */
  uid: Uint8Array;
  gid: Uint8Array;
  type: number;
  opFlags: number;
  capFlags: number;
  mode: number;
  inum: bigint;
  size: bigint;
  nlinks: bigint;
  iparent: bigint;
  nameKey: bigint;
  nameLen: number;
  ncopies: number;
  compAlgo: number;
  checkAlgo: number;
  pfsNmasters: number;
  pfsType: number;
  pfsInum: bigint;
  pfsClid: Uint8Array;
  pfsFsid: Uint8Array;
  dataQuota: bigint;
  inodeQuota: bigint;
  pfsLsnapTid: bigint;
  decryptCheck: bigint;
}

export interface Inode {
  meta: InodeMeta;
  /** the 256-byte name field; meta.nameLen bytes of it are the name */
  filenameRaw: Uint8Array;
  /** present unless DIRECTDATA */
  blockset: Blockref[] | null;
  /** the 512-byte union as raw bytes (direct data when DIRECTDATA) */
  u: Uint8Array;
  /** the 1024 bytes as read; encode writes over a copy to keep reserved bytes */
  raw: Uint8Array;
}

/**
 * Only the child blockrefs of an inode block (none when it holds its data directly): what a
 * tree walk needs, without decoding and copying the rest of the inode.
 */
export function inodeBlockset(buf: Uint8Array, off = 0): Blockref[] {
  if (buf.length - off < INODE_BYTES) throw new FormatError(`inode: needs ${INODE_BYTES} bytes at offset ${off}, buffer has ${buf.length}`);
  return buf[off + META.opFlags] & OPFLAG_DIRECTDATA ? [] : decodeBlockrefs(buf, off + INODE_U_OFF, SET_COUNT);
}

export function decodeInode(buf: Uint8Array, off = 0): Inode {
  const v = viewOf(buf, off, INODE_BYTES, 'inode');
  const raw = copyBytes(buf, off, INODE_BYTES);
  const u64 = (o: number): bigint => v.getBigUint64(o, true);
  // views of the private copy: nothing else holds `raw`
  const uuid = (o: number): Uint8Array => raw.subarray(o, o + UUID_BYTES);
  const meta: InodeMeta = {
    version: v.getUint16(META.version, true),
    pfsSubtype: v.getUint8(META.pfsSubtype),
    uflags: v.getUint32(META.uflags, true),
    rmajor: v.getUint32(META.rmajor, true),
    rminor: v.getUint32(META.rminor, true),
    ctime: u64(META.ctime),
    mtime: u64(META.mtime),
    atime: u64(META.atime),
    btime: u64(META.btime),
    uid: uuid(META.uid),
    gid: uuid(META.gid),
    type: v.getUint8(META.type),
    opFlags: v.getUint8(META.opFlags),
    capFlags: v.getUint16(META.capFlags, true),
    mode: v.getUint32(META.mode, true),
    inum: u64(META.inum),
    size: u64(META.size),
    nlinks: u64(META.nlinks),
    iparent: u64(META.iparent),
    nameKey: u64(META.nameKey),
    nameLen: v.getUint16(META.nameLen, true),
    ncopies: v.getUint8(META.ncopies),
    compAlgo: v.getUint8(META.compAlgo),
    checkAlgo: v.getUint8(META.checkAlgo),
    pfsNmasters: v.getUint8(META.pfsNmasters),
    pfsType: v.getUint8(META.pfsType),
    pfsInum: u64(META.pfsInum),
    pfsClid: uuid(META.pfsClid),
    pfsFsid: uuid(META.pfsFsid),
    dataQuota: u64(META.dataQuota),
    inodeQuota: u64(META.inodeQuota),
    pfsLsnapTid: u64(META.pfsLsnapTid),
    decryptCheck: u64(META.decryptCheck),
  };
  const u = raw.slice(INODE_U_OFF, INODE_U_OFF + EMBEDDED_BYTES);
  return {
    meta,
    filenameRaw: raw.slice(INODE_FILENAME_OFF, INODE_FILENAME_OFF + INODE_MAXNAME),
    blockset: meta.opFlags & OPFLAG_DIRECTDATA ? null : decodeBlockrefs(u, 0, SET_COUNT),
    u,
    raw,
  };
}

export function encodeInode(ino: Inode): Uint8Array {
  const out = ino.raw.length === INODE_BYTES ? ino.raw.slice() : new Uint8Array(INODE_BYTES);
  const v = viewOf(out, 0, INODE_BYTES, 'inode');
  const m = ino.meta;
  const u64 = (o: number, x: bigint): void => v.setBigUint64(o, x, true);
  v.setUint16(META.version, m.version, true);
  v.setUint8(META.pfsSubtype, m.pfsSubtype);
  v.setUint32(META.uflags, m.uflags, true);
  v.setUint32(META.rmajor, m.rmajor, true);
  v.setUint32(META.rminor, m.rminor, true);
  u64(META.ctime, m.ctime);
  u64(META.mtime, m.mtime);
  u64(META.atime, m.atime);
  u64(META.btime, m.btime);
  out.set(m.uid, META.uid);
  out.set(m.gid, META.gid);
  v.setUint8(META.type, m.type);
  v.setUint8(META.opFlags, m.opFlags);
  v.setUint16(META.capFlags, m.capFlags, true);
  v.setUint32(META.mode, m.mode, true);
  u64(META.inum, m.inum);
  u64(META.size, m.size);
  u64(META.nlinks, m.nlinks);
  u64(META.iparent, m.iparent);
  u64(META.nameKey, m.nameKey);
  v.setUint16(META.nameLen, m.nameLen, true);
  v.setUint8(META.ncopies, m.ncopies);
  v.setUint8(META.compAlgo, m.compAlgo);
  v.setUint8(META.checkAlgo, m.checkAlgo);
  v.setUint8(META.pfsNmasters, m.pfsNmasters);
  v.setUint8(META.pfsType, m.pfsType);
  u64(META.pfsInum, m.pfsInum);
  out.set(m.pfsClid, META.pfsClid);
  out.set(m.pfsFsid, META.pfsFsid);
  u64(META.dataQuota, m.dataQuota);
  u64(META.inodeQuota, m.inodeQuota);
  u64(META.pfsLsnapTid, m.pfsLsnapTid);
  u64(META.decryptCheck, m.decryptCheck);
  out.set(ino.filenameRaw.subarray(0, INODE_MAXNAME), INODE_FILENAME_OFF);
  if (ino.blockset) {
    ino.blockset.forEach((b, i) => encodeBlockref(b, out, INODE_U_OFF + i * BLOCKREF_BYTES));
  } else {
    out.set(ino.u.subarray(0, EMBEDDED_BYTES), INODE_U_OFF);
  }
  return out;
}

/** The inode's name bytes (nameLen of the 256-byte field; empty if nameLen is out of range). */
export function inodeNameBytes(ino: Inode): Uint8Array {
  const n = ino.meta.nameLen;
  return n > INODE_MAXNAME ? new Uint8Array(0) : ino.filenameRaw.subarray(0, n);
}

/** Unix ids sit in a degenerate UUID at node[2..5] (byte 12), little-endian. */
const UNIX_ID_OFF = 12;

/** Unix uid/gid held in a degenerate UUID. */
export function uuidToUnixId(uuid: Uint8Array): number {
  return new DataView(uuid.buffer, uuid.byteOffset, 16).getUint32(UNIX_ID_OFF, true);
}

/** The degenerate UUID holding a unix uid/gid (the rest zero). */
export function uuidFromUnixId(id: number): Uint8Array {
  const u = new Uint8Array(16);
  new DataView(u.buffer).setUint32(UNIX_ID_OFF, id >>> 0, true);
  return u;
}
