/**
 * Seeded mutations of an image, shared by the fuzzers (dump, fsck) and the hostile-image
 * campaigns of the writing commands. Every change goes to an Editor's overlay; the image itself
 * is never written. A case is replayed from its seed alone.
 */
import {
  BLOCKREF_BYTES,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_INODE,
  INODE_META_BYTES,
  VOLUME_BYTES,
  ZONE_BYTES,
} from '../../src/format';
import { Visit, blockrefLocation } from '../../src/engine';
import { OverlayDevice, Target } from './corrupt';
import { Editor } from './edit';

/** What the fsck fuzzer aims at. */
export type Kind = 'header' | 'blockref' | 'inode' | 'dirent' | 'freemap';
export const KINDS: Kind[] = ['header', 'blockref', 'inode', 'dirent', 'freemap'];

/** Overwrite 1 to 4 random bytes (or flip bits) inside [off, off + len). */
export function scribble(ed: Editor, r: () => number, off: bigint, len: number): void {
  for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) {
    const at = off + BigInt(Math.floor(r() * len));
    const cur = ed.open();
    const old = cur.read(at, 1)[0];
    cur.close();
    const v = r() < 0.5 ? old ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
    ed.patch(at, Uint8Array.of(v));
  }
}

/**
 * Apply one mutation of `kind` (the fsck fuzzer's); false when the image has nothing of that
 * kind (a newfs image has no dirents). With `reseal`, check codes are recomputed up to the
 * header so that the damage reaches past the check-code layer.
 */
export function mutate(ed: Editor, visits: Visit[], fmVisits: Visit[], kind: Kind, r: () => number, reseal: boolean): boolean {
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(r() * xs.length)];
  switch (kind) {
    case 'header': {
      const copy = Math.floor(r() * 4);
      const vols = ed.open();
      const exists = BigInt(copy) * ZONE_BYTES + BigInt(VOLUME_BYTES) <= vols.root.size;
      vols.close();
      if (!exists) return false;
      if (reseal) ed.editHeader(copy, (h) => {
        const fields = ['mirrorTid', 'freemapTid', 'allocatorFree', 'allocatorBeg', 'voluSize', 'totalSize'] as const;
        const f = pick([...fields])!;
        h[f] = r() < 0.5 ? h[f] ^ (1n << BigInt(Math.floor(r() * 64))) : BigInt(Math.floor(r() * 2 ** 32));
      });
      else scribble(ed, r, BigInt(copy) * ZONE_BYTES, 1024);
      return true;
    }
    case 'blockref': {
      const v = pick(visits.filter((x) => x.parent))!;
      const loc = blockrefLocation(v)!;
      scribble(ed, r, loc, BLOCKREF_BYTES);
      if (reseal) ed.reseal(v.parent!);
      return true;
    }
    case 'inode': {
      const v = pick(visits.filter((x) => x.bref.type === BREF_TYPE_INODE));
      if (!v) return false;
      scribble(ed, r, v.bref.dataOff & ~0x3fn, r() < 0.7 ? INODE_META_BYTES : v.data.length);
      if (reseal) ed.reseal(v);
      return true;
    }
    case 'dirent': {
      const v = pick(visits.filter((x) => x.bref.type === BREF_TYPE_DIRENT));
      if (!v) return false;
      // the embed (inum, namlen, type), the key, or the inline name
      const loc = blockrefLocation(v)!;
      const part = pick([[0x30, 16], [0x08, 8], [0x40, 64]] as const)!;
      scribble(ed, r, loc + BigInt(part[0]), part[1]);
      if (reseal) ed.reseal(v.parent!);
      return true;
    }
    case 'freemap': {
      const v = pick(fmVisits.filter((x) => x.bref.type === BREF_TYPE_FREEMAP_LEAF));
      if (!v) return false;
      scribble(ed, r, v.bref.dataOff & ~0x3fn, v.data.length);
      if (reseal) ed.reseal(v);
      return true;
    }
  }
}

/**
 * The dump fuzzer's mutation: 1 to 8 bytes of one metadata block flipped or set to an extreme
 * value (0x00, 0xff, 0x80). Returns the target; the caller decides whether to re-seal it.
 */
export function smashBlock(dev: OverlayDevice, targets: Target[], r: () => number): Target {
  const t = targets[Math.floor(r() * targets.length)];
  for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) {
    const at = t.off + BigInt(Math.floor(r() * t.len));
    const old = dev.read(at, 1)[0];
    const extreme = [0x00, 0xff, 0x80][Math.floor(r() * 3)];
    dev.write(at, Uint8Array.of(r() < 0.3 ? extreme : old ^ (1 << Math.floor(r() * 8))));
  }
  return t;
}
