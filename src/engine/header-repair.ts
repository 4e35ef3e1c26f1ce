/**
 * Rewriting damaged volume-header copies from the best one. The best copy's 64 KiB are copied
 * verbatim (its CRCs with them), so the rewritten copy selects exactly as the best does. Copies
 * that do not fit on the device are left alone.
 */
import { VOLUME_BYTES, ZONE_BYTES } from '../format/constants';
import { H2Error } from './errors';
import { readHeaderCopies } from './header';
import { WritableDevice, WritableSource } from './writable-device';

export interface CopyRewrite {
  /** the device path, as given in the volume spec */
  path: string;
  copies: number[];
}

/** Returns the copies rewritten, per device. */
export function rewriteHeaderCopies(targets: CopyRewrite[], opener?: (path: string) => WritableSource): CopyRewrite[] {
  const done: CopyRewrite[] = [];
  for (const t of targets) {
    const dev = opener ? opener(t.path) : WritableDevice.open(t.path, { purpose: 'fsck header repair' });
    try {
      const sel = readHeaderCopies(dev);
      if (sel.best < 0) throw new H2Error(`${t.path}: no valid header copy to rewrite the others from`);
      const best = dev.read(BigInt(sel.best) * ZONE_BYTES, VOLUME_BYTES);
      const wrote: number[] = [];
      for (const c of t.copies) {
        const off = BigInt(c) * ZONE_BYTES;
        if (c === sel.best || off + BigInt(VOLUME_BYTES) > dev.size) continue;
        dev.write(off, best);
        wrote.push(c);
      }
      dev.fsync();
      if (wrote.length) done.push({ path: t.path, copies: wrote });
    } finally {
      if (!opener) dev.close();
    }
  }
  return done;
}
