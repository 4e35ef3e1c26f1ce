/**
 * Reading an undo file: the header, then every record checked, without holding the old bytes
 * in memory (they are read again when applied).
 */
import * as fs from 'node:fs';
import {
  UNDO_IDENTITY_BYTES,
  UNDO_REC_END,
  UNDO_REC_HEADER_BYTES,
  UNDO_REC_SIZE,
  UndoFileHeader,
  UndoFormatError,
  UndoIdentity,
  UndoRecord,
  checkUndoPayload,
  decodeIdentity,
  decodeUndoHeader,
  decodeUndoRecordHeader,
} from '../../format';
import { CannotOpenError, EXIT, H2Error, errnoMessage } from '../../engine';

export interface UndoFileContents {
  header: UndoFileHeader;
  /** DATA and ZERO records, in file order */
  ranges: UndoRecord[];
  /** sizes the run set, per device */
  sizes: Set<bigint>[];
  /** the identities the run left, when it got to its end */
  after: UndoIdentity[] | null;
  /** the file ends inside a record (the run crashed while appending it) */
  torn: boolean;
}

/** The exit code of an undo file that cannot be used, or a device it does not fit. */
export const UNDO_REFUSED = EXIT.UNDO_REFUSED;

export class UndoFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly size: number,
  ) {}

  static open(path: string): UndoFile {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw new CannotOpenError(`${path}: cannot open undo file: ${errnoMessage(e)}`);
    }
    return new UndoFile(path, fd, fs.fstatSync(fd).size);
  }

  read(at: number, len: number): Buffer {
    const b = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const n = fs.readSync(this.fd, b, done, len - done, at + done);
      if (n === 0) break;
      done += n;
    }
    return b.subarray(0, done);
  }

  /** Every record, checked; the payloads of DATA records are checked here and read again to apply. */
  contents(): UndoFileContents {
    try {
      return this.scan();
    } catch (e) {
      if (e instanceof UndoFormatError) throw new H2Error(`${this.path}: ${e.message}`, UNDO_REFUSED);
      throw e;
    }
  }

  private scan(): UndoFileContents {
    const head = this.read(0, Math.min(this.size, 1 << 20));
    const { header, end } = decodeUndoHeader(head);
    const ranges: UndoRecord[] = [];
    const sizes = header.devices.map(() => new Set<bigint>());
    let after: UndoIdentity[] | null = null;
    let torn = false;
    for (let at = end; at < this.size; ) {
      const hb = this.read(at, UNDO_REC_HEADER_BYTES);
      const r = hb.length < UNDO_REC_HEADER_BYTES ? null : decodeUndoRecordHeader(hb, at);
      if (!r || at + UNDO_REC_HEADER_BYTES + r.payload > this.size) {
        // a tail the crash cut: its device writes never happened (the record is synced first)
        torn = true;
        break;
      }
      if (after) throw new UndoFormatError(`corrupt undo file: a record at byte ${at} follows the end record`);
      if (r.device >= header.devices.length) throw new UndoFormatError(`corrupt undo record at byte ${at}: device ${r.device} of ${header.devices.length}`);
      if (r.payload > 0) checkUndoPayload(r, this.read(at + UNDO_REC_HEADER_BYTES, r.payload));
      if (r.type === UNDO_REC_END) {
        if (r.payload !== header.devices.length * UNDO_IDENTITY_BYTES) throw new UndoFormatError(`corrupt undo record at byte ${at}: end record of ${r.payload} bytes`);
        const p = this.read(at + UNDO_REC_HEADER_BYTES, r.payload);
        after = header.devices.map((_, i) => decodeIdentity(p.subarray(i * UNDO_IDENTITY_BYTES, (i + 1) * UNDO_IDENTITY_BYTES)));
      } else if (r.type === UNDO_REC_SIZE) sizes[r.device].add(r.offset);
      else ranges.push(r);
      at += UNDO_REC_HEADER_BYTES + r.payload;
    }
    return { header, ranges, sizes, after, torn };
  }

  /** The old bytes of a DATA record, checked again (the file could have changed since the scan). */
  payload(r: UndoRecord): Buffer {
    const b = this.read(r.at + UNDO_REC_HEADER_BYTES, r.payload);
    try {
      checkUndoPayload(r, b);
    } catch (e) {
      throw new H2Error(`${this.path}: ${(e as Error).message}`, UNDO_REFUSED);
    }
    return b;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
