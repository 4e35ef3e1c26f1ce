/** The three DragonFly-compatible dumps (show, freemap, volhdr) differ only in what they print. */
import { dumpJson, dumpToSink } from '../api/dump';
import { ShowWhich } from '../ops/dump';
import { H2Command } from './base';
import { deviceArg, showFlags } from './dump-flags';
import { FdSink } from './output';

export abstract class ShowCommand extends H2Command {
  static override args = { device: deviceArg };
  static override flags = { ...showFlags };
  protected abstract readonly which: ShowWhich;

  async run(): Promise<void> {
    // Statics inherited from this class are not own properties of the subclass, and oclif's
    // parse only spreads own ones; so name them explicitly.
    const { args, flags } = await this.parse({ args: ShowCommand.args, flags: ShowCommand.flags, baseFlags: H2Command.baseFlags });
    const opts = { verbose: flags.verbose, allHeaders: flags.all, force: flags.force };
    if (flags.json) {
      this.emitJson(`dump ${this.which}`, await dumpJson(args.device, this.which, opts));
    } else {
      const sink = new FdSink(1);
      const diag = new FdSink(2);
      await dumpToSink(args.device, this.which, sink, { ...opts, diagnostics: { write: (t) => (diag.write(t), diag.flush()) } });
      sink.flush();
    }
  }
}
