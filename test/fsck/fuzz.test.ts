/**
 * Fuzzed images never crash or hang the checker. Seeded mutations hit headers, blockrefs,
 * inodes, dirents and freemap leaves, half of them with check codes recomputed up to the header
 * (so they reach the semantic passes), half without. Every case must end in a report with exit
 * 0 or 4, or in an H2Error/FormatError (exit 8: the filesystem cannot be checked).
 * npm test runs a few hundred cases; `npm run test:long` tens of thousands.
 */
import * as path from 'node:path';
import {
  BLOCKREF_BYTES,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_INODE,
  FormatError,
  INODE_META_BYTES,
  VOLUME_BYTES,
  ZONE_BYTES,
} from '../../src/format';
import { H2Error, ReadOnlyDevice, Visit, blockrefLocation } from '../../src/engine';
import { FSCK_EXIT, fsckVolumes } from '../../src/ops/fsck';
import { rng } from '../helpers/corrupt';
import { Editor } from '../helpers/edit';
import { h2kit, tempDir } from '../helpers/cli';
import { extracted, refImage } from '../helpers/reference';

const LONG = !!process.env.H2KIT_LONG;
const SCALE = LONG ? 100 : 1;

type Kind = 'header' | 'blockref' | 'inode' | 'dirent' | 'freemap';
const KINDS: Kind[] = ['header', 'blockref', 'inode', 'dirent', 'freemap'];

/** Overwrite 1 to 4 random bytes (or flip bits) inside [off, off + len). */
function scribble(ed: Editor, r: () => number, off: bigint, len: number): void {
  for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) {
    const at = off + BigInt(Math.floor(r() * len));
    const cur = ed.open();
    const old = cur.read(at, 1)[0];
    cur.close();
    const v = r() < 0.5 ? old ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
    ed.patch(at, Uint8Array.of(v));
  }
}

/** Apply one mutation; false when the image has nothing of that kind (a newfs image has no dirents). */
function mutate(ed: Editor, visits: Visit[], fmVisits: Visit[], kind: Kind, r: () => number, reseal: boolean): boolean {
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(r() * xs.length)];
  switch (kind) {
    case 'header': {
      const copy = Math.floor(r() * 4);
      const vols = ed.open();
      const exists = BigInt(copy) * ZONE_BYTES + BigInt(VOLUME_BYTES) <= vols.root.size;
      vols.close();
      if (!exists) return false;
      if (reseal) ed.editHeader(copy, (h) => {
        const fields = ['mirrorTid', 'freemapTid', 'allocatorFree', 'allocatorBeg', 'voluSize', 'totalSize'] as const;
        const f = pick([...fields])!;
        h[f] = r() < 0.5 ? h[f] ^ (1n << BigInt(Math.floor(r() * 64))) : BigInt(Math.floor(r() * 2 ** 32));
      });
      else scribble(ed, r, BigInt(copy) * ZONE_BYTES, 1024);
      return true;
    }
    case 'blockref': {
      const v = pick(visits.filter((x) => x.parent))!;
      const loc = blockrefLocation(v)!;
      scribble(ed, r, loc, BLOCKREF_BYTES);
      if (reseal) ed.reseal(v.parent!);
      return true;
    }
    case 'inode': {
      const v = pick(visits.filter((x) => x.bref.type === BREF_TYPE_INODE));
      if (!v) return false;
      scribble(ed, r, v.bref.dataOff & ~0x3fn, r() < 0.7 ? INODE_META_BYTES : v.data.length);
      if (reseal) ed.reseal(v);
      return true;
    }
    case 'dirent': {
      const v = pick(visits.filter((x) => x.bref.type === BREF_TYPE_DIRENT));
      if (!v) return false;
      // the embed (inum, namlen, type), the key, or the inline name
      const loc = blockrefLocation(v)!;
      const part = pick([[0x30, 16], [0x08, 8], [0x40, 64]] as const)!;
      scribble(ed, r, loc + BigInt(part[0]), part[1]);
      if (reseal) ed.reseal(v.parent!);
      return true;
    }
    case 'freemap': {
      const v = pick(fmVisits.filter((x) => x.bref.type === BREF_TYPE_FREEMAP_LEAF));
      if (!v) return false;
      scribble(ed, r, v.bref.dataOff & ~0x3fn, v.data.length);
      if (reseal) ed.reseal(v);
      return true;
    }
  }
}

const isExpected = (e: unknown): boolean => e instanceof H2Error || e instanceof FormatError;

let own = '';
beforeAll(() => {
  own = path.join(tempDir('fsck-fuzz'), 'own.img');
  const src = path.join(extracted('srctree.tar.gz'), 'srctree');
  expect(h2kit(['mkfs', '--quiet', '--size', '1G', '--root', src, '--compression', 'lz4', '--check', 'crc32', own]).status).toBe(0);
});

const PLAN: [string, number][] = [
  ['mk_lz4_xxhash64', 120 * SCALE],
  ['labels', 40 * SCALE],
  ['own', 120 * SCALE],
];

describe.each(PLAN)('%s', (name, cases) => {
  test(`${cases} seeded mutations end in exit 0, 4 or a clean error`, () => {
    const file = name === 'own' ? own : ((img) => path.join(img.dir, img.spec))(refImage(name));
    const base = ReadOnlyDevice.open(file);
    try {
      const clean = new Editor(base);
      const visits = clean.visits();
      const fmVisits = clean.visits(BREF_TYPE_FREEMAP);
      const tally = { ok: 0, problems: 0, refused: 0, skipped: 0 };
      for (let seed = 1; seed <= cases; seed++) {
        const r = rng(seed * 104729 + name.length);
        const ed = new Editor(base);
        const kind = KINDS[seed % KINDS.length];
        const reseal = seed % 2 === 0;
        try {
          if (!mutate(ed, visits, fmVisits, kind, r, reseal)) {
            tally.skipped++;
            continue;
          }
        } catch (e) {
          // the mutation itself may make the image unopenable (a header scribbled to garbage)
          if (!isExpected(e)) throw e;
        }
        let vols;
        try {
          vols = ed.open();
        } catch (e) {
          if (!isExpected(e)) throw new Error(`seed ${seed} (${kind}, reseal ${reseal}): open threw ${(e as Error).stack}`);
          tally.refused++;
          continue;
        }
        try {
          const { exitCode } = fsckVolumes(vols);
          expect([FSCK_EXIT.OK, FSCK_EXIT.UNCORRECTED]).toContain(exitCode);
          if (exitCode === FSCK_EXIT.OK) tally.ok++;
          else tally.problems++;
        } catch (e) {
          if (!isExpected(e)) throw new Error(`seed ${seed} (${kind}, reseal ${reseal}): ${(e as Error).stack}`);
          tally.refused++;
        } finally {
          vols.close();
        }
      }
      // most mutations must be seen as damage: a checker that reports nothing would pass the rest
      expect(tally.problems + tally.refused).toBeGreaterThan((cases - tally.skipped) / 2);
      expect(tally.ok + tally.problems + tally.refused + tally.skipped).toBe(cases);
    } finally {
      base.close();
    }
  });
});
