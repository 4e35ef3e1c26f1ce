import { Args, Flags } from '@oclif/core';
import { H2Command } from '../src/cli/base';
import { undoFlag } from '../src/cli/undo-flag';
import { UndoLog } from '../src/engine/undo-log';
import { parseDuration } from '../src/ops/common/duration';
import { BulkfreeReport, CLEANUP_TIME_LIMIT_MS, ReblockReport, DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL, ITEM_TYPES, renderBulkfree, renderReblock, runBulkfree, runReblock } from '../src/ops/reblock';

export default class Cleanup extends H2Command {
  static override description =
    'Routine maintenance, the offline counterpart of hammer2 cleanup: a bulkfree pass (free what nothing references, fix avail and allocator_free), then reblock with the defaults and a time limit.';
  static override args = {
    device: Args.string({ required: true, description: 'image file or block device; vol0.img:vol1.img for several volumes' }),
  };
  static override flags = {
    'time-limit': Flags.string({ description: 'time limit of the reblock step (default 5m)' }),
    'dry-run': Flags.boolean({ char: 'n', description: 'report what both steps would do; write nothing' }),
    undo: undoFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Cleanup);
    // both steps save to one undo file: one `h2kit undo` takes the device back past both
    const undo = flags.undo === undefined ? undefined : new UndoLog({ file: flags.undo }, 'cleanup');
    let bulk: BulkfreeReport;
    let reblock: ReblockReport;
    try {
      bulk = await runBulkfree(args.device, { dryRun: flags['dry-run'], undo });
      reblock = await runReblock(args.device, {
        fillLevel: DEFAULT_FILL_LEVEL,
        types: new Set(ITEM_TYPES),
        timeLimitMs: flags['time-limit'] === undefined ? CLEANUP_TIME_LIMIT_MS : parseDuration(flags['time-limit'], '--time-limit'),
        commitEveryBytes: DEFAULT_COMMIT_EVERY,
        reserveBytes: 0n,
        dryRun: flags['dry-run'],
        undo,
      });
    } finally {
      undo?.finish();
    }
    if (flags.json) this.emitJson('cleanup', { device: args.device, bulkfree: bulk, reblock });
    else this.emit(Buffer.from(renderBulkfree(bulk) + renderReblock(reblock), 'utf8'));
    if (reblock.stopped === 'space') process.exitCode = 1;
  }
}
