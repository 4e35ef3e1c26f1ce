/**
 * The checker, read-only, in five passes reported as phases:
 *   1. volume headers;  2. topology (one walk of every tree, which also gathers what 3 and 4
 *   need);  3. inodes and directories, per PFS;  4. statistics;  5. the freemap.
 */
import { hex64 } from '../../format/bytes';
import { BREF_TYPE_FREEMAP_LEAF, BREF_TYPE_VOLUME, FREEMAP_BLOCK_SIZE, ZONE_SEG } from '../../format/constants';
import { topoReservedBytes } from '../../format/freemap';
import { allocatableBytes } from '../../format/freemap';
import { ChainReader } from '../../engine/chain';
import { FreemapComparison, compareFreemap } from '../../engine/verify';
import { VolumeSet } from '../../engine/volumes';
import { PfsFacts } from './facts';
import { headerPass } from './headers';
import { locate } from './location';
import { namespacePass } from './namespace';
import { Problem, sortProblems } from './problems';
import { Report, topologyPass } from './topology';

export interface PhaseReport {
  name: string;
  problems: number;
}

export interface CheckReport {
  problems: Problem[];
  phases: PhaseReport[];
  blockrefs: number;
  bytesVerified: number;
  inodes: number;
  pfs: string[];
  /** what the walk recorded per PFS (repairs use it) */
  facts: PfsFacts[];
}

export interface CheckOptions {
  /** report only inside this PFS (passes 2 to 4); pass 5 is volume-wide */
  pfs?: string;
  /** pass number, work done, work expected (e2fsck -C style) */
  progress?: (pass: number, done: number, max: number) => void;
}

export const PHASES = ['Pass 1: volume headers', 'Pass 2: topology', 'Pass 3: inodes and directories', 'Pass 4: statistics', 'Pass 5: freemap'] as const;

export function checkFilesystem(vols: VolumeSet, opts: CheckOptions = {}): CheckReport {
  const chains = new ChainReader(vols);
  const problems: Problem[] = [];
  const phases: PhaseReport[] = [];
  const phase = <T>(index: number, fn: (report: Report) => T): T => {
    let n = 0;
    const out = fn((code, loc, detail = '') => {
      problems.push({ code, ...loc, detail });
      n++;
    });
    phases.push({ name: PHASES[index], problems: n });
    return out;
  };
  const progress = opts.progress ?? (() => undefined);

  phase(0, (report) => headerPass(vols, report));
  progress(1, 1, 1);
  const h = chains.header;
  const expected = allocatableBytes(h, chains.vols.totalSize) - h.allocatorFree;
  const estimate = Number(expected > 0n ? expected : 1n);
  const topo = phase(1, (report) =>
    topologyPass(chains, (p) => report(p.code, p, p.detail), { pfs: opts.pfs, progress: (bytes) => progress(2, bytes, Math.max(bytes, estimate)) }),
  );
  phase(2, (report) => {
    topo.pfs.forEach((p, i) => {
      namespacePass(p, report);
      progress(3, i + 1, topo.pfs.length);
    });
  });
  let cmp: FreemapComparison | null = null;
  phase(3, (report) => {
    for (const p of topo.stats) report(p.code, p, p.detail);
    try {
      cmp = compareFreemap(chains, topo.used);
    } catch (e) {
      report('FREEMAP_UNREADABLE', locate(BREF_TYPE_VOLUME, 0n, 0n, 'volume header'), (e as Error).message);
      return;
    }
    // allocator_free moves by whole 16 KiB granules (the kernel and bulkfree agree), so it must
    // equal the allocatable space less the granules the freemap marks allocated.
    const want = allocatableBytes(h, chains.vols.totalSize) - cmp.allocatedBytes;
    // the allocations recovery will mark were already taken off allocator_free when made
    const pendingBytes = BigInt(pendingRecovery(cmp, topo.recent).length) * BigInt(FREEMAP_BLOCK_SIZE);
    if (!allocatorFreeAgrees(h.allocatorFree, want, chains.vols.totalSize) && !allocatorFreeAgrees(h.allocatorFree + pendingBytes, want, chains.vols.totalSize)) {
      report('STATS_ALLOCATOR_FREE', locate(BREF_TYPE_VOLUME, 0n, 0n, 'volume header'), `0x${hex64(h.allocatorFree)}, computed 0x${hex64(want)}`);
    }
    progress(4, 1, 1);
  });
  phase(4, (report) => {
    const r = cmp as FreemapComparison | null;
    if (!r) return;
    const granule = (g: bigint) => locate(BREF_TYPE_FREEMAP_LEAF, g, g, `granule 0x${hex64(g)}`);
    // A block newer than freemap_tid that the freemap marks free is what the kernel's recovery
    // marks at mount (and -y does here): reported with the recovery, not as a hole.
    const pending = pendingRecovery(r, topo.recent);
    for (const g of r.holes) if (!topo.recent.has(g)) report('FREEMAP_HOLE', granule(g));
    for (const g of r.leaks) report('FREEMAP_LEAK', granule(g));
    if (h.freemapTid < h.mirrorTid) {
      const header = locate(BREF_TYPE_VOLUME, 0n, 0n, 'volume header');
      const tids = `0x${hex64(h.freemapTid)} < mirror_tid 0x${hex64(h.mirrorTid)}`;
      // With no block newer than freemap_tid (a flush that changed no freemap block: growfs, a
      // bulkfree that freed nothing) the kernel's recovery has nothing to walk. Blocks newer
      // than it, even all marked, are walked at mount: an h2kit commit brings freemap_tid up.
      if (topo.newerThanFreemap === 0) report('FREEMAP_TID_BEHIND', header, tids);
      else if (pending.length === 0) report('RECOVERY_NEEDED', header, `${tids}: ${topo.newerThanFreemap} blocks are newer than freemap_tid, all marked allocated`);
      else report('RECOVERY_NEEDED', header, `${tids}: ${pending.length} granules (${BigInt(pending.length) * BigInt(FREEMAP_BLOCK_SIZE)} bytes) of blocks newer than freemap_tid are marked free`);
    }
    progress(5, 1, 1);
  });
  const inodes = topo.pfs.reduce((n, p) => n + p.inodes.size, 0);
  return {
    problems: sortProblems(problems),
    phases,
    blockrefs: topo.blockrefs,
    bytesVerified: topo.bytes,
    inodes,
    pfs: topo.pfs.map((p) => p.name),
    facts: topo.pfs,
  };
}

/** Holes in granules of blocks newer than freemap_tid: what the kernel's recovery marks at mount. */
const pendingRecovery = (cmp: FreemapComparison, recent: Set<bigint>): bigint[] => cmp.holes.filter((g) => recent.has(g));

/**
 * allocator_free against the value computed from the freemap. Equal, or above it by the
 * reserved segments of zones a growfs added: the kernel's growfs adds the whole new size to
 * allocator_free without taking off the 4 MiB reserved at the start of each new GiB, and later
 * allocations and bulkfree move it by exact amounts, so that surplus stays.
 */
export function allocatorFreeAgrees(stored: bigint, computed: bigint, total: bigint): boolean {
  if (stored === computed) return true;
  const surplus = stored - computed;
  // the first GiB was there before any growfs, so at most the other zones' segments
  const grownZones = topoReservedBytes(total) / ZONE_SEG - 1n;
  return surplus > 0n && surplus % ZONE_SEG === 0n && surplus / ZONE_SEG <= grownZones;
}
