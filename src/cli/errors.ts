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

/**
 * The error's message on one line. oclif's parse errors span several lines ("Missing 1
 * required arg:" followed by the argument's help); keep the first line and the names it lists.
 */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const lines = msg
    .split('\n')
    .map((l) => l.replace(/^\s*(›\s*)?(Error:\s*)?/, '').trim())
    .filter((l) => l.length > 0 && !/^See more help with/.test(l));
  if (lines.length > 1 && lines[0].endsWith(':')) {
    // "Missing 1 required arg:" is followed by the argument's help: keep just its name
    if (/^Missing/.test(lines[0])) return `${lines[0]} ${lines[1].split(/\s+/)[0]} (see --help)`;
    return `${lines[0]} ${lines.slice(1).join('; ')}`;
  }
  return lines.join('; ');
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
