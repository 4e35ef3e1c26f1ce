/**
 * What the write campaigns share: the kernel-written fixtures of test/fixtures/kernel, the three
 * writing commands run against an overlay (the image on disk is never written), and the
 * judgements (problem codes, every PFS's tree digest).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, OBJTYPE_DIRECTORY, OBJTYPE_REGFILE, OBJTYPE_SOFTLINK } from '../../src/format';
import { BlockSource, ChainReader, FsReader, H2Error, InodeRef, Pfs, VolumeSet, WritableSource } from '../../src/engine';
import { PROBLEMS, ProblemCode, checkFilesystem } from '../../src/ops/fsck';
import { DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL, ITEM_TYPES, ItemType, runBulkfree, runReblock } from '../../src/ops/reblock';
import { tempDir } from './cli';

export const FIXTURES = path.resolve(__dirname, '../fixtures/kernel');

let extractDir: string | null = null;

/** Extract a kernel fixture (once per test file); returns the image path. */
export function kernelFixture(name: string): string {
  extractDir ??= tempDir('kernel-fixtures');
  const img = path.join(extractDir, `${name}.img`);
  if (!fs.existsSync(img)) execFileSync('tar', ['-xzf', path.join(FIXTURES, `${name}.img.tar.gz`), '-C', extractDir]);
  return img;
}

/** Errors that mean "the command refused" (exit 1, 4 or 8), as opposed to a crash. */
export const isRefusal = (e: unknown): boolean => e instanceof H2Error || e instanceof FormatError;

/** The problem codes a check finds (notes included); null when the image cannot be checked at all. */
export function problemCodes(open: () => VolumeSet, seriousOnly = false): Set<ProblemCode> | null {
  let vols: VolumeSet;
  try {
    vols = open();
  } catch (e) {
    if (isRefusal(e)) return null;
    throw e;
  }
  try {
    const codes = checkFilesystem(vols).problems.map((p) => p.code);
    return new Set(seriousOnly ? codes.filter((c) => PROBLEMS[c].severity !== 'info') : codes);
  } catch (e) {
    if (isRefusal(e)) return null;
    throw e;
  } finally {
    vols.close();
  }
}

/** Every PFS's tree (names, sizes, modes, file bytes, symlink targets) as one digest per PFS label. */
export function digestAllPfs(open: () => VolumeSet): Map<string, string> {
  const vols = open();
  try {
    const r = new FsReader(new ChainReader(vols));
    const out = new Map<string, string>();
    for (const pfs of r.listPfs()) out.set(pfs.name, digestPfs(r, pfs));
    return out;
  } finally {
    vols.close();
  }
}

function digestPfs(r: FsReader, pfs: Pfs): string {
  const h = createHash('sha256');
  const walk = (dir: InodeRef, p: string): void => {
    for (const e of [...r.readdir(dir)].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))) {
      const q = `${p}/${Buffer.from(e.name).toString('hex')}`;
      const ino = r.lookupInum(pfs, e.inum);
      const m = ino.inode.meta;
      h.update(`${q}:${m.type}:${m.size}:${m.mode}:${m.nlinks}\n`);
      if (m.type === OBJTYPE_DIRECTORY) walk(ino, q);
      else if (m.type === OBJTYPE_REGFILE || m.type === OBJTYPE_SOFTLINK) r.readFile(ino, (off, bytes) => h.update(`${off}`).update(bytes));
    }
  };
  walk(r.lookupInum(pfs, 1n), '');
  return h.digest('hex');
}

/** A writing command as the campaigns run it: against `dev`, with the spec of the image beneath. */
export type Writer = 'fsck-y' | 'reblock' | 'cleanup';

export interface ReblockChoice {
  fillLevel: number;
  types: ItemType[];
  commitEveryBytes: bigint;
}

/** Random reblock options: any fill level, any non-empty set of types, small to default batches. */
export function pickReblock(r: () => number): ReblockChoice {
  const types = ITEM_TYPES.filter(() => r() < 0.6);
  const commits = [64n << 10n, 1n << 20n, 4n << 20n, DEFAULT_COMMIT_EVERY];
  return {
    fillLevel: 1 + Math.floor(r() * 100),
    types: types.length > 0 ? types : [ITEM_TYPES[Math.floor(r() * ITEM_TYPES.length)]],
    commitEveryBytes: commits[Math.floor(r() * commits.length)],
  };
}

export async function reblockWith(spec: string, dev: WritableSource, c: ReblockChoice): Promise<void> {
  await runReblock(spec, { fillLevel: c.fillLevel, types: new Set(c.types), commitEveryBytes: c.commitEveryBytes, reserveBytes: 0n, dryRun: false, opener: () => dev });
}

/** cleanup as the command runs it: bulkfree, then reblock with the defaults. */
export async function cleanupWith(spec: string, dev: WritableSource): Promise<void> {
  await runBulkfree(spec, { opener: () => dev });
  await runReblock(spec, { fillLevel: DEFAULT_FILL_LEVEL, types: new Set(ITEM_TYPES), commitEveryBytes: DEFAULT_COMMIT_EVERY, reserveBytes: 0n, dryRun: false, opener: () => dev });
}

export const openThrough = (spec: string, dev: BlockSource) => (): VolumeSet => VolumeSet.open(spec, { opener: () => dev, allowTruncated: true });
