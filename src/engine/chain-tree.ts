/**
 * The topology as a tree of chains, loaded on demand and changed in memory, for a writing
 * run. Inserts and deletes follow the kernel (hammer2_chain_create, create_indirect,
 * indkey_dir/indkey_file, indirect maintenance); the commit flushes dirty chains children
 * first, each to a new allocation (see write-session.ts).
 */
import {
  BLOCKREF_BYTES,
  BREF_TYPE_DATA,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  Blockref,
  cloneBlockref,
  IND_BYTES_MIN,
  IND_BYTES_NOM,
  Inode,
  OBJTYPE_DIRECTORY,
  CHECK_DEFAULT,
  COMP_NONE,
  decCheck,
  decodeBlockrefs,
  decodeInode,
  emptyBlockref,
  encCheck,
  encComp,
  encodeBlockref,
  encodeInode,
  makeDataOff,
  setCheck,
  brefBytes,
  brefRadix as brefRadixOf,
  childStats,
  embedStats,
  EmbedStats,
  setEmbedStats,
  BREF_TYPE_EMPTY,
  OFF_MASK,
  KEY_MAX,
  keyEnd,
} from '../format';
import {
  Slot,
  baseDelete,
  baseDeleteAt,
  baseFind,
  baseInsert,
  baseReplace,
  emptySlot,
  liveCount,
} from './block-table';
import { ChainReader } from './chain';
import { H2Error } from './errors';
import { Freemap } from './freemap';


export class Chain {
  /** node chains: the child table; inode chains: the blockset (unless direct data) */
  table: Slot<Chain>[] | null = null;
  inode: Inode | null = null;
  /** leaf chains created in this run (data, dirent name blocks): their physical bytes */
  bytes: Uint8Array | null = null;
  /**
   * A new leaf already written to its own new allocation (file data goes straight to free
   * space, so a run's memory does not grow with the data it writes). Its blockref is final.
   */
  preWritten = false;
  dirty = false;
  /** false once the table (or inode) is in memory */
  private loaded = false;

  constructor(
    public bref: Blockref,
    public parent: Chain | null,
    /** created in this run: no committed copy to free, nothing to read */
    readonly isNew: boolean,
  ) {
    if (isNew) this.loaded = true;
  }

  /** Load the block's contents (once). */
  load(reader: ChainReader): void {
    if (this.loaded) return;
    this.loaded = true;
    if (this.bref.type === BREF_TYPE_INODE) {
      const data = reader.readVerified(this.bref);
      this.inode = decodeInode(data);
      this.table = this.inode.blockset ? this.inode.blockset.map((b) => ({ bref: b, chain: null })) : null;
    } else if (this.bref.type === BREF_TYPE_INDIRECT) {
      const data = reader.readVerified(this.bref);
      this.table = decodeBlockrefs(data, 0, Math.floor(data.length / BLOCKREF_BYTES)).map((b) => ({ bref: b, chain: null }));
    }
  }
}

/** The chain of the child in `slot` of `parent`, loading it (not its contents) if needed. */
function childOf(parent: Chain, index: number): Chain {
  const s = parent.table![index];
  if (!s.chain) s.chain = new Chain(cloneBlockref(s.bref), parent, false);
  return s.chain;
}

export interface Found {
  /** the deepest chain whose table covers the key (an inode, indirect or the root) */
  parent: Chain;
  /** index in parent.table of the exact match, or -1 */
  index: number;
}

export class ChainTree {
  readonly root: Chain;

  constructor(
    private readonly reader: ChainReader,
    srootBlockset: Blockref[],
  ) {
    const vol = emptyBlockref();
    vol.type = BREF_TYPE_VOLUME;
    this.root = new Chain(vol, null, true);
    this.root.table = srootBlockset.map((b) => ({ bref: b, chain: null }));
  }

  load(c: Chain): Chain {
    c.load(this.reader);
    return c;
  }

  /** Mark a chain and everything above it for the commit. */
  setDirty(c: Chain): void {
    for (let p: Chain | null = c; p && !p.dirty; p = p.parent) p.dirty = true;
    this.root.dirty = true;
  }

  /** Find `key` (of `type`, when given) under `top`, descending through indirect blocks. */
  lookup(top: Chain, key: bigint, type?: number): Found {
    let parent = this.load(top);
    for (let depth = 0; depth < 64; depth++) {
      if (!parent.table) return { parent, index: -1 };
      const i = baseFind(parent.table, key);
      if (i === parent.table.length) return { parent, index: -1 };
      const b = parent.table[i].bref;
      if (b.key > key) return { parent, index: -1 };
      if (b.type === BREF_TYPE_INDIRECT && keyEnd(b) >= key && !(type === BREF_TYPE_INDIRECT && b.key === key)) {
        parent = this.load(childOf(parent, i));
        continue;
      }
      return { parent, index: b.key === key && (type === undefined || b.type === type) ? i : -1 };
    }
    throw new H2Error('chain lookup: indirect blocks nested too deep');
  }

  /**
   * Write a finished chain and everything dirty below it now, to new allocations, and keep only
   * its blockref in the parent's table: memory stays flat however many inodes a run creates.
   * Like all new blocks, it becomes reachable only through the commit.
   */
  writeOut(c: Chain, freemap: Freemap, tid: bigint, write: (off: bigint, bytes: Uint8Array) => void): void {
    const parent = c.parent;
    if (!parent || !parent.table || !c.dirty) return;
    const idx = parent.table.findIndex((s) => s.chain === c);
    if (idx < 0) return;
    const ref = this.flushOne(c, tid, freemap, write);
    baseReplace(parent.bref, parent.table, idx, ref);
    parent.table[idx].chain = null;
    this.setDirty(parent);
  }

  /** Write a new leaf now, to a new allocation (see Chain.preWritten). */
  writeLeafNow(c: Chain, freemap: Freemap, tid: bigint, write: (off: bigint, bytes: Uint8Array) => void): void {
    const bytes = c.bytes!;
    c.bref.dataOff = freemap.allocate(c.bref.type, bytes.length, c.bref.key);
    write(c.bref.dataOff & OFF_MASK, bytes);
    setCheck(c.bref, bytes);
    // as the kernel's flush stamps every block it writes: recovery finds blocks by this tid
    c.bref.mirrorTid = tid;
    c.bref.modifyTid = tid;
    c.bytes = null;
    c.preWritten = true;
  }

  /** Every live non-indirect entry under `top` whose key lies in [lo, hi], in key order. */
  *scanRange(top: Chain, lo: bigint, hi: bigint): Generator<{ parent: Chain; index: number }> {
    const node = this.load(top);
    if (!node.table) return;
    for (let i = 0; i < node.table.length; i++) {
      const b = node.table[i].bref;
      if (b.type === 0 || keyEnd(b) < lo || b.key > hi) continue;
      if (b.type === BREF_TYPE_INDIRECT) yield* this.scanRange(this.child(node, i), lo, hi);
      else yield { parent: node, index: i };
    }
  }

  child(parent: Chain, index: number): Chain {
    return this.load(childOf(parent, index));
  }

  /**
   * Insert a new chain with blockref `bref` under `top` (an inode or the root), at the deepest
   * indirect block covering its key, creating indirect blocks as the kernel does when a table
   * is full.
   */
  insert(top: Chain, bref: Blockref, chain: Chain | null): void {
    let parent = this.lookup(top, bref.key).parent;
    for (let loops = 0; loops < 64; loops++) {
      const table = parent.table;
      if (!table) throw new H2Error('insert: the parent holds direct data, not a block table');
      if (liveCount(table) < table.length) {
        // A null chain is a final blockref (an inline dirent, data already written): only the
        // table needs it, so no chain is kept in memory.
        if (chain) {
          chain.parent = parent;
          chain.bref = bref;
        }
        baseInsert(parent.bref, table, { bref, chain });
        if (chain) this.setDirty(chain);
        this.setDirty(parent);
        return;
      }
      parent = this.createIndirect(parent, bref.key, bref.keybits, bref.type);
    }
    throw new H2Error('insert: no room after 64 indirect levels');
  }

  /**
   * hammer2_chain_create_indirect: move the entries of a full table that share a key range
   * into a new indirect block, and return where `createKey` now goes.
   */
  private createIndirect(parent: Chain, createKey: bigint, createBits: number, forType: number): Chain {
    const table = parent.table!;
    const count = table.length;
    let nbytes: number;
    if (parent.bref.type === BREF_TYPE_INODE) nbytes = parent.inode!.meta.type === OBJTYPE_DIRECTORY ? IND_BYTES_MIN : IND_BYTES_NOM;
    else nbytes = IND_BYTES_NOM;
    if (nbytes < count * BLOCKREF_BYTES) nbytes = count * BLOCKREF_BYTES;
    const ncount = nbytes / BLOCKREF_BYTES;
    const live = table.filter((s) => s.bref.type !== 0).map((s) => s.bref);
    let key = createKey;
    let keybits: number;
    if (forType === BREF_TYPE_DATA) [key, keybits] = indkeyFile(live, ncount);
    else [key, keybits] = indkeyDir(live, createKey, createBits, ncount);
    key &= ~((1n << BigInt(keybits)) - 1n) & KEY_MAX;

    const ib = emptyBlockref();
    ib.type = BREF_TYPE_INDIRECT;
    ib.key = key;
    ib.keybits = keybits;
    ib.dataOff = makeDataOff(0n, Math.log2(nbytes));
    ib.methods = encCheck(decCheck(parent.bref.methods) || CHECK_DEFAULT) | encComp(COMP_NONE);
    const ichain = new Chain(ib, parent, true);
    ichain.table = Array.from({ length: ncount }, () => emptySlot<Chain>());

    const inRange = (b: Blockref): boolean => ((key ^ b.key) & ~((1n << BigInt(keybits)) - 1n) & KEY_MAX) === 0n;
    for (let i = 0; i < count; i++) {
      const s = table[i];
      if (s.bref.type === 0 || !inRange(s.bref)) continue;
      baseDelete(parent.bref, table, s.bref);
      if (s.chain) s.chain.parent = ichain;
      baseInsert(ichain.bref, ichain.table, s);
    }
    baseInsert(parent.bref, table, { bref: ichain.bref, chain: ichain });
    this.setDirty(ichain);
    return inRange({ ...ib, key: createKey }) ? ichain : parent;
  }

  /**
   * Remove entry `index` of `parent`. Its blocks (and, for an inode or indirect block, every
   * block below) are released at the commit. An indirect block left empty is removed; one
   * sparse enough to fit its parent is folded back (hammer2_chain_indirect_maintenance).
   */
  remove(parent: Chain, index: number, freemap: Freemap): void {
    const s = parent.table![index];
    this.releaseSubtree(s, freemap);
    baseDelete(parent.bref, parent.table!, s.bref);
    this.setDirty(parent);
    this.maintain(parent, freemap);
  }

  /**
   * Drop entry `index` of `parent` without reading below it (fsck cuts damaged blocks this way).
   * Only the block itself is released, and only when `releaseSelf`; whatever it pointed to is
   * left to the freemap rebuild.
   */
  cut(parent: Chain, index: number, freemap: Freemap, releaseSelf: boolean): void {
    const s = parent.table![index];
    if (releaseSelf && brefRadixOf(s.bref) !== 0) freemap.free(s.bref.dataOff);
    baseDeleteAt(parent.bref, parent.table!, index);
    this.setDirty(parent);
    this.maintain(parent, freemap);
  }

  /** Change the blockref in entry `index` of `parent` (and of its loaded chain) in place. */
  editSlot(parent: Chain, index: number, fn: (b: Blockref) => void): void {
    const s = parent.table![index];
    const nb = cloneBlockref(s.bref);
    fn(nb);
    baseReplace(parent.bref, parent.table!, index, nb);
    if (s.chain) fn(s.chain.bref);
    this.setDirty(parent);
  }

  private releaseSubtree(s: Slot<Chain>, freemap: Freemap): void {
    const c = s.chain;
    if (!c || !c.isNew || c.preWritten) freemap.free(s.bref.dataOff);
    if (s.bref.type === BREF_TYPE_INODE || s.bref.type === BREF_TYPE_INDIRECT) {
      const chain = c ?? new Chain(s.bref, null, false);
      this.load(chain);
      for (const k of chain.table ?? []) if (k.bref.type !== 0) this.releaseSubtree(k, freemap);
    }
  }

  private maintain(chain: Chain, freemap: Freemap): void {
    if (chain.bref.type !== BREF_TYPE_INDIRECT || !chain.parent) return;
    const parent = chain.parent;
    const idx = parent.table!.findIndex((s) => s.chain === chain);
    if (idx < 0) return;
    const live = liveCount(chain.table!);
    if (live === 0) {
      if (!chain.isNew) freemap.free(parent.table![idx].bref.dataOff);
      baseDelete(parent.bref, parent.table!, parent.table![idx].bref);
      this.setDirty(parent);
      this.maintain(parent, freemap);
      return;
    }
    const room = parent.table!.length;
    if (liveCount(parent.table!) + live - 1 > room) return;
    if (live > (chain.table!.length * 3) / 4) return;
    if (!chain.isNew) freemap.free(parent.table![idx].bref.dataOff);
    baseDelete(parent.bref, parent.table!, parent.table![idx].bref);
    for (const s of chain.table!) {
      if (s.bref.type === 0) continue;
      if (s.chain) s.chain.parent = parent;
      baseInsert(parent.bref, parent.table!, s);
    }
    this.setDirty(parent);
  }

  /**
   * Write every dirty chain, children first, to a new allocation; returns the new super-root
   * blockset. `write` puts bytes on the media.
   */
  /** Write one dirty chain, children first; returns its new blockref. */
  private flushOne(c: Chain, tid: bigint, freemap: Freemap, write: (off: bigint, bytes: Uint8Array) => void): Blockref {
    const flushChain = (c: Chain): Blockref => {
      if (c.preWritten) {
        c.dirty = false;
        return c.bref;
      }
      if (c.table) {
        c.table.forEach((s, i) => {
          if (s.chain && s.chain.dirty) baseReplace(c.bref, c.table!, i, flushChain(s.chain));
        });
      }
      // The counts are recomputed from the table rather than trusted: equal to the kernel's
      // running arithmetic on a sound tree, and a repair of damaged counts otherwise.
      if (c.bref.type === BREF_TYPE_INODE || c.bref.type === BREF_TYPE_INDIRECT) {
        setEmbedStats(c.bref, tableStats(c.table ?? [], c.parent?.bref.type === BREF_TYPE_VOLUME));
      }
      const ref = cloneBlockref(c.bref);
      let bytes: Uint8Array;
      if (c.bref.type === BREF_TYPE_INODE) {
        const ino = c.inode!;
        if (c.table) ino.blockset = c.table.map((s) => s.bref);
        bytes = encodeInode(ino);
      } else if (c.bref.type === BREF_TYPE_INDIRECT) {
        bytes = new Uint8Array(c.table!.length * BLOCKREF_BYTES);
        c.table!.forEach((s, i) => encodeBlockref(s.bref, bytes, i * BLOCKREF_BYTES));
      } else {
        bytes = c.bytes!;
      }
      if (bytes.length !== brefBytes(c.bref) && brefBytes(c.bref) !== 0) {
        throw new H2Error(`flush: ${bytes.length} bytes for a ${brefBytes(c.bref)}-byte block`);
      }
      // A blockref without storage (an inline dirent) keeps its check area: it holds the name.
      if (bytes.length > 0) {
        ref.dataOff = freemap.allocate(ref.type, bytes.length, ref.key);
        write(ref.dataOff & OFF_MASK, bytes);
        if (!c.isNew) freemap.free(c.bref.dataOff);
        setCheck(ref, bytes);
      }
      ref.mirrorTid = tid;
      ref.modifyTid = tid;
      c.dirty = false;
      c.bref = ref;
      return ref;
    };
    return flushChain(c);
  }

  flush(tid: bigint, freemap: Freemap, write: (off: bigint, bytes: Uint8Array) => void): Blockref[] {
    const t = this.root.table!;
    t.forEach((s, i) => {
      if (s.chain && s.chain.dirty) t[i] = { bref: this.flushOne(s.chain, tid, freemap, write), chain: s.chain };
    });
    this.root.dirty = false;
    return t.map((s) => s.bref);
  }
}

/**
 * embed.stats a table implies: the sum of what each entry contributes. The super-root's
 * blockref (its parent is the volume) counts only what its PFS inodes carry, not the PFS inodes'
 * own blocks, as newfs, makefs and the kernel leave it.
 */
export function tableStats(table: Slot<Chain>[], superRoot: boolean): EmbedStats {
  const out = { dataCount: 0n, inodeCount: 0n };
  for (const s of table) {
    if (s.bref.type === BREF_TYPE_EMPTY) continue;
    const c = superRoot ? embedStats(s.bref) : childStats(s.bref);
    out.dataCount += c.dataCount;
    out.inodeCount += c.inodeCount;
  }
  out.dataCount &= KEY_MAX;
  out.inodeCount &= KEY_MAX;
  return out;
}

/** hammer2_chain_indkey_file: the smallest-range entry, widened by the new block's fan-out. */
function indkeyFile(live: Blockref[], ncount: number): [bigint, number] {
  let key = 0n;
  let keybits = 64;
  for (const b of live) {
    if (keybits > b.keybits || (keybits === b.keybits && b.key < key)) {
      key = b.key;
      keybits = b.keybits;
    }
  }
  const nradix = Math.min(63, Math.log2(ncount));
  return [key, keybits + nradix];
}

/**
 * hammer2_chain_indkey_dir: the narrowest key range that splits the table's entries, on the
 * side (high or low half) holding more of them, wide enough for the new block's fan-out.
 */
function indkeyDir(live: Blockref[], createKey: bigint, createBits: number, ncount: number): [bigint, number] {
  let key = createKey;
  let keybits = createBits;
  let locount = 0;
  let hicount = 0;
  const sorted = [...live].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const b of sorted) {
    let nkeybits = keybits;
    if (nkeybits < b.keybits) nkeybits = b.keybits;
    while (nkeybits < 64 && ((key ^ b.key) & ~((1n << BigInt(nkeybits)) - 1n) & KEY_MAX) !== 0n) nkeybits++;
    if (keybits !== nkeybits) {
      if ((1n << BigInt(nkeybits - 1)) & key) {
        hicount += locount;
        locount = 0;
      } else {
        locount += hicount;
        hicount = 0;
      }
      keybits = nkeybits;
    }
    if ((1n << BigInt(nkeybits - 1)) & b.key) hicount++;
    else locount++;
  }
  keybits--;
  while ((1n << BigInt(keybits)) < BigInt(ncount)) {
    keybits++;
    if (key & (1n << BigInt(keybits))) {
      hicount += locount;
      locount = 0;
    } else {
      locount += hicount;
      hicount = 0;
    }
  }
  // The kernel writes `key &= ~(hammer2_key_t)1 << keybits`, which clears bit `keybits` and
  // every bit below it except those the shifted ~1 keeps; reproduced as written.
  if (hicount > locount) key |= 1n << BigInt(keybits);
  else key &= (~1n << BigInt(keybits)) & KEY_MAX;
  return [key, keybits];
}
