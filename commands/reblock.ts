import { Args, Flags } from '@oclif/core';
import { H2Command } from '../src/cli/base';
import { undoFlag, undoOptionsOf } from '../src/cli/undo-flag';
import { newPassBar } from '../src/cli/progress';
import { parseDuration } from '../src/ops/common/duration';
import { parseSize } from '../src/ops/mkfs';
import { DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL, parseInumRange, parseTypes, renderReblock } from '../src/ops/reblock';
import { reblock } from '../src/api/maintenance';

export default class Reblock extends H2Command {
  static override description =
    'Defragment and compact a HAMMER2 filesystem offline: move the blocks of 4 MiB segments less full than --fill-level into dense free segments, so that the sources become free.';
  static override args = {
    device: Args.string({ required: true, description: 'image file or block device; vol0.img:vol1.img for several volumes' }),
  };
  static override flags = {
    'fill-level': Flags.integer({ description: 'move blocks out of segments less full than this percentage (100 moves everything)', default: DEFAULT_FILL_LEVEL, min: 1, max: 100 }),
    types: Flags.string({ description: 'what moves: data, inodes, dirents, indirect, or all (comma separated)', default: 'all' }),
    pfs: Flags.string({ description: 'only the blocks of this PFS' }),
    inums: Flags.string({ description: 'only these inodes and their blocks, as LO-HI' }),
    'time-limit': Flags.string({ description: 'stop at the first commit after this long (90s, 15m, 2h) and print a resume key' }),
    resume: Flags.string({ description: 'continue a run stopped by --time-limit (give the same other options)' }),
    'commit-every': Flags.string({ description: 'commit after moving this much (size, default 256M): an interruption loses at most one batch', default: '256M' }),
    reserve: Flags.string({ description: 'free space never used as a destination (size)', default: '0' }),
    'dry-run': Flags.boolean({ char: 'n', description: 'print the fragmentation report and the expected result; write nothing' }),
    svg: Flags.string({ description: 'draw the freemap before and after (planned, with --dry-run) side by side into this SVG file' }),
    undo: undoFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Reblock);
    const bar = flags.json || flags['dry-run'] ? null : newPassBar('Moving blocks');
    try {
      const r = await reblock(args.device, {
        fillLevel: flags['fill-level'],
        types: parseTypes(flags.types),
        pfs: flags.pfs,
        inums: flags.inums === undefined ? undefined : parseInumRange(flags.inums),
        timeLimitMs: flags['time-limit'] === undefined ? undefined : parseDuration(flags['time-limit'], '--time-limit'),
        resume: flags.resume,
        commitEveryBytes: flags['commit-every'] ? parseSize(flags['commit-every'], '--commit-every') : DEFAULT_COMMIT_EVERY,
        reserveBytes: parseSize(flags.reserve, '--reserve'),
        dryRun: flags['dry-run'],
        undo: undoOptionsOf(flags.undo),
        progress: bar ? (done, total) => bar.update(1, Number(done), Number(total)) : undefined,
        svg: flags.svg,
      });
      bar?.stop();
      if (flags.json) this.emitJson('reblock', { device: args.device, ...r, ...(flags.svg === undefined ? {} : { svg: flags.svg }) });
      else this.emit(Buffer.from(renderReblock(r) + (flags.svg === undefined ? '' : `picture: ${flags.svg}\n`), 'utf8'));
      if (r.stopped === 'space') process.exitCode = 1;
    } finally {
      bar?.stop();
    }
  }
}
