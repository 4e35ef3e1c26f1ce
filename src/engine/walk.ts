/**
 * Depth-first traversal of a chain tree (the volume topology or the freemap), reading every
 * block once and verifying its check code. A block whose check fails is reported and its
 * children are not followed: they would be garbage.
 */
import {
  BREF_TYPE_DATA,
  BREF_TYPE_EMPTY,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_VOLUME,
  Blockref,
  CheckResult,
  VOLUME_BYTES,
  ZONE_BYTES,
  brefBytes,
  emptyBlockref,
} from '../format';
import { ChainReader } from './chain';

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
}

export interface WalkOptions {
  /** read and verify DATA blocks too (they are the bulk of the bytes) */
  readData: boolean;
}

/** The pseudo-blockref of a header root (the volume topology or the freemap). */
export function headerRootBref(chains: ChainReader, type: typeof BREF_TYPE_VOLUME | typeof BREF_TYPE_FREEMAP): Blockref {
  const best = Math.max(0, chains.vols.root.selection.best);
  return {
    ...emptyBlockref(),
    type,
    dataOff: (BigInt(best) * ZONE_BYTES) | BigInt(Math.log2(VOLUME_BYTES)),
    mirrorTid: chains.header.mirrorTid,
  };
}

export function* walkTree(chains: ChainReader, root: Blockref, opts: WalkOptions): Generator<Visit> {
  const stack: { bref: Blockref; depth: number; path: Blockref[] }[] = [{ bref: root, depth: 0, path: [] }];
  while (stack.length > 0) {
    const { bref, depth, path } = stack.pop()!;
    const isRoot = bref.type === BREF_TYPE_VOLUME || bref.type === BREF_TYPE_FREEMAP;
    let data: Uint8Array = new Uint8Array(0);
    let check: CheckResult | null = null;
    let error: string | null = null;
    // A blockref without storage (an inline dirent, say) has nothing to read or verify.
    if (!isRoot && brefBytes(bref) > 0 && (bref.type !== BREF_TYPE_DATA || opts.readData)) {
      try {
        data = chains.readPhysical(bref);
        check = chains.verify(bref, data);
      } catch (e) {
        error = (e as Error).message;
      }
    }
    yield { bref, data, check, error, depth, path };
    if (error || (check && !check.ok)) continue;
    let kids: Blockref[];
    try {
      kids = chains.children(bref, data);
    } catch {
      continue;
    }
    const childPath = [...path, bref];
    for (let i = kids.length - 1; i >= 0; i--) {
      if (kids[i].type !== BREF_TYPE_EMPTY) stack.push({ bref: kids[i], depth: depth + 1, path: childPath });
    }
  }
}
