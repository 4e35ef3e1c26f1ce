/**
 * Check codes: what a blockref's check union holds for the physical bytes it points to.
 * Codes always cover the physical (possibly compressed) block, never the logical data.
 */
import { createHash } from 'node:crypto';
import {
  Blockref,
  brefCheckMethod,
  checkFreemap,
  checkIscsi32,
  checkSha192,
  checkXxhash64,
} from './blockref';
import {
  CHECK_DISABLED,
  CHECK_FREEMAP,
  CHECK_ISCSI32,
  CHECK_NONE,
  CHECK_SHA192,
  CHECK_XXHASH64,
} from './constants';
import { crc32c } from './crc32c';
import { xxh64 } from './xxh64';
import { hex64 } from './bytes';

/** SHA-256 folded to 192 bits: the third 64-bit word is XORed with the fourth. */
export function sha192(data: Uint8Array): Uint8Array {
  const d = new Uint8Array(createHash('sha256').update(data).digest());
  for (let i = 0; i < 8; i++) d[16 + i] ^= d[24 + i];
  return d.subarray(0, 24);
}

export interface CheckResult {
  method: number;
  /** false only when a code exists and does not match */
  ok: boolean;
  /** printable stored and computed codes ('' for methods with none) */
  stored: string;
  computed: string;
}

const hex32 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
const hexBytes = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Verify `data` (the block's physical bytes) against the check code in `bref`. */
export function verifyCheck(bref: Blockref, data: Uint8Array): CheckResult {
  const method = brefCheckMethod(bref);
  switch (method) {
    case CHECK_ISCSI32: {
      const stored = checkIscsi32(bref);
      const computed = crc32c(data);
      return { method, ok: stored === computed, stored: hex32(stored), computed: hex32(computed) };
    }
    case CHECK_XXHASH64: {
      const stored = checkXxhash64(bref);
      const computed = xxh64(data);
      return { method, ok: stored === computed, stored: hex64(stored), computed: hex64(computed) };
    }
    case CHECK_SHA192: {
      const stored = hexBytes(checkSha192(bref));
      const computed = hexBytes(sha192(data));
      return { method, ok: stored === computed, stored, computed };
    }
    case CHECK_FREEMAP: {
      const stored = checkFreemap(bref).icrc32;
      const computed = crc32c(data);
      return { method, ok: stored === computed, stored: hex32(stored), computed: hex32(computed) };
    }
    case CHECK_NONE:
    case CHECK_DISABLED:
      return { method, ok: true, stored: '', computed: '' };
    default:
      // An unknown method cannot be verified; the checker reports it as a type problem.
      return { method, ok: false, stored: '', computed: '' };
  }
}

/** Store in `bref.check` the code of `data` under the method already set in `bref.methods`. */
export function setCheck(bref: Blockref, data: Uint8Array): void {
  const method = brefCheckMethod(bref);
  const v = new DataView(bref.check.buffer, bref.check.byteOffset, bref.check.byteLength);
  switch (method) {
    case CHECK_ISCSI32:
      bref.check.fill(0);
      v.setUint32(0, crc32c(data), true);
      break;
    case CHECK_XXHASH64:
      bref.check.fill(0);
      v.setBigUint64(0, xxh64(data), true);
      break;
    case CHECK_SHA192:
      bref.check.fill(0);
      bref.check.set(sha192(data), 0);
      break;
    case CHECK_FREEMAP:
      // bigmask and avail share the union and are kept.
      v.setUint32(0, crc32c(data), true);
      break;
    default:
      bref.check.fill(0);
  }
}
