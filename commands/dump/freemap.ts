import { ShowCommand } from '../../src/cli/show-command';

export default class DumpFreemap extends ShowCommand {
  static override description = "Print the freemap tree and storage totals, as 'hammer2 freemap' does";
  static override examples = ['<%= config.bin %> dump freemap image.img', '<%= config.bin %> dump freemap vol0.img:vol1.img --json'];
  protected readonly which = 'freemap' as const;
}
