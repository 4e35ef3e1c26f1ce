/**
 * Volume header selection, as the kernel does it at mount: read each of the up to four copies
 * (one every 2 GiB) that lie inside the device, drop those with a bad magic, a reverse-endian
 * magic or a failed CRC, and take the valid copy with the highest mirror_tid (the first one
 * wins a tie).
 */
import {
  NUM_VOLHDRS,
  VOLUME_BYTES,
  VOLUME_ID_ABO,
  VOLUME_ID_HBO,
  VOL_ICRC_SECT0,
  VOL_ICRC_SECT1,
  ZONE_BYTES,
  VolumeHeader,
  computeVolumeCrcs,
  decodeVolumeHeader,
  hex64,
} from '../format';
import { BlockSource } from './device';
import { NotHammer2Error } from './errors';

export type CopyStatus =
  | 'ok'
  | 'beyond-device' // the copy's zone starts past the end of the device
  | 'short' // the device ends inside the copy
  | 'bad-magic'
  | 'reverse-endian'
  | 'crc-sect0'
  | 'crc-sect1'
  | 'crc-volheader';

export interface HeaderCopy {
  index: number;
  offset: bigint;
  status: CopyStatus;
  /** the copy's 64 KiB when they could be read, valid or not */
  raw: Uint8Array | null;
  /** decoded fields when the copy could be read, valid or not */
  header: VolumeHeader | null;
  /** human description of a failure, e.g. "sect0 crc 1234abcd, computed 0badf00d" */
  detail: string;
}

export interface HeaderSelection {
  path: string;
  copies: HeaderCopy[];
  /** index of the best valid copy, -1 if none */
  best: number;
}

const hex32 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export function examineCopy(raw: Uint8Array, index: number): HeaderCopy {
  const offset = BigInt(index) * ZONE_BYTES;
  const header = decodeVolumeHeader(raw);
  const base = { index, offset, raw, header };
  if (header.magic === VOLUME_ID_ABO) {
    return { ...base, status: 'reverse-endian', detail: 'byte-swapped magic: the volume was written on a big-endian host' };
  }
  if (header.magic !== VOLUME_ID_HBO) return { ...base, status: 'bad-magic', detail: `magic 0x${hex64(header.magic)}` };
  const crcs = computeVolumeCrcs(raw);
  const s0 = header.icrcSects[VOL_ICRC_SECT0];
  if (s0 !== crcs.sect0) return { ...base, status: 'crc-sect0', detail: `sector 0 crc ${hex32(s0)}, computed ${hex32(crcs.sect0)}` };
  const s1 = header.icrcSects[VOL_ICRC_SECT1];
  if (s1 !== crcs.sect1) return { ...base, status: 'crc-sect1', detail: `sector 1 crc ${hex32(s1)}, computed ${hex32(crcs.sect1)}` };
  if (header.icrcVolheader !== crcs.volheader) {
    return {
      ...base,
      status: 'crc-volheader',
      detail: `header crc ${hex32(header.icrcVolheader)}, computed ${hex32(crcs.volheader)}`,
    };
  }
  return { ...base, status: 'ok', detail: '' };
}

export function readHeaderCopies(dev: BlockSource): HeaderSelection {
  const copies: HeaderCopy[] = [];
  let best = -1;
  for (let i = 0; i < NUM_VOLHDRS; i++) {
    const offset = BigInt(i) * ZONE_BYTES;
    if (offset >= dev.size) {
      copies.push({ index: i, offset, status: 'beyond-device', raw: null, header: null, detail: '' });
      continue;
    }
    const raw = dev.read(offset, VOLUME_BYTES);
    if (raw.length < VOLUME_BYTES) {
      copies.push({ index: i, offset, status: 'short', raw: null, header: null, detail: `only ${raw.length} bytes` });
      continue;
    }
    const copy = examineCopy(raw, i);
    copies.push(copy);
    if (copy.status === 'ok' && (best < 0 || copies[best].header!.mirrorTid < copy.header!.mirrorTid)) best = i;
  }
  return { path: dev.path, copies, best };
}

/** The best copy's header, or a one-line explanation of why there is none. */
export function requireBestHeader(sel: HeaderSelection, devSize: bigint): VolumeHeader {
  if (sel.best >= 0) return sel.copies[sel.best].header!;
  const path = sel.path;
  if (devSize === 0n) throw new NotHammer2Error(`${path}: empty (0 bytes), not a HAMMER2 volume`);
  if (devSize < BigInt(VOLUME_BYTES)) {
    throw new NotHammer2Error(`${path}: truncated: ${devSize} bytes, a HAMMER2 volume header alone needs ${VOLUME_BYTES}`);
  }
  const read = sel.copies.filter((c) => c.raw !== null);
  if (read.some((c) => c.status === 'reverse-endian')) {
    throw new NotHammer2Error(`${path}: byte-swapped (reverse-endian) HAMMER2 volume: not supported`);
  }
  const magicOk = read.filter((c) => c.status.startsWith('crc-'));
  if (magicOk.length > 0) {
    const why = magicOk.map((c) => `copy ${c.index}: ${c.detail}`).join('; ');
    throw new NotHammer2Error(`${path}: no valid HAMMER2 volume header (${why})`);
  }
  throw new NotHammer2Error(`${path}: not a HAMMER2 filesystem (no volume header magic at 0x0)`);
}
