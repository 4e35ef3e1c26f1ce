import { ShowCommand } from '../../src/cli/show-command';

export default class DumpShow extends ShowCommand {
  static override description = "Print the chain tree from the best volume header, as 'hammer2 show' does (-v also verifies data blocks)";
  static override examples = ['<%= config.bin %> dump show image.img', '<%= config.bin %> dump show vol0.img:vol1.img --json'];
  protected readonly which = 'show' as const;
}
