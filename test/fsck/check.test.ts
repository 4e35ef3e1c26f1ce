/**
 * fsck, first part (headers, topology, freemap): every reference image is clean; damage made by
 * our own tools is found with the right code; checking never writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VOLUME_BYTES, ZONE_BYTES, decodeInode, encodeInode, BREF_TYPE_INODE, OBJTYPE_REGFILE, decodeVolumeHeader, sealVolumeHeader } from '../../src/format';
import { ChainReader, FsReader, VolumeSet, WriteSession } from '../../src/engine';
import { Editor, inodeDepth } from '../helpers/edit';
import { checkFilesystem, PHASES, PROBLEMS } from '../../src/ops/fsck';
import { fileSha256, freshImage, h2kit, sameBytes, tempDir } from '../helpers/cli';
import { inDir, refImage, referenceImageNames } from '../helpers/reference';

function codes(img: string): string[] {
  const vols = VolumeSet.open(img);
  try {
    return checkFilesystem(vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info').map((p) => p.code);
  } finally {
    vols.close();
  }
}

test.each(referenceImageNames())('reference image %s has no errors or warnings', (name) => {
  const img = refImage(name);
  const found = inDir(img.dir, () => {
    const vols = VolumeSet.open(img.spec);
    try {
      return checkFilesystem(vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info').map((p) => p.code);
    } finally {
      vols.close();
    }
  });
  expect(found).toEqual([]);
});

function patch(file: string, off: number, bytes: Uint8Array): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, off);
  fs.closeSync(fd);
}

test('a damaged header copy is HDR_CRC, and fsck exits 4 without writing', () => {
  // Two identically damaged sparse images (a plain file copy would write 10 GiB of zeros).
  const [img, pristine] = ['fsck-hdr', 'fsck-hdr-copy'].map((tag) => {
    const f = freshImage('n10g', tempDir(tag));
    patch(f, 2 * Number(ZONE_BYTES) + 0x300, Uint8Array.of(0xee)); // inside copy 2's sector 1
    return f;
  });
  expect(codes(img)).toEqual(['HDR_CRC']);
  const r = h2kit(['fsck', img]);
  expect(r.status).toBe(4);
  expect(r.stdout.toString()).toMatch(/error: HDR_CRC: volume header .* copy 2: CRC mismatch \(sector 1 crc/);
  expect(sameBytes(img, pristine)).toBe(true);
});

test('a corrupted inode block is BLOCK_CHECK', async () => {
  const img = freshImage('mk_lz4_xxhash64', tempDir('fsck-block'));
  const vols = VolumeSet.open(img);
  const sroot = vols.header.srootBlockset[0];
  vols.close();
  patch(img, Number(sroot.dataOff & ~0x3fn) + 0x40, Uint8Array.of(0x77)); // the super-root inode's times
  expect(codes(img)).toEqual(['BLOCK_CHECK']);
});

test('blocks newer than a lagging freemap_tid that the freemap says are free are RECOVERY_NEEDED, not FREEMAP_HOLE', async () => {
  const img = freshImage('n10g', tempDir('fsck-hole'));
  const s = await WriteSession.open(img, { purpose: 'test' });
  for (const v of s.walk()) {
    if (v.bref.type === BREF_TYPE_INODE && v.depth === 2) {
      const ino = decodeInode(s.current(v));
      ino.meta.mode = 0o700;
      s.modify(v, encodeInode(ino));
      break;
    }
  }
  s.commit();
  const best = s.vols.root.selection.best + 1;
  s.close();
  // put back the freemap of before the commit, with freemap_tid lagging: the new blocks are free
  const pristine = freshImage('n10g', tempDir('fsck-hole-pristine'));
  const read = (f: string, off: number): Buffer => {
    const b = Buffer.alloc(VOLUME_BYTES);
    const fd = fs.openSync(f, 'r');
    fs.readSync(fd, b, 0, VOLUME_BYTES, off);
    fs.closeSync(fd);
    return b;
  };
  const old = decodeVolumeHeader(read(pristine, 0));
  const h = decodeVolumeHeader(read(img, best * Number(ZONE_BYTES)));
  h.freemapBlockset = old.freemapBlockset;
  h.freemapTid = old.freemapTid;
  patch(img, best * Number(ZONE_BYTES), sealVolumeHeader(h));
  // the kernel's mount-time recovery marks them: reported as the recovery, not as holes
  expect(codes(img)).toEqual(['RECOVERY_NEEDED']);
});

test('exclusive modes, JSON, and the fsck(8) codes for usage and operational errors', () => {
  const a = refImage('a');
  expect(h2kit(['fsck', '-n', '-y', path.join(a.dir, 'a.img')]).status).toBe(16);
  expect(h2kit(['fsck', path.join(a.dir, 'missing.img')]).status).toBe(8);
  const r = h2kit(['fsck', '--json', path.join(a.dir, 'a.img')]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout.toString());
  expect(doc.__header.command).toBe('fsck');
  expect(doc.phases.map((p: { name: string }) => p.name)).toEqual([...PHASES]);
});

test('checking never writes: sha256 before and after fsck and fsck -n', () => {
  const dir = tempDir('fsck-nowrite');
  const damaged = freshImage('n64m', dir);
  patch(damaged, 0x300, Uint8Array.of(0xee)); // header copy 0's sector 1 CRC breaks
  for (const img of [freshImage('n256m', dir), damaged]) {
    const before = fileSha256(img);
    const mtime = fs.statSync(img).mtimeMs;
    for (const mode of [[], ['-n'], ['-n', '-v']]) {
      const r = h2kit(['fsck', ...mode, img]);
      expect([0, 4, 8]).toContain(r.status);
    }
    expect(fileSha256(img)).toBe(before);
    expect(fs.statSync(img).mtimeMs).toBe(mtime);
  }
});

test('--pfs limits the report to one PFS; an unknown PFS is a usage error', () => {
  const a = refImage('mk_lz4_xxhash64');
  const img = path.join(a.dir, a.spec);
  const doc = JSON.parse(h2kit(['fsck', '--json', img]).stdout.toString());
  expect([...doc.pfs].sort()).toEqual(['DATA', 'LOCAL']);
  expect(doc.inodes).toBe(345);
  expect(h2kit(['fsck', '--pfs', 'NOPE', img]).status).toBe(16);
  // a bad mode on a file of the PFS holding the tree: seen with --pfs of that PFS only
  const ed = new Editor(img);
  try {
    const file = ed.find((v) => v.bref.type === BREF_TYPE_INODE && inodeDepth(v) === 2 && decodeInode(v.data).meta.type === OBJTYPE_REGFILE);
    const owner = file.path.filter((b) => b.type === BREF_TYPE_INODE)[1];
    ed.editInode(file, (i) => (i.meta.mode |= 0o170000));
    const codesFor = (pfs: string) => {
      const vols = ed.open();
      try {
        return checkFilesystem(vols, { pfs }).problems.map((p) => p.code);
      } finally {
        vols.close();
      }
    };
    const names = ['DATA', 'LOCAL'];
    const vols = ed.open();
    const ownerName = new FsReader(new ChainReader(vols)).listPfs().find((p) => p.bref.key === owner.key)!.name;
    vols.close();
    expect(codesFor(ownerName)).toContain('INODE_MODE');
    expect(codesFor(names.find((n) => n !== ownerName)!)).not.toContain('INODE_MODE');
  } finally {
    ed.close();
  }
});

test('--progress-fd writes e2fsck -C lines for every pass', () => {
  const a = refImage('mk_zlib_crc32');
  const img = path.join(a.dir, a.spec);
  const r = h2kit(['fsck', '-q', '-C', '1', img]);
  expect(r.status).toBe(0);
  const lines = r.stdout.toString().trim().split('\n');
  for (const l of lines) expect(l).toMatch(/^[1-5] \d+ \d+ .*mk_zlib_crc32\.img$/);
  expect(new Set(lines.map((l) => l[0]))).toEqual(new Set(['1', '2', '3', '4', '5']));
  const pass2 = lines.filter((l) => l[0] === '2').map((l) => Number(l.split(' ')[1]));
  expect(pass2.length).toBeGreaterThan(10);
  expect([...pass2].sort((x, y) => x - y)).toEqual(pass2);
});
