/**
 * Every regular file of the reference source tree comes out of every makefs image byte for
 * byte, through indirect blocks, holes and lz4/zlib/autozero/uncompressed blocks, with both
 * check methods.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ReadSession, openReadOnly } from '../../src/engine';
import { OBJTYPE_DIRECTORY, OBJTYPE_REGFILE, OBJTYPE_SOFTLINK } from '../../src/format';
import { choosePfs } from '../../src/ops/dump';
import { extracted, inDirAsync, refImage, referenceImageNames } from '../helpers/reference';
import { ListingEntry, srctreeListing } from '../helpers/image';

type Entry = ListingEntry;
const listing = srctreeListing();
const srcRoot = path.join(extracted('srctree.tar.gz'), 'srctree');
const makefsImages = referenceImageNames().filter((n) => n.startsWith('mk_'));

function readAll(s: ReadSession, p: string): Buffer {
  const pfs = choosePfs(s, 'DATA');
  const ino = s.fs.resolvePath(pfs, p);
  const out = Buffer.alloc(Number(ino.inode.meta.size));
  s.fs.readFile(ino, (off, bytes) => out.set(bytes, Number(off)));
  return out;
}

test('the source tree listing and the extracted tree agree', () => {
  const files = listing.filter((e) => e.type === 'file');
  expect(files.length).toBeGreaterThan(300);
  for (const f of files.slice(0, 20)) {
    const data = fs.readFileSync(path.join(srcRoot, f.path));
    expect(createHash('sha256').update(data).digest('hex')).toBe(f.sha256);
  }
});

describe.each(makefsImages)('makefs image %s', (name) => {
  let s: ReadSession;
  beforeAll(async () => {
    const img = refImage(name);
    s = await inDirAsync(img.dir, () => openReadOnly(img.spec));
  });
  afterAll(() => s?.close());

  test('every regular file extracts byte-identical to the source tree', () => {
    const files = listing.filter((e) => e.type === 'file');
    let bytes = 0;
    for (const f of files) {
      const got = readAll(s, f.path);
      const want = fs.readFileSync(path.join(srcRoot, f.path));
      if (!got.equals(want)) throw new Error(`${name}: ${f.path} differs (${got.length} vs ${want.length} bytes)`);
      bytes += got.length;
    }
    expect(bytes).toBeGreaterThan(8 * 1024 * 1024);
  });

  test('types, modes, symlink targets and mtimes match the listing', () => {
    const pfs = choosePfs(s, 'DATA');
    for (const e of listing) {
      const ino = s.fs.resolvePath(pfs, e.path);
      const m = ino.inode.meta;
      expect({ p: e.path, mode: (m.mode & 0o7777).toString(8) }).toEqual({ p: e.path, mode: e.mode });
      if (e.type === 'file') expect(m.type).toBe(OBJTYPE_REGFILE);
      if (e.type === 'dir') expect(m.type).toBe(OBJTYPE_DIRECTORY);
      if (e.type === 'symlink') {
        expect(m.type).toBe(OBJTYPE_SOFTLINK);
        expect(Buffer.from(s.fs.readlink(ino)).toString('utf8')).toBe(e.target);
      }
      // makefs stores the source ctime as the mtime of content-less inodes (empty files and
      // directories, FIFOs): the clock of the day the images were made, not the listed mtime.
      const contentless = e.type === 'fifo' || e.path === 'emptydir' || (e.type === 'file' && e.size === 0);
      if (contentless) expect(m.mtime).toBeGreaterThan(BigInt(Date.UTC(2026, 0, 1)) * 1000n);
      else expect({ p: e.path, mtime: m.mtime }).toEqual({ p: e.path, mtime: BigInt(e.mtime_ns) / 1000n });
    }
  });
});

test('hardlinked names share one inode whose link count is the number of names', async () => {
  const img = refImage(makefsImages[0]);
  const s = await inDirAsync(img.dir, () => openReadOnly(img.spec));
  try {
    const pfs = choosePfs(s, 'DATA');
    const groups = new Map<string, Entry[]>();
    for (const e of listing as (Entry & { hardlink_group?: string })[]) {
      if (e.hardlink_group !== undefined) groups.set(String(e.hardlink_group), [...(groups.get(String(e.hardlink_group)) ?? []), e]);
    }
    expect(groups.size).toBeGreaterThan(0);
    for (const members of groups.values()) {
      const inodes = members.map((m) => s.fs.resolvePath(pfs, m.path).inode.meta);
      expect(new Set(inodes.map((m) => m.inum)).size).toBe(1);
      expect(inodes[0].nlinks).toBe(BigInt(members.length));
    }
  } finally {
    s.close();
  }
});
