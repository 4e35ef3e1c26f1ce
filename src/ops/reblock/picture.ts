/**
 * `reblock --svg`: the freemap map before the run and after it, side by side. The "before" is
 * read from the device as the run starts; the "after" is the device read again after a real
 * run, or, for a dry run, the before with the fill the plan expects (sources emptied,
 * destinations filled; plannedSegments).
 */
import * as fs from 'node:fs';
import { openReadOnly } from '../../engine/open';
import { Freemap } from '../../engine/freemap';
import { FreemapMap, buildFreemapMap, freemapMap, freemapSegments, plannedSegments } from '../dump/freemap-map';
import { openSvgOutput, writeFreemapSvgFd } from '../dump/freemap-svg';
import { ReblockResult, reblock } from './index';
import { PlanState, SegmentFill } from './plan';
import { ReblockOptions } from './run';

export interface ReblockPictures {
  before: FreemapMap;
  after: FreemapMap;
}

async function loadFreemap(spec: string, opts: ReblockOptions): Promise<{ fm: Freemap; total: bigint }> {
  const s = await openReadOnly(spec, opts.opener ? { opener: opts.opener } : {});
  try {
    return { fm: Freemap.load(s.chains), total: s.vols.totalSize };
  } finally {
    s.close();
  }
}

/** Runs reblock and makes the maps of before and after; `maxCells` as in buildFreemapMap. */
export async function reblockPictures(spec: string, opts: ReblockOptions, maxCells?: number): Promise<{ report: ReblockResult; maps: ReblockPictures }> {
  const was = await loadFreemap(spec, opts);
  let plan: PlanState | null = null;
  let expected: SegmentFill[] = [];
  const report = await reblock(spec, {
    ...opts,
    observe: (p, b, a) => {
      plan = p;
      expected = a;
      opts.observe?.(p, b, a);
    },
  });
  const sources = new Set((plan as PlanState | null)?.sources ?? []);
  const before = freemapMap(was.fm, was.total, { maxCells, sources });
  let after: FreemapMap;
  if (opts.dryRun) {
    const fill = new Map(expected.map((s) => [s.seg, s.granules]));
    after = buildFreemapMap(was.total, plannedSegments(freemapSegments(was.fm, was.total), fill), { maxCells });
  } else {
    const now = await loadFreemap(spec, opts);
    after = freemapMap(now.fm, now.total, { maxCells });
  }
  return { report, maps: { before, after } };
}

/** reblock, and the picture of before and after written to `file` (opened first: a bad path stops the run before it starts). */
export async function reblockWithPicture(spec: string, opts: ReblockOptions, file: string): Promise<ReblockResult> {
  const fd = openSvgOutput(file);
  let maps: ReblockPictures;
  let report: ReblockResult;
  try {
    ({ report, maps } = await reblockPictures(spec, opts));
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
  writeFreemapSvgFd(fd, [
    { title: `${spec}: before reblock`, map: maps.before },
    { title: opts.dryRun ? `after (planned by --dry-run)` : `after reblock`, map: maps.after },
  ]);
  return report;
}
