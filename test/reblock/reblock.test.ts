/**
 * reblock on a filesystem the engine fragmented: fewer partly filled segments and more space in
 * free segments, identical contents, a clean fsck, crash safety with single and batched commits,
 * and --time-limit + --resume ending as compact as one run.
 */
import * as path from 'node:path';
import { ReadOnlyDevice, VolumeSet } from '../../src/engine';
import { PROBLEMS, checkFilesystem } from '../../src/ops/fsck';
import { ITEM_TYPES, ReblockOptions, runReblock } from '../../src/ops/reblock';
import { OverlayDevice } from '../helpers/corrupt';
import { RecordingDevice, crashImages } from '../helpers/crash';
import { contentDigest, fragment, layout } from '../helpers/fragment';
import { freshImage, h2kit, tempDir } from '../helpers/cli';
import { refImage } from '../helpers/reference';
import { BREF_TYPE_DATA } from '../../src/format';

const SUBSETS = process.env.H2KIT_LONG ? 100 : 4;
let img = '';
let base: ReadOnlyDevice;

beforeAll(async () => {
  img = freshImage('n10g', tempDir('reblock'));
  await fragment(img, 160);
  base = ReadOnlyDevice.open(img);
});
afterAll(() => base.close());

const opts = (o: Partial<ReblockOptions> = {}): ReblockOptions => ({
  fillLevel: 95,
  types: new Set(ITEM_TYPES),
  commitEveryBytes: 256n << 20n,
  reserveBytes: 0n,
  dryRun: false,
  ...o,
});

function serious(spec: string, dev: OverlayDevice): string[] {
  const vols = VolumeSet.open(spec, { opener: () => dev });
  try {
    return checkFilesystem(vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info').map((p) => `${p.code} ${p.where}`);
  } finally {
    vols.close();
  }
}

test('reblock compacts: fewer partly filled segments, more free ones, same contents, fsck clean', async () => {
  const dev = new OverlayDevice(base);
  const before = contentDigest(img, dev);
  const r = await runReblock(img, opts({ opener: () => dev }));
  console.log(
    `reblock: ${r.sources} sources, ${r.plannedBlocks} blocks (${r.plannedBytes} bytes) planned; moved ${r.bytesMoved} bytes; ` +
      `partly filled segments ${r.partialBefore} -> ${r.partialAfter}; bytes in free segments ${r.freeSegmentBytesBefore} -> ${r.freeSegmentBytesAfter}; ` +
      `segments freed ${r.segmentsFreed}`,
  );
  expect(r.sources).toBeGreaterThan(3);
  expect(r.partialAfter).toBeLessThan(r.partialBefore);
  expect(r.freeSegmentBytesAfter).toBeGreaterThan(r.freeSegmentBytesBefore);
  expect(r.segmentsFreed).toBeGreaterThanOrEqual(r.sources - 1);
  expect(r.counters.data.moved).toBeGreaterThan(0);
  expect(r.counters.inodes.moved).toBeGreaterThan(0);
  expect(contentDigest(img, dev)).toBe(before);
  expect(serious(img, dev)).toEqual([]);
  // a second run finds nothing left to do below the fill level but the destination tail
  const again = await runReblock(img, opts({ opener: () => dev, dryRun: true }));
  expect(again.plannedBytes).toBeLessThan(r.plannedBytes / 4n);
});

test('--dry-run reports and writes nothing', async () => {
  const dev = new OverlayDevice(base);
  const r = await runReblock(img, opts({ opener: () => dev, dryRun: true }));
  expect(dev.patches.length).toBe(0);
  expect(r.plannedBlocks).toBeGreaterThan(0);
  expect(r.segmentsFreed).toBeGreaterThan(0);
  expect(r.histogramBefore.reduce((a, b) => a + b, 0)).toBe(r.segments);
});

test.each([
  ['one commit', 256n << 20n],
  ['batches of 2 MiB', 2n << 20n],
])('a crash at any point of reblock (%s) leaves a consistent image with the same contents', async (_n, every) => {
  const rec = new RecordingDevice(new OverlayDevice(base));
  const before = contentDigest(img, new OverlayDevice(base));
  const r = await runReblock(img, opts({ opener: () => rec, commitEveryBytes: every }));
  if (every < 256n << 20n) expect(r.commits).toBeGreaterThan(2);
  const images = crashImages(base, rec.events, SUBSETS);
  expect(images.length).toBeGreaterThan(SUBSETS);
  for (const c of images) {
    const problems = serious(img, c.device);
    if (problems.length) throw new Error(`${c.label}: ${problems.join('; ')}`);
    expect(contentDigest(img, c.device)).toBe(before);
  }
});

test('--time-limit then --resume ends as compact as one run, with the same contents', async () => {
  const one = new OverlayDevice(base);
  const whole = await runReblock(img, opts({ opener: () => one, commitEveryBytes: 2n << 20n }));
  const before = contentDigest(img, new OverlayDevice(base));
  const split = new OverlayDevice(base);
  // a clock that is always past the limit: every run stops after its first commit
  let clock = 0;
  const now = (): number => (clock += 1000);
  let r = await runReblock(img, opts({ opener: () => split, commitEveryBytes: 2n << 20n, timeLimitMs: 1, now }));
  let runs = 1;
  while (r.stopped === 'time-limit') {
    expect(r.resumeKey).toMatch(/^h2rb1\./);
    r = await runReblock(img, opts({ opener: () => split, commitEveryBytes: 2n << 20n, timeLimitMs: 1, now, resume: r.resumeKey! }));
    runs++;
  }
  expect(runs).toBeGreaterThan(2);
  // Every resumed run follows the same frozen plan; only where the kernel allocator puts the
  // rewritten metadata may differ, as a new run may use space an earlier run freed.
  expect(contentDigest(img, split)).toBe(before);
  expect(serious(img, split)).toEqual([]);
  const dataLayout = (d: OverlayDevice): string[] => layout(img, d).filter((l) => l.startsWith(`${BREF_TYPE_DATA}:`));
  expect(dataLayout(split).length).toBe(dataLayout(one).length);
  const fill = await runReblock(img, opts({ opener: () => new OverlayDevice(split), dryRun: true }));
  expect(fill.partialBefore).toBeLessThanOrEqual(whole.partialAfter + 1);
});

test('the CLI: reblock --json, reblock -n, cleanup, and bad options', () => {
  const dir = tempDir('reblock-cli');
  const small = freshImage('mk_lz4_xxhash64', dir);
  const r = h2kit(['reblock', '--json', '--fill-level', '100', small]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout.toString());
  expect(doc.__header.command).toBe('reblock');
  expect(Number(doc.bytes_moved)).toBeGreaterThan(0);
  expect(doc.counters.data.moved).toBeGreaterThan(0);
  expect(h2kit(['fsck', small]).status).toBe(0);
  const c = h2kit(['cleanup', small]);
  expect(c.status).toBe(0);
  expect(c.stdout.toString()).toMatch(/^bulkfree: \d+ unreferenced granules freed/m);
  expect(c.stdout.toString()).toMatch(/segments freed: \d+/);
  expect(h2kit(['fsck', small]).status).toBe(0);
  expect(h2kit(['reblock', '--types', 'bogus', small]).status).toBe(2);
  expect(h2kit(['reblock', '--resume', 'nonsense', small]).status).toBe(2);
  expect(h2kit(['reblock', '--time-limit', 'soon', small]).status).toBe(2);
  void path;
});

test('a shared data block moves once, for every reference (makefs dedups identical blocks)', async () => {
  const ref = refImage('mk_none_crc32');
  const spec = path.join(ref.dir, ref.spec);
  const dev = new OverlayDevice(ReadOnlyDevice.open(spec));
  const sharedRefs = (d: OverlayDevice): number => {
    const counts = new Map<string, number>();
    for (const l of layout(spec, d)) if (l.split(':')[0] === String(BREF_TYPE_DATA)) counts.set(l.split(':')[2], (counts.get(l.split(':')[2]) ?? 0) + 1);
    return [...counts.values()].filter((n) => n > 1).reduce((a, b) => a + b, 0);
  };
  const before = contentDigest(spec, dev);
  const shared = sharedRefs(dev);
  expect(shared).toBeGreaterThan(1);
  const r = await runReblock(spec, opts({ opener: () => dev, fillLevel: 100 }));
  expect(r.counters.data.moved).toBeGreaterThan(0);
  expect(sharedRefs(dev)).toBe(shared);
  expect(contentDigest(spec, dev)).toBe(before);
  expect(serious(spec, dev)).toEqual([]);
});

test('--pfs and --inums limit what moves', async () => {
  const none = await runReblock(img, opts({ opener: () => new OverlayDevice(base), pfs: 'LOCAL', dryRun: true }));
  expect(none.plannedBlocks).toBe(0);
  const all = await runReblock(img, opts({ opener: () => new OverlayDevice(base), dryRun: true }));
  const some = await runReblock(img, opts({ opener: () => new OverlayDevice(base), inums: [0x402n, 0x420n], dryRun: true }));
  expect(some.plannedBlocks).toBeGreaterThan(0);
  expect(some.plannedBlocks).toBeLessThan(all.plannedBlocks);
});

test('when free space runs out the run stops at its last commit with a resume key', async () => {
  const dev = new OverlayDevice(base);
  const before = contentDigest(img, dev);
  // everything but 2 MiB of the free segments is reserved
  const r0 = await runReblock(img, opts({ opener: () => dev, dryRun: true }));
  const r = await runReblock(img, opts({ opener: () => dev, reserveBytes: r0.freeSegmentBytesBefore - (2n << 20n), commitEveryBytes: 1n << 20n }));
  expect(r.stopped).toBe('space');
  expect(r.resumeKey).toMatch(/^h2rb1\./);
  expect(contentDigest(img, dev)).toBe(before);
  expect(serious(img, dev)).toEqual([]);
});
