/**
 * A target as `mkfs --root` shows it to the engine: reads find the volume headers this run
 * will write at their copies, everything else comes from the device. The write session can so
 * start from a new filesystem whose header is not on the media yet, and the layout, the
 * population and the header reach the device as one commit, the header last: a crash before
 * it leaves no valid header at all, never an empty filesystem.
 */
import { VOLUME_BYTES } from '../../format';
import { WritableSource } from '../../engine';
import { TargetDevice, WriteStats } from './write';

/**
 * Writes that continue each other are gathered into runs of up to this many bytes: the
 * allocator hands out neighbouring blocks, and one write per block is most of the system
 * time of a population. A run reaches the device before any read, sync or non-adjacent write.
 */
const RUN_BYTES = 1 << 20;

export class StagedTarget implements WritableSource {
  /** header copies not written yet: reads of them see the staged header */
  private readonly pending: Set<bigint>;
  /**
   * A plain Uint8Array, not a Buffer: a device that keeps what it is given copies it with
   * slice(), which on a Buffer would be a view of bytes this target fills again.
   */
  private readonly run = new Uint8Array(RUN_BYTES);
  private runAt = 0n;
  private runLen = 0;

  constructor(
    private readonly dev: TargetDevice,
    private readonly header: Uint8Array,
    copies: bigint[],
    private readonly stats: WriteStats,
  ) {
    this.pending = new Set(copies);
  }

  get path(): string {
    return this.dev.path;
  }
  get size(): bigint {
    return this.dev.size;
  }
  get isBlockDevice(): boolean {
    return this.dev.isBlockDevice;
  }

  read(off: bigint, len: number): Buffer {
    this.flushRun();
    const buf = this.dev.read(off, len);
    const end = off + BigInt(buf.length);
    for (const at of this.pending) {
      const hEnd = at + BigInt(VOLUME_BYTES);
      if (hEnd <= off || at >= end) continue;
      const from = at > off ? at : off;
      const to = hEnd < end ? hEnd : end;
      buf.set(this.header.subarray(Number(from - at), Number(to - at)), Number(from - off));
    }
    return buf;
  }

  write(off: bigint, bytes: Uint8Array): void {
    if (this.runLen > 0 && off === this.runAt + BigInt(this.runLen) && this.runLen + bytes.length <= RUN_BYTES) {
      this.run.set(bytes, this.runLen);
      this.runLen += bytes.length;
    } else {
      this.flushRun();
      if (bytes.length >= RUN_BYTES) {
        this.put(off, bytes);
      } else {
        this.run.set(bytes, 0);
        this.runAt = off;
        this.runLen = bytes.length;
      }
    }
    // once the run writes a copy (the commit's header), the media holds what reads must see
    const end = off + BigInt(bytes.length);
    for (const at of this.pending) if (at < end && at + BigInt(VOLUME_BYTES) > off) this.pending.delete(at);
  }

  fsync(): void {
    this.flushRun();
    this.dev.fsync();
  }

  close(): void {
    // the mkfs run owns the device (and its lock) and closes it itself; what was never synced
    // is referenced by no header, so a run that fails before its commit may drop it
    this.runLen = 0;
  }

  private flushRun(): void {
    if (this.runLen === 0) return;
    const n = this.runLen;
    this.runLen = 0;
    this.put(this.runAt, this.run.subarray(0, n));
  }

  private put(off: bigint, bytes: Uint8Array): void {
    this.dev.write(off, bytes);
    this.stats.bytesWritten += bytes.length;
    this.stats.writes++;
  }
}
