/** Known answers for the check codes and the directory hash, and every code in the reference images. */
import {
  BREF_TYPE_DIRENT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  CHECK_ISCSI32,
  CHECK_SHA192,
  CHECK_XXHASH64,
  CHECK_FREEMAP,
  BREF_TYPE_FREEMAP,
  DIRHASH_LOMASK,
  crc32c,
  dirhash,
  dirhashString,
  embedDirent,
  emptyBlockref,
  encCheck,
  brefCheckMethod,
  inodeNameBytes,
  decodeInode,
  setCheck,
  sha192,
  verifyCheck,
  xxh64,
} from '../../src/format';
import { FsReader, headerRootBref, openReadOnly, walkTree } from '../../src/engine';
import { inDirAsync, refImage, referenceImageNames } from '../helpers/reference';

test('CRC-32C of "123456789" is 0xE3069283', () => {
  expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
});

test('XXH64 matches the published vectors', () => {
  expect(xxh64(new Uint8Array(0), 0n)).toBe(0xef46db3751d8e999n);
  expect(xxh64(Buffer.from('a'), 0n)).toBe(0xd24ec4f1a98c6e5bn);
});

test('sha192 is SHA-256 with its third word folded into the fourth', () => {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223 b00361a396177a9c b410ff61f20015ad
  expect(Buffer.from(sha192(Buffer.from('abc'))).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae222304139ec264176f31');
});

test.each([CHECK_ISCSI32, CHECK_XXHASH64, CHECK_SHA192, CHECK_FREEMAP])('method %i: a code set over a block verifies, and a flipped bit fails it', (method) => {
  const block = Buffer.alloc(4096, 7);
  const b = { ...emptyBlockref(), methods: encCheck(method) };
  setCheck(b, block);
  expect(verifyCheck(b, block).ok).toBe(true);
  block[100] ^= 1;
  expect(verifyCheck(b, block).ok).toBe(false);
});

test('the directory hash of the PFS names matches the keys newfs gave them', () => {
  expect(dirhashString('DATA')).toBe(0xc78fff92381d8000n);
  expect(dirhashString('LOCAL')).toBe(0xde25e1c43fe18000n);
});

const images = referenceImageNames();

describe.each(images)('image %s', (name) => {
  test('every check code verifies, with each method the image uses', async () => {
    const img = refImage(name);
    await inDirAsync(img.dir, async () => {
      const s = await openReadOnly(img.spec);
      try {
        const methods = new Set<number>();
        let verified = 0;
        for (const root of [BREF_TYPE_VOLUME, BREF_TYPE_FREEMAP] as const) {
          for (const v of walkTree(s.chains, headerRootBref(s.chains, root), { readData: true })) {
            expect(v.error).toBeNull();
            if (!v.check) continue;
            if (!v.check.ok) throw new Error(`${name}: check failed at 0x${v.bref.dataOff.toString(16)}`);
            methods.add(brefCheckMethod(v.bref));
            verified++;
          }
        }
        expect(verified).toBeGreaterThanOrEqual(2);
        if (name.endsWith('crc32')) expect(methods).toContain(CHECK_ISCSI32);
        if (name.endsWith('xxhash64')) expect(methods).toContain(CHECK_XXHASH64);
      } finally {
        s.close();
      }
    });
  });

  test('every directory entry and PFS key is the directory hash of its name', async () => {
    const img = refImage(name);
    await inDirAsync(img.dir, async () => {
      const s = await openReadOnly(img.spec);
      try {
        const fs = new FsReader(s.chains);
        let n = 0;
        for (const v of walkTree(s.chains, headerRootBref(s.chains, BREF_TYPE_VOLUME), { readData: false })) {
          if (v.bref.type === BREF_TYPE_DIRENT) {
            const nm = fs.direntName(v.bref);
            expect(embedDirent(v.bref).namlen).toBe(nm.length);
            expect(v.bref.key & ~DIRHASH_LOMASK).toBe(dirhash(nm));
            n++;
          } else if (v.bref.type === BREF_TYPE_INODE && v.depth === 2) {
            // PFS inodes sit under the super-root, keyed by the hash of their label
            expect(v.bref.key).toBe(dirhash(inodeNameBytes(decodeInode(v.data))));
            n++;
          }
        }
        expect(n).toBeGreaterThanOrEqual(1);
      } finally {
        s.close();
      }
    });
  });
});
