/**
 * Cases the hostile-image campaign found, shrunk to one damage each (see hostile-writers.test.ts).
 *  - An unreadable super-root or PFS root hides the whole tree below it: fsck used to take every
 *    granule for a leak and free it (-y and -p alike), handing out live space.
 *  - -y on an image with such a root left it changed and still broken (exit 5); it now changes
 *    nothing, so the image stays as it was for a better tool (exit 4).
 */
import * as path from 'node:path';
import { BREF_TYPE_INODE, OBJTYPE_REGFILE } from '../../src/format';
import { FsWriter, ReadOnlyDevice, WriteSession } from '../../src/engine';
import { FSCK_EXIT, repairExitCode, runRepair } from '../../src/ops/fsck';
import { Editor, inodeDepth } from '../helpers/edit';
import { h2kit, tempDir } from '../helpers/cli';

let img = '';
beforeAll(() => {
  img = path.join(tempDir('regress'), 'r.img');
  expect(h2kit(['mkfs', '--quiet', '--size', '1G', img]).status).toBe(0);
});

/** An overlay holding one 300 KB file in DATA, committed. */
async function withFile(base: ReadOnlyDevice): Promise<Editor> {
  const ed = new Editor(base);
  const s = await WriteSession.open(img, { purpose: 'test', opener: () => ed.dev });
  try {
    const w = new FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    const f = w.create(pfs, pfs, Buffer.from('file'), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
    w.writeContents(f, Buffer.alloc(300000, 7).map((_, i) => (i * 2654435761) >>> 24));
    w.finish(f);
    s.commit();
  } finally {
    s.close();
  }
  return ed;
}

/** Flip one byte of an inode block without re-sealing it: its check code fails. */
function breakInode(ed: Editor, depth: number): void {
  const v = ed.visits().find((x) => x.bref.type === BREF_TYPE_INODE && inodeDepth(x) === depth)!;
  const off = (v.bref.dataOff & ~0x3fn) + 0x80n;
  const cur = ed.open();
  const old = cur.read(off, 1)[0];
  cur.close();
  ed.patch(off, Uint8Array.of(old ^ 0x40));
}

test.each([
  ['the super-root', 0],
  ['a PFS root', 1],
])('fsck -y changes nothing when %s cannot be read (and frees no hidden granule)', async (_what, depth) => {
  const base = ReadOnlyDevice.open(img);
  try {
    const ed = await withFile(base);
    // recovery pending too: a repair that would still go ahead has something to write
    ed.editHeader(ed.open().root.selection.best, (h) => {
      h.freemapTid -= 1n;
    });
    breakInode(ed, depth);
    const mark = ed.dev.patches.length;
    const r = await runRepair(img, { mode: 'yes', opener: () => ed.dev });
    expect(r.initial.problems.some((p) => p.code === 'BLOCK_CHECK')).toBe(true);
    expect(repairExitCode(r)).toBe(FSCK_EXIT.UNCORRECTED);
    expect(r.modified).toBe(false);
    expect(ed.dev.patches.length).toBe(mark);
  } finally {
    base.close();
  }
});

test('fsck -p frees no granule below a block it cannot read', async () => {
  const base = ReadOnlyDevice.open(img);
  try {
    const ed = await withFile(base);
    breakInode(ed, 2);
    const r = await runRepair(img, { mode: 'preen', opener: () => ed.dev });
    // the file's data blocks look unreferenced while its inode does not verify
    expect(r.initial.problems.some((p) => p.code === 'FREEMAP_LEAK')).toBe(true);
    expect(r.fixes.filter((f) => f.code === 'FREEMAP_LEAK')).toEqual([]);
    expect(r.final.problems.some((p) => p.code === 'BLOCK_CHECK')).toBe(true);
  } finally {
    base.close();
  }
});
