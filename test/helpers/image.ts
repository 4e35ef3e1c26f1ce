/** Opening an image for reading in tests, digests of its tree, and the reference source tree's listing. */
import { createHash } from 'node:crypto';
import { OBJTYPE_DIRECTORY, OBJTYPE_REGFILE } from '../../src/format';
import { ChainReader, FsReader, InodeRef, VolumeSet } from '../../src/engine';
import { refText } from './reference';

export interface OpenImage {
  fs: FsReader;
  chains: ChainReader;
  close: () => void;
}

export function openImage(img: string): OpenImage {
  const vols = VolumeSet.open(img);
  const chains = new ChainReader(vols);
  return { fs: new FsReader(chains), chains, close: () => vols.close() };
}

/**
 * Every name, size, mode and file content of the DATA PFS, as one digest (names sorted).
 * Entries named in `skip` are left out with what is below them.
 */
export function digestTree(fsr: FsReader, skip: string[] = []): string {
  const h = createHash('sha256');
  const pfs = fsr.findPfs('DATA');
  const walk = (dir: InodeRef, p: string): void => {
    for (const e of [...fsr.readdir(dir)].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))) {
      const name = Buffer.from(e.name).toString();
      if (skip.includes(name)) continue;
      const ino = fsr.lookupInum(pfs, e.inum);
      const q = `${p}/${name}`;
      h.update(`${q}:${ino.inode.meta.size}:${ino.inode.meta.mode}\n`);
      if (ino.inode.meta.type === OBJTYPE_DIRECTORY) walk(ino, q);
      else if (ino.inode.meta.type === OBJTYPE_REGFILE) fsr.readFile(ino, (off, bytes) => h.update(`${off}`).update(bytes));
    }
  };
  walk({ bref: pfs.bref, inode: pfs.inode }, '');
  return h.digest('hex');
}

/** A file's whole contents by path in the DATA PFS. */
export function readDataFile(r: FsReader, p: string): Buffer {
  const ino = r.resolvePath(r.findPfs('DATA'), p);
  const out = Buffer.alloc(Number(ino.inode.meta.size));
  r.readFile(ino, (off, b) => out.set(b, Number(off)));
  return out;
}

/** One entry of srctree.listing.json. */
export interface ListingEntry {
  path: string;
  type: string;
  mode: string;
  size?: number;
  sha256?: string;
  target?: string;
  mtime_ns: number;
  hardlink_group?: string | number;
}

export function srctreeListing(): ListingEntry[] {
  return JSON.parse(refText('srctree.listing.json').toString('utf8')).entries;
}
