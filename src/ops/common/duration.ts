/** Durations on the command line: 90, 90s, 15m, 2h, 1d (a bare number is seconds). */
import { EXIT, H2Error } from '../../engine/errors';

const UNIT_MS: Record<string, number> = { '': 1000, ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };

export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) throw new H2Error(`${what}: '${text}' is not a duration (seconds, or a number with ms, s, m, h or d)`, EXIT.USAGE);
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? '').toLowerCase()]);
}
