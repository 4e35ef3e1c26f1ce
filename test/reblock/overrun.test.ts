/**
 * The destination overrun: a destination segment packed exactly to its end must not let the
 * next block spill into whatever segment follows on disk. Free space lies below live space
 * here (deleted files between kept ones), as on images the kernel fragmented, so a spill lands
 * on live blocks; the engine's write guard would refuse it, and the files must come out whole.
 */
import { OBJTYPE_REGFILE } from '../../src/format';
import { FsWriter, WriteSession } from '../../src/engine';
import { ITEM_TYPES, runReblock } from '../../src/ops/reblock';
import { PROBLEMS, checkFilesystem } from '../../src/ops/fsck';
import { ChainReader, VolumeSet, verifyFilesystem } from '../../src/engine';
import { contentDigest } from '../helpers/fragment';
import { h2kit, tempDir } from '../helpers/cli';
import * as path from 'node:path';

const MiB = 1 << 20;

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((Math.imul(i + seed, 2654435761) ^ (seed << 7)) >>> 0, i);
  return b;
}

async function write(img: string, files: [string, number][]): Promise<void> {
  const s = await WriteSession.open(img, { purpose: 'test' });
  try {
    const w = new FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    files.forEach(([name, size], i) => {
      const f = w.create(pfs, pfs, Buffer.from(name), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
      w.writeContents(f, bytes(size, name.length * 31 + i));
      w.finish(f);
    });
    s.commit();
  } finally {
    s.close();
  }
}

async function remove(img: string, names: string[]): Promise<void> {
  const s = await WriteSession.open(img, { purpose: 'test' });
  try {
    const w = new FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    for (const n of names) w.unlink(pfs, pfs, Buffer.from(n));
    s.commit();
  } finally {
    s.close();
  }
}

test('reblock packs destinations to their end without spilling over live segments', async () => {
  const img = path.join(tempDir('overrun'), 'o.img');
  expect(h2kit(['mkfs', img, '--size', '2G']).status).toBe(0);
  const pairs: [string, number][] = [];
  for (let i = 0; i < 6; i++) pairs.push([`keep${i}`, MiB], [`drop${i}`, 3 * MiB]);
  await write(img, pairs);
  await write(img, [['hole', 4 * MiB]]);
  await write(img, [['two', 2 * MiB], ['four', 4 * MiB]]);
  await remove(img, ['hole', ...pairs.filter(([n]) => n.startsWith('drop')).map(([n]) => n)]);
  const before = contentDigest(img);

  const r = await runReblock(img, { fillLevel: 95, types: new Set(ITEM_TYPES), commitEveryBytes: 256n << 20n, reserveBytes: 0n, dryRun: false });
  expect(r.bytesMoved).toBeGreaterThan(0n);
  expect(r.stopped).toBeNull();

  expect(contentDigest(img)).toBe(before);
  const vols = VolumeSet.open(img);
  try {
    const v = verifyFilesystem(new ChainReader(vols));
    expect(v.checkFailures).toEqual([]);
    expect(v.holes).toEqual([]);
    const serious = checkFilesystem(vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info');
    expect(serious.map((p) => `${p.code} ${p.where}`)).toEqual([]);
  } finally {
    vols.close();
  }
});
