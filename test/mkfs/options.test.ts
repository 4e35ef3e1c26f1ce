/** mkfs options: sizes with suffixes, the reference's rules (each broken rule named), labels, versions, JSON. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { h2kit, tempDir } from '../helpers/cli';
import { parseSize, planLayout, labelList } from '../../src/ops/mkfs';

test.each([
  ['4096', 4096n],
  ['64k', 65536n],
  ['64K', 65536n],
  ['8m', 8n << 20n],
  ['2G', 2n << 30n],
  ['1t', 1n << 40n],
  ['1P', 1n << 50n],
  ['0x1000', 4096n],
])('size %s is %s bytes', (text, bytes) => {
  expect(parseSize(text, '--size')).toBe(bytes);
});

test.each(['', '1x', '-5', '1.5G', 'G'])('size %p is rejected', (text) => {
  expect(() => parseSize(text, '--size')).toThrow(/not a size/);
});

const dir = tempDir('mkfs-opts');
const img = (name: string): string => path.join(dir, name);

test.each([
  [['-b', '512M'], /--boot-size: 512M is too large: the maximum is 256\.00MB/],
  [['-r', '2G'], /--aux-size: 2G is too large: the maximum is 1\.00GB/],
  [['-b', '12M'], /--boot-size: 12M is not a multiple of 8\.00MB/],
  [['-s', '512M'], /below the 1 GiB minimum of -s/],
  [['-s', '1028M'], /not a multiple of 8 MiB/],
  [['-V', '3'], /version: 3 is not a HAMMER2 volume version/],
  [['-L', 'A', '-L', 'B', '-L', 'C', '-L', 'D'], /at most 3 labels besides LOCAL/],
  [['-L', 'x'.repeat(256)], /too long \(255 bytes max\)/],
])('%j is refused with the rule it breaks', (args, message) => {
  const f = img(`rule-${Math.random().toString(36).slice(2)}.img`);
  const r = h2kit(['mkfs', ...args, ...(args.includes('-s') ? [] : ['--size', '2G']), f]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(fs.existsSync(f)).toBe(false);
});

test('a missing image is created at --size, sparse', () => {
  const f = img('created.img');
  const r = h2kit(['mkfs', '--quiet', '--size', '100G', f]);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  const st = fs.statSync(f);
  expect(st.size).toBe(100 * 2 ** 30);
  expect(st.blocks * 512).toBeLessThan(1 << 20);
  expect(h2kit(['dump', 'volhdr', f]).stdout.toString()).toMatch(/Volume 0 header 3: mirror_tid=0000000000000010/);
});

test('too small a volume is refused before anything is written', () => {
  const f = img('tiny.img');
  fs.writeFileSync(f, Buffer.alloc(0));
  fs.truncateSync(f, 16 << 20);
  const r = h2kit(['mkfs', f]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/not enough space/);
  expect(fs.readFileSync(f).every((b) => b === 0)).toBe(true);
});

test('labels: LOCAL first, DATA by default, none for LOCAL only', () => {
  expect(labelList([])).toEqual(['LOCAL', 'DATA']);
  expect(labelList(['none'])).toEqual(['LOCAL']);
  expect(labelList(['ROOT', 'HOME'])).toEqual(['LOCAL', 'ROOT', 'HOME']);
});

test('boot and aux areas scale with the filesystem as newfs sizes them', () => {
  const plan = (gib: number) => planLayout({ devices: [{ path: 'x', size: BigInt(gib) << 30n }], sizes: [], version: 2, labels: [] });
  expect([plan(1).bootSize, plan(1).auxSize]).toEqual([32n << 20n, 32n << 20n]);
  expect([plan(10).bootSize, plan(10).auxSize]).toEqual([64n << 20n, 256n << 20n]);
  expect(plan(10).reservedSize).toBe(40n << 20n);
});

test('several devices make one multi-volume filesystem, and --json reports it', () => {
  const a = img('mv0.img');
  const b = img('mv1.img');
  const r = h2kit(['mkfs', '--json', '--size', '1G:2G', a, b]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout.toString());
  expect(doc.__header.command).toBe('mkfs');
  expect(doc.volumes.map((v: { offset: string }) => v.offset)).toEqual(['0x0000000000000000', '0x0000000040000000']);
  expect(doc.total_size).toBe('0x00000000c0000000');
  expect(doc.pfs.map((p: { label: string }) => p.label)).toEqual(['LOCAL', 'DATA']);
  const show = h2kit(['dump', 'volhdr', `${a}:${b}`]);
  expect(show.status).toBe(0);
  expect(show.stdout.toString()).toMatch(/volu_loff\[1\]   0x0000000040000000/);
});

test('SOURCE_DATE_EPOCH and fixed ids make two runs byte-identical', () => {
  const ids = ['--fsid', '11111111-2222-4333-8444-555555555555', '--sup-clid', '21111111-2222-4333-8444-555555555555',
    '--sup-fsid', '31111111-2222-4333-8444-555555555555', '--pfs-clid', 'LOCAL=41111111-2222-4333-8444-555555555555',
    '--pfs-fsid', 'LOCAL=51111111-2222-4333-8444-555555555555', '--pfs-clid', 'DATA=61111111-2222-4333-8444-555555555555',
    '--pfs-fsid', 'DATA=71111111-2222-4333-8444-555555555555'];
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
  const x = img('repro-x.img');
  const y = img('repro-y.img');
  expect(h2kit(['mkfs', '--quiet', '--size', '1G', ...ids, x], { env }).status).toBe(0);
  expect(h2kit(['mkfs', '--quiet', '--size', '1G', ...ids, y], { env }).status).toBe(0);
  expect(Buffer.compare(fs.readFileSync(x), fs.readFileSync(y))).toBe(0);
  const inode = JSON.parse(h2kit(['dump', 'inode', '--json', x, '/']).stdout.toString());
  expect(inode.inode.ctime).toBe('0x' + (1700000000n * 1000000n).toString(16).padStart(16, '0'));
  expect(inode.inode.pfs_clid).toBe('61111111-2222-4333-8444-555555555555');
});

test('without parameters every run draws fresh ids', () => {
  const x = JSON.parse(h2kit(['mkfs', '--json', '--size', '1G', img('fresh-x.img')]).stdout.toString());
  const y = JSON.parse(h2kit(['mkfs', '--json', '--size', '1G', img('fresh-y.img')]).stdout.toString());
  expect(x.vol_fsid).not.toBe(y.vol_fsid);
  expect(x.vol_fsid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
