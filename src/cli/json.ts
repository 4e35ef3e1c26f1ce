/**
 * Versioned JSON output. Every document starts with a `__header` naming the format version and
 * the command (after btrfs-progs' JSON convention). 64-bit values (bigint) are written as
 * 0x-prefixed hex strings, 16 digits wide.
 */
import { jsonHex } from '../format/bytes';

export const JSON_FORMAT_VERSION = 1;

export function toJson(command: string, body: object): string {
  const doc = { __header: { tool: 'h2kit', format_version: JSON_FORMAT_VERSION, command }, ...body };
  return JSON.stringify(doc, (_k, v) => (typeof v === 'bigint' ? jsonHex(v) : v), 2);
}
