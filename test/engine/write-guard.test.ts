/**
 * The write guard: a run writes only what it allocated from free space, the freemap rotation
 * slots no header copy uses, and the header copy its commit rotates to. A wrong write is stopped
 * before a byte reaches the device; space freed by one commit of a run is never used again by a
 * later commit of the same run; blocks older header copies still use are never handed out.
 */
import { OBJTYPE_REGFILE, OFF_MASK, FREEMAP_BLOCK_SIZE, BREF_TYPE_DATA } from '../../src/format';
import { FsWriter, WriteGuardError, WriteRun, WriteSession } from '../../src/engine';
import { fileSha256, freshImage, tempDir } from '../helpers/cli';
import { layout } from '../helpers/fragment';
import { ChainReader, VolumeSet, verifyFilesystem } from '../../src/engine';

const GRANULE = BigInt(FREEMAP_BLOCK_SIZE);

function granulesOf(spec: string): Set<bigint> {
  const out = new Set<bigint>();
  for (const l of layout(spec)) {
    const [, , off] = l.split(':');
    const d = BigInt(`0x${off}`);
    if ((d & 0x3fn) === 0n) continue;
    out.add((d & OFF_MASK) & ~(GRANULE - 1n));
  }
  return out;
}

function clean(spec: string): void {
  const vols = VolumeSet.open(spec);
  try {
    const r = verifyFilesystem(new ChainReader(vols));
    expect(r.checkFailures).toEqual([]);
    expect(r.holes).toEqual([]);
  } finally {
    vols.close();
  }
}

async function writeFile(s: WriteSession, name: string, bytes: number, seed: number): Promise<void> {
  const w = new FsWriter(s);
  const pfs = w.pfsRoot('DATA');
  const f = w.create(pfs, pfs, Buffer.from(name), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE((Math.imul(i + 1, 2654435761) ^ seed) >>> 0, i);
  w.writeContents(f, b);
  w.finish(f);
}

test('a write to a live block is refused before any byte reaches the device', async () => {
  const img = freshImage('n64m', tempDir('guard'));
  const before = fileSha256(img);
  let s = await WriteSession.open(img, { purpose: 'test' });
  try {
    // the super-root inode is live: nothing of this run may land on it
    const live = s.base.srootBlockset[0].dataOff & OFF_MASK;
    expect(() => s.writeBlock(live, new Uint8Array(1024))).toThrow(/not allocated by this run/);
  } finally {
    s.close();
  }
  // a placement hook that hands out live space (reblock's destinations) is stopped the same way
  s = await WriteSession.open(img, { purpose: 'test' });
  try {
    const live = s.base.srootBlockset[0].dataOff;
    s.freemap.placement = () => (live & OFF_MASK) | 16n;
    await expect(writeFile(s, 'x', 200000, 1)).rejects.toThrow(WriteGuardError);
    expect(() => s.commit()).toThrow(WriteGuardError);
  } finally {
    s.close();
  }
  expect(fileSha256(img)).toBe(before);
});

test('a write to free space the run did not allocate is refused too', async () => {
  const img = freshImage('n64m', tempDir('guard'));
  const before = fileSha256(img);
  const s = await WriteSession.open(img, { purpose: 'test' });
  try {
    const seg = s.freemap.segmentUsage().find((u) => u.granules === 0)!.seg;
    expect(() => s.writeBlock(seg, new Uint8Array(65536))).toThrow(/not allocated by this run/);
    // and after one refusal the run writes nothing more, not even its commit
    expect(() => s.commit()).toThrow(WriteGuardError);
  } finally {
    s.close();
  }
  expect(fileSha256(img)).toBe(before);
});

test('space freed by one commit of a run is not used again by a later commit of that run', async () => {
  const img = freshImage('a', tempDir('guard'));
  let s = await WriteSession.open(img, { purpose: 'test' });
  await writeFile(s, 'old', 1 << 20, 2);
  s.commit();
  s.close();
  const oldGranules = granulesOf(img);

  const run = await WriteRun.open(img, { purpose: 'test' });
  try {
    s = run.session();
    const w = new FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    w.unlink(pfs, pfs, Buffer.from('old'));
    s.commit();
    s.close();
    s = run.session();
    await writeFile(s, 'new', 1 << 20, 3);
    s.commit();
    s.close();
  } finally {
    run.close();
  }
  const reused = [...granulesOf(img)].filter((g) => oldGranules.has(g));
  // only what both trees keep (the PFS and super-root blocks that did not move) is shared
  const freed = [...oldGranules].filter((g) => !granulesOf(img).has(g));
  expect(freed.length).toBeGreaterThan(0);
  for (const g of reused) expect(freed).not.toContain(g);
  clean(img);
});

test('a new run does not hand out blocks that an older header copy still uses', async () => {
  const img = freshImage('n10g', tempDir('guard'));
  let s = await WriteSession.open(img, { purpose: 'test' });
  await writeFile(s, 'victim', 2 << 20, 4);
  s.commit();
  s.close();
  const withVictim = new Set(
    layout(img)
      .filter((l) => l.startsWith(`${BREF_TYPE_DATA}:`))
      .map((l) => (BigInt(`0x${l.split(':')[2]}`) & OFF_MASK) & ~(GRANULE - 1n)),
  );
  // one run deletes it (its header copy still points at the old tree)...
  s = await WriteSession.open(img, { purpose: 'test' });
  const w = new FsWriter(s);
  w.unlink(w.pfsRoot('DATA'), w.pfsRoot('DATA'), Buffer.from('victim'));
  s.commit();
  s.close();
  // ...and the next run must leave those blocks alone while that copy exists
  s = await WriteSession.open(img, { purpose: 'test' });
  expect(s.run.space.protectedGranules).toBeGreaterThan(0);
  await writeFile(s, 'later', 2 << 20, 5);
  s.commit();
  s.close();
  const later = layout(img)
    .filter((l) => l.startsWith(`${BREF_TYPE_DATA}:`))
    .map((l) => (BigInt(`0x${l.split(':')[2]}`) & OFF_MASK) & ~(GRANULE - 1n));
  for (const g of later) expect(withVictim.has(g)).toBe(false);
  clean(img);
});
