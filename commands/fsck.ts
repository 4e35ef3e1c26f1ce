import { Args, Flags } from '@oclif/core';
import { H2Command } from '../src/cli/base';
import { undoFlag, undoOptionsOf } from '../src/cli/undo-flag';
import { askChoice } from '../src/cli/ask';
import { exitCodeOf, oneLine } from '../src/cli/errors';
import { newPassBar, progressFdWriter } from '../src/cli/progress';
import { EXIT } from '../src/engine';
import {
  Answer,
  FSCK_EXIT,
  PROBLEMS,
  Problem,
  RepairMode,
  render,
  renderFsck,
  renderRepair,
} from '../src/ops/fsck';
import { fsck, repair } from '../src/api/fsck';

const jsonProblem = (p: Problem) => ({ ...p, severity: PROBLEMS[p.code].severity, repair: PROBLEMS[p.code].repair });

export default class Fsck extends H2Command {
  static override description = [
    'Check a HAMMER2 filesystem and, with -y, -p or on a terminal when asked, repair it.',
    'Exit status is the fsck(8) bitmask: 0 clean, 1 errors corrected, 4 errors left uncorrected, 8 operational error, 16 usage error.',
  ].join('\n');
  static override args = {
    device: Args.string({ required: true, description: 'image file or block device; vol0.img:vol1.img for several volumes' }),
  };
  static override flags = {
    no: Flags.boolean({ char: 'n', description: 'check only, change nothing', exclusive: ['yes', 'preen'] }),
    yes: Flags.boolean({ char: 'y', description: 'repair everything that can be repaired', exclusive: ['no', 'preen'] }),
    preen: Flags.boolean({ char: 'p', description: 'repair only what is safe unattended; anything else exits 4', exclusive: ['no', 'yes'] }),
    force: Flags.boolean({ char: 'f', description: 'check even if the filesystem looks clean (HAMMER2 has no clean flag: always checked), and even while another h2kit process writes it' }),
    pfs: Flags.string({ description: 'report only inside this PFS (the freemap pass stays volume-wide)' }),
    'progress-fd': Flags.integer({ char: 'C', description: 'write e2fsck-style progress lines ("pass done max device") to this descriptor', min: 0 }),
    verbose: Flags.boolean({ char: 'v', description: 'also list notes (stale header copies, leaked blocks)' }),
    quiet: Flags.boolean({ char: 'q', description: 'print only problems' }),
    undo: undoFlag,
    'rewrite-check-codes': Flags.boolean({
      helpGroup: 'DANGEROUS',
      description: 'take blocks whose check code fails as they are and recompute the code, instead of cutting them (the data may be garbage)',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Fsck);
    const interactive = !flags.no && !flags.yes && !flags.preen && !flags.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
    const mode: RepairMode | 'check' = flags.yes ? 'yes' : flags.preen ? 'preen' : interactive ? 'ask' : 'check';
    const toFd = flags['progress-fd'] === undefined ? null : progressFdWriter(flags['progress-fd'], args.device);
    const bar = flags.json || flags.quiet || mode === 'ask' ? null : newPassBar();
    const progress = (pass: number, done: number, max: number): void => {
      toFd?.(pass, done, max);
      bar?.update(pass, done, max);
    };
    try {
      if (mode === 'check') {
        const { report, exitCode } = await fsck(args.device, { pfs: flags.pfs, progress, force: flags.force });
        bar?.stop();
        if (flags.json) {
          this.emitJson('fsck', {
            device: args.device,
            mode,
            exit_code: exitCode,
            phases: report.phases,
            blockrefs: report.blockrefs,
            inodes: report.inodes,
            pfs: report.pfs,
            problems: report.problems.map(jsonProblem),
          });
        } else {
          this.emit(Buffer.from(renderFsck(report, flags.verbose, flags.quiet), 'utf8'));
        }
        process.exitCode = exitCode;
        return;
      }
      const ask = (p: Problem): Answer => askChoice(`${PROBLEMS[p.code].severity}: ${p.code}: ${render(p)}\n  Fix (${PROBLEMS[p.code].repair})?`, ['y', 'n', 'a'] as const, 'n');
      const r = await repair(args.device, { mode, ask, pfs: flags.pfs, progress, rewriteCheckCodes: flags['rewrite-check-codes'], undo: undoOptionsOf(flags.undo) });
      bar?.stop();
      const exitCode = r.exitCode;
      if (flags.json) {
        this.emitJson('fsck', {
          device: args.device,
          mode,
          exit_code: exitCode,
          modified: r.modified,
          rounds: r.rounds,
          problems: r.initial.problems.map(jsonProblem),
          fixes: r.fixes,
          remaining: r.final.problems.map(jsonProblem),
        });
      } else {
        this.emit(Buffer.from(renderRepair(r, flags.verbose, flags.quiet), 'utf8'));
      }
      process.exitCode = exitCode;
    } finally {
      bar?.stop();
    }
  }

  /** fsck speaks the fsck(8) bitmask, not the other commands' codes. */
  protected override async catch(err: Error): Promise<void> {
    this.parsed = true;
    const code = exitCodeOf(err);
    process.stderr.write(`h2kit: ${oneLine(err)}\n`);
    process.exitCode = code === EXIT.USAGE ? FSCK_EXIT.USAGE : FSCK_EXIT.OPERATIONAL;
  }
}
