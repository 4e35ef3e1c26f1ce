/**
 * Corruption tools for tests: an overlay device that patches bytes over a read-only image
 * (the image itself is never written), seeded random mutations of metadata, and re-sealing of
 * check codes up to the volume header so that mutations reach past the check-code layer.
 */
import {
  BLOCKREF_BYTES,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_VOLUME,
  CHECK_OFF,
  VOLUME_BYTES,
  ZONE_BYTES,
  decodeBlockref,
  decodeVolumeHeader,
  sealVolumeHeader,
  setCheck,
} from '../../src/format';
import { BlockSource, ChainReader, ReadOnlyDevice, Visit, VolumeSet, WritableSource, blockrefLocation, headerRootBref, walkTree } from '../../src/engine';

/** A device whose reads see the writes made to it laid over a read-only base image. */
export class OverlayDevice implements WritableSource {
  /** writes in order; later ones win where they overlap */
  readonly patches: { off: bigint; bytes: Uint8Array }[] = [];

  constructor(protected readonly base: BlockSource) {}

  get path(): string {
    return this.base.path;
  }
  get size(): bigint {
    return this.base.size;
  }
  get isBlockDevice(): boolean {
    return this.base.isBlockDevice;
  }

  read(off: bigint, len: number): Buffer {
    const buf = this.base.read(off, len);
    const end = off + BigInt(buf.length);
    for (const p of this.patches) {
      const pEnd = p.off + BigInt(p.bytes.length);
      if (pEnd <= off || p.off >= end) continue;
      const from = p.off > off ? p.off : off;
      const to = pEnd < end ? pEnd : end;
      buf.set(p.bytes.subarray(Number(from - p.off), Number(to - p.off)), Number(from - off));
    }
    return buf;
  }

  write(off: bigint, bytes: Uint8Array): void {
    this.patches.push({ off, bytes: bytes.slice() });
  }

  fsync(): void {
    // nothing reaches the base image
  }

  close(): void {
    // the base device is shared between cases and closed by its owner
  }
}

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Target {
  /** logical offset and length of a metadata block that can be mutated */
  off: bigint;
  len: number;
  visit: Visit;
}

/** Every metadata block of the volume and freemap trees (not data), with its visit. */
export function metadataTargets(vols: VolumeSet): Target[] {
  const chains = new ChainReader(vols);
  const out: Target[] = [];
  for (const type of [BREF_TYPE_VOLUME, BREF_TYPE_FREEMAP] as const) {
    for (const v of walkTree(chains, headerRootBref(chains, type), { readData: false })) {
      if (v.data.length > 0) out.push({ off: v.bref.dataOff & ~0x3fn, len: v.data.length, visit: v });
    }
  }
  return out;
}

/** Recompute the check code of `v`'s block into its parent's blockref, up to the header. */
export function resealUpward(dev: OverlayDevice, vols: VolumeSet, v: Visit): void {
  let cur: Visit | null = v;
  while (cur) {
    const loc = blockrefLocation(cur);
    if (loc === null) break;
    const block = vols.read(cur.bref.dataOff & ~0x3fn, cur.data.length);
    const slot = vols.read(loc, BLOCKREF_BYTES);
    const bref = decodeBlockref(slot);
    setCheck(bref, block);
    dev.write(loc + BigInt(CHECK_OFF), bref.check);
    cur = cur.parent;
  }
  // the roots' children live in the header: re-seal the best copy's CRCs
  const best = vols.root.selection.best;
  const hdrOff = BigInt(best) * ZONE_BYTES;
  const h = decodeVolumeHeader(vols.read(hdrOff, VOLUME_BYTES));
  dev.write(hdrOff, sealVolumeHeader(h));
}

export function openBase(path: string): ReadOnlyDevice {
  return ReadOnlyDevice.open(path);
}
