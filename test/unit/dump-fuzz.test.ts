/**
 * Damaged images never crash or hang the dump: seeded mutations of metadata blocks, with and
 * without re-sealed check codes, must end in output or in an H2Error/FormatError, never in a
 * TypeError, RangeError or a hang. npm test runs a sample; npm run test:long many more.
 */
import * as path from 'node:path';
import { FormatError, OBJTYPE_DIRECTORY } from '../../src/format';
import { ChainReader, FsReader, H2Error, InodeRef, Pfs, ReadOnlyDevice, VolumeSet } from '../../src/engine';
import { DEFAULT_SHOW_OPTIONS, renderShow } from '../../src/ops/dump';
import { OverlayDevice, metadataTargets, resealUpward, rng } from '../helpers/corrupt';
import { smashBlock } from '../helpers/mutate';
import { refImage } from '../helpers/reference';

const LONG = !!process.env.H2KIT_LONG;
const PLAN: [string, number][] = [
  ['mk_lz4_xxhash64', LONG ? 3000 : 30],
  ['mk_zlib_crc32', LONG ? 2000 : 20],
  ['labels', LONG ? 500 : 30],
  ['multi', LONG ? 500 : 20],
];

const isExpected = (e: unknown): boolean => e instanceof H2Error || e instanceof FormatError;

function tolerate(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!isExpected(e)) throw e;
  }
}

/** Everything a user can ask of a damaged image: the three dumps and a walk of every PFS. */
function exercise(open: () => VolumeSet): void {
  let vols: VolumeSet;
  try {
    vols = open();
  } catch (e) {
    if (isExpected(e)) return;
    throw e;
  }
  const sink = { write: (_s: string) => undefined };
  for (const which of ['volhdr', 'show', 'freemap'] as const) {
    renderShow(vols, which, { ...DEFAULT_SHOW_OPTIONS, allHeaders: true }, sink);
  }
  const fs = new FsReader(new ChainReader(vols));
  const walk = (pfs: Pfs, dir: InodeRef, depth: number): void => {
    for (const ent of fs.readdir(dir)) {
      tolerate(() => {
        const ino = fs.lookupInum(pfs, ent.inum);
        if (ino.inode.meta.type === OBJTYPE_DIRECTORY) {
          if (depth < 8) walk(pfs, ino, depth + 1);
        } else if (ino.inode.meta.size < 200000n) {
          fs.readFile(ino, () => undefined);
        }
      });
    }
  };
  tolerate(() => {
    for (const pfs of fs.listPfs()) tolerate(() => walk(pfs, fs.lookupInum(pfs, 1n), 0));
  });
}

describe.each(PLAN)('%s', (name, cases) => {
  const img = refImage(name);
  const paths = img.spec.split(':').map((p) => path.join(img.dir, p));
  const spec = paths.join(':');
  const bases = paths.map((p) => ReadOnlyDevice.open(p));
  afterAll(() => bases.forEach((b) => b.close()));

  test(`${cases} seeded metadata mutations end in output or a clean error`, () => {
    const clean = VolumeSet.open(spec);
    const targets = metadataTargets(clean);
    clean.close();
    expect(targets.length).toBeGreaterThan(0);
    for (let seed = 1; seed <= cases; seed++) {
      const r = rng(seed * 7919 + name.length);
      const overlays = new Map(bases.map((b) => [b.path, new OverlayDevice(b)]));
      const open = (): VolumeSet => VolumeSet.open(spec, { opener: (p) => overlays.get(p)! });
      const dev = overlays.get(paths[0])!;
      const t = smashBlock(dev, targets, r);
      const resealed = r() < 0.5;
      if (resealed) tolerate(() => resealUpward(dev, open(), t.visit));
      try {
        exercise(open);
      } catch (e) {
        throw new Error(`${name} seed ${seed} (${resealed ? 'resealed' : 'raw'}): ${(e as Error).stack}`);
      }
    }
  });
});
