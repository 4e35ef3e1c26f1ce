/**
 * Reproducible images (issue 15 part 2): under SOURCE_DATE_EPOCH two copies of a tree, made in
 * different orders, on different paths, with different times newer than the epoch, give the
 * same image; every UUID is a version-5 UUID of the seed and its role, which an independent
 * computation (and Python's uuid.uuid5) agrees with.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  UUID_NAMESPACE_DNS,
  UUID_NAMESPACE_URL,
  decodeVolumeHeader,
  uuidToString,
  uuidToUnixId,
  uuidV5,
  uuidV5String,
  VOLUME_BYTES,
} from '../../src/format';
import { MKFS_UUID_NAMESPACE, parseOwner, rootAttrPolicy } from '../../src/ops/mkfs';
import { openImage } from '../helpers/image';
import { fileSha256, h2kit, tempDir } from '../helpers/cli';
import { verifyFilesystem } from '../../src/engine';

const EPOCH = 1700000000n;
const EPOCH_US = EPOCH * 1000000n;
const sdeEnv = { ...process.env, TZ: 'UTC', SOURCE_DATE_EPOCH: String(EPOCH) };
const plainEnv = { ...process.env, TZ: 'UTC' };
const V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Version 5 written out from RFC 4122 section 4.3, apart from src/format/uuid.ts. */
function independentV5(namespace: string, name: Buffer): string {
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name).digest();
  h[6] = 0x50 | (h[6] & 0x0f);
  h[8] = 0x80 | (h[8] & 0x3f);
  const x = h.subarray(0, 16).toString('hex');
  return [x.slice(0, 8), x.slice(8, 12), x.slice(12, 16), x.slice(16, 20), x.slice(20, 32)].join('-');
}

describe('the version-5 UUID function', () => {
  test('known answers (Python uuid.uuid5)', () => {
    expect(uuidV5String(UUID_NAMESPACE_DNS, 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    expect(uuidV5String(UUID_NAMESPACE_URL, 'http://www.example.com/')).toBe('fcde3c85-2270-590f-9e7c-ee003d65e0e2');
    // uuid.uuid5(uuid.NAMESPACE_URL, 'h2kit:mkfs'): the namespace of every seeded mkfs UUID
    expect(MKFS_UUID_NAMESPACE).toBe('098c5058-c9a7-5e7f-9f3c-eb322bdfd525');
  });

  test('the on-disk form prints as the RFC form, and agrees with an independent computation', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uint8Array({ maxLength: 300 }), (ns, name) => {
        const printed = uuidV5String(ns, name);
        expect(printed).toMatch(V5);
        expect(printed).toBe(independentV5(ns, Buffer.from(name)));
        expect(uuidToString(uuidV5(ns, name))).toBe(printed);
      }),
      { numRuns: 200 },
    );
  });

  test('a string name is hashed as its UTF-8 bytes', () => {
    expect(uuidV5String(UUID_NAMESPACE_DNS, 'é')).toBe(independentV5(UUID_NAMESPACE_DNS, Buffer.from([0xc3, 0xa9])));
  });
});

/** The UUIDs of a seed, computed here: v5 of the role in the v5 of the seed in h2kit's namespace. */
function expectedIds(seed: string): Record<string, string> {
  const seedNs = independentV5(MKFS_UUID_NAMESPACE, Buffer.from(seed));
  const v = (role: string): string => independentV5(seedNs, Buffer.from(role));
  return {
    vol_fsid: v('vol-fsid'),
    sup_clid: v('sup-clid'),
    sup_fsid: v('sup-fsid'),
    local_clid: v('pfs-clid/LOCAL'),
    local_fsid: v('pfs-fsid/LOCAL'),
    data_clid: v('pfs-clid/DATA'),
    data_fsid: v('pfs-fsid/DATA'),
  };
}

interface MkfsDoc {
  vol_fsid: string;
  sup_clid: string;
  sup_fsid: string;
  uuid_seed: string | null;
  pfs: { label: string; clid: string; fsid: string }[];
}

function idsOf(doc: MkfsDoc): Record<string, string> {
  const pfs = (label: string) => doc.pfs.find((p) => p.label === label)!;
  return {
    vol_fsid: doc.vol_fsid,
    sup_clid: doc.sup_clid,
    sup_fsid: doc.sup_fsid,
    local_clid: pfs('LOCAL').clid,
    local_fsid: pfs('LOCAL').fsid,
    data_clid: pfs('DATA').clid,
    data_fsid: pfs('DATA').fsid,
  };
}

const outDir = tempDir('repro-out');
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));
let serial = 0;
function mkfs(args: string[], env: NodeJS.ProcessEnv): { doc: MkfsDoc; img: string } {
  const img = path.join(outDir, `i${serial++}.img`);
  const r = h2kit(['mkfs', '--json', ...args, img], { env });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return { doc: JSON.parse(r.stdout.toString()), img };
}

describe('seeded UUIDs', () => {
  test('SOURCE_DATE_EPOCH seeds every UUID: valid version 5, as computed independently, in the header too', () => {
    const { doc, img } = mkfs(['--size', '1G'], sdeEnv);
    expect(doc.uuid_seed).toBe(String(EPOCH));
    const ids = idsOf(doc);
    for (const u of Object.values(ids)) expect(u).toMatch(V5);
    expect(ids).toEqual(expectedIds(String(EPOCH)));
    // Python: uuid5(uuid5(uuid5(NAMESPACE_URL, 'h2kit:mkfs'), '1700000000'), 'vol-fsid')
    expect(ids.vol_fsid).toBe('0fd6edb8-2ef0-5625-a7a7-f7ac3ef4b9ed');
    expect(ids.data_fsid).toBe('9c400d1f-6aad-5753-8a4a-96c5852cfabe');
    const fd = fs.openSync(img, 'r');
    try {
      const raw = Buffer.alloc(VOLUME_BYTES);
      fs.readSync(fd, raw, 0, VOLUME_BYTES, 0);
      expect(uuidToString(decodeVolumeHeader(raw).fsid)).toBe(ids.vol_fsid);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('--seed chooses the UUIDs, with or without SOURCE_DATE_EPOCH; another seed gives others', () => {
    const alpha = idsOf(mkfs(['--size', '1G', '--seed', 'alpha'], plainEnv).doc);
    // a dry run resolves the same UUIDs without writing
    const alphaUnderSde = idsOf(mkfs(['--dry-run', '--size', '1G', '--seed', 'alpha'], sdeEnv).doc);
    const beta = idsOf(mkfs(['--dry-run', '--size', '1G', '--seed', 'beta'], plainEnv).doc);
    expect(alpha).toEqual(expectedIds('alpha'));
    expect(alphaUnderSde).toEqual(alpha);
    expect(beta).toEqual(expectedIds('beta'));
    expect(beta.vol_fsid).not.toBe(alpha.vol_fsid);
    expect(new Set([...Object.values(alpha), ...Object.values(beta)]).size).toBe(14);
    // the seed from SOURCE_DATE_EPOCH is its text, so --seed with the same text is the same run
    expect(idsOf(mkfs(['--dry-run', '--size', '1G', '--seed', String(EPOCH)], plainEnv).doc)).toEqual(expectedIds(String(EPOCH)));
  });

  test('an explicit UUID flag wins over the seed; the others stay seeded', () => {
    const given = '11111111-2222-4333-8444-555555555555';
    const ids = idsOf(mkfs(['--dry-run', '--size', '1G', '--seed', 'alpha', '--fsid', given, '--pfs-clid', `DATA=${given}`], plainEnv).doc);
    expect(ids).toEqual({ ...expectedIds('alpha'), vol_fsid: given, data_clid: given });
  });

  test('without a seed or SOURCE_DATE_EPOCH the UUIDs are random version 4', () => {
    const { doc } = mkfs(['--dry-run', '--size', '1G'], plainEnv);
    expect(doc.uuid_seed).toBeNull();
    for (const u of Object.values(idsOf(doc))) expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

const DIRS = ['a', 'b', 'b/c', 'b/c/d', 'many', 'e'];
const OLD_MTIME = new Date('2020-01-01T00:00:00Z');

/** A byte stream that compresses partly, the same for both copies. */
function pseudoRandom(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 3 === 0 ? 0 : x >>> 24;
  }
  return b;
}

/**
 * The same tree, created in the order given (directories and the entries of `many`), with a
 * hardlink, a symlink, a file with data blocks, a sparse file and a file older than the epoch.
 */
function makeTree(root: string, reverse: boolean, extraOutsideLink?: string): void {
  const order = <T>(xs: T[]): T[] => (reverse ? [...xs].reverse() : xs);
  for (const d of order(DIRS)) fs.mkdirSync(path.join(root, d), { recursive: true });
  const names = Array.from({ length: 60 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  for (const n of order(names)) fs.writeFileSync(path.join(root, 'many', n), `${n}\n`.repeat(3));
  const files: [string, Buffer][] = [
    ['a/one', Buffer.from('one\n')],
    ['a/old', Buffer.from('older than the epoch\n')],
    ['b/c/d/blob', pseudoRandom(300 << 10, 7)],
    ['e/text', Buffer.from('text '.repeat(5000))],
  ];
  for (const [p, data] of order(files)) fs.writeFileSync(path.join(root, p), data);
  const sparse = path.join(root, 'b/sparse');
  fs.writeFileSync(sparse, 'head');
  fs.truncateSync(sparse, 4 << 20);
  fs.linkSync(path.join(root, 'a/one'), path.join(root, 'e/one-again'));
  fs.symlinkSync('../a/one', path.join(root, 'b/link'));
  fs.utimesSync(path.join(root, 'a/old'), OLD_MTIME, OLD_MTIME);
  // a link from outside the tree: not copied, and it must not change the image
  if (extraOutsideLink) fs.linkSync(path.join(root, 'a/one'), extraOutsideLink);
}

/** Every entry's times set to `when` (after the epoch, unlike the file made old). */
function touchAll(root: string, when: Date): void {
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
    if (!st.isSymbolicLink() && !p.endsWith('a/old')) fs.utimesSync(p, when, when);
  };
  walk(root);
}

describe('mkfs --root under SOURCE_DATE_EPOCH', () => {
  const base1 = tempDir('repro-tree-one');
  const base2 = tempDir('repro-tree-two-elsewhere');
  const tree1 = path.join(base1, 'src');
  const tree2 = path.join(base2, 'deeper', 'copy of the tree');
  let run1: { doc: MkfsDoc; img: string };
  let run2: { doc: MkfsDoc; img: string };
  beforeAll(() => {
    makeTree(tree1, false);
    makeTree(tree2, true, path.join(base2, 'outside-link'));
    touchAll(tree2, new Date('2031-05-06T07:08:09Z'));
    run1 = mkfs(['--size', 'auto', '--root', tree1], sdeEnv);
    run2 = mkfs(['--size', 'auto', '--root', tree2], sdeEnv);
  });
  afterAll(() => {
    for (const d of [base1, base2]) fs.rmSync(d, { recursive: true, force: true });
  });

  test('two copies made in different orders, on different paths, with different times, give the same image', () => {
    expect(fs.statSync(run1.img).size).toBe(fs.statSync(run2.img).size);
    expect(fileSha256(run2.img)).toBe(fileSha256(run1.img));
    expect(idsOf(run1.doc)).toEqual(expectedIds(String(EPOCH)));
  });

  test('times newer than the epoch are the epoch, older ones stay; owners are 0:0; the link count is the tree\'s', () => {
    const o = openImage(run2.img);
    try {
      const pfs = o.fs.findPfs('DATA');
      const meta = (p: string) => o.fs.resolvePath(pfs, p).inode.meta;
      for (const p of ['a/one', 'b/c/d/blob', 'many', 'b/link']) {
        const m = meta(p);
        expect({ p, mtime: m.mtime, ctime: m.ctime, atime: m.atime }).toEqual({ p, mtime: EPOCH_US, ctime: EPOCH_US, atime: EPOCH_US });
        expect([uuidToUnixId(m.uid), uuidToUnixId(m.gid)]).toEqual([0, 0]);
      }
      expect(pfs.inode.meta.mtime).toBe(EPOCH_US);
      expect(meta('a/old').mtime).toBe(BigInt(OLD_MTIME.getTime()) * 1000n);
      expect(meta('a/one').nlinks).toBe(2n);
      expect(meta('e/one-again').inum).toBe(meta('a/one').inum);
      expect(verifyFilesystem(o.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
    } finally {
      o.close();
    }
  });

  test('inode numbers follow the sorted tree', () => {
    const o = openImage(run1.img);
    try {
      const pfs = o.fs.findPfs('DATA');
      const inum = (p: string) => o.fs.resolvePath(pfs, p).inode.meta.inum;
      const sorted = ['a', 'a/old', 'a/one', 'b', 'b/c', 'b/c/d', 'b/c/d/blob', 'b/link', 'b/sparse', 'e'];
      const got = sorted.map(inum);
      expect([...got].sort((x, y) => (x < y ? -1 : 1))).toEqual(got);
      expect(inum('many/f01') - inum('many/f00')).toBe(1n);
    } finally {
      o.close();
    }
  });

  test('--keep-owner keeps the source owners, --owner sets them', () => {
    const keep = mkfs(['--size', 'auto', '--keep-owner', '--root', tree1], sdeEnv);
    const set = mkfs(['--size', 'auto', '--owner', '1000:2000', '--root', tree1], sdeEnv);
    const ownerOf = (img: string): number[] => {
      const o = openImage(img);
      try {
        const m = o.fs.resolvePath(o.fs.findPfs('DATA'), 'a/one').inode.meta;
        return [uuidToUnixId(m.uid), uuidToUnixId(m.gid)];
      } finally {
        o.close();
      }
    };
    const st = fs.statSync(path.join(tree1, 'a/one'));
    expect(ownerOf(keep.img)).toEqual([st.uid, st.gid]);
    expect(ownerOf(set.img)).toEqual([1000, 2000]);
  });

  test('bad owner flags are usage errors, one line', () => {
    const img = path.join(outDir, 'bad.img');
    const bad = h2kit(['mkfs', '--size', 'auto', '--owner', 'root', '--root', tree1, img], { env: sdeEnv });
    expect({ status: bad.status, stderr: bad.stderr }).toEqual({ status: 2, stderr: "h2kit: --owner: 'root' is not UID:GID (numbers up to 4294967295)\n" });
    const noRoot = h2kit(['mkfs', '--size', '1G', '--owner', '0:0', img], { env: sdeEnv });
    expect({ status: noRoot.status, stderr: noRoot.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(/^h2kit: .*--root\n$/) });
    expect(fs.existsSync(img)).toBe(false);
  });
});

describe('the owner and time policy of --root', () => {
  test('--owner takes UID:GID up to 32 bits', () => {
    expect(parseOwner('0:0')).toEqual({ uid: 0, gid: 0 });
    expect(parseOwner('4294967295:7')).toEqual({ uid: 4294967295, gid: 7 });
    for (const t of ['root', '1', '1:', ':1', '-1:0', '1:4294967296', '1:2:3']) expect(() => parseOwner(t)).toThrow(/--owner/);
  });

  test('under SOURCE_DATE_EPOCH: clamp to it and 0:0 unless --keep-owner; without it: nothing changes', () => {
    const sde = { SOURCE_DATE_EPOCH: String(EPOCH) };
    expect(rootAttrPolicy({ keepOwner: false }, sde)).toEqual({ clampTime: EPOCH_US, owner: { uid: 0, gid: 0 } });
    expect(rootAttrPolicy({ keepOwner: true }, sde)).toEqual({ clampTime: EPOCH_US, owner: undefined });
    expect(rootAttrPolicy({ owner: '5:6', keepOwner: false }, sde)).toEqual({ clampTime: EPOCH_US, owner: { uid: 5, gid: 6 } });
    expect(rootAttrPolicy({ keepOwner: false }, {})).toEqual({ clampTime: undefined, owner: undefined });
    expect(rootAttrPolicy({ owner: '5:6', keepOwner: false }, { SOURCE_DATE_EPOCH: '' })).toEqual({ clampTime: undefined, owner: { uid: 5, gid: 6 } });
    expect(() => rootAttrPolicy({ owner: '5:6', keepOwner: true }, sde)).toThrow(/exclude each other/);
    expect(() => rootAttrPolicy({ keepOwner: false }, { SOURCE_DATE_EPOCH: '17e8' })).toThrow(/SOURCE_DATE_EPOCH/);
  });
});
