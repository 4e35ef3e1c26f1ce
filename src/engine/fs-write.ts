/**
 * Filesystem operations on a writing run: inodes, directory entries and file data, laid out
 * as the kernel lays them out in the current format.
 *
 * - A new inode goes under its PFS root keyed by its inode number; its name field holds the
 *   number in hex ("0x0000000000000400") and name_key the number, as the kernel writes them.
 * - A directory entry is a DIRENT blockref under its directory, keyed by the directory hash of
 *   its name (the next free key in the name's collision range); names of up to 64 bytes sit in
 *   the blockref, longer ones in a 1 KiB block.
 * - File data is cut into 64 KiB logical blocks (the last one smaller: the least power of two,
 *   at least 1 KiB, that holds it) and written as hammer2_write_file_core does: all-zero
 *   blocks become holes (autozero, or any compression when there is a check code); LZ4 and
 *   zlib output is kept when it fits half the block, in a power-of-two block of 1..32 KiB.
 *   Files of up to 512 bytes live in the inode (DIRECTDATA).
 */
import {
  ALLOC_MIN,
  CHECK_BYTES,
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  Blockref,
  COMP_NONE,
  DIRHASH_LOMASK,
  EMBEDDED_BYTES,
  INODE_BYTES,
  INODE_START,
  INODE_VERSION_ONE,
  OBJTYPE_DIRECTORY,
  OPFLAG_DIRECTDATA,
  PBUFRADIX,
  PBUFSIZE,
  SET_COUNT,
  decAlgo,
  decodeInode,
  dirhash,
  embedDirent,
  emptyBlockref,
  encCheck,
  encComp,
  makeDataOff,
  setEmbedDirent,
  isAllZero,
  keyEnd,
} from '../format';
import {
  PreparedSegment,
  compresses,
  logicalBlockBytes,
  nextHeuristic,
  packDataBlock,
  worthTrying,
  zerosBecomeHoles,
  zlibLevel,
} from './block-prep';
import { Chain, ChainTree } from './chain-tree';
import { H2Error, NotFoundError } from './errors';
import { WriteSession } from './write-session';

export interface NewInode {
  type: number;
  mode: number;
  uid?: Uint8Array;
  gid?: Uint8Array;
  /** microseconds */
  mtime: bigint;
  ctime?: bigint;
  atime?: bigint;
  rmajor?: number;
  rminor?: number;
  uflags?: number;
}

/** Names up to the check area's size sit in the dirent itself; longer ones get a block. */
const MAX_NAME_INLINE = CHECK_BYTES;
const DIRENT_BLOCK = ALLOC_MIN;

function blockref(type: number, key: bigint, keybits: number, bytes: number, methods: number): Blockref {
  const b = emptyBlockref();
  b.type = type;
  b.key = key;
  b.keybits = keybits;
  b.methods = methods;
  b.dataOff = bytes ? makeDataOff(0n, Math.log2(bytes)) : 0n;
  return b;
}

/** writeStream reads and writes a file this many bytes at a time (16 logical blocks). */
export const STREAM_CHUNK = 16 * PBUFSIZE;

export class FsWriter {
  private readonly tree: ChainTree;
  /** physical bytes of data blocks written by this writer */
  readonly stats = { dataBytes: 0 };

  constructor(private readonly s: WriteSession) {
    this.tree = s.tree;
  }

  /** The super-root inode's chain. */
  superRoot(): Chain {
    const root = this.tree.root;
    const i = root.table!.findIndex((x) => x.bref.type === BREF_TYPE_INODE);
    if (i < 0) throw new H2Error('the volume has no super-root');
    return this.tree.child(root, i);
  }

  /** The root inode chain of the PFS named `name`. */
  pfsRoot(name: string): Chain {
    const key = dirhash(Buffer.from(name, 'utf8'));
    const c = this.pfsRootAt(key);
    if (!c) throw new NotFoundError(`no PFS named '${name}'`);
    return c;
  }

  /** The root inode chain of the PFS whose inode has key `key` under the super-root, if any. */
  pfsRootAt(key: bigint): Chain | null {
    const f = this.tree.lookup(this.superRoot(), key, BREF_TYPE_INODE);
    return f.index < 0 ? null : this.tree.child(f.parent, f.index);
  }

  /** The inode chain numbered `inum` in `pfs`. */
  inodeChain(pfs: Chain, inum: bigint): Chain {
    if (inum === 1n) return pfs;
    const f = this.tree.lookup(pfs, inum, BREF_TYPE_INODE);
    if (f.index < 0) throw new NotFoundError(`no inode 0x${inum.toString(16)}`);
    return this.tree.child(f.parent, f.index);
  }

  /** Directory entry `name` of `dir`: its chain position and inode number. */
  findEntry(dir: Chain, name: Uint8Array): { parent: Chain; index: number; inum: bigint; type: number } | null {
    const hash = dirhash(name);
    // The whole collision range: a deleted entry can leave a gap before the one we want.
    for (const { parent, index } of this.tree.scanRange(dir, hash, hash | DIRHASH_LOMASK)) {
      const b = parent.table![index].bref;
      if (b.type !== BREF_TYPE_DIRENT) continue;
      if (Buffer.compare(Buffer.from(this.direntName(parent, index)), Buffer.from(name)) === 0) {
        const head = embedDirent(b);
        return { parent, index, inum: head.inum, type: head.type };
      }
    }
    return null;
  }

  direntName(parent: Chain, index: number): Uint8Array {
    const b = parent.table![index].bref;
    const n = embedDirent(b).namlen;
    if (n <= MAX_NAME_INLINE) return b.check.subarray(0, n);
    const c = this.tree.child(parent, index);
    return (c.bytes ?? this.s.chains.readVerified(b)).subarray(0, n);
  }

  /** Resolve a path from the PFS root; every component must be a directory until the last. */
  resolve(pfs: Chain, path: string): Chain {
    let cur = pfs;
    for (const part of path.split('/').filter((p) => p && p !== '.')) {
      const e = this.findEntry(cur, Buffer.from(part, 'utf8'));
      if (!e) throw new NotFoundError(`${path}: no such file or directory`);
      cur = this.inodeChain(pfs, e.inum);
    }
    return cur;
  }

  /** Allocate the next inode number of `pfs` (the PFS root's pfs_inum is the allocator). */
  private nextInum(pfs: Chain): bigint {
    const m = pfs.inode!.meta;
    let inum = m.pfsInum + 1n;
    if (inum < INODE_START) inum = INODE_START;
    m.pfsInum = inum;
    this.tree.setDirty(pfs);
    return inum;
  }

  /**
   * Create an inode in `dir` named `name`; returns its chain. `unique`: the caller knows `dir`
   * has no entry of that name (it fills a new directory from a listing), so none is looked for.
   */
  create(pfs: Chain, dir: Chain, name: Uint8Array, spec: NewInode, unique = false): Chain {
    if (dir.inode!.meta.type !== OBJTYPE_DIRECTORY) throw new H2Error('create: the parent is not a directory');
    if (name.length === 0 || name.length > 255) throw new H2Error(`create: a name of ${name.length} bytes`);
    if (!unique && this.findEntry(dir, name)) throw new H2Error(`create: '${Buffer.from(name).toString()}' exists`);
    const inum = this.nextInum(pfs);
    const d = dir.inode!.meta;
    const ino = decodeInode(new Uint8Array(INODE_BYTES));
    const m = ino.meta;
    const label = Buffer.from(`0x${inum.toString(16).padStart(16, '0')}`);
    ino.filenameRaw.set(label);
    m.nameLen = label.length;
    m.nameKey = inum;
    m.version = INODE_VERSION_ONE;
    m.type = spec.type;
    m.mode = spec.mode;
    m.inum = inum;
    m.iparent = d.inum;
    m.nlinks = 1n;
    m.mtime = spec.mtime;
    m.ctime = spec.ctime ?? spec.mtime;
    m.atime = spec.atime ?? 0n;
    m.uflags = spec.uflags ?? 0;
    m.rmajor = spec.rmajor ?? 0;
    m.rminor = spec.rminor ?? 0;
    if (spec.uid) m.uid = spec.uid;
    if (spec.gid) m.gid = spec.gid;
    m.compAlgo = d.compAlgo;
    m.checkAlgo = d.checkAlgo;
    ino.blockset = Array.from({ length: SET_COUNT }, () => emptyBlockref());
    const methods = encCheck(decAlgo(m.checkAlgo)) | encComp(decAlgo(m.compAlgo));
    const chain = new Chain(blockref(BREF_TYPE_INODE, inum, 0, INODE_BYTES, methods), null, true);
    chain.inode = ino;
    chain.table = ino.blockset.map((b) => ({ bref: b, chain: null }));
    this.tree.insert(pfs, chain.bref, chain);
    this.link(dir, name, inum, spec.type);
    return chain;
  }

  /** Add a directory entry `name` → `inum` to `dir` at the first free key of its hash range. */
  link(dir: Chain, name: Uint8Array, inum: bigint, type: number): void {
    const hash = dirhash(name);
    // One lookup per key tried (almost always one): cheaper than listing the whole range.
    let key = hash;
    while (this.tree.lookup(dir, key).index >= 0) {
      if ((key & DIRHASH_LOMASK) === DIRHASH_LOMASK) throw new H2Error('link: the name hash collision range is full');
      key++;
    }
    const meta = dir.inode!.meta;
    const inline = name.length <= MAX_NAME_INLINE;
    const b = blockref(BREF_TYPE_DIRENT, key, 0, inline ? 0 : DIRENT_BLOCK, encCheck(decAlgo(meta.checkAlgo)) | encComp(COMP_NONE));
    setEmbedDirent(b, { inum, namlen: name.length, type });
    if (inline) {
      b.check.fill(0);
      b.check.set(name, 0);
    } else {
      const block = new Chain(b, null, true);
      block.bytes = new Uint8Array(DIRENT_BLOCK);
      block.bytes.set(name);
      this.s.writeLeaf(block);
    }
    this.tree.insert(dir, b, null);
  }

  /** Write a whole file's contents (replacing nothing: the inode is new and empty). */
  writeContents(file: Chain, data: Uint8Array): void {
    const ino = file.inode!;
    const m = ino.meta;
    m.size = BigInt(data.length);
    this.tree.setDirty(file);
    if (data.length <= EMBEDDED_BYTES) {
      m.opFlags |= OPFLAG_DIRECTDATA;
      ino.u.fill(0);
      ino.u.set(data);
      file.table = null;
      ino.blockset = null;
      return;
    }
    this.writeBlocks(file, 0n, data);
  }

  /**
   * Write a file of `size` bytes from a reader, 1 MiB at a time (memory stays flat). With
   * `zerosAreHoles` (a sparse source), all-zero blocks stay holes whatever the compression.
   * The reader may hand back the same buffer each time: a chunk is written before the next read.
   */
  writeStream(file: Chain, size: bigint, read: (off: bigint, len: number) => Uint8Array, zerosAreHoles = false): void {
    if (size <= BigInt(EMBEDDED_BYTES)) {
      this.writeContents(file, read(0n, Number(size)));
      return;
    }
    this.beginStream(file, size);
    const state = { heuristic: 0 };
    for (let off = 0n; off < size; off += BigInt(STREAM_CHUNK)) {
      const n = size - off < BigInt(STREAM_CHUNK) ? Number(size - off) : STREAM_CHUNK;
      this.writeBlocks(file, off, read(off, n), state, zerosAreHoles);
    }
  }

  /** Size a new file of more than EMBEDDED_BYTES whose blocks follow (writeStream, writePrepared). */
  beginStream(file: Chain, size: bigint): void {
    file.inode!.meta.size = size;
    this.tree.setDirty(file);
  }

  /**
   * Write a segment a worker (or readSegment and prepareSegment here) made ready: `len` bytes
   * at `start` (64 KiB aligned), with its holes and the blocks already compressed. `state`
   * carries the compression count from the file's segment before.
   */
  writePrepared(file: Chain, start: bigint, len: number, seg: PreparedSegment, state: { heuristic: number }): void {
    this.writeBlocks(file, start, seg.data.subarray(0, len), state, false, seg);
  }

  /** Write `data` as the file's blocks from `start` (64 KiB aligned), each the kernel's way. */
  private writeBlocks(
    file: Chain,
    start: bigint,
    data: Uint8Array,
    state = { heuristic: 0 },
    zerosAreHoles = false,
    pre?: PreparedSegment,
  ): void {
    const m = file.inode!.meta;
    const check = decAlgo(m.checkAlgo);
    const policy = { compAlgo: m.compAlgo, checkAlgo: m.checkAlgo, zerosAreHoles };
    const mayHole = zerosBecomeHoles(policy);
    const tries = compresses(m.compAlgo);
    let heuristic = state.heuristic;
    for (let lbase = 0, i = 0; lbase < data.length; lbase += PBUFSIZE, i++) {
      const pblk = logicalBlockBytes(data.length - lbase);
      // A whole block is written straight from the caller's bytes (nothing keeps them after
      // writeLeaf); only a last, short block needs a zero-padded copy (a prepared segment
      // is padded already).
      let block: Uint8Array;
      if (pre || lbase + pblk <= data.length) {
        block = (pre ? pre.data : data).subarray(lbase, lbase + pblk);
      } else {
        block = new Uint8Array(pblk);
        block.set(data.subarray(lbase));
      }
      let phys: Uint8Array = block;
      let physComp = COMP_NONE;
      if (pre ? pre.holes[i] === 1 : mayHole && isAllZero(block)) continue; // a hole
      if (tries && worthTrying(heuristic)) {
        const made = pre?.packed[i];
        const packed = made !== undefined ? made : (packDataBlock(block, decAlgo(m.compAlgo), zlibLevel(m.compAlgo))?.phys ?? null);
        if (packed) {
          phys = packed;
          physComp = decAlgo(m.compAlgo);
        }
        heuristic = nextHeuristic(heuristic, packed !== null);
      }
      const b = blockref(BREF_TYPE_DATA, start + BigInt(lbase), PBUFRADIX, phys.length, encCheck(check) | encComp(physComp));
      const chain = new Chain(b, null, true);
      chain.bytes = phys;
      this.s.writeLeaf(chain);
      this.tree.insert(file, chain.bref, null);
      this.stats.dataBytes += phys.length;
    }
    state.heuristic = heuristic;
  }

  /**
   * Cut a file to `size` bytes (never longer): blocks past the end are released, the block
   * holding the new end is rewritten with its tail zeroed, a small enough file moves back
   * into its inode.
   */
  truncate(file: Chain, size: bigint): void {
    const ino = file.inode!;
    const m = ino.meta;
    if (size >= m.size) return;
    const keep = this.readRange(file, 0n, size <= BigInt(EMBEDDED_BYTES) ? size : 0n);
    // release every data block at or past the block holding the new end
    const lastBase = size & ~BigInt(PBUFSIZE - 1);
    const tail = size > lastBase ? this.readRange(file, lastBase, size - lastBase) : new Uint8Array(0);
    if (file.table) {
      for (const key of this.dataKeys(file, lastBase)) {
        const f = this.tree.lookup(file, key, BREF_TYPE_DATA);
        if (f.index >= 0) this.tree.remove(f.parent, f.index, this.s.freemap);
      }
    }
    m.size = lastBase;
    this.tree.setDirty(file);
    if (size <= BigInt(EMBEDDED_BYTES)) {
      m.opFlags |= OPFLAG_DIRECTDATA;
      ino.u.fill(0);
      ino.u.set(keep);
      ino.blockset = null;
      file.table = null;
      m.size = size;
      return;
    }
    if (tail.length > 0) this.writeBlocks(file, lastBase, tail);
    m.size = size;
  }

  /** Keys of the file's data blocks at or past `from`, through its indirect blocks. */
  private dataKeys(c: Chain, from: bigint): bigint[] {
    const out: bigint[] = [];
    (c.table ?? []).forEach((s, i) => {
      if (s.bref.type === BREF_TYPE_DATA && s.bref.key >= from) out.push(s.bref.key);
      else if (s.bref.type === BREF_TYPE_INDIRECT && keyEnd(s.bref) >= from) out.push(...this.dataKeys(this.tree.child(c, i), from));
    });
    return out;
  }

  /** `len` bytes of the file at `off`, holes as zeros (from this run's chains or the media). */
  private readRange(file: Chain, off: bigint, len: bigint): Uint8Array {
    const out = new Uint8Array(Number(len));
    if (len === 0n) return out;
    const m = file.inode!.meta;
    if (m.opFlags & OPFLAG_DIRECTDATA) {
      out.set(file.inode!.u.subarray(Number(off), Number(off + len)));
      return out;
    }
    for (let base = off & ~BigInt(PBUFSIZE - 1); base < off + len; base += BigInt(PBUFSIZE)) {
      const f = this.tree.lookup(file, base, BREF_TYPE_DATA);
      if (f.index < 0) continue;
      const b = f.parent.table![f.index].bref;
      const data = this.s.chains.readData(b);
      const from = off > base ? off - base : 0n;
      const to = off + len < base + BigInt(data.length) ? off + len - base : BigInt(data.length);
      if (to > from) out.set(data.subarray(Number(from), Number(to)), Number(base + from - off));
    }
    return out;
  }

  /** Write a finished inode (and its new blocks) now and drop it from memory (see ChainTree.writeOut). */
  finish(c: Chain): void {
    this.s.writeOut(c);
  }

  /**
   * Write out and drop the indirect blocks under `top` (an inode's index, as the PFS root's
   * index of inodes) that hold only finished entries and whose key range ends below `below`:
   * keys handed out in ascending order never reach them again, so their blockrefs are final
   * and memory keeps only the part of the index still being filled.
   */
  finishIndexBelow(top: Chain, below: bigint): void {
    /** true when nothing under `c` is still in memory */
    const settle = (c: Chain): boolean => {
      let settled = true;
      const table = c.table ?? [];
      for (let i = 0; i < table.length; i++) {
        const child = table[i].chain;
        if (!child) continue;
        if (child.bref.type === BREF_TYPE_INDIRECT && settle(child) && keyEnd(child.bref) < below && child.dirty) {
          this.s.writeOut(child);
          continue;
        }
        settled = false;
      }
      return settled;
    };
    settle(top);
  }

  /** Remove the entry `name` from `dir`; the inode goes when its last name does. */
  unlink(pfs: Chain, dir: Chain, name: Uint8Array): void {
    const e = this.findEntry(dir, name);
    if (!e) throw new NotFoundError(`unlink: no entry '${Buffer.from(name).toString()}'`);
    const target = this.inodeChain(pfs, e.inum);
    if (target.inode!.meta.type === OBJTYPE_DIRECTORY && target.table?.some((s) => s.bref.type !== 0)) {
      throw new H2Error(`unlink: directory '${Buffer.from(name).toString()}' is not empty`);
    }
    this.tree.remove(e.parent, e.index, this.s.freemap);
    const m = target.inode!.meta;
    m.nlinks = m.nlinks > 0n ? m.nlinks - 1n : 0n;
    if (m.nlinks === 0n || m.type === OBJTYPE_DIRECTORY) {
      const f = this.tree.lookup(pfs, m.inum, BREF_TYPE_INODE);
      this.tree.remove(f.parent, f.index, this.s.freemap);
    } else {
      this.tree.setDirty(target);
    }
  }

  /** Move entry `name` of `from` to `to` as `newName`. */
  rename(pfs: Chain, from: Chain, name: Uint8Array, to: Chain, newName: Uint8Array): void {
    const e = this.findEntry(from, name);
    if (!e) throw new NotFoundError(`rename: no entry '${Buffer.from(name).toString()}'`);
    if (this.findEntry(to, newName)) throw new H2Error(`rename: '${Buffer.from(newName).toString()}' exists`);
    this.tree.remove(e.parent, e.index, this.s.freemap);
    this.link(to, newName, e.inum, e.type);
    if (e.type === OBJTYPE_DIRECTORY) {
      const moved = this.inodeChain(pfs, e.inum);
      moved.inode!.meta.iparent = to.inode!.meta.inum;
      this.tree.setDirty(moved);
    }
  }
}

export { logicalBlockBytes, packDataBlock } from './block-prep';
