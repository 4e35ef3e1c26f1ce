/**
 * Depth-first traversal of a chain tree (the volume topology or the freemap), reading every
 * block once and verifying its check code. A block whose check fails is reported and its
 * children are not followed: they would be garbage.
 */
import { Blockref, brefBytes, emptyBlockref } from '../format/blockref';
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
} from '../format/constants';
import { INODE_U_OFF } from '../format/inode';
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
