/**
 * Targeted damage for the fsck corpus: find a block by what it is, change one field of a
 * blockref, an inode or a header, and (unless asked not to) recompute the check codes up to the
 * volume header so that the change reaches the semantic checks. Everything goes to an overlay;
 * the image itself is never written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BLOCKREF_BYTES,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  Blockref,
  Inode,
  VOLUME_BYTES,
  VolumeHeader,
  ZONE_BYTES,
  decodeBlockref,
  decodeInode,
  decodeVolumeHeader,
  encodeBlockref,
  encodeInode,
  sealVolumeHeader,
} from '../../src/format';
import { BlockSource, ChainReader, ReadOnlyDevice, Visit, VolumeSet, blockrefLocation, headerRootBref, walkTree } from '../../src/engine';
import { OverlayDevice, resealUpward } from './corrupt';

/** An overlay that also pretends the device ends early. */
export class ShortOverlay extends OverlayDevice {
  constructor(
    base: BlockSource,
    private readonly limit: bigint,
  ) {
    super(base);
  }
  override get size(): bigint {
    return this.limit;
  }
  override read(off: bigint, len: number): Buffer {
    if (off >= this.limit) return Buffer.alloc(0);
    const n = off + BigInt(len) > this.limit ? Number(this.limit - off) : len;
    return super.read(off, n);
  }
}

export class Editor {
  readonly dev: OverlayDevice;
  private readonly base: ReadOnlyDevice;
  private readonly owned: boolean;

  /** On an image path (opened here), or on a device shared between editors (left open). */
  constructor(image: string | ReadOnlyDevice, size?: bigint) {
    this.owned = typeof image === 'string';
    this.base = typeof image === 'string' ? ReadOnlyDevice.open(image) : image;
    this.dev = size === undefined ? new OverlayDevice(this.base) : new ShortOverlay(this.base, size);
  }

  /** A fresh view through the overlay (edits so far included). */
  open(): VolumeSet {
    return VolumeSet.open(this.base.path, { opener: () => this.dev, allowTruncated: true });
  }

  close(): void {
    if (this.owned) this.base.close();
  }

  /** Every visit of the volume (or freemap) tree, blocks read, in walk order. */
  visits(root: typeof BREF_TYPE_VOLUME | typeof BREF_TYPE_FREEMAP = BREF_TYPE_VOLUME): Visit[] {
    const vols = this.open();
    const chains = new ChainReader(vols);
    return [...walkTree(chains, headerRootBref(chains, root), { readData: false })];
  }

  find(pred: (v: Visit) => boolean, root: typeof BREF_TYPE_VOLUME | typeof BREF_TYPE_FREEMAP = BREF_TYPE_VOLUME): Visit {
    const v = this.visits(root).find(pred);
    if (!v) throw new Error('corpus: no block matches');
    return v;
  }

  /** Change the blockref of `v` where its parent stores it. */
  editBref(v: Visit, fn: (b: Blockref) => void, reseal = true): void {
    const vols = this.open();
    const loc = blockrefLocation(v)!;
    const b = decodeBlockref(vols.read(loc, BLOCKREF_BYTES));
    fn(b);
    const out = new Uint8Array(BLOCKREF_BYTES);
    encodeBlockref(b, out);
    this.dev.write(loc, out);
    if (reseal) this.resealFrom(v.parent!);
  }

  /** Change the inode held by `v`. */
  editInode(v: Visit, fn: (ino: Inode) => void, reseal = true): void {
    const vols = this.open();
    const off = v.bref.dataOff & ~0x3fn;
    const ino = decodeInode(vols.read(off, v.data.length));
    fn(ino);
    this.dev.write(off, encodeInode(ino));
    if (reseal) this.resealFrom(v);
  }

  /** Write the edits made so far into `file` (a copy of the image: the image itself stays untouched). */
  applyTo(file: string): void {
    const fd = fs.openSync(file, 'r+');
    try {
      for (const p of this.dev.patches) fs.writeSync(fd, p.bytes, 0, p.bytes.length, Number(p.off));
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Raw bytes inside a block. */
  patch(off: bigint, bytes: Uint8Array): void {
    this.dev.write(off, bytes);
  }

  /** Change header copy `copy` and re-seal its CRCs. */
  editHeader(copy: number, fn: (h: VolumeHeader) => void): void {
    const vols = this.open();
    const off = BigInt(copy) * ZONE_BYTES;
    const h = decodeVolumeHeader(vols.read(off, VOLUME_BYTES));
    fn(h);
    this.dev.write(off, sealVolumeHeader(h));
  }

  /** Recompute `v`'s check code (its block was changed) and those above it. */
  reseal(v: Visit): void {
    this.resealFrom(v);
  }

  private resealFrom(v: Visit): void {
    if (v.bref.type === BREF_TYPE_VOLUME || v.bref.type === BREF_TYPE_FREEMAP) {
      this.editHeader(this.open().root.selection.best, () => undefined);
      return;
    }
    resealUpward(this.dev, this.open(), v);
  }
}

/** The inode ancestors of a visit: [] for the super-root, [sroot] for a PFS, [sroot, pfs, ...] below. */
export const inodeDepth = (v: Visit): number => v.path.filter((b) => b.type === BREF_TYPE_INODE).length;

export const imagePath = (dir: string, spec: string): string => path.join(dir, spec);
