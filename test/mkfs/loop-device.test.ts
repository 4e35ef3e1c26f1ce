/**
 * mkfs on a real block device (a loop device), read back with dump; and a mounted device is
 * refused even with --force. Where the environment cannot make loop devices (no losetup, no
 * privilege), these tests skip and say why.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { h2kit, tempDir } from '../helpers/cli';

function tryRun(cmd: string, args: string[]): { ok: true; out: string } | { ok: false; why: string } {
  try {
    return { ok: true, out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, why: `${cmd} ${args.join(' ')}: ${(err.stderr || err.message).trim().split('\n')[0]}` };
  }
}

const dir = tempDir('loop');
const attached: string[] = [];

function attach(size: number): { ok: true; dev: string; file: string } | { ok: false; why: string } {
  const file = path.join(dir, `backing-${attached.length}.img`);
  fs.writeFileSync(file, '');
  fs.truncateSync(file, size);
  const r = tryRun('losetup', ['-f', '--show', file]);
  if (!r.ok) return r;
  attached.push(r.out);
  return { ok: true, dev: r.out, file };
}

afterAll(() => {
  for (const d of attached) tryRun('losetup', ['-d', d]);
});

const probe = attach(1 << 30);
const loopTest = probe.ok ? test : test.skip;
if (!probe.ok) {
  // Say why, in the test output, rather than skipping silently.
  test(`loop devices are unavailable here, so the block-device tests skip (${probe.why})`, () => {
    expect(probe.ok).toBe(false);
  });
}

loopTest('mkfs formats a block device, and dump reads it back', () => {
  if (!probe.ok) return;
  const r = h2kit(['mkfs', '--json', probe.dev]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout.toString());
  expect(doc.volumes[0]).toMatchObject({ path: probe.dev, size: '0x0000000040000000' });
  const pfs = h2kit(['dump', 'pfs', '--json', probe.dev]);
  expect(JSON.parse(pfs.stdout.toString()).pfs.map((p: { name: string }) => p.name)).toEqual(['DATA', 'LOCAL']);
  const hdr = h2kit(['dump', 'volhdr', probe.dev]).stdout.toString();
  expect(hdr).toMatch(new RegExp(`checkvolu header 0 0000000040000000/0000000040000000\\n${probe.dev}\\n`));
  // a second run without --force refuses the HAMMER2 filesystem it finds
  expect(h2kit(['mkfs', probe.dev]).status).toBe(6);
});

loopTest('on a block device, stale data in the reserved segment, boot and aux areas is zeroed', () => {
  if (!probe.ok) return;
  // garbage where a previous filesystem could have left metadata
  const fd = fs.openSync(probe.file, 'r+');
  const junk = Buffer.alloc(1 << 20, 0xa5);
  for (const off of [0x10000, 0x200000, 4 << 20, 20 << 20, 60 << 20, 68 << 20]) fs.writeSync(fd, junk, 0, junk.length, off);
  fs.closeSync(fd);
  const r = h2kit(['mkfs', '--force', '--json', probe.dev]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout.toString());
  const allocBeg = Number(BigInt(doc.allocator_beg));
  const img = fs.readFileSync(probe.file);
  // everything below the first inodes, except the header copy itself, is zero again
  const header = 65536;
  expect(img.subarray(header, 4 << 20).every((b) => b === 0)).toBe(true);
  expect(img.subarray(4 << 20, allocBeg - (allocBeg % 65536)).every((b) => b === 0)).toBe(true);
});

const mountable = probe.ok ? tryRun('mkfs.ext2', ['-V']) : { ok: false as const, why: 'no loop device' };
(probe.ok && mountable.ok ? test : test.skip)('a mounted block device is refused even with --force, its bytes unchanged', () => {
  const loop = attach(64 << 20);
  if (!loop.ok) return;
  const mnt = fs.mkdtempSync(path.join(dir, 'mnt-'));
  const made = tryRun('mkfs.ext2', ['-q', loop.dev]);
  const mounted = made.ok ? tryRun('mount', [loop.dev, mnt]) : made;
  if (!mounted.ok) {
    console.warn(`skipping the mounted-device check: ${mounted.why}`);
    return;
  }
  try {
    const before = fs.readFileSync(loop.file);
    const r = h2kit(['mkfs', '--force', loop.dev]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`${loop.dev}: is mounted on ${mnt}`));
    expect(Buffer.compare(fs.readFileSync(loop.file), before)).toBe(0);
  } finally {
    tryRun('umount', [mnt]);
  }
});
