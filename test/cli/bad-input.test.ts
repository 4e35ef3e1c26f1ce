/**
 * Bad input never crashes the tool: every case gets one line on stderr, a documented exit code
 * (docs/exit-codes.md) and no stack trace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { VOLUME_ID_ABO } from '../../src/format';
import { cliEnv, freshImage, h2kit, tempDir } from '../helpers/cli';
import { refImage } from '../helpers/reference';

const dir = tempDir('bad');
const goodImage = freshImage('a', dir);

function expectCleanError(args: string[], code: number, message: RegExp, opts = {}): void {
  const r = h2kit(args, opts);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: code, stderr: expect.stringMatching(message) });
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^h2kit: /);
  expect(r.stderr).not.toMatch(/\bat .*\.(js|ts):\d+/);
  expect(r.stdout.length).toBe(0);
}

const SUBCOMMANDS = ['volhdr', 'show', 'freemap', 'pfs'];

test.each(SUBCOMMANDS)('dump %s: a file that is not HAMMER2 exits 4', (sub) => {
  const f = path.join(dir, 'text.img');
  fs.writeFileSync(f, Buffer.alloc(1 << 20, 'not a filesystem\n'));
  expectCleanError(['dump', sub, f], 4, /not a HAMMER2 filesystem/);
});

test('random bytes exit 4', () => {
  const f = path.join(dir, 'random.img');
  fs.writeFileSync(f, randomBytes(1 << 20));
  expectCleanError(['dump', 'show', f], 4, /not a HAMMER2 filesystem/);
});

test('a zero-length file exits 4', () => {
  const f = path.join(dir, 'empty.img');
  fs.writeFileSync(f, '');
  expectCleanError(['dump', 'volhdr', f], 4, /empty \(0 bytes\)/);
});

test('an image cut inside its volume header exits 4', () => {
  const f = path.join(dir, 'cut.img');
  const head = Buffer.alloc(30000);
  const fd = fs.openSync(goodImage, 'r');
  fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  fs.writeFileSync(f, head);
  expectCleanError(['dump', 'show', f], 4, /truncated: 30000 bytes/);
});

test('an image shorter than its header says exits 4', () => {
  const f = freshImage('a', tempDir('short'));
  fs.truncateSync(f, 256 << 20);
  expectCleanError(['dump', 'show', f], 4, /truncated: the header gives a volume of 0x0000000040000000 bytes/);
});

test('a byte-swapped (big-endian) header exits 4 and says so', () => {
  const f = freshImage('a', tempDir('swapped'));
  const fd = fs.openSync(f, 'r+');
  const magic = Buffer.alloc(8);
  magic.writeBigUInt64LE(VOLUME_ID_ABO);
  fs.writeSync(fd, magic, 0, 8, 0);
  fs.closeSync(fd);
  expectCleanError(['dump', 'volhdr', f], 4, /byte-swapped \(reverse-endian\)/);
});

test('a header with a broken CRC and no other copy exits 4 and names the sector', () => {
  const f = freshImage('a', tempDir('crc'));
  const fd = fs.openSync(f, 'r+');
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 0x200 + 0x10); // inside the super-root blockset
  fs.closeSync(fd);
  expectCleanError(['dump', 'show', f], 4, /no valid HAMMER2 volume header \(copy 0: sector 1 crc/);
});

test('a missing path exits 3', () => {
  expectCleanError(['dump', 'show', path.join(dir, 'nope.img')], 3, /nope\.img: cannot open: no such file or directory/);
});

test('a directory exits 3', () => {
  expectCleanError(['dump', 'volhdr', dir], 3, /is a directory/);
});

test('a file the user may not read exits 3', () => {
  const f = freshImage('a', tempDir('secret'));
  fs.chmodSync(f, 0o600);
  fs.chmodSync(path.dirname(f), 0o755);
  // root reads anything: run as nobody when we are root, else as ourselves with no permission
  const asNobody = { uid: 65534, gid: 65534, env: cliEnv({ HOME: path.dirname(f) }) };
  const opts = process.getuid && process.getuid() === 0 ? asNobody : {};
  if (!('uid' in opts)) fs.chmodSync(f, 0);
  expectCleanError(['dump', 'volhdr', f], 3, /permission denied/, opts);
});

test('one volume of a two-volume filesystem exits 4', () => {
  const m = refImage('multi');
  expectCleanError(['dump', 'show', path.join(m.dir, 'multi0.img')], 4, /requires 2 device\(s\), 1 given/);
});

test('a missing argument and an unknown flag are usage errors (exit 2)', () => {
  expectCleanError(['dump', 'show'], 2, /Missing 1 required arg/);
  expectCleanError(['dump', 'show', goodImage, '--bogus'], 2, /Nonexistent flag: --bogus/);
});

test('a path that is not in the filesystem exits 5', () => {
  expectCleanError(['dump', 'file', goodImage, '/no/such/file'], 5, /DATA:\/no: no such file or directory/);
  expectCleanError(['dump', 'inode', goodImage, '0x999'], 5, /no inode 0x0000000000000999/);
  expectCleanError(['dump', 'pfs', goodImage, '--json', '--bogus'], 2, /Nonexistent flag/);
});
