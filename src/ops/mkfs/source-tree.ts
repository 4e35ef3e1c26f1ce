/**
 * Reading a source directory tree for `mkfs --root`: every entry with its type, mode, owner,
 * times and (for hardlinks) identity, in an order that never depends on readdir: names sorted
 * byte-wise, directories before their contents.
 */
import * as fs from 'node:fs';
import { EXIT, H2Error } from '../../engine/errors';
import {
  OBJTYPE_BDEV,
  OBJTYPE_CDEV,
  OBJTYPE_DIRECTORY,
  OBJTYPE_FIFO,
  OBJTYPE_REGFILE,
  OBJTYPE_SOCKET,
  OBJTYPE_SOFTLINK,
} from '../../format';

export interface SourceEntry {
  /**
   * path relative to the root ('' for the root itself), '/'-separated, one character per byte
   * (latin1): names need not be UTF-8, and two different names must never look alike here
   */
  rel: string;
  /** the name as bytes (as readdir gave it) */
  name: Buffer;
  /** the absolute path as bytes: the file system takes any byte but '/' and NUL in a name */
  abs: Buffer;
  type: number;
  /** permission and special bits (mode & 07777) */
  perm: number;
  uid: number;
  gid: number;
  size: bigint;
  /** microseconds */
  mtime: bigint;
  atime: bigint;
  ctime: bigint;
  /** device numbers of block and character devices */
  rmajor: number;
  rminor: number;
  /** dev:ino for hardlink detection */
  identity: string;
  /** names the file has inside the tree (links from outside it do not count) */
  nlink: number;
  /** bytes actually allocated (less than size for sparse files) */
  allocated: bigint;
  depth: number;
}

/** How a source's owner and times become the stored ones (reproducible runs). */
export interface StoredAttrPolicy {
  /** microseconds: a source time newer than this is stored as it (SOURCE_DATE_EPOCH) */
  clampTime?: bigint;
  /** every inode owned by this instead of the source's owner */
  owner?: { uid: number; gid: number };
}

/** The owner and times stored for a source stat under `policy`. */
export function storedAttrs(
  st: fs.BigIntStats,
  policy: StoredAttrPolicy,
): Pick<SourceEntry, 'uid' | 'gid' | 'mtime' | 'atime' | 'ctime'> {
  const clamp = (ns: bigint): bigint => {
    const us = ns / 1000n;
    return policy.clampTime !== undefined && us > policy.clampTime ? policy.clampTime : us;
  };
  return {
    uid: policy.owner?.uid ?? Number(st.uid),
    gid: policy.owner?.gid ?? Number(st.gid),
    mtime: clamp(st.mtimeNs),
    atime: clamp(st.atimeNs),
    ctime: clamp(st.ctimeNs),
  };
}

export interface ScanResult {
  entries: SourceEntry[];
  skipped: { path: string; reason: string }[];
}

function typeOf(st: fs.BigIntStats): number | null {
  if (st.isDirectory()) return OBJTYPE_DIRECTORY;
  if (st.isFile()) return OBJTYPE_REGFILE;
  if (st.isSymbolicLink()) return OBJTYPE_SOFTLINK;
  if (st.isFIFO()) return OBJTYPE_FIFO;
  if (st.isSocket()) return OBJTYPE_SOCKET;
  if (st.isCharacterDevice()) return OBJTYPE_CDEV;
  if (st.isBlockDevice()) return OBJTYPE_BDEV;
  return null;
}

/** Linux's dev_t split (glibc major/minor). */
function devParts(rdev: bigint): [number, number] {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return [major, minor];
}

const SLASH = Buffer.from('/');

/**
 * What a walk of the tree hands its consumer: each entry in order, and each directory again
 * once everything under it has been handed out (with how many entries it holds).
 */
export interface SourceSink {
  entry(e: SourceEntry): void;
  leave?(dir: SourceEntry, children: number): void;
}

/** Every entry of the tree, kept in memory (small trees and tests). */
export function scanTree(root: string, skipUnreadable: boolean, policy: StoredAttrPolicy = {}): ScanResult {
  const entries: SourceEntry[] = [];
  const skipped = walkSource(root, skipUnreadable, { entry: (e) => entries.push(e) }, policy);
  const links = new TreeLinks();
  for (const e of entries) links.add(e);
  for (const e of entries) e.nlink = links.namesOf(e);
  return { entries, skipped };
}

/**
 * Walk the tree depth first and hand each entry to `sink` as it is read: nothing is kept, so
 * memory does not grow with the tree. Returns what was left out (with `skipUnreadable`).
 */
export function walkSource(root: string, skipUnreadable: boolean, sink: SourceSink, policy: StoredAttrPolicy = {}): ScanResult['skipped'] {
  const skipped: ScanResult['skipped'] = [];
  let rootStat: fs.BigIntStats;
  try {
    rootStat = fs.lstatSync(root, { bigint: true });
  } catch (e) {
    throw new H2Error(`--root ${root}: ${(e as Error).message}`, EXIT.CANNOT_OPEN);
  }
  if (!rootStat.isDirectory()) throw new H2Error(`--root ${root}: not a directory`, EXIT.USAGE);

  const problem = (abs: Buffer, why: string): void => {
    const p = abs.toString('utf8');
    if (!skipUnreadable) throw new H2Error(`${p}: cannot be read (${why}); use --skip-unreadable to leave it out`, EXIT.FAILURE);
    skipped.push({ path: p, reason: why });
  };

  /** True when the entry was handed out. */
  const visit = (abs: Buffer, rel: string, name: Buffer, depth: number, st: fs.BigIntStats): boolean => {
    const type = typeOf(st);
    if (type === null) {
      problem(abs, 'unsupported file type');
      return false;
    }
    if (type === OBJTYPE_REGFILE) {
      try {
        fs.accessSync(abs, fs.constants.R_OK);
      } catch (e) {
        problem(abs, (e as NodeJS.ErrnoException).code ?? 'unreadable');
        return false;
      }
    }
    const [rmajor, rminor] = type === OBJTYPE_CDEV || type === OBJTYPE_BDEV ? devParts(st.rdev) : [0, 0];
    const entry: SourceEntry = {
      rel,
      name,
      abs,
      type,
      perm: Number(st.mode & 0o7777n),
      ...storedAttrs(st, policy),
      size: type === OBJTYPE_DIRECTORY ? 0n : st.size,
      rmajor,
      rminor,
      identity: `${st.dev}:${st.ino}`,
      nlink: Number(st.nlink),
      allocated: st.blocks * 512n,
      depth,
    };
    sink.entry(entry);
    if (type !== OBJTYPE_DIRECTORY) return true;
    let names: Buffer[];
    try {
      names = fs.readdirSync(abs, { encoding: 'buffer' });
    } catch (e) {
      problem(abs, (e as NodeJS.ErrnoException).code ?? 'unreadable directory');
      sink.leave?.(entry, 0);
      return true;
    }
    names.sort(Buffer.compare);
    let children = 0;
    for (const n of names) {
      const childAbs = Buffer.concat([abs, SLASH, n]);
      let cst: fs.BigIntStats;
      try {
        cst = fs.lstatSync(childAbs, { bigint: true });
      } catch (e) {
        problem(childAbs, (e as NodeJS.ErrnoException).code ?? 'unreadable');
        continue;
      }
      const name = n.toString('latin1');
      if (visit(childAbs, rel ? `${rel}/${name}` : name, n, depth + 1, cst)) children++;
    }
    sink.leave?.(entry, children);
    return true;
  };
  visit(Buffer.from(root), '', Buffer.alloc(0), 0, rootStat);
  return skipped;
}

/**
 * A file's link count as the tree holds it: links from outside the tree are not copied, and
 * must not change how the copy is made (an inode with several names stays open until its last).
 * Only files the source says have several names are counted, so this stays small.
 */
export class TreeLinks {
  private readonly names = new Map<string, number>();

  add(e: SourceEntry): void {
    if (e.type !== OBJTYPE_DIRECTORY && e.nlink > 1) this.names.set(e.identity, (this.names.get(e.identity) ?? 0) + 1);
  }

  /** how many names `e` has inside the tree (1 for a file no other name shares) */
  namesOf(e: SourceEntry): number {
    return e.type !== OBJTYPE_DIRECTORY && e.nlink > 1 ? this.names.get(e.identity) ?? 1 : e.type === OBJTYPE_DIRECTORY ? e.nlink : 1;
  }
}
