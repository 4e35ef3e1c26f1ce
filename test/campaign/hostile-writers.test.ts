/**
 * Hostile images for the writing commands (the e2fsprogs and btrfs-progs rules). Each case is
 * one seeded mutation of the fsck and dump fuzzers (test/helpers/mutate.ts) on an overlay, then
 * one writing command through that overlay:
 *   - fsck -y: a following check (fsck -n) finds nothing, or the repair run refused (exit 4 or
 *     8) and wrote nothing;
 *   - reblock (random --fill-level, --types, --commit-every) and cleanup: the run refused and
 *     wrote nothing, or what it wrote leaves no problem code the damaged image did not have.
 * Never a crash (an error other than H2Error/FormatError), never a write-guard refusal (that is
 * a bug in h2kit, not a property of the image), never a heap that grows without bound.
 * npm test runs a sample; `npm run test:long` runs H2KIT_CAMPAIGN_CASES (default 10,000) per
 * command, spread over the images. H2KIT_CAMPAIGN_SEEDS=5,17 replays only those seeds.
 */
import * as path from 'node:path';
import { BREF_TYPE_FREEMAP } from '../../src/format';
import { ReadOnlyDevice, WriteGuardError } from '../../src/engine';
import { FSCK_EXIT, PROBLEMS, ProblemCode, fsckVolumes, repairExitCode, runRepair } from '../../src/ops/fsck';
import { OverlayDevice, metadataTargets, rng } from '../helpers/corrupt';
import { Editor } from '../helpers/edit';
import { KINDS, Kind, mutate, smashBlock } from '../helpers/mutate';
import { Writer, cleanupWith, isRefusal, kernelFixture, openThrough, pickReblock, problemCodes, reblockWith } from '../helpers/campaign';
import { fragment } from '../helpers/fragment';
import { h2kit, tempDir } from '../helpers/cli';
import { extracted } from '../helpers/reference';

const LONG = !!process.env.H2KIT_LONG;
const PER_COMMAND = LONG ? Number(process.env.H2KIT_CAMPAIGN_CASES ?? 10000) : 15;
const HEAP_LIMIT = 1536 * 1024 * 1024;

type Base = 'own' | 'frag' | 'camp_shared';
const BASES: Base[] = ['own', 'frag', 'camp_shared'];
const WRITERS: Writer[] = ['fsck-y', 'reblock', 'cleanup'];
type Mutation = Kind | 'smash';
const MUTATIONS: Mutation[] = [...KINDS, 'smash'];

const ONLY = process.env.H2KIT_CAMPAIGN_SEEDS ? new Set(process.env.H2KIT_CAMPAIGN_SEEDS.split(',').map(Number)) : null;

const images = new Map<Base, string>();
beforeAll(async () => {
  const dir = tempDir('hostile');
  const own = path.join(dir, 'own.img');
  const src = path.join(extracted('srctree.tar.gz'), 'srctree');
  expect(h2kit(['mkfs', '--quiet', '--size', '1G', '--root', src, '--compression', 'lz4', '--check', 'crc32', own]).status).toBe(0);
  images.set('own', own);
  const frag = path.join(dir, 'frag.img');
  expect(h2kit(['mkfs', '--quiet', '--size', '1G', frag]).status).toBe(0);
  await fragment(frag, 24);
  images.set('frag', frag);
  images.set('camp_shared', kernelFixture('camp_shared'));
});

/** Did any write after the first `mark` patches change a byte? */
function changedSince(dev: OverlayDevice, base: ReadOnlyDevice, mark: number): boolean {
  if (dev.patches.length === mark) return false;
  const before = new OverlayDevice(base);
  before.patches.push(...dev.patches.slice(0, mark));
  return dev.patches.slice(mark).some((p) => !before.read(p.off, p.bytes.length).equals(p.bytes));
}

interface Tally {
  cases: number;
  skipped: number;
  /** the mutated image had a problem, or could not be checked at all */
  damaged: number;
  /** refused, or found nothing to do: nothing written */
  unchanged: number;
  written: number;
}

describe.each(WRITERS.flatMap((w) => BASES.map((b) => [w, b] as [Writer, Base])))('%s on %s', (writer, baseName) => {
  const cases = Math.max(1, Math.round(PER_COMMAND / BASES.length));
  test(`${cases} hostile images: refused unchanged, repaired clean, or no worse`, async () => {
    const file = images.get(baseName)!;
    const base = ReadOnlyDevice.open(file);
    const failures: string[] = [];
    const tally: Tally = { cases: 0, skipped: 0, damaged: 0, unchanged: 0, written: 0 };
    try {
      const clean = new Editor(base);
      const visits = clean.visits();
      const fmVisits = clean.visits(BREF_TYPE_FREEMAP);
      const cleanVols = clean.open();
      const targets = metadataTargets(cleanVols);
      cleanVols.close();
      for (let seed = 1; seed <= cases; seed++) {
        if (ONLY && !ONLY.has(seed)) {
          tally.skipped++;
          continue;
        }
        const r = rng(seed * 7877 + WRITERS.indexOf(writer) * 131 + baseName.length);
        const ed = new Editor(base);
        const mutation = MUTATIONS[seed % MUTATIONS.length];
        const reseal = r() < 0.5;
        const label = `${writer} ${baseName} seed ${seed} (${mutation}, reseal ${reseal})`;
        try {
          if (mutation === 'smash') {
            const t = smashBlock(ed.dev, targets, r);
            if (reseal) ed.reseal(t.visit);
          } else if (!mutate(ed, visits, fmVisits, mutation, r, reseal)) {
            tally.skipped++;
            continue;
          }
        } catch (e) {
          // the mutation itself may leave nothing to re-seal through (a header scribbled to garbage)
          if (!isRefusal(e)) throw e;
        }
        tally.cases++;
        const open = openThrough(file, ed.dev);
        const mark = ed.dev.patches.length;
        const before = problemCodes(open);
        if (before === null || before.size > 0) tally.damaged++;
        const problem = await judge(writer, file, ed.dev, r, open, before, () => changedSince(ed.dev, base, mark));
        if (problem === 'unchanged') tally.unchanged++;
        else if (problem === 'written') tally.written++;
        else failures.push(`${label}: ${problem}`);
        if (process.memoryUsage().heapUsed > HEAP_LIMIT) failures.push(`${label}: heap at ${process.memoryUsage().heapUsed} bytes`);
      }
    } finally {
      base.close();
    }
    if (LONG) process.stdout.write(`${writer} on ${baseName}: ${JSON.stringify(tally)}\n`);
    expect(failures).toEqual([]);
    expect(tally.cases + tally.skipped).toBe(cases);
    if (ONLY) return;
    // the cases must largely be damage, or the campaign proves nothing
    expect(tally.damaged).toBeGreaterThanOrEqual(Math.ceil(tally.cases / 3));
    expect(tally.unchanged + tally.written).toBe(tally.cases);
  });
});

/** 'unchanged' (refused or nothing to do, nothing written), 'written' (and judged sound), or what went wrong */
type Verdict = 'unchanged' | 'written' | string;

async function judge(
  writer: Writer,
  spec: string,
  dev: OverlayDevice,
  r: () => number,
  open: ReturnType<typeof openThrough>,
  before: ReturnType<typeof problemCodes>,
  changed: () => boolean,
): Promise<Verdict> {
  if (writer === 'fsck-y') {
    let exit: number;
    let left = '';
    try {
      const res = await runRepair(spec, { mode: 'yes', opener: () => dev });
      exit = repairExitCode(res);
      const codes = (ps: { code: string; where: string }[]) => ps.filter((p) => PROBLEMS[p.code as ProblemCode].severity !== 'info').map((p) => `${p.code} ${p.where}`);
      left = `found ${codes(res.initial.problems).join(', ')}; fixed ${res.fixes.map((f) => f.code).join(' ')}; left ${codes(res.final.problems).join(', ')}`;
    } catch (e) {
      if (e instanceof WriteGuardError || !isRefusal(e)) return `fsck -y threw ${(e as Error).stack}`;
      return changed() ? `fsck -y refused (exit 8: ${(e as Error).message}) after writing` : 'unchanged';
    }
    if (exit & FSCK_EXIT.UNCORRECTED) return changed() ? `fsck -y exit ${exit}: problems left after writing (${left})` : 'unchanged';
    let after: number;
    try {
      const vols = open();
      try {
        after = fsckVolumes(vols).exitCode;
      } finally {
        vols.close();
      }
    } catch (e) {
      return `fsck -n after fsck -y (exit ${exit}) threw ${(e as Error).message}`;
    }
    if (after !== FSCK_EXIT.OK) return `fsck -n after fsck -y (exit ${exit}) exits ${after}: ${[...(problemCodes(open, true) ?? [])].join(' ')}`;
    return exit === FSCK_EXIT.OK && !changed() ? 'unchanged' : 'written';
  }
  const choice = pickReblock(r);
  const what = writer === 'reblock' ? `reblock ${JSON.stringify({ ...choice, commitEveryBytes: String(choice.commitEveryBytes) })}` : 'cleanup';
  try {
    if (writer === 'reblock') await reblockWith(spec, dev, choice);
    else await cleanupWith(spec, dev);
  } catch (e) {
    if (e instanceof WriteGuardError || !isRefusal(e)) return `${what} threw ${(e as Error).stack}`;
    if (!changed()) return 'unchanged';
    // it failed after a commit: the commits that stand must still leave the image no worse
  }
  if (!changed()) return 'unchanged';
  if (before === null) return `${what} wrote to an image that cannot be checked`;
  const after = problemCodes(open);
  if (after === null) return `${what} left an image that cannot be checked`;
  const added = [...after].filter((c) => !before.has(c));
  return added.length > 0 ? `${what} added ${added.join(' ')} (before: ${[...before].join(' ')})` : 'written';
}
