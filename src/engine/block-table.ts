/**
 * Block tables (the blockset of an inode or the volume root, the array of an indirect block)
 * kept as the kernel keeps them (hammer2_base_find/insert/delete): sorted by key, with empty
 * slots allowed anywhere; an insert fills the nearest empty slot before or after its place,
 * shifting the entries between. The parent's statistics (embed.stats and leaf_count) follow
 * every insert and delete as in the kernel.
 */
import {
  BLOCKREF_LEAF_MAX,
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_EMPTY,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  Blockref,
  childStats,
  cloneBlockref,
  embedStats,
  emptyBlockref,
  setEmbedStats,
  KEY_MAX,
  keyEnd,
} from '../format';
import { H2Error } from './errors';

/** One slot: the blockref, and the in-memory chain of the child when it is loaded. */
export interface Slot<C> {
  bref: Blockref;
  chain: C | null;
}

// Read once: a name imported through the format index is a getter call at every use, and
// these run for every slot of every table a population touches.
const EMPTY = BREF_TYPE_EMPTY;
const isEmpty = <C>(s: Slot<C>): boolean => s.bref.type === EMPTY;

/** Index after the last live slot. */
export function liveZero<C>(table: Slot<C>[]): number {
  let i = table.length;
  while (i > 0 && isEmpty(table[i - 1])) i--;
  return i;
}

export function liveCount<C>(table: Slot<C>[]): number {
  return table.reduce((n, s) => n + (isEmpty(s) ? 0 : 1), 0);
}

/** The first live slot whose range reaches `key` or lies past it; table.length when none. */
export function baseFind<C>(table: Slot<C>[], key: bigint): number {
  const limit = liveZero(table);
  // Entries are sorted and never overlap: when the last one ends before `key`, all do. Keys
  // handed out in ascending order (inode numbers, file offsets) always land here.
  if (limit > 0 && table[limit - 1].bref.key < key && keyEnd(table[limit - 1].bref) < key) return table.length;
  for (let i = 0; i < limit; i++) {
    const s = table[i];
    if (!isEmpty(s) && (s.bref.key > key || keyEnd(s.bref) >= key)) return i;
  }
  return table.length;
}

/** Statistics a child contributes to its parent's blockref. */
function adjustStats(parent: Blockref, elm: Blockref, sign: 1n | -1n): void {
  const st = embedStats(parent);
  const add = childStats(elm);
  st.dataCount += sign * add.dataCount;
  st.inodeCount += sign * add.inodeCount;
  let leaf = BigInt(parent.leafCount);
  const LEAF_MAX = BigInt(BLOCKREF_LEAF_MAX);
  switch (elm.type) {
    case BREF_TYPE_INODE:
    case BREF_TYPE_DATA:
    case BREF_TYPE_INDIRECT: {
      if (elm.type !== BREF_TYPE_INDIRECT && leaf !== LEAF_MAX) leaf = sign > 0 ? leaf + 1n : leaf > 0n ? leaf - 1n : 0n;
      if (elm.type !== BREF_TYPE_INODE && leaf !== LEAF_MAX) {
        const n = BigInt(elm.leafCount);
        if (sign > 0) leaf = leaf + n < LEAF_MAX ? leaf + n : LEAF_MAX;
        else leaf = leaf <= n ? 0n : leaf - n;
      }
      break;
    }
    case BREF_TYPE_DIRENT:
      if (leaf !== LEAF_MAX) leaf = sign > 0 ? leaf + 1n : leaf > 0n ? leaf - 1n : 0n;
      break;
  }
  // Unsigned 64-bit arithmetic, as the kernel's: newfs leaves the super-root's counts at zero
  // while its PFS inodes count themselves, so the first delete goes below zero and the insert
  // that follows brings it back.
  setEmbedStats(parent, { dataCount: st.dataCount & KEY_MAX, inodeCount: st.inodeCount & KEY_MAX });
  parent.leafCount = Number(leaf);
}

export function baseInsert<C>(parent: Blockref, table: Slot<C>[], given: Slot<C>): void {
  const count = table.length;
  // The table keeps its own copy: a chain's blockref changes in place (its stats follow its
  // children), and the next flush must subtract what the table holds, not the changed value.
  const slot = { bref: cloneBlockref(given.bref), chain: given.chain };
  const elm = slot.bref;
  adjustStats(parent, elm, 1n);
  let i = baseFind(table, elm.key);
  const lz = liveZero(table);
  if (i === count && lz < count) {
    table[lz] = slot;
    return;
  }
  const xkey = keyEnd(elm);
  if (i !== count && (table[i].bref.key < elm.key || xkey >= table[i].bref.key)) {
    throw new H2Error(`block table: key 0x${elm.key.toString(16)}/${elm.keybits} overlaps the entry at slot ${i}`);
  }
  let j = i;
  let k = i;
  while (j > 0 || k < count) {
    j--;
    if (j >= 0 && isEmpty(table[j])) {
      // shift entries j+1 .. i-1 down one and take slot i-1
      for (let m = j; m < i - 1; m++) table[m] = table[m + 1];
      table[i - 1] = slot;
      return;
    }
    k++;
    if (k < count && isEmpty(table[k])) {
      for (let m = k; m > i; m--) table[m] = table[m - 1];
      table[i] = slot;
      return;
    }
  }
  throw new H2Error('block table: no room');
}

/** Remove the live entry with exactly `elm`'s key; returns its slot index. */
export function baseDelete<C>(parent: Blockref, table: Slot<C>[], elm: Blockref): number {
  const i = baseFind(table, elm.key);
  if (i === table.length || table[i].bref.key !== elm.key) {
    throw new H2Error(`block table: no entry with key 0x${elm.key.toString(16)} to delete`);
  }
  adjustStats(parent, table[i].bref, -1n);
  table[i] = emptySlot();
  return i;
}

/** Remove the live entry at `index` (fsck: where two entries share a key, the key is not enough). */
export function baseDeleteAt<C>(parent: Blockref, table: Slot<C>[], index: number): void {
  adjustStats(parent, table[index].bref, -1n);
  table[index] = emptySlot();
}

/** Put a changed blockref for the same key in place (the kernel's delete + insert of a flush). */
export function baseReplace<C>(parent: Blockref, table: Slot<C>[], index: number, bref: Blockref): void {
  adjustStats(parent, table[index].bref, -1n);
  adjustStats(parent, bref, 1n);
  table[index] = { bref: cloneBlockref(bref), chain: table[index].chain };
}

export function emptySlot<C>(): Slot<C> {
  return { bref: emptyBlockref(), chain: null };
}
