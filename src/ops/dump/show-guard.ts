/**
 * The engine's TraversalGuard (src/engine/guard.ts) for blockrefs held as raw fields: the same
 * bounds and the same words, without a blockref object per entry.
 */
import { MAX_BLOCK_VISITS, MAX_TREE_DEPTH } from '../../engine/guard';
import { BREF_TYPE_DATA, OFF_MASK_RADIX } from '../../format/constants';

/** data_off's low bits hold the size radix: offsets are multiples of this. */
const OFFSET_UNIT = Number(OFF_MASK_RADIX) + 1;

export class ShowGuard {
  // Keyed by the offset over 64 (its low bits hold the radix, masked off): the same blocks as
  // the engine's guard, and small integer keys, which a Map hashes fastest.
  private readonly visits = new Map<number, number>();
  skipped = 0;

  /**
   * null to go on, or why this blockref must not be entered; `offHi:offLo` is its byte
   * offset (size radix masked off) and `offset` the same as a Number.
   */
  check(type: number, radix: number, offset: number, offHi: number, offLo: number, depth: number): string | null {
    if (depth > MAX_TREE_DEPTH) {
      this.skipped++;
      return `tree deeper than ${MAX_TREE_DEPTH} levels (a blockref cycle?)`;
    }
    if (radix === 0 || type === BREF_TYPE_DATA) return null;
    const key = offset / OFFSET_UNIT;
    const n = (this.visits.get(key) ?? 0) + 1;
    this.visits.set(key, n);
    if (n > MAX_BLOCK_VISITS) {
      this.skipped++;
      const hex = offHi ? offHi.toString(16) + offLo.toString(16).padStart(8, '0') : offLo.toString(16);
      return `block 0x${hex} referenced more than ${MAX_BLOCK_VISITS} times`;
    }
    return null;
  }
}
