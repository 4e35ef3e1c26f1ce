/**
 * `mkfs --root DIR`: copy a directory tree into a new filesystem's PFS through the engine, in
 * one commit. Every file type is kept: regular files (in the inode up to 512 bytes, sparse
 * files with their holes), directories, symlinks, hardlinks (one inode, its link count),
 * FIFOs, sockets and devices; with modes, owners and times.
 */
import * as fs from 'node:fs';
import { Chain, EXIT, FsWriter, H2Error, WriteSession } from '../../engine';
import {
  COMP_AUTOZERO,
  COMP_LZ4,
  COMP_NONE,
  COMP_ZLIB,
  CHECK_DISABLED,
  CHECK_ISCSI32,
  CHECK_NONE,
  CHECK_SHA192,
  CHECK_XXHASH64,
  OBJTYPE_DIRECTORY,
  OBJTYPE_REGFILE,
  OBJTYPE_SOFTLINK,
  uuidFromUnixId,
} from '../../format';
import { SourceEntry, StoredAttrPolicy, TreeLinks, walkSource } from './source-tree';

export interface Algorithms {
  /** the inode comp_algo byte: algorithm, level in the high nibble */
  comp: number;
  check: number;
}

export const COMPRESSIONS: Record<string, number> = { none: COMP_NONE, autozero: COMP_AUTOZERO, lz4: COMP_LZ4, zlib: COMP_ZLIB };
export const CHECKS: Record<string, number> = {
  none: CHECK_NONE,
  disabled: CHECK_DISABLED,
  crc32: CHECK_ISCSI32,
  xxhash64: CHECK_XXHASH64,
  sha192: CHECK_SHA192,
};

/** "lz4", "zlib", "zlib:9", "none", "autozero" → the comp_algo byte. */
export function parseCompression(text: string): number {
  const [name, level] = text.toLowerCase().split(':');
  const algo = COMPRESSIONS[name];
  if (algo === undefined) throw new H2Error(`--compression: '${text}' is not none, autozero, lz4 or zlib[:level]`, EXIT.USAGE);
  if (level === undefined) return algo;
  const l = Number(level);
  if (algo !== COMP_ZLIB || !Number.isInteger(l) || l < 1 || l > 9) {
    throw new H2Error(`--compression: only zlib takes a level, 1 to 9 ('${text}')`, EXIT.USAGE);
  }
  return algo | (l << 4);
}

export function parseCheck(text: string): number {
  const c = CHECKS[text.toLowerCase()];
  if (c === undefined) throw new H2Error(`--check: '${text}' is not none, disabled, crc32, xxhash64 or sha192`, EXIT.USAGE);
  return c;
}

export interface PopulateSummary {
  files: number;
  directories: number;
  symlinks: number;
  others: number;
  hardlinks: number;
  bytesIn: bigint;
  bytesStored: bigint;
  skipped: { path: string; reason: string }[];
}

export interface PopulateProgress {
  (done: { files: number; bytes: bigint }): void;
}

/** Source reads go through one buffer: the writer consumes each chunk before the next read. */
const READ_CHUNK = 1 << 20;
const readBuffer = Buffer.allocUnsafe(READ_CHUNK);

function readerOf(abs: Buffer): { read: (off: bigint, len: number) => Uint8Array; close: () => void } {
  const fd = fs.openSync(abs, 'r');
  return {
    read: (off, len) => {
      const b = len <= READ_CHUNK ? readBuffer.subarray(0, len) : Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fd, b, got, len - got, Number(off) + got);
        if (n === 0) break; // the file shrank while we read it: the rest stays zero
        got += n;
      }
      b.fill(0, got);
      return b;
    },
    close: () => fs.closeSync(fd),
  };
}

/** Inodes created between two passes that write out the settled part of the PFS's inode index. */
const INDEX_SETTLE_EVERY = 1024;

/** The tree `mkfs --root` copies: read again, entry by entry, as it is written. */
export interface SourceSpec {
  dir: string;
  skipUnreadable: boolean;
  /** owner and time clamping of the copied inodes (reproducible runs) */
  attrs?: StoredAttrPolicy;
  /** names per multiply-linked file inside the tree, from the measuring walk */
  links?: TreeLinks;
}

/**
 * Copy the tree into PFS `pfsName` as it is walked: each file is written and dropped as soon
 * as it is read, and each directory once its contents are, so memory follows the depth of the
 * tree, not its size. (Inodes with more than one name stay until the end: a later name adds
 * to their link count.)
 *
 * `fixedAtime`: reading the tree changes its access times, so a reproducible run (with
 * SOURCE_DATE_EPOCH) stores this instead of the source atime.
 */
export function populate(
  session: WriteSession,
  pfsName: string,
  source: SourceSpec,
  algos: Algorithms,
  progress?: PopulateProgress,
  fixedAtime?: bigint,
): PopulateSummary {
  const w = new FsWriter(session);
  const pfs = w.pfsRoot(pfsName);
  const summary: PopulateSummary = { files: 0, directories: 0, symlinks: 0, others: 0, hardlinks: 0, bytesIn: 0n, bytesStored: 0n, skipped: [] };
  const owner = (e: SourceEntry) => ({ uid: uuidFromUnixId(e.uid), gid: uuidFromUnixId(e.gid) });

  const rm = pfs.inode!.meta;
  rm.compAlgo = algos.comp;
  rm.checkAlgo = algos.check;
  /** the directory chain at each depth of the walk: the parent of an entry is one above it */
  const dirs: Chain[] = [pfs];
  const linked = new Map<string, { inum: bigint; type: number }>();
  let created = 0;

  const entry = (e: SourceEntry): void => {
    // links from outside the tree are not copied: they must not change how the copy is made
    if (source.links && e.type !== OBJTYPE_DIRECTORY) e.nlink = source.links.namesOf(e);
    if (e.depth === 0) {
      rm.mode = e.perm;
      rm.mtime = e.mtime;
      Object.assign(rm, owner(e));
      session.tree.setDirty(pfs);
      return;
    }
    const dir = dirs[e.depth - 1];
    const prior = e.type !== OBJTYPE_DIRECTORY && e.nlink > 1 ? linked.get(e.identity) : undefined;
    if (prior) {
      w.link(dir, e.name, prior.inum, prior.type);
      const target = w.inodeChain(pfs, prior.inum);
      target.inode!.meta.nlinks += 1n;
      session.tree.setDirty(target);
      summary.hardlinks++;
      return;
    }
    const chain = w.create(pfs, dir, e.name, {
      type: e.type,
      mode: e.perm,
      mtime: e.mtime,
      ctime: e.ctime,
      atime: fixedAtime ?? e.atime,
      rmajor: e.rmajor,
      rminor: e.rminor,
      ...owner(e),
    }, true);
    const inum = chain.inode!.meta.inum;
    if (e.type !== OBJTYPE_DIRECTORY && e.nlink > 1) linked.set(e.identity, { inum, type: e.type });
    switch (e.type) {
      case OBJTYPE_DIRECTORY:
        dirs[e.depth] = chain;
        summary.directories++;
        break;
      case OBJTYPE_REGFILE: {
        const src = readerOf(e.abs);
        try {
          w.writeStream(chain, e.size, src.read, e.allocated < e.size);
        } finally {
          src.close();
        }
        summary.files++;
        summary.bytesIn += e.size;
        break;
      }
      case OBJTYPE_SOFTLINK:
        w.writeContents(chain, fs.readlinkSync(e.abs, { encoding: 'buffer' }));
        summary.symlinks++;
        break;
      default:
        summary.others++;
    }
    // A finished non-directory is written now so memory does not grow with the tree.
    if (e.type !== OBJTYPE_DIRECTORY && !(e.nlink > 1)) w.finish(chain);
    // and so is the part of the inode index that only finished inodes fill
    if (++created % INDEX_SETTLE_EVERY === 0) w.finishIndexBelow(pfs, rm.pfsInum + 1n);
    progress?.({ files: summary.files + summary.directories + summary.symlinks + summary.others, bytes: summary.bytesIn });
  };
  // Nothing is added to a directory once the walk has left it: it is written out and dropped.
  const leave = (d: SourceEntry): void => {
    if (d.depth === 0) return;
    w.finish(dirs[d.depth]);
    dirs.length = d.depth;
  };
  summary.skipped = walkSource(source.dir, source.skipUnreadable, { entry, leave }, source.attrs);
  summary.bytesStored = BigInt(w.stats.dataBytes);
  return summary;
}
