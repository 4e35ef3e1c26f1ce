/**
 * The undo file h2kit writes with `--undo FILE` (h2kit's own format, not HAMMER2's; see
 * docs/undo.md). All integers little-endian.
 *
 *   file header: magic, version, device count, a JSON note (command, paths), one identity per
 *                device, crc32c of all of it
 *   records:     a fixed record header (with its own crc32c) and, for DATA, the old bytes
 *                (their crc32c is in the record header)
 *
 * Each byte range of a device appears in at most one DATA/ZERO record, holding the bytes it
 * had before the run: the records are disjoint, so applying them in any order, any number of
 * times, gives the same result.
 */
import { crc32c } from './crc32c';
import { NUM_VOLHDRS } from './constants';
import { UUID_BYTES } from './uuid';

export const UNDO_MAGIC = Buffer.from('H2KUNDO\n', 'latin1');
export const UNDO_VERSION = 1;

export const UNDO_REC_MAGIC = 0x43455255; // "UREC"
/** the old bytes follow */
export const UNDO_REC_DATA = 1;
/** the old bytes were all zero: no payload */
export const UNDO_REC_ZERO = 2;
/** the run set the device's size to `offset` (an image mkfs grew) */
export const UNDO_REC_SIZE = 3;
/** the run ended: the payload is one identity per device, as the run left them */
export const UNDO_REC_END = 4;

export const UNDO_REC_HEADER_BYTES = 28;
/** the longest DATA record the writer makes; the reader accepts up to this too */
export const UNDO_REC_MAX_PAYLOAD = 1 << 20;
export const UNDO_IDENTITY_BYTES = 80;
/** best = this when no header copy is valid (mkfs onto a device that holds no HAMMER2) */
export const UNDO_NO_HEADER = 0xffffffff;

/** What identifies a device's state: its size and its volume header copies. */
export interface UndoIdentity {
  size: bigint;
  /** index of the best valid header copy, or -1 */
  best: number;
  /** the best copy's fsid, mirror_tid and header CRC (zeros when none) */
  fsid: Uint8Array;
  mirrorTid: bigint;
  headerCrc: number;
  /**
   * the first 64 bits of the SHA-256 of each copy's 64 KiB, null where the copy lies (partly)
   * beyond the device (not a CRC: over a valid header, which ends in its own CRC, every
   * crc32c comes out the same)
   */
  copyDigests: (bigint | null)[];
}

export function encodeIdentity(id: UndoIdentity): Buffer {
  const b = Buffer.alloc(UNDO_IDENTITY_BYTES);
  b.writeBigUInt64LE(id.size, 0);
  b.writeUInt32LE(id.best < 0 ? UNDO_NO_HEADER : id.best, 8);
  b.set(id.fsid.subarray(0, UUID_BYTES), 12);
  b.writeBigUInt64LE(id.mirrorTid, 28);
  b.writeUInt32LE(id.headerCrc >>> 0, 36);
  let present = 0;
  for (let i = 0; i < NUM_VOLHDRS; i++) {
    const c = id.copyDigests[i] ?? null;
    if (c !== null) present |= 1 << i;
    b.writeBigUInt64LE(c ?? 0n, 40 + 8 * i);
  }
  b.writeUInt32LE(present, 40 + 8 * NUM_VOLHDRS);
  return b;
}

export function decodeIdentity(b: Buffer): UndoIdentity {
  const best = b.readUInt32LE(8);
  const present = b.readUInt32LE(40 + 8 * NUM_VOLHDRS);
  const copyDigests: (bigint | null)[] = [];
  for (let i = 0; i < NUM_VOLHDRS; i++) copyDigests.push(present & (1 << i) ? b.readBigUInt64LE(40 + 8 * i) : null);
  return {
    size: b.readBigUInt64LE(0),
    best: best === UNDO_NO_HEADER ? -1 : best,
    fsid: Uint8Array.from(b.subarray(12, 12 + UUID_BYTES)),
    mirrorTid: b.readBigUInt64LE(28),
    headerCrc: b.readUInt32LE(36),
    copyDigests,
  };
}

export interface UndoFileHeader {
  /** what ran and on what, for messages: { command, paths } */
  note: { command: string; paths: string[] };
  devices: UndoIdentity[];
}

export function encodeUndoHeader(h: UndoFileHeader): Buffer {
  const note = Buffer.from(JSON.stringify(h.note), 'utf8');
  const fixed = Buffer.alloc(20);
  UNDO_MAGIC.copy(fixed, 0);
  fixed.writeUInt32LE(UNDO_VERSION, 8);
  fixed.writeUInt32LE(h.devices.length, 12);
  fixed.writeUInt32LE(note.length, 16);
  const body = Buffer.concat([fixed, note, ...h.devices.map(encodeIdentity)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32c(body), 0);
  return Buffer.concat([body, crc]);
}

/** Why an undo file cannot be used; the reader's caller turns it into a one-line error. */
export class UndoFormatError extends Error {}

/** The header at the start of `buf`, and where the records begin. */
export function decodeUndoHeader(buf: Buffer): { header: UndoFileHeader; end: number } {
  if (buf.length < 20 || !buf.subarray(0, 8).equals(UNDO_MAGIC)) throw new UndoFormatError('not an h2kit undo file (bad magic)');
  const version = buf.readUInt32LE(8);
  if (version !== UNDO_VERSION) throw new UndoFormatError(`undo file version ${version}, this h2kit reads version ${UNDO_VERSION}`);
  const ndev = buf.readUInt32LE(12);
  const noteLen = buf.readUInt32LE(16);
  const end = 20 + noteLen + ndev * UNDO_IDENTITY_BYTES;
  if (ndev === 0 || ndev > 256 || end + 4 > buf.length) throw new UndoFormatError('undo file header is truncated');
  if (crc32c(buf.subarray(0, end)) !== buf.readUInt32LE(end)) throw new UndoFormatError('undo file header checksum mismatch');
  const note = JSON.parse(buf.subarray(20, 20 + noteLen).toString('utf8')) as UndoFileHeader['note'];
  const devices: UndoIdentity[] = [];
  for (let i = 0; i < ndev; i++) {
    const at = 20 + noteLen + i * UNDO_IDENTITY_BYTES;
    devices.push(decodeIdentity(buf.subarray(at, at + UNDO_IDENTITY_BYTES)));
  }
  return { header: { note, devices }, end: end + 4 };
}

/** A record's fixed header, decoded and checked; `payload` bytes follow it. */
export interface UndoRecord {
  type: number;
  device: number;
  offset: bigint;
  length: number;
  /** bytes that follow the record header */
  payload: number;
  payloadCrc: number;
  /** where the record starts in the file */
  at: number;
}

export function encodeUndoRecord(type: number, device: number, offset: bigint, length: number, payload: Uint8Array | null): Buffer {
  const h = Buffer.alloc(UNDO_REC_HEADER_BYTES);
  h.writeUInt32LE(UNDO_REC_MAGIC, 0);
  h.writeUInt8(type, 4);
  h.writeUInt8(device, 5);
  h.writeBigUInt64LE(offset, 8);
  h.writeUInt32LE(length, 16);
  h.writeUInt32LE(payload ? crc32c(payload) : 0, 20);
  h.writeUInt32LE(crc32c(h.subarray(0, 24)), 24);
  return payload ? Buffer.concat([h, payload]) : h;
}

/**
 * The record header at file offset `at` (`b` holds its UNDO_REC_HEADER_BYTES), or null when
 * it is all zeros: a tail the crash left unwritten. A header that is not zero and does not
 * check out is corruption.
 */
export function decodeUndoRecordHeader(b: Buffer, at: number): UndoRecord | null {
  if (b.every((x) => x === 0)) return null;
  if (b.readUInt32LE(0) !== UNDO_REC_MAGIC || crc32c(b.subarray(0, 24)) !== b.readUInt32LE(24)) {
    throw new UndoFormatError(`corrupt undo record at byte ${at}: header checksum mismatch`);
  }
  const type = b.readUInt8(4);
  const length = b.readUInt32LE(16);
  if (type < UNDO_REC_DATA || type > UNDO_REC_END) throw new UndoFormatError(`corrupt undo record at byte ${at}: unknown type ${type}`);
  if ((type === UNDO_REC_DATA || type === UNDO_REC_ZERO) && (length === 0 || length > UNDO_REC_MAX_PAYLOAD)) {
    throw new UndoFormatError(`corrupt undo record at byte ${at}: a range of ${length} bytes`);
  }
  const payload = type === UNDO_REC_DATA || type === UNDO_REC_END ? length : 0;
  return { type, device: b.readUInt8(5), offset: b.readBigUInt64LE(8), length, payload, payloadCrc: b.readUInt32LE(20), at };
}

/** Check a record's payload against the checksum in its header. */
export function checkUndoPayload(r: UndoRecord, payload: Buffer): void {
  if (payload.length !== r.payload || crc32c(payload) !== r.payloadCrc) {
    throw new UndoFormatError(`corrupt undo record at byte ${r.at}: checksum mismatch of its ${r.payload} bytes`);
  }
}
