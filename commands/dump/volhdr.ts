import { ShowCommand } from '../../src/cli/show-command';

export default class DumpVolhdr extends ShowCommand {
  static override description = "Print the best volume header (--all: every copy), as 'hammer2 volhdr' does";
  static override examples = ['<%= config.bin %> dump volhdr image.img', '<%= config.bin %> dump volhdr vol0.img:vol1.img --json'];
  protected readonly which = 'volhdr' as const;
}
