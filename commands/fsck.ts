import { Args, Flags } from '@oclif/core';
import { H2Command } from '../src/cli/base';
import { exitCodeOf, oneLine } from '../src/cli/errors';
import { newPassBar, progressFdWriter } from '../src/cli/progress';
import { EXIT } from '../src/engine';
import { FSCK_EXIT, FsckMode, PROBLEMS, renderFsck, runFsck } from '../src/ops/fsck';

export default class Fsck extends H2Command {
  static override description =
    'Check a HAMMER2 filesystem (read-only). Exit status is the fsck(8) bitmask: 0 clean, 4 errors left uncorrected, 8 operational error, 16 usage error.';
  static override args = {
    device: Args.string({ required: true, description: 'image file or block device; vol0.img:vol1.img for several volumes' }),
  };
  static override flags = {
    no: Flags.boolean({ char: 'n', description: 'check only, change nothing (the default)', exclusive: ['yes', 'preen'] }),
    yes: Flags.boolean({ char: 'y', description: 'repair everything (repairs: next release; says what it would fix)', exclusive: ['no', 'preen'] }),
    preen: Flags.boolean({ char: 'p', description: 'repair only what is safe unattended (says what it would fix)', exclusive: ['no', 'yes'] }),
    force: Flags.boolean({ char: 'f', description: 'check even if the filesystem looks clean (HAMMER2 has no clean flag: always checked)' }),
    pfs: Flags.string({ description: 'report only inside this PFS (the freemap pass stays volume-wide)' }),
    'progress-fd': Flags.integer({ char: 'C', description: 'write e2fsck-style progress lines ("pass done max device") to this descriptor', min: 0 }),
    verbose: Flags.boolean({ char: 'v', description: 'also list notes (stale header copies, leaked blocks)' }),
    quiet: Flags.boolean({ char: 'q', description: 'print only problems' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Fsck);
    const mode: FsckMode = flags.yes ? 'yes' : flags.preen ? 'preen' : 'check';
    const toFd = flags['progress-fd'] === undefined ? null : progressFdWriter(flags['progress-fd'], args.device);
    const bar = flags.json || flags.quiet ? null : newPassBar();
    const progress = (pass: number, done: number, max: number): void => {
      toFd?.(pass, done, max);
      bar?.update(pass, done, max);
    };
    let result;
    try {
      result = await runFsck(args.device, { pfs: flags.pfs, progress });
    } finally {
      bar?.stop();
    }
    const { report, exitCode } = result;
    if (flags.json) {
      this.emitJson('fsck', {
        device: args.device,
        mode,
        exit_code: exitCode,
        phases: report.phases,
        blockrefs: report.blockrefs,
        inodes: report.inodes,
        pfs: report.pfs,
        problems: report.problems.map((p) => ({ ...p, severity: PROBLEMS[p.code].severity, repair: PROBLEMS[p.code].repair })),
      });
    } else {
      this.emit(Buffer.from(renderFsck(report, mode, flags.verbose, flags.quiet), 'utf8'));
    }
    process.exitCode = exitCode;
  }

  /** fsck speaks the fsck(8) bitmask, not the other commands' codes. */
  protected override async catch(err: Error): Promise<void> {
    this.parsed = true;
    const code = exitCodeOf(err);
    process.stderr.write(`h2kit: ${oneLine(err)}\n`);
    process.exitCode = code === EXIT.USAGE ? FSCK_EXIT.USAGE : FSCK_EXIT.OPERATIONAL;
  }
}
