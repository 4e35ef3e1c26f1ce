/** fsck: check a filesystem read-only and report problems in the e2fsck style. */
import { VolumeSet, openReadOnly } from '../../engine';
import { CheckOptions, CheckReport, checkFilesystem } from './check';
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

export type FsckMode = 'check' | 'yes' | 'preen';

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

export async function runFsck(spec: string, opts: CheckOptions = {}): Promise<FsckResult> {
  const s = await openReadOnly(spec, { allowTruncated: true });
  try {
    return fsckVolumes(s.vols, opts);
  } finally {
    s.close();
  }
}

/** The text report: phases, one line per problem, and (with -y/-p) what a repair would do. */
export function renderFsck(r: CheckReport, mode: FsckMode, verbose: boolean, quiet: boolean): string {
  let s = '';
  if (!quiet) for (const p of r.phases) s += `${p.name}\n`;
  for (const p of r.problems) {
    const def = PROBLEMS[p.code];
    if (def.severity === 'info' && !verbose) continue;
    s += `${def.severity}: ${p.code}: ${render(p)}\n`;
    if (mode !== 'check' && !def.noFix && (mode === 'yes' || def.preenSafe)) s += `  would fix: ${def.repair} (repairs are not implemented yet)\n`;
  }
  if (!quiet) {
    const count = (sev: string) => r.problems.filter((p: Problem) => PROBLEMS[p.code].severity === sev).length;
    s += `${r.blockrefs} blockrefs checked, ${count('error')} errors, ${count('warning')} warnings, ${count('info')} notes\n`;
  }
  return s;
}
