/**
 * The engine's TraversalGuard (src/engine/guard.ts) for blockrefs held as raw fields: the same
 * bounds and the same words, without a blockref object per entry. The visit counts live in an
 * open-addressing table of typed arrays, which a show of 100k inodes probes a few hundred
 * thousand times; a Map cost several times as much.
 */
import { MAX_BLOCK_VISITS, MAX_TREE_DEPTH } from '../../engine/guard';
import { BREF_TYPE_DATA, OFF_MASK_RADIX } from '../../format/constants';

/** data_off's low bits hold the size radix: offsets are multiples of this. */
const OFFSET_UNIT = Number(OFF_MASK_RADIX) + 1;
const TWO_32 = 4294967296;

export class ShowGuard {
  /** offset / OFFSET_UNIT + 1 per slot (0: free), and the visits so far */
  // sized for a filesystem of some 30k metadata blocks before it first grows
  private keys = new Float64Array(1 << 16);
  private counts = new Uint16Array(1 << 16);
  private used = 0;
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
    if (this.visit(offset / OFFSET_UNIT + 1) > MAX_BLOCK_VISITS) {
      this.skipped++;
      const hex = offHi ? offHi.toString(16) + offLo.toString(16).padStart(8, '0') : offLo.toString(16);
      return `block 0x${hex} referenced more than ${MAX_BLOCK_VISITS} times`;
    }
    return null;
  }

  /** Count one more visit of `key` (a positive integer); the visits so far, this one included. */
  private visit(key: number): number {
    const mask = this.keys.length - 1;
    let i = hash(key) & mask;
    for (;;) {
      const k = this.keys[i];
      if (k === key) {
        // counts stop at the bound + 1: enough to refuse, and they fit 16 bits
        if (this.counts[i] <= MAX_BLOCK_VISITS) this.counts[i]++;
        return this.counts[i];
      }
      if (k === 0) break;
      i = (i + 1) & mask;
    }
    this.keys[i] = key;
    this.counts[i] = 1;
    if (++this.used * 2 > this.keys.length) this.grow();
    return 1;
  }

  private grow(): void {
    const keys = this.keys;
    const counts = this.counts;
    this.keys = new Float64Array(keys.length * 2);
    this.counts = new Uint16Array(keys.length * 2);
    const mask = this.keys.length - 1;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j];
      if (k === 0) continue;
      let i = hash(k) & mask;
      while (this.keys[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = k;
      this.counts[i] = counts[j];
    }
  }
}

/** A well-mixed 32-bit hash of a positive integer below 2^53. */
function hash(key: number): number {
  const lo = key % TWO_32 | 0;
  const hi = (key / TWO_32) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) ^ (h >>> 16);
}
