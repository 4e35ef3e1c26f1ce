import { H2Command } from '../../src/cli/base';
import { forceReadFlag, deviceArg } from '../../src/cli/dump-flags';
import { openReadOnly } from '../../src/engine';
import { listPfs, renderPfsTable } from '../../src/ops/dump';

export default class DumpPfs extends H2Command {
  static override description = 'List the PFSs (pseudo-filesystems) under the super-root';
  static override args = { device: deviceArg };
  static override flags = { force: forceReadFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DumpPfs);
    const s = await openReadOnly(args.device, { allowWriter: flags.force });
    try {
      const rows = listPfs(s);
      if (flags.json) this.emitJson('dump pfs', { device: args.device, pfs: rows });
      else this.emit(renderPfsTable(rows));
    } finally {
      s.close();
    }
  }
}
