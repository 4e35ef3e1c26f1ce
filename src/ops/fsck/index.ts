/** fsck: check a filesystem read-only and report problems in the e2fsck style. */
import { VolumeSet, openReadOnly } from '../../engine';
import { CheckOptions, CheckReport, checkFilesystem } from './check';
import { RepairResult } from './repair';
import { PROBLEMS, Problem, render } from './problems';

export * from './problems';
export * from './check';

/** fsck(8) exit status bits. */
export const FSCK_EXIT = {
  OK: 0,
  CORRECTED: 1,
  REBOOT: 2,
  UNCORRECTED: 4,
  OPERATIONAL: 8,
  USAGE: 16,
  CANCELLED: 32,
} as const;


export interface FsckResult {
  report: CheckReport;
  exitCode: number;
}

/** Check an open volume set; errors and warnings leave exit 4, notes alone leave 0. */
export function fsckVolumes(vols: VolumeSet, opts: CheckOptions = {}): FsckResult {
  const report = checkFilesystem(vols, opts);
  const bad = report.problems.some((p) => PROBLEMS[p.code].severity !== 'info');
  return { report, exitCode: bad ? FSCK_EXIT.UNCORRECTED : FSCK_EXIT.OK };
}

export async function runFsck(spec: string, opts: CheckOptions & { allowWriter?: boolean } = {}): Promise<FsckResult> {
  const s = await openReadOnly(spec, { allowTruncated: true, allowWriter: opts.allowWriter });
  try {
    return fsckVolumes(s.vols, opts);
  } finally {
    s.close();
  }
}

const counts = (problems: Problem[]): string => {
  const n = (sev: string) => problems.filter((p) => PROBLEMS[p.code].severity === sev).length;
  return `${n('error')} errors, ${n('warning')} warnings, ${n('info')} notes`;
};

function problemLines(problems: Problem[], verbose: boolean): string {
  let s = '';
  for (const p of problems) {
    const def = PROBLEMS[p.code];
    if (def.severity === 'info' && !verbose) continue;
    s += `${def.severity}: ${p.code}: ${render(p)}\n`;
  }
  return s;
}

/** The text report of a check: phases, one line per problem, a summary. */
export function renderFsck(r: CheckReport, verbose: boolean, quiet: boolean): string {
  let s = '';
  if (!quiet) for (const p of r.phases) s += `${p.name}\n`;
  s += problemLines(r.problems, verbose);
  if (!quiet) s += `${r.blockrefs} blockrefs checked, ${counts(r.problems)}\n`;
  return s;
}

/** The report of a repair run: what was found, what was done, what is left. */
export function renderRepair(r: RepairResult, verbose: boolean, quiet: boolean): string {
  let s = renderFsck(r.initial, verbose, quiet);
  if (r.fixes.length > 0) {
    s += `Repairs (${r.rounds} round${r.rounds === 1 ? '' : 's'}):\n`;
    for (const f of r.fixes) s += `  fixed: ${f.code}: ${f.where}: ${f.action}\n`;
  }
  const left = r.final.problems.filter((p) => verbose || PROBLEMS[p.code].severity !== 'info');
  if (r.modified || left.length > 0) {
    s += r.modified ? `After repair: ${counts(r.final.problems)}\n` : '';
    const lines = problemLines(r.final.problems, verbose);
    if (r.modified && lines) s += `Left uncorrected:\n${lines}`;
  }
  if (r.modified) s += '\n***** FILE SYSTEM WAS MODIFIED *****\n';
  return s;
}

/** fsck(8): 1 when something was corrected, 4 when errors or warnings remain. */
export function repairExitCode(r: RepairResult): number {
  const left = r.final.problems.some((p) => PROBLEMS[p.code].severity !== 'info');
  return (r.modified ? FSCK_EXIT.CORRECTED : 0) | (left ? FSCK_EXIT.UNCORRECTED : 0);
}
export * from './repair';
