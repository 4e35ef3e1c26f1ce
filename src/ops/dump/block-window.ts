/**
 * Device reads for the dump through one aligned window. The tree's metadata blocks mostly sit
 * close together on the media, so one read of a window serves several blocks that would each
 * have been a system call.
 *
 * An image file or block device opened by the engine (a ReadOnlyDevice) is read into one
 * reused buffer through a descriptor of our own: a fresh buffer per read, as
 * BlockSource.read returns, cost more in page faults and collection than the reads
 * themselves. Other sources (test overlays) go through their read().
 */
import * as fs from 'node:fs';
import { BlockSource, ReadOnlyDevice } from '../../engine/device';
import { LBUFSIZE, PBUFSIZE } from '../../format/constants';

/** Measured on a 100k-file image: two logical buffers read least in all (larger windows read more unused bytes). */
export const DEFAULT_WINDOW = 2 * LBUFSIZE;

export class BlockWindow {
  private dev: BlockSource | null = null;
  private data: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** one reused buffer per source read through our own descriptor */
  private readonly own = new Map<BlockSource, { fd: number; buf: Uint8Array } | null>();
  /** device reads done, for benchmarks */
  reads = 0;

  constructor(private readonly window = DEFAULT_WINDOW) {}

  /**
   * `len` bytes at byte `off` of `dev` (whose size is `devSize`), as a view valid until the
   * next call; null when the device cannot give them all.
   */
  read(dev: BlockSource, devSize: number, off: number, len: number): Uint8Array | null {
    if (dev !== this.dev || off < this.start || off + len > this.end) {
      const wStart = off - (off % this.window);
      const wEnd = Math.min(wStart + this.window, devSize);
      const ok = off + len <= wEnd ? this.fill(dev, wStart, wEnd - wStart) : this.fill(dev, off, len);
      if (!ok) return null;
    }
    const at = off - this.start;
    return this.data.subarray(at, at + len);
  }

  /** Close the descriptors of our own. */
  close(): void {
    for (const o of this.own.values()) if (o) fs.closeSync(o.fd);
    this.own.clear();
  }

  private fill(dev: BlockSource, off: number, len: number): boolean {
    this.dev = null;
    this.reads++;
    const got = this.readAt(dev, off, len);
    if (!got || got.length !== len) return false;
    this.dev = dev;
    this.data = got;
    this.start = off;
    this.end = off + len;
    return true;
  }

  private readAt(dev: BlockSource, off: number, len: number): Uint8Array | null {
    try {
      const o = this.ownOf(dev);
      if (!o || len > o.buf.length) {
        const b = dev.read(BigInt(off), len);
        return new Uint8Array(b.buffer, b.byteOffset, b.length);
      }
      let done = 0;
      while (done < len) {
        const n = fs.readSync(o.fd, o.buf, done, len - done, off + done);
        if (n === 0) break;
        done += n;
      }
      return o.buf.subarray(0, done);
    } catch {
      return null;
    }
  }

  private ownOf(dev: BlockSource): { fd: number; buf: Uint8Array } | null {
    let o = this.own.get(dev);
    if (o === undefined) {
      o = null;
      if (dev instanceof ReadOnlyDevice) {
        try {
          const fd = fs.openSync(dev.path, fs.constants.O_RDONLY);
          const st = fs.fstatSync(fd);
          // the path must still name what the engine opened (an image replaced since is read through it)
          if (st.isFile() ? BigInt(st.size) === dev.size : dev.isBlockDevice) {
            // a plain Uint8Array, not a Buffer: its views (one per block read) are the cheap kind
            o = { fd, buf: new Uint8Array(Math.max(this.window, PBUFSIZE)) };
          } else fs.closeSync(fd);
        } catch {
          o = null;
        }
      }
      this.own.set(dev, o);
    }
    return o;
  }
}
