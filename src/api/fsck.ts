/** fsck as library calls: the read-only check, and the repair. */
import { EXIT, H2Error } from '../engine';
import { UndoLog, UndoOptions } from '../engine/undo-log';
import { FsckResult, RepairMode, RepairResult, Answer, Problem, repairExitCode, runFsck, runRepair } from '../ops/fsck';

export interface FsckOptions {
  /** report only inside this PFS (the freemap pass stays volume-wide) */
  pfs?: string;
  /** pass number, work done, work expected (e2fsck -C style) */
  progress?: (pass: number, done: number, max: number) => void;
  /** check even while another h2kit process writes the device (default false: refused) */
  force?: boolean;
}

/**
 * Check read-only. `exitCode` is fsck(8)'s: 0 when only notes (severity 'info') were found,
 * 4 (FSCK_EXIT.UNCORRECTED) when errors or warnings were.
 */
export async function fsck(device: string, o: FsckOptions = {}): Promise<FsckResult> {
  return runFsck(device, { pfs: o.pfs, progress: o.progress, allowWriter: o.force });
}

export interface RepairOptions {
  /** 'yes' (default): repair everything repairable; 'preen': only what is safe unattended; 'ask': call `ask` */
  mode?: RepairMode;
  /** mode 'ask': the answer for one problem ('a' is yes to it and every later one) */
  ask?: (p: Problem) => Answer;
  pfs?: string;
  progress?: (pass: number, done: number, max: number) => void;
  /** DANGEROUS: keep blocks whose check code fails and recompute the code, instead of cutting them */
  rewriteCheckCodes?: boolean;
  /** save every byte the run overwrites to a new undo file first (`h2kit undo` puts them back) */
  undo?: UndoOptions | UndoLog;
}

export interface RepairReport extends RepairResult {
  /** fsck(8)'s: 1 when something was corrected, | 4 when errors or warnings remain */
  exitCode: number;
}

/** Check and repair (fsck -y, -p, or asking per problem), in rounds until nothing is left to do. */
export async function repair(device: string, o: RepairOptions = {}): Promise<RepairReport> {
  const mode = o.mode ?? 'yes';
  if (mode === 'ask' && !o.ask) throw new H2Error("repair mode 'ask' needs an ask function", EXIT.USAGE);
  const r = await runRepair(device, { mode, ask: o.ask, pfs: o.pfs, progress: o.progress, rewriteCheckCodes: o.rewriteCheckCodes, undo: o.undo });
  return { ...r, exitCode: repairExitCode(r) };
}
