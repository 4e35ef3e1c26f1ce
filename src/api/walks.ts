/** Walks of the two trees a header names (the volume topology and the freemap), and the freemap itself. */
import { Freemap, ReadSession, Visit, headerRootBref, walkTree } from '../engine';
import { BREF_TYPE_FREEMAP, BREF_TYPE_VOLUME } from '../format';

export interface TreeWalkOptions {
  /** also read and verify DATA blocks (default false: they are the bulk of the bytes) */
  readData?: boolean;
}

/**
 * Every block of the best header's volume topology, depth first, each read and verified once.
 * A block that fails to read or verify is yielded with `error` or a failed `check`, and its
 * children are skipped. The first visit is the header's root pseudo-blockref.
 */
export function walkVolume(s: ReadSession, opts: TreeWalkOptions = {}): Generator<Visit> {
  return walkTree(s.chains, headerRootBref(s.chains, BREF_TYPE_VOLUME), { readData: opts.readData ?? false });
}

/** Every block of the best header's freemap tree (nodes and leaves), as walkVolume does. */
export function walkFreemap(s: ReadSession): Generator<Visit> {
  return walkTree(s.chains, headerRootBref(s.chains, BREF_TYPE_FREEMAP), { readData: false });
}

/**
 * The freemap as the best header names it, decoded: `segmentUsage()`, `leaves()`,
 * `allocatedBytes()`, `states(off, bytes)`. An in-memory copy; nothing goes to the media.
 */
export function loadFreemap(s: ReadSession): Freemap {
  return Freemap.load(s.chains);
}
