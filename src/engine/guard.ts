/**
 * Protection against hostile topologies. A damaged or crafted image can hold blockrefs that
 * point back to an ancestor (a cycle) or many references to one block (exponential fan-in).
 * A real HAMMER2 tree is shallow, and a metadata block is shared only by snapshots, so
 * traversals stop past these bounds instead of running forever. Data blocks are leaves (no
 * fan-out to multiply) and the kernel's live dedup points any number of references at one
 * (makefs writing 19,000 zero blocks without compression leaves one), so they are not counted.
 */
import { Blockref, brefRadix } from '../format/blockref';
import { BREF_TYPE_DATA, OFF_MASK } from '../format/constants';
import { NumberIndex } from './number-index';

/** Deeper than any real tree: 64-bit keys split at least 32 ways per level, a few inode levels. */
export const MAX_TREE_DEPTH = 96;
/** How often one metadata block may be entered in one traversal (snapshot sharing stays far below). */
export const MAX_BLOCK_VISITS = 256;

export class TraversalGuard {
  // Keyed by Number(offset): exact below 2^53 bytes (8 PiB); typed arrays, not a Map, since
  // a walk of a million inodes enters a million metadata blocks.
  private visits = new Uint16Array(1024);
  /** blocks skipped, for reports */
  skipped = 0;

  /**
   * `blocks` numbers the metadata blocks by offset; a caller that keeps its own facts per block
   * may share one between walks (each guard still counts its own walk's entries).
   */
  constructor(private readonly blocks = new NumberIndex()) {}

  /** null to go on, or why this blockref must not be entered. */
  check(bref: Blockref, depth: number): string | null {
    return this.checkAt(bref.type, brefRadix(bref), Number(bref.dataOff & OFF_MASK), depth);
  }

  /** check() from the fields: the type, the size radix and the offset as a Number. */
  checkAt(type: number, radix: number, off: number, depth: number): string | null {
    if (depth > MAX_TREE_DEPTH) {
      this.skipped++;
      return `tree deeper than ${MAX_TREE_DEPTH} levels (a blockref cycle?)`;
    }
    if (radix === 0 || type === BREF_TYPE_DATA) return null;
    const slot = this.blocks.intern(off);
    if (slot >= this.visits.length) {
      const more = new Uint16Array(Math.max(slot + 1, this.visits.length * 2));
      more.set(this.visits);
      this.visits = more;
    }
    // counting stops at the bound, so the count never wraps
    const n = Math.min(this.visits[slot] + 1, MAX_BLOCK_VISITS + 1);
    this.visits[slot] = n;
    if (n > MAX_BLOCK_VISITS) {
      this.skipped++;
      return `block 0x${off.toString(16)} referenced more than ${MAX_BLOCK_VISITS} times`;
    }
    return null;
  }
}
