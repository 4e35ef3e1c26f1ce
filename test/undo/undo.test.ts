/**
 * `--undo FILE` and `h2kit undo` through the command line, on real image files: for every
 * writing command the image's sha256 after the run and its undo is the sha256 before the run;
 * a rerun of the undo changes nothing; a device the file does not fit is refused (exit 7)
 * unless --force; a corrupt record is refused; a dry run lists and writes nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BREF_TYPE_INODE, CHECK_XXHASH64, COMP_LZ4, OBJTYPE_REGFILE, UNDO_REC_HEADER_BYTES, decodeInode, decodeUndoHeader } from '../../src/format';
import { UndoOptions } from '../../src/engine';
import { MkfsOptions, RootOptions, runMkfs, runMkfsWithRoot } from '../../src/ops/mkfs';
import { runRepair } from '../../src/ops/fsck';
import { ITEM_TYPES, runReblock } from '../../src/ops/reblock';
import { runUndo } from '../../src/ops/undo';
import { Editor } from '../helpers/edit';
import { fileSha256, freshImage, h2kit, tempDir } from '../helpers/cli';
import { fragment } from '../helpers/fragment';

const bytesOf = (seed: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, k) => ((k * 131 + seed * 17) ^ (k >> 9)) & 0xff));

function makeTree(dir: string): string {
  const root = path.join(dir, 'tree');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'small'), bytesOf(1, 100));
  fs.writeFileSync(path.join(root, 'sub', 'multi'), bytesOf(2, 300000));
  for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(root, 'sub', `f${i}`), bytesOf(i, 700 + i * 3000));
  return root;
}

/** sha256 of a (sparse) image: sha256sum where there is one, it reads holes much faster. */
function sha(file: string): string {
  const r = spawnSync('sha256sum', [file]);
  return r.status === 0 ? r.stdout.toString().split(' ')[0] : fileSha256(file);
}

function mkfsOptions(img: string, o: Partial<MkfsOptions> = {}): MkfsOptions {
  return { devices: [img], sizes: [], version: 2, labels: [], params: { pfs: new Map() }, force: true, dryRun: false, ...o };
}

const rootOf = (dir: string): RootOptions => ({ dir, pfs: 'DATA', algos: { comp: COMP_LZ4, check: CHECK_XXHASH64 }, skipUnreadable: false });

/** A 64 MiB image holding a small tree (our mkfs --root over the reference n64m). */
async function smallFs(tag: string): Promise<{ dir: string; img: string }> {
  const dir = tempDir(tag);
  const img = freshImage('n64m', dir);
  await runMkfsWithRoot(mkfsOptions(img, { root: rootOf(makeTree(dir)) }));
  return { dir, img };
}

function damage(img: string): void {
  const ed = new Editor(img);
  try {
    const files = ed.visits().filter((v) => v.bref.type === BREF_TYPE_INODE && decodeInode(v.data).meta.type === OBJTYPE_REGFILE);
    ed.editInode(files[3], (i) => (i.meta.nlinks = 9n));
    ed.editInode(files[5], (i) => (i.meta.mode |= 0o170000));
    ed.applyTo(img);
  } finally {
    ed.close();
  }
}

/** Run a command with --undo, check it changed the image, undo it, check the old sha256 is back. */
async function roundTrip(img: string, run: (undo: UndoOptions) => Promise<unknown> | unknown, viaCli = false): Promise<string> {
  const file = path.join(path.dirname(img), `undo-${Math.random().toString(36).slice(2)}`);
  const before = sha(img);
  const sizeBefore = fs.statSync(img).size;
  await run({ file });
  expect(sha(img)).not.toBe(before);
  if (viaCli) {
    const u = h2kit(['undo', file, img]);
    expect({ status: u.status, stderr: u.stderr }).toEqual({ status: 0, stderr: '' });
    expect(u.stdout.toString()).toMatch(/as the run left it/);
  } else {
    const r = runUndo(file, [img], { dryRun: false, force: false });
    expect(r.devices[0].state).toBe('after');
    expect(r.completed).toBe(true);
  }
  expect(fs.statSync(img).size).toBe(sizeBefore);
  expect(sha(img)).toBe(before);
  // idempotent: a second undo finds every range restored and writes nothing
  const again = runUndo(file, [img], { dryRun: false, force: false });
  expect(again.devices[0].state).toBe('before');
  expect(again.written).toBe(0);
  expect(sha(img)).toBe(before);
  return file;
}

const cli = (args: string[], ok: number): void => {
  const r = h2kit(args);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: ok, stderr: '' });
};

test('fsck -y (command line) and -p on a damaged image: undo gives back the damaged bytes', async () => {
  const { img } = await smallFs('undo-fsck');
  damage(img);
  await roundTrip(img, (u) => cli(['fsck', '-y', '--undo', u.file, img], 1), true);
  await roundTrip(img, (u) => runRepair(img, { mode: 'preen', undo: u }));
  expect(h2kit(['fsck', '-n', img]).status).toBe(4);
});

test('reblock, and cleanup (command line: bulkfree and reblock in one undo file)', async () => {
  const img = freshImage('n256m', tempDir('undo-reblock'));
  await fragment(img, 40);
  await roundTrip(img, (u) => runReblock(img, { fillLevel: 100, types: new Set(ITEM_TYPES), commitEveryBytes: 1n << 20n, reserveBytes: 0n, dryRun: false, undo: u }));
  const undo = await roundTrip(img, (u) => cli(['cleanup', '--undo', u.file, img], 0), true);
  expect(decodeUndoHeader(fs.readFileSync(undo)).header.note.command).toBe('cleanup');
});

test('mkfs --force (command line) over a filesystem, mkfs --root --force over one, mkfs growing an image', async () => {
  const { dir, img } = await smallFs('undo-mkfs');
  await roundTrip(img, (u) => cli(['mkfs', '--force', '-q', '--undo', u.file, img], 0), true);
  await roundTrip(img, (u) => runMkfsWithRoot(mkfsOptions(img, { root: rootOf(makeTree(path.join(dir, 'other'))), undo: u })));
  // 64 MiB grown to 1 GiB: undo cuts it back
  await roundTrip(img, (u) => runMkfs(mkfsOptions(img, { sizes: [1n << 30n], undo: u })));
});

test('mkfs --undo onto a missing image is a usage error, and an existing undo file is never overwritten', async () => {
  const dir = tempDir('undo-usage');
  expect(() => runMkfs(mkfsOptions(path.join(dir, 'new.img'), { sizes: [1n << 30n], undo: { file: path.join(dir, 'u') } }))).toThrow(/--undo: .*does not exist/);
  expect(fs.existsSync(path.join(dir, 'new.img'))).toBe(false);
  const img = freshImage('n64m', dir);
  fs.writeFileSync(path.join(dir, 'taken'), 'keep me');
  const before = sha(img);
  const t = h2kit(['reblock', '--fill-level', '100', '--undo', path.join(dir, 'taken'), img]);
  expect(t.status).toBe(3);
  expect(t.stderr).toMatch(/undo file exists/);
  expect(fs.readFileSync(path.join(dir, 'taken'), 'utf8')).toBe('keep me');
  expect(sha(img)).toBe(before);
  // a dry run creates no undo file
  await runReblock(img, { fillLevel: 100, types: new Set(ITEM_TYPES), commitEveryBytes: 1n << 20n, reserveBytes: 0n, dryRun: true, undo: { file: path.join(dir, 'dry') } });
  expect(fs.existsSync(path.join(dir, 'dry'))).toBe(false);
});

test('a device the undo file does not fit is refused (exit 7) unless --force; --dry-run lists and writes nothing', async () => {
  const { dir, img } = await smallFs('undo-refuse');
  const before = sha(img);
  const undo = path.join(dir, 'u');
  runMkfs(mkfsOptions(img, { undo: { file: undo } }));
  const dry = h2kit(['undo', '--dry-run', undo, img]);
  expect(dry.status).toBe(0);
  expect(dry.stdout.toString()).toMatch(/^would restore .* 0x0 65536 bytes$/m);
  const doc = JSON.parse(h2kit(['undo', '--dry-run', '--json', undo, img]).stdout.toString());
  expect(doc.__header.command).toBe('undo');
  expect(doc.devices[0].state).toBe('after');
  expect(doc.devices[0].size_before).toMatch(/^0x[0-9a-f]{16}$/);
  expect(doc.ranges.length).toBeGreaterThan(0);
  const afterRun = sha(img);
  // another run without an undo file changes the headers behind the undo file's back
  runMkfs(mkfsOptions(img));
  const changed = sha(img);
  const r = h2kit(['undo', undo, img]);
  expect(r.status).toBe(7);
  expect(r.stderr).toMatch(/^h2kit: .*does not fit .*header copy 0 .*use --force/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(sha(img)).toBe(changed);
  expect(afterRun).not.toBe(changed);
  // --force restores anyway: the old headers and every saved range are back
  const f = h2kit(['undo', '--force', undo, img]);
  expect(f.status).toBe(0);
  expect(sha(img)).toBe(before);
  // wrong number of devices
  expect(h2kit(['undo', undo, img, img]).status).toBe(2);
});

test('a corrupt undo record is refused clearly, and nothing is restored', async () => {
  const { dir, img } = await smallFs('undo-corrupt');
  const undo = path.join(dir, 'u');
  runMkfs(mkfsOptions(img, { undo: { file: undo } }));
  const after = sha(img);
  const buf = fs.readFileSync(undo);
  const { end } = decodeUndoHeader(buf);
  // a byte of the first record's saved old bytes (its header copy 0: 64 KiB of data)
  buf[end + UNDO_REC_HEADER_BYTES + 100] ^= 0x40;
  fs.writeFileSync(undo, buf);
  const r = h2kit(['undo', undo, img]);
  expect(r.status).toBe(7);
  expect(r.stderr).toMatch(new RegExp(`^h2kit: .*corrupt undo record at byte ${end}: checksum mismatch`));
  expect(sha(img)).toBe(after);
  // a record header
  buf[end + UNDO_REC_HEADER_BYTES + 100] ^= 0x40;
  buf[end + 9] ^= 1;
  fs.writeFileSync(undo, buf);
  const h = h2kit(['undo', '--force', undo, img]);
  expect(h.status).toBe(7);
  expect(h.stderr).toMatch(/corrupt undo record at byte \d+: header checksum mismatch/);
  // not an undo file at all
  const n = h2kit(['undo', img, img]);
  expect(n.status).toBe(7);
  expect(n.stderr).toMatch(/not an h2kit undo file/);
});
