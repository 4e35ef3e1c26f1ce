/**
 * The cases: every kind of image h2kit writes, each built in its own folder and handed to the
 * checks with the files it should hold. A case's `build` throws when h2kit itself fails; that is a
 * failure of the case, reported with the reason.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CASES as CORPUS, Source } from '../../test/helpers/fsck-corpus';
import { extracted, refImage } from '../../test/helpers/reference';
import { Editor } from '../../test/helpers/edit';
import { fragment } from '../../test/helpers/fragment';
import { FsWriter, WriteSession } from '../../src/engine';
import { Gen, generateSymlinkTree, generateTree, longSymlinkLengths, treeOptions } from './tree';
import { Listing, listDir, listImage } from './listing';
import { MULTI_NOTE, SHA192_NOTE, Subject, fsckCodes, sparseCopy } from './checks';
import { Tools, badEnd, h2kit } from './tools';

export interface Ctx {
  tools: Tools;
  quick: boolean;
  /** the case's own folder */
  dir: string;
  /** folder shared by the cases, for trees generated once */
  shared: string;
}

export interface Case {
  name: string;
  group: 'mkfs' | 'mkfs-root' | 'corpus' | 'reblock' | 'cleanup';
  /** also in --quick */
  quick: boolean;
  build: (c: Ctx) => Promise<Subject & { figures?: string }>;
}

const IMG = 'h2.img';
const SEED = 0x4832;

class CaseError extends Error {}
function must(p: string | null): void {
  if (p) throw new CaseError(p);
}

/** A tree generated once per run: its folder and its listing. */
const trees = new Map<string, { dir: string; listing: Listing }>();
function tree(c: Ctx, key: string, make: (dir: string) => void): { dir: string; listing: Listing } {
  let t = trees.get(key);
  if (!t) {
    const dir = path.join(c.shared, key);
    make(dir);
    t = { dir, listing: listDir(dir) };
    trees.set(key, t);
  }
  return t;
}
const oddTree = (c: Ctx) => tree(c, 'odd', (d) => generateTree(d, treeOptions(SEED, c.quick)));
/** The same cases at a smaller scale, for the cells of the compression × check matrix off its main row and column. */
const smallOddTree = (c: Ctx) => tree(c, 'odd-small', (d) => generateTree(d, { ...treeOptions(SEED, true), manyEntries: 300 }));
const anyByteTree = (c: Ctx) =>
  tree(c, 'anybyte', (d) => generateTree(d, { ...treeOptions(SEED + 1, true, 'any'), manyEntries: 10, depth: 3 }));
const symlinkTree = (c: Ctx) => tree(c, 'symlinks', (d) => generateSymlinkTree(d, SEED + 2, longSymlinkLengths(c.quick)));

/** Files of interleaved tiny, small and large sizes in one directory, for fragmenting by deletion. */
const FRAG_FILES = 240;
const fragTree = (c: Ctx) =>
  tree(c, 'frag', (d) => {
    const g = new Gen(SEED + 3);
    fs.mkdirSync(path.join(d, 'd'), { recursive: true });
    for (let i = 0; i < FRAG_FILES; i++) {
      const size = [g.int(100, 600), g.int(2000, 20000), g.int(70000, 300000)][i % 3];
      fs.writeFileSync(path.join(d, 'd', `f${i}`), g.contents(size));
    }
    fs.writeFileSync(path.join(d, 'keep'), g.contents(70000));
  });
/** The files deleted: about half of them, of every size, leaving every segment partly used. */
const fragDeleted = (i: number): boolean => i % 4 === 0 || i % 4 === 1;

function plainMkfs(name: string, args: string[], label = 'DATA', quick = false, prepare?: (img: string) => void): Case {
  return {
    name,
    group: 'mkfs',
    quick,
    build: async (c) => {
      prepare?.(path.join(c.dir, IMG));
      must(badEnd(h2kit(['mkfs', '--quiet', ...args, IMG], c.dir, path.join(c.dir, 'h2kit.log')), 'h2kit mkfs'));
      return { dir: c.dir, image: IMG, label, expected: new Map() };
    },
  };
}

function rootMkfs(name: string, comp: string, check: string, quick: boolean, src: (c: Ctx) => { dir: string; listing: Listing }): Case {
  return {
    name,
    group: 'mkfs-root',
    quick,
    build: async (c) => {
      const t = src(c);
      const args = ['mkfs', '--quiet', '-s', '1G', '--root', t.dir, '--compression', comp, '--check', check, IMG];
      must(badEnd(h2kit(args, c.dir, path.join(c.dir, 'h2kit.log')), 'h2kit mkfs --root'));
      const noMakefs = check === 'sha192' ? SHA192_NOTE : undefined;
      return { dir: c.dir, image: IMG, label: 'DATA', expected: t.listing, noMakefs, figures: noMakefs };
    },
  };
}

/**
 * The corpus starts from two reference images and one of our mkfs. The test suite's own image
 * uses sha192, which makefs r14 cannot read; here it is made with xxhash64 (the cases do not
 * depend on the check method).
 */
let corpus: Record<Source, string> | null = null;
function corpusSources(c: Ctx): Record<Source, string> {
  if (corpus) return corpus;
  const own = path.join(c.shared, 'corpus-own.img');
  const src = path.join(extracted('srctree.tar.gz'), 'srctree');
  const args = ['mkfs', '--quiet', '--size', '1G', '--root', src, '--compression', 'zlib', '--check', 'xxhash64', own];
  must(badEnd(h2kit(args, c.shared, path.join(c.shared, 'corpus-own.log')), 'h2kit mkfs of the corpus image'));
  const ref = (name: string): string => {
    const img = refImage(name);
    return path.join(img.dir, img.spec);
  };
  corpus = { lz4: ref('mk_lz4_xxhash64'), default: ref('mk_default'), own };
  return corpus;
}

function corpusCase(k: (typeof CORPUS)[number]): Case {
  return {
    name: `corpus_${k.code.toLowerCase()}`,
    group: 'corpus',
    quick: ['BLOCK_CHECK', 'FREEMAP_HOLE', 'DIRENT_DANGLING', 'LINK_COUNT'].includes(k.code),
    build: async (c) => {
      const from = corpusSources(c)[k.on];
      const img = path.join(c.dir, IMG);
      sparseCopy(from, img);
      const ed = new Editor(from);
      try {
        k.make(ed);
        ed.applyTo(img);
      } finally {
        ed.close();
      }
      const r = h2kit(['fsck', '-y', IMG], c.dir, path.join(c.dir, 'h2kit-fsck-y.log'));
      // fsck(8) bits: 0 clean, 1 corrected; anything else means it left problems or failed
      if (r.status !== 0 && r.status !== 1) throw new CaseError(`h2kit fsck -y exit ${r.status ?? r.signal}`);
      return { dir: c.dir, image: IMG, label: 'DATA', expected: listImage(img, 'DATA') };
    },
  };
}

/** What reblock and cleanup printed about their work, for the PASS line. */
function workFigures(out: string): string {
  const moved = /moved ([\d.]+ MiB in \d+ commits?)/.exec(out)?.[1];
  const seg = /segments freed: (\d+); partly filled (\d+ -> \d+)/.exec(out);
  const bulk = /bulkfree: (\d+) unreferenced granules freed/.exec(out)?.[1];
  return [bulk && `bulkfree ${bulk} granules`, moved && `moved ${moved}`, seg && `${seg[1]} segments freed, partly filled ${seg[2]}`].filter(Boolean).join(', ');
}

/** Builds the image to compact; gives the files it must hold afterwards (and, for fixtures, what fsck found in it before). */
type Fragmenter = (c: Ctx) => Promise<Listing | { expected: Listing; inherited: Set<string>; label: string }>;

/** h2kit formats, its own engine writes files and deletes half of them. */
const engineFragmented: Fragmenter = async (c) => {
  const img = path.join(c.dir, IMG);
  must(badEnd(h2kit(['mkfs', '--quiet', '-s', '1G', IMG], c.dir, path.join(c.dir, 'h2kit-mkfs.log')), 'h2kit mkfs'));
  await fragment(img, 120);
  return listImage(img, 'DATA');
};

/**
 * Half the files go through h2kit's engine (makefs's destroy cannot delete a file: by path it
 * leaves the inode orphaned, by inode number it finds nothing), then the kernel's bulkfree
 * rebuilds the freemap, so reblock starts from a freemap the kernel wrote.
 */
async function deleteHalf(c: Ctx, listing: Listing): Promise<Listing> {
  const img = path.join(c.dir, IMG);
  const s = await WriteSession.open(img, { purpose: 'interop' });
  try {
    const w = new FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    const d = w.resolve(pfs, 'd');
    for (let i = 0; i < FRAG_FILES; i++) if (fragDeleted(i)) w.unlink(pfs, d, Buffer.from(`f${i}`));
    s.commit();
  } finally {
    s.close();
  }
  must(badEnd(c.tools.bulkfree(IMG, 'DATA', c.dir, path.join(c.dir, 'kernel-bulkfree.log')), 'makefs -o B'));
  const left = new Map(listing);
  for (let i = 0; i < FRAG_FILES; i++) if (fragDeleted(i)) left.delete(Buffer.from(`d/f${i}`).toString('hex'));
  return left;
}

/** The fragmenting tree as the kernel code writes it (makefs), made once: it takes ~15 s. */
function kernelImage(c: Ctx): string {
  const made = path.join(c.shared, 'kernel-frag.img');
  if (!fs.existsSync(made)) {
    const r = c.tools.makefs('kernel-frag.img', fragTree(c).dir, [], c.shared, path.join(c.shared, 'kernel-makefs.log'));
    const bad = badEnd(r, 'makefs');
    if (bad) {
      fs.rmSync(made, { force: true });
      throw new CaseError(bad);
    }
  }
  return made;
}

/** The kernel writes the image (makefs); half the files are deleted. */
const kernelFragmented: Fragmenter = async (c) => {
  sparseCopy(kernelImage(c), path.join(c.dir, IMG));
  return deleteHalf(c, fragTree(c).listing);
};

/** The kernel writes the image and nothing is deleted (with --fill-level 100 reblock moves every block). */
const kernelWritten: Fragmenter = async (c) => {
  sparseCopy(kernelImage(c), path.join(c.dir, IMG));
  return fragTree(c).listing;
};

/** h2kit writes the image (mkfs --root); half the files are deleted. */
const mixedFragmented: Fragmenter = async (c) => {
  const t = fragTree(c);
  must(badEnd(h2kit(['mkfs', '--quiet', '-s', '1G', '--root', t.dir, IMG], c.dir, path.join(c.dir, 'h2kit-mkfs.log')), 'h2kit mkfs --root'));
  return deleteHalf(c, t.listing);
};

/**
 * Kernel-written fixture images (test/fixtures/kernel, the layout of the kernel fixture corpus:
 * NAME.img.tar.gz and NAME.tree.json), or another folder of the same layout in H2KIT_INTEROP_FIXTURES.
 */
export const FIXTURE_DIR = process.env.H2KIT_INTEROP_FIXTURES ?? path.resolve(__dirname, '../../test/fixtures/kernel');

export function fixtureNames(): string[] {
  if (!fs.existsSync(FIXTURE_DIR)) return [];
  return fs
    .readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.img.tar.gz') && fs.existsSync(path.join(FIXTURE_DIR, f.replace(/\.img\.tar\.gz$/, '.tree.json'))))
    .map((f) => f.replace(/\.img\.tar\.gz$/, ''))
    .sort();
}

interface TreeEntry {
  path?: string;
  path_hex?: string;
  type: string;
  size?: number;
  sha256?: string;
  pfs?: string;
}

/**
 * The fixture extracted as the case's image; the regular files its manifest lists. What h2kit
 * fsck finds in the fixture itself (after the same bulkfree) is recorded, so that only what
 * reblock or cleanup adds counts against them.
 */
function kernelFixture(name: string): Fragmenter {
  return async (c) => {
    execFileSync('tar', ['-xzf', path.join(FIXTURE_DIR, `${name}.img.tar.gz`), '-C', c.dir]);
    fs.renameSync(path.join(c.dir, `${name}.img`), path.join(c.dir, IMG));
    sparseCopy(path.join(c.dir, IMG), path.join(c.dir, 'before.img'));
    const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, `${name}.tree.json`), 'utf8')) as { entries: TreeEntry[] };
    // the kernel mounts one PFS: the manifest's first (DATA unless the image has lost it)
    const label = manifest.entries[0]?.pfs ?? 'DATA';
    must(badEnd(c.tools.bulkfree('before.img', label, c.dir, path.join(c.dir, 'before-bulkfree.log')), 'makefs -o B on the fixture'));
    const inherited = new Set(fsckCodes(h2kit(['fsck', '-n', 'before.img'], c.dir, path.join(c.dir, 'before-h2fsck.log')).out).codes);
    fs.rmSync(path.join(c.dir, 'before.img'));
    const out: Listing = new Map();
    for (const e of manifest.entries) {
      if (e.type !== 'file' || e.size === undefined || !e.sha256 || (e.pfs ?? 'DATA') !== label) continue;
      const bytes = e.path_hex !== undefined ? Buffer.from(e.path_hex, 'hex') : Buffer.from(e.path ?? '', 'utf8');
      // manifest paths start at the PFS root with '/'; listings have no leading slash
      out.set(bytes.subarray(bytes[0] === 0x2f ? 1 : 0).toString('hex'), { size: e.size, sha256: e.sha256 });
    }
    return { expected: out, inherited, label };
  };
}

function compaction(job: 'reblock' | 'cleanup', how: string, frag: Fragmenter, quick: boolean, extra: string[] = []): Case {
  return {
    name: `${job}_${how}`,
    group: job,
    quick,
    build: async (c) => {
      const made = await frag(c);
      const { expected, inherited, label } = made instanceof Map ? { expected: made, inherited: undefined, label: 'DATA' } : made;
      const log = path.join(c.dir, `h2kit-${job}.log`);
      const r = h2kit([job, ...extra, IMG], c.dir, log);
      must(badEnd(r, `h2kit ${job}`));
      const kept = inherited?.size ? `; h2kit fsck found ${[...inherited].join(', ')} in the fixture before` : '';
      return { dir: c.dir, image: IMG, label, expected, inherited, figures: workFigures(r.out) + kept };
    },
  };
}

const COMPRESSIONS = ['none', 'autozero', 'lz4', 'zlib'];
const CHECKS = ['none', 'disabled', 'crc32', 'xxhash64', 'sha192'];

export function allCases(): Case[] {
  const out: Case[] = [
    plainMkfs('mkfs_1g', ['-s', '1G'], 'DATA', true),
    plainMkfs('mkfs_v1', ['-s', '1G', '-V', '1']),
    plainMkfs('mkfs_10g', ['-s', '10G'], 'DATA', true),
    plainMkfs('mkfs_256m_file', [], 'DATA', false, (img) => {
      // no --size: mkfs takes the size of the existing file, below the 1 GiB floor of -s
      fs.writeFileSync(img, '');
      fs.truncateSync(img, 256 << 20);
    }),
    plainMkfs('mkfs_bootaux', ['-s', '2G', '-b', '16M', '-r', '48M']),
    plainMkfs('mkfs_labels', ['-s', '1G', '-L', 'ROOT', '-L', 'HOME', '-L', 'BUILD'], 'HOME'),
    plainMkfs('mkfs_labelnone', ['-s', '1G', '-L', 'none'], 'LOCAL'),
    {
      name: 'mkfs_multi',
      group: 'mkfs',
      quick: false,
      build: async (c) => {
        must(badEnd(h2kit(['mkfs', '--quiet', '-s', '1G:2G', 'vol0.img', 'vol1.img'], c.dir, path.join(c.dir, 'h2kit.log')), 'h2kit mkfs'));
        return { dir: c.dir, image: 'vol0.img:vol1.img', label: 'DATA', expected: new Map(), noMakefs: MULTI_NOTE, figures: MULTI_NOTE };
      },
    },
  ];
  // every compression with every check mode; --quick keeps the main row and column (the defaults)
  for (const comp of COMPRESSIONS) {
    for (const check of CHECKS) {
      const main = comp === 'lz4' || check === 'xxhash64';
      const quick = check === 'xxhash64' || (comp === 'lz4' && (check === 'crc32' || check === 'sha192'));
      out.push(rootMkfs(`root_${comp}_${check}`, comp, check, quick, main ? oddTree : smallOddTree));
    }
  }
  out.push(rootMkfs('root_zlib9_crc32', 'zlib:9', 'crc32', false, smallOddTree));
  out.push(rootMkfs('root_names_anybyte', 'lz4', 'xxhash64', true, anyByteTree));
  out.push(rootMkfs('root_symlinks_4k', 'lz4', 'xxhash64', true, symlinkTree));
  // the truncated-device cases cannot be repaired (fsck leaves them as they are, by design)
  for (const k of CORPUS) if (k.size === undefined) out.push(corpusCase(k));
  for (const job of ['reblock', 'cleanup'] as const) {
    out.push(compaction(job, 'h2frag', engineFragmented, job === 'reblock'));
    out.push(compaction(job, 'kfrag', kernelFragmented, true));
    out.push(compaction(job, 'mixed', mixedFragmented, false));
  }
  out.push(compaction('reblock', 'kernel_all', kernelWritten, false, ['--fill-level', '100']));
  for (const name of fixtureNames()) {
    out.push(compaction('reblock', `fixture_${name}`, kernelFixture(name), name === 'frag_bulkfree'));
    if (/frag|headers|snapshot/.test(name)) out.push(compaction('cleanup', `fixture_${name}`, kernelFixture(name), false));
  }
  return out;
}

export const truncatedCorpusCases = (): string[] => CORPUS.filter((k) => k.size !== undefined).map((k) => k.code);
export { CaseError };
