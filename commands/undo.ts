import { Args, Flags } from '@oclif/core';
import { H2Command } from '../src/cli/base';
import { renderUndo, runUndo, undoJson } from '../src/ops/undo';

export default class Undo extends H2Command {
  static override description =
    'Put back what a writing run (fsck -y/-p, reblock, cleanup, mkfs) overwrote, from the file its --undo FILE saved. Refuses a device the undo file does not fit unless --force.';
  static override strict = false;
  static override usage = 'undo FILE DEVICE... [--dry-run] [--force]';
  static override args = {
    file: Args.string({ required: true, description: 'the undo file the run wrote' }),
    device: Args.string({ required: true, description: 'the device or image the run wrote; several volumes in the order the run had them' }),
  };
  static override flags = {
    'dry-run': Flags.boolean({ char: 'n', description: 'list what would be restored; write nothing' }),
    force: Flags.boolean({ description: 'restore even onto a device whose size or volume headers the undo file does not know' }),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Undo);
    const devices = (argv as string[]).slice(1);
    const r = runUndo(args.file, devices, { dryRun: flags['dry-run'], force: flags.force });
    if (flags.json) this.emitJson('undo', undoJson(r));
    else this.emit(Buffer.from(renderUndo(r), 'utf8'));
  }
}
