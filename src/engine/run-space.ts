/**
 * The space a writing run may use, and the guard that holds every write to it.
 *
 * A run (one command: every fsck round, every reblock batch) may write only
 *   - granules it allocated itself from granules that were free when the run began, that no
 *     valid header copy's tree still references, and that it has not freed again;
 *   - the next freemap rotation slot of a freemap block, when no header copy on the media
 *     points at that slot;
 *   - the one header copy a commit rotates to (or a copy fsck rewrites from the best).
 * Every write of the run passes `checkWrite` before a byte reaches the device; anything else
 * throws WriteGuardError and the session dies without a commit.
 *
 * Granule states are kept per GiB, one byte per 16 KiB granule, only for GiBs the run touches.
 */
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_EMPTY,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  Blockref,
  FREEMAP_BLOCK_RADIX,
  FREEMAP_BLOCK_SIZE,
  FREEMAP_LEVEL1_MASK,
  FREEMAP_LEVEL1_RADIX,
  NFREEMAPS,
  OFF_MASK,
  PBUFSIZE,
  SEGSIZE,
  VOLUME_BYTES,
  ZONE_FREEMAP_00,
  ZONE_FREEMAP_INC,
  brefBytes,
} from '../format';
import { ChainReader } from './chain';
import { H2Error } from './errors';
import { HeaderCopy } from './header';

/** A write the run has no right to make. It is a bug in h2kit, never a property of the image. */
export class WriteGuardError extends H2Error {
  constructor(detail: string) {
    super(`write guard: refused ${detail}; nothing more is written and the run is not committed`, 1);
  }
}

/** Granule states in a run. */
const UNTOUCHED = 0;
/** still referenced by an older valid header copy although the freemap may call it free */
const PROTECTED = 1;
/** allocated by this run: its writes may go here */
const ALLOCATED = 2;
/** freed by one of this run's commits: never used again in the run */
const FREED = 3;

const GRANULES_PER_GIB = 1 << (FREEMAP_LEVEL1_RADIX - FREEMAP_BLOCK_RADIX);
const GRANULES_PER_SEGMENT = Number(SEGSIZE) / FREEMAP_BLOCK_SIZE;
const GRANULE = BigInt(FREEMAP_BLOCK_SIZE);
/** 64-bit bitmap words of a segment, two bits per granule */
const MASK_WORDS = GRANULES_PER_SEGMENT / 32;
/** the freemap rotation slots in the reserved first segment of each GiB */
const FREEMAP_SLOTS_BEGIN = BigInt(ZONE_FREEMAP_00 * PBUFSIZE);
const FREEMAP_SLOTS_END = BigInt((ZONE_FREEMAP_00 + NFREEMAPS * ZONE_FREEMAP_INC) * PBUFSIZE);

export class RunSpace {
  private readonly gib = new Map<number, Uint8Array>();
  /** segmentMask's answers by segment offset, kept up to date as granules change */
  private readonly masks = new Map<bigint, bigint[] | null>();
  /** freemap block offsets each header copy's freemap tree uses (copy index → offsets) */
  private readonly freemapInUse = new Map<number, Set<bigint>>();
  private armedHeader: bigint | null = null;
  /** once one write is refused, the run writes nothing more */
  private refused = false;
  /** granules protected for older header copies, for reports */
  protectedGranules = 0;

  private states(g: bigint, create: boolean): Uint8Array | null {
    const k = Number(g >> BigInt(FREEMAP_LEVEL1_RADIX));
    let a = this.gib.get(k);
    if (!a && create) {
      a = new Uint8Array(GRANULES_PER_GIB);
      this.gib.set(k, a);
    }
    return a ?? null;
  }

  private stateOf(g: bigint): number {
    const a = this.states(g, false);
    return a ? a[Number((g & FREEMAP_LEVEL1_MASK) >> BigInt(FREEMAP_BLOCK_RADIX))] : UNTOUCHED;
  }

  private setState(g: bigint, s: number, only?: number): void {
    const a = this.states(g, true)!;
    const i = Number((g & FREEMAP_LEVEL1_MASK) >> BigInt(FREEMAP_BLOCK_RADIX));
    if (only !== undefined && a[i] !== only) return;
    if (a[i] === UNTOUCHED && s !== UNTOUCHED) this.touchMask(g);
    else if (a[i] !== UNTOUCHED && s === UNTOUCHED) this.masks.delete(g & ~(SEGSIZE - 1n));
    a[i] = s;
  }

  /** Granule `g` is no longer untouched: add it to its segment's cached mask, if one is kept. */
  private touchMask(g: bigint): void {
    const seg = g & ~(SEGSIZE - 1n);
    if (!this.masks.has(seg)) return;
    let m = this.masks.get(seg);
    if (!m) {
      m = new Array<bigint>(MASK_WORDS).fill(0n);
      this.masks.set(seg, m);
    }
    const j = Number((g & (SEGSIZE - 1n)) >> BigInt(FREEMAP_BLOCK_RADIX));
    m[j >> 5] |= 3n << BigInt((j & 31) * 2);
  }

  private *granules(off: bigint, bytes: number): Generator<bigint> {
    const end = off + BigInt(Math.max(bytes, 1));
    for (let g = off & ~(GRANULE - 1n); g < end; g += GRANULE) yield g;
  }

  // ---- what the allocator may hand out ---------------------------------------------------------

  /**
   * For a fresh allocation in the 4 MiB segment at `seg`: per bitmap word, the 2-bit masks of
   * granules the run may not take although the freemap may show them free; null when the run
   * has touched nothing there.
   */
  segmentMask(seg: bigint): bigint[] | null {
    // The allocator asks for every segment it looks at, for every block; setState keeps the
    // answer current as granules stop being untouched.
    const cached = this.masks.get(seg);
    if (cached !== undefined) return cached;
    const mask = this.computeMask(seg);
    this.masks.set(seg, mask);
    return mask;
  }

  private computeMask(seg: bigint): bigint[] | null {
    const a = this.states(seg, false);
    if (!a) return null;
    const first = Number((seg & FREEMAP_LEVEL1_MASK) >> BigInt(FREEMAP_BLOCK_RADIX));
    let out: bigint[] | null = null;
    for (let i = 0; i < GRANULES_PER_SEGMENT; i++) {
      if (a[first + i] === UNTOUCHED) continue;
      out ??= new Array<bigint>(MASK_WORDS).fill(0n);
      out[i >> 5] |= 3n << BigInt((i & 31) * 2);
    }
    return out;
  }

  /** True when no granule of the segment is anything but untouched (reblock's destinations). */
  segmentUntouched(seg: bigint): boolean {
    return this.segmentMask(seg) === null;
  }

  /** Small blocks may keep packing into a granule only when this run allocated it. */
  mayPackInto(granule: bigint): boolean {
    return this.stateOf(granule) === ALLOCATED;
  }

  /** May a block of `bytes` at `off` be claimed: every granule untouched (and free per the caller) or, for a sub-granule block, already the run's. */
  mayClaim(off: bigint, bytes: number): boolean {
    for (const g of this.granules(off, bytes)) {
      const s = this.stateOf(g);
      if (s === UNTOUCHED) continue;
      if (s === ALLOCATED && bytes < FREEMAP_BLOCK_SIZE) continue;
      return false;
    }
    return true;
  }

  allocated(off: bigint, bytes: number): void {
    for (const g of this.granules(off, bytes)) this.setState(g, ALLOCATED);
  }

  /** A commit freed this granule: the run never writes it again. */
  freed(granule: bigint): void {
    this.setState(granule, FREED);
  }

  // ---- what older header copies still use ----------------------------------------------------

  /**
   * Protect every block the trees of the valid non-best header copies use and the best tree no
   * longer does, and note every copy's freemap blocks. The walk follows only where a copy's
   * tree differs from the best one (an identical blockref is a shared subtree).
   */
  protectHeaderCopies(chains: ChainReader, copies: HeaderCopy[], best: number): void {
    const bestHdr = copies[best]?.header;
    for (const c of copies) {
      if (c.status !== 'ok' || !c.header) continue;
      this.freemapInUse.set(c.index, this.freemapBlocks(chains, c.header.freemapBlockset));
      if (c.index === best || !bestHdr) continue;
      this.protectDiff(chains, c.header.srootBlockset, bestHdr.srootBlockset);
    }
  }

  private protectDiff(chains: ChainReader, oldSet: Blockref[], newSet: Blockref[]): void {
    const seen = new Set<bigint>();
    const stack: [Blockref, Blockref | null][] = pairUp(oldSet, newSet);
    while (stack.length > 0) {
      const [o, n] = stack.pop()!;
      if (n && sameBlock(o, n)) continue;
      const bytes = brefBytes(o);
      if (bytes > 0) {
        for (const g of this.granules(o.dataOff & OFF_MASK, bytes)) {
          if (this.stateOf(g) === UNTOUCHED) {
            this.setState(g, PROTECTED);
            this.protectedGranules++;
          }
        }
      }
      if (o.type === BREF_TYPE_DATA || o.type === BREF_TYPE_DIRENT || seen.has(o.dataOff)) continue;
      seen.add(o.dataOff);
      const kids = childrenOf(chains, o);
      if (!kids) continue;
      const newKids = n && n.type === o.type ? (childrenOf(chains, n) ?? []) : [];
      stack.push(...pairUp(kids, newKids));
    }
  }

  private freemapBlocks(chains: ChainReader, set: Blockref[]): Set<bigint> {
    const out = new Set<bigint>();
    const stack = set.filter((b) => b.type === BREF_TYPE_FREEMAP_NODE || b.type === BREF_TYPE_FREEMAP_LEAF);
    while (stack.length > 0 && out.size < 1 << 20) {
      const b = stack.pop()!;
      const off = b.dataOff & OFF_MASK;
      if (out.has(off)) continue;
      out.add(off);
      if (b.type !== BREF_TYPE_FREEMAP_NODE) continue;
      const kids = childrenOf(chains, b);
      if (kids) stack.push(...kids.filter((k) => k.type === BREF_TYPE_FREEMAP_NODE || k.type === BREF_TYPE_FREEMAP_LEAF));
    }
    return out;
  }

  /** Does a header copy on the media name the freemap block at `off`? */
  freemapSlotInUse(off: bigint): boolean {
    for (const used of this.freemapInUse.values()) if (used.has(off)) return true;
    return false;
  }

  /** A commit wrote header copy `copy`, whose freemap tree now uses `blocks`. */
  headerWritten(copy: number, blocks: Iterable<bigint>): void {
    this.freemapInUse.set(copy, new Set([...blocks].map((b) => b & OFF_MASK)));
  }

  // ---- the guard -------------------------------------------------------------------------------

  /** Allow one write of the header copy at logical offset `off` (the commit's rotation, or fsck's rewrite). */
  armHeader(off: bigint): void {
    this.armedHeader = off;
  }

  /** Every write of the run, at its logical offset, before it reaches a device. */
  checkWrite(off: bigint, bytes: number): void {
    const where = `a write of ${bytes} bytes at logical offset 0x${off.toString(16)}`;
    if (this.refused) throw new WriteGuardError(`${where}: an earlier write of this run was refused`);
    try {
      this.allowed(off, bytes, where);
    } catch (e) {
      this.refused = true;
      throw e;
    }
  }

  private allowed(off: bigint, bytes: number, where: string): void {
    if (this.armedHeader !== null && off === this.armedHeader) {
      if (bytes > VOLUME_BYTES) throw new WriteGuardError(`${where}: larger than a volume header`);
      this.armedHeader = null;
      return;
    }
    const inGib = off & FREEMAP_LEVEL1_MASK;
    if (inGib >= FREEMAP_SLOTS_BEGIN && inGib < FREEMAP_SLOTS_END) {
      if (bytes > PBUFSIZE || (inGib & BigInt(PBUFSIZE - 1)) !== 0n) throw new WriteGuardError(`${where}: not one freemap block`);
      if (this.freemapSlotInUse(off)) throw new WriteGuardError(`${where}: a header copy's freemap uses that block`);
      return;
    }
    for (const g of this.granules(off, bytes)) {
      const s = this.stateOf(g);
      if (s !== ALLOCATED) {
        const why = s === FREED ? 'freed earlier in this run' : s === PROTECTED ? 'still used by an older header copy' : 'not allocated by this run';
        throw new WriteGuardError(`${where}: granule 0x${g.toString(16)} is ${why}`);
      }
    }
  }
}

function sameBlock(a: Blockref, b: Blockref): boolean {
  return a.dataOff === b.dataOff && a.type === b.type;
}

/** Pair each old child with an identical new one, else the new one covering the same keys. */
function pairUp(oldKids: Blockref[], newKids: Blockref[]): [Blockref, Blockref | null][] {
  const byOff = new Map<bigint, Blockref>();
  const byKey = new Map<string, Blockref>();
  for (const n of newKids) {
    if (n.type === BREF_TYPE_EMPTY) continue;
    byOff.set(n.dataOff, n);
    byKey.set(`${n.type}:${n.key}:${n.keybits}`, n);
  }
  const out: [Blockref, Blockref | null][] = [];
  for (const o of oldKids) {
    if (o.type === BREF_TYPE_EMPTY) continue;
    const same = byOff.get(o.dataOff);
    if (same && sameBlock(o, same)) continue;
    out.push([o, byKey.get(`${o.type}:${o.key}:${o.keybits}`) ?? null]);
  }
  return out;
}

/** A node's children, or null when the block cannot be read or verified (nothing to follow). */
function childrenOf(chains: ChainReader, b: Blockref): Blockref[] | null {
  try {
    return chains.children(b, chains.readVerified(b));
  } catch {
    return null;
  }
}
