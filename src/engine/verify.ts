/**
 * The engine's own verification walk, until fsck exists: every check code in the volume and
 * freemap trees, and the freemap against the blocks the topology reaches.
 *
 * - a hole: a reachable block whose 16 KiB granule the freemap says is not allocated;
 * - a leak: an allocated granule inside the allocatable range that no reachable block uses.
 * Granules below a leaf's first allocatable segment (reserved areas, boot/aux, newfs's first
 * inodes) are never counted as leaks: the allocator never hands them out.
 */
import { brefBytes } from '../format/blockref';
import {
  BREF_TYPE_FREEMAP,
  BREF_TYPE_VOLUME,
  FREEMAP_BLOCK_SIZE,
  FREEMAP_COUNT,
  FREEMAP_LEVEL0_SIZE,
  FREEMAP_LEVEL1_SIZE,
  OFF_MASK,
  SEGMASK,
  ZONE_SEG,
} from '../format/constants';
import { bmapState } from '../format/freemap';
import { BLOCKS_PER_SEGMENT } from '../format/freemap';
import { ChainReader } from './chain';
import { H2Error } from './errors';
import { Freemap } from './freemap';
import { Visit, headerRootBref, walkTree } from './walk';

export interface VerifyReport {
  blockrefs: number;
  checkFailures: string[];
  holes: bigint[];
  leaks: bigint[];
  /** freemap_tid < mirror_tid: the freemap may miss the last run's allocations */
  recoveryNeeded: boolean;
}

/** Record the 16 KiB granules a block occupies. */
export function addGranules(used: Set<bigint>, dataOff: bigint, bytes: number): void {
  const off = dataOff & OFF_MASK;
  for (let g = off & ~BigInt(FREEMAP_BLOCK_SIZE - 1); g < off + BigInt(bytes); g += BigInt(FREEMAP_BLOCK_SIZE)) used.add(g);
}

export interface FreemapComparison {
  holes: bigint[];
  leaks: bigint[];
  /** bytes of the allocatable range the freemap marks allocated (what allocator_free subtracts) */
  allocatedBytes: bigint;
}

/**
 * How many visits of a walk of the volume topology use each 16 KiB granule (a block reached by
 * two paths, a snapshot's, counts twice). A commit given these for the tree its session started
 * from learns which freed granules stay live by diffing the trees (see granule-users.ts).
 */
export type GranuleUsers = Map<bigint, number>;

/** Count one more (or, with `by` -1, one fewer) user of the granules a block occupies. */
export function countGranules(users: GranuleUsers, dataOff: bigint, bytes: number, by = 1): void {
  // a blockref without storage (an inline dirent) occupies nothing
  if (bytes === 0) return;
  const off = dataOff & OFF_MASK;
  const first = off & ~BigInt(FREEMAP_BLOCK_SIZE - 1);
  // most blocks lie inside one granule: one lookup, no loop
  if (Number(off - first) + bytes <= FREEMAP_BLOCK_SIZE) {
    users.set(first, (users.get(first) ?? 0) + by);
    return;
  }
  for (let g = off & ~BigInt(FREEMAP_BLOCK_SIZE - 1); g < off + BigInt(bytes); g += BigInt(FREEMAP_BLOCK_SIZE)) users.set(g, (users.get(g) ?? 0) + by);
}

/** The granules in use, as a set or as the keys of their user counts. */
export interface UsedGranules {
  has(g: bigint): boolean;
  keys(): IterableIterator<bigint>;
}

/** Holes and leaks of the freemap, given the granules the volume topology uses. */
export function compareFreemap(chains: ChainReader, used: UsedGranules, fm: Freemap = Freemap.load(chains)): FreemapComparison {
  const h = chains.header;
  const holes: bigint[] = [];
  const leaks: bigint[] = [];
  const lo = (h.allocatorBeg + SEGMASK) & ~SEGMASK;
  for (const g of used.keys()) {
    if (g < lo || (g & (FREEMAP_LEVEL1_SIZE - 1n)) < ZONE_SEG) continue;
    if (fm.states(g, FREEMAP_BLOCK_SIZE)[0] !== 3) holes.push(g);
  }
  for (const leaf of fm.leaves()) {
    for (let i = 0; i < FREEMAP_COUNT; i++) {
      const seg = leaf.key + BigInt(i) * FREEMAP_LEVEL0_SIZE;
      const first = leaf.key + ZONE_SEG > lo ? leaf.key + ZONE_SEG : lo;
      if (seg < first || seg >= chains.vols.totalSize) continue;
      for (let b = 0; b < BLOCKS_PER_SEGMENT; b++) {
        const g = seg + BigInt(b * FREEMAP_BLOCK_SIZE);
        if (bmapState(leaf.bmaps[i], b) !== 0 && !used.has(g)) leaks.push(g);
      }
    }
  }
  return { holes, leaks, allocatedBytes: fm.allocatedBytes() };
}

/**
 * The 16 KiB granules the volume topology uses. `each` sees every visit, the root included (to
 * count, report or refuse damage).
 */
export function topologyGranules(chains: ChainReader, readData: boolean, each: (v: Visit) => void = () => undefined): Set<bigint> {
  const used = new Set<bigint>();
  for (const v of walkTree(chains, headerRootBref(chains, BREF_TYPE_VOLUME), { readData })) {
    each(v);
    if (v.bref.type !== BREF_TYPE_VOLUME) addGranules(used, v.bref.dataOff, brefBytes(v.bref));
  }
  return used;
}

export function verifyFilesystem(chains: ChainReader): VerifyReport {
  const h = chains.header;
  const report: VerifyReport = { blockrefs: 0, checkFailures: [], holes: [], leaks: [], recoveryNeeded: h.freemapTid < h.mirrorTid };
  const note = (v: Visit): void => {
    report.blockrefs++;
    if (v.error) report.checkFailures.push(v.error);
    else if (v.check && !v.check.ok) report.checkFailures.push(`check code mismatch at 0x${v.bref.dataOff.toString(16)}`);
  };
  const used = topologyGranules(chains, true, note);
  for (const v of walkTree(chains, headerRootBref(chains, BREF_TYPE_FREEMAP), { readData: true })) note(v);
  const cmp = compareFreemap(chains, used);
  report.holes = cmp.holes;
  report.leaks = cmp.leaks;
  return report;
}

/**
 * Refuse to let a run that moves or frees blocks start on a damaged filesystem: every block of
 * the topology must read and verify, and the freemap the session holds (after recovery) must
 * mark every one of them allocated, or the allocator could hand out live space. Returns the
 * granules the topology uses.
 */
export function requireSoundTopology(
  chains: ChainReader,
  fm: Freemap,
  what: string,
  /** sees every sound visit of the same walk (reblock plans its moves in it rather than walk again) */
  each: (v: Visit) => void = () => undefined,
  /** filled with the granules' user counts (for WriteSession.commit) instead of a plain set */
  users?: GranuleUsers,
): { used: UsedGranules; leaks: bigint[] } {
  const sound = (v: Visit): void => {
    if (v.error || (v.check && !v.check.ok)) {
      throw new H2Error(`${what}: the topology is damaged (${v.error ?? `a check code fails at 0x${v.bref.dataOff.toString(16)}`}); run h2kit fsck -y first`);
    }
    each(v);
  };
  let used: UsedGranules;
  if (users) {
    for (const v of walkTree(chains, headerRootBref(chains, BREF_TYPE_VOLUME), { readData: false })) {
      sound(v);
      if (v.bref.type !== BREF_TYPE_VOLUME) countGranules(users, v.bref.dataOff, brefBytes(v.bref));
    }
    used = users;
  } else {
    used = topologyGranules(chains, false, sound);
  }
  const { holes, leaks } = compareFreemap(chains, used, fm);
  if (holes.length > 0) throw new H2Error(`${what}: the freemap marks ${holes.length} granules in use as free; run h2kit fsck -y first`);
  return { used, leaks };
}
