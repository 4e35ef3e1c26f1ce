/**
 * Versioned JSON output. Every document starts with a `__header` naming the format version and
 * the command (after btrfs-progs' JSON convention). 64-bit values (bigint) are written as
 * 0x-prefixed hex strings, 16 digits wide.
 */
import { jsonHex } from '../format/bytes';

export const JSON_FORMAT_VERSION = 1;

/** Keys are snake_case in every document, whatever the TypeScript names are. */
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[snake(k)] = snakeKeys(x);
  return out;
}

export function toJson(command: string, body: object): string {
  const doc = { __header: { tool: 'h2kit', format_version: JSON_FORMAT_VERSION, command }, ...(snakeKeys(body) as object) };
  return JSON.stringify(doc, (_k, v) => (typeof v === 'bigint' ? jsonHex(v) : v), 2);
}
