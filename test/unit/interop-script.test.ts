/**
 * The parts of `npm run interop` that need no DragonFly tools: how it reads `hammer2 -v show`
 * output, how it compares read-back files, and that its tree generator is reproducible and
 * covers what it claims.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { showFailures } from '../../scripts/interop/tools';
import { kernelComplaints } from '../../scripts/interop/checks';
import { compareListings, listDir } from '../../scripts/interop/listing';
import { generateTree, treeOptions } from '../../scripts/interop/tree';
import { tempDir } from '../helpers/cli';

test('failed checks in hammer2 -v show output are counted, good ones are not', () => {
  const out = [
    '    inode.1      000000000a000a0a 0000000000000001/0  vol=0 mir=0000000000000001 mod=0000000000000001 lfcnt=    0 (xxhash64 xxhash64|lz4 0123456789abcdef/fedcba9876543210 failed) ',
    '    data         000000000a001010 0000000000000000/16 vol=0 mir=0000000000000001 mod=0000000000000001 lfcnt=    0 meth=xxhash64|lz4 xxh=0123456789abcdef ',
    '    data         000000000a002010 0000000000000000/16 (icrc crc32|none 00000001/00000002 failed) ',
    '    data         000000000a003010 0000000000000000/16 (sha192 sha192:zlib failed) ',
    '    freemap_leaf 0000000000200010 0000000000000000/30 (fcrc freemap|none 00000001/00000002 failed) ',
    '    indirect     000000000a004010 0000000000000000/16 (media read failed)',
    '    icrc_volhdr    0x00000001/0x00000002 (FAILED - not a critical error)',
    '    icrc_volhdr    0x00000001/0x00000001 (OK)',
    '    name "failed" in a file name is not a failure',
  ].join('\n');
  expect(showFailures(out)).toHaveLength(6);
  expect(showFailures(out.split('\n').slice(1, 2).join('\n'))).toEqual([]);
});

test("the kernel's complaints during the read-back are found", () => {
  const out = ['read `read.img\'', 'READ PATH: Error during decompression.bio 0000000000060000/1024', 'chain 0000000004c10000.10 meth=0c CHECK FAIL', 'vflush: total dio 63'].join('\n');
  expect(kernelComplaints(out)).toHaveLength(2);
  expect(kernelComplaints('read `read.img\'\nbcleanup: clean')).toEqual([]);
});

test('the read-back comparison names missing, extra and different files', () => {
  const f = (size: number, sha256: string) => ({ size, sha256 });
  const hex = (s: string) => Buffer.from(s).toString('hex');
  const expected = new Map([
    [hex('a'), f(1, 'x')],
    [hex('b'), f(2, 'y')],
    [hex('c'), f(3, 'z')],
  ]);
  const got = new Map([
    [hex('a'), f(1, 'x')],
    [hex('b'), f(2, 'other')],
    [hex('d'), f(4, 'w')],
  ]);
  expect(compareListings(expected, got)).toEqual(['"b": contents differ', 'missing "c"', 'unexpected "d"']);
  expect(compareListings(expected, new Map(expected))).toEqual([]);
});

test('the generated tree is the same for the same seed and has every name length', () => {
  const base = tempDir('interop-tree');
  try {
    const o = { ...treeOptions(7, true), manyEntries: 50, depth: 20, nameLengths: [1, 2, 100, 254, 255] };
    generateTree(path.join(base, 'a'), o);
    generateTree(path.join(base, 'b'), o);
    const a = listDir(path.join(base, 'a'));
    expect(compareListings(a, listDir(path.join(base, 'b')))).toEqual([]);
    const names = fs.readdirSync(path.join(base, 'a', 'names'), { encoding: 'buffer' }) as Buffer[];
    expect(names.map((n) => n.length).sort((x, y) => x - y)).toEqual([1, 2, 100, 254, 255]);
    for (const n of names) expect(Buffer.from(n.toString('utf8'), 'utf8').equals(n)).toBe(true);
    // names of any byte: most are not UTF-8, none holds NUL or '/'
    generateTree(path.join(base, 'd'), { ...o, nameBytes: 'any' });
    expect(compareListings(a, listDir(path.join(base, 'd'))).length).toBeGreaterThan(0);
    const raw = fs.readdirSync(path.join(base, 'd', 'names'), { encoding: 'buffer' }) as Buffer[];
    expect(raw.some((n) => !Buffer.from(n.toString('utf8'), 'utf8').equals(n))).toBe(true);
    for (const n of raw) expect(n.includes(0) || n.includes(0x2f)).toBe(false);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});
