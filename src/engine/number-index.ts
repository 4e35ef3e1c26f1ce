/**
 * A set of integer keys (exact in a double, below 2^53 in magnitude: byte offsets, inode
 * numbers) numbered by insertion, in typed arrays: about 16 to 20 bytes per key where a Map of objects costs ten times
 * that. Callers keep per-key columns indexed by the slot number. Open addressing with linear
 * probing over a power-of-two table kept at most three quarters full (linear probing still
 * finds a key in a few probes there, and the table costs half what a half-full one does).
 */
const EMPTY = -1;
const MIN_CAPACITY = 64;
/** the most keys per table entry before the table doubles */
const MAX_LOAD = 0.75;
/** 2^32 / golden ratio: Fibonacci hashing spreads keys that are multiples of a block size. */
const FIB = 0x9e3779b1;
const TWO_32 = 4294967296;

export class NumberIndex {
  private table: Int32Array;
  private shift: number;
  private keys: Float64Array;
  private n = 0;

  constructor(expected = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap * MAX_LOAD < expected) cap *= 2;
    this.table = new Int32Array(cap).fill(EMPTY);
    this.shift = 32 - Math.log2(cap);
    // the keys are sized to the hint, not to the table: they grow by doubling past it
    this.keys = new Float64Array(Math.max(MIN_CAPACITY, Math.ceil(expected)));
  }

  get size(): number {
    return this.n;
  }

  /** The key of a slot. */
  keyAt(slot: number): number {
    return this.keys[slot];
  }

  /** The slot of `key`, or -1. */
  slotOf(key: number): number {
    const t = this.table;
    const mask = t.length - 1;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const s = t[i];
      if (s === EMPTY) return EMPTY;
      if (this.keys[s] === key) return s;
    }
  }

  /** The slot of `key`, added (as the next slot number) when absent. */
  intern(key: number): number {
    const t = this.table;
    const mask = t.length - 1;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const s = t[i];
      if (s === EMPTY) {
        const slot = this.n++;
        if (slot === this.keys.length) this.keys = growFloat64(this.keys, slot * 2);
        this.keys[slot] = key;
        t[i] = slot;
        if (this.n > t.length * MAX_LOAD) this.rehash(t.length * 2);
        return slot;
      }
      if (this.keys[s] === key) return s;
    }
  }

  private home(key: number): number {
    // both halves of the key, so offsets that differ only above bit 32 do not collide
    const mixed = (key >>> 0) ^ Math.imul(Math.floor(key / TWO_32), FIB);
    return Math.imul(mixed, FIB) >>> this.shift;
  }

  private rehash(cap: number): void {
    this.table = new Int32Array(cap).fill(EMPTY);
    this.shift = 32 - Math.log2(cap);
    const mask = cap - 1;
    for (let s = 0; s < this.n; s++) {
      let i = this.home(this.keys[s]);
      while (this.table[i] !== EMPTY) i = (i + 1) & mask;
      this.table[i] = s;
    }
  }
}

function growFloat64(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(Math.max(n, MIN_CAPACITY));
  out.set(a);
  return out;
}
