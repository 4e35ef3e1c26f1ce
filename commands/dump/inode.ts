import { Args } from '@oclif/core';
import { H2Command } from '../../src/cli/base';
import { forceReadFlag, deviceArg, pfsFlag } from '../../src/cli/dump-flags';
import { openReadOnly } from '../../src/engine';
import { choosePfs, findInode, inodeDetails, renderInodeText } from '../../src/ops/dump';

export default class DumpInode extends H2Command {
  static override description = 'Show one inode, by path from the PFS root or by inode number (0x400, 1024 or #1024)';
  static override args = {
    device: deviceArg,
    target: Args.string({ required: true, description: 'path inside the PFS, or an inode number' }),
  };
  static override flags = { pfs: pfsFlag, force: forceReadFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DumpInode);
    const s = await openReadOnly(args.device, { allowWriter: flags.force });
    try {
      const pfs = choosePfs(s, flags.pfs);
      const ino = findInode(s, pfs, args.target);
      if (flags.json) this.emitJson('dump inode', { device: args.device, pfs: pfs.name, inode: inodeDetails(s, ino) });
      else this.emit(Buffer.from(renderInodeText(s, ino), 'utf8'));
    } finally {
      s.close();
    }
  }
}
