/**
 * UUIDs as HAMMER2 stores them: a BSD `struct uuid`, whose first three fields are
 * little-endian integers. The tools print them field by field, so the printed form of the
 * first three groups is the byte-swapped raw bytes.
 */
import { createHash } from 'node:crypto';
import { FormatError } from './errors';

export const UUID_BYTES = 16;

/** Printed form (as `uuid_to_string`) of the 16 raw bytes at `off`. */
export function uuidToString(raw: Uint8Array, off = 0): string {
  const b = (i: number): string => raw[off + i].toString(16).padStart(2, '0');
  const le = (...idx: number[]): string => idx.map(b).join('');
  return (
    le(3, 2, 1, 0) + '-' + le(5, 4) + '-' + le(7, 6) + '-' + le(8, 9) + '-' + le(10, 11, 12, 13, 14, 15)
  );
}

/** Raw 16 on-disk bytes of a printed UUID. */
export function uuidFromString(text: string): Uint8Array {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text.trim());
  if (!m) throw new FormatError(`not a UUID: '${text}'`);
  const hex = (s: string): number[] => s.match(/../g)!.map((h) => parseInt(h, 16));
  return Uint8Array.from([
    ...hex(m[1]).reverse(),
    ...hex(m[2]).reverse(),
    ...hex(m[3]).reverse(),
    ...hex(m[4]),
    ...hex(m[5]),
  ]);
}

/** A random version-4 UUID in on-disk byte order. */
export function randomUuid(random: (n: number) => Uint8Array): Uint8Array {
  return uuidFromString(formatV4(random(16)));
}

function formatV4(r: Uint8Array): string {
  r[6] = (r[6] & 0x0f) | 0x40;
  r[8] = (r[8] & 0x3f) | 0x80;
  return printRfc(r);
}

/** Printed form of 16 bytes in RFC order. */
function printRfc(r: Uint8Array): string {
  const h = Buffer.from(r).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** RFC 4122 appendix C namespaces, as printed. */
export const UUID_NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
export const UUID_NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** The version nibble (high nibble of byte 6, RFC order) of a name-based SHA-1 UUID. */
const UUID_VERSION_SHA1 = 5;

/**
 * Printed name-based UUID, RFC 4122 version 5: the SHA-1 of the namespace's 16 bytes in
 * RFC (big-endian) order followed by the name, cut to 16 bytes, with the version and the
 * variant stamped in. A name given as a string is hashed as its UTF-8 bytes.
 */
export function uuidV5String(namespace: string, name: string | Uint8Array): string {
  const ns = rfcBytes(namespace);
  const digest = createHash('sha1').update(ns).update(typeof name === 'string' ? Buffer.from(name, 'utf8') : name).digest();
  const r = Uint8Array.from(digest.subarray(0, UUID_BYTES));
  r[6] = (r[6] & 0x0f) | (UUID_VERSION_SHA1 << 4);
  r[8] = (r[8] & 0x3f) | 0x80;
  return printRfc(r);
}

/** A version-5 UUID in on-disk byte order. */
export function uuidV5(namespace: string, name: string | Uint8Array): Uint8Array {
  return uuidFromString(uuidV5String(namespace, name));
}

/** The 16 bytes of a printed UUID in RFC order (as printed, not as HAMMER2 stores them). */
function rfcBytes(text: string): Uint8Array {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text.trim())) throw new FormatError(`not a UUID: '${text}'`);
  return Uint8Array.from(Buffer.from(text.trim().replace(/-/g, ''), 'hex'));
}
