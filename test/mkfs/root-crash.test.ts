/**
 * Crash safety of `mkfs --root`: every write and fsync of a run is recorded, and every image a
 * crash could leave (each fsync prefix, and random subsets of the in-flight writes) must be
 * either the target as it was, holding no filesystem a rerun would refuse, or the complete new
 * filesystem: it opens from each valid header copy, verifies clean, and holds every file.
 * With --force over an older filesystem no crash image has a valid old header unless the old
 * filesystem is intact behind it. `npm test` runs 8 subsets per gap, `npm run test:long` 150.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECK_XXHASH64, COMP_LZ4, NUM_VOLHDRS, VOLUME_BYTES, ZONE_BYTES } from '../../src/format';
import { BlockSource, ChainReader, FsReader, ReadOnlyDevice, VolumeSet, WriteSession, readHeaderCopies, verifyFilesystem } from '../../src/engine';
import { MkfsOptions, MkfsTarget, detectExisting, runMkfs, runMkfsWithRoot } from '../../src/ops/mkfs';
import { PROBLEMS, checkFilesystem } from '../../src/ops/fsck';
import { RecordingDevice, crashImages } from '../helpers/crash';
import { OverlayDevice } from '../helpers/corrupt';
import { digestTree, readDataFile } from '../helpers/image';
import { tempDir } from '../helpers/cli';

const SUBSETS = process.env.H2KIT_LONG ? 150 : 8;
const GIB = 1n << 30n;

/** A recording target over an existing image file: mkfs sees a device it did not create. */
class RecordingTarget extends RecordingDevice implements MkfsTarget {
  readonly created = false;
  truncate(): void {
    throw new Error('the test image already has its size');
  }
}

const bytesOf = (seed: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, k) => ((k * 131 + seed * 17) ^ (k >> 9)) & 0xff));

/** A small tree of every kind of content mkfs lays out differently. */
function makeTree(tag: string, seed: number): string {
  const root = path.join(tempDir(`crash-tree-${tag}`), 'tree');
  fs.mkdirSync(path.join(root, 'sub', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(root, 'small'), bytesOf(seed, 100)); // in the inode
  fs.writeFileSync(path.join(root, 'one-block'), bytesOf(seed + 1, 40000));
  fs.writeFileSync(path.join(root, 'sub', 'multi'), bytesOf(seed + 2, 300000));
  fs.writeFileSync(path.join(root, 'sub', 'zeros'), Buffer.alloc(128 * 1024)); // holes
  fs.writeFileSync(path.join(root, 'sub', 'deep', 'x'), 'x\n');
  for (let i = 0; i < 24; i++) fs.writeFileSync(path.join(root, 'sub', `f${i}`), bytesOf(seed + i, 700 + i * 900));
  fs.symlinkSync('sub/multi', path.join(root, 'link'));
  return root;
}

/** A sparse all-zero image file of `size` bytes. */
function zeroImage(tag: string, size: bigint): string {
  const img = path.join(tempDir(`crash-img-${tag}`), 't.img');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, Number(size));
  return img;
}

function mkfsOptions(img: string, tree: string, force: boolean, opener?: MkfsOptions['opener']): MkfsOptions {
  return {
    devices: [img],
    sizes: [],
    version: 2,
    labels: [],
    params: { pfs: new Map() },
    force,
    dryRun: false,
    root: { dir: tree, pfs: 'DATA', algos: { comp: COMP_LZ4, check: CHECK_XXHASH64 }, skipUnreadable: false },
    opener,
  };
}

async function recordedMkfs(img: string, tree: string, force: boolean, base: BlockSource): Promise<RecordingTarget> {
  const rec = new RecordingTarget(base);
  await runMkfsWithRoot(mkfsOptions(img, tree, force, () => rec));
  return rec;
}

/** The device as the kernel would see it if only header copy `keep` existed. */
function onlyCopy(dev: BlockSource, keep: number): OverlayDevice {
  const o = new OverlayDevice(dev);
  for (let i = 0; i < NUM_VOLHDRS; i++) {
    const at = BigInt(i) * ZONE_BYTES;
    if (i !== keep && at < dev.size) o.write(at, new Uint8Array(VOLUME_BYTES));
  }
  return o;
}

interface Seen {
  /** valid header copies, by index */
  copies: number[];
  /** what each valid copy opens to: the DATA digest, or why it is not clean */
  digests: string[];
  /** what a rerun's detection finds */
  detected: string[];
}

function inspect(img: string, dev: BlockSource): Seen {
  const sel = readHeaderCopies(dev);
  const copies = sel.copies.filter((c) => c.status === 'ok').map((c) => c.index);
  const digests = copies.map((i) => {
    const vols = VolumeSet.open(img, { opener: () => onlyCopy(dev, i) });
    try {
      const chains = new ChainReader(vols);
      const r = verifyFilesystem(chains);
      if (r.checkFailures.length || r.holes.length || r.leaks.length || r.recoveryNeeded) {
        return `copy ${i} not clean: ${r.checkFailures.length} check failures, ${r.holes.length} holes, ${r.leaks.length} leaks${r.recoveryNeeded ? ', needs recovery' : ''}`;
      }
      return digestTree(new FsReader(chains));
    } catch (e) {
      return `copy ${i}: ${(e as Error).message}`;
    }
  });
  return { copies, digests, detected: detectExisting(dev).map((f) => f.what) };
}

/** Every source file comes back byte for byte, the symlink with its target, and fsck finds nothing. */
function expectComplete(img: string, dev: BlockSource, tree: string): string {
  const vols = VolumeSet.open(img, { opener: () => dev });
  try {
    const chains = new ChainReader(vols);
    const fsr = new FsReader(chains);
    const files = ['small', 'one-block', 'sub/multi', 'sub/zeros', 'sub/deep/x', ...Array.from({ length: 24 }, (_, i) => `sub/f${i}`)];
    for (const f of files) expect({ f, same: readDataFile(fsr, f).equals(fs.readFileSync(path.join(tree, f))) }).toEqual({ f, same: true });
    expect(Buffer.from(fsr.readlink(fsr.resolvePath(fsr.findPfs('DATA'), 'link'))).toString()).toBe('sub/multi');
    const problems = checkFilesystem(vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info');
    expect(problems).toEqual([]);
    return digestTree(fsr);
  } finally {
    vols.close();
  }
}

test('mkfs --root onto an empty image: every crash leaves no filesystem or the complete one', async () => {
  const tree = makeTree('fresh', 1);
  const img = zeroImage('fresh', 10n * GIB);
  const base = ReadOnlyDevice.open(img);
  try {
    const rec = await recordedMkfs(img, tree, false, base);
    const want = expectComplete(img, rec, tree);
    const final = inspect(img, rec);
    expect(final.copies).toEqual([0, 1, 2, 3]);
    expect(final.digests).toEqual([want, want, want, want]);
    const fsyncs = rec.events.filter((e) => e.kind === 'fsync').length;
    expect(fsyncs).toBeGreaterThanOrEqual(4);

    const images = crashImages(base, rec.events, SUBSETS);
    let empty = 0;
    let complete = 0;
    let rerunDone = false;
    for (const c of images) {
      const seen = inspect(img, c.device);
      if (seen.copies.length === 0) {
        // as it was for a rerun: nothing found, so no --force is needed
        expect({ label: c.label, detected: seen.detected }).toEqual({ label: c.label, detected: [] });
        empty++;
        if (!rerunDone && c.label.startsWith('prefix through fsync 2')) {
          const again = new RecordingTarget(c.device);
          await runMkfsWithRoot(mkfsOptions(img, tree, false, () => again));
          expect(expectComplete(img, again, tree)).toBe(want);
          rerunDone = true;
        }
      } else {
        expect({ label: c.label, digests: seen.digests }).toEqual({ label: c.label, digests: seen.copies.map(() => want) });
        complete++;
      }
    }
    expect(rerunDone).toBe(true);
    // both outcomes occur: the sweep reaches past the header and stops before it
    expect(empty).toBeGreaterThan(fsyncs);
    expect(complete).toBeGreaterThan(2);
    expect(empty + complete).toBe(images.length);
  } finally {
    base.close();
  }
});

/** An image holding an older filesystem made by mkfs --root, with a later commit on top. */
async function olderFilesystem(tag: string): Promise<string> {
  const img = zeroImage(tag, 10n * GIB);
  await runMkfsWithRoot(mkfsOptions(img, makeTree(`${tag}-old`, 7), false));
  // one more commit, so the old header copies differ as they do on a used filesystem
  const s = await WriteSession.open(img, { purpose: 'test' });
  s.commit();
  s.close();
  return img;
}

/**
 * Sweep the crash images of a --force run over `img`: every valid header copy, taken alone,
 * opens clean to the old tree or the new one, never both in one image, and an image without
 * a valid copy shows a rerun nothing to refuse. Returns the outcomes seen.
 */
async function forceSweep(img: string, run: (opener: () => RecordingTarget, force: boolean) => Promise<unknown>, check: (dev: BlockSource) => string): Promise<string[]> {
  const base = ReadOnlyDevice.open(img);
  try {
    const old = inspect(img, base);
    expect(old.copies).toEqual([0, 1, 2, 3]);
    const oldDigest = old.digests[0];
    expect(old.digests).toEqual([oldDigest, oldDigest, oldDigest, oldDigest]);

    const refused = new RecordingTarget(base);
    await expect(run(() => refused, false)).rejects.toThrow(/refusing to overwrite existing data \(HAMMER2 volume header/);
    expect(refused.events).toEqual([]);
    const rec = new RecordingTarget(base);
    await run(() => rec, true);
    const want = check(rec);
    expect(want).not.toBe(oldDigest);

    const outcomes = new Set<string>();
    for (const c of crashImages(base, rec.events, SUBSETS)) {
      const seen = inspect(img, c.device);
      for (const d of seen.digests) {
        if (d !== oldDigest && d !== want) throw new Error(`${c.label}: ${d}`);
        outcomes.add(d === want ? 'new' : 'old');
      }
      // the old copies are gone before the new layout is written
      expect({ label: c.label, mixed: new Set(seen.digests).size > 1 }).toEqual({ label: c.label, mixed: false });
      if (seen.copies.length === 0) {
        expect({ label: c.label, detected: seen.detected }).toEqual({ label: c.label, detected: [] });
        outcomes.add('none');
      }
    }
    return [...outcomes].sort();
  } finally {
    base.close();
  }
}

test('mkfs --root --force over an older filesystem: no crash leaves a valid old header over overwritten blocks', async () => {
  const img = await olderFilesystem('force');
  const tree = makeTree('new', 3);
  const outcomes = await forceSweep(
    img,
    (opener, force) => runMkfsWithRoot(mkfsOptions(img, tree, force, opener)),
    (dev) => expectComplete(img, dev, tree),
  );
  expect(outcomes).toEqual(['new', 'none', 'old']);
});

test('mkfs --force (without --root) over an older filesystem: likewise', async () => {
  const img = await olderFilesystem('force-plain');
  const outcomes = await forceSweep(
    img,
    async (opener, force) => runMkfs({ ...mkfsOptions(img, '', force, opener), root: undefined }),
    (dev) => {
      const vols = VolumeSet.open(img, { opener: () => dev });
      try {
        const fsr = new FsReader(new ChainReader(vols));
        expect([...fsr.readdir(fsr.findPfs('DATA'))]).toEqual([]);
        return digestTree(fsr);
      } finally {
        vols.close();
      }
    },
  );
  expect(outcomes).toEqual(['new', 'none', 'old']);
});

test('an image file mkfs --root created is removed when the run fails before its header', async () => {
  const tree = makeTree('fail', 5);
  const img = path.join(tempDir('crash-fail'), 'new.img');
  const opts = mkfsOptions(img, tree, false);
  opts.sizes = [GIB];
  // the tree changes under the run: a file the walk listed is gone when its turn comes (the
  // copy lists each directory when it reaches it: by the fifth entry, sub/deep, sub is listed)
  opts.root!.progress = (done) => {
    if (done.files >= 5) fs.rmSync(path.join(tree, 'sub', 'multi'), { force: true });
  };
  await expect(runMkfsWithRoot(opts)).rejects.toThrow(/ENOENT/);
  expect(fs.existsSync(img)).toBe(false);
});
