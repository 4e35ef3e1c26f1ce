/**
 * The filesystem view for library users: PFSs, lookups by path or number, directory listings
 * with printable names, and file contents as Node streams. Everything reads through an open
 * ReadSession, which must stay open until a stream has ended.
 */
import { Readable } from 'node:stream';
import { InodeRef, Pfs, ReadSession, H2Error } from '../engine';
import { OBJTYPE_DIRECTORY, OBJTYPE_REGFILE, hex64, objtypeName } from '../format';
import { choosePfs, findInode } from '../ops/dump/objects';

export interface DirectoryEntry {
  /** the name as UTF-8 text (bytes that are not UTF-8 become U+FFFD; see nameBytes) */
  name: string;
  /** the name exactly as stored */
  nameBytes: Uint8Array;
  inum: bigint;
  /** the inode type the entry records: 'DIR', 'REGFILE', 'SOFTLINK', ... */
  type: string;
  /** the entry's directory hash key */
  key: bigint;
}

/** Every PFS under the super-root, in key order. */
export function listPfs(s: ReadSession): Pfs[] {
  return s.fs.listPfs();
}

/** A PFS by name; without a name DATA, else the only one (NotFoundError otherwise). */
export function openPfs(s: ReadSession, name?: string): Pfs {
  return choosePfs(s, name);
}

/**
 * An inode by path from the PFS root ("/a/b"), or by number ("#1234", "0x4d2", "1234", or a
 * bigint). Symlinks are not followed. NotFoundError when nothing is there.
 */
export function lookup(s: ReadSession, pfs: Pfs, target: string | bigint): InodeRef {
  return typeof target === 'bigint' ? s.fs.lookupInum(pfs, target) : findInode(s, pfs, target);
}

/** The entries of a directory, in hash-key order (the on-disk order). */
export function listDirectory(s: ReadSession, dir: InodeRef): DirectoryEntry[] {
  if (dir.inode.meta.type !== OBJTYPE_DIRECTORY) throw new H2Error(`inode 0x${hex64(dir.inode.meta.inum)} is not a directory`);
  const out: DirectoryEntry[] = [];
  for (const e of s.fs.readdir(dir)) {
    out.push({ name: Buffer.from(e.name).toString('utf8'), nameBytes: Uint8Array.from(e.name), inum: e.inum, type: objtypeName(e.type), key: e.key });
  }
  return out;
}

/** A symlink's target, as UTF-8 text. */
export function readSymlink(s: ReadSession, ino: InodeRef): string {
  return Buffer.from(s.fs.readlink(ino)).toString('utf8');
}

const HOLE_CHUNK = 64 * 1024;

function* zeros(from: bigint, to: bigint): Generator<Buffer> {
  for (let pos = from; pos < to; ) {
    const n = to - pos < BigInt(HOLE_CHUNK) ? Number(to - pos) : HOLE_CHUNK;
    yield Buffer.alloc(n);
    pos += BigInt(n);
  }
}

/**
 * A regular file's contents as a byte stream, holes read as zeros, exactly `meta.size` bytes.
 * Blocks are read and verified as the stream is consumed; a read or check failure ends the
 * stream with that error. Close the session only after the stream has ended.
 */
export function readFileStream(s: ReadSession, ino: InodeRef): Readable {
  const m = ino.inode.meta;
  if (m.type !== OBJTYPE_REGFILE) throw new H2Error(`inode 0x${hex64(m.inum)} is a ${objtypeName(m.type)}, not a regular file`);
  function* chunks(): Generator<Buffer> {
    let pos = 0n;
    for (const [off, bytes] of s.fs.extents(ino)) {
      yield* zeros(pos, off);
      // a copy: the stream hands chunks on later, after the reader may have reused its buffers
      yield Buffer.from(bytes);
      pos = off + BigInt(bytes.length);
    }
    yield* zeros(pos, m.size);
  }
  return Readable.from(chunks(), { objectMode: false });
}
