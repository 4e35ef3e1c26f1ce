/**
 * Repairs on the corruption corpus: a repairable case ends with fixes made (exit 1 from -y) and
 * a clean second check (exit 0 from -n); a fatal one writes nothing at all. Everything goes
 * through an overlay, so the images themselves are never touched.
 */
import { PROBLEMS, Problem, checkFilesystem, runRepair } from '../../src/ops/fsck';
import { Editor } from '../helpers/edit';
import { CASES, Source, corpusImages } from '../helpers/fsck-corpus';

let images: Record<Source, string>;
beforeAll(() => {
  images = corpusImages();
});

/** Cases that cannot be repaired: the device lacks its end (nothing is written to it). */
const FATAL = new Set(['HDR_SHORT', 'VOLUME_TRUNCATED', 'BLOCK_READ']);
const serious = (ps: Problem[]): string[] => ps.filter((p) => PROBLEMS[p.code].severity !== 'info').map((p) => `${p.code}: ${p.where} ${p.detail}`);

test.each(CASES.map((c) => [c.code, c] as const))('%s: fsck -y repairs it, or changes nothing', async (code, c) => {
  const ed = new Editor(images[c.on], c.size);
  try {
    c.make(ed);
    const before = ed.dev.patches.length;
    const r = await runRepair(images[c.on], { mode: 'yes', opener: () => ed.dev });
    if (FATAL.has(code)) {
      expect(r.modified).toBe(false);
      expect(ed.dev.patches.length).toBe(before);
      expect(serious(r.final.problems).length).toBeGreaterThan(0);
      return;
    }
    expect(serious(r.final.problems)).toEqual([]);
    // notes are not repairs: a case that is only a note leaves the device as it is
    expect(r.modified).toBe(PROBLEMS[code].severity !== 'info');
    // an independent second check agrees
    const vols = ed.open();
    try {
      expect(serious(checkFilesystem(vols).problems)).toEqual([]);
    } finally {
      vols.close();
    }
  } finally {
    ed.close();
  }
});

test('a cut unreadable block is reported with what it held; --rewrite-check-codes keeps it instead', async () => {
  const c = CASES.find((x) => x.code === 'BLOCK_CHECK')!;
  for (const rewrite of [false, true]) {
    const ed = new Editor(images[c.on], c.size);
    try {
      c.make(ed);
      const r = await runRepair(images[c.on], { mode: 'yes', opener: () => ed.dev, rewriteCheckCodes: rewrite });
      const fix = r.fixes.find((f) => f.code === 'BLOCK_CHECK')!;
      if (rewrite) {
        expect(fix.action).toMatch(/check code recomputed/);
        // the directory was kept: nothing went to lost+found
        expect(r.fixes.some((f) => f.code === 'INODE_ORPHAN')).toBe(false);
      } else {
        expect(fix.action).toMatch(/^cut; it held a inode block, keys 0x[0-9a-f]{16}-0x[0-9a-f]{16}, \d+ inodes and \d+ bytes below it$/);
        expect(r.fixes.some((f) => f.code === 'INODE_ORPHAN' || f.code === 'DIRENT_DANGLING')).toBe(true);
      }
      expect(serious(r.final.problems)).toEqual([]);
    } finally {
      ed.close();
    }
  }
});

test('asked per problem: "n" changes nothing, "a" fixes this and everything after', async () => {
  const c = CASES.find((x) => x.code === 'LINK_COUNT')!;
  for (const answer of ['n', 'a'] as const) {
    const ed = new Editor(images[c.on], c.size);
    try {
      c.make(ed);
      const before = ed.dev.patches.length;
      let asked = 0;
      const r = await runRepair(images[c.on], {
        mode: 'ask',
        opener: () => ed.dev,
        ask: () => {
          asked++;
          return answer;
        },
      });
      if (answer === 'n') {
        expect(r.modified).toBe(false);
        expect(ed.dev.patches.length).toBe(before);
        expect(asked).toBeGreaterThan(0);
      } else {
        expect(asked).toBe(1);
        expect(serious(r.final.problems)).toEqual([]);
      }
    } finally {
      ed.close();
    }
  }
});
