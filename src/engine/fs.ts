/**
 * The filesystem view on top of chains: PFSs under the super-root, inodes by number, directory
 * entries by name, and file contents.
 *
 * Current-format layout: the super-root inode holds one inode per PFS. A PFS root inode
 * (inum 1) indexes every inode of the PFS by inode number (keys below 2^63) and also holds the
 * root directory's entries (dirent keys, bit 63 set). Every other directory holds only dirents.
 * Indirect blocks may stand between any inode and its children.
 */
import { Blockref, brefBytes, embedDirent, emptyBlockref, keyEnd } from '../format/blockref';
import { hex64 } from '../format/bytes';
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  DIRHASH_LOMASK,
  KEY_MAX,
  OBJTYPE_DIRECTORY,
  OBJTYPE_SOFTLINK,
  OPFLAG_DIRECTDATA,
  PFS_ROOT_INUM,
} from '../format/constants';
import { dirhash } from '../format/dirhash';
import { FormatError } from '../format/errors';
import { Inode, decodeInode, inodeNameBytes } from '../format/inode';
import { ChainReader, describeBref } from './chain';
import { NotFoundError } from './errors';
import { MAX_TREE_DEPTH } from './guard';

export interface InodeRef {
  bref: Blockref;
  inode: Inode;
}

export interface Pfs extends InodeRef {
  name: string;
}

export interface DirEntry {
  name: Uint8Array;
  inum: bigint;
  type: number;
  key: bigint;
}

export class FsReader {
  constructor(readonly chains: ChainReader) {}

  /** Blockrefs of an inode's tree whose keys lie in [lo, hi], descending through indirect blocks. */
  *scan(parent: Blockref, lo: bigint, hi: bigint, depth = 0): Generator<Blockref> {
    if (depth > MAX_TREE_DEPTH) throw new FormatError(`${describeBref(parent)}: tree deeper than ${MAX_TREE_DEPTH} levels`);
    const data = parent.type === BREF_TYPE_VOLUME ? new Uint8Array(0) : this.chains.readVerified(parent);
    for (const child of this.chains.children(parent, data)) {
      if (child.type === 0) continue;
      const end = keyEnd(child);
      if (end < lo || child.key > hi) continue;
      if (child.type === BREF_TYPE_INDIRECT) yield* this.scan(child, lo, hi, depth + 1);
      else yield child;
    }
  }

  readInode(bref: Blockref): Inode {
    return decodeInode(this.chains.readVerified(bref));
  }

  /** The super-root inode. */
  superRoot(): InodeRef {
    const volume = { ...emptyBlockref(), type: BREF_TYPE_VOLUME };
    for (const b of this.scan(volume, 0n, 0n)) {
      if (b.type === BREF_TYPE_INODE) return { bref: b, inode: this.readInode(b) };
    }
    throw new FormatError('the volume header has no super-root inode');
  }

  /** Every PFS, in key order. */
  listPfs(): Pfs[] {
    const sroot = this.superRoot();
    const out: Pfs[] = [];
    for (const b of this.scan(sroot.bref, 0n, KEY_MAX)) {
      if (b.type !== BREF_TYPE_INODE) continue;
      const inode = this.readInode(b);
      out.push({ bref: b, inode, name: Buffer.from(inodeNameBytes(inode)).toString('utf8') });
    }
    return out;
  }

  findPfs(name: string): Pfs {
    const all = this.listPfs();
    const pfs = all.find((p) => p.name === name);
    if (!pfs) throw new NotFoundError(`no PFS named '${name}' (there are: ${all.map((p) => p.name).join(', ') || 'none'})`);
    return pfs;
  }

  /** The inode numbered `inum` in `pfs`. */
  lookupInum(pfs: Pfs, inum: bigint): InodeRef {
    if (inum === PFS_ROOT_INUM) return { bref: pfs.bref, inode: pfs.inode };
    for (const b of this.scan(pfs.bref, inum, inum)) {
      if (b.type === BREF_TYPE_INODE && b.key === inum) return { bref: b, inode: this.readInode(b) };
    }
    throw new NotFoundError(`PFS ${pfs.name}: no inode 0x${hex64(inum)}`);
  }

  /** The name held by a dirent: inline in the check area up to 64 bytes, else in its data block. */
  direntName(b: Blockref, verified?: Uint8Array): Uint8Array {
    const head = embedDirent(b);
    if (head.namlen <= b.check.length) return b.check.subarray(0, head.namlen);
    // `verified`: the name block as a walk already read and verified it
    const block = verified ?? this.chains.readVerified(b);
    if (block.length < head.namlen) throw new FormatError(`${describeBref(b)}: name of ${head.namlen} bytes in a ${brefBytes(b)}-byte block`);
    return block.subarray(0, head.namlen);
  }

  /** Entries of directory `dir` (in key order). */
  *readdir(dir: InodeRef): Generator<DirEntry> {
    for (const b of this.scan(dir.bref, 1n << 63n, KEY_MAX)) {
      if (b.type !== BREF_TYPE_DIRENT) continue;
      const head = embedDirent(b);
      yield { name: this.direntName(b), inum: head.inum, type: head.type, key: b.key };
    }
  }

  /** The entry `name` of directory `dir`, searching its hash-collision range. */
  lookupName(dir: InodeRef, name: Uint8Array): DirEntry | null {
    const hash = dirhash(name);
    for (const b of this.scan(dir.bref, hash, hash | DIRHASH_LOMASK)) {
      if (b.type !== BREF_TYPE_DIRENT) continue;
      const n = this.direntName(b);
      if (Buffer.compare(Buffer.from(n), Buffer.from(name)) === 0) {
        const head = embedDirent(b);
        return { name: n, inum: head.inum, type: head.type, key: b.key };
      }
    }
    return null;
  }

  /** Resolve a '/'-separated path from the PFS root. Symlinks are not followed. */
  resolvePath(pfs: Pfs, path: string): InodeRef {
    let cur: InodeRef = { bref: pfs.bref, inode: pfs.inode };
    const parts = path.split('/').filter((p) => p.length > 0 && p !== '.');
    for (let i = 0; i < parts.length; i++) {
      if (cur.inode.meta.type !== OBJTYPE_DIRECTORY) {
        throw new NotFoundError(`${pfs.name}:/${parts.slice(0, i).join('/')}: not a directory`);
      }
      const ent = this.lookupName(cur, Buffer.from(parts[i], 'utf8'));
      if (!ent) throw new NotFoundError(`${pfs.name}:/${parts.slice(0, i + 1).join('/')}: no such file or directory`);
      cur = this.lookupInum(pfs, ent.inum);
    }
    return cur;
  }

  /**
   * A file's stored extents as [offset, bytes], in key order, clipped to the file size. Holes
   * are never yielded; callers fill them (or leave them sparse). Lazy: one data block is read
   * per step, so a consumer that stops early reads no more.
   */
  *extents(ino: InodeRef): Generator<[bigint, Uint8Array]> {
    const size = ino.inode.meta.size;
    if (ino.inode.meta.opFlags & OPFLAG_DIRECTDATA) {
      const n = Number(size < BigInt(ino.inode.u.length) ? size : BigInt(ino.inode.u.length));
      if (n > 0) yield [0n, ino.inode.u.subarray(0, n)];
      return;
    }
    if (size === 0n) return;
    for (const b of this.scan(ino.bref, 0n, size - 1n)) {
      if (b.type !== BREF_TYPE_DATA) continue;
      const data = this.chains.readData(b);
      const avail = size - b.key;
      yield [b.key, avail < BigInt(data.length) ? data.subarray(0, Number(avail)) : data];
    }
  }

  /** `emit(offset, bytes)` for each stored extent (see `extents`). */
  readFile(ino: InodeRef, emit: (off: bigint, bytes: Uint8Array) => void): void {
    for (const [off, bytes] of this.extents(ino)) emit(off, bytes);
  }

  /** A symlink's target. */
  readlink(ino: InodeRef): Uint8Array {
    if (ino.inode.meta.type !== OBJTYPE_SOFTLINK) throw new FormatError(`inode 0x${hex64(ino.inode.meta.inum)} is not a symlink`);
    const out = Buffer.alloc(Number(ino.inode.meta.size));
    this.readFile(ino, (off, bytes) => out.set(bytes, Number(off)));
    return out;
  }
}
