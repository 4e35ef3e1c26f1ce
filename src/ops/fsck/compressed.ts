/**
 * Compressed data blocks the kernel cannot decode although their check code is good: what
 * earlier h2kit versions wrote with lz4js (a last match too close to the end of the block).
 * The check follows each such block's stream by the kernel's rules without producing it (the
 * check code already covers its bytes); the repair decodes it leniently and, when that fills
 * the logical block exactly, writes the bytes again copy-on-write with an encoder the kernel
 * accepts. Anything else is treated as an unreadable block.
 */
import { Blockref, brefCheckMethod, brefCompMethod } from '../../format/blockref';
import { BREF_TYPE_DATA, COMP_LZ4, COMP_NONE, COMP_ZLIB, RADIX_MAX, decComp, encCheck, encComp } from '../../format/constants';
import { lz4DecompressLenient, validateBlock } from '../../format/compress';
import { setCheck, verifyCheck } from '../../format/check';
import { hex64 } from '../../format/bytes';
import { FormatError } from '../../format/errors';
import { WriteSession, packDataBlock } from '../../engine';

/** Why the kernel would refuse this verified block, or null when it decodes (or is not compressed). */
export function undecodable(b: Blockref, phys: Uint8Array): string | null {
  return undecodableAt(b.type, b.methods, b.keybits, phys);
}

/** undecodable() from the blockref's type, methods and keybits. */
export function undecodableAt(type: number, methods: number, keybits: number, phys: Uint8Array): string | null {
  const comp = decComp(methods);
  if (type !== BREF_TYPE_DATA || (comp !== COMP_LZ4 && comp !== COMP_ZLIB) || keybits > RADIX_MAX) return null;
  const logical = 2 ** keybits;
  try {
    validateBlock(comp, phys, logical);
    return null;
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return e.message;
  }
}

/** The logical bytes of an LZ4 block the kernel refuses, when a lenient decode fills the block exactly. */
function salvage(b: Blockref, phys: Uint8Array): Uint8Array | null {
  if (brefCompMethod(b) !== COMP_LZ4) return null;
  try {
    return lz4DecompressLenient(phys, 2 ** b.keybits);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return null;
  }
}

/**
 * Re-encode the block `b` names (the blockref is changed in place: new data_off, methods and
 * check code); the old block is released at the commit. Null when it cannot be salvaged.
 */
export function reencode(s: WriteSession, b: Blockref): string | null {
  const phys = s.chains.readPhysical(b);
  if (!verifyCheck(b, phys).ok) return null;
  const data = salvage(b, phys);
  if (!data) return null;
  const packed = packDataBlock(data, COMP_LZ4) ?? { phys: data, comp: COMP_NONE };
  const off = s.freemap.allocate(BREF_TYPE_DATA, packed.phys.length, b.key);
  s.writeBlock(off, packed.phys);
  s.freemap.free(b.dataOff);
  b.dataOff = off;
  b.methods = encCheck(brefCheckMethod(b)) | encComp(packed.comp);
  setCheck(b, packed.phys);
  return `re-encoded to 0x${hex64(off)} (${packed.phys.length} bytes, the logical block unchanged)`;
}
