/**
 * The freemap, in memory, with the kernel's allocator (hammer2_freemap.c).
 *
 * Leaves cover 1 GiB as 256 segments of 4 MiB with 2 bits per 16 KiB block. A leaf is created
 * on first use, with everything below the first allocatable segment (the reserved 4 MiB of
 * each GiB, the boot and aux areas, the first inodes) and past the end marked full. Blocks
 * are placed as the kernel places them: a per-type heuristic picks the GiB, a scan outward
 * from its segment picks a segment of the same allocation class, and `linear` packs
 * sub-16 KiB blocks.
 *
 * Frees are deferred to the commit (`applyFrees`), so a block freed in a run is never
 * reallocated before the run's new tree is on the media. Freemap blocks themselves live in
 * the reserved segments and rotate through 8 sets, one step per flush (freemap_reserve).
 */
import {
  BMAP_ELEMENTS,
  BREF_TYPE_DATA,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  Blockref,
  BmapData,
  CHECK_FREEMAP,
  FREEMAP_BLOCK_RADIX,
  FREEMAP_BLOCK_SIZE,
  FREEMAP_COUNT,
  FREEMAP_LEVEL0_RADIX,
  FREEMAP_LEVEL0_SIZE,
  FREEMAP_LEVEL1_RADIX,
  FREEMAP_LEVEL1_SIZE,
  FREEMAP_LEVEL2_RADIX,
  FREEMAP_LEVEL3_RADIX,
  FREEMAP_LEVEL4_RADIX,
  FREEMAP_LEVEL5_RADIX,
  FREEMAP_LEVELN_PSIZE,
  NFREEMAPS,
  OFF_MASK,
  OFF_MASK_RADIX,
  PBUFRADIX,
  RADIX_MAX,
  RADIX_MIN,
  PBUFSIZE,
  SEGMASK,
  SET_COUNT,
  BLOCKREF_BYTES,
  ZONE_FREEMAP_00,
  ZONE_FREEMAP_INC,
  ZONE_SEG,
  ZONE_MASK,
  checkFreemap,
  decodeFreemapLeaf,
  emptyBlockref,
  encCheck,
  encodeBlockref,
  encodeFreemapLeaf,
  makeDataOff,
  setCheck,
  setCheckFreemap,
  emptyBmapData,
} from '../format';
import { ChainReader } from './chain';
import { H2Error } from './errors';
import { RunSpace } from './run-space';

const ALLONES = 0xffffffffffffffffn;
const SEGSIZE = Number(FREEMAP_LEVEL0_SIZE);
// The allocator's scan reads these for every bitmap it looks at: local copies, as a name
// imported through the format index costs a getter call at each use.
const COUNT = FREEMAP_COUNT;
const BLOCK_RADIX = FREEMAP_BLOCK_RADIX;
const BLOCK_SIZE = FREEMAP_BLOCK_SIZE;
const L0_SIZE = FREEMAP_LEVEL0_SIZE;
const L0_RADIX_N = BigInt(FREEMAP_LEVEL0_RADIX);
const L1 = FREEMAP_LEVEL1_SIZE;
/** heur_freemap: one slot per (type, radix class) as the kernel keeps them. */
const HEUR_NRADIX = 4;
const HEUR_TYPES = 8;
/** Radix bits of an allocation: the low 6 bits of data_off. */
const radixOf = (dataOff: bigint): number => Number(dataOff & OFF_MASK_RADIX);

export class NoSpaceError extends H2Error {
  constructor(bytes: number) {
    super(`no free space for a ${bytes}-byte block`, 1);
  }
}

interface FmLeaf {
  key: bigint;
  bmaps: BmapData[];
  bigmask: number;
  avail: bigint;
  /** where the leaf is on the media now (null: created in this run) */
  dataOff: bigint;
  dirty: boolean;
}

interface FmNode {
  key: bigint;
  keybits: number;
  children: (FmNode | FmLeaf)[];
  dataOff: bigint;
  dirty: boolean;
}

const isLeaf = (e: FmNode | FmLeaf): e is FmLeaf => (e as FmLeaf).bmaps !== undefined;
const keybitsOf = (e: FmNode | FmLeaf): number => (isLeaf(e) ? FREEMAP_LEVEL1_RADIX : e.keybits);

/** A block write the freemap flush wants done. */
export interface BlockWrite {
  offset: bigint;
  bytes: Uint8Array;
}

export class Freemap {
  private readonly root: FmNode;
  private readonly heur: bigint[] = new Array(HEUR_NRADIX * HEUR_TYPES).fill(0n);
  private relaxed = false;
  private pendingFrees: { off: bigint; bytes: number }[] = [];
  /** change in allocator_free made in this run */
  freeDelta = 0n;
  /**
   * A placement that takes precedence over the kernel's allocator (reblock's dense, ordered
   * destinations): returns a data_off it has claimed, or null to fall back.
   */
  placement: ((type: number, bytes: number, key: bigint) => bigint | null) | null = null;
  /** the run's space rule: what it may take besides what the freemap shows free */
  space: RunSpace | null = null;

  private constructor(
    private readonly totalSize: bigint,
    private readonly allocatorBeg: bigint,
    root: FmNode,
  ) {
    this.root = root;
  }

  /**
   * A freemap with no leaves, for a rebuild from the topology (fsck, when the old one cannot be
   * read): leaves are created on demand as blocks are marked, by freemap_init's rules.
   */
  static empty(chains: ChainReader): Freemap {
    return new Freemap(chains.vols.totalSize, chains.header.allocatorBeg, { key: 0n, keybits: 64, children: [], dataOff: 0n, dirty: true });
  }

  /** Load the freemap tree of the filesystem behind `chains` (verifying every block). */
  static load(chains: ChainReader): Freemap {
    const h = chains.header;
    const load = (b: Blockref): FmNode | FmLeaf => {
      const data = chains.readVerified(b);
      if (b.type === BREF_TYPE_FREEMAP_LEAF) {
        const fm = checkFreemap(b);
        return { key: b.key, bmaps: decodeFreemapLeaf(data), bigmask: fm.bigmask, avail: fm.avail, dataOff: b.dataOff, dirty: false };
      }
      const kids = chains.children(b, data).filter((k) => k.type !== 0).map(load);
      return { key: b.key, keybits: b.keybits, children: kids, dataOff: b.dataOff, dirty: false };
    };
    const top = h.freemapBlockset.filter((b) => b.type === BREF_TYPE_FREEMAP_LEAF || b.type === BREF_TYPE_FREEMAP_NODE).map(load);
    return new Freemap(chains.vols.totalSize, h.allocatorBeg, { key: 0n, keybits: 64, children: top, dataOff: 0n, dirty: false });
  }

  // ---- the tree ------------------------------------------------------------------------------

  private findLeaf(key: bigint): FmLeaf | null {
    let node: FmNode = this.root;
    for (;;) {
      const hit = node.children.find((c) => key >= c.key && key < c.key + (1n << BigInt(keybitsOf(c))));
      if (!hit) return null;
      if (isLeaf(hit)) return hit;
      node = hit;
    }
  }

  /** Insert a new leaf where the kernel would: the deepest covering node, splitting a full table. */
  private insertLeaf(leaf: FmLeaf): void {
    let node: FmNode = this.root;
    const path: FmNode[] = [node];
    for (;;) {
      const hit = node.children.find((c) => !isLeaf(c) && leaf.key >= c.key && leaf.key < c.key + (1n << BigInt(c.keybits)));
      if (!hit || isLeaf(hit)) break;
      node = hit as FmNode;
      path.push(node);
    }
    const capacity = node === this.root ? SET_COUNT : FREEMAP_LEVELN_PSIZE / BLOCKREF_BYTES;
    if (node.children.length >= capacity) {
      // hammer2_chain_indkey_freemap: the entries with the fewest key bits (lowest key first)
      // move into a new node one freemap level up.
      let key = 0n;
      let bits = 64;
      for (const c of node.children) {
        const kb = keybitsOf(c);
        if (kb < bits || (kb === bits && c.key < key)) {
          bits = kb;
          key = c.key;
        }
      }
      const up = levelAbove(bits);
      const mask = (1n << BigInt(up)) - 1n;
      const ind: FmNode = { key: key & ~mask, keybits: up, children: [], dataOff: 0n, dirty: true };
      ind.children = node.children.filter((c) => c.key >= ind.key && c.key + (1n << BigInt(keybitsOf(c))) - 1n <= ind.key + mask);
      node.children = node.children.filter((c) => !ind.children.includes(c));
      node.children.push(ind);
      node.children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      node.dirty = true;
      this.insertLeaf(leaf);
      return;
    }
    node.children.push(leaf);
    node.children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const p of path) p.dirty = true;
  }

  /** The first byte of the leaf at `key` the allocator may hand out (what lies below is reserved). */
  lowestAllocatable(key: bigint): bigint {
    let lokey = (this.allocatorBeg + SEGMASK) & ~SEGMASK;
    if (lokey < key) lokey = key;
    if (lokey < key + ZONE_SEG) lokey = key + ZONE_SEG;
    return lokey;
  }

  /** hammer2_freemap_init: a new leaf with the unusable ranges marked full. */
  private createLeaf(key: bigint): FmLeaf {
    const lokey = this.lowestAllocatable(key);
    let hikey = key + L1;
    if (hikey > this.totalSize) hikey = this.totalSize & ~SEGMASK;
    const leaf: FmLeaf = { key, bmaps: [], bigmask: 0xffffffff, avail: L1, dataOff: 0n, dirty: true };
    for (let i = 0; i < FREEMAP_COUNT; i++) {
      const seg = key + BigInt(i) * FREEMAP_LEVEL0_SIZE;
      const b = emptyBmapData();
      if (seg < lokey || seg >= hikey) {
        b.bitmapq = new Array(BMAP_ELEMENTS).fill(ALLONES);
        b.avail = 0;
        b.linear = SEGSIZE;
        leaf.avail -= FREEMAP_LEVEL0_SIZE;
      } else {
        b.avail = SEGSIZE;
      }
      leaf.bmaps.push(b);
    }
    this.insertLeaf(leaf);
    return leaf;
  }

  private leafFor(key: bigint, create: boolean): FmLeaf | null {
    return this.findLeaf(key) ?? (create ? this.createLeaf(key) : null);
  }

  // ---- allocation ----------------------------------------------------------------------------

  /**
   * Allocate `bytes` (a power of two, 1 KiB .. 64 KiB) for a block of `type`; `subKey` is the
   * block's key (file offset for data), which steers data placement inside a segment.
   */
  allocate(type: number, bytes: number, subKey: bigint = 0n): bigint {
    const radix = Math.log2(bytes);
    if (!Number.isInteger(radix) || radix < RADIX_MIN || radix > RADIX_MAX) throw new H2Error(`cannot allocate ${bytes} bytes`);
    if (this.placement) {
      const placed = this.placement(type, bytes, subKey);
      if (placed !== null) return placed;
    }
    let hindex = PBUFRADIX - FREEMAP_BLOCK_RADIX + type * HEUR_NRADIX;
    hindex &= HEUR_TYPES * HEUR_NRADIX - 1;
    let bnext = this.heur[hindex];
    if (bnext > this.totalSize) bnext = this.totalSize - 1n;
    let relaxed = this.relaxed;
    let loops = 0;
    for (;;) {
      const got = this.tryAlloc(type, radix, bnext, relaxed, Number(subKey & 0x7fffffffn));
      if (got !== null) {
        this.relaxed ||= relaxed;
        this.heur[hindex] = bnext;
        return makeDataOff(got, radix);
      }
      bnext = (bnext & ~(L1 - 1n)) + L1;
      if (bnext >= this.totalSize) {
        bnext = 0n;
        if (++loops >= 2) {
          if (!relaxed) relaxed = true;
          else throw new NoSpaceError(bytes);
        }
      }
    }
  }

  private tryAlloc(type: number, radix: number, bnext: bigint, relaxed: boolean, subKey: number): bigint | null {
    const cls = (type << 8) | PBUFRADIX;
    const key = bnext & ~(L1 - 1n);
    const leaf = this.leafFor(key, true)!;
    if ((leaf.bigmask & (1 << radix)) === 0) return null;
    const start = Number((bnext - key) >> L0_RADIX_N);
    const small = radix < BLOCK_RADIX;
    let masked = false;
    for (let count = 0; count < COUNT; count++) {
      if (start + count >= COUNT && start - count < 0) break;
      for (let side = 0; side < 2; side++) {
        const n = side === 0 ? start + count : start - count;
        if (n < 0 || n >= COUNT) continue;
        const b = leaf.bmaps[n];
        const availchk = b.avail !== 0 || (small && (b.linear & (BLOCK_SIZE - 1)) !== 0);
        if (!availchk || !(b.class === 0 || b.class === cls || relaxed)) continue;
        const seg = key + BigInt(n) * L0_SIZE;
        const space = this.space;
        const mask = space?.segmentMask(seg) ?? null;
        if (mask) masked = true;
        const mayPack = (at: number): boolean => !space || space.mayPackInto(seg + BigInt(at & ~(FREEMAP_BLOCK_SIZE - 1)));
        const off = bmapAlloc(b, cls, subKey, radix, mask, mayPack);
        if (off !== null) {
          leaf.dirty = true;
          leaf.avail -= BigInt(off.taken);
          this.freeDelta -= BigInt(off.taken);
          space?.allocated(seg + BigInt(off.offset), 2 ** radix);
          return seg + BigInt(off.offset);
        }
      }
      if (count === 0) continue;
    }
    // bigmask is a hint kept on the media: what only this run may not take says nothing there
    if (start === 0 && relaxed && !masked) leaf.bigmask &= ~(1 << radix);
    return null;
  }

  // ---- states ----------------------------------------------------------------------------------

  /** The 2-bit state of every 16 KiB granule of [off, off+bytes). */
  states(off: bigint, bytes: number): number[] {
    const out: number[] = [];
    for (let g = off & ~BigInt(FREEMAP_BLOCK_SIZE - 1); g < off + BigInt(bytes); g += BigInt(FREEMAP_BLOCK_SIZE)) {
      const leaf = this.findLeaf(g & ~(L1 - 1n));
      if (!leaf) {
        out.push(0);
        continue;
      }
      const { bmap, word, shift } = locate(leaf, g);
      out.push(Number((bmap.bitmapq[word] >> shift) & 3n));
    }
    return out;
  }

  /**
   * Recovery (hammer2_freemap_adjust DORECOVER): mark the block at `dataOff` allocated, creating
   * its leaf if needed. Returns the bytes that were free before.
   */
  markAllocated(dataOff: bigint, type: number): number {
    const radix = radixOf(dataOff);
    const off = dataOff & OFF_MASK;
    if (radix === 0 || off < this.allocatorBeg || off >= this.totalSize) return 0;
    if ((off & ZONE_MASK) < ZONE_SEG) return 0;
    const leaf = this.leafFor(off & ~(L1 - 1n), true)!;
    const { bmap, word, shift } = locate(leaf, off);
    const count = radix < FREEMAP_BLOCK_RADIX ? 1 : 1 << (radix - FREEMAP_BLOCK_RADIX);
    let gained = 0;
    let s = shift;
    let changed = false;
    for (let i = 0; i < count; i++, s += 2n) {
      const st = (bmap.bitmapq[word] >> s) & 3n;
      if (st === 3n) continue;
      if (!changed) {
        bmap.linear = 0;
        changed = true;
      }
      if (st === 0n) {
        bmap.avail -= FREEMAP_BLOCK_SIZE;
        gained += FREEMAP_BLOCK_SIZE;
      }
      if (bmap.class === 0) bmap.class = (type << 8) | PBUFRADIX;
      bmap.bitmapq[word] |= 3n << s;
    }
    if (changed) {
      leaf.dirty = true;
      leaf.bigmask = 0xffffffff;
      leaf.avail -= BigInt(gained);
      this.relaxed = false;
      this.freeDelta -= BigInt(gained);
    }
    return gained;
  }

  /** Release a block at the commit (not before: its old contents may still be the live tree). */
  free(dataOff: bigint): void {
    const radix = radixOf(dataOff);
    if (radix === 0) return;
    this.pendingFrees.push({ off: dataOff & OFF_MASK, bytes: 2 ** radix });
  }

  get hasPendingFrees(): boolean {
    return this.pendingFrees.length > 0;
  }

  /** The 16 KiB granules that pending frees touch (the caller says which stay live). */
  pendingGranules(): bigint[] {
    const set = new Set<bigint>();
    const granule = BigInt(FREEMAP_BLOCK_SIZE);
    for (const f of this.pendingFrees) for (let g = f.off & ~(granule - 1n); g < f.off + BigInt(f.bytes); g += granule) set.add(g);
    return [...set];
  }

  /**
   * Apply the pending frees: granules become free (00) unless `liveGranule` says a block that
   * is still referenced shares them.
   */
  applyFrees(liveGranule: (granule: bigint) => boolean): void {
    const granules = new Set<bigint>();
    for (const f of this.pendingFrees) {
      for (let g = f.off & ~BigInt(FREEMAP_BLOCK_SIZE - 1); g < f.off + BigInt(f.bytes); g += BigInt(FREEMAP_BLOCK_SIZE)) granules.add(g);
    }
    this.pendingFrees = [];
    for (const g of granules) {
      if (liveGranule(g)) continue;
      const leafKey = g & ~(L1 - 1n);
      // Below the first allocatable segment (reserved, boot/aux, newfs's inodes) nothing is
      // ever handed out, so nothing is handed back either.
      if (g < this.lowestAllocatable(leafKey)) continue;
      const leaf = this.findLeaf(leafKey);
      if (!leaf) continue;
      const { bmap, word, shift } = locate(leaf, g);
      if (((bmap.bitmapq[word] >> shift) & 3n) === 0n) continue;
      bmap.bitmapq[word] &= ~(3n << shift);
      bmap.avail += FREEMAP_BLOCK_SIZE;
      if (bmap.avail === SEGSIZE) {
        bmap.linear = 0;
        bmap.class = 0;
      } else if ((bmap.linear & ~(FREEMAP_BLOCK_SIZE - 1)) === Number(g & SEGMASK)) {
        // sub-block packing must not continue inside a granule that is free again
        bmap.linear = Number(g & SEGMASK) + FREEMAP_BLOCK_SIZE;
      }
      leaf.avail += BigInt(FREEMAP_BLOCK_SIZE);
      leaf.bigmask = 0xffffffff;
      leaf.dirty = true;
      this.freeDelta += BigInt(FREEMAP_BLOCK_SIZE);
      this.space?.freed(g);
    }
    this.relaxed = false;
  }

  /**
   * Claim the block `dataOff` for a placement of the caller's choosing (reblock's destinations):
   * only where the freemap shows it free and the run's space rule allows it. A sub-16 KiB block
   * may go into a granule the run itself allocated. Returns false, changing nothing, otherwise.
   */
  claim(dataOff: bigint, type: number): boolean {
    const off = dataOff & OFF_MASK;
    const bytes = 2 ** radixOf(dataOff);
    if (this.space && !this.space.mayClaim(off, bytes)) return false;
    const taken = this.states(off, bytes).some((st) => st !== 0);
    // a sub-granule block may share a granule only with what this run packed there itself
    const ownGranule = bytes < FREEMAP_BLOCK_SIZE && (this.space?.mayPackInto(off & ~BigInt(FREEMAP_BLOCK_SIZE - 1)) ?? false);
    if (taken && !ownGranule) return false;
    this.markAllocated(dataOff, type);
    this.space?.allocated(off, bytes);
    return true;
  }

  /** The media offsets of every freemap block, as of the last flush (what a header written now names). */
  blockOffsets(): bigint[] {
    const out: bigint[] = [];
    const walk = (n: FmNode | FmLeaf): void => {
      if (n !== this.root && n.dataOff !== 0n) out.push(n.dataOff & OFF_MASK);
      if (!isLeaf(n)) n.children.forEach(walk);
    };
    walk(this.root);
    return out;
  }

  // ---- flush -----------------------------------------------------------------------------------

  get dirty(): boolean {
    const walk = (n: FmNode | FmLeaf): boolean => n.dirty || (!isLeaf(n) && n.children.some(walk));
    return walk(this.root);
  }

  /**
   * Write out every modified freemap block to its next rotation slot (children first) and
   * return the writes and the new freemap blockset of the volume header. Old freemap blocks
   * are never overwritten: the previous header still points at them.
   */
  flush(tid: bigint): { writes: BlockWrite[]; blockset: Blockref[] } {
    const writes: BlockWrite[] = [];
    const refOf = (e: FmNode | FmLeaf): Blockref => {
      const b = emptyBlockref();
      b.type = isLeaf(e) ? BREF_TYPE_FREEMAP_LEAF : BREF_TYPE_FREEMAP_NODE;
      b.methods = encCheck(CHECK_FREEMAP);
      b.key = e.key;
      b.keybits = keybitsOf(e);
      return b;
    };
    const visit = (e: FmNode | FmLeaf): Blockref => {
      const b = refOf(e);
      let bytes: Uint8Array;
      let avail: bigint;
      let bigmask: number;
      if (isLeaf(e)) {
        bytes = encodeFreemapLeaf(e.bmaps);
        avail = e.avail;
        bigmask = e.bigmask;
      } else {
        const kids = e.children.map(visit);
        if (kids.some((k, i) => k.dataOff !== e.children[i].dataOff)) e.dirty = true;
        bytes = new Uint8Array(FREEMAP_LEVELN_PSIZE);
        kids.forEach((k, i) => encodeBlockref(k, bytes, i * BLOCKREF_BYTES));
        avail = kids.reduce((s, k) => s + checkFreemap(k).avail, 0n);
        bigmask = kids.reduce((m, k) => m | checkFreemap(k).bigmask, 0) >>> 0;
      }
      b.mirrorTid = tid;
      b.modifyTid = tid;
      if (e.dirty || e.dataOff === 0n) {
        // The next rotation slot, past any that a header copy on the media still names (a
        // rebuilt freemap starts at set 0, which the unreadable old one may hold).
        let at = reserveFreemapBlock(e.key, keybitsOf(e), e.dataOff);
        for (let k = 1; k < NFREEMAPS && this.space?.freemapSlotInUse(at & OFF_MASK); k++) at = reserveFreemapBlock(e.key, keybitsOf(e), at);
        e.dataOff = at;
        writes.push({ offset: e.dataOff & OFF_MASK, bytes });
        e.dirty = false;
      }
      b.dataOff = e.dataOff;
      setCheckFreemap(b, { icrc32: 0, bigmask, avail });
      setCheck(b, bytes);
      return b;
    };
    const top = this.root.children.map(visit);
    this.root.dirty = false;
    while (top.length < SET_COUNT) top.push(emptyBlockref());
    return { writes, blockset: top };
  }

  /**
   * Bytes of the allocatable range marked allocated, in whole granules: what allocator_free
   * leaves out (the kernel and bulkfree both count this way).
   */
  allocatedBytes(): bigint {
    let granules = 0;
    for (const s of this.segmentUsage()) granules += s.granules;
    return BigInt(granules) * BigInt(FREEMAP_BLOCK_SIZE);
  }

  /**
   * Allocated granules of every 4 MiB segment of the allocatable range, in offset order
   * (segments without a leaf are free). Reserved, boot, aux and newfs's first inodes are left out.
   */
  segmentUsage(): { seg: bigint; granules: number }[] {
    const out: { seg: bigint; granules: number }[] = [];
    const end = this.totalSize & ~SEGMASK;
    for (let key = 0n; key < end; key += L1) {
      const leaf = this.findLeaf(key);
      const first = this.lowestAllocatable(key);
      for (let i = 0; i < FREEMAP_COUNT; i++) {
        const seg = key + BigInt(i) * FREEMAP_LEVEL0_SIZE;
        if (seg < first || seg >= end) continue;
        out.push({ seg, granules: leaf ? allocatedGranules(leaf.bmaps[i]) : 0 });
      }
    }
    return out;
  }

  /** Every leaf, for checks and reports. */
  leaves(): { key: bigint; bmaps: BmapData[]; avail: bigint }[] {
    const out: FmLeaf[] = [];
    const walk = (n: FmNode | FmLeaf): void => {
      if (isLeaf(n)) out.push(n);
      else n.children.forEach(walk);
    };
    walk(this.root);
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}

/** Granules of one segment whose 2-bit state is not 00 (free). */
function allocatedGranules(b: BmapData): number {
  let n = 0;
  for (const w of b.bitmapq) for (let x = w; x !== 0n; x >>= 2n) if (x & 3n) n++;
  return n;
}

function levelAbove(bits: number): number {
  switch (bits) {
    case FREEMAP_LEVEL0_RADIX: return FREEMAP_LEVEL1_RADIX;
    case FREEMAP_LEVEL1_RADIX: return FREEMAP_LEVEL2_RADIX;
    case FREEMAP_LEVEL2_RADIX: return FREEMAP_LEVEL3_RADIX;
    case FREEMAP_LEVEL3_RADIX: return FREEMAP_LEVEL4_RADIX;
    case FREEMAP_LEVEL4_RADIX: return FREEMAP_LEVEL5_RADIX;
    default: throw new H2Error(`freemap: no level above radix ${bits}`);
  }
}

/** Where in a leaf the 2 bits of the granule holding `off` are. */
function locate(leaf: FmLeaf, off: bigint): { bmap: BmapData; word: number; shift: bigint } {
  const bmap = leaf.bmaps[Number((off >> BigInt(FREEMAP_LEVEL0_RADIX)) & BigInt(FREEMAP_COUNT - 1))];
  const word = Number((off >> BigInt(FREEMAP_LEVEL0_RADIX - 3)) & 7n);
  const shift = BigInt(Number((off >> BigInt(FREEMAP_BLOCK_RADIX)) & 31n) * 2);
  return { bmap, word, shift };
}

/**
 * hammer2_freemap_reserve: a freemap block's home is in the reserved segment at the base of
 * the range it covers, in rotation set 0 when new and the next set on every rewrite.
 */
export function reserveFreemapBlock(key: bigint, keybits: number, oldDataOff: bigint): bigint {
  let index = 0;
  if ((oldDataOff & OFF_MASK) !== 0n) {
    const blk = Number(((oldDataOff & OFF_MASK) & SEGMASK) / BigInt(PBUFSIZE));
    index = (Math.trunc((blk - ZONE_FREEMAP_00) / ZONE_FREEMAP_INC) + 1) % NFREEMAPS;
  }
  const level = [FREEMAP_LEVEL1_RADIX, FREEMAP_LEVEL2_RADIX, FREEMAP_LEVEL3_RADIX, FREEMAP_LEVEL4_RADIX, FREEMAP_LEVEL5_RADIX].indexOf(keybits);
  if (level < 0) throw new H2Error(`freemap: bad radix ${keybits}`);
  const base = key & ~((1n << BigInt(keybits)) - 1n);
  const off = base + BigInt((index * ZONE_FREEMAP_INC + ZONE_FREEMAP_00 + level) * PBUFSIZE);
  return makeDataOff(off, Math.log2(FREEMAP_LEVELN_PSIZE));
}

/**
 * hammer2_bmap_alloc: place a 2^radix block inside one 4 MiB segment. Returns the offset in
 * the segment and the bytes of the segment newly in use (a sub-16 KiB block takes a whole
 * granule only when it is the granule's first).
 */
function bmapAlloc(
  b: BmapData,
  cls: number,
  subKey: number,
  radix: number,
  mask: bigint[] | null,
  mayPack: (offset: number) => boolean,
): { offset: number; taken: number } | null {
  const word = (i: number): bigint => (mask ? b.bitmapq[i] | mask[i] : b.bitmapq[i]);
  const size = 2 ** radix;
  const bmradix = radix <= FREEMAP_BLOCK_RADIX ? 2 : 2 << (radix - FREEMAP_BLOCK_RADIX);
  const maskOf = (bits: number): bigint => (bits === 64 ? ALLONES : (1n << BigInt(bits)) - 1n);
  const blockMask = FREEMAP_BLOCK_SIZE - 1;
  let i: number;
  let j: number;
  let bmmask: bigint;
  let offset: number;
  const lin = b.linear >>> 0;
  if ((lin & blockMask) + size <= FREEMAP_BLOCK_SIZE && (lin & blockMask) !== 0 && b.linear < SEGSIZE && mayPack(lin)) {
    // continue packing small blocks into the current 16 KiB granule
    offset = b.linear;
    i = Math.trunc(offset / (SEGSIZE / BMAP_ELEMENTS));
    j = Math.trunc(offset / (FREEMAP_BLOCK_SIZE / 2)) & 62;
    bmmask = maskOf(bmradix) << BigInt(j);
    b.linear = offset + size;
  } else {
    i = -1;
    j = -1;
    let found = false;
    if (cls >> 8 === BREF_TYPE_DATA && radix >= FREEMAP_BLOCK_RADIX) {
      // data keeps its file-offset alignment inside the segment where it can
      const bmapSize = SEGSIZE;
      const indexSize = FREEMAP_BLOCK_SIZE * 32;
      i = Math.trunc((subKey & (bmapSize - 1)) / (bmapSize / BMAP_ELEMENTS));
      j = Math.trunc((subKey & (indexSize - 1)) / (indexSize / 32)) * 2;
      bmmask = maskOf(bmradix) << BigInt(j);
      found = (word(i) & bmmask) === 0n;
    }
    if (!found) {
      outer: for (i = 0; i < BMAP_ELEMENTS; i++) {
        bmmask = maskOf(bmradix);
        for (j = 0; j < 64; j += bmradix) {
          if ((word(i) & bmmask) === 0n) {
            found = true;
            break outer;
          }
          bmmask <<= BigInt(bmradix);
        }
      }
      if (!found) return null;
    }
    offset = i * (SEGSIZE / BMAP_ELEMENTS) + j * (FREEMAP_BLOCK_SIZE / 2);
    if (size & blockMask) b.linear = offset + size;
  }
  bmmask = bmmask!;
  const bgsize = radix < FREEMAP_BLOCK_RADIX ? ((b.bitmapq[i] & bmmask) !== 0n ? 0 : FREEMAP_BLOCK_SIZE) : size;
  b.bitmapq[i] |= bmmask;
  if (b.class === 0) b.class = cls;
  b.avail -= bgsize;
  return { offset, taken: bgsize };
}
