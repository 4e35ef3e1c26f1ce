/**
 * The checker, read-only, in five passes reported as phases:
 *   1. volume headers;  2. topology (one walk of every tree, which also gathers what 3 and 4
 *   need);  3. inodes and directories, per PFS;  4. statistics;  5. the freemap.
 */
import { hex64 } from '../../format/bytes';
import { BREF_TYPE_FREEMAP_LEAF, BREF_TYPE_VOLUME } from '../../format/constants';
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
    if (h.allocatorFree !== want) {
      report('STATS_ALLOCATOR_FREE', locate(BREF_TYPE_VOLUME, 0n, 0n, 'volume header'), `0x${hex64(h.allocatorFree)}, computed 0x${hex64(want)}`);
    }
    progress(4, 1, 1);
  });
  phase(4, (report) => {
    const r = cmp as FreemapComparison | null;
    if (!r) return;
    const granule = (g: bigint) => locate(BREF_TYPE_FREEMAP_LEAF, g, g, `granule 0x${hex64(g)}`);
    for (const g of r.holes) report('FREEMAP_HOLE', granule(g));
    for (const g of r.leaks) report('FREEMAP_LEAK', granule(g));
    if (h.freemapTid < h.mirrorTid) report('RECOVERY_NEEDED', locate(BREF_TYPE_VOLUME, 0n, 0n, 'volume header'), `0x${hex64(h.freemapTid)}`);
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
