/**
 * What DragonFly's own code writes is valid: on every image the kernel wrote (through makefs,
 * test/fixtures/kernel/fa_*), fsck -n reports no error or warning (notes allowed) and exits 0,
 * and fsck -y changes no byte and exits 0 as well (notes are not repairs).
 *
 * And a freemap_tid behind mirror_tid with blocks to recover: reported as the recovery the
 * kernel would run at mount, not as freemap holes; -y runs it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VOLUME_BYTES, ZONE_BYTES, decodeVolumeHeader, sealVolumeHeader } from '../../src/format';
import { VolumeSet } from '../../src/engine';
import { PROBLEMS, Problem, fsckVolumes, repairExitCode, runRepair } from '../../src/ops/fsck';
import { ITEM_TYPES, runReblock } from '../../src/ops/reblock';
import { fileSha256, h2kit, tempDir } from '../helpers/cli';

const DIR = path.resolve(__dirname, '../fixtures/kernel');
const NAMES = fs
  .readdirSync(DIR)
  .filter((f) => /^fa_[a-z0-9_]+\.img\.tar\.gz$/.test(f))
  .map((f) => f.replace(/\.img\.tar\.gz$/, ''))
  .sort();

function extract(name: string): string {
  const dir = tempDir(`kernel-${name}`);
  execFileSync('tar', ['-xzf', path.join(DIR, `${name}.img.tar.gz`), '-C', dir]);
  return path.join(dir, `${name}.img`);
}

/**
 * A digest of every byte of a sparse image: each 4 MiB chunk that is not all zero, with its
 * offset, and the size. A full SHA-256 of these multi-GiB images costs seconds each; reading
 * holes and skipping zero chunks costs a fraction, and any changed byte still changes it.
 */
function imageDigest(file: string): string {
  const h = createHash('sha256');
  const chunk = Buffer.alloc(1 << 22);
  const zero = Buffer.alloc(chunk.length);
  const fd = fs.openSync(file, 'r');
  try {
    for (let off = 0; ; off += chunk.length) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, off);
      if (n === 0) break;
      const part = chunk.subarray(0, n);
      if (n === chunk.length && part.equals(zero)) continue;
      h.update(`${off}:${n}\n`).update(part);
    }
    h.update(`size ${fs.fstatSync(fd).size}`);
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

const serious = (ps: Problem[]): string[] => ps.filter((p) => PROBLEMS[p.code].severity !== 'info').map((p) => `${p.code}: ${p.where} ${p.detail}`);

function check(img: string): { exitCode: number; problems: Problem[] } {
  const vols = VolumeSet.open(img, { allowTruncated: true });
  try {
    const r = fsckVolumes(vols);
    return { exitCode: r.exitCode, problems: r.report.problems };
  } finally {
    vols.close();
  }
}

/** What each fixture is there for: the notes it must carry (so the state is really exercised). */
const EXPECTED_NOTES: Record<string, string[]> = {
  fa_growfs: ['HDR_STALE', 'FREEMAP_TID_BEHIND'],
  fa_growfs_zeroed: ['HDR_STALE', 'FREEMAP_TID_BEHIND'],
  fa_growfs_pfs: ['HDR_STALE'],
  fa_growfs_twice: ['HDR_STALE'],
  fa_two_headers: ['HDR_STALE'],
  fa_misc: ['FREEMAP_LEAK'],
  fa_dedup: ['FREEMAP_LEAK'],
};

test('the kernel fixtures are there', () => {
  expect(NAMES.length).toBeGreaterThanOrEqual(20);
  for (const n of NAMES) {
    for (const ext of ['show-v.txt', 'freemap.txt', 'volhdr-all.txt', 'fsck.txt', 'tree.json', 'made.json']) {
      expect(fs.existsSync(path.join(DIR, `${n}.${ext}`))).toBe(true);
    }
  }
});

/** Long runs compare the full SHA-256 of every fixture; the normal run hashes a sample. */
const LONG = process.env.H2KIT_LONG === '1';
const DIGESTED = new Set(['fa_symlink_long']);

/** A write to the image would move its mtime and ctime (ctime cannot be set back). */
const stamp = (f: string): string => {
  const st = fs.statSync(f, { bigint: true });
  return `${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
};

const made = (name: string): { sha256: string } => JSON.parse(fs.readFileSync(path.join(DIR, `${name}.made.json`), 'utf8'));

test.each(NAMES)('%s: fsck -n is clean, fsck -y changes nothing', async (name) => {
  const img = extract(name);
  try {
    const before = stamp(img);
    const digest = LONG || DIGESTED.has(name) ? imageDigest(img) : null;
    if (LONG) expect(fileSha256(img)).toBe(made(name).sha256);
    const r = check(img);
    expect(serious(r.problems)).toEqual([]);
    expect(r.exitCode).toBe(0);
    const notes = new Set(r.problems.map((p) => p.code));
    for (const code of EXPECTED_NOTES[name] ?? []) expect(notes).toContain(code);

    const rep = await runRepair(img, { mode: 'yes' });
    expect(rep.fixes).toEqual([]);
    expect(rep.modified).toBe(false);
    expect(repairExitCode(rep)).toBe(0);
    expect(stamp(img)).toBe(before);
    if (digest) expect(imageDigest(img)).toBe(digest);
    if (LONG) expect(fileSha256(img)).toBe(made(name).sha256);
  } finally {
    fs.rmSync(path.dirname(img), { recursive: true, force: true });
  }
});

test('the CLI agrees: fsck -y on a kernel image with leaks exits 0 and says nothing was modified', () => {
  const img = extract('fa_misc');
  try {
    const before = stamp(img);
    const digest = imageDigest(img);
    const r = h2kit(['fsck', '-y', '-v', img]);
    const out = r.stdout.toString('utf8');
    expect(r.status).toBe(0);
    expect(out).toMatch(/^info: FREEMAP_LEAK: /m);
    expect(out).not.toMatch(/MODIFIED/);
    expect(stamp(img)).toBe(before);
    expect(imageDigest(img)).toBe(digest);
  } finally {
    fs.rmSync(path.dirname(img), { recursive: true, force: true });
  }
});

test('freemap_tid behind with blocks to recover: RECOVERY_NEEDED, not holes; -y recovers', async () => {
  // fa_two_headers: copy 0 still holds newfs's header (freemap_tid 0x10, an empty freemap),
  // copy 1 the populated filesystem. Giving copy 1 the older freemap is the state of a flush
  // whose freemap never reached the header: every block makefs wrote is newer and free.
  const img = extract('fa_two_headers');
  try {
    const read = (copy: number): Buffer => {
      const b = Buffer.alloc(VOLUME_BYTES);
      const fd = fs.openSync(img, 'r');
      fs.readSync(fd, b, 0, VOLUME_BYTES, copy * Number(ZONE_BYTES));
      fs.closeSync(fd);
      return b;
    };
    const best = decodeVolumeHeader(read(1));
    const old = decodeVolumeHeader(read(0));
    expect(old.mirrorTid).toBeLessThan(best.mirrorTid);
    expect(old.freemapTid).toBeLessThan(best.freemapTid);
    best.freemapBlockset = old.freemapBlockset;
    best.freemapTid = old.freemapTid;
    const fd = fs.openSync(img, 'r+');
    fs.writeSync(fd, sealVolumeHeader(best), 0, VOLUME_BYTES, Number(ZONE_BYTES));
    fs.closeSync(fd);

    const r = check(img);
    const codes = serious(r.problems).map((s) => s.split(':')[0]);
    expect(codes).toEqual(['RECOVERY_NEEDED']);
    const rec = r.problems.find((p) => p.code === 'RECOVERY_NEEDED')!;
    expect(rec.detail).toMatch(/^0x0*10 < mirror_tid 0x0*11: [1-9]\d* granules \(\d+ bytes\) of blocks newer than freemap_tid are marked free$/);
    expect(r.exitCode).toBe(4);

    const rep = await runRepair(img, { mode: 'yes' });
    expect(rep.fixes.map((f) => f.code)).toEqual(['RECOVERY_NEEDED']);
    expect(repairExitCode(rep)).toBe(1);
    const after = check(img);
    expect(serious(after.problems)).toEqual([]);
    expect(after.problems.some((p) => p.code === 'FREEMAP_HOLE' || p.code === 'RECOVERY_NEEDED')).toBe(false);
    expect(after.exitCode).toBe(0);
  } finally {
    fs.rmSync(path.dirname(img), { recursive: true, force: true });
  }
});

test('reblock runs on a grown filesystem (freemap_tid behind, nothing to recover), which fsck only notes', async () => {
  const img = extract('fa_growfs');
  try {
    const r = await runReblock(img, { fillLevel: 95, types: new Set(ITEM_TYPES), commitEveryBytes: 256n << 20n, reserveBytes: 0n, dryRun: false });
    const after = check(img);
    expect(serious(after.problems)).toEqual([]);
    expect(after.problems.some((p) => p.code === 'FREEMAP_TID_BEHIND')).toBe(r.commits === 0);
  } finally {
    fs.rmSync(path.dirname(img), { recursive: true, force: true });
  }
});
