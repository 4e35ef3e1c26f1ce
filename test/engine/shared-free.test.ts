/**
 * A commit frees a released block only when the new tree no longer uses it. On a kernel image
 * whose snapshots share DATA's subtrees and whose files share deduplicated blocks, deleting a
 * file from DATA must leave the snapshots' copy whole and the freemap without holes (the random
 * layout campaign found this: the commit used to check only sub-16 KiB blocks for sharing).
 */
import { OBJTYPE_REGFILE } from '../../src/format';
import { ChainReader, FsReader, FsWriter, ReadOnlyDevice, WriteSession, verifyFilesystem } from '../../src/engine';
import { Editor } from '../helpers/edit';
import { kernelFixture, openThrough } from '../helpers/campaign';

function readAll(r: FsReader, pfs: string, p: string): Buffer {
  const ino = r.resolvePath(r.findPfs(pfs), p);
  const out = Buffer.alloc(Number(ino.inode.meta.size));
  r.readFile(ino, (off, b) => out.set(b, Number(off)));
  return out;
}

test('deleting shared files from DATA keeps the snapshots and dedup partners allocated', async () => {
  const img = kernelFixture('camp_shared');
  const base = ReadOnlyDevice.open(img);
  try {
    const ed = new Editor(base);
    const open = openThrough(img, ed.dev);
    let vols = open();
    const before = new FsReader(new ChainReader(vols));
    const f000 = readAll(before, 'snap1', '/a/f000');
    const dup = readAll(before, 'DATA', '/a/dup1');
    vols.close();

    const s = await WriteSession.open(img, { purpose: 'test', opener: () => ed.dev });
    try {
      const w = new FsWriter(s);
      const pfs = w.pfsRoot('DATA');
      const a = w.resolve(pfs, 'a');
      expect(w.inodeChain(pfs, w.findEntry(a, Buffer.from('f000'))!.inum).inode!.meta.type).toBe(OBJTYPE_REGFILE);
      w.unlink(pfs, a, Buffer.from('f000'));
      w.unlink(pfs, a, Buffer.from('dup1'));
      s.commit();
    } finally {
      s.close();
    }

    vols = open();
    try {
      const v = verifyFilesystem(new ChainReader(vols));
      expect(v.checkFailures).toEqual([]);
      expect(v.holes).toEqual([]);
      const after = new FsReader(new ChainReader(vols));
      expect(readAll(after, 'snap1', '/a/f000').equals(f000)).toBe(true);
      expect(readAll(after, 'snap2', '/a/f000').equals(f000)).toBe(true);
      expect(readAll(after, 'DATA', '/a/dup2').equals(dup)).toBe(true);
      expect(() => after.resolvePath(after.findPfs('DATA'), '/a/f000')).toThrow();
    } finally {
      vols.close();
    }
  } finally {
    base.close();
  }
});
