/**
 * Turning any error into one line on stderr and a documented exit code. Stack traces are shown
 * only with H2KIT_DEBUG=1.
 */
import { H2Error, EXIT } from '../engine/errors';
import { FormatError } from '../format/errors';

interface OclifLike {
  oclif?: { exit?: number };
  code?: string;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof H2Error) return err.exitCode;
  if (err instanceof FormatError) return EXIT.FAILURE;
  const o = err as OclifLike;
  if (o?.oclif?.exit !== undefined) return o.oclif.exit === 0 ? 0 : EXIT.USAGE;
  if (o?.code === 'EPIPE') return 0;
  return EXIT.FAILURE;
}

/** The error's message folded onto one line, without oclif's hints or decorations. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg
    .split('\n')
    .map((l) => l.replace(/^\s*(›\s*)?(Error:\s*)?/, '').trim())
    .filter((l) => l.length > 0 && !/^See more help with/.test(l))
    .join('; ');
}

export function renderCliError(err: unknown): void {
  const code = exitCodeOf(err);
  if (code === 0) {
    process.exitCode = 0;
    return;
  }
  const internal = !(err instanceof H2Error) && !(err instanceof FormatError) && exitCodeOf(err) !== EXIT.USAGE;
  process.stderr.write(`h2kit: ${internal ? 'internal error: ' : ''}${oneLine(err)}\n`);
  if (process.env.H2KIT_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exitCode = code;
}
