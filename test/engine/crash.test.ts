/**
 * Crash safety of the commit: every image a crash could leave (each fsync prefix, and random
 * subsets of the in-flight writes) opens, verifies clean, and holds either the old committed
 * state or the new one. `npm test` runs 20 subsets per gap, `npm run test:long` 400.
 */
import * as fs from 'node:fs';
import { OBJTYPE_DIRECTORY, OBJTYPE_REGFILE, decodeInode, encodeInode, inodeNameBytes, BREF_TYPE_INODE, VOLUME_BYTES, ZONE_BYTES, decodeVolumeHeader, sealVolumeHeader } from '../../src/format';
import { BlockSource, ChainReader, FsReader, FsWriter, ReadOnlyDevice, VolumeSet, WriteSession, verifyFilesystem } from '../../src/engine';
import { freshImage, tempDir } from '../helpers/cli';
import { RecordingDevice, crashImages } from '../helpers/crash';
import { OverlayDevice } from '../helpers/corrupt';
import { digestTree } from '../helpers/image';

const SUBSETS = process.env.H2KIT_LONG ? 400 : 20;

interface State {
  modes: string;
  content: string;
  mirrorTid: bigint;
  recoveryNeeded: boolean;
  clean: boolean;
}

function stateOf(path: string, dev: BlockSource): State {
  const vols = VolumeSet.open(path, { opener: () => dev });
  try {
    const chains = new ChainReader(vols);
    const r = verifyFilesystem(chains);
    const fsr = new FsReader(chains);
    const modes = fsr
      .listPfs()
      .map((p) => `${p.name}=${p.inode.meta.mode.toString(8)}`)
      .join(',');
    const content = digestTree(fsr);
    // the state before recovery legitimately has holes; anything else must verify clean
    const clean = r.checkFailures.length === 0 && r.leaks.length === 0 && (r.recoveryNeeded || r.holes.length === 0);
    return { modes, content, mirrorTid: vols.header.mirrorTid, recoveryNeeded: r.recoveryNeeded, clean };
  } finally {
    vols.close();
  }
}

type Op = (s: WriteSession) => void;

const T = 1700000000000000n;
const file = (i: number, size: number): Buffer => Buffer.from(Array.from({ length: size }, (_, k) => (k * 31 + i * 7) & 0xff));
const createFiles: Op = (s) => {
  const w = new FsWriter(s);
  const pfs = w.pfsRoot('DATA');
  const dir = w.create(pfs, pfs, Buffer.from('d'), { type: OBJTYPE_DIRECTORY, mode: 0o755, mtime: T });
  for (let i = 0; i < 40; i++) w.writeContents(w.create(pfs, dir, Buffer.from(`file-${i}`), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: T }), file(i, (i % 4) * 20000 + 1));
};

const chmod = (name: string, mode: number): Op => (s) => {
  for (const v of s.walk()) {
    if (v.bref.type === BREF_TYPE_INODE && v.depth === 2 && Buffer.from(inodeNameBytes(decodeInode(v.data))).toString() === name) {
      const ino = decodeInode(s.current(v));
      ino.meta.mode = mode;
      s.modify(v, encodeInode(ino));
    }
  }
};

async function runRecorded(path: string, op: Op): Promise<{ base: ReadOnlyDevice; rec: RecordingDevice }> {
  const base = ReadOnlyDevice.open(path);
  const rec = new RecordingDevice(base);
  const s = await WriteSession.open(path, { purpose: 'crash-test', opener: () => rec });
  try {
    op(s);
    s.commit();
  } finally {
    s.close();
  }
  return { base, rec };
}

async function sweep(path: string, op: Op): Promise<number> {
  const { base, rec } = await runRecorded(path, op);
  try {
    const before = stateOf(path, new OverlayDevice(base));
    const after = stateOf(path, rec);
    expect(after.clean).toBe(true);
    expect(after.mirrorTid).toBe(before.mirrorTid + 1n);
    expect(rec.events.filter((e) => e.kind === 'fsync').length).toBeGreaterThanOrEqual(3);
    const images = crashImages(base, rec.events, SUBSETS);
    for (const img of images) {
      const st = stateOf(path, img.device);
      if (!st.clean || !(JSON.stringify(st, big) === JSON.stringify(before, big) || JSON.stringify(st, big) === JSON.stringify(after, big))) {
        throw new Error(`${img.label}: ${JSON.stringify(st, big)} is neither ${JSON.stringify(before, big)} nor ${JSON.stringify(after, big)}`);
      }
    }
    return images.length;
  } finally {
    base.close();
  }
}

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString(16) : v);

test('a copy-on-write change survives a crash at any point (4 header copies)', async () => {
  const n = await sweep(freshImage('n10g', tempDir('crash-cow')), chmod('DATA', 0o700));
  expect(n).toBeGreaterThanOrEqual(4 + 3 * SUBSETS);
});

test('a copy-on-write change survives a crash at any point (one header copy)', async () => {
  const n = await sweep(freshImage('a', tempDir('crash-one')), chmod('LOCAL', 0o701));
  expect(n).toBeGreaterThanOrEqual(4 + 3 * SUBSETS);
});

test('creating files survives a crash at any point', async () => {
  const n = await sweep(freshImage('n10g', tempDir('crash-create')), createFiles);
  expect(n).toBeGreaterThanOrEqual(4 + 3 * SUBSETS);
});

test('deleting files survives a crash at any point', async () => {
  const img = freshImage('n10g', tempDir('crash-delete'));
  const setup = await WriteSession.open(img, { purpose: 'setup' });
  createFiles(setup);
  setup.commit();
  setup.close();
  const n = await sweep(img, (s) => {
    const w = new FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    const dir = w.resolve(pfs, 'd');
    for (let i = 0; i < 40; i += 2) w.unlink(pfs, dir, Buffer.from(`file-${i}`));
  });
  expect(n).toBeGreaterThanOrEqual(4 + 3 * SUBSETS);
});

test('writing a large file survives a crash at any point', async () => {
  const n = await sweep(freshImage('n10g', tempDir('crash-large')), (s) => {
    const w = new FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    w.writeContents(w.create(pfs, pfs, Buffer.from('large'), { type: OBJTYPE_REGFILE, mode: 0o600, mtime: T }), file(3, 3 * 1024 * 1024 + 17));
  });
  expect(n).toBeGreaterThanOrEqual(4 + 3 * SUBSETS);
});

test('recovery survives a crash at any point', async () => {
  const dir = tempDir('crash-recover');
  const img = freshImage('n10g', dir);
  const pristine = freshImage('n10g', tempDir('crash-recover-pristine'));
  // commit a change for real, then give the image the freemap of before it, with freemap_tid lagging
  const s = await WriteSession.open(img, { purpose: 'setup' });
  chmod('DATA', 0o700)(s);
  s.commit();
  const best = s.vols.root.selection.best;
  s.close();
  const vols = VolumeSet.open(img);
  const at = BigInt(vols.root.selection.best) * ZONE_BYTES;
  vols.close();
  expect(at).toBe(BigInt(best + 1) * ZONE_BYTES);
  const read = (f: string, off: bigint): Buffer => {
    const b = Buffer.alloc(VOLUME_BYTES);
    const fd = fs.openSync(f, 'r');
    fs.readSync(fd, b, 0, VOLUME_BYTES, Number(off));
    fs.closeSync(fd);
    return b;
  };
  const old = decodeVolumeHeader(read(pristine, 0n));
  const h = decodeVolumeHeader(read(img, at));
  h.freemapBlockset = old.freemapBlockset;
  h.freemapTid = old.freemapTid;
  h.allocatorFree = old.allocatorFree;
  const fd = fs.openSync(img, 'r+');
  fs.writeSync(fd, sealVolumeHeader(h), 0, VOLUME_BYTES, Number(at));
  fs.closeSync(fd);

  const n = await sweep(img, (w) => {
    expect(w.needsRecovery).toBe(true);
    expect(w.recovered).toBeGreaterThan(0);
  });
  expect(n).toBeGreaterThanOrEqual(4 + 2 * SUBSETS);
});
