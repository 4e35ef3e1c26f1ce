/**
 * The writing commands on the kernel-written corpus (docs/corpus.md), each image in a private copy:
 * cleanup (bulkfree, then reblock with the defaults), a full reblock (fill level 100), then
 * fsck -y. After each step every entry of every PFS still equals tree.json and fsck finds nothing
 * beyond what is true of the image (TRUE_FINDINGS); after fsck -y it finds nothing at all, and
 * only entries fsck had to create (lost+found) are new.
 */
import { ChainReader, FsReader, openReadOnly } from '../../src/engine';
import { PROBLEMS, checkFilesystem, render, runRepair } from '../../src/ops/fsck';
import { DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL, ITEM_TYPES, ReblockOptions, runBulkfree, runReblock } from '../../src/ops/reblock';
import { tempDir } from '../helpers/cli';
import { TRUE_FINDINGS, TreeEntry, imageManifest, kernelImageCopy, kernelImageNames, manifestPfs, treeManifest } from '../helpers/kernel-corpus';

const names = kernelImageNames();
jest.setTimeout(120_000);

const reblockOpts = (fillLevel: number): ReblockOptions => ({
  fillLevel,
  types: new Set(ITEM_TYPES),
  commitEveryBytes: DEFAULT_COMMIT_EVERY,
  reserveBytes: 0n,
  dryRun: false,
});

async function state(img: string, pfs: Set<string>): Promise<{ tree: TreeEntry[]; findings: string[]; counts: Record<string, number> }> {
  const s = await openReadOnly(img);
  try {
    const tree = imageManifest(new FsReader(new ChainReader(s.vols))).filter((e) => pfs.has(e.pfs ?? 'DATA'));
    const bad = checkFilesystem(s.vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info');
    const counts: Record<string, number> = {};
    for (const p of bad) counts[p.code] = (counts[p.code] ?? 0) + 1;
    return { tree, findings: bad.map((p) => `${p.code}: ${render(p)}`), counts };
  } finally {
    s.close();
  }
}

const LOST_FOUND = /^\/lost\+found(\/|$)/;
const outsideLostFound = (t: TreeEntry[]): TreeEntry[] => t.filter((e) => e.path === undefined || !LOST_FOUND.test(e.path));

describe.each(names)('kernel image %s', (name) => {
  let img = '';
  const want = treeManifest(name);
  const pfs = manifestPfs(want);
  const expected = TRUE_FINDINGS[name] ?? {};

  beforeAll(() => {
    img = kernelImageCopy(name, tempDir(`kcorpus-${name}`));
  });

  // each step works on what the previous one left
  test('cleanup keeps every entry and adds no finding', async () => {
    await runBulkfree(img);
    await runReblock(img, reblockOpts(DEFAULT_FILL_LEVEL));
    const s = await state(img, pfs);
    expect(s.tree).toEqual(want);
    if (TRUE_FINDINGS[name]) expect(s.counts).toEqual(expected);
    else expect(s.findings).toEqual([]);
  });

  test('a full reblock keeps every entry and adds no finding', async () => {
    await runReblock(img, reblockOpts(100));
    const s = await state(img, pfs);
    expect(s.tree).toEqual(want);
    if (TRUE_FINDINGS[name]) expect(s.counts).toEqual(expected);
    else expect(s.findings).toEqual([]);
  });

  test('fsck -y leaves it clean, every entry as it was', async () => {
    const r = await runRepair(img, { mode: 'yes' });
    const s = await state(img, pfs);
    expect(s.findings).toEqual([]);
    expect(r.final.problems.filter((p) => PROBLEMS[p.code].severity !== 'info')).toEqual([]);
    expect(outsideLostFound(s.tree)).toEqual(want);
    // what it reattached: one entry per orphan, under lost+found
    const reattached = s.tree.filter((e) => e.path !== undefined && LOST_FOUND.test(e.path) && e.path !== '/lost+found');
    expect(reattached.length).toBe(expected.INODE_ORPHAN ?? 0);
  });
});
