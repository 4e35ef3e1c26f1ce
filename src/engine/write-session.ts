/**
 * A writing run: the one way h2kit changes a filesystem.
 *
 * Blocks are modified copy-on-write. A changed block is kept in memory, with the path of
 * blocks above it, until the commit; nothing live on the media is overwritten. The commit is
 * the kernel's flush and volume-header sync, in this order:
 *   1. every modified block, children before parents, goes to a new allocation with its check
 *      code; each parent's blockref gets the new data_off, check code and tids, up to the
 *      super-root blockset in the header;
 *   2. fsync;
 *   3. the freed blocks are released, the freemap is flushed to its next rotation slots and
 *      freemap_tid is set;
 *   4. fsync again, as the kernel flushes the device before the header; then the header goes
 *      to the next copy in rotation (copies past the volume end are skipped), its CRCs
 *      computed in the kernel's order;
 *   5. fsync.
 * A run that ends without commit() leaves the previous state intact: nothing it wrote is
 * referenced by any header.
 */
import {
  BLOCKREF_BYTES,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  Blockref,
  FREEMAP_BLOCK_SIZE,
  INODE_U_OFF,
  NUM_VOLHDRS,
  SEGSIZE,
  OFF_MASK,
  VOLUME_BYTES,
  VolumeHeader,
  ZONE_BYTES,
  brefBytes,
  decodeVolumeHeader,
  encodeBlockref,
  initXxh64,
  sealVolumeHeader,
  setCheck,
} from '../format';
import { ChainReader } from './chain';
import { BlockSource } from './device';
import { H2Error } from './errors';
import { Freemap } from './freemap';
import { Visit, headerRootBref, walkTree } from './walk';
import { VolumeSet } from './volumes';
import { WritableDevice, WritableSource } from './writable-device';

/** A block changed in this run: its bytes now, and where its blockref sits above it. */
interface Dirty {
  /** the blockref as the parent holds it now (data_off of the committed copy) */
  bref: Blockref;
  bytes: Uint8Array;
  parent: Dirty | null;
  /** index in the parent's table (the header's super-root blockset when parent is null) */
  slot: number;
  children: Map<number, Dirty>;
}

export interface WriteOpenOptions {
  purpose: string;
  /** open devices with this (the crash harness records through it) */
  opener?: (path: string) => WritableSource;
}

export interface CommitResult {
  tid: bigint;
  headerCopy: number;
  blocksWritten: number;
  freemapBlocksWritten: number;
}

export class WriteSession {
  readonly chains: ChainReader;
  readonly freemap: Freemap;
  /** the header this run started from */
  readonly base: VolumeHeader;
  private readonly roots = new Map<number, Dirty>();
  private readonly byOffset = new Map<bigint, Dirty>();
  private committed = false;

  private constructor(
    readonly vols: VolumeSet,
    private readonly devs: Map<string, WritableSource>,
  ) {
    this.chains = new ChainReader(vols);
    this.base = vols.header;
    this.freemap = Freemap.load(this.chains);
  }

  static async open(spec: string, opts: WriteOpenOptions): Promise<WriteSession> {
    await initXxh64();
    const devs = new Map<string, WritableSource>();
    const opener = (p: string): BlockSource => {
      const d = opts.opener ? opts.opener(p) : WritableDevice.open(p, { purpose: opts.purpose });
      devs.set(p, d);
      return d;
    };
    const vols = VolumeSet.open(spec, { opener });
    return new WriteSession(vols, devs);
  }

  /** The transaction id this run's commit will carry. */
  get tid(): bigint {
    return this.base.mirrorTid + 1n;
  }

  /** True when the last run's allocations may be missing from the freemap. */
  get needsRecovery(): boolean {
    return this.base.freemapTid < this.base.mirrorTid;
  }

  private device(off: bigint): { dev: WritableSource; local: bigint } {
    const v = this.vols.volumeAt(off);
    if (!v) throw new H2Error(`offset 0x${off.toString(16)} lies outside every volume`);
    return { dev: this.devs.get(v.path)!, local: off - v.offset };
  }

  private writeAt(off: bigint, bytes: Uint8Array): void {
    const { dev, local } = this.device(off);
    dev.write(local, bytes);
  }

  /**
   * The current bytes of the block a walk visited (modified in this run or as on the media),
   * for the caller to change and hand back to `modify`.
   */
  current(v: Visit): Uint8Array {
    return (this.byOffset.get(v.bref.dataOff)?.bytes ?? v.data).slice();
  }

  /** Replace the contents of the block `v` visited (same size); applied at the commit. */
  modify(v: Visit, bytes: Uint8Array): void {
    if (bytes.length !== brefBytes(v.bref)) throw new H2Error(`modify: ${bytes.length} bytes for a ${brefBytes(v.bref)}-byte block`);
    this.dirtyFor(v).bytes = bytes.slice();
  }

  private dirtyFor(v: Visit): Dirty {
    const known = this.byOffset.get(v.bref.dataOff);
    if (known) return known;
    const p = v.parent;
    if (!p || p.bref.type === BREF_TYPE_FREEMAP) throw new H2Error('modify: only blocks of the volume topology can be changed here');
    let d: Dirty;
    if (p.bref.type === BREF_TYPE_VOLUME) {
      d = { bref: v.bref, bytes: v.data.slice(), parent: null, slot: v.index, children: new Map() };
      this.roots.set(v.index, d);
    } else {
      const parent = this.dirtyFor(p);
      d = { bref: v.bref, bytes: v.data.slice(), parent, slot: v.index, children: new Map() };
      parent.children.set(v.index, d);
    }
    this.byOffset.set(v.bref.dataOff, d);
    return d;
  }

  /** Write a dirty subtree, children first; returns the blockref its parent must now hold. */
  private flushDirty(d: Dirty, stats: { blocks: number }): Blockref {
    for (const [slot, child] of d.children) {
      const ref = this.flushDirty(child, stats);
      const at = (d.bref.type === BREF_TYPE_INODE ? INODE_U_OFF : 0) + slot * BLOCKREF_BYTES;
      encodeBlockref(ref, d.bytes, at);
    }
    const bytes = d.bytes.length;
    const ref: Blockref = { ...d.bref, embed: d.bref.embed.slice(), check: d.bref.check.slice() };
    ref.dataOff = this.freemap.allocate(ref.type, bytes, ref.key);
    ref.mirrorTid = this.tid;
    ref.modifyTid = this.tid;
    setCheck(ref, d.bytes);
    this.writeAt(ref.dataOff & OFF_MASK, d.bytes);
    this.freemap.free(d.bref.dataOff);
    stats.blocks++;
    return ref;
  }

  /** Walk the volume topology (as committed plus this run's changes once committed). */
  walk(readData = false): Generator<Visit> {
    return walkTree(this.chains, headerRootBref(this.chains, BREF_TYPE_VOLUME), { readData });
  }

  /**
   * Recovery, as the kernel runs it at mount when freemap_tid < mirror_tid: every block newer
   * than freemap_tid is marked allocated in the freemap. Returns the number of blocks marked.
   */
  recover(): number {
    const since = this.base.freemapTid;
    let marked = 0;
    const visit = (v: Visit): void => {
      if (v.bref.mirrorTid > since && brefBytes(v.bref) > 0 && this.freemap.markAllocated(v.bref.dataOff, v.bref.type) > 0) marked++;
    };
    for (const v of walkTree(this.chains, headerRootBref(this.chains, BREF_TYPE_VOLUME), { readData: true })) {
      if (v.error) throw new H2Error(`recovery: ${v.error}`);
      if (v.bref.type !== BREF_TYPE_VOLUME) visit(v);
    }
    return marked;
  }

  /** The commit: the full flush and volume-header sync. */
  commit(): CommitResult {
    if (this.committed) throw new H2Error('a run commits once');
    this.committed = true;
    const tid = this.tid;
    const h = decodeVolumeHeader(this.base.raw);
    const stats = { blocks: 0 };

    // 1. new blocks, bottom-up, each parent's blockref updated, up to the header
    for (const [slot, d] of this.roots) h.srootBlockset[slot] = this.flushDirty(d, stats);
    // 2.
    this.fsyncAll();
    // 3. release what the old tree held and the new one does not, then the freemap
    if (this.freemap.hasPendingFrees) {
      const live = this.smallBlockGranules(h);
      this.freemap.applyFrees((g) => live.has(g));
    }
    const fm = this.freemap.flush(tid);
    for (const w of fm.writes) this.writeAt(w.offset, w.bytes);
    h.freemapBlockset = fm.blockset;
    h.freemapTid = tid;
    h.mirrorTid = tid;
    h.allocatorFree = this.base.allocatorFree + this.freemap.freeDelta;
    // The header must not reach the media before the blocks it points to, freemap included
    // (the kernel flushes the device before it writes the header).
    this.fsyncAll();
    // 4. the next header copy in rotation
    const next = nextHeaderCopy(this.vols.root.selection.best, h.voluSize);
    const bytes = sealVolumeHeader(h);
    this.writeAt(BigInt(next) * ZONE_BYTES, bytes.subarray(0, VOLUME_BYTES));
    // 5.
    this.fsyncAll();
    return { tid, headerCopy: next, blocksWritten: stats.blocks, freemapBlocksWritten: fm.writes.length };
  }

  /**
   * The 16 KiB granules holding blocks smaller than 16 KiB that the new tree still uses: a
   * freed small block only frees its granule when nothing else lives there.
   */
  private smallBlockGranules(h: VolumeHeader): Set<bigint> {
    const wanted = new Set(this.freemap.pendingSmallGranules());
    const live = new Set<bigint>();
    if (wanted.size === 0) return live;
    const chains = new ChainReader(this.vols);
    const root = { ...headerRootBref(chains, BREF_TYPE_VOLUME) };
    const saved = this.vols.root.header.srootBlockset;
    this.vols.root.header.srootBlockset = h.srootBlockset;
    try {
      for (const v of walkTree(chains, root, { readData: false })) {
        const n = brefBytes(v.bref);
        if (n === 0 || n >= FREEMAP_BLOCK_SIZE) continue;
        const g = (v.bref.dataOff & OFF_MASK) & ~BigInt(FREEMAP_BLOCK_SIZE - 1);
        if (wanted.has(g)) live.add(g);
      }
    } finally {
      this.vols.root.header.srootBlockset = saved;
    }
    return live;
  }

  private fsyncAll(): void {
    for (const d of this.devs.values()) d.fsync();
  }

  close(): void {
    this.vols.close();
  }
}

/**
 * The header copy a commit writes: the one after the copy in use, wrapping to 0 past the
 * fourth or when the copy's 4 MiB segment would not fit in the volume (as the kernel rotates).
 */
export function nextHeaderCopy(current: number, voluSize: bigint): number {
  let j = current + 1;
  if (j < 0 || j >= NUM_VOLHDRS) j = 0;
  if (BigInt(j) * ZONE_BYTES + SEGSIZE > voluSize) j = 0;
  return j;
}
