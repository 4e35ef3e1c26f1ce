/**
 * fsck -y and -p through the command line, on damaged copies of images: the fsck(8) exit codes
 * (1 corrected, 4 left), a clean second run, FILE SYSTEM WAS MODIFIED, preen's limits, and the
 * data of intact files byte-identical before and after.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { BREF_TYPE_DIRENT, BREF_TYPE_INODE, OBJTYPE_REGFILE, decodeInode, embedDirent, setEmbedDirent } from '../../src/format';
import { openImage } from '../helpers/image';
import { Editor, inodeDepth } from '../helpers/edit';
import { freshImage, h2kit, tempDir } from '../helpers/cli';
import { FsReader, InodeRef, Pfs } from '../../src/engine';

/** sha256 of every regular file, by path, read through our own reader. */
function contents(img: string): Map<string, string> {
  const r = openImage(img);
  const out = new Map<string, string>();
  try {
    const walk = (fs_: FsReader, pfs: Pfs, dir: InodeRef, prefix: string): void => {
      for (const e of fs_.readdir(dir)) {
        const name = `${prefix}/${Buffer.from(e.name).toString()}`;
        let ino: InodeRef;
        try {
          ino = fs_.lookupInum(pfs, e.inum);
        } catch {
          continue;
        }
        if (ino.inode.meta.type === 1) walk(fs_, pfs, ino, name);
        else if (ino.inode.meta.type === OBJTYPE_REGFILE) {
          const h = createHash('sha256');
          const buf = Buffer.alloc(Number(ino.inode.meta.size));
          fs_.readFile(ino, (off, bytes) => buf.set(bytes, Number(off)));
          out.set(name, h.update(buf).digest('hex'));
        }
      }
    };
    for (const pfs of r.fs.listPfs()) walk(r.fs, pfs, pfs, pfs.name);
  } finally {
    r.close();
  }
  return out;
}

function damaged(tag: string, make: (ed: Editor) => void): string {
  const img = freshImage('mk_lz4_xxhash64', tempDir(tag));
  const ed = new Editor(img);
  try {
    make(ed);
    ed.applyTo(img);
  } finally {
    ed.close();
  }
  return img;
}

const isFile = (v: { bref: { type: number }; data: Uint8Array }): boolean =>
  v.bref.type === BREF_TYPE_INODE && decodeInode(v.data).meta.type === OBJTYPE_REGFILE;

test('-y repairs (exit 1, FILE SYSTEM WAS MODIFIED), a second -n run exits 0, intact files keep their bytes', () => {
  let victim = 0n;
  const img = damaged('fsck-y', (ed) => {
    const files = ed.visits().filter((v) => isFile(v) && inodeDepth(v) === 2);
    ed.editInode(files[3], (i) => (i.meta.nlinks = 9n)); // LINK_COUNT
    ed.editInode(files[5], (i) => (i.meta.mode |= 0o170000)); // INODE_MODE
    const d = ed.find((v) => v.bref.type === BREF_TYPE_DIRENT && inodeDepth(v) === 3);
    victim = embedDirent(d.bref).inum;
    ed.editBref(d, (b) => setEmbedDirent(b, { ...embedDirent(b), inum: 0x7777777n })); // DIRENT_DANGLING, and an orphan
  });
  const before = contents(img);
  const check1 = h2kit(['fsck', '-n', img]);
  expect(check1.status).toBe(4);
  const r = h2kit(['fsck', '-y', img]);
  const out = r.stdout.toString();
  expect(r.status).toBe(1);
  expect(out).toMatch(/fixed: LINK_COUNT/);
  expect(out).toMatch(/fixed: INODE_MODE/);
  expect(out).toMatch(/fixed: DIRENT_DANGLING/);
  expect(out).toMatch(new RegExp(`fixed: INODE_ORPHAN: .*lost\\+found/#${victim}`));
  expect(out.trim().endsWith('***** FILE SYSTEM WAS MODIFIED *****')).toBe(true);
  expect(h2kit(['fsck', '-n', img]).status).toBe(0);
  // every file still reachable under its old path has its old bytes; the orphan is in lost+found
  const after = contents(img);
  let same = 0;
  for (const [p, sum] of before) {
    if (!after.has(p)) continue;
    expect({ p, sum: after.get(p) }).toEqual({ p, sum });
    same++;
  }
  expect(same).toBeGreaterThan(before.size - 3);
  expect([...after.keys()].some((p) => p.includes(`/lost+found/#${victim}`))).toBe(true);
});

test('-p makes only the safe fixes and exits 4 when others are left; -n never writes', () => {
  const img = damaged('fsck-p', (ed) => {
    const files = ed.visits().filter((v) => isFile(v) && inodeDepth(v) === 2);
    ed.editInode(files[2], (i) => (i.meta.mode |= 0o170000)); // preen-safe
    ed.editInode(files[4], (i) => (i.meta.type = 0x42)); // not preen-safe
  });
  const r = h2kit(['fsck', '-p', img]);
  expect(r.status).toBe(1 | 4);
  expect(r.stdout.toString()).toMatch(/fixed: INODE_MODE/);
  expect(r.stdout.toString()).not.toMatch(/fixed: INODE_TYPE/);
  const again = h2kit(['fsck', '-n', '--json', img]);
  expect(again.status).toBe(4);
  // the makefs image's own leaked granule stays a note: notes are not repairs
  const left = JSON.parse(again.stdout.toString()).problems as { code: string; severity: string }[];
  expect(left.filter((p) => p.severity !== 'info').map((p) => p.code)).toEqual(['INODE_TYPE']);
  const y = h2kit(['fsck', '-y', '--json', img]);
  expect(y.status).toBe(1);
  const doc = JSON.parse(y.stdout.toString());
  expect(doc.fixes.map((f: { code: string }) => f.code)).toContain('INODE_TYPE');
  expect(doc.remaining.filter((p: { severity: string }) => p.severity !== 'info')).toEqual([]);
  expect(h2kit(['fsck', img]).status).toBe(0);
});

test('a fatal case (a truncated device) exits 4 and leaves the image byte-identical', () => {
  const dir = tempDir('fsck-fatal');
  const img = freshImage('mk_lz4_xxhash64', dir);
  fs.truncateSync(img, 512 * 1048576);
  const sum = createHash('sha256').update(fs.readFileSync(img)).digest('hex');
  const r = h2kit(['fsck', '-y', img]);
  expect(r.status).toBe(4);
  expect(r.stdout.toString()).toMatch(/VOLUME_TRUNCATED/);
  expect(createHash('sha256').update(fs.readFileSync(img)).digest('hex')).toBe(sum);
  void path;
});
