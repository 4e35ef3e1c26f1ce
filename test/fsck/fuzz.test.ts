/**
 * Fuzzed images never crash or hang the checker. Seeded mutations hit headers, blockrefs,
 * inodes, dirents and freemap leaves, half of them with check codes recomputed up to the header
 * (so they reach the semantic passes), half without. Every case must end in a report with exit
 * 0 or 4, or in an H2Error/FormatError (exit 8: the filesystem cannot be checked).
 * npm test runs a few hundred cases; `npm run test:long` tens of thousands.
 */
import * as path from 'node:path';
import { BREF_TYPE_FREEMAP, FormatError } from '../../src/format';
import { H2Error, ReadOnlyDevice } from '../../src/engine';
import { FSCK_EXIT, fsckVolumes } from '../../src/ops/fsck';
import { rng } from '../helpers/corrupt';
import { Editor } from '../helpers/edit';
import { KINDS, mutate } from '../helpers/mutate';
import { h2kit, tempDir } from '../helpers/cli';
import { extracted, refImage } from '../helpers/reference';

const LONG = !!process.env.H2KIT_LONG;
const SCALE = LONG ? 100 : 1;

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
