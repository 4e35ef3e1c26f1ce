/**
 * Depth-first traversal of a chain tree (the volume topology or the freemap), reading every
 * block once and verifying its check code. A block whose check fails is reported and its
 * children are not followed: they would be garbage.
 */
import { Blockref, brefBytes, emptyBlockref, encodeBlockref } from '../format/blockref';
import { bvOffset, bvRadix, bvType, bvVerify } from '../format/blockref-view';
import { CheckResult } from '../format/check';
import {
  BREF_TYPE_DATA,
  BREF_TYPE_EMPTY,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_VOLUME,
  VOLUME_BYTES,
  ZONE_BYTES,
  BLOCKREF_BYTES,
  BREF_TYPE_INODE,
  OFF_MASK,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_FREEMAP_NODE,
  INODE_BYTES,
  OPFLAG_DIRECTDATA,
  SET_COUNT,
} from '../format/constants';
import { INODE_U_OFF, META, inodeBlockset } from '../format/inode';
import { VOL } from '../format/volume';
import { ChainReader } from './chain';
import { TraversalGuard } from './guard';
import { NumberIndex } from './number-index';

export interface Visit {
  bref: Blockref;
  /** physical bytes ('' for the header roots, and for data blocks when not reading data) */
  data: Uint8Array;
  check: CheckResult | null;
  /** read or decode error, if any */
  error: string | null;
  depth: number;
  /** the blockrefs from the root down to (not including) this one */
  path: readonly Blockref[];
  /** the visit of the block holding this blockref (null for the root) */
  parent: Visit | null;
  /** this blockref's index in its parent's table */
  index: number;
  /**
   * The block's child blockrefs, if the consumer decoded them already: the walk then uses
   * these instead of decoding the block a second time.
   */
  kids?: Blockref[];
}

export interface WalkOptions {
  /** read and verify DATA blocks too (they are the bulk of the bytes) */
  readData: boolean;
  /** walk from this super-root blockset instead of the header's (a tree not yet committed) */
  srootBlockset?: Blockref[];
  /**
   * read through windows of this many bytes (one system call for several blocks); only for a
   * medium nothing writes during the walk. A visit's `data` is then valid only until the walk
   * goes on to the next visit (the window is reused): use it at once or copy it.
   */
  readAhead?: number;
  /** the numbering of metadata blocks (by offset) for the walk's guard, shared with the caller */
  blocks?: NumberIndex;
}

/** The pseudo-blockref of a header copy's root (the volume topology or the freemap). */
export function headerCopyRootBref(copy: number, type: number, mirrorTid: bigint): Blockref {
  return {
    ...emptyBlockref(),
    type,
    dataOff: (BigInt(copy) * ZONE_BYTES) | BigInt(Math.log2(VOLUME_BYTES)),
    mirrorTid,
  };
}

/** The root pseudo-blockref of the best header copy. */
export function headerRootBref(chains: ChainReader, type: typeof BREF_TYPE_VOLUME | typeof BREF_TYPE_FREEMAP): Blockref {
  return headerCopyRootBref(Math.max(0, chains.vols.root.selection.best), type, chains.header.mirrorTid);
}

export function* walkTree(chains: ChainReader, root: Blockref, opts: WalkOptions): Generator<Visit> {
  const guard = new TraversalGuard(opts.blocks);
  const window = opts.readAhead ? chains.readAhead(opts.readAhead) : undefined;
  type Pending = { bref: Blockref; depth: number; path: Blockref[]; parent: Visit | null; index: number };
  const stack: Pending[] = [{ bref: root, depth: 0, path: [], parent: null, index: 0 }];
  while (stack.length > 0) {
    const { bref, depth, path, parent, index } = stack.pop()!;
    const isRoot = bref.type === BREF_TYPE_VOLUME || bref.type === BREF_TYPE_FREEMAP;
    let data: Uint8Array = new Uint8Array(0);
    let check: CheckResult | null = null;
    let error: string | null = guard.check(bref, depth);
    // A blockref without storage (an inline dirent, say) has nothing to read or verify.
    if (!error && !isRoot && brefBytes(bref) > 0 && (bref.type !== BREF_TYPE_DATA || opts.readData)) {
      try {
        data = chains.readPhysical(bref, window);
        check = chains.verify(bref, data);
      } catch (e) {
        error = (e as Error).message;
      }
    }
    const visit: Visit = { bref, data, check, error, depth, path, parent, index };
    yield visit;
    if (error || (check && !check.ok)) continue;
    let kids: Blockref[];
    try {
      kids = bref.type === BREF_TYPE_VOLUME && opts.srootBlockset ? opts.srootBlockset : (visit.kids ?? chains.children(bref, data));
    } catch {
      continue;
    }
    const childPath = [...path, bref];
    for (let i = kids.length - 1; i >= 0; i--) {
      if (kids[i].type !== BREF_TYPE_EMPTY) stack.push({ bref: kids[i], depth: depth + 1, path: childPath, parent: visit, index: i });
    }
  }
}

/**
 * Where the blockref of `v` is stored: the logical byte offset of its 128 bytes (inside the
 * parent block, or inside the header copy for the roots' children). Null for the root itself.
 */
export function blockrefLocation(v: Visit): bigint | null {
  const p = v.parent;
  if (!p) return null;
  const slot = BigInt(v.index * BLOCKREF_BYTES);
  if (p.bref.type === BREF_TYPE_VOLUME || p.bref.type === BREF_TYPE_FREEMAP) {
    const hdr = p.bref.dataOff & OFF_MASK;
    return hdr + BigInt(p.bref.type === BREF_TYPE_VOLUME ? VOL.srootBlockset : VOL.freemapBlockset) + slot;
  }
  const base = p.bref.dataOff & OFF_MASK;
  return base + (p.bref.type === BREF_TYPE_INODE ? BigInt(INODE_U_OFF) : 0n) + slot;
}

// ---- the table walk: blockrefs read in place ------------------------------------------------

/**
 * A block whose child table the table walk is going through: where its own blockref is
 * stored, and what the consumer attached to it (the visit's `tag`). One per block with
 * children, not per blockref.
 */
export interface Frame {
  readonly table: Uint8Array;
  readonly at: number;
  readonly type: number;
  readonly parent: Frame | null;
  readonly tag: unknown;
}

/**
 * One blockref of the table walk, read in place: `table` holds its 128 bytes at `at` (a
 * private copy of the parent's table, valid for the whole walk). The walk reuses this object
 * for every visit, so a consumer keeps what it needs, never the visit.
 */
export interface TableVisit {
  table: Uint8Array;
  at: number;
  type: number;
  /** size radix of data_off (0: no storage) */
  radix: number;
  /** physical bytes, valid until the next visit ('' for the header roots and blocks not read) */
  data: Uint8Array;
  /** the block was read and its check code does not match (verifyCheck tells the codes) */
  checkFailed: boolean;
  /** read error, or why the guard refused the blockref */
  error: string | null;
  depth: number;
  /** the block holding this blockref (null for the root) */
  parent: Frame | null;
  /** this blockref's index in its parent's table */
  index: number;
  /** the children's table (entries `kidsAt + i * 128`), null when the block has none */
  kids: Uint8Array | null;
  kidsAt: number;
  kidsCount: number;
  /** why the children cannot be read (an inode block too short), or null */
  kidsError: string | null;
  /** set by the consumer during the visit: kept in the Frame of this block for its children */
  tag: unknown;
}

const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** A private copy (a Node Buffer's `slice` would share the window's bytes). */
function copyOf(data: Uint8Array, from: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(data.subarray(from, from + len));
  return out;
}

function anyLive(table: Uint8Array, at: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (table[at + i * BLOCKREF_BYTES] !== BREF_TYPE_EMPTY) return true;
  return false;
}

function encodeTable(brefs: readonly Blockref[]): Uint8Array {
  const out = new Uint8Array(brefs.length * BLOCKREF_BYTES);
  brefs.forEach((b, i) => encodeBlockref(b, out, i * BLOCKREF_BYTES));
  return out;
}

/**
 * walkTree's traversal, with every data block read and verified, for a checker that looks at
 * each blockref once: no Blockref, Visit or path per entry. Each child table is copied once
 * (read-ahead windows are reused) and its entries are read in place by blockref-view.ts.
 */
export function* walkTables(chains: ChainReader, root: Blockref, opts: { readAhead?: number; blocks?: NumberIndex; rootTag?: unknown }): Generator<TableVisit> {
  const guard = new TraversalGuard(opts.blocks);
  const window = opts.readAhead ? chains.readAhead(opts.readAhead) : undefined;
  let sroot: Uint8Array | null = null;
  let fmroot: Uint8Array | null = null;
  const tables: Uint8Array[] = [encodeTable([root])];
  const ats: number[] = [0];
  const depths: number[] = [0];
  const parents: (Frame | null)[] = [null];
  const indexes: number[] = [0];
  const v: TableVisit = {
    table: tables[0], at: 0, type: 0, radix: 0, data: EMPTY_BYTES, checkFailed: false, error: null, depth: 0,
    parent: null, index: 0, kids: null, kidsAt: 0, kidsCount: 0, kidsError: null, tag: undefined,
  };
  while (tables.length > 0) {
    const table = tables.pop()!;
    const at = ats.pop()!;
    const depth = depths.pop()!;
    const parent = parents.pop()!;
    const index = indexes.pop()!;
    const type = bvType(table, at);
    const radix = bvRadix(table, at);
    const isRoot = type === BREF_TYPE_VOLUME || type === BREF_TYPE_FREEMAP;
    let data: Uint8Array = EMPTY_BYTES;
    let checkFailed = false;
    let error = guard.checkAt(type, radix, bvOffset(table, at), depth);
    if (!error && !isRoot && radix > 0) {
      try {
        data = chains.readPhysicalAt(table, at, window);
        checkFailed = !bvVerify(table, at, data);
      } catch (e) {
        error = (e as Error).message;
      }
    }
    let kids: Uint8Array | null = null;
    let kidsAt = 0;
    let kidsCount = 0;
    let kidsError: string | null = null;
    if (!error && !checkFailed) {
      if (type === BREF_TYPE_VOLUME) {
        kids = sroot ??= encodeTable(chains.header.srootBlockset);
      } else if (type === BREF_TYPE_FREEMAP) {
        kids = fmroot ??= encodeTable(chains.header.freemapBlockset);
      } else if (type === BREF_TYPE_INODE) {
        if (data.length < INODE_BYTES) {
          try {
            inodeBlockset(data);
          } catch (e) {
            kidsError = (e as Error).message;
          }
        } else if (!(data[META.opFlags] & OPFLAG_DIRECTDATA) && anyLive(data, INODE_U_OFF, SET_COUNT)) {
          // (most small or empty files have none: no copy for them)
          kids = copyOf(data, INODE_U_OFF, SET_COUNT * BLOCKREF_BYTES);
        }
      } else if (type === BREF_TYPE_INDIRECT || type === BREF_TYPE_FREEMAP_NODE) {
        kids = copyOf(data, 0, Math.floor(data.length / BLOCKREF_BYTES) * BLOCKREF_BYTES);
      }
      if (kids) kidsCount = kids.length / BLOCKREF_BYTES;
    }
    v.table = table;
    v.at = at;
    v.type = type;
    v.radix = radix;
    v.data = data;
    v.checkFailed = checkFailed;
    v.error = error;
    v.depth = depth;
    v.parent = parent;
    v.index = index;
    v.kids = kids;
    v.kidsAt = kidsAt;
    v.kidsCount = kidsCount;
    v.kidsError = kidsError;
    v.tag = depth === 0 ? opts.rootTag : undefined;
    yield v;
    if (!kids || kidsCount === 0) continue;
    const frame: Frame = { table, at, type, parent, tag: v.tag };
    for (let i = kidsCount - 1; i >= 0; i--) {
      const o = kidsAt + i * BLOCKREF_BYTES;
      if (kids[o] === BREF_TYPE_EMPTY) continue;
      tables.push(kids);
      ats.push(o);
      depths.push(depth + 1);
      parents.push(frame);
      indexes.push(i);
    }
  }
}
