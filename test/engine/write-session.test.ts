/**
 * The engine's write path on reference images: a copy-on-write change commits to the next
 * header copy, leaves the old copies intact, advances mirror_tid and freemap_tid as the kernel
 * does, and leaves a freemap that matches the reachable blocks exactly.
 */
import * as fs from 'node:fs';
import {
  BREF_TYPE_INODE,
  VOLUME_BYTES,
  ZONE_BYTES,
  decodeInode,
  encodeInode,
  inodeNameBytes,
} from '../../src/format';
import { ChainReader, Freemap, Visit, VolumeSet, WriteSession, reserveFreemapBlock, verifyFilesystem } from '../../src/engine';
import { freshImage, tempDir, readAt } from '../helpers/cli';

/** The inode block of the PFS root named `name`, found by walking. */
function pfsVisit(s: WriteSession, name: string): Visit {
  for (const v of s.walk()) {
    if (v.bref.type === BREF_TYPE_INODE && v.depth === 2 && Buffer.from(inodeNameBytes(decodeInode(v.data))).toString() === name) return v;
  }
  throw new Error(`no PFS ${name}`);
}

async function chmodPfsRoot(spec: string, name: string, mode: number): Promise<void> {
  const s = await WriteSession.open(spec, { purpose: 'test' });
  try {
    const v = pfsVisit(s, name);
    const ino = decodeInode(s.current(v));
    ino.meta.mode = mode;
    s.modify(v, encodeInode(ino));
    s.commit();
  } finally {
    s.close();
  }
}

function inspect(spec: string) {
  const vols = VolumeSet.open(spec);
  try {
    const chains = new ChainReader(vols);
    return { sel: vols.root.selection, header: vols.header, report: verifyFilesystem(chains) };
  } finally {
    vols.close();
  }
}

test('a commit goes to the next header copy and leaves the others intact', async () => {
  const img = freshImage('n10g', tempDir('ws-rotate'));
  const before = [0, 1, 2, 3].map((i) => readAt(img, BigInt(i) * ZONE_BYTES, VOLUME_BYTES));
  await chmodPfsRoot(img, 'DATA', 0o700);
  let st = inspect(img);
  expect(st.sel.best).toBe(1);
  expect(st.header.mirrorTid).toBe(0x11n);
  expect(st.header.freemapTid).toBe(0x11n);
  expect(readAt(img, 0n, VOLUME_BYTES).equals(before[0])).toBe(true);
  expect(readAt(img, 2n * ZONE_BYTES, VOLUME_BYTES).equals(before[2])).toBe(true);
  expect(st.report).toMatchObject({ checkFailures: [], holes: [], leaks: [], recoveryNeeded: false });

  await chmodPfsRoot(img, 'LOCAL', 0o750);
  st = inspect(img);
  expect([st.sel.best, st.header.mirrorTid, st.header.freemapTid]).toEqual([2, 0x12n, 0x12n]);
  expect(readAt(img, ZONE_BYTES, VOLUME_BYTES).equals(before[1])).toBe(false);
  expect(st.report).toMatchObject({ checkFailures: [], holes: [], leaks: [] });

  // the changes are there, through the ordinary read path
  const vols = VolumeSet.open(img);
  try {
    const { FsReader } = await import('../../src/engine');
    const fsr = new FsReader(new ChainReader(vols));
    expect(fsr.findPfs('DATA').inode.meta.mode).toBe(0o700);
    expect(fsr.findPfs('LOCAL').inode.meta.mode).toBe(0o750);
  } finally {
    vols.close();
  }
});

test('with a single header copy the rotation stays on copy 0', async () => {
  const img = freshImage('a', tempDir('ws-single'));
  await chmodPfsRoot(img, 'DATA', 0o711);
  const st = inspect(img);
  expect([st.sel.best, st.header.mirrorTid]).toEqual([0, 0x11n]);
  expect(st.report).toMatchObject({ checkFailures: [], holes: [], leaks: [] });
});

test('allocator_free drops by exactly what the new blocks took', async () => {
  const img = freshImage('n10g', tempDir('ws-free'));
  const free0 = inspect(img).header.allocatorFree;
  await chmodPfsRoot(img, 'DATA', 0o700);
  const free1 = inspect(img).header.allocatorFree;
  // two 1 KiB inodes (super-root and DATA root) share one new 16 KiB granule
  expect(free0 - free1).toBe(16384n);
  await chmodPfsRoot(img, 'DATA', 0o755);
  // the previous copies of both inodes are released: still one granule in use
  expect(inspect(img).header.allocatorFree).toBe(free1);
});

test('freemap blocks rotate through the 8 sets of the reserved segment', () => {
  const first = reserveFreemapBlock(0n, 30, 0n);
  expect(first).toBe(0x1000fn);
  const second = reserveFreemapBlock(0n, 30, first);
  expect(second).toBe(0x6000fn);
  let off = first;
  for (let i = 0; i < 8; i++) off = reserveFreemapBlock(0n, 30, off);
  expect(off).toBe(first);
  expect(reserveFreemapBlock(1n << 30n, 30, 0n)).toBe((1n << 30n) + 0x1000fn);
});

test('recovery marks blocks newer than freemap_tid allocated again', async () => {
  const img = freshImage('n10g', tempDir('ws-recover'));
  await chmodPfsRoot(img, 'DATA', 0o700);
  // Simulate a crash between the topology flush and the freemap flush: put back the
  // pre-commit freemap, and a header whose freemap_tid lags its mirror_tid.
  const pristine = freshImage('n10g', tempDir('ws-recover-pristine'));
  const vols = VolumeSet.open(img);
  const h = vols.header;
  const best = vols.root.selection.best;
  vols.close();
  const { decodeVolumeHeader, sealVolumeHeader } = await import('../../src/format');
  const old = decodeVolumeHeader(readAt(pristine, 0n, VOLUME_BYTES));
  const hdr = decodeVolumeHeader(readAt(img, BigInt(best) * ZONE_BYTES, VOLUME_BYTES));
  hdr.freemapBlockset = old.freemapBlockset;
  hdr.freemapTid = 0x10n;
  hdr.allocatorFree = old.allocatorFree;
  const fd = fs.openSync(img, 'r+');
  fs.writeSync(fd, sealVolumeHeader(hdr), 0, VOLUME_BYTES, Number(BigInt(best) * ZONE_BYTES));
  fs.closeSync(fd);
  let st = inspect(img);
  expect(st.report.recoveryNeeded).toBe(true);
  expect(st.header.mirrorTid).toBe(h.mirrorTid);

  const s = await WriteSession.open(img, { purpose: 'test' });
  try {
    expect(s.needsRecovery).toBe(true);
    expect(s.recovered).toBeGreaterThanOrEqual(1);
    s.commit();
  } finally {
    s.close();
  }
  st = inspect(img);
  expect(st.report).toMatchObject({ recoveryNeeded: false, checkFailures: [], holes: [], leaks: [] });
  expect(st.header.freemapTid).toBe(st.header.mirrorTid);
});

test('the allocator packs small blocks and places data like the kernel', async () => {
  const img = freshImage('n10g', tempDir('ws-alloc'));
  const vols = VolumeSet.open(img);
  try {
    const fm = Freemap.load(new ChainReader(vols));
    const a = fm.allocate(BREF_TYPE_INODE, 1024);
    const b = fm.allocate(BREF_TYPE_INODE, 1024);
    // newfs's allocator_beg rounded up to the next 4 MiB segment; then packed 1 KiB apart
    const first = (vols.header.allocatorBeg + 0x3fffffn) & ~0x3fffffn;
    expect(first).toBe(0x14800000n);
    expect(a).toBe(first | 10n);
    expect(b).toBe((first + 1024n) | 10n);
    expect(fm.states(first, 16384)).toEqual([3]);
    const d = fm.allocate(3, 65536, 0x10000n);
    expect(d & 0x3fn).toBe(16n);
    expect(fm.states(d & ~0x3fn, 65536)).toEqual([3, 3, 3, 3]);
    // different classes take different segments
    expect((d & ~0x3fffffn) !== (a & ~0x3fffffn)).toBe(true);
  } finally {
    vols.close();
  }
});
