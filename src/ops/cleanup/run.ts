/** `cleanup`: a bulkfree pass, then reblock with the defaults and a time limit. */
import { BulkfreeReport, runBulkfree } from './bulkfree';
import { ITEM_TYPES } from '../reblock/plan';
import { ReblockReport, runReblock } from '../reblock/run';
import { CLEANUP_TIME_LIMIT_MS, DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL } from '../reblock';

export interface CleanupOptions {
  /** report what both steps would do; write nothing */
  dryRun?: boolean;
  /** the reblock step's time limit (default CLEANUP_TIME_LIMIT_MS) */
  timeLimitMs?: number;
}

export interface CleanupReport {
  bulkfree: BulkfreeReport;
  reblock: ReblockReport;
}

export async function runCleanup(spec: string, opts: CleanupOptions = {}): Promise<CleanupReport> {
  const dryRun = opts.dryRun ?? false;
  const bulkfree = await runBulkfree(spec, { dryRun });
  const reblock = await runReblock(spec, {
    fillLevel: DEFAULT_FILL_LEVEL,
    types: new Set(ITEM_TYPES),
    timeLimitMs: opts.timeLimitMs ?? CLEANUP_TIME_LIMIT_MS,
    commitEveryBytes: DEFAULT_COMMIT_EVERY,
    reserveBytes: 0n,
    dryRun,
  });
  return { bulkfree, reblock };
}
