/**
 * mkfs refuses to destroy data: every refusal leaves the target's bytes unchanged; --force
 * overrides a found filesystem (never a mounted device); --dry-run opens nothing for writing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { freshImage, h2kit, sameBytes, tempDir } from '../helpers/cli';
import { mountPointOf, onDeviceOpen } from '../../src/engine';
import { runMkfs } from '../../src/ops/mkfs';

const MiB = 1 << 20;

/** A 64 MiB image holding `sig` bytes at their offsets, and a pristine copy to compare with. */
function imageWith(name: string, sigs: [number, Buffer][], size = 64 * MiB): { file: string; copy: string } {
  const dir = tempDir(`safety-${name}`);
  const file = path.join(dir, `${name}.img`);
  fs.writeFileSync(file, '');
  fs.truncateSync(file, size);
  const fd = fs.openSync(file, 'r+');
  for (const [off, bytes] of sigs) fs.writeSync(fd, bytes, 0, bytes.length, off);
  fs.closeSync(fd);
  const copy = path.join(dir, `${name}.orig`);
  fs.copyFileSync(file, copy);
  return { file, copy };
}

const u16 = (v: number): Buffer => Buffer.from([v & 0xff, v >> 8]);
const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
const str = (s: string): Buffer => Buffer.from(s, 'latin1');
const mbrEntry = Buffer.from([0x80, 1, 1, 0, 0x83, 0xfe, 0xff, 0xff, 0x00, 0x08, 0, 0, 0x00, 0x00, 0x10, 0]);

const FOREIGN: [string, RegExp, [number, Buffer][]][] = [
  ['ext4', /ext2\/ext3\/ext4 superblock/, [[0x438, u16(0xef53)]]],
  ['xfs', /XFS superblock/, [[0, str('XFSB')]]],
  ['btrfs', /btrfs superblock/, [[0x10040, str('_BHRfS_M')]]],
  ['fat32', /FAT boot sector/, [[82, str('FAT32   ')], [510, u16(0xaa55)]]],
  ['fat16', /FAT boot sector/, [[54, str('FAT16   ')], [510, u16(0xaa55)]]],
  ['exfat', /exFAT boot sector/, [[3, str('EXFAT   ')], [510, u16(0xaa55)]]],
  ['hammer1', /HAMMER \(version 1\) volume/, [[0, u64(0xc8414d4dc5523031n)]]],
  ['mbr', /MBR partition table \(1 partition\)/, [[446, mbrEntry], [510, u16(0xaa55)]]],
  ['gpt', /GPT partition table/, [[446, mbrEntry], [510, u16(0xaa55)], [512, str('EFI PART')]]],
];

test.each(FOREIGN)('an image holding %s is refused without --force, its bytes unchanged', (name, what, sigs) => {
  const { file, copy } = imageWith(name, sigs);
  const r = h2kit(['mkfs', file]);
  expect(r.status).toBe(6);
  expect(r.stderr).toMatch(what);
  expect(r.stderr).toMatch(/use --force/);
  expect(sameBytes(file, copy)).toBe(true);
});

test('an existing HAMMER2 filesystem is refused, even when only a backup header copy survives', () => {
  const dir = tempDir('safety-h2');
  const img = freshImage('n10g', dir);
  // wipe header copy 0: copies 1-3 still say HAMMER2
  const fd = fs.openSync(img, 'r+');
  fs.writeSync(fd, Buffer.alloc(65536), 0, 65536, 0);
  fs.closeSync(fd);
  const copy = freshImage('n10g', tempDir('safety-h2-copy'));
  const fd2 = fs.openSync(copy, 'r+');
  fs.writeSync(fd2, Buffer.alloc(65536), 0, 65536, 0);
  fs.closeSync(fd2);
  const r = h2kit(['mkfs', img]);
  expect(r.status).toBe(6);
  expect(r.stderr).toMatch(/HAMMER2 volume header \(copy 1\)/);
  expect(sameBytes(img, copy)).toBe(true);
});

test('--force formats over a found filesystem and says what it overwrote', () => {
  const { file } = imageWith('force', FOREIGN[0][2]);
  const r = h2kit(['mkfs', '--force', file]);
  expect(r.status).toBe(0);
  expect(r.stdout.toString()).toMatch(/overwrote: ext2\/ext3\/ext4 superblock/);
  expect(h2kit(['dump', 'pfs', file]).stdout.toString()).toMatch(/DATA[\s\S]*LOCAL/);
  // the stale superblock inside the reserved zone is gone
  const fd = fs.openSync(file, 'r');
  const b = Buffer.alloc(2);
  fs.readSync(fd, b, 0, 2, 0x438);
  fs.closeSync(fd);
  expect(b.readUInt16LE(0)).toBe(0);
});

test('--dry-run prints the layout, creates nothing and opens nothing for writing', () => {
  const dir = tempDir('dry');
  const missing = path.join(dir, 'new.img');
  const r = h2kit(['mkfs', '--dry-run', '--size', '2G', missing]);
  expect(r.status).toBe(0);
  expect(r.stdout.toString()).toMatch(/dry run: nothing was written[\s\S]*total-size:\s+2\.00GB/);
  expect(fs.existsSync(missing)).toBe(false);

  const { file, copy } = imageWith('dry-existing', FOREIGN[1][2]);
  const opens: { path: string; writable: boolean }[] = [];
  const stop = onDeviceOpen((p, writable) => opens.push({ path: p, writable }));
  try {
    const res = runMkfs({ devices: [file], sizes: [], version: 2, labels: [], params: {}, force: false, dryRun: true });
    expect(res.found.map((f) => f.what)).toEqual(['XFS superblock']);
    expect(res.stats.bytesWritten).toBe(0);
  } finally {
    stop();
  }
  expect(opens.length).toBeGreaterThan(0);
  expect(opens.filter((o) => o.writable)).toEqual([]);
  // and the same run for real does open it for writing (the observer sees writes when they happen)
  const stop2 = onDeviceOpen((p, writable) => opens.push({ path: p, writable }));
  try {
    expect(() => runMkfs({ devices: [file], sizes: [], version: 2, labels: [], params: {}, force: false, dryRun: false })).toThrow(/refusing/);
  } finally {
    stop2();
  }
  expect(opens.filter((o) => o.writable).map((o) => o.path)).toEqual([file]);
  expect(sameBytes(file, copy)).toBe(true);
});

test('a mounted block device is found in the mount table', () => {
  const dir = tempDir('mounts');
  const table = path.join(dir, 'mounts');
  const dev = '/dev/loop-h2kit-test';
  fs.writeFileSync(table, `/dev/root / ext4 rw 0 0\n${dev} /mnt/my\\040disk hammer2 rw 0 0\n`);
  const st = fs.statSync('/dev/null');
  expect(mountPointOf(dev, st, [table])).toBe('/mnt/my disk');
  expect(mountPointOf('/dev/other', { ...st, rdev: -1 } as fs.Stats, [table])).toBeNull();
});

test('a second h2kit process on the same target is refused, naming the holder; a killed holder blocks nothing', async () => {
  const dir = tempDir('lock');
  const img = path.join(dir, 'held.img');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 * MiB);
  const holderScript = `
    const { WritableDevice } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/src/engine'))});
    WritableDevice.open(${JSON.stringify(img)}, { purpose: 'test-holder' });
    process.stdout.write('held\\n');
    setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['-e', holderScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  try {
    const r = h2kit(['mkfs', img]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`in use by another h2kit process \\(pid ${holder.pid}, test-holder`));
  } finally {
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
  }
  const after = h2kit(['mkfs', img]);
  expect({ status: after.status, stderr: after.stderr }).toEqual({ status: 0, stderr: '' });
});
