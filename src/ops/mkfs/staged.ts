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

export class StagedTarget implements WritableSource {
  /** header copies not written yet: reads of them see the staged header */
  private readonly pending: Set<bigint>;

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
    this.dev.write(off, bytes);
    this.stats.bytesWritten += bytes.length;
    this.stats.writes++;
    // once the run writes a copy (the commit's header), the media holds what reads must see
    const end = off + BigInt(bytes.length);
    for (const at of this.pending) if (at < end && at + BigInt(VOLUME_BYTES) > off) this.pending.delete(at);
  }

  fsync(): void {
    this.dev.fsync();
  }

  close(): void {
    // the mkfs run owns the device (and its lock) and closes it itself
  }
}
