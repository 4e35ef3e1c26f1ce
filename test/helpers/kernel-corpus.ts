/**
 * The kernel-written corpus in test/fixtures/kernel (docs/corpus.md): images that makefs made by
 * running the kernel's HAMMER2 code, with DragonFly's outputs and a manifest of the tree each holds.
 * Archives are extracted once into a cache shared by every test file, as reference.ts does.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsReader, InodeRef, Pfs } from '../../src/engine';
import { OBJTYPE_BDEV, OBJTYPE_CDEV, OBJTYPE_DIRECTORY, OBJTYPE_FIFO, OBJTYPE_REGFILE, OBJTYPE_SOCKET, OBJTYPE_SOFTLINK, uuidToUnixId } from '../../src/format';
import type { TreeEntry } from './odd-tree';

export type { TreeEntry } from './odd-tree';

export const KERNEL_DIR = path.resolve(__dirname, '../fixtures/kernel');
const CACHE = path.join(os.tmpdir(), 'h2kit-kernel-corpus-cache');

/** The PFS an entry without `pfs` belongs to (makefs populates DATA). */
export const DEFAULT_PFS = 'DATA';

/**
 * Findings that are true of a kernel-written image, by code and count. makefs's D=PATH is the
 * kernel's destroy ioctl, which removes a directory entry and leaves its inode in the inode
 * index: the 90 files frag_bulkfree destroyed are orphaned inodes, and fsck must say so
 * (DragonFly's fsck does not look). Every other image must check clean.
 */
export const TRUE_FINDINGS: Record<string, Record<string, number>> = {
  frag_bulkfree: { INODE_ORPHAN: 90 },
};

export interface MadeRecord {
  version: number;
  tools: string;
  steps: string[];
  notes: string;
  sha256: string;
}

/** Every image of the corpus, by name. */
export function kernelImageNames(): string[] {
  return fs
    .readdirSync(KERNEL_DIR)
    .filter((f) => f.endsWith('.img.tar.gz'))
    .map((f) => f.replace(/\.img\.tar\.gz$/, ''))
    .sort();
}

export function kernelFile(name: string, suffix: string): Buffer {
  return fs.readFileSync(path.join(KERNEL_DIR, `${name}.${suffix}`));
}

export function kernelFileExists(name: string, suffix: string): boolean {
  return fs.existsSync(path.join(KERNEL_DIR, `${name}.${suffix}`));
}

export function madeRecord(name: string): MadeRecord {
  return JSON.parse(kernelFile(name, 'made.json').toString('utf8')) as MadeRecord;
}

/**
 * The manifest of NAME, as the image is read back: a directory's link count is not part of it
 * (HAMMER2 keeps its own rule for directories), and a manifest that lists only the DATA PFS
 * leaves the others unchecked.
 */
export function treeManifest(name: string): TreeEntry[] {
  const doc = JSON.parse(kernelFile(name, 'tree.json').toString('utf8')) as { version: number; entries: TreeEntry[] };
  if (doc.version !== 1) throw new Error(`${name}.tree.json: version ${doc.version}, expected 1`);
  return doc.entries.map((e) => {
    if (e.type !== 'dir' || e.nlink === undefined) return e;
    const { nlink: _dirLinks, ...rest } = e;
    return rest;
  });
}

/** The PFSs a manifest speaks of (entries without `pfs` are in DATA). */
export function manifestPfs(entries: TreeEntry[]): Set<string> {
  return new Set(entries.map((e) => e.pfs ?? 'DATA'));
}

/**
 * Images whose own fsck_hammer2 run failed, with why; what DragonFly writes is valid all the
 * same (its checker reads every header copy, and growfs leaves the new zones' copies zeroed).
 */
export const DRAGONFLY_FSCK_FAILS: Record<string, string> = {
  fa_growfs_zeroed: 'growfs clears the header copies of the zones it adds: bad magic there',
};

export interface KernelImage {
  name: string;
  /** the folder holding NAME.img (the DragonFly tools ran from inside it) */
  dir: string;
  /** the image file name, as the tools were given it */
  spec: string;
  /** the full path of the image */
  file: string;
}

/** Extract NAME.img once (sparse) into the cache; the folder is keyed by the image's digest. */
export function kernelImage(name: string): KernelImage {
  const sha = madeRecord(name).sha256;
  const dir = path.join(CACHE, `${name}-${sha.slice(0, 16)}`);
  const spec = `${name}.img`;
  if (!fs.existsSync(path.join(dir, '.complete'))) {
    fs.mkdirSync(CACHE, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(CACHE, 'tmp-'));
    execFileSync('tar', ['-xzf', path.join(KERNEL_DIR, `${name}.img.tar.gz`), '-C', tmp], { stdio: ['ignore', 'ignore', 'ignore'] });
    fs.writeFileSync(path.join(tmp, '.complete'), '');
    try {
      fs.renameSync(tmp, dir);
    } catch {
      // another worker got there first; its copy is identical
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { name, dir, spec, file: path.join(dir, spec) };
}

/** A copy of the image that a test may write to (sparse, in `destDir`). */
export function kernelImageCopy(name: string, destDir: string): string {
  const out = path.join(destDir, `${name}.img`);
  execFileSync('cp', ['--sparse=always', kernelImage(name).file, out]);
  return out;
}


const TYPE_NAMES: Record<number, TreeEntry['type']> = {
  [OBJTYPE_DIRECTORY]: 'dir',
  [OBJTYPE_REGFILE]: 'file',
  [OBJTYPE_SOFTLINK]: 'symlink',
  [OBJTYPE_FIFO]: 'fifo',
  [OBJTYPE_CDEV]: 'chr',
  [OBJTYPE_BDEV]: 'blk',
  [OBJTYPE_SOCKET]: 'sock',
};

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** A regular file's bytes, holes as zeros. */
export function fileBytes(fsr: FsReader, ino: InodeRef): Buffer {
  const out = Buffer.alloc(Number(ino.inode.meta.size));
  fsr.readFile(ino, (off, b) => out.set(b, Number(off)));
  return out;
}

/**
 * What h2kit reads from every PFS of an image, in the shape of tree.json: every entry below each
 * PFS root, its type, mode, size, owner, link count (non-directories), content digest or target.
 */
export function imageManifest(fsr: FsReader): TreeEntry[] {
  const out: { key: Buffer; entry: TreeEntry }[] = [];
  const walk = (pfs: Pfs, dir: InodeRef, rel: Buffer): void => {
    for (const e of fsr.readdir(dir)) {
      const r = Buffer.concat([rel, Buffer.from('/'), Buffer.from(e.name)]);
      const ino = fsr.lookupInum(pfs, e.inum);
      const m = ino.inode.meta;
      const type = TYPE_NAMES[m.type] ?? 'sock';
      const entry: TreeEntry = {
        ...(isUtf8(r) ? { path: r.toString('utf8') } : { path_hex: r.toString('hex') }),
        pfs: pfs.name === DEFAULT_PFS ? undefined : pfs.name,
        type,
        mode: m.mode & 0o7777,
        size: type === 'dir' || type === 'fifo' ? 0 : Number(m.size),
        sha256: type === 'file' ? createHash('sha256').update(fileBytes(fsr, ino)).digest('hex') : undefined,
        target: type === 'symlink' ? Buffer.from(fsr.readlink(ino)).toString('latin1') : undefined,
        nlink: type === 'dir' ? undefined : Number(m.nlinks),
        uid: uuidToUnixId(m.uid),
        gid: uuidToUnixId(m.gid),
      };
      out.push({ key: Buffer.concat([Buffer.from(entry.pfs ?? ''), Buffer.from([0]), r]), entry });
      if (type === 'dir') walk(pfs, ino, r);
    }
  };
  for (const pfs of fsr.listPfs()) walk(pfs, { bref: pfs.bref, inode: pfs.inode }, Buffer.alloc(0));
  out.sort((a, b) => Buffer.compare(a.key, b.key));
  // through JSON so that absent fields compare equal to the manifest's
  return JSON.parse(JSON.stringify(out.map((x) => x.entry))) as TreeEntry[];
}
