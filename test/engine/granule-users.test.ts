/**
 * The commit's live check from granule user counts (granule-users.ts) must name exactly the
 * granules a full walk of the new tree finds. Kernel images whose snapshots share subtrees and
 * whose files share deduplicated blocks; changes that delete (whole subtrees leave the tree, some
 * still shared), and reblock runs that move leaves and copy metadata on write. Each time every
 * granule either tree uses is asked about.
 */
import fc from 'fast-check';
import { BREF_TYPE_VOLUME, Blockref, brefBytes } from '../../src/format';
import { ChainReader, FsWriter, GranuleUsers, WriteSession, countGranules, headerRootBref, verifyFilesystem, walkTree } from '../../src/engine';
import { liveAfterDiff } from '../../src/engine/granule-users';
import { ITEM_TYPES } from '../../src/ops/reblock';
import { Editor } from '../helpers/edit';
import { kernelFixture, reblockWith } from '../helpers/campaign';

function tree(ed: Editor): { set: Blockref[]; users: GranuleUsers } {
  const vols = ed.open();
  try {
    const chains = new ChainReader(vols);
    const users: GranuleUsers = new Map();
    for (const v of walkTree(chains, headerRootBref(chains, BREF_TYPE_VOLUME), { readData: false })) {
      if (v.bref.type !== BREF_TYPE_VOLUME) countGranules(users, v.bref.dataOff, brefBytes(v.bref));
    }
    return { set: vols.header.srootBlockset, users };
  } finally {
    vols.close();
  }
}

/** Change the image, then compare the diff's answer with the new tree's own counts. */
async function agree(ed: Editor, change: () => Promise<void>): Promise<{ moved: boolean; dropped: number }> {
  const old = tree(ed);
  await change();
  const now = tree(ed);
  const wanted = new Set([...old.users.keys(), ...now.users.keys()]);
  const vols = ed.open();
  try {
    const live = liveAfterDiff(new ChainReader(vols), old.set, now.set, old.users, wanted);
    expect([...live].sort()).toEqual([...now.users.keys()].sort());
    const v = verifyFilesystem(new ChainReader(vols));
    expect(v.holes).toEqual([]);
    expect(v.leaks).toEqual([]);
  } finally {
    vols.close();
  }
  // granules the change stopped using: the diff must have said so for these
  const dropped = [...old.users.keys()].filter((g) => !now.users.has(g)).length;
  return { moved: JSON.stringify(now.set, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) !== JSON.stringify(old.set, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)), dropped };
}

test('deleting files shared with snapshots and dedup partners', async () => {
  const img = kernelFixture('camp_shared');
  const ed = new Editor(img);
  try {
    const { dropped } = await agree(ed, async () => {
      const s = await WriteSession.open(img, { purpose: 'test', opener: () => ed.dev });
      try {
        const w = new FsWriter(s);
        const pfs = w.pfsRoot('DATA');
        const a = w.resolve(pfs, 'a');
        w.unlink(pfs, a, Buffer.from('f000'));
        w.unlink(pfs, a, Buffer.from('dup1'));
        s.commit();
      } finally {
        s.close();
      }
    });
    // the blocks of the old DATA root path at least
    expect(dropped).toBeGreaterThan(0);
  } finally {
    ed.close();
  }
});

test.each(['camp_shared', 'fa_snapshot'])('reblock runs on %s', async (name) => {
  const img = kernelFixture(name);
  let changed = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 50, max: 100 }), fc.subarray(ITEM_TYPES.filter((t) => t !== 'data')), async (fillLevel, more) => {
      const types = ['data' as const, ...more];
      const ed = new Editor(img);
      try {
        // one commit, so that every block of the old tree is still on the media for the diff
        const r = await agree(ed, () => reblockWith(img, ed.dev, { fillLevel, types, commitEveryBytes: 1n << 40n }));
        if (r.moved && r.dropped > 0) changed++;
      } finally {
        ed.close();
      }
    }),
    { numRuns: 12, seed: 14 },
  );
  // most runs move something and leave granules behind: the diff had to find those
  expect(changed).toBeGreaterThanOrEqual(4);
});
