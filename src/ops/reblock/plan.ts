/**
 * The reblocker's plan, after HAMMER's: which 4 MiB segments are sources (less full than the
 * fill level), which are never touched (the allocation frontier), where moved blocks go (fully
 * free segments, in ascending order, packed densely), and the resume key that freezes all of it
 * so that an interrupted run ends exactly as an uninterrupted one.
 */
import * as pako from 'pako';
import { FREEMAP_LEVEL0_SIZE, FREEMAP_BLOCK_SIZE } from '../../format/constants';
import { H2Error, EXIT } from '../../engine/errors';

export const GRANULES_PER_SEGMENT = Number(FREEMAP_LEVEL0_SIZE) / FREEMAP_BLOCK_SIZE;
export const SEGMENT_BYTES = FREEMAP_LEVEL0_SIZE;

export type ItemType = 'data' | 'inodes' | 'dirents' | 'indirect';
export const ITEM_TYPES: readonly ItemType[] = ['data', 'inodes', 'dirents', 'indirect'];

export interface SegmentFill {
  seg: bigint;
  granules: number;
}

/** Fill of every segment in tenths: bucket i counts segments with i*10% <= fill < (i+1)*10%; bucket 10 is full. */
export function histogram(segs: SegmentFill[]): number[] {
  const h = new Array<number>(11).fill(0);
  for (const s of segs) h[Math.min(10, Math.floor((s.granules * 10) / GRANULES_PER_SEGMENT))]++;
  return h;
}

export interface PlanState {
  fillLevel: number;
  /** source segments, frozen at the start of the first run */
  sources: bigint[];
  /** the segment left alone: where the allocator was working when the run began */
  frontier: bigint | null;
  /** destination segments used so far, and the packing cursor inside the last one */
  dests: bigint[];
  cursor: bigint | null;
  /** holes left behind the cursor by alignment, [start, end), filled by later smaller blocks */
  gaps: [bigint, bigint][];
}

/**
 * Sources: segments holding something but less full than the fill level, except the frontier
 * (the segment holding the highest allocated granule: new allocations continue from there).
 */
export function planSources(segs: SegmentFill[], fillLevel: number): { sources: bigint[]; frontier: bigint | null } {
  const used = segs.filter((s) => s.granules > 0);
  const frontier = used.length ? used[used.length - 1].seg : null;
  const sources = used.filter((s) => s.seg !== frontier && (s.granules * 100) / GRANULES_PER_SEGMENT < fillLevel).map((s) => s.seg);
  return { sources, frontier };
}

// ---- resume keys: the plan, deflated ------------------------------------------------------------

/** Runs of consecutive segments, as [first, count] in segment units. */
function toRuns(segs: bigint[]): [string, number][] {
  const runs: [bigint, number][] = [];
  const units = [...segs].map((s) => s / SEGMENT_BYTES).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const u of units) {
    const last = runs[runs.length - 1];
    if (last && last[0] + BigInt(last[1]) === u) last[1]++;
    else runs.push([u, 1]);
  }
  return runs.map(([u, n]) => [u.toString(16), n]);
}

function fromRuns(runs: [string, number][]): bigint[] {
  const out: bigint[] = [];
  for (const [first, n] of runs) for (let i = 0; i < n; i++) out.push((BigInt(`0x${first}`) + BigInt(i)) * SEGMENT_BYTES);
  return out;
}

const KEY_PREFIX = 'h2rb1.';

export function encodeResumeKey(p: PlanState): string {
  const doc = {
    l: p.fillLevel,
    s: toRuns(p.sources),
    f: p.frontier === null ? null : p.frontier.toString(16),
    d: toRuns(p.dests),
    c: p.cursor === null ? null : p.cursor.toString(16),
    g: p.gaps.map(([a, b]) => [a.toString(16), b.toString(16)]),
  };
  return KEY_PREFIX + Buffer.from(pako.deflateRaw(JSON.stringify(doc))).toString('base64url');
}

export function decodeResumeKey(key: string): PlanState {
  const bad = (): H2Error => new H2Error(`--resume: not a resume key printed by h2kit reblock`, EXIT.USAGE);
  if (!key.startsWith(KEY_PREFIX)) throw bad();
  try {
    const doc = JSON.parse(Buffer.from(pako.inflateRaw(Buffer.from(key.slice(KEY_PREFIX.length), 'base64url'))).toString('utf8'));
    return {
      fillLevel: Number(doc.l),
      sources: fromRuns(doc.s),
      frontier: doc.f === null ? null : BigInt(`0x${doc.f}`),
      dests: fromRuns(doc.d),
      cursor: doc.c === null ? null : BigInt(`0x${doc.c}`),
      gaps: (doc.g as [string, string][]).map(([a, b]) => [BigInt(`0x${a}`), BigInt(`0x${b}`)]),
    };
  } catch {
    throw bad();
  }
}
