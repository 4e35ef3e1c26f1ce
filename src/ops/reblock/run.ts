/**
 * Offline reblocking of a HAMMER2 filesystem, modelled on the HAMMER (v1) reblocker.
 *
 * A block moves when its 4 MiB segment is a source (see plan.ts). Leaf blocks (file data, the
 * name blocks of long directory entries) are copied as they are to a dense destination and their
 * parent's blockref is pointed there: data_off changes, the check code does not (the bytes are
 * the same), mirror_tid becomes the run's. Inodes and indirect blocks move by copy-on-write: they
 * are marked modified, and the commit writes them, and every parent up to the super-root, to the
 * destination. Old blocks are released at the commit, so a source left empty becomes free then.
 *
 * A block referenced from more than one place moves for every reference or not at all: a shared
 * leaf is copied once and every reference repointed; shared metadata (snapshots) stays.
 *
 * Runs commit in batches. A time limit is looked at after each commit only, and the batches
 * fall at the same places whether or not a run was interrupted, so --time-limit followed by
 * --resume lays the blocks out exactly as one uninterrupted run.
 */
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  FREEMAP_BLOCK_SIZE,
  OFF_MASK,
  SEGMASK,
} from '../../format/constants';
import { Blockref, brefBytes, brefRadix, makeDataOff } from '../../format/blockref';
import { decodeInode, inodeNameBytes } from '../../format/inode';
import { H2Error, MediaError } from '../../engine/errors';
import { Visit, headerRootBref, walkTree } from '../../engine/walk';
import { WritableDevice, WritableSource } from '../../engine/writable-device';
import { GatherSource } from './gather-source';
import { WriteSession } from '../../engine/write-session';
import { WriteRun } from '../../engine/write-run';
import { UndoLog, UndoOptions } from '../../engine/undo-log';
import { GranuleUsers, countGranules, requireSoundTopology } from '../../engine/verify';
import { Chain } from '../../engine/chain-tree';
import { Freemap } from '../../engine/freemap';
import {
  GRANULES_PER_SEGMENT,
  ITEM_TYPES,
  ItemType,
  PlanState,
  SEGMENT_BYTES,
  SegmentFill,
  decodeResumeKey,
  encodeResumeKey,
  histogram,
  planSources,
} from './plan';

export interface ReblockOptions {
  fillLevel: number;
  types: ReadonlySet<ItemType>;
  pfs?: string;
  /** inclusive inode-number range: only these inodes and the blocks of their trees */
  inums?: [bigint, bigint];
  timeLimitMs?: number;
  resume?: string;
  commitEveryBytes: bigint;
  /** free space (in fully free segments) never used as destination */
  reserveBytes: bigint;
  dryRun: boolean;
  opener?: (path: string) => WritableSource;
  /** --undo: save what the run overwrites first */
  undo?: UndoOptions | UndoLog;
  progress?: (movedBytes: bigint, plannedBytes: bigint) => void;
  /** milliseconds since some epoch (tests replace the clock) */
  now?: () => number;
  /** sees the plan and the segment fill before and after (expected, for a dry run) as the report is made */
  observe?: (plan: PlanState, before: SegmentFill[], after: SegmentFill[]) => void;
}

export interface Counter {
  seen: number;
  moved: number;
}

export interface ReblockReport {
  dryRun: boolean;
  fillLevel: number;
  segments: number;
  histogramBefore: number[];
  histogramAfter: number[];
  sources: number;
  /** blocks and bytes in source segments that are in scope (what would move) */
  plannedBlocks: number;
  plannedBytes: bigint;
  counters: Record<ItemType, Counter>;
  bytesMoved: bigint;
  sharedSkipped: number;
  commits: number;
  /** segments partly filled, before and after */
  partialBefore: number;
  partialAfter: number;
  /** bytes in fully free segments, before and after */
  freeSegmentBytesBefore: bigint;
  freeSegmentBytesAfter: bigint;
  segmentsFreed: number;
  /** blocks the mount-time recovery marked allocated before the run (committed with its first batch) */
  recovered: number;
  /** set when the run stopped before the end: pass it to --resume */
  resumeKey: string | null;
  stopped: 'time-limit' | 'space' | null;
}

const typeOf = (b: Blockref): ItemType | null => {
  switch (b.type) {
    case BREF_TYPE_DATA:
      return 'data';
    case BREF_TYPE_INODE:
      return 'inodes';
    case BREF_TYPE_DIRENT:
      return 'dirents';
    case BREF_TYPE_INDIRECT:
      return 'indirect';
    default:
      return null;
  }
};

const segOf = (dataOff: bigint): bigint => dataOff & OFF_MASK & ~SEGMASK;

/** Segments that held something before and nothing after. */
function freedBetween(before: SegmentFill[], after: SegmentFill[]): number {
  const now = new Map(after.map((a) => [a.seg, a.granules]));
  return before.filter((b) => b.granules > 0 && (now.get(b.seg) ?? 0) === 0).length;
}

/**
 * A dry run's expected fill: sources whose every allocated granule belongs to a planned block
 * become free, and the planned bytes fill free segments densely, the last one in part.
 */
function expectedAfter(before: SegmentFill[], list: Candidate[], plan: PlanState, plannedBytes: bigint): SegmentFill[] {
  const planned = new Map<bigint, number>();
  for (const c of list) planned.set(segOf(c.off), (planned.get(segOf(c.off)) ?? 0) + Math.max(1, c.bytes / FREEMAP_BLOCK_SIZE));
  const after = before.map((b) => ({ seg: b.seg, granules: (planned.get(b.seg) ?? -1) >= b.granules ? 0 : b.granules }));
  const sources = new Set(plan.sources);
  let left = Number((plannedBytes + BigInt(FREEMAP_BLOCK_SIZE) - 1n) / BigInt(FREEMAP_BLOCK_SIZE));
  for (const a of after) {
    if (left <= 0) break;
    if (a.granules !== 0 || sources.has(a.seg) || a.seg === plan.frontier) continue;
    a.granules = Math.min(GRANULES_PER_SEGMENT, left);
    left -= a.granules;
  }
  return after;
}

function figures(segs: SegmentFill[]): { partial: number; freeBytes: bigint } {
  let partial = 0;
  let free = 0n;
  for (const s of segs) {
    if (s.granules === 0) free += SEGMENT_BYTES;
    else if (s.granules < GRANULES_PER_SEGMENT) partial++;
  }
  return { partial, freeBytes: free };
}

/**
 * Dense placement in free segments, ascending, never in a source or the frontier.
 *
 * The segment being filled is the last destination, never the segment the cursor points into:
 * a destination packed to its very end leaves the cursor on the first byte of whatever follows
 * on disk, which is nobody's to fill.
 */
class Placer {
  private free: bigint[];
  constructor(
    private readonly fm: Freemap,
    private readonly plan: PlanState,
    segs: SegmentFill[],
    private readonly reserve: bigint,
  ) {
    const excluded = new Set<bigint>([...plan.sources, ...(plan.frontier === null ? [] : [plan.frontier]), ...plan.dests]);
    const floor = plan.dests.length ? plan.dests[plan.dests.length - 1] : -1n;
    const space = fm.space;
    this.free = segs
      .filter((s) => s.granules === 0 && !excluded.has(s.seg) && s.seg > floor && (space === null || space.segmentUntouched(s.seg)))
      .map((s) => s.seg);
  }

  /** The end of the destination being filled (null before the first). */
  private get destEnd(): bigint | null {
    const d = this.plan.dests;
    return d.length === 0 || this.plan.cursor === null ? null : d[d.length - 1] + SEGMENT_BYTES;
  }

  /** Bytes still placeable without touching the reserve. */
  room(): bigint {
    const end = this.destEnd;
    const inCursor = end === null ? 0n : end - this.plan.cursor!;
    const whole = BigInt(this.free.length) * SEGMENT_BYTES - this.reserve;
    return inCursor + (whole > 0n ? whole : 0n);
  }

  /**
   * Blocks are naturally aligned (none may cross a 64 KiB device buffer), so a larger block can
   * leave a hole behind the cursor; later smaller blocks fill such holes first.
   */
  place(type: number, bytes: number): bigint | null {
    const size = BigInt(bytes);
    // A place the freemap or the run's space rule refuses (taken since a resume key was made,
    // say) is given up, never written.
    const claim = (at: bigint): bigint | null => {
      const dataOff = makeDataOff(at, Math.log2(bytes));
      return this.fm.claim(dataOff, type) ? dataOff : null;
    };
    const gaps = this.plan.gaps;
    for (let i = 0; i < gaps.length; i++) {
      const [start, end] = gaps[i];
      const at = (start + size - 1n) & ~(size - 1n);
      if (at + size > end) continue;
      const pieces: [bigint, bigint][] = [];
      if (at > start) pieces.push([start, at]);
      if (at + size < end) pieces.push([at + size, end]);
      gaps.splice(i, 1, ...pieces);
      const got = claim(at);
      if (got !== null) return got;
      i += pieces.length - 1;
    }
    for (;;) {
      const cur = this.plan.cursor;
      const end = this.destEnd;
      if (cur !== null && end !== null) {
        const at = (cur + size - 1n) & ~(size - 1n);
        if (at + size <= end) {
          if (at > cur) gaps.push([cur, at]);
          this.plan.cursor = at + size;
          const got = claim(at);
          if (got !== null) return got;
          continue;
        }
        // the rest of this segment stays a hole for small blocks
        if (cur < end) gaps.push([cur, end]);
      }
      // the next free segment, while the reserve allows
      if (BigInt(this.free.length) * SEGMENT_BYTES <= this.reserve) return null;
      const next = this.free.shift()!;
      this.plan.dests.push(next);
      this.plan.cursor = next;
    }
  }
}

interface Candidate {
  off: bigint;
  type: ItemType;
  bytes: number;
  /** every reference to the block (visits of the committed tree) */
  refs: Visit[];
}

/** The blocks to move, in walk order (per PFS, per inode, by key), and the counters of what was seen. */
class Candidates {
  private readonly sources: Set<bigint>;
  private readonly byOff = new Map<bigint, Candidate>();
  private readonly order: Candidate[] = [];
  private readonly outOfScope = new Set<bigint>();
  private pfsNames: Map<bigint, string> | null = null;

  constructor(
    plan: PlanState,
    private readonly opts: ReblockOptions,
    private readonly counters: Record<ItemType, Counter>,
    private readonly count: boolean,
  ) {
    this.sources = new Set(plan.sources);
  }

  /** One visit of a walk of the committed tree. */
  visit(v: Visit): void {
    const b = v.bref;
    if (b.type === BREF_TYPE_VOLUME || brefRadix(b) === 0) return;
    const type = typeOf(b);
    if (!type) return;
    const inodes = v.path.filter((p) => p.type === BREF_TYPE_INODE);
    if (inodes.length === 1 && b.type === BREF_TYPE_INODE && v.data.length) {
      this.pfsNames ??= new Map();
      this.pfsNames.set(b.key, pfsNameOf(v));
    }
    const inScope = scoped(v, inodes, this.opts, this.pfsNames);
    if (this.count && inScope) this.counters[type].seen++;
    const off = b.dataOff & OFF_MASK;
    if (!this.sources.has(segOf(off))) return;
    if (!inScope || !this.opts.types.has(type)) {
      this.outOfScope.add(off);
      return;
    }
    const had = this.byOff.get(off);
    if (had) {
      had.refs.push(v);
      return;
    }
    const c: Candidate = { off, type, bytes: brefBytes(b), refs: [v] };
    this.byOff.set(off, c);
    this.order.push(c);
  }

  result(): { list: Candidate[]; shared: number } {
    let shared = 0;
    const list = this.order.filter((c) => {
      const leaf = c.type === 'data' || c.type === 'dirents';
      const whole = !this.outOfScope.has(c.off);
      // a shared leaf moves for all its references; shared metadata stays (snapshots share it)
      if (!whole || (c.refs.length > 1 && !leaf)) {
        shared++;
        return false;
      }
      return true;
    });
    return { list, shared };
  }
}

/**
 * The candidates of a later batch: a walk of the tree the last commit left, which also counts
 * the granules' users for the batch's commit.
 */
function candidates(s: WriteSession, plan: PlanState, opts: ReblockOptions, counters: Record<ItemType, Counter>, users: GranuleUsers): { list: Candidate[]; shared: number } {
  const c = new Candidates(plan, opts, counters, false);
  for (const v of walkTree(s.chains, headerRootBref(s.chains, BREF_TYPE_VOLUME), { readData: false })) {
    c.visit(v);
    if (v.bref.type !== BREF_TYPE_VOLUME) countGranules(users, v.bref.dataOff, brefBytes(v.bref));
  }
  return c.result();
}

function pfsNameOf(v: Visit): string {
  return Buffer.from(inodeNameBytes(decodeInode(v.data))).toString('utf8');
}

function scoped(v: Visit, inodes: Blockref[], opts: ReblockOptions, names: Map<bigint, string> | null): boolean {
  const b = v.bref;
  // the super-root and the PFS inodes themselves: only in a run without --pfs / --inums
  if (inodes.length < 2) return opts.pfs === undefined && opts.inums === undefined;
  if (opts.pfs !== undefined && names?.get(inodes[1].key) !== opts.pfs) return false;
  if (opts.inums) {
    const [lo, hi] = opts.inums;
    // an inode of the index, or a block of one inode's tree
    const inum = inodes.length >= 3 ? inodes[2].key : b.type === BREF_TYPE_INODE ? b.key : null;
    if (inum === null || inum < lo || inum > hi) return false;
  }
  return true;
}

function emptyCounters(): Record<ItemType, Counter> {
  return Object.fromEntries(ITEM_TYPES.map((t) => [t, { seen: 0, moved: 0 }])) as Record<ItemType, Counter>;
}

/** The chain holding `v`'s blockref in its table (the volume root for the super-root). */
function parentChain(s: WriteSession, v: Visit): Chain {
  return v.parent!.bref.type === BREF_TYPE_VOLUME ? s.tree.root : s.chainOf(v.parent!);
}

export async function runReblock(spec: string, opts: ReblockOptions): Promise<ReblockReport> {
  const now = opts.now ?? (() => Date.now());
  const started = now();
  const counters = emptyCounters();
  let plan: PlanState;
  let before: SegmentFill[];
  const opener = (p: string): WritableSource => new GatherSource(opts.opener ? opts.opener(p) : WritableDevice.open(p, { purpose: 'reblock' }));
  const run = await WriteRun.open(spec, { purpose: 'reblock', opener, undo: opts.dryRun ? undefined : opts.undo });
  let s: WriteSession;
  try {
    s = run.session();
  } catch (e) {
    run.close();
    throw e;
  }
  const recovered = s.recovered;
  let after: SegmentFill[] = [];
  let plannedBlocks = 0;
  let plannedBytes = 0n;
  let bytesMoved = 0n;
  let sharedSkipped = 0;
  let commits = 0;
  let stopped: ReblockReport['stopped'] = null;
  const report = (): ReblockReport => ({
    dryRun: opts.dryRun,
    fillLevel: plan.fillLevel,
    segments: before.length,
    histogramBefore: histogram(before),
    histogramAfter: histogram(after),
    sources: plan.sources.length,
    plannedBlocks,
    plannedBytes,
    counters,
    bytesMoved,
    sharedSkipped,
    commits,
    partialBefore: figures(before).partial,
    partialAfter: figures(after).partial,
    freeSegmentBytesBefore: figures(before).freeBytes,
    freeSegmentBytesAfter: figures(after).freeBytes,
    segmentsFreed: freedBetween(before, after),
    recovered,
    resumeKey: stopped ? encodeResumeKey(plan) : null,
    stopped,
  });
  try {
    // The sources come from the freemap as it stands, so the soundness walk can also collect
    // the first batch's candidates: one walk of the tree instead of two.
    before = s.freemap.segmentUsage();
    if (opts.resume) {
      plan = decodeResumeKey(opts.resume);
      if (plan.fillLevel !== opts.fillLevel) throw new H2Error(`--resume: the key was made with --fill-level ${plan.fillLevel}`, 2);
    } else {
      const p = planSources(before, opts.fillLevel);
      plan = { fillLevel: opts.fillLevel, sources: p.sources, frontier: p.frontier, dests: [], cursor: null, gaps: [] };
    }
    const collect = new Candidates(plan, opts, counters, true);
    // the commit learns from these which freed granules stay live without walking the new tree
    let users: GranuleUsers = new Map();
    requireSoundTopology(s.chains, s.freemap, spec, (v) => collect.visit(v), users);
    const first = collect.result();
    plannedBlocks = first.list.length;
    plannedBytes = first.list.reduce((n, c) => n + BigInt(c.bytes), 0n);
    sharedSkipped = first.shared;
    if (opts.dryRun) {
      after = expectedAfter(before, first.list, plan, plannedBytes);
      opts.observe?.(plan, before, after);
      return report();
    }
    let list = first.list;
    for (;;) {
      // the plan as of the last commit: a batch that cannot finish leaves it as it was
      const saved = { dests: [...plan.dests], cursor: plan.cursor, gaps: plan.gaps.map((g) => [...g] as [bigint, bigint]) };
      const placer = new Placer(s.freemap, plan, s.freemap.segmentUsage(), opts.reserveBytes);
      s.freemap.placement = (type, bytes) => {
        const off = placer.place(type, bytes);
        if (off === null) throw new NoRoom();
        return off;
      };
      let batch = 0n;
      let rest = list.length;
      const moved = emptyCounters();
      const src = new SourceReader(s, list);
      const parents = new Map<Visit, Chain>();
      try {
        for (let i = 0; i < list.length; i++) {
          const c = list[i];
          if (batch >= opts.commitEveryBytes) break;
          // keep room for this block and the parents its move rewrites
          if (placer.room() < BigInt(c.bytes) * 4n + PARENT_ROOM) throw new NoRoom();
          move(s, src, parents, list, i);
          moved[c.type].moved++;
          batch += BigInt(c.bytes);
          rest--;
          opts.progress?.(bytesMoved + batch, plannedBytes);
        }
        if (batch > 0n || s.recovered > 0) {
          s.commit({ granuleUsers: users });
          commits++;
        }
      } catch (e) {
        if (!(e instanceof NoRoom)) throw e;
        // the batch is dropped with its session: the last commit stands, and so does the plan
        plan.dests = saved.dests;
        plan.cursor = saved.cursor;
        plan.gaps = saved.gaps;
        stopped = 'space';
        s.close();
        s = run.session();
        break;
      }
      for (const t of ITEM_TYPES) counters[t].moved += moved[t].moved;
      bytesMoved += batch;
      if (rest === 0 || batch === 0n) break;
      s.close();
      s = run.session();
      if (opts.timeLimitMs !== undefined && now() - started >= opts.timeLimitMs) {
        stopped = 'time-limit';
        break;
      }
      users = new Map();
      list = candidates(s, plan, opts, counters, users).list;
      if (list.length === 0) break;
    }
    after = s.freemap.segmentUsage();
    opts.observe?.(plan, before, after);
    return report();
  } finally {
    s.close();
    run.close();
  }
}

class NoRoom extends Error {}

/**
 * The leaves a batch copies, read ahead in disk order: a window of the next candidates (in walk
 * order) is sorted by source offset and read in runs of adjacent blocks, one read per run
 * instead of one per block. Runs stay inside one 4 MiB segment, so never cross a volume.
 */
class SourceReader {
  private readonly ready = new Map<bigint, Uint8Array>();
  private next = 0;

  constructor(
    private readonly s: WriteSession,
    private readonly list: Candidate[],
  ) {}

  /** The physical bytes of `list[i]`, a leaf. */
  bytesOf(i: number): Uint8Array {
    const c = this.list[i];
    if (!this.ready.has(c.off)) this.readAhead(i);
    const got = this.ready.get(c.off);
    if (!got) return this.s.chains.readPhysical(c.refs[0].bref);
    this.ready.delete(c.off);
    return got;
  }

  private readAhead(from: number): void {
    this.ready.clear();
    const window: Candidate[] = [];
    let bytes = 0;
    for (let i = Math.max(from, this.next); i < this.list.length && bytes < READ_AHEAD_BYTES; i++) {
      const c = this.list[i];
      this.next = i + 1;
      if (c.type !== 'data' && c.type !== 'dirents') continue;
      window.push(c);
      bytes += c.bytes;
    }
    window.sort((a, b) => (a.off < b.off ? -1 : a.off > b.off ? 1 : 0));
    for (let i = 0; i < window.length; ) {
      let j = i + 1;
      let end = window[i].off + BigInt(window[i].bytes);
      while (j < window.length && window[j].off === end && segOf(end) === segOf(window[i].off)) {
        end += BigInt(window[j].bytes);
        j++;
      }
      const at = window[i].off;
      const run = this.s.vols.read(at, Number(end - at));
      if (run.length !== Number(end - at)) throw new MediaError(`short read of ${end - at} bytes at 0x${at.toString(16)}`);
      for (let k = i; k < j; k++) {
        const o = Number(window[k].off - at);
        this.ready.set(window[k].off, run.subarray(o, o + window[k].bytes));
      }
      i = j;
    }
  }
}

/** Leaf bytes read ahead at a time. */
const READ_AHEAD_BYTES = 16 << 20;


/** Room kept for the parents a batch rewrites (inodes and indirect blocks up to the root). */
const PARENT_ROOM = 1n << 20n;

/** Move one block (every reference to it). */
function move(s: WriteSession, src: SourceReader, parents: Map<Visit, Chain>, list: Candidate[], i: number): void {
  const c = list[i];
  const first = c.refs[0];
  if (c.type === 'inodes' || c.type === 'indirect') {
    // copy-on-write: the commit writes it, and its parents, to the destination
    s.tree.setDirty(s.chainOf(first));
    return;
  }
  const bytes = src.bytesOf(i);
  const to = s.freemap.allocate(first.bref.type, bytes.length, first.bref.key);
  // the run's device gathers these dense writes into large ones (gather-source.ts)
  s.writeBlock(to, bytes);
  for (const v of c.refs) {
    // siblings share their parent's visit: find its chain once, not from the root for each
    let p = parents.get(v.parent!);
    if (!p) {
      p = parentChain(s, v);
      parents.set(v.parent!, p);
    }
    s.tree.editSlot(p, v.index, (b) => {
      b.dataOff = to;
      b.mirrorTid = s.tid;
    });
  }
  s.freemap.free(first.bref.dataOff);
}
