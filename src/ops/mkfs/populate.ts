/**
 * `mkfs --root DIR`: copy a directory tree into a new filesystem's PFS through the engine, in
 * one commit. Every file type is kept: regular files (in the inode up to 512 bytes, sparse
 * files with their holes), directories, symlinks, hardlinks (one inode, its link count),
 * FIFOs, sockets and devices; with modes, owners and times.
 */
import * as fs from 'node:fs';
import { BlockPool, Chain, EXIT, FsWriter, H2Error, STREAM_CHUNK, WriteSession } from '../../engine';
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
  EMBEDDED_BYTES,
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

/**
 * Source bytes read ahead and not yet placed: the walk stops to place blocks when it is
 * ahead by this much (a worker's answer holds the raw and the compressed blocks, so memory
 * for data stays under about twice this).
 */
const READ_AHEAD_BYTES = 4 << 20;
/** Entries the walk may be ahead of the writer (each a small object and a closure). */
const READ_AHEAD_ENTRIES = 512;

/** Steps already run are cut from the front of the queue once there are this many (and half). */
const STEPS_COMPACT_AT = 4096;

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

  const pool = new BlockPool();
  /**
   * The writer's steps, in walk order. The walk hands file segments to the pool as it meets
   * them and queues the steps that place them; running the steps strictly in order keeps the
   * allocation order, so the image is the same with any number of workers.
   */
  const steps: (() => void)[] = [];
  let next = 0;
  const runOne = (): void => {
    const step = steps[next];
    steps[next++] = undefined as unknown as () => void;
    if (next >= STEPS_COMPACT_AT && next * 2 >= steps.length) {
      steps.splice(0, next);
      next = 0;
    }
    step();
  };
  // without workers nothing is gained by running ahead: each step runs as it is queued
  const aheadBytes = pool.size > 0 ? READ_AHEAD_BYTES : -1;
  const aheadEntries = pool.size > 0 ? READ_AHEAD_ENTRIES : 0;
  const queue = (step: () => void): void => {
    steps.push(step);
    while (next < steps.length && (pool.inflightBytes > aheadBytes || steps.length - next > aheadEntries)) runOne();
  };
  /** identities of multiply-linked inodes the walk has met: later names need no data */
  const met = new Set<string>();
  const policy = { compAlgo: algos.comp, checkAlgo: algos.check };

  /** The entry's inode (or its extra name); returns the new chain, null for an extra name. */
  const begin = (e: SourceEntry): Chain | null => {
    if (e.depth === 0) {
      rm.mode = e.perm;
      rm.mtime = e.mtime;
      Object.assign(rm, owner(e));
      session.tree.setDirty(pfs);
      return null;
    }
    const dir = dirs[e.depth - 1];
    const prior = e.type !== OBJTYPE_DIRECTORY && e.nlink > 1 ? linked.get(e.identity) : undefined;
    if (prior) {
      w.link(dir, e.name, prior.inum, prior.type);
      const target = w.inodeChain(pfs, prior.inum);
      target.inode!.meta.nlinks += 1n;
      session.tree.setDirty(target);
      summary.hardlinks++;
      return null;
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
      case OBJTYPE_REGFILE:
        summary.files++;
        summary.bytesIn += e.size;
        break;
      case OBJTYPE_SOFTLINK:
        w.writeContents(chain, fs.readlinkSync(e.abs, { encoding: 'buffer' }));
        summary.symlinks++;
        break;
      default:
        summary.others++;
    }
    return chain;
  };
  /** After the entry's data: write it out and let it go. */
  const end = (e: SourceEntry, chain: Chain): void => {
    // A finished non-directory is written now so memory does not grow with the tree.
    if (e.type !== OBJTYPE_DIRECTORY && !(e.nlink > 1)) w.finish(chain);
    // and so is the part of the inode index that only finished inodes fill
    if (++created % INDEX_SETTLE_EVERY === 0) w.finishIndexBelow(pfs, rm.pfsInum + 1n);
    progress?.({ files: summary.files + summary.directories + summary.symlinks + summary.others, bytes: summary.bytesIn });
  };

  const entry = (e: SourceEntry): void => {
    // links from outside the tree are not copied: they must not change how the copy is made
    if (source.links && e.type !== OBJTYPE_DIRECTORY) e.nlink = source.links.namesOf(e);
    const extraName = e.type !== OBJTYPE_DIRECTORY && e.nlink > 1 && met.has(e.identity);
    if (e.type !== OBJTYPE_DIRECTORY && e.nlink > 1) met.add(e.identity);
    if (e.type !== OBJTYPE_REGFILE || extraName) {
      queue(() => {
        const chain = begin(e);
        if (chain) end(e, chain);
      });
      return;
    }
    // A regular file: its segments go to the pool now, the steps that place them queue up.
    let chain: Chain | null = null;
    const size = e.size;
    const job = { path: e.abs, policy: { ...policy, zerosAreHoles: e.allocated < size } };
    if (size <= BigInt(EMBEDDED_BYTES)) {
      if (size > 0n) pool.submit({ ...job, off: 0, len: Number(size), heuristic: null, blocks: false });
      queue(() => {
        chain = begin(e)!;
        w.writeContents(chain, size > 0n ? pool.take().data.subarray(0, Number(size)) : new Uint8Array(0));
        end(e, chain);
      });
      return;
    }
    queue(() => {
      chain = begin(e)!;
      w.beginStream(chain, size);
    });
    const state = { heuristic: 0 };
    for (let off = 0n; off < size; off += BigInt(STREAM_CHUNK)) {
      const len = size - off < BigInt(STREAM_CHUNK) ? Number(size - off) : STREAM_CHUNK;
      const at = off;
      pool.submit({ ...job, off: Number(off), len, heuristic: off === 0n ? 0 : null, blocks: true });
      queue(() => w.writePrepared(chain!, at, len, pool.take(), state));
    }
    queue(() => end(e, chain!));
  };
  // Nothing is added to a directory once the walk has left it: it is written out and dropped.
  const leave = (d: SourceEntry): void => {
    if (d.depth === 0) return;
    queue(() => {
      w.finish(dirs[d.depth]);
      dirs.length = d.depth;
    });
  };
  try {
    summary.skipped = walkSource(source.dir, source.skipUnreadable, { entry, leave }, source.attrs);
    while (next < steps.length) runOne();
  } finally {
    pool.close();
  }
  summary.bytesStored = BigInt(w.stats.dataBytes);
  return summary;
}
