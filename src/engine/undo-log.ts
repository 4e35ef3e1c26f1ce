/**
 * `--undo FILE`: the device layer that saves what a run overwrites before it overwrites it.
 *
 * Each device of the run is wrapped in an UndoDevice, below the write guard, so every byte
 * that reaches the media has passed it. Writes are held back in a batch; before the batch goes
 * to the device (at the run's fsync, when a read needs bytes of it, or when it grows large),
 * the old bytes of every range the batch covers that this run has not saved yet are appended
 * to the undo file, which is then fsynced. Only then is one device byte written
 * (write-ahead), so after a crash anywhere the undo file holds the old bytes of every range
 * the device may have changed. The file's format is in src/format/undo-file.ts.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  NUM_VOLHDRS,
  UNDO_REC_DATA,
  UNDO_REC_END,
  UNDO_REC_MAX_PAYLOAD,
  UNDO_REC_SIZE,
  UNDO_REC_ZERO,
  UndoIdentity,
  VOLUME_BYTES,
  ZONE_BYTES,
  encodeIdentity,
  encodeUndoHeader,
  encodeUndoRecord,
} from '../format';
import { BlockSource } from './device';
import { CannotOpenError, H2Error, MediaError, errnoMessage } from './errors';
import { readHeaderCopies } from './header';
import { WritableSource } from './writable-device';

/** Where the undo file's bytes go; tests record it to build crash states. */
export interface UndoSink {
  append(bytes: Uint8Array): void;
  /** make everything appended so far durable */
  sync(): void;
  close(): void;
}

export interface UndoOptions {
  /** the undo file to create (it must not exist) */
  file: string;
  /** write through this instead of the file (tests) */
  sink?: UndoSink;
}

/** An undo file on disk, created exclusively. */
class FileSink implements UndoSink {
  private pos = 0;
  private constructor(
    private readonly path: string,
    private readonly fd: number,
  ) {}

  static create(file: string): FileSink {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CannotOpenError(`${file}: undo file exists; give a new name (an old undo file may still be needed)`);
      throw new CannotOpenError(`${file}: cannot create undo file: ${errnoMessage(e)}`);
    }
    // the new name itself must survive a crash, not only the file's contents
    try {
      const dfd = fs.openSync(path.dirname(path.resolve(file)), fs.constants.O_RDONLY);
      try {
        fs.fsyncSync(dfd);
      } finally {
        fs.closeSync(dfd);
      }
    } catch {
      // some filesystems cannot fsync a directory; the file's own fsyncs still hold its data
    }
    return new FileSink(file, fd);
  }

  append(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      try {
        done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.pos + done);
      } catch (e) {
        throw new MediaError(`${this.path}: undo file write failed: ${errnoMessage(e)}`);
      }
    }
    this.pos += bytes.length;
  }

  sync(): void {
    try {
      fs.fsyncSync(this.fd);
    } catch (e) {
      throw new MediaError(`${this.path}: undo file fsync failed: ${errnoMessage(e)}`);
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** The identity of a device as it is now: its size and its header copies. */
export function deviceIdentity(dev: BlockSource): UndoIdentity {
  const sel = readHeaderCopies(dev);
  const copyDigests: (bigint | null)[] = [];
  for (let i = 0; i < NUM_VOLHDRS; i++) {
    const at = BigInt(i) * ZONE_BYTES;
    const digest = (): bigint => createHash('sha256').update(dev.read(at, VOLUME_BYTES)).digest().readBigUInt64LE(0);
    copyDigests.push(at + BigInt(VOLUME_BYTES) <= dev.size ? digest() : null);
  }
  const best = sel.best >= 0 ? sel.copies[sel.best].header! : null;
  return {
    size: dev.size,
    best: sel.best,
    fsid: best ? best.fsid : new Uint8Array(16),
    mirrorTid: best ? best.mirrorTid : 0n,
    headerCrc: best ? best.icrcVolheader : 0,
    copyDigests,
  };
}

/** Saved ranges are tracked in 1 KiB units: a write saves the whole units it touches. */
const UNIT_SHIFT = 10;
const UNIT = 1 << UNIT_SHIFT;
const UNITS_PER_MAP = 1 << 10;
/** a batch goes to the device once it holds this much */
const BATCH_BYTES = 16 << 20;
/** pending writes are indexed per 64 KiB, for reads that must see them */
const BUCKET_SHIFT = 16n;

/**
 * One undo file, for one command. It may span several runs of the command (cleanup's bulkfree
 * and reblock): each run attaches its devices and detaches them when it ends, and what one
 * run saved is not saved again by the next, so every byte range stays in at most one record.
 */
export class UndoLog {
  private sink: UndoSink | null = null;
  private attached: UndoDevice[] = [];
  /** per device index: the saved 1 KiB units, per MiB */
  private readonly saved: Map<number, Uint8Array>[] = [];
  /** per device index: its size before the run */
  private sizes: bigint[] = [];
  /** the identities as the last detached run left the devices */
  private lastIds: UndoIdentity[] | null = null;
  private finished = false;

  constructor(
    private readonly opts: UndoOptions,
    private readonly command: string,
  ) {}

  get file(): string {
    return this.opts.file;
  }

  /**
   * Wrap a run's devices (in volume order). The first attach creates the undo file and records
   * the devices' identity, synced, before anything can be written.
   */
  attach<T extends WritableSource>(inners: T[]): UndoDevice<T>[] {
    if (this.finished) throw new H2Error(`${this.file}: the undo log is closed`);
    if (this.attached.length > 0) throw new H2Error(`${this.file}: two runs at once on one undo log`);
    if (!this.sink) {
      const sink = this.opts.sink ?? FileSink.create(this.opts.file);
      try {
        sink.append(encodeUndoHeader({ note: { command: this.command, paths: inners.map((d) => d.path) }, devices: inners.map(deviceIdentity) }));
        sink.sync();
      } catch (e) {
        sink.close();
        throw e;
      }
      this.sink = sink;
      this.sizes = inners.map((d) => d.size);
      for (let i = 0; i < inners.length; i++) this.saved.push(new Map());
    } else if (inners.length !== this.sizes.length) {
      throw new H2Error(`${this.file}: a later run of the command has ${inners.length} devices, the first had ${this.sizes.length}`);
    }
    const devs = inners.map((d, i) => new UndoDevice(this, i, d, this.saved[i], this.sizes[i]));
    this.attached = devs;
    return devs;
  }

  /** A run ends: its held writes go out, and the state it left is noted. Before its devices close. */
  detach(): void {
    if (this.attached.length === 0) return;
    const devs = this.attached;
    this.attached = [];
    for (const d of devs) d.flush();
    this.lastIds = devs.map((d) => deviceIdentity(d.inner));
  }

  /** @internal append records (made one at a time, not all held at once) and sync, before a batch goes out */
  commitRecords(records: Iterable<Buffer>): void {
    if (!this.sink || this.finished) throw new H2Error(`${this.file}: write through a closed undo log`);
    let any = false;
    for (const r of records) {
      this.sink.append(r);
      any = true;
    }
    if (any) this.sink.sync();
  }

  /**
   * The command is over: the end record with the devices' identities as its last run left them.
   * Nothing is created when no run attached (a dry run).
   */
  finish(): void {
    if (this.finished) return;
    const sink = this.sink;
    if (!sink) {
      this.finished = true;
      return;
    }
    try {
      this.detach();
      if (this.lastIds) {
        const ids = Buffer.concat(this.lastIds.map(encodeIdentity));
        sink.append(encodeUndoRecord(UNDO_REC_END, 0, 0n, ids.length, ids));
        sink.sync();
      }
    } finally {
      this.finished = true;
      sink.close();
    }
  }
}

/** A device whose writes are saved to an undo log before they reach it. */
export class UndoDevice<T extends WritableSource = WritableSource> implements WritableSource {
  private pending: { off: bigint; bytes: Uint8Array }[] = [];
  private pendingBytes = 0;
  private pendingEnd = 0n;
  private readonly buckets = new Set<bigint>();

  constructor(
    private readonly log: UndoLog,
    readonly index: number,
    readonly inner: T,
    /** per MiB of the device, one byte per 1 KiB unit: 1 once its old bytes are in the log */
    private readonly saved: Map<number, Uint8Array>,
    /** what the device held before the command ends here; bytes past it need no saving */
    private readonly preSize: bigint,
  ) {}

  get path(): string {
    return this.inner.path;
  }
  get size(): bigint {
    // a held write past the end grows an image: the size seen must already include it
    if (this.pendingEnd > this.inner.size) this.flush();
    return this.inner.size;
  }
  get isBlockDevice(): boolean {
    return this.inner.isBlockDevice;
  }
  /** mkfs: whether this run created the target (an undo run never wraps one it created) */
  get created(): boolean {
    return (this.inner as { created?: boolean }).created ?? false;
  }

  read(off: bigint, len: number): Buffer {
    if (this.pending.length > 0) {
      for (let b = off >> BUCKET_SHIFT; b <= (off + BigInt(Math.max(len, 1)) - 1n) >> BUCKET_SHIFT; b++) {
        if (this.buckets.has(b)) {
          this.flush();
          break;
        }
      }
    }
    return this.inner.read(off, len);
  }

  write(off: bigint, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // the caller may reuse its buffer once write returns
    this.pending.push({ off, bytes: new Uint8Array(bytes) });
    this.pendingBytes += bytes.length;
    const end = off + BigInt(bytes.length);
    if (end > this.pendingEnd) this.pendingEnd = end;
    for (let b = off >> BUCKET_SHIFT; b <= (end - 1n) >> BUCKET_SHIFT; b++) this.buckets.add(b);
    if (this.pendingBytes >= BATCH_BYTES) this.flush();
  }

  fsync(): void {
    this.flush();
    this.inner.fsync();
  }

  /** An image mkfs grows: the new size is logged first (undo shrinks it back). */
  truncate(size: bigint): void {
    this.flush();
    const t = this.inner as unknown as { truncate?: (s: bigint) => void };
    if (!t.truncate) throw new H2Error(`${this.path}: cannot be resized`);
    this.log.commitRecords([encodeUndoRecord(UNDO_REC_SIZE, this.index, size, 0, null)]);
    t.truncate.call(this.inner, size);
  }

  close(): void {
    this.inner.close();
  }

  /** Save the old bytes the held writes will overwrite, sync the log, then write them. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingEnd = 0n;
    this.buckets.clear();
    this.log.commitRecords(this.preimages(batch));
    for (const w of batch) this.inner.write(w.off, w.bytes);
  }

  /** Records for the not yet saved units under `batch`, marking them saved. */
  private *preimages(batch: { off: bigint; bytes: Uint8Array }[]): Generator<Buffer> {
    const limit = this.preSize < this.inner.size ? this.preSize : this.inner.size;
    const units: number[] = [];
    for (const w of batch) {
      const first = Number(w.off >> BigInt(UNIT_SHIFT));
      const last = Number((w.off + BigInt(w.bytes.length) - 1n) >> BigInt(UNIT_SHIFT));
      for (let u = first; u <= last; u++) {
        if (BigInt(u) << BigInt(UNIT_SHIFT) >= limit) break;
        const m = this.unitMap(u);
        if (m[u % UNITS_PER_MAP]) continue;
        m[u % UNITS_PER_MAP] = 1;
        units.push(u);
      }
    }
    units.sort((a, b) => a - b);
    const maxUnits = UNDO_REC_MAX_PAYLOAD / UNIT;
    for (let i = 0; i < units.length; ) {
      let j = i + 1;
      while (j < units.length && units[j] === units[j - 1] + 1 && j - i < maxUnits) j++;
      const off = BigInt(units[i]) << BigInt(UNIT_SHIFT);
      let len = (j - i) * UNIT;
      if (off + BigInt(len) > limit) len = Number(limit - off);
      const old = this.inner.read(off, len);
      if (old.length !== len) throw new MediaError(`${this.path}: short read of ${len} bytes at 0x${off.toString(16)} while saving them for undo`);
      yield isZero(old) ? encodeUndoRecord(UNDO_REC_ZERO, this.index, off, len, null) : encodeUndoRecord(UNDO_REC_DATA, this.index, off, len, old);
      i = j;
    }
  }

  private unitMap(u: number): Uint8Array {
    const k = Math.floor(u / UNITS_PER_MAP);
    let m = this.saved.get(k);
    if (!m) {
      m = new Uint8Array(UNITS_PER_MAP);
      this.saved.set(k, m);
    }
    return m;
  }
}

const ZERO_CHUNK = Buffer.alloc(64 << 10);

function isZero(b: Buffer): boolean {
  for (let at = 0; at < b.length; at += ZERO_CHUNK.length) {
    const n = Math.min(ZERO_CHUNK.length, b.length - at);
    if (!b.subarray(at, at + n).equals(ZERO_CHUNK.subarray(0, n))) return false;
  }
  return true;
}

