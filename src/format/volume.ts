/**
 * The 64 KiB volume header (`hammer2_volume_data`), versions 1 and 2.
 *
 * Three CRC-32C values protect it: sector 0 (bytes 0..507, stored in icrc_sects[7]),
 * sector 1 (bytes 512..1023, the super-root blockset, in icrc_sects[6]) and the whole header
 * less its last 4 bytes (icrc_volheader). Sector 1 must be summed before sector 0, because
 * sector 0 holds sector 1's CRC; the whole-header CRC comes last.
 */
import { viewOf, copyBytes } from './bytes';
import { Blockref, decodeBlockrefs, encodeBlockref } from './blockref';
import {
  BLOCKREF_BYTES,
  MAX_VOLUMES,
  SET_COUNT,
  VOLUME_BYTES,
  VOLUME_ICRC0_OFF,
  VOLUME_ICRC0_SIZE,
  VOLUME_ICRC1_OFF,
  VOLUME_ICRC1_SIZE,
  VOLUME_ICRCVH_OFF,
  VOLUME_ICRCVH_SIZE,
  VOL_ICRC_SECT0,
  VOL_ICRC_SECT1,
} from './constants';
import { crc32c } from './crc32c';
import { UUID_BYTES } from './uuid';

/** Byte offsets of the header's fields. */
export const VOL = {
  magic: 0x00,
  bootBeg: 0x08,
  bootEnd: 0x10,
  auxBeg: 0x18,
  auxEnd: 0x20,
  voluSize: 0x28,
  version: 0x30,
  flags: 0x34,
  copyid: 0x38,
  freemapVersion: 0x39,
  peerType: 0x3a,
  voluId: 0x3b,
  nvolumes: 0x3c,
  fsid: 0x40,
  fstype: 0x50,
  allocatorSize: 0x60,
  allocatorFree: 0x68,
  allocatorBeg: 0x70,
  mirrorTid: 0x78,
  reserved0080: 0x80,
  reserved0088: 0x88,
  freemapTid: 0x90,
  bulkfreeTid: 0x98,
  reserved00A0: 0xa0,
  totalSize: 0xc0,
  copyexists: 0xc8,
  icrcSects: 0x1e0,
  srootBlockset: 0x200,
  freemapBlockset: 0x800,
  voluLoff: 0xe00,
  icrcVolheader: 0xfffc,
} as const;

export interface VolumeHeader {
  magic: bigint;
  bootBeg: bigint;
  bootEnd: bigint;
  auxBeg: bigint;
  auxEnd: bigint;
  voluSize: bigint;
  version: number;
  flags: number;
  copyid: number;
  freemapVersion: number;
  peerType: number;
  voluId: number;
  nvolumes: number;
  fsid: Uint8Array;
  fstype: Uint8Array;
  allocatorSize: bigint;
  allocatorFree: bigint;
  allocatorBeg: bigint;
  mirrorTid: bigint;
  reserved0080: bigint;
  reserved0088: bigint;
  freemapTid: bigint;
  bulkfreeTid: bigint;
  reserved00A0: bigint[];
  totalSize: bigint;
  copyexists: number[];
  icrcSects: number[];
  srootBlockset: Blockref[];
  freemapBlockset: Blockref[];
  /** version 2: logical start of each volume of a multi-volume filesystem (-1 when unused) */
  voluLoff: bigint[];
  icrcVolheader: number;
  /** The header's 64 KiB as read; encode writes the fields over a copy, keeping reserved bytes. */
  raw: Uint8Array;
}

export function decodeVolumeHeader(buf: Uint8Array, off = 0): VolumeHeader {
  const v = viewOf(buf, off, VOLUME_BYTES, 'volume header');
  const u64 = (o: number): bigint => v.getBigUint64(o, true);
  const u64s = (o: number, n: number): bigint[] => Array.from({ length: n }, (_, i) => u64(o + 8 * i));
  const u32s = (o: number, n: number): number[] => Array.from({ length: n }, (_, i) => v.getUint32(o + 4 * i, true));
  const raw = copyBytes(buf, off, VOLUME_BYTES);
  return {
    magic: u64(VOL.magic),
    bootBeg: u64(VOL.bootBeg),
    bootEnd: u64(VOL.bootEnd),
    auxBeg: u64(VOL.auxBeg),
    auxEnd: u64(VOL.auxEnd),
    voluSize: u64(VOL.voluSize),
    version: v.getUint32(VOL.version, true),
    flags: v.getUint32(VOL.flags, true),
    copyid: v.getUint8(VOL.copyid),
    freemapVersion: v.getUint8(VOL.freemapVersion),
    peerType: v.getUint8(VOL.peerType),
    voluId: v.getUint8(VOL.voluId),
    nvolumes: v.getUint8(VOL.nvolumes),
    fsid: raw.slice(VOL.fsid, VOL.fsid + UUID_BYTES),
    fstype: raw.slice(VOL.fstype, VOL.fstype + UUID_BYTES),
    allocatorSize: u64(VOL.allocatorSize),
    allocatorFree: u64(VOL.allocatorFree),
    allocatorBeg: u64(VOL.allocatorBeg),
    mirrorTid: u64(VOL.mirrorTid),
    reserved0080: u64(VOL.reserved0080),
    reserved0088: u64(VOL.reserved0088),
    freemapTid: u64(VOL.freemapTid),
    bulkfreeTid: u64(VOL.bulkfreeTid),
    reserved00A0: u64s(VOL.reserved00A0, 4),
    totalSize: u64(VOL.totalSize),
    copyexists: u32s(VOL.copyexists, 8),
    icrcSects: u32s(VOL.icrcSects, 8),
    srootBlockset: decodeBlockrefs(raw, VOL.srootBlockset, SET_COUNT),
    freemapBlockset: decodeBlockrefs(raw, VOL.freemapBlockset, SET_COUNT),
    voluLoff: u64s(VOL.voluLoff, MAX_VOLUMES),
    icrcVolheader: v.getUint32(VOL.icrcVolheader, true),
    raw,
  };
}

/** Encode the fields (CRCs as they stand in `h`; see sealVolumeHeader) into 64 KiB. */
export function encodeVolumeHeader(h: VolumeHeader): Uint8Array {
  const out = h.raw.length === VOLUME_BYTES ? h.raw.slice() : new Uint8Array(VOLUME_BYTES);
  const v = viewOf(out, 0, VOLUME_BYTES, 'volume header');
  const u64 = (o: number, x: bigint): void => v.setBigUint64(o, x, true);
  u64(VOL.magic, h.magic);
  u64(VOL.bootBeg, h.bootBeg);
  u64(VOL.bootEnd, h.bootEnd);
  u64(VOL.auxBeg, h.auxBeg);
  u64(VOL.auxEnd, h.auxEnd);
  u64(VOL.voluSize, h.voluSize);
  v.setUint32(VOL.version, h.version, true);
  v.setUint32(VOL.flags, h.flags, true);
  v.setUint8(VOL.copyid, h.copyid);
  v.setUint8(VOL.freemapVersion, h.freemapVersion);
  v.setUint8(VOL.peerType, h.peerType);
  v.setUint8(VOL.voluId, h.voluId);
  v.setUint8(VOL.nvolumes, h.nvolumes);
  out.set(h.fsid, VOL.fsid);
  out.set(h.fstype, VOL.fstype);
  u64(VOL.allocatorSize, h.allocatorSize);
  u64(VOL.allocatorFree, h.allocatorFree);
  u64(VOL.allocatorBeg, h.allocatorBeg);
  u64(VOL.mirrorTid, h.mirrorTid);
  u64(VOL.reserved0080, h.reserved0080);
  u64(VOL.reserved0088, h.reserved0088);
  u64(VOL.freemapTid, h.freemapTid);
  u64(VOL.bulkfreeTid, h.bulkfreeTid);
  h.reserved00A0.forEach((x, i) => u64(VOL.reserved00A0 + 8 * i, x));
  u64(VOL.totalSize, h.totalSize);
  h.copyexists.forEach((x, i) => v.setUint32(VOL.copyexists + 4 * i, x, true));
  h.icrcSects.forEach((x, i) => v.setUint32(VOL.icrcSects + 4 * i, x >>> 0, true));
  h.srootBlockset.forEach((b, i) => encodeBlockref(b, out, VOL.srootBlockset + i * BLOCKREF_BYTES));
  h.freemapBlockset.forEach((b, i) => encodeBlockref(b, out, VOL.freemapBlockset + i * BLOCKREF_BYTES));
  h.voluLoff.forEach((x, i) => u64(VOL.voluLoff + 8 * i, x));
  v.setUint32(VOL.icrcVolheader, h.icrcVolheader >>> 0, true);
  return out;
}

/** The three CRCs a header's bytes should carry. */
export interface VolumeCrcs {
  sect0: number;
  sect1: number;
  volheader: number;
}

/** CRCs computed over `bytes` as they stand (the stored CRC fields are included as-is). */
export function computeVolumeCrcs(bytes: Uint8Array): VolumeCrcs {
  return {
    sect0: crc32c(bytes.subarray(VOLUME_ICRC0_OFF, VOLUME_ICRC0_OFF + VOLUME_ICRC0_SIZE)),
    sect1: crc32c(bytes.subarray(VOLUME_ICRC1_OFF, VOLUME_ICRC1_OFF + VOLUME_ICRC1_SIZE)),
    volheader: crc32c(bytes.subarray(VOLUME_ICRCVH_OFF, VOLUME_ICRCVH_OFF + VOLUME_ICRCVH_SIZE)),
  };
}

/**
 * Encode `h` with all three CRCs computed in the kernel's order: sector 1, then sector 0
 * (which contains sector 1's CRC), then the whole header (which contains both).
 */
export function sealVolumeHeader(h: VolumeHeader): Uint8Array {
  let bytes = encodeVolumeHeader(h);
  h.icrcSects[VOL_ICRC_SECT1] = computeVolumeCrcs(bytes).sect1;
  bytes = encodeVolumeHeader(h);
  h.icrcSects[VOL_ICRC_SECT0] = computeVolumeCrcs(bytes).sect0;
  bytes = encodeVolumeHeader(h);
  h.icrcVolheader = computeVolumeCrcs(bytes).volheader;
  bytes = encodeVolumeHeader(h);
  h.raw = bytes.slice();
  return bytes;
}
