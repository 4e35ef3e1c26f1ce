/**
 * The kernel-written corpus (test/fixtures/kernel, docs/corpus.md): on every image h2kit's
 * `dump show -v`, `dump freemap` and `dump volhdr` print what DragonFly's hammer2 printed, every
 * entry of every PFS reads back as the tree manifest says (contents by sha256, symlink targets,
 * modes, owners, link counts, no entry more or less), and h2kit's fsck finds nothing worse than a note.
 */
import { ChainReader, FsReader, openReadOnly } from '../../src/engine';
import { ShowOptions, ShowWhich } from '../../src/ops/dump';
import { PROBLEMS, checkFilesystem, render } from '../../src/ops/fsck';
import {
  DRAGONFLY_FSCK_FAILS,
  TRUE_FINDINGS,
  imageManifest,
  kernelFile,
  kernelFileExists,
  kernelImage,
  kernelImageNames,
  madeRecord,
  manifestPfs,
  treeManifest,
} from '../helpers/kernel-corpus';
import { expectSameOutput, renderAsCaptured } from '../helpers/render';
import { fileSha256 } from '../helpers/cli';

const OUTPUTS: { suffix: string; which: ShowWhich; opts: Partial<ShowOptions> }[] = [
  { suffix: 'show-v.txt', which: 'show', opts: { verbose: 1 } },
  { suffix: 'freemap.txt', which: 'freemap', opts: {} },
  { suffix: 'volhdr-all.txt', which: 'volhdr', opts: { allHeaders: true } },
];

const names = kernelImageNames();
const LONG = !!process.env.H2KIT_LONG;

function render1(name: string, which: ShowWhich, opts: Partial<ShowOptions>): Promise<Buffer> {
  const img = kernelImage(name);
  return renderAsCaptured(img.dir, img.spec, which, opts);
}

test('the corpus holds the images docs/corpus.md describes', () => {
  expect(names).toEqual(
    expect.arrayContaining([
      'pop_none_none',
      'pop_autozero_disabled',
      'pop_lz4_iscsi32',
      'pop_zlib_xxhash64',
      'pop_lz4_freemap',
      'odd_names',
      'odd_symlinks',
      'odd_files',
      'frag_bulkfree',
      'pfs_snapshots',
      'growfs',
      'headers4',
    ]),
  );
});

describe.each(names)('kernel image %s', (name) => {
  test('has every file of the fixture convention, and DragonFly fsck passed it', () => {
    for (const s of ['show-v.txt', 'freemap.txt', 'volhdr-all.txt', 'fsck.txt', 'tree.json', 'made.json']) {
      expect([s, kernelFileExists(name, s)]).toEqual([s, true]);
    }
    const made = madeRecord(name);
    expect(made.version).toBe(1);
    expect(made.steps.length).toBeGreaterThan(0);
    expect(made.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(kernelFile(name, 'fsck.txt').toString('latin1')).toMatch(DRAGONFLY_FSCK_FAILS[name] ? /\nexit status: 1\n$/ : /\nexit status: 0\n$/);
  });

  test.each(OUTPUTS.map((o) => [o.suffix, o] as const))('dump %s is byte-identical to DragonFly hammer2', async (suffix, o) => {
    const got = await render1(name, o.which, o.opts);
    const want = kernelFile(name, suffix);
    expectSameOutput(got, want);
  });

  test('every entry of every PFS reads back as tree.json says', async () => {
    const s = await openReadOnly(kernelImage(name).file);
    try {
      const want = treeManifest(name);
      const pfs = manifestPfs(want);
      const got = imageManifest(new FsReader(new ChainReader(s.vols))).filter((e) => pfs.has(e.pfs ?? 'DATA'));
      expect(got.length).toBe(want.length);
      // entry by entry, so a failure names the entry
      for (let i = 0; i < want.length; i++) expect(got[i]).toEqual(want[i]);
    } finally {
      s.close();
    }
  });

  test(`h2kit fsck finds ${TRUE_FINDINGS[name] ? 'exactly what the kernel left' : 'no error and no warning'}`, async () => {
    const s = await openReadOnly(kernelImage(name).file);
    try {
      const r = checkFilesystem(s.vols);
      const bad = r.problems.filter((p) => PROBLEMS[p.code].severity !== 'info');
      const counts: Record<string, number> = {};
      for (const p of bad) counts[p.code] = (counts[p.code] ?? 0) + 1;
      if (TRUE_FINDINGS[name]) expect(counts).toEqual(TRUE_FINDINGS[name]);
      else expect(bad.map((p) => `${p.code}: ${render(p)}`)).toEqual([]);
      expect(r.blockrefs).toBeGreaterThan(0);
    } finally {
      s.close();
    }
  });

  // hashing gigabytes of holes takes seconds per image: a long-run check only
  if (LONG) {
    test('the archive extracts to the image made.json names', () => {
      expect(fileSha256(kernelImage(name).file)).toBe(madeRecord(name).sha256);
    });
  }
});
