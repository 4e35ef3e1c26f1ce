/**
 * Write gathering under a reblock run's device guard.
 *
 * Reblock packs what it moves densely, and the commit's copy-on-write of inodes and indirect
 * blocks allocates from the same packing cursor, so consecutive writes are mostly contiguous:
 * thousands of 1 KiB inode writes become a few large ones. The guard has already passed each
 * write before it is handed here (this source sits under the run's GuardedSource), so gathering
 * changes when bytes reach the device, never which bytes may. Pending bytes go out before any
 * fsync (commit ordering is kept) and before a read of the bytes they cover. A run that closes
 * with bytes still pending ended without its commit (an error, a refused write): they are
 * dropped, as they would be lost had it crashed there.
 *
 * Small reads are served from aligned chunks read whole: the plan's walk reads every inode and
 * indirect block, 1 KiB to 64 KiB each, and packed metadata then costs one read per chunk, not
 * one per block. A write drops the chunks it overlaps, so a read always sees the last bytes
 * written.
 */
import { WritableDevice, WritableSource } from '../../engine/writable-device';

/** Bytes gathered into one device write. */
const GATHER_BYTES = 1 << 20;

/** A read-ahead chunk, and how many are kept (the most recently read). */
const CHUNK_BYTES = 64 << 10;
const CHUNKS_KEPT = 16;

export class GatherSource implements WritableSource {
  private buf = Buffer.allocUnsafe(GATHER_BYTES);
  private at = 0n;
  private len = 0;
  /** chunk start -> its bytes (short at the end of the device) */
  private readonly chunks = new Map<bigint, Buffer>();

  constructor(readonly inner: WritableSource) {}

  get path(): string {
    return this.inner.path;
  }

  get size(): bigint {
    const end = this.at + BigInt(this.len);
    return this.len > 0 && !this.inner.isBlockDevice && end > this.inner.size ? end : this.inner.size;
  }

  get isBlockDevice(): boolean {
    return this.inner.isBlockDevice;
  }

  read(off: bigint, len: number): Buffer {
    if (this.len > 0 && off < this.at + BigInt(this.len) && off + BigInt(len) > this.at) this.flush();
    const start = off & ~BigInt(CHUNK_BYTES - 1);
    const o = Number(off - start);
    if (len === 0 || o + len > CHUNK_BYTES) return this.inner.read(off, len);
    let chunk = this.chunks.get(start);
    if (!chunk) {
      if (this.len > 0 && start < this.at + BigInt(this.len) && start + BigInt(CHUNK_BYTES) > this.at) this.flush();
      chunk = this.inner.read(start, CHUNK_BYTES);
      if (this.chunks.size >= CHUNKS_KEPT) this.chunks.delete(this.chunks.keys().next().value!);
      this.chunks.set(start, chunk);
    }
    // a short chunk (the device's end): the device says what a read past it gives
    if (o + len > chunk.length) return this.inner.read(off, len);
    // a copy: callers may keep or change what they are given
    return Buffer.from(chunk.subarray(o, o + len));
  }

  write(off: bigint, bytes: Uint8Array): void {
    if (this.chunks.size > 0) this.dropChunks(off, bytes.length);
    if (this.len > 0 && (off !== this.at + BigInt(this.len) || this.len + bytes.length > GATHER_BYTES)) this.flush();
    if (bytes.length >= GATHER_BYTES) {
      this.inner.write(off, bytes);
      return;
    }
    if (this.len === 0) this.at = off;
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private dropChunks(off: bigint, len: number): void {
    const end = off + BigInt(len);
    for (const start of this.chunks.keys()) if (start < end && start + BigInt(CHUNK_BYTES) > off) this.chunks.delete(start);
  }

  /** Hand the pending bytes to the device. */
  flush(): void {
    if (this.len === 0) return;
    const n = this.len;
    this.len = 0;
    // A real device has written the bytes when write returns, so the buffer is used again.
    // Another device underneath may keep what it is given (an in-memory image, the crash
    // harness's recorder): the bytes are handed over then, never reused.
    if (this.inner instanceof WritableDevice) {
      this.inner.write(this.at, this.buf.subarray(0, n));
    } else if (n < GATHER_BYTES / 16) {
      this.inner.write(this.at, Buffer.from(this.buf.subarray(0, n)));
    } else {
      const out = this.buf.subarray(0, n);
      this.buf = Buffer.allocUnsafe(GATHER_BYTES);
      this.inner.write(this.at, out);
    }
  }

  fsync(): void {
    this.flush();
    this.inner.fsync();
  }

  close(): void {
    this.len = 0;
    this.chunks.clear();
    this.inner.close();
  }
}
