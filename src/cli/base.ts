/** What every h2kit command shares: the --json flag, output helpers and error handling. */
import { Command, Flags } from '@oclif/core';
import { writeFully } from './output';
import { renderCliError } from './errors';
import { initXxh64 } from '../format/xxh64';
import { toJson } from './json';

export abstract class H2Command extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'print the result as versioned JSON (64-bit values as 0x hex strings)', default: false }),
  };

  /** Every command may hash: compile the XXH64 WebAssembly once, up front. */
  override async init(): Promise<void> {
    await super.init();
    await initXxh64();
  }

  /** Write raw bytes or latin1 text to stdout synchronously, so large outputs keep their order. */
  protected emit(text: string | Uint8Array): void {
    writeFully(1, typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  protected emitJson(command: string, body: object): void {
    this.emit(toJson(command, body) + '\n');
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    // A failed parse has been reported here; oclif's "did not parse" warning would be noise.
    this.parsed = true;
    renderCliError(err);
  }
}
