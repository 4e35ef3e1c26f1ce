/**
 * What pass 2's single walk of the tree leaves for the later passes: per inode number of each
 * PFS, the inode's facts and the directory entries naming it. They live in typed arrays (one
 * column per field, one slot per inode number, growing by doubling), not in objects and Maps:
 * about a hundred bytes per inode, so a million inodes fit in the memory bound.
 */
import { NumberIndex } from '../../engine/number-index';

export interface InodeFacts {
  dataOff: bigint;
  key: bigint;
  type: number;
  nlinks: bigint;
  iparent: bigint;
  size: bigint;
  /** highest DATA key seen under it, -1 when none */
  lastDataKey: bigint;
}

/** The directory entries that name one inode number. */
export interface EntryRefs {
  count: number;
  /** the directories holding them, the first few (enough to judge iparent and multiple links) */
  dirs: bigint[];
  /** the entry type of the first entry, and where that entry is */
  type: number;
  dataOff: bigint;
  key: bigint;
}

export const MAX_DIRS_KEPT = 4;

const HAS_INODE = 1;
const HAS_REFS = 2;
const HAS_DATA = 4;
const INITIAL_SLOTS = 256;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

type Column = Uint8Array | Uint32Array | BigUint64Array;

function grown<T extends Column>(a: T, n: number): T {
  const out = new (a.constructor as new (n: number) => T)(n);
  out.set(a as never);
  return out;
}

/**
 * The facts of one PFS by inode number. Slots are numbered in the order inode numbers are
 * first met (as an inode or as an entry's target). Inode numbers at or above 2^53, which only
 * damage produces, stand in the index as negative keys, -1 - their place in `bigs`.
 */
export class InumTable {
  private index: NumberIndex;
  private bigKeys = new Map<bigint, number>();
  private bigs: bigint[] = [];
  private cap: number;
  flags: Uint8Array;
  // the inode
  type: Uint8Array;
  dataOff: BigUint64Array;
  nlinks: BigUint64Array;
  iparent: BigUint64Array;
  size: BigUint64Array;
  /** the highest DATA key under the inode, when HAS_DATA */
  lastDataKey: BigUint64Array;
  // the entries naming it
  refCount: Uint32Array;
  entType: Uint8Array;
  dir0: BigUint64Array;
  entDataOff: BigUint64Array;
  entKey: BigUint64Array;
  /** the directories of the second to MAX_DIRS_KEPT-th entries (hard links), by slot */
  moreDirs = new Map<number, bigint[]>();
  inodeCount = 0;
  refTargets = 0;

  /**
   * `expected` inode numbers (a hint: the PFS's embed.stats) are given room at once, so a
   * check that meets them copies no column; beyond it, columns double.
   */
  constructor(expected = INITIAL_SLOTS) {
    const c = Math.max(INITIAL_SLOTS, Math.ceil(expected * 1.05) + INITIAL_SLOTS);
    this.cap = c;
    this.index = new NumberIndex(c);
    this.flags = new Uint8Array(c);
    this.type = new Uint8Array(c);
    this.dataOff = new BigUint64Array(c);
    this.nlinks = new BigUint64Array(c);
    this.iparent = new BigUint64Array(c);
    this.size = new BigUint64Array(c);
    this.lastDataKey = new BigUint64Array(c);
    this.refCount = new Uint32Array(c);
    this.entType = new Uint8Array(c);
    this.dir0 = new BigUint64Array(c);
    this.entDataOff = new BigUint64Array(c);
    this.entKey = new BigUint64Array(c);
  }

  /** Slots in use (inode numbers met). */
  get slots(): number {
    return this.index.size;
  }

  /** The index key standing for `inum`, or null for a large one not met yet. */
  private keyOf(inum: bigint): number | null {
    if (inum <= SAFE_MAX) return Number(inum);
    const i = this.bigKeys.get(inum);
    return i === undefined ? null : -1 - i;
  }

  slotOf(inum: bigint): number {
    const k = this.keyOf(inum);
    return k === null ? -1 : this.index.slotOf(k);
  }

  /** The inode number of a slot. */
  inumAt(slot: number): bigint {
    const k = this.index.keyAt(slot);
    return k >= 0 ? BigInt(k) : this.bigs[-1 - k];
  }

  hasInode(slot: number): boolean {
    return slot >= 0 && (this.flags[slot] & HAS_INODE) !== 0;
  }

  hasRefs(slot: number): boolean {
    return slot >= 0 && (this.flags[slot] & HAS_REFS) !== 0;
  }

  private intern(inum: bigint): number {
    let k = this.keyOf(inum);
    if (k === null) {
      this.bigKeys.set(inum, this.bigs.length);
      k = -1 - this.bigs.length;
      this.bigs.push(inum);
    }
    const slot = this.index.intern(k);
    if (slot === this.cap) this.grow();
    return slot;
  }

  private grow(): void {
    const c = this.cap * 2;
    this.flags = grown(this.flags, c);
    this.type = grown(this.type, c);
    this.dataOff = grown(this.dataOff, c);
    this.nlinks = grown(this.nlinks, c);
    this.iparent = grown(this.iparent, c);
    this.size = grown(this.size, c);
    this.lastDataKey = grown(this.lastDataKey, c);
    this.refCount = grown(this.refCount, c);
    this.entType = grown(this.entType, c);
    this.dir0 = grown(this.dir0, c);
    this.entDataOff = grown(this.entDataOff, c);
    this.entKey = grown(this.entKey, c);
    this.cap = c;
  }

  /** Record an inode; false (nothing recorded) when its number is already taken in this PFS. */
  addInode(f: InodeFacts): boolean {
    const slot = this.intern(f.key);
    if (this.flags[slot] & HAS_INODE) return false;
    this.flags[slot] |= HAS_INODE;
    this.inodeCount++;
    this.type[slot] = f.type;
    this.dataOff[slot] = f.dataOff;
    this.nlinks[slot] = f.nlinks;
    this.iparent[slot] = f.iparent;
    this.size[slot] = f.size;
    if (f.lastDataKey >= 0n) this.noteData(slot, f.lastDataKey);
    return true;
  }

  /** A DATA block at `key` under the inode of `slot`. */
  noteData(slot: number, key: bigint): void {
    if (this.flags[slot] & HAS_DATA && key <= this.lastDataKey[slot]) return;
    this.flags[slot] |= HAS_DATA;
    this.lastDataKey[slot] = key;
  }

  /** The highest DATA key under the inode of `slot`, or -1. */
  lastData(slot: number): bigint {
    return this.flags[slot] & HAS_DATA ? this.lastDataKey[slot] : -1n;
  }

  /** Count a directory entry in `dir` naming `target`; the first one's type and place are kept. */
  addEntry(target: bigint, dir: bigint, type: number, dataOff: bigint, key: bigint): void {
    const slot = this.intern(target);
    if (!(this.flags[slot] & HAS_REFS)) {
      this.flags[slot] |= HAS_REFS;
      this.refTargets++;
      this.refCount[slot] = 1;
      this.dir0[slot] = dir;
      this.entType[slot] = type;
      this.entDataOff[slot] = dataOff;
      this.entKey[slot] = key;
      return;
    }
    const n = ++this.refCount[slot];
    if (n > MAX_DIRS_KEPT) return;
    const more = this.moreDirs.get(slot);
    if (more) more.push(dir);
    else this.moreDirs.set(slot, [dir]);
  }

  dirsOf(slot: number): bigint[] {
    return [this.dir0[slot], ...(this.moreDirs.get(slot) ?? [])];
  }

  inodeAt(slot: number): InodeFacts {
    return {
      dataOff: this.dataOff[slot],
      key: this.inumAt(slot),
      type: this.type[slot],
      nlinks: this.nlinks[slot],
      iparent: this.iparent[slot],
      size: this.size[slot],
      lastDataKey: this.lastData(slot),
    };
  }

  refsAt(slot: number): EntryRefs {
    return { count: this.refCount[slot], dirs: this.dirsOf(slot), type: this.entType[slot], dataOff: this.entDataOff[slot], key: this.entKey[slot] };
  }
}

/** Read-only, Map-like access to the inodes of a table (each `get` makes a fresh record). */
export class InodeView {
  constructor(private readonly t: InumTable) {}
  get size(): number {
    return this.t.inodeCount;
  }
  has(inum: bigint): boolean {
    return this.t.hasInode(this.t.slotOf(inum));
  }
  get(inum: bigint): InodeFacts | undefined {
    const slot = this.t.slotOf(inum);
    return this.t.hasInode(slot) ? this.t.inodeAt(slot) : undefined;
  }
  *[Symbol.iterator](): Generator<[bigint, InodeFacts]> {
    for (let s = 0; s < this.t.slots; s++) if (this.t.hasInode(s)) yield [this.t.inumAt(s), this.t.inodeAt(s)];
  }
}

/** Read-only, Map-like access to the entry counts of a table. */
export class RefsView {
  constructor(private readonly t: InumTable) {}
  get size(): number {
    return this.t.refTargets;
  }
  has(inum: bigint): boolean {
    return this.t.hasRefs(this.t.slotOf(inum));
  }
  get(inum: bigint): EntryRefs | undefined {
    const slot = this.t.slotOf(inum);
    return this.t.hasRefs(slot) ? this.t.refsAt(slot) : undefined;
  }
  *[Symbol.iterator](): Generator<[bigint, EntryRefs]> {
    for (let s = 0; s < this.t.slots; s++) if (this.t.hasRefs(s)) yield [this.t.inumAt(s), this.t.refsAt(s)];
  }
}

export interface PfsFacts {
  name: string;
  /** key of the PFS inode under the super-root */
  key: bigint;
  table: InumTable;
  inodes: InodeView;
  refs: RefsView;
  /** problems located inside this PFS are reported (all PFSs unless --pfs names one) */
  selected: boolean;
}

/** The facts of a new PFS, with room for `expected` inode numbers. */
export function newPfsFacts(name: string, key: bigint, expected?: number): PfsFacts {
  const table = new InumTable(expected);
  return { name, key, table, inodes: new InodeView(table), refs: new RefsView(table), selected: true };
}

export function noteEntry(pfs: PfsFacts, target: bigint, dir: bigint, type: number, dataOff: bigint, key: bigint): void {
  pfs.table.addEntry(target, dir, type, dataOff, key);
}
