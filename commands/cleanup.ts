import { Args, Flags } from '@oclif/core';
import { H2Command } from '../src/cli/base';
import { undoFlag, undoOptionsOf } from '../src/cli/undo-flag';
import { parseDuration } from '../src/ops/common/duration';
import { renderBulkfree, renderReblock } from '../src/ops/reblock';
import { cleanup } from '../src/api/maintenance';

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
    const { bulkfree: bulk, reblock } = await cleanup(args.device, {
      dryRun: flags['dry-run'],
      timeLimitMs: flags['time-limit'] === undefined ? undefined : parseDuration(flags['time-limit'], '--time-limit'),
      undo: undoOptionsOf(flags.undo),
    });
    if (flags.json) this.emitJson('cleanup', { device: args.device, bulkfree: bulk, reblock });
    else this.emit(Buffer.from(renderBulkfree(bulk) + renderReblock(reblock), 'utf8'));
    if (reblock.stopped === 'space') process.exitCode = 1;
  }
}
