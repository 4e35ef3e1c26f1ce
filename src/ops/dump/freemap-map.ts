/**
 * The freemap as a map of 4 MiB segments, for `dump freemap --svg` and `reblock --svg`: each
 * segment's granules in use and its allocation class, gathered into at most `maxCells` cells
 * (k segments each, k a power of two) as the segments stream past, so that a device of many TiB
 * costs the cells and not a list of its segments.
 */
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BmapData,
  FREEMAP_COUNT,
  FREEMAP_LEVEL0_SIZE,
  FREEMAP_LEVEL1_SIZE,
  NUM_VOLHDRS,
  SEGMASK,
  ZONE_BYTES,
} from '../../format';
import { BLOCKS_PER_SEGMENT } from '../../format/freemap';
import { Freemap } from '../../engine/freemap';
import { FragScore, FragTally } from '../common/frag-score';

/** What a segment holds: the class its bitmap was allocated for, or why it is not allocatable. */
export type SegmentKind =
  | 'free'
  | 'inode'
  | 'indirect'
  | 'data'
  | 'dirent'
  | 'freemap'
  | 'header'
  | 'reserved'
  | 'unknown'
  /** a cell of several segments of different classes */
  | 'mixed'
  /** a dry run's planned reblock destination */
  | 'dest';

export interface SegmentInfo {
  seg: bigint;
  granules: number;
  kind: SegmentKind;
  /** false for the reserved segment of each GiB, the boot and aux areas and newfs's first blocks */
  allocatable: boolean;
}

/** Segments per 2 GiB zone: the width of a row. */
export const SEGMENTS_PER_ZONE = Number(ZONE_BYTES / FREEMAP_LEVEL0_SIZE);
/** More segments than this are drawn k to a cell. */
export const DEFAULT_MAX_CELLS = 8192;

function classKind(cls: number): SegmentKind {
  switch (cls >> 8) {
    case BREF_TYPE_INODE:
      return 'inode';
    case BREF_TYPE_INDIRECT:
      return 'indirect';
    case BREF_TYPE_DATA:
      return 'data';
    case BREF_TYPE_DIRENT:
      return 'dirent';
    case BREF_TYPE_FREEMAP_NODE:
    case BREF_TYPE_FREEMAP_LEAF:
      return 'freemap';
    default:
      return 'unknown';
  }
}

/** Why a segment below the allocatable start is reserved: a header copy's zone start, a freemap area, or the rest. */
function reservedKind(seg: bigint): SegmentKind {
  if (seg % ZONE_BYTES === 0n && seg < BigInt(NUM_VOLHDRS) * ZONE_BYTES) return 'header';
  if (seg % FREEMAP_LEVEL1_SIZE === 0n) return 'freemap';
  return 'reserved';
}

/** Non-free 2-bit states in a 32-bit half of a bitmap word. */
function usedPairs32(v: number): number {
  let x = (v | (v >>> 1)) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return (Math.imul(x, 0x01010101) >>> 24) & 0xff;
}

/** Granules of a segment in any state but free (the count reblock's segment fill uses). */
export function usedGranules(b: BmapData): number {
  let n = 0;
  for (const w of b.bitmapq) n += usedPairs32(Number(w & 0xffffffffn)) + usedPairs32(Number(w >> 32n));
  return n;
}

/** Every whole segment of the filesystem, in offset order (a segment without a leaf is free). */
export function* freemapSegments(fm: Freemap, totalSize: bigint): Generator<SegmentInfo> {
  const end = totalSize & ~SEGMASK;
  const leaves = fm.leaves();
  let li = 0;
  for (let key = 0n; key < end; key += FREEMAP_LEVEL1_SIZE) {
    while (li < leaves.length && leaves[li].key < key) li++;
    const leaf = li < leaves.length && leaves[li].key === key ? leaves[li] : null;
    const first = fm.lowestAllocatable(key);
    for (let i = 0; i < FREEMAP_COUNT; i++) {
      const seg = key + BigInt(i) * FREEMAP_LEVEL0_SIZE;
      if (seg >= end) return;
      const b = leaf ? leaf.bmaps[i] : null;
      const granules = b ? usedGranules(b) : 0;
      if (seg < first) yield { seg, granules, kind: reservedKind(seg), allocatable: false };
      else yield { seg, granules, kind: granules === 0 ? 'free' : classKind(b!.class), allocatable: true };
    }
  }
}

/**
 * The same segments with the fill a reblock plan expects (reblock's dry run): a segment that
 * empties becomes free, and one that fills from nothing is a planned destination.
 */
export function* plannedSegments(segs: Iterable<SegmentInfo>, after: ReadonlyMap<bigint, number>): Generator<SegmentInfo> {
  for (const s of segs) {
    if (!s.allocatable) {
      yield s;
      continue;
    }
    const g = after.get(s.seg) ?? s.granules;
    const kind: SegmentKind = g === 0 ? 'free' : s.granules === 0 ? 'dest' : s.kind;
    yield { ...s, granules: g, kind };
  }
}

export interface MapCell {
  /** first segment of the cell */
  seg: bigint;
  segments: number;
  /** used granules of the allocatable segments */
  used: number;
  /** granules of the allocatable segments (0: the cell is reserved space only) */
  capacity: number;
  kind: SegmentKind;
  /** the cell holds a segment reblock picked as a source */
  source: boolean;
}

export interface FreemapMap {
  totalSize: bigint;
  segments: number;
  /** segments per cell (a power of two) */
  perCell: number;
  /** cells per row: one 2 GiB zone's worth of segments, or fewer for a small device */
  perRow: number;
  /** zones per row (perCell when aggregated) */
  zonesPerRow: number;
  /** the most cells drawn one segment each */
  maxCells: number;
  cells: MapCell[];
  score: FragScore;
}

/** Segments per cell: 1 up to `maxCells` segments, else the smallest power of two that fits them. */
export function segmentsPerCell(segments: number, maxCells = DEFAULT_MAX_CELLS): number {
  let k = 1;
  while (Math.ceil(segments / k) > maxCells) k *= 2;
  return k;
}

/** Where one cell's classes are counted until the cell is complete. */
class CellBuilder {
  used = 0;
  capacity = 0;
  segments = 0;
  source = false;
  private weights = new Map<SegmentKind, number>();
  private reserved: SegmentKind | null = null;

  constructor(readonly seg: bigint) {}

  add(s: SegmentInfo, source: boolean): void {
    this.segments++;
    if (source) this.source = true;
    if (!s.allocatable) {
      // the header zone start outranks a freemap area, which outranks the rest
      if (this.reserved === null || s.kind === 'header' || (s.kind === 'freemap' && this.reserved === 'reserved')) this.reserved = s.kind;
      return;
    }
    this.capacity += BLOCKS_PER_SEGMENT;
    this.used += s.granules;
    if (s.granules > 0) this.weights.set(s.kind, (this.weights.get(s.kind) ?? 0) + s.granules);
  }

  cell(): MapCell {
    let kind: SegmentKind = this.capacity === 0 ? this.reserved ?? 'reserved' : 'free';
    let top = 0;
    for (const [k, w] of this.weights) {
      if (w > top) {
        top = w;
        kind = k;
      }
    }
    // a cell whose leading class holds less than two thirds of its use is drawn as mixed
    if (this.weights.size > 1 && top * 3 < this.used * 2) kind = 'mixed';
    return { seg: this.seg, segments: this.segments, used: this.used, capacity: this.capacity, kind, source: this.source };
  }
}

export interface MapOptions {
  maxCells?: number;
  /** segments reblock picked as sources, flagged on their cells */
  sources?: ReadonlySet<bigint>;
}

/** Gathers the segments (in offset order, every whole segment of the device) into cells and the score. */
export function buildFreemapMap(totalSize: bigint, segs: Iterable<SegmentInfo>, opts: MapOptions = {}): FreemapMap {
  const segments = Number(totalSize / FREEMAP_LEVEL0_SIZE);
  const maxCells = opts.maxCells ?? DEFAULT_MAX_CELLS;
  const perCell = segmentsPerCell(segments, maxCells);
  const cellBytes = BigInt(perCell) * FREEMAP_LEVEL0_SIZE;
  const tally = new FragTally();
  const cells: MapCell[] = [];
  let cur: CellBuilder | null = null;
  for (const s of segs) {
    if (s.allocatable) tally.add(s.granules);
    if (cur === null || s.seg >= cur.seg + cellBytes) {
      if (cur) cells.push(cur.cell());
      cur = new CellBuilder(s.seg - (s.seg % cellBytes));
    }
    cur.add(s, opts.sources?.has(s.seg) ?? false);
  }
  if (cur) cells.push(cur.cell());
  return {
    totalSize,
    segments,
    perCell,
    perRow: Math.min(SEGMENTS_PER_ZONE, Math.max(1, Math.ceil(segments / perCell))),
    zonesPerRow: perCell,
    maxCells,
    cells,
    score: tally.result(),
  };
}

/** The map of a loaded freemap. */
export function freemapMap(fm: Freemap, totalSize: bigint, opts: MapOptions = {}): FreemapMap {
  return buildFreemapMap(totalSize, freemapSegments(fm, totalSize), opts);
}
