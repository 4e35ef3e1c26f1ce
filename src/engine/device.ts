/**
 * The device layer: an image file or a block device, opened by path.
 *
 * A read-only device is opened O_RDONLY and its class has no write method at all, so no code
 * path can reach the media through it. Writing devices are a separate class (see
 * writable-device.ts) that only the commands that write ever construct.
 */
import * as fs from 'node:fs';
import { CannotOpenError, MediaError, errnoMessage } from './errors';
import { writerOf } from './target-lock';

export interface DeviceInfo {
  path: string;
  /** size in bytes: the file size, or the media size of a block device */
  size: bigint;
  isBlockDevice: boolean;
}

/** What every reader of the media needs. */
export interface BlockSource extends DeviceInfo {
  /** Read up to `len` bytes at `off`; the result is shorter only at the end of the device. */
  read(off: bigint, len: number): Buffer;
  /** Read up to `len` bytes at `off` into `buf` (same rules as read); the count read. */
  readInto?(off: bigint, buf: Uint8Array, len: number): number;
  close(): void;
}

/** Observers of every device open, read-only or writable (tests use it to prove dry runs write nothing). */
type OpenListener = (path: string, writable: boolean) => void;
const openListeners = new Set<OpenListener>();

export function onDeviceOpen(fn: OpenListener): () => void {
  openListeners.add(fn);
  return () => openListeners.delete(fn);
}

export function notifyDeviceOpen(path: string, writable: boolean): void {
  for (const fn of openListeners) fn(path, writable);
}

export function describeOpenError(path: string, e: unknown): CannotOpenError {
  return new CannotOpenError(`${path}: cannot open: ${errnoMessage(e)}`);
}

/** Stat `path` and refuse anything that is neither a regular file nor a block/char device. */
export function statTarget(path: string): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw describeOpenError(path, e);
  }
  if (st.isDirectory()) throw new CannotOpenError(`${path}: is a directory, not an image or device`);
  if (!st.isFile() && !st.isBlockDevice() && !st.isCharacterDevice()) {
    throw new CannotOpenError(`${path}: not a regular file or device`);
  }
  return st;
}

/**
 * Size of a block device. fstat reports 0 for them, so ask sysfs on Linux, and otherwise find
 * the end by probing reads (a read at or past the end returns nothing).
 */
export function blockDeviceSize(fd: number, st: fs.Stats): bigint {
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  try {
    const sectors = fs.readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim();
    if (/^\d+$/.test(sectors)) return BigInt(sectors) * 512n;
  } catch {
    // not Linux, or no sysfs: probe instead
  }
  return probeSize(fd);
}

function probeSize(fd: number): bigint {
  const one = Buffer.alloc(1);
  const readable = (off: bigint): boolean => {
    try {
      return fs.readSync(fd, one, 0, 1, off) === 1;
    } catch {
      return false;
    }
  };
  if (!readable(0n)) return 0n;
  let lo = 0n; // readable
  let hi = 512n;
  while (readable(hi)) {
    lo = hi;
    hi *= 2n;
    if (hi > 1n << 62n) break;
  }
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (readable(mid)) lo = mid;
    else hi = mid;
  }
  return lo + 1n;
}

/** Positioned read of exactly what the device holds, retrying short reads until EOF. */
export function preadFully(fd: number, path: string, off: bigint, len: number): Buffer {
  // Every byte returned is read from the device, so the buffer need not be zeroed first.
  const buf = Buffer.allocUnsafe(len);
  const done = preadInto(fd, path, off, buf, len);
  return done === len ? buf : buf.subarray(0, done);
}

/** preadFully into a caller's buffer: the number of bytes read (fewer only at EOF). */
export function preadInto(fd: number, path: string, off: bigint, buf: Uint8Array, len: number): number {
  let done = 0;
  while (done < len) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, done, len - done, off + BigInt(done));
    } catch (e) {
      throw new MediaError(`${path}: read of ${len} bytes at 0x${off.toString(16)} failed: ${errnoMessage(e)}`);
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** An image file or block device opened read-only. */
export class ReadOnlyDevice implements BlockSource {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    readonly size: bigint,
    readonly isBlockDevice: boolean,
  ) {
    this.fd = fd;
  }

  /**
   * Open for reading. A target another h2kit process is writing is refused unless
   * `allowWriter`: between its commits the media is half-way from one state to the next.
   */
  static open(path: string, opts: { allowWriter?: boolean } = {}): ReadOnlyDevice {
    const st = statTarget(path);
    const w = opts.allowWriter ? null : writerOf(st);
    if (w) {
      throw new CannotOpenError(`${path}: in use by another h2kit process (pid ${w.pid}, ${w.purpose}, since ${w.since}); wait for it, or give --force to read it anyway`);
    }
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY);
    } catch (e) {
      throw describeOpenError(path, e);
    }
    notifyDeviceOpen(path, false);
    const isBlock = st.isBlockDevice() || st.isCharacterDevice();
    const size = isBlock ? blockDeviceSize(fd, st) : BigInt(st.size);
    return new ReadOnlyDevice(path, fd, size, isBlock);
  }

  read(off: bigint, len: number): Buffer {
    if (this.fd === null) throw new MediaError(`${this.path}: read after close`);
    if (off < 0n || len < 0) throw new MediaError(`${this.path}: read of ${len} bytes at ${off} is out of range`);
    return preadFully(this.fd, this.path, off, len);
  }

  readInto(off: bigint, buf: Uint8Array, len: number): number {
    if (this.fd === null) throw new MediaError(`${this.path}: read after close`);
    if (off < 0n || len < 0 || len > buf.length) throw new MediaError(`${this.path}: read of ${len} bytes at ${off} is out of range`);
    return preadInto(this.fd, this.path, off, buf, len);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Where reads of a window come from: a range, and how far the medium under `off` reaches. */
export interface WindowSource {
  read(off: bigint, len: number): Buffer;
  /** read into `buf`, as read would; the count read */
  readInto(off: bigint, buf: Uint8Array, len: number): number;
  /** the end (exclusive) of the device or volume holding `off`, or null when none holds it */
  extentEnd(off: bigint): bigint | null;
}

/**
 * A read-ahead's shape: a walk of a tree visits two or more regions in turn (makefs and the
 * kernel put inodes in one place and file data in another), so a few windows, each of which
 * moves forward on its own. Measured on a 100k-file makefs image, 8 windows of 1 MiB load
 * 316 MiB for the 253 MiB of blocks a walk reads, in 316 reads instead of 204,000.
 */
export const READ_AHEAD_BYTES = 1024 * 1024;
export const READ_AHEAD_WINDOWS = 8;

/**
 * Read-only windows over a source: a read inside one is a view of it, any other read loads
 * the least recently used window from there (clamped to the medium's end), into the same
 * buffer: the windows are allocated once, so a long walk makes no garbage of them. A view is
 * therefore valid only until a later read loads another window over it: callers use the bytes
 * at once (as a walk's visit does) or copy them. Only for readers whose medium does not change
 * while they read: nothing invalidates a window.
 */
export class ReadAheadWindow {
  /** most recently used last; `len` bytes of `buf` hold the medium from `start` */
  private windows: { start: bigint; len: number; buf: Buffer }[] = [];
  /** windows loaded, for statistics */
  loads = 0;

  constructor(
    private readonly source: WindowSource,
    readonly windowBytes = READ_AHEAD_BYTES,
    readonly count = READ_AHEAD_WINDOWS,
  ) {}

  read(off: bigint, len: number): Uint8Array {
    const ws = this.windows;
    for (let i = ws.length - 1; i >= 0; i--) {
      const w = ws[i];
      if (off < w.start) continue;
      const at = Number(off - w.start);
      if (at + len > w.len) continue;
      if (i !== ws.length - 1) ws.push(ws.splice(i, 1)[0]);
      return w.buf.subarray(at, at + len);
    }
    const end = this.source.extentEnd(off);
    // a read larger than a window, outside every volume or running past its end is passed on
    // as it is, for the source's own answer (an error, or a short read)
    if (end === null || len > this.windowBytes || off + BigInt(len) > end) return this.source.read(off, len);
    const want = end - off < BigInt(this.windowBytes) ? Number(end - off) : this.windowBytes;
    const w = ws.length < this.count ? { start: off, len: 0, buf: Buffer.allocUnsafe(this.windowBytes) } : ws.shift()!;
    w.start = off;
    w.len = this.source.readInto(off, w.buf, want);
    ws.push(w);
    this.loads++;
    // the device ended early: its own short read, unwindowed
    if (w.len < len) return this.source.read(off, len);
    return w.buf.subarray(0, len);
  }
}
