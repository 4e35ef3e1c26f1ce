/**
 * Creating, writing, renaming and deleting through the engine, on newfs images: the results
 * read back through the ordinary read path byte for byte, dump prints them, the block tables
 * grow indirect blocks as the kernel's do, and the freemap matches the reachable blocks.
 */
import { createHash } from 'node:crypto';
import {
  BREF_TYPE_INDIRECT,
  COMP_AUTOZERO,
  COMP_LZ4,
  COMP_NONE,
  COMP_ZLIB,
  OBJTYPE_DIRECTORY,
  OBJTYPE_REGFILE,
  CHECK_ISCSI32,
  CHECK_XXHASH64,
} from '../../src/format';
import { FsWriter, VolumeSet, WriteSession, verifyFilesystem } from '../../src/engine';
import { openImage, readDataFile } from '../helpers/image';
import { freshImage, tempDir } from '../helpers/cli';
import { rng } from '../helpers/corrupt';
import { PROBLEMS, checkFilesystem, render } from '../../src/ops/fsck';

const T = 1700000000000000n;
const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Deterministic contents: text-like, random, zero runs, sizes around block edges. */
function contents(seed: number, size: number, kind: 'text' | 'random' | 'zeros' | 'mixed'): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    if (kind === 'text') b[i] = 97 + ((i * 7 + seed) % 23);
    else if (kind === 'random') b[i] = Math.floor(r() * 256);
    else if (kind === 'mixed') b[i] = (i >> 16) % 2 ? 0 : Math.floor(r() * 256);
  }
  return b;
}

async function withSession<T>(img: string, fn: (s: WriteSession, w: FsWriter) => T): Promise<T> {
  const s = await WriteSession.open(img, { purpose: 'test' });
  try {
    const out = fn(s, new FsWriter(s));
    s.commit();
    return out;
  } finally {
    s.close();
  }
}

/** The full checker finds nothing beyond notes (stats, link counts, iparent, allocator_free...). */
function expectFsckClean(img: string): void {
  const vols = VolumeSet.open(img);
  try {
    const found = checkFilesystem(vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info');
    expect(found.map((p) => `${p.code} ${render(p)}`)).toEqual([]);
  } finally {
    vols.close();
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test.each([
  ['lz4 / xxhash64', COMP_LZ4, CHECK_XXHASH64],
  ['zlib / crc32', COMP_ZLIB, CHECK_ISCSI32],
  ['none / xxhash64', COMP_NONE, CHECK_XXHASH64],
  ['autozero / crc32', COMP_AUTOZERO, CHECK_ISCSI32],
])('files of every size come back byte for byte (%s)', async (_name, comp, check) => {
  const img = freshImage('n10g', tempDir('fsw-files'));
  const files: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['one', Buffer.from('x')],
    ['b512', contents(1, 512, 'text')],
    ['b513', contents(2, 513, 'random')],
    ['b64k', contents(3, 65536, 'text')],
    ['b64k1', contents(4, 65537, 'random')],
    ['zeros', contents(5, 300000, 'zeros')],
    ['mixed', contents(6, 9 * 65536 + 100, 'mixed')],
    ['big', contents(7, 3 * 1024 * 1024 + 5, 'text')],
  ];
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    pfs.inode!.meta.compAlgo = comp;
    pfs.inode!.meta.checkAlgo = check;
    const dir = w.create(pfs, pfs, enc('dir'), { type: OBJTYPE_DIRECTORY, mode: 0o755, mtime: T });
    for (const [name, data] of files) {
      const f = w.create(pfs, dir, enc(name), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T });
      w.writeContents(f, data);
    }
  });
  const r = openImage(img);
  try {
    for (const [name, data] of files) expect({ name, sha: sha(readDataFile(r.fs, `dir/${name}`)) }).toEqual({ name, sha: sha(data) });
    const report = verifyFilesystem(r.chains);
    expect(report).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
    const big = r.fs.resolvePath(r.fs.findPfs('DATA'), 'dir/big');
    expect(big.inode.meta.compAlgo).toBe(comp);
  } finally {
    r.close();
  }
});

test('a directory of 600 entries grows indirect blocks and every name resolves', async () => {
  const img = freshImage('n10g', tempDir('fsw-dir'));
  const names = Array.from({ length: 600 }, (_, i) => `entry-${i}-${'n'.repeat(i % 90)}`);
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    const dir = w.create(pfs, pfs, enc('many'), { type: OBJTYPE_DIRECTORY, mode: 0o755, mtime: T });
    for (const n of names) w.writeContents(w.create(pfs, dir, enc(n), { type: OBJTYPE_REGFILE, mode: 0o600, mtime: T }), enc(n));
  });
  const r = openImage(img);
  try {
    const pfs = r.fs.findPfs('DATA');
    const dir = r.fs.resolvePath(pfs, 'many');
    const listed = [...r.fs.readdir(dir)].map((e) => Buffer.from(e.name).toString());
    expect(listed.sort()).toEqual([...names].sort());
    for (const n of names.slice(0, 50)) expect(readDataFile(r.fs, `many/${n}`).toString()).toBe(n);
    expect(dir.inode.blockset!.some((b) => b.type === BREF_TYPE_INDIRECT)).toBe(true);
    expect(verifyFilesystem(r.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
  } finally {
    r.close();
  }
  expectFsckClean(img);
});

test('deleting every other file, renaming and a second commit keep the freemap exact', async () => {
  const img = freshImage('n10g', tempDir('fsw-delete'));
  const names = Array.from({ length: 120 }, (_, i) => `f${i}`);
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    names.forEach((n, i) => w.writeContents(w.create(pfs, pfs, enc(n), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T }), contents(i, (i % 5) * 40000 + 10, 'random')));
  });
  const free1 = (() => {
    const v = VolumeSet.open(img);
    const f = v.header.allocatorFree;
    v.close();
    return f;
  })();
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    names.forEach((n, i) => {
      if (i % 2) w.unlink(pfs, pfs, enc(n));
    });
    const sub = w.create(pfs, pfs, enc('sub'), { type: OBJTYPE_DIRECTORY, mode: 0o700, mtime: T });
    w.rename(pfs, pfs, enc('f0'), sub, enc('moved'));
  });
  const r = openImage(img);
  try {
    const pfs = r.fs.findPfs('DATA');
    const left = [...r.fs.readdir(pfs)].map((e) => Buffer.from(e.name).toString()).sort();
    expect(left).toEqual([...names.filter((_, i) => i % 2 === 0 && i > 0), 'sub'].sort());
    expect(sha(readDataFile(r.fs, 'sub/moved'))).toBe(sha(contents(0, 10, 'random')));
    expect(sha(readDataFile(r.fs, 'f2'))).toBe(sha(contents(2, 80010, 'random')));
    const report = verifyFilesystem(r.chains);
    expect(report).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
    expect(r.chains.vols.header.allocatorFree).toBeGreaterThan(free1);
  } finally {
    r.close();
  }
  expectFsckClean(img);
});

test('truncate cuts files at block edges, inside blocks and back into the inode', async () => {
  const img = freshImage('n10g', tempDir('fsw-trunc'));
  const data = contents(9, 5 * 65536 + 777, 'random');
  const cuts: [string, number][] = [['at-edge', 3 * 65536], ['inside', 2 * 65536 + 1000], ['small', 300], ['zero', 0], ['same', data.length]];
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    for (const [name] of cuts) w.writeContents(w.create(pfs, pfs, enc(name), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T }), data);
  });
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    for (const [name, size] of cuts) w.truncate(w.resolve(pfs, name), BigInt(size));
  });
  const r = openImage(img);
  try {
    for (const [name, size] of cuts) expect({ name, sha: sha(readDataFile(r.fs, name)) }).toEqual({ name, sha: sha(data.subarray(0, size)) });
    expect(verifyFilesystem(r.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
  } finally {
    r.close();
  }
  expectFsckClean(img);
});

test('blocks freed in a run are not reused before it commits', async () => {
  const img = freshImage('n10g', tempDir('fsw-reuse'));
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    w.writeContents(w.create(pfs, pfs, enc('old'), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T }), contents(1, 4 * 65536, 'random'));
  });
  const oldBlocks = (() => {
    const r = openImage(img);
    try {
      const ino = r.fs.resolvePath(r.fs.findPfs('DATA'), 'old');
      return new Set([...r.fs.scan(ino.bref, 0n, (1n << 64n) - 1n)].map((b) => b.dataOff & ~0x3fn));
    } finally {
      r.close();
    }
  })();
  expect(oldBlocks.size).toBe(4);
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    w.unlink(pfs, pfs, enc('old'));
    w.writeContents(w.create(pfs, pfs, enc('new'), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T }), contents(2, 4 * 65536, 'random'));
  });
  const r = openImage(img);
  try {
    const ino = r.fs.resolvePath(r.fs.findPfs('DATA'), 'new');
    const newBlocks = [...r.fs.scan(ino.bref, 0n, (1n << 64n) - 1n)].map((b) => b.dataOff & ~0x3fn);
    expect(newBlocks.filter((o) => oldBlocks.has(o))).toEqual([]);
    expect(verifyFilesystem(r.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
  } finally {
    r.close();
  }
});

test('a run that ends without commit leaves the previous state', async () => {
  const img = freshImage('n10g', tempDir('fsw-abandon'));
  const s = await WriteSession.open(img, { purpose: 'test' });
  const w = new FsWriter(s);
  const pfs = w.pfsRoot('DATA');
  w.writeContents(w.create(pfs, pfs, enc('never'), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T }), contents(3, 200000, 'random'));
  s.close(); // no commit: an error or a signal part way
  const r = openImage(img);
  try {
    expect(r.chains.vols.header.mirrorTid).toBe(0x10n);
    expect([...r.fs.readdir(r.fs.findPfs('DATA'))]).toEqual([]);
    expect(verifyFilesystem(r.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
  } finally {
    r.close();
  }
});

test('a name whose hash key is taken goes to the next key of its collision range', async () => {
  const img = freshImage('n10g', tempDir('fsw-collide'));
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    const f = w.create(pfs, pfs, enc('same'), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T });
    // a second entry with the same name hash (here: the same name) must take hash + 1
    w.link(pfs, enc('same'), f.inode!.meta.inum, OBJTYPE_REGFILE);
  });
  const { dirhash } = await import('../../src/format');
  const h = dirhash(enc('same'));
  const r = openImage(img);
  try {
    expect([...r.fs.readdir(r.fs.findPfs('DATA'))].map((e) => e.key)).toEqual([h, h + 1n]);
  } finally {
    r.close();
  }
  // moving the first away leaves a gap at `hash`: the second must still be found past it
  await withSession(img, (_s, w) => {
    const pfs = w.pfsRoot('DATA');
    w.rename(pfs, pfs, enc('same'), pfs, enc('other'));
    expect(w.findEntry(pfs, enc('same'))).not.toBeNull();
  });
  const r2 = openImage(img);
  try {
    const keys = [...r2.fs.readdir(r2.fs.findPfs('DATA'))].map((e) => e.key);
    expect(keys).toContain(h + 1n);
    expect(keys).not.toContain(h);
  } finally {
    r2.close();
  }
});
