/** `cleanup`: a bulkfree pass, then reblock with the defaults and a time limit. */
import { UndoLog, UndoOptions } from '../../engine/undo-log';
import { BulkfreeReport, runBulkfree } from './bulkfree';
import { ITEM_TYPES } from '../reblock/plan';
import { ReblockReport, runReblock } from '../reblock/run';
import { CLEANUP_TIME_LIMIT_MS, DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL } from '../reblock';

export interface CleanupOptions {
  /** report what both steps would do; write nothing */
  dryRun?: boolean;
  /** the reblock step's time limit (default CLEANUP_TIME_LIMIT_MS) */
  timeLimitMs?: number;
  /** one undo file for both steps: one `h2kit undo` takes the device back past both */
  undo?: UndoOptions | UndoLog;
}

export interface CleanupReport {
  bulkfree: BulkfreeReport;
  reblock: ReblockReport;
}

export async function runCleanup(spec: string, opts: CleanupOptions = {}): Promise<CleanupReport> {
  const dryRun = opts.dryRun ?? false;
  // a file name becomes one log shared by both steps; a log the caller made stays the caller's
  const undo = dryRun || opts.undo === undefined ? undefined : opts.undo instanceof UndoLog ? opts.undo : new UndoLog(opts.undo, 'cleanup');
  try {
    const bulkfree = await runBulkfree(spec, { dryRun, undo });
    const reblock = await runReblock(spec, {
      fillLevel: DEFAULT_FILL_LEVEL,
      types: new Set(ITEM_TYPES),
      timeLimitMs: opts.timeLimitMs ?? CLEANUP_TIME_LIMIT_MS,
      commitEveryBytes: DEFAULT_COMMIT_EVERY,
      reserveBytes: 0n,
      dryRun,
      undo,
    });
    return { bulkfree, reblock };
  } finally {
    if (undo !== opts.undo) undo?.finish();
  }
}
