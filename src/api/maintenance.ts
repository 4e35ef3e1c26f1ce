/** reblock, bulkfree and cleanup as library calls, with the CLI's defaults. */
import { UndoLog, UndoOptions } from '../engine/undo-log';
import { EXIT, H2Error } from '../engine';
import { DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL, ITEM_TYPES, ItemType, ReblockResult, parseTypes, reblock as reblockScored, BulkfreeReport, runBulkfree } from '../ops/reblock';
import { reblockWithPicture } from '../ops/reblock/picture';
import { CleanupOptions, CleanupReport, runCleanup } from '../ops/cleanup/run';

export interface ReblockOptions {
  /** move blocks out of 4 MiB segments less full than this percentage (default 95; 100 moves everything) */
  fillLevel?: number;
  /** what moves: a set or list of 'data', 'inodes', 'dirents', 'indirect', or a CLI-style 'data,inodes' (default all) */
  types?: Iterable<ItemType> | string;
  /** only the blocks of this PFS */
  pfs?: string;
  /** only these inodes and their blocks, inclusive */
  inums?: [bigint, bigint];
  /** stop at the first commit after this long; the report's resumeKey continues */
  timeLimitMs?: number;
  /** a resumeKey of an earlier run stopped by its time limit (give the same other options) */
  resume?: string;
  /** commit after moving this many bytes (default 256 MiB) */
  commitEveryBytes?: bigint;
  /** free space never used as a destination (default 0) */
  reserveBytes?: bigint;
  /** report the fragmentation and the expected result, write nothing (default false) */
  dryRun?: boolean;
  progress?: (movedBytes: bigint, plannedBytes: bigint) => void;
  /** save every byte the run overwrites to a new undo file first (`h2kit undo` puts them back) */
  undo?: UndoOptions | UndoLog;
  /** draw the freemap before and after (planned, with dryRun) side by side into this SVG file */
  svg?: string;
}

/** Compact and defragment offline. A report with `stopped: 'space'` is what the CLI exits 1 for. */
export async function reblock(device: string, o: ReblockOptions = {}): Promise<ReblockResult> {
  const types = o.types === undefined ? new Set(ITEM_TYPES) : typeof o.types === 'string' ? parseTypes(o.types) : new Set(o.types);
  for (const t of types) if (!ITEM_TYPES.includes(t)) throw new H2Error(`types: '${t}' is not one of ${ITEM_TYPES.join(', ')}`, EXIT.USAGE);
  const opts = {
    fillLevel: o.fillLevel ?? DEFAULT_FILL_LEVEL,
    types,
    pfs: o.pfs,
    inums: o.inums,
    timeLimitMs: o.timeLimitMs,
    resume: o.resume,
    commitEveryBytes: o.commitEveryBytes ?? DEFAULT_COMMIT_EVERY,
    reserveBytes: o.reserveBytes ?? 0n,
    dryRun: o.dryRun ?? false,
    progress: o.progress,
    undo: o.undo,
  };
  return o.svg === undefined ? reblockScored(device, opts) : reblockWithPicture(device, opts, o.svg);
}

/** Free every granule the freemap marks allocated that no block uses (the cleanup's first step). */
export async function bulkfree(device: string, o: { dryRun?: boolean; undo?: UndoOptions | UndoLog } = {}): Promise<BulkfreeReport> {
  return runBulkfree(device, { dryRun: o.dryRun ?? false, undo: o.undo });
}

/** Routine maintenance: bulkfree, then reblock with the defaults and a time limit (default 5 minutes). */
export async function cleanup(device: string, o: CleanupOptions = {}): Promise<CleanupReport> {
  return runCleanup(device, o);
}
