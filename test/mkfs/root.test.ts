/**
 * mkfs --root: the reference source tree and generated trees come back out of the image
 * intact (contents, symlink targets, modes, times, link counts), the image verifies clean with
 * an exact freemap, runs are reproducible, and a tree that does not fit is refused first.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { verifyFilesystem } from '../../src/engine';
import { openImage, readDataFile, srctreeListing } from '../helpers/image';
import { OBJTYPE_CDEV, OBJTYPE_FIFO, OBJTYPE_SOCKET, OBJTYPE_SOFTLINK, uuidToUnixId } from '../../src/format';
import { REF_DIR, extracted } from '../helpers/reference';
import { cliEnv, h2kit, sameBytes, tempDir } from '../helpers/cli';

const listing = srctreeListing();
const srcRoot = path.join(extracted('srctree.tar.gz'), 'srctree');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.each([
  ['lz4', 'xxhash64'],
  ['zlib', 'crc32'],
  ['none', 'xxhash64'],
  ['autozero', 'sha192'],
])('the reference source tree with %s / %s', (comp, check) => {
  const img = path.join(tempDir(`root-${comp}`), 'tree.img');
  let result: ReturnType<typeof h2kit>;
  beforeAll(() => {
    result = h2kit(['mkfs', '--json', '--size', 'auto', '--root', srcRoot, '--compression', comp, '--check', check, img]);
  });

  test('mkfs succeeds and reports the copy', () => {
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const doc = JSON.parse(result.stdout.toString());
    expect(doc.root.files).toBe(listing.filter((e) => e.type === 'file').length - 1); // one hardlink is a name, not a file
    expect(doc.root.hardlinks).toBe(1);
  });

  test('every file, symlink, mode, time and link count comes back', () => {
    const r = openImage(img);
    try {
      const pfs = r.fs.findPfs('DATA');
      for (const e of listing) {
        const ino = r.fs.resolvePath(pfs, e.path).inode;
        expect({ p: e.path, mode: (ino.meta.mode & 0o7777).toString(8), mtime: ino.meta.mtime }).toEqual({
          p: e.path,
          mode: e.mode,
          mtime: BigInt(e.mtime_ns) / 1000n,
        });
        if (e.type === 'file') expect({ p: e.path, sha: sha(readDataFile(r.fs, e.path)) }).toEqual({ p: e.path, sha: e.sha256 });
        if (e.type === 'symlink') {
          expect(ino.meta.type).toBe(OBJTYPE_SOFTLINK);
          expect(Buffer.from(r.fs.readlink({ bref: r.fs.resolvePath(pfs, e.path).bref, inode: ino })).toString()).toBe(e.target);
        }
        if (e.type === 'fifo') expect(ino.meta.type).toBe(OBJTYPE_FIFO);
      }
      const groups = new Map<string, string[]>();
      for (const e of listing) if (e.hardlink_group !== undefined) groups.set(String(e.hardlink_group), [...(groups.get(String(e.hardlink_group)) ?? []), e.path]);
      for (const names of groups.values()) {
        const inos = names.map((n) => r.fs.resolvePath(pfs, n).inode.meta);
        expect(new Set(inos.map((m) => m.inum)).size).toBe(1);
        expect(inos[0].nlinks).toBe(BigInt(names.length));
      }
    } finally {
      r.close();
    }
  });

  test('the image verifies: every check code, and a freemap equal to the reachable blocks', () => {
    const r = openImage(img);
    try {
      expect(verifyFilesystem(r.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [], recoveryNeeded: false });
    } finally {
      r.close();
    }
  });

  test('the sparse file keeps its holes', () => {
    const r = openImage(img);
    try {
      const ino = r.fs.resolvePath(r.fs.findPfs('DATA'), 'files/sparse-5m');
      const blocks = [...r.fs.scan(ino.bref, 0n, (1n << 64n) - 1n)].filter((b) => b.type === 3);
      expect(blocks.length).toBeLessThanOrEqual(2);
    } finally {
      r.close();
    }
  });
});

test('a generated tree: long and UTF-8 names, a large directory, owners, special modes, devices and sockets', async () => {
  const root = tempDir('gen-tree');
  const names = ['a', 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(255), 'é'.repeat(127), '日本語のファイル名', 'with space', '.hidden'];
  for (const n of names) fs.writeFileSync(path.join(root, n), n);
  fs.mkdirSync(path.join(root, 'big'));
  for (let i = 0; i < 400; i++) fs.writeFileSync(path.join(root, 'big', `entry${i}`), String(i));
  fs.writeFileSync(path.join(root, 'suid'), 'x');
  fs.chmodSync(path.join(root, 'suid'), 0o4755);
  fs.mkdirSync(path.join(root, 'sticky'));
  fs.chmodSync(path.join(root, 'sticky'), 0o1777);
  fs.writeFileSync(path.join(root, 'sgid'), 'x');
  fs.chmodSync(path.join(root, 'sgid'), 0o2750);
  fs.symlinkSync('a'.repeat(600), path.join(root, 'longlink'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) fs.chownSync(path.join(root, 'a'), 1234, 5678);
  let haveDev = false;
  try {
    execFileSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);
    haveDev = true;
  } catch {
    // not permitted here
  }
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path.join(root, 'sock'), resolve));
  try {
    const img = path.join(tempDir('gen-img'), 'g.img');
    const r = h2kit(['mkfs', '--quiet', '--size', 'auto', '--root', root, img]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const o = openImage(img);
    try {
      const pfs = o.fs.findPfs('DATA');
      for (const n of names) expect(readDataFile(o.fs, n).toString()).toBe(n);
      expect([...o.fs.readdir(o.fs.resolvePath(pfs, 'big'))]).toHaveLength(400);
      expect(o.fs.resolvePath(pfs, 'suid').inode.meta.mode & 0o7777).toBe(0o4755);
      expect(o.fs.resolvePath(pfs, 'sgid').inode.meta.mode & 0o7777).toBe(0o2750);
      expect(o.fs.resolvePath(pfs, 'sticky').inode.meta.mode & 0o7777).toBe(0o1777);
      const link = o.fs.resolvePath(pfs, 'longlink');
      expect(Buffer.from(o.fs.readlink(link)).toString()).toBe('a'.repeat(600));
      expect(o.fs.resolvePath(pfs, 'sock').inode.meta.type).toBe(OBJTYPE_SOCKET);
      if (asRoot) {
        const m = o.fs.resolvePath(pfs, 'a').inode.meta;
        expect([uuidToUnixId(m.uid), uuidToUnixId(m.gid)]).toEqual([1234, 5678]);
      }
      if (haveDev) {
        const m = o.fs.resolvePath(pfs, 'null').inode.meta;
        expect([m.type, m.rmajor, m.rminor]).toEqual([OBJTYPE_CDEV, 1, 3]);
      }
      expect(verifyFilesystem(o.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
    } finally {
      o.close();
    }
  } finally {
    server.close();
  }
});

test('names that are not UTF-8 are copied byte for byte, each its own entry', () => {
  const root = tempDir('raw-names');
  // both decode to the same U+FFFD string: only their bytes tell them apart
  const raw = [Buffer.from([0x66, 0xff]), Buffer.from([0x66, 0xfe]), Buffer.from([0xc3, 0x28, 0x41])];
  const rootBuf = Buffer.from(root);
  raw.forEach((n, i) => fs.writeFileSync(Buffer.concat([rootBuf, Buffer.from('/'), n]), `file ${i}`));
  fs.mkdirSync(Buffer.concat([rootBuf, Buffer.from('/d'), raw[0]]));
  fs.writeFileSync(Buffer.concat([rootBuf, Buffer.from('/d'), raw[0], Buffer.from('/in'), raw[1]]), 'nested');
  const img = path.join(tempDir('raw-img'), 'r.img');
  const r = h2kit(['mkfs', '--quiet', '--size', 'auto', '--root', root, img]);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  const o = openImage(img);
  try {
    const pfs = o.fs.findPfs('DATA');
    const top = o.fs.lookupInum(pfs, pfs.inode.meta.inum);
    const read = (ent: { inum: bigint }): string => {
      const ino = o.fs.lookupInum(pfs, ent.inum);
      const out = Buffer.alloc(Number(ino.inode.meta.size));
      o.fs.readFile(ino, (off, b) => out.set(b, Number(off)));
      return out.toString();
    };
    raw.forEach((n, i) => expect(read(o.fs.lookupName(top, n)!)).toBe(`file ${i}`));
    const d = o.fs.lookupInum(pfs, o.fs.lookupName(top, Buffer.concat([Buffer.from('d'), raw[0]]))!.inum);
    expect(read(o.fs.lookupName(d, Buffer.concat([Buffer.from('in'), raw[1]]))!)).toBe('nested');
    expect(verifyFilesystem(o.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
  } finally {
    o.close();
  }
});

test('the same tree, params and SOURCE_DATE_EPOCH give the same image twice', () => {
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
  const params = path.join(REF_DIR, 'a.params.json');
  const imgs = [0, 1].map((i) => path.join(tempDir(`repro-${i}`), 'r.img'));
  for (const img of imgs) {
    const r = h2kit(['mkfs', '--quiet', '--size', '1G', '--params', params, '--root', srcRoot, img], { env });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  }
  expect(sameBytes(imgs[0], imgs[1])).toBe(true);
});

test('a tree that does not fit is refused before anything is written', () => {
  const dir = tempDir('nofit');
  const img = path.join(dir, 'small.img');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 32 << 20);
  const big = tempDir('nofit-tree');
  fs.writeFileSync(path.join(big, 'blob'), Buffer.alloc(40 << 20, 7));
  const r = h2kit(['mkfs', '--root', big, img]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/the tree does not fit: it needs about .* the filesystem has .* free/);
  expect(fs.readFileSync(img).every((b) => b === 0)).toBe(true);
});

const asRootOnly = process.getuid?.() === 0 ? test : test.skip;
asRootOnly('an unreadable file is an error naming it, or left out and listed with --skip-unreadable', () => {
  const base = tempDir('unreadable');
  fs.chmodSync(base, 0o777);
  const tree = path.join(base, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'ok'), 'fine');
  fs.writeFileSync(path.join(tree, 'secret'), 'hidden');
  fs.chmodSync(path.join(tree, 'secret'), 0o600);
  fs.chmodSync(tree, 0o755);
  const img = path.join(base, 'u.img');
  const nobody = { uid: 65534, gid: 65534, env: cliEnv({ HOME: base }) };
  const r = h2kit(['mkfs', '--size', '1G', '--root', tree, img], nobody);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/secret: cannot be read \(EACCES\); use --skip-unreadable/);
  expect(fs.existsSync(img)).toBe(false);
  const ok = h2kit(['mkfs', '--size', '1G', '--skip-unreadable', '--root', tree, img], nobody);
  expect(ok.status).toBe(0);
  expect(ok.stdout.toString()).toMatch(/skipped:\s+.*secret \(EACCES\)/);
  const o = openImage(img);
  try {
    expect([...o.fs.readdir(o.fs.findPfs('DATA'))].map((e) => Buffer.from(e.name).toString())).toEqual(['ok']);
  } finally {
    o.close();
  }
});

test('dump file gives the copied files back byte for byte through the CLI', () => {
  const img = path.join(tempDir('root-cli'), 't.img');
  expect(h2kit(['mkfs', '--quiet', '--size', 'auto', '--root', srcRoot, img]).status).toBe(0);
  for (const e of listing.filter((x) => x.type === 'file').slice(0, 25)) {
    const r = h2kit(['dump', 'file', img, e.path]);
    expect({ p: e.path, sha: sha(r.stdout) }).toEqual({ p: e.path, sha: e.sha256 });
  }
});
