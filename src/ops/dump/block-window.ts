/**
 * Device reads for the dump through one aligned window. The tree's metadata blocks mostly sit
 * close together on the media, so one read of a window serves many blocks that would each
 * have been a system call and a fresh buffer.
 */
import { BlockSource } from '../../engine/device';
import { PBUFSIZE } from '../../format/constants';

export const DEFAULT_WINDOW = PBUFSIZE;

export class BlockWindow {
  private dev: BlockSource | null = null;
  private data: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
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
      if (off + len > wEnd || !this.fill(dev, wStart, wEnd - wStart)) return this.direct(dev, off, len);
    }
    const at = off - this.start;
    return this.data.subarray(at, at + len);
  }

  private fill(dev: BlockSource, off: number, len: number): boolean {
    this.dev = null;
    this.reads++;
    let got: Uint8Array;
    try {
      got = dev.read(BigInt(off), len);
    } catch {
      return false;
    }
    if (got.length !== len) return false;
    this.dev = dev;
    this.data = got;
    this.start = off;
    this.end = off + len;
    return true;
  }

  /** A read of just the block, when the window cannot hold it or a window read failed. */
  private direct(dev: BlockSource, off: number, len: number): Uint8Array | null {
    this.reads++;
    try {
      const got = dev.read(BigInt(off), len);
      return got.length === len ? got : null;
    } catch {
      return null;
    }
  }
}
