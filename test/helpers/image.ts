/** Opening an image for reading in tests, and the reference source tree's listing. */
import { ChainReader, FsReader, VolumeSet } from '../../src/engine';
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
