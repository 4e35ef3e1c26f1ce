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
  BREF_TYPE_VOLUME,
  FREEMAP_BLOCK_SIZE,
  NUM_VOLHDRS,
  SEGSIZE,
  OFF_MASK,
  VOLUME_BYTES,
  VolumeHeader,
  ZONE_BYTES,
  allocatableBytes,
  brefBytes,
  decodeInode,
  decodeVolumeHeader,
  encodeInode,
  sealVolumeHeader,
} from '../format';
import { ChainReader } from './chain';
import { Chain, ChainTree } from './chain-tree';
import { H2Error } from './errors';
import { Freemap } from './freemap';
import { liveAfterDiff } from './granule-users';
import { GranuleUsers } from './verify';
import { Visit, headerRootBref, walkTree } from './walk';
import { VolumeSet } from './volumes';
import { WritableSource } from './writable-device';
import { WriteRun } from './write-run';
import { UndoLog, UndoOptions } from './undo-log';

export interface WriteOpenOptions {
  purpose: string;
  /** open devices with this (the crash harness records through it) */
  opener?: (path: string) => WritableSource;
  /** start from an empty freemap instead of loading it (fsck rebuilds an unreadable one) */
  freshFreemap?: boolean;
  /** save what the run overwrites to this undo file first */
  undo?: UndoOptions | UndoLog;
}

export interface SessionOptions {
  /** start from an empty freemap instead of loading it (fsck rebuilds an unreadable one) */
  freshFreemap?: boolean;
}

export interface CommitOptions {
  /**
   * Set allocator_free from the freemap itself (the allocatable space less the allocated
   * granules) instead of moving it by this run's changes: fsck's repair of a wrong value.
   */
  exactAllocatorFree?: boolean;
  /**
   * The granule user counts of the tree this session started from (every visit of a walk of
   * it, see requireSoundTopology). With them the live check of the freed granules diffs the new
   * tree against the old one instead of walking all of it. Wrong counts free live space: only
   * counts of exactly `base`'s tree may be passed.
   */
  granuleUsers?: GranuleUsers;
}

export interface CommitResult {
  tid: bigint;
  headerCopy: number;
  /** allocator_free as committed */
  allocatorFree: bigint;
  blocksWritten: number;
  freemapBlocksWritten: number;
}

export class WriteSession {
  readonly chains: ChainReader;
  readonly freemap: Freemap;
  /** the header this session started from */
  readonly base: VolumeHeader;
  /** the topology as this session changes it */
  readonly tree: ChainTree;
  /** blocks the mount-time recovery marked allocated when the session opened (0: none needed) */
  readonly recovered: number;
  private committed = false;
  /** a session opened by WriteSession.open owns its run and ends it on close */
  private ownsRun = false;

  constructor(
    readonly run: WriteRun,
    readonly vols: VolumeSet,
    opts: SessionOptions = {},
  ) {
    this.chains = new ChainReader(vols);
    this.base = vols.header;
    const fresh = opts.freshFreemap ?? false;
    this.freemap = fresh ? Freemap.empty(this.chains) : Freemap.load(this.chains);
    this.freemap.space = run.space;
    this.tree = new ChainTree(this.chains, this.base.srootBlockset);
    // As the kernel does at mount: the blocks of the last commits the freemap does not know of
    // yet are marked before anything is allocated; the commit makes that durable.
    this.recovered = !fresh && this.needsRecovery ? this.recover() : 0;
  }

  /** A run of one session: open the devices, read the volume set, and start. */
  static async open(spec: string, opts: WriteOpenOptions): Promise<WriteSession> {
    const run = await WriteRun.open(spec, { purpose: opts.purpose, opener: opts.opener, undo: opts.undo });
    try {
      const s = run.session({ freshFreemap: opts.freshFreemap });
      s.ownsRun = true;
      return s;
    } catch (e) {
      run.close();
      throw e;
    }
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
    return { dev: this.run.device(v.path), local: off - v.offset };
  }

  /** Write a finished chain now and keep only its blockref; see ChainTree.writeOut. */
  writeOut(c: Chain): void {
    this.tree.writeOut(c, this.freemap, this.tid, (off, bytes) => this.writeAt(off, bytes));
  }

  /** Put a new leaf block (file data) on the media now; see Chain.preWritten. */
  writeLeaf(c: Chain): void {
    this.tree.writeLeafNow(c, this.freemap, this.tid, (off, bytes) => this.writeAt(off, bytes));
  }

  /** Put bytes at a logical offset this run allocated (a block copied as it is). */
  writeBlock(off: bigint, bytes: Uint8Array): void {
    this.writeAt(off & OFF_MASK, bytes);
  }

  private writeAt(off: bigint, bytes: Uint8Array): void {
    const { dev, local } = this.device(off);
    dev.write(local, bytes);
  }

  /** The chain of a block a walk of the committed tree visited (before any insert or delete). */
  chainOf(v: Visit): Chain {
    const steps: Visit[] = [];
    for (let p: Visit | null = v; p && p.bref.type !== BREF_TYPE_VOLUME; p = p.parent) steps.unshift(p);
    if (steps.length === 0 || steps[0].parent?.bref.type !== BREF_TYPE_VOLUME) {
      throw new H2Error('only blocks of the volume topology can be changed here');
    }
    let c = this.tree.root;
    for (const st of steps) c = this.tree.child(c, st.index);
    return c;
  }

  /** The current bytes of an inode a walk visited, for the caller to change and hand to `modify`. */
  current(v: Visit): Uint8Array {
    const c = this.chainOf(v);
    if (!c.inode) throw new H2Error('current: only inodes can be edited this way');
    if (c.table) c.inode.blockset = c.table.map((s) => s.bref);
    return encodeInode(c.inode);
  }

  /** Replace an inode's contents (its meta and name; its blockset stays the tree's). */
  modify(v: Visit, bytes: Uint8Array): void {
    const c = this.chainOf(v);
    if (!c.inode) throw new H2Error('modify: only inodes can be edited this way');
    const ino = decodeInode(bytes);
    if (c.table) ino.blockset = c.table.map((s) => s.bref);
    c.inode = ino;
    this.tree.setDirty(c);
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
    // Blocks that cannot be read are skipped with what lies below them: fsck reports those.
    return this.markReachable((v) => v.bref.mirrorTid > since, false);
  }

  /**
   * Mark every block the topology references allocated (a freemap rebuilt from scratch, after
   * `freshFreemap`). Blocks that cannot be read are skipped with their subtrees. Returns the
   * number of blocks that were free (small blocks sharing a granule count once).
   */
  rebuildFreemap(): number {
    return this.markReachable(() => true, false);
  }

  /** Mark allocated the blocks of the committed topology that `wanted` picks; returns how many were free. */
  private markReachable(wanted: (v: Visit) => boolean, readData: boolean): number {
    let marked = 0;
    for (const v of walkTree(this.chains, headerRootBref(this.chains, BREF_TYPE_VOLUME), { readData })) {
      if (v.bref.type === BREF_TYPE_VOLUME || !wanted(v) || brefBytes(v.bref) === 0) continue;
      if (this.freemap.markAllocated(v.bref.dataOff, v.bref.type) > 0) marked++;
    }
    return marked;
  }

  /** The commit: the full flush and volume-header sync. */
  commit(opts: CommitOptions = {}): CommitResult {
    if (this.committed) throw new H2Error('a run commits once');
    this.committed = true;
    const tid = this.tid;
    const h = decodeVolumeHeader(this.base.raw);
    const stats = { blocks: 0 };

    // 1. new blocks, bottom-up, each parent's blockref updated, up to the header
    h.srootBlockset = this.tree.flush(tid, this.freemap, (off, bytes) => {
      this.writeAt(off, bytes);
      stats.blocks++;
    });
    // 2.
    this.fsyncAll();
    // 3. release what the old tree held and the new one does not, then the freemap
    if (this.freemap.hasPendingFrees) {
      const live = opts.granuleUsers
        ? liveAfterDiff(new ChainReader(this.vols), this.base.srootBlockset, h.srootBlockset, opts.granuleUsers, new Set(this.freemap.pendingGranules()))
        : this.liveGranules(h);
      this.freemap.applyFrees((g) => live.has(g));
    }
    const fm = this.freemap.flush(tid);
    for (const w of fm.writes) this.writeAt(w.offset, w.bytes);
    h.freemapBlockset = fm.blockset;
    h.freemapTid = tid;
    h.mirrorTid = tid;
    h.allocatorFree = opts.exactAllocatorFree
      ? allocatableBytes(h, this.vols.totalSize) - this.freemap.allocatedBytes()
      : this.base.allocatorFree + this.freemap.freeDelta;
    // The header must not reach the media before the blocks it points to, freemap included
    // (the kernel flushes the device before it writes the header).
    this.fsyncAll();
    // 4. the next header copy in rotation
    const next = nextHeaderCopy(this.vols.root.selection.best, h.voluSize);
    const bytes = sealVolumeHeader(h);
    this.run.space.armHeader(BigInt(next) * ZONE_BYTES);
    this.writeAt(BigInt(next) * ZONE_BYTES, bytes.subarray(0, VOLUME_BYTES));
    this.run.space.headerWritten(next, this.freemap.blockOffsets());
    // 5.
    this.fsyncAll();
    return { tid, headerCopy: next, allocatorFree: h.allocatorFree, blocksWritten: stats.blocks, freemapBlocksWritten: fm.writes.length };
  }

  /**
   * The 16 KiB granules that pending frees touch and the new tree still uses. A freed block
   * frees its granules only when nothing else lives there: a smaller block sharing the granule,
   * or another reference to the same block (snapshots share whole subtrees, and the kernel's
   * dedup makes files share data blocks), which copy-on-write of one reference must not free.
   */
  private liveGranules(h: VolumeHeader): Set<bigint> {
    const wanted = new Set(this.freemap.pendingGranules());
    const live = new Set<bigint>();
    if (wanted.size === 0) return live;
    const chains = new ChainReader(this.vols);
    const root = headerRootBref(chains, BREF_TYPE_VOLUME);
    const granule = BigInt(FREEMAP_BLOCK_SIZE);
    for (const v of walkTree(chains, root, { readData: false, srootBlockset: h.srootBlockset })) {
      const n = brefBytes(v.bref);
      if (n === 0 || v.bref.type === BREF_TYPE_VOLUME) continue;
      const off = v.bref.dataOff & OFF_MASK;
      for (let g = off & ~(granule - 1n); g < off + BigInt(n); g += granule) if (wanted.has(g)) live.add(g);
    }
    return live;
  }

  private fsyncAll(): void {
    for (const v of this.vols.volumes) if (v) this.run.device(v.path).fsync();
  }

  close(): void {
    this.vols.close();
    if (this.ownsRun) this.run.close();
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
