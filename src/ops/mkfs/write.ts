/**
 * Putting a new filesystem on its devices. On image files nothing is written into holes: a
 * file this run created is all holes already, and on an existing file a region is zeroed only
 * where it holds non-zero bytes. On block devices the regions a stale filesystem could leave
 * behind are written with zeros: every zone's reserved segment (header copy and freemap
 * rotation sets), the boot and aux areas, and the last block.
 *
 * The order is what makes an interrupted run safe: old HAMMER2 headers are made invalid and
 * synced first, then the layout blocks go out, and the new headers only after a sync, last.
 */
import { NUM_VOLHDRS, PBUFSIZE, VOLUME_BYTES, ZONE_BYTES, ZONE_SEG } from '../../format';
import { WritableSource } from '../../engine';
import { Layout } from './layout';
import { NewFilesystem } from './build';

export interface TargetDevice extends WritableSource {
  /** a file this run created: known to be all holes */
  readonly created: boolean;
}

const CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK);

export interface WriteStats {
  bytesWritten: number;
  writes: number;
}

export const newWriteStats = (): WriteStats => ({ bytesWritten: 0, writes: 0 });

function zeroRange(dev: TargetDevice, off: bigint, len: bigint, stats: WriteStats): void {
  if (dev.created) return;
  const end = off + len;
  for (let at = off; at < end; at += BigInt(CHUNK)) {
    const n = Number(end - at < BigInt(CHUNK) ? end - at : BigInt(CHUNK));
    // Image files keep their holes: only non-zero stretches are overwritten.
    if (!dev.isBlockDevice && dev.read(at, n).equals(ZEROS.subarray(0, n))) continue;
    dev.write(at, ZEROS.subarray(0, n));
    stats.bytesWritten += n;
    stats.writes++;
  }
}

function put(dev: TargetDevice, off: bigint, bytes: Uint8Array, stats: WriteStats): void {
  dev.write(off, bytes);
  stats.bytesWritten += bytes.length;
  stats.writes++;
}

/**
 * Zero every header copy of these devices, then sync. Run before anything else over a found
 * HAMMER2 filesystem: the new layout overwrites blocks the old headers point to, so from here
 * on no old copy may be selectable, whatever the crash.
 */
export function invalidateHeaders(devs: TargetDevice[], stats: WriteStats): void {
  for (const dev of devs) {
    for (let i = 0; i < NUM_VOLHDRS && BigInt(i) * ZONE_BYTES < dev.size; i++) {
      const at = BigInt(i) * ZONE_BYTES;
      const len = at + BigInt(VOLUME_BYTES) <= dev.size ? BigInt(VOLUME_BYTES) : dev.size - at;
      zeroRange(dev, at, len, stats);
    }
  }
  for (const d of devs) d.fsync();
}

/** The layout without its headers: stale regions zeroed and the first inodes' block. No sync. */
export function writeLayout(layout: Layout, fs: NewFilesystem, devs: TargetDevice[], stats: WriteStats): void {
  layout.volumes.forEach((vol, i) => {
    const dev = devs[i];
    const pbuf = BigInt(PBUFSIZE);
    zeroRange(dev, vol.size - pbuf, pbuf, stats);
    if (vol.id === 0) {
      zeroRange(dev, 0n, ZONE_SEG, stats);
      zeroRange(dev, layout.bootBase, layout.allocBase - layout.bootBase, stats);
    }
    if (dev.isBlockDevice) {
      for (let z = vol.id === 0 ? ZONE_BYTES : 0n; z < vol.size; z += ZONE_BYTES) {
        zeroRange(dev, z, ZONE_SEG < vol.size - z ? ZONE_SEG : vol.size - z, stats);
      }
    }
  });
  put(devs[0], fs.inodeBlock.offset, fs.inodeBlock.bytes, stats);
}

/** `bytes` at every copy position given. No sync. */
export function writeHeaderCopies(dev: TargetDevice, bytes: Uint8Array, copies: bigint[], stats: WriteStats): void {
  for (const at of copies) put(dev, at, bytes, stats);
}

/** newfs: the layout, a sync, every header copy, a sync. */
export function writeFilesystem(layout: Layout, fs: NewFilesystem, devs: TargetDevice[], stats: WriteStats = newWriteStats()): WriteStats {
  writeLayout(layout, fs, devs, stats);
  // Headers last, after the blocks they point to are on the media.
  for (const d of devs) d.fsync();
  for (const h of fs.headers) writeHeaderCopies(devs[h.volume], h.bytes, h.copies, stats);
  for (const d of devs) d.fsync();
  return stats;
}
