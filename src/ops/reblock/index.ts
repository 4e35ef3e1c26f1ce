/** reblock and cleanup: reports as text. */
import { ITEM_TYPES, ItemType } from './plan';
import { ReblockOptions, ReblockReport, runReblock } from './run';
import { FragScore, fragScore, renderFragScore } from '../common/frag-score';
import { BulkfreeReport } from '../cleanup/bulkfree';
import { EXIT, H2Error } from '../../engine/errors';

export * from './plan';
export * from './run';
export * from '../cleanup/bulkfree';

export const DEFAULT_FILL_LEVEL = 95;
export const DEFAULT_COMMIT_EVERY = 256n << 20n;
/** cleanup's default time limit for its reblock step */
export const CLEANUP_TIME_LIMIT_MS = 5 * 60 * 1000;

/** The fragmentation score (src/ops/common/frag-score.ts) before and after the run (expected, for a dry run). */
export interface FragFigures {
  fragBefore: FragScore;
  fragAfter: FragScore;
}
export type ReblockResult = ReblockReport & FragFigures;

/** runReblock, with the fragmentation score of the segment fill it saw before and after. */
export async function reblock(spec: string, opts: ReblockOptions): Promise<ReblockResult> {
  let fig: FragFigures | null = null;
  const r = await runReblock(spec, {
    ...opts,
    observe: (plan, before, after) => {
      fig = { fragBefore: fragScore(before.map((s) => s.granules)), fragAfter: fragScore(after.map((s) => s.granules)) };
      opts.observe?.(plan, before, after);
    },
  });
  if (fig === null) throw new Error('reblock: the run made no report');
  return { ...r, ...(fig as FragFigures) };
}

/** --types: a comma list of data, inodes, dirents, indirect, or all. */
export function parseTypes(text: string): Set<ItemType> {
  const out = new Set<ItemType>();
  for (const part of text.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean)) {
    if (part === 'all') ITEM_TYPES.forEach((t) => out.add(t));
    else if ((ITEM_TYPES as readonly string[]).includes(part)) out.add(part as ItemType);
    else throw new H2Error(`--types: '${part}' is not one of ${ITEM_TYPES.join(', ')}, all`, EXIT.USAGE);
  }
  if (out.size === 0) throw new H2Error('--types: give at least one type', EXIT.USAGE);
  return out;
}

/** --inums LO-HI (decimal or 0x hex). */
export function parseInumRange(text: string): [bigint, bigint] {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*-\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(text);
  if (!m) throw new H2Error(`--inums: '${text}' is not a range like 1024-2047`, EXIT.USAGE);
  const [lo, hi] = [BigInt(m[1]), BigInt(m[2])];
  if (lo > hi) throw new H2Error(`--inums: ${lo} is above ${hi}`, EXIT.USAGE);
  return [lo, hi];
}

const mib = (b: bigint): string => (Number(b) / 1048576).toFixed(1);

function histogramLines(label: string, h: number[]): string {
  const cols = h.map((n, i) => `${i === 10 ? '100%' : `${i * 10}-${i * 10 + 9}%`}: ${n}`);
  return `${label}: ${cols.join('  ')}\n`;
}

export function renderReblock(r: ReblockReport & Partial<FragFigures>): string {
  let s = '';
  s += `segments: ${r.segments} of 4 MiB; sources (fill below ${r.fillLevel}%): ${r.sources}\n`;
  s += histogramLines('fill before', r.histogramBefore);
  if (r.dryRun) {
    s += `would move: ${r.plannedBlocks} blocks, ${mib(r.plannedBytes)} MiB; ${r.sharedSkipped} shared blocks stay\n`;
    s += `would free: ${r.segmentsFreed} segments (${r.partialBefore} partly filled now, about ${r.partialAfter} after)\n`;
    s += histogramLines('fill after (expected)', r.histogramAfter);
    s += fragLines(r, 'expected');
    return s;
  }
  s += histogramLines('fill after', r.histogramAfter);
  for (const t of ITEM_TYPES) s += `  ${t.padEnd(8)} seen ${String(r.counters[t].seen).padStart(8)}  moved ${String(r.counters[t].moved).padStart(8)}\n`;
  if (r.recovered) s += `recovery: ${r.recovered} blocks of the last commit marked allocated in the freemap\n`;
  s += `moved ${mib(r.bytesMoved)} MiB in ${r.commits} commit${r.commits === 1 ? '' : 's'}; ${r.sharedSkipped} shared blocks stayed\n`;
  s += `segments freed: ${r.segmentsFreed}; partly filled ${r.partialBefore} -> ${r.partialAfter}; in free segments ${mib(r.freeSegmentBytesBefore)} -> ${mib(r.freeSegmentBytesAfter)} MiB\n`;
  s += fragLines(r, '');
  if (r.stopped === 'time-limit') s += `stopped at the time limit, after a commit; resume with: --resume ${r.resumeKey}\n`;
  if (r.stopped === 'space') s += `stopped: not enough free space for the next batch (the last commit stands); free space, then: --resume ${r.resumeKey}\n`;
  return s;
}

function fragLines(r: Partial<FragFigures>, after: string): string {
  if (!r.fragBefore || !r.fragAfter) return '';
  return `before: ${renderFragScore(r.fragBefore)}\nafter${after ? ` (${after})` : ''}: ${renderFragScore(r.fragAfter)}\n`;
}

export function renderBulkfree(b: BulkfreeReport): string {
  let s = '';
  if (b.recovered) s += `recovery: ${b.recovered} blocks marked allocated\n`;
  s += `bulkfree: ${b.freedGranules} unreferenced granules freed (${mib(b.freedBytes)} MiB); allocator_free ${mib(b.allocatorFreeBefore)} -> ${mib(b.allocatorFreeAfter)} MiB\n`;
  return s;
}
