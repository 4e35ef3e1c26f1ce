/**
 * Devices opened for writing. Only commands that write construct these; read-only runs use
 * ReadOnlyDevice, which cannot write at all.
 *
 * A writing open is exclusive: block devices are opened O_EXCL (the kernel refuses while the
 * device is mounted or held by another exclusive opener), mounted devices are refused outright,
 * and every target is locked against a second h2kit process (see target-lock.ts).
 */
import * as fs from 'node:fs';
import {
  BlockSource,
  blockDeviceSize,
  describeOpenError,
  notifyDeviceOpen,
  preadFully,
  statTarget,
} from './device';
import { CannotOpenError, H2Error, MediaError, errnoMessage } from './errors';
import { TargetLock } from './target-lock';
import { mountPointOf } from './mounts';

export interface WritableSource extends BlockSource {
  write(off: bigint, bytes: Uint8Array): void;
  fsync(): void;
}

export interface WritableOpenOptions {
  /** create a missing image file of this size */
  createSize?: bigint;
  /** what the lock says this process is doing, e.g. "mkfs" */
  purpose: string;
}

export class WritableDevice implements WritableSource {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    public size: bigint,
    readonly isBlockDevice: boolean,
    /** true when this open created the file: it holds nothing but holes */
    readonly created: boolean,
    private readonly lock: TargetLock,
  ) {
    this.fd = fd;
  }

  static open(path: string, opts: WritableOpenOptions): WritableDevice {
    let created = false;
    notifyDeviceOpen(path, true);
    if (!fs.existsSync(path) && opts.createSize !== undefined) {
      try {
        const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
        fs.ftruncateSync(fd, Number(opts.createSize));
        fs.closeSync(fd);
        created = true;
      } catch (e) {
        throw describeOpenError(path, e);
      }
    }
    const st = statTarget(path);
    const isBlock = st.isBlockDevice() || st.isCharacterDevice();
    if (isBlock) {
      const mnt = mountPointOf(path, st);
      if (mnt) throw new CannotOpenError(`${path}: is mounted on ${mnt}; unmount it first`);
    }
    const lock = TargetLock.acquire(path, st, opts.purpose);
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDWR | (isBlock ? fs.constants.O_EXCL : 0));
    } catch (e) {
      lock.release();
      if ((e as NodeJS.ErrnoException).code === 'EBUSY') {
        throw new CannotOpenError(`${path}: device is busy (mounted, or held open exclusively by another program)`);
      }
      throw describeOpenError(path, e);
    }
    const size = isBlock ? blockDeviceSize(fd, st) : BigInt(st.size);
    return new WritableDevice(path, fd, size, isBlock, created, lock);
  }

  private get handle(): number {
    if (this.fd === null) throw new MediaError(`${this.path}: used after close`);
    return this.fd;
  }

  read(off: bigint, len: number): Buffer {
    return preadFully(this.handle, this.path, off, len);
  }

  write(off: bigint, bytes: Uint8Array): void {
    const fd = this.handle;
    let done = 0;
    while (done < bytes.length) {
      try {
        done += fs.writeSync(fd, bytes, done, bytes.length - done, Number(off) + done);
      } catch (e) {
        throw new MediaError(`${this.path}: write of ${bytes.length} bytes at 0x${off.toString(16)} failed: ${errnoMessage(e)}`);
      }
    }
    const end = off + BigInt(bytes.length);
    if (!this.isBlockDevice && end > this.size) this.size = end;
  }

  /** Make an image file exactly `size` bytes long (block devices keep their size). */
  truncate(size: bigint): void {
    if (this.isBlockDevice) throw new H2Error(`${this.path}: a block device cannot be resized`);
    fs.ftruncateSync(this.handle, Number(size));
    this.size = size;
  }

  fsync(): void {
    try {
      fs.fsyncSync(this.handle);
    } catch (e) {
      throw new MediaError(`${this.path}: fsync failed: ${errnoMessage(e)}`);
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.lock.release();
  }
}

/**
 * A device as a writing run holds it: every write passes the run's guard before it reaches the
 * device underneath, whatever that device is (an image, a block device, a test's recorder).
 * Closing is the run's business, not the sessions'.
 */
export class GuardedSource implements WritableSource {
  /** the logical offset of the device's first byte, once the volume set has been read */
  base: bigint | null = null;

  constructor(
    readonly inner: WritableSource,
    private readonly guard: (local: bigint, len: number) => void,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  get size(): bigint {
    return this.inner.size;
  }

  get isBlockDevice(): boolean {
    return this.inner.isBlockDevice;
  }

  read(off: bigint, len: number): Buffer {
    return this.inner.read(off, len);
  }

  write(off: bigint, bytes: Uint8Array): void {
    this.guard(off, bytes.length);
    this.inner.write(off, bytes);
  }

  fsync(): void {
    this.inner.fsync();
  }

  close(): void {
    // the run closes its devices when it ends
  }
}
