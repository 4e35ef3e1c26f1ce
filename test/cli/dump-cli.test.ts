/** The dump commands end to end through the built CLI: text, JSON, files out, read-only opens. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { freshImage, h2kit, sameBytes, tempDir } from '../helpers/cli';
import { extracted, refImage, refText } from '../helpers/reference';
import { ReadOnlyDevice } from '../../src/engine';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('dump show through the CLI is byte-identical to hammer2 show, for a multi-volume filesystem too', () => {
  const m = refImage('multi');
  const r = h2kit(['dump', 'show', m.spec], { cwd: m.dir });
  expect(r.status).toBe(0);
  expect(r.stdout.equals(refText('multi.show.txt'))).toBe(true);
  const v = h2kit(['dump', 'volhdr', '--all', m.spec], { cwd: m.dir });
  expect(v.stdout.equals(refText('multi.volhdr-all.txt'))).toBe(true);
});

test('dump show -v through the CLI verifies data blocks as hammer2 -v show does', () => {
  const img = refImage('mk_zlib_crc32');
  const r = h2kit(['dump', 'show', '-v', img.spec], { cwd: img.dir });
  expect(r.status).toBe(0);
  expect(r.stdout.equals(refText('mk_zlib_crc32.show-v.txt'))).toBe(true);
});

test('--json output is versioned and writes 64-bit values as 0x hex strings', () => {
  const img = refImage('n10g');
  const r = h2kit(['dump', 'volhdr', '--all', '--json', img.spec], { cwd: img.dir });
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout.toString('utf8'));
  expect(doc.__header).toEqual({ tool: 'h2kit', format_version: 1, command: 'dump volhdr' });
  const copies = doc.volumes[0].copies;
  expect(copies.map((c: { offset: string }) => c.offset)).toEqual([
    '0x0000000000000000',
    '0x0000000080000000',
    '0x0000000100000000',
    '0x0000000180000000',
  ]);
  expect(copies[0].header.magic).toBe('0x48414d3205172011');
  expect(copies[0].header.crc_ok).toEqual({ sect0: true, sect1: true, volheader: true });
});

test('dump show --json gives the chain tree, and dump freemap --json the leaves', () => {
  const img = refImage('mk_lz4_xxhash64');
  const show = JSON.parse(h2kit(['dump', 'show', '--json', img.spec], { cwd: img.dir }).stdout.toString('utf8'));
  expect(show.tree.type).toBe('volume');
  const sroot = show.tree.children[0];
  expect(sroot.inode.filename).toBe('SUPROOT');
  expect(sroot.children.map((c: { inode: { filename: string } }) => c.inode.filename).sort()).toEqual(['DATA', 'LOCAL']);
  expect(show.check_failures).toBe(0);
  const fm = JSON.parse(h2kit(['dump', 'freemap', '--json', img.spec], { cwd: img.dir }).stdout.toString('utf8'));
  const leaf = fm.tree.children[0];
  expect(leaf.type).toBe('freemap_leaf');
  expect(leaf.segments).toHaveLength(256);
  expect(leaf.segments[0].bitmap[0]).toMatch(/^0x[0-9a-f]{16}$/);
});

test('dump pfs lists the PFSs, and dump inode shows one by path or number', () => {
  const img = refImage('labels');
  const pfs = JSON.parse(h2kit(['dump', 'pfs', '--json', img.spec], { cwd: img.dir }).stdout.toString('utf8'));
  expect(pfs.pfs.map((p: { name: string }) => p.name).sort()).toEqual(['BUILD', 'HOME', 'LOCAL', 'ROOT']);
  const mk = refImage('mk_default');
  const byPath = JSON.parse(h2kit(['dump', 'inode', '--json', mk.spec, '/links/long'], { cwd: mk.dir }).stdout.toString('utf8'));
  expect(byPath.inode.type).toBe('SOFTLINK');
  expect(byPath.inode.symlink_target).toMatch(/^\/target00\/target01/);
  const byNum = h2kit(['dump', 'inode', mk.spec, byPath.inode.inum], { cwd: mk.dir });
  expect(byNum.stdout.toString()).toMatch(/type\s+SOFTLINK/);
});

test('dump file -o writes the file with its holes sparse, and to stdout with zeros', () => {
  const img = refImage('mk_autozero_xxhash64');
  const src = path.join(extracted('srctree.tar.gz'), 'srctree');
  const listing = JSON.parse(refText('srctree.listing.json').toString('utf8')).entries as { path: string; type: string; size?: number }[];
  const sparse = listing.find((e) => /sparse/.test(e.path) && e.type === 'file')!;
  const out = path.join(tempDir('file'), 'out.bin');
  const r = h2kit(['dump', 'file', img.spec, sparse.path, '-o', out], { cwd: img.dir });
  expect(r.status).toBe(0);
  const want = fs.readFileSync(path.join(src, sparse.path));
  expect(sha(fs.readFileSync(out))).toBe(sha(want));
  expect(fs.statSync(out).blocks * 512).toBeLessThan(want.length / 2);
  const piped = h2kit(['dump', 'file', img.spec, sparse.path], { cwd: img.dir, maxBuffer: 64 << 20 });
  expect(sha(piped.stdout)).toBe(sha(want));
  const again = h2kit(['dump', 'file', img.spec, sparse.path, '-o', out], { cwd: img.dir });
  expect(again.status).toBe(3);
  expect(again.stderr).toMatch(/exists \(use --force/);
});

test('the read-only device is opened O_RDONLY and has no way to write', () => {
  const img = refImage('a');
  const dev = ReadOnlyDevice.open(path.join(img.dir, 'a.img'));
  try {
    const fds = fs.readdirSync('/proc/self/fd');
    const flags = fds
      .map((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === path.join(img.dir, 'a.img')
            ? parseInt(/flags:\s*(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8)
            : null;
        } catch {
          return null;
        }
      })
      .filter((f): f is number => f !== null);
    expect(flags.length).toBeGreaterThanOrEqual(1);
    for (const f of flags) expect(f & 3).toBe(0); // O_RDONLY
    expect((dev as unknown as Record<string, unknown>).write).toBeUndefined();
  } finally {
    dev.close();
  }
});

test('dumping never changes the image', () => {
  const img = refImage('mk_zlib_xxhash64');
  const file = path.join(img.dir, `${img.name}.img`);
  const pristine = freshImage(img.name, tempDir('pristine'));
  const mtime = fs.statSync(file).mtimeMs;
  for (const sub of ['volhdr', 'show', 'freemap', 'pfs']) expect(h2kit(['dump', sub, img.spec], { cwd: img.dir }).status).toBe(0);
  expect(h2kit(['dump', 'show', '-v', '--json', img.spec], { cwd: img.dir }).status).toBe(0);
  expect(fs.statSync(file).mtimeMs).toBe(mtime);
  expect(sameBytes(file, pristine)).toBe(true);
});
