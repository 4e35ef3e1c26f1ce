import { Flags } from '@oclif/core';
import { openReadOnly } from '../../src/engine';
import { ShowCommand } from '../../src/cli/show-command';
import { H2Command } from '../../src/cli/base';
import { freemapMapOf, writeFreemapSvgFile } from '../../src/ops/dump';
import { renderFragScore } from '../../src/ops/common/frag-score';

export default class DumpFreemap extends ShowCommand {
  static override description = "Print the freemap tree and storage totals, as 'hammer2 freemap' does; or draw it (--svg)";
  static override examples = [
    '<%= config.bin %> dump freemap image.img',
    '<%= config.bin %> dump freemap vol0.img:vol1.img --json',
    '<%= config.bin %> dump freemap image.img --svg map.svg',
  ];
  static override flags = {
    ...ShowCommand.flags,
    svg: Flags.string({ description: 'draw the fragmentation picture (one cell per 4 MiB segment) into this SVG file instead, and print the fragmentation score' }),
  };
  protected readonly which = 'freemap' as const;

  override async run(): Promise<void> {
    const { args, flags } = await this.parse({ args: ShowCommand.args, flags: DumpFreemap.flags, baseFlags: H2Command.baseFlags });
    if (flags.svg === undefined) return super.run();
    const s = await openReadOnly(args.device, { allowWriter: flags.force });
    try {
      const map = freemapMapOf(s);
      writeFreemapSvgFile(flags.svg, [{ title: `${args.device}: freemap`, map }]);
      if (flags.json) this.emitJson('dump freemap', { device: args.device, svg: flags.svg, segments_per_cell: map.perCell, fragmentation: map.score });
      else this.emit(`${flags.svg}: ${map.cells.length} cells of ${map.perCell} segment${map.perCell === 1 ? '' : 's'}; ${renderFragScore(map.score)}\n`);
    } finally {
      s.close();
    }
  }
}
