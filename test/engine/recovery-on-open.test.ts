/**
 * Writing commands on a filesystem whose freemap lags its last commit (a crash between the
 * topology flush and the freemap flush) recover first, as the kernel does at mount, and proceed:
 * reblock and cleanup report what they recovered, and every result verifies clean with the same
 * contents.
 */
import * as fs from 'node:fs';
import { OBJTYPE_REGFILE, VOLUME_BYTES, ZONE_BYTES, decodeVolumeHeader, sealVolumeHeader } from '../../src/format';
import { ChainReader, FsWriter, ReadOnlyDevice, VolumeSet, WriteSession, verifyFilesystem } from '../../src/engine';
import { ITEM_TYPES, runBulkfree, runReblock } from '../../src/ops/reblock';
import { PROBLEMS, runRepair } from '../../src/ops/fsck';
import { OverlayDevice } from '../helpers/corrupt';
import { contentDigest } from '../helpers/fragment';
import { freshImage, tempDir, readAt } from '../helpers/cli';

let img = '';
let base: ReadOnlyDevice;

beforeAll(async () => {
  img = freshImage('a', tempDir('recover-open'));
  const pristine = readAt(img, 0n, VOLUME_BYTES);
  const s = await WriteSession.open(img, { purpose: 'test' });
  const w = new FsWriter(s);
  const pfs = w.pfsRoot('DATA');
  for (let i = 0; i < 12; i++) {
    const f = w.create(pfs, pfs, Buffer.from(`f${i}`), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
    const b = Buffer.alloc(50000 + i * 30000);
    for (let k = 0; k < b.length; k += 4) b.writeUInt32LE((Math.imul(k + i, 2654435761) ^ i) >>> 0, k);
    w.writeContents(f, b);
    w.finish(f);
  }
  s.commit();
  s.close();
  // the crash: the new topology is on the media, the freemap the header names is the old one
  const vols = VolumeSet.open(img);
  const best = vols.root.selection.best;
  vols.close();
  const old = decodeVolumeHeader(pristine);
  const hdr = decodeVolumeHeader(readAt(img, BigInt(best) * ZONE_BYTES, VOLUME_BYTES));
  hdr.freemapBlockset = old.freemapBlockset;
  hdr.freemapTid = old.mirrorTid;
  hdr.allocatorFree = old.allocatorFree;
  const fd = fs.openSync(img, 'r+');
  fs.writeSync(fd, sealVolumeHeader(hdr), 0, VOLUME_BYTES, Number(BigInt(best) * ZONE_BYTES));
  fs.closeSync(fd);
  base = ReadOnlyDevice.open(img);
});
afterAll(() => base.close());

function verify(dev: OverlayDevice) {
  const vols = VolumeSet.open(img, { opener: () => dev });
  try {
    return verifyFilesystem(new ChainReader(vols));
  } finally {
    vols.close();
  }
}

test('the image needs recovery: its freemap misses the last commit', () => {
  const r = verify(new OverlayDevice(base));
  expect(r.recoveryNeeded).toBe(true);
  expect(r.holes.length).toBeGreaterThan(0);
});

test('reblock recovers, commits it, and proceeds', async () => {
  const dev = new OverlayDevice(base);
  const before = contentDigest(img, dev);
  const r = await runReblock(img, { fillLevel: 95, types: new Set(ITEM_TYPES), commitEveryBytes: 256n << 20n, reserveBytes: 0n, dryRun: false, opener: () => dev });
  expect(r.recovered).toBeGreaterThan(0);
  expect(r.commits).toBeGreaterThanOrEqual(1);
  expect(verify(dev)).toMatchObject({ recoveryNeeded: false, checkFailures: [], holes: [] });
  expect(contentDigest(img, dev)).toBe(before);
});

test('cleanup (bulkfree) recovers and proceeds', async () => {
  const dev = new OverlayDevice(base);
  const before = contentDigest(img, dev);
  const r = await runBulkfree(img, { opener: () => dev });
  expect(r.recovered).toBeGreaterThan(0);
  expect(verify(dev)).toMatchObject({ recoveryNeeded: false, checkFailures: [], holes: [], leaks: [] });
  expect(contentDigest(img, dev)).toBe(before);
});

test('fsck -y recovers, and a second check is clean', async () => {
  const dev = new OverlayDevice(base);
  const before = contentDigest(img, dev);
  const r = await runRepair(img, { mode: 'yes', opener: () => dev });
  expect(r.modified).toBe(true);
  expect(r.final.problems.filter((p) => PROBLEMS[p.code].severity !== 'info').map((p) => p.code)).toEqual([]);
  expect(verify(dev)).toMatchObject({ recoveryNeeded: false, checkFailures: [], holes: [] });
  expect(contentDigest(img, dev)).toBe(before);
});
