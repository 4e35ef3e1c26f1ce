import { Args, Flags } from '@oclif/core';
import * as fs from 'node:fs';
import { H2Command } from '../../src/cli/base';
import { fdByteSink } from '../../src/cli/output';
import { deviceArg, pfsFlag } from '../../src/cli/dump-flags';
import { H2Error, describeOpenError, openReadOnly } from '../../src/engine';
import { choosePfs, extractFile, findInode } from '../../src/ops/dump';

export default class DumpFile extends H2Command {
  static override description =
    "Copy a regular file's contents out of the image (holes, indirect blocks, lz4/zlib/autozero handled)";
  static override args = {
    device: deviceArg,
    path: Args.string({ required: true, description: 'path of the file inside the PFS, or its inode number' }),
  };
  static override flags = {
    pfs: pfsFlag,
    output: Flags.string({ char: 'o', description: 'write to this file instead of stdout (holes stay sparse)' }),
    force: Flags.boolean({ description: 'overwrite the output file if it exists; read the device even while another h2kit process is writing it', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DumpFile);
    if (flags.json && !flags.output) throw new H2Error('--json needs --output: stdout carries the JSON summary', 2);
    const s = await openReadOnly(args.device, { allowWriter: flags.force });
    try {
      const pfs = choosePfs(s, flags.pfs);
      const ino = findInode(s, pfs, args.path);
      let fd = 1;
      if (flags.output) {
        try {
          fd = fs.openSync(flags.output, flags.force ? 'w' : 'wx');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new H2Error(`${flags.output}: exists (use --force to overwrite)`, 3);
          throw describeOpenError(flags.output, e);
        }
      }
      try {
        const r = extractFile(s, ino, fdByteSink(fd));
        if (flags.json) this.emitJson('dump file', { device: args.device, pfs: pfs.name, path: args.path, output: flags.output, bytes: r.bytes, extents: r.extents });
      } finally {
        if (fd !== 1) fs.closeSync(fd);
      }
    } finally {
      s.close();
    }
  }
}
