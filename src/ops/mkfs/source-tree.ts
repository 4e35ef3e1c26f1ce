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

export function scanTree(root: string, skipUnreadable: boolean, policy: StoredAttrPolicy = {}): ScanResult {
  const entries: SourceEntry[] = [];
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

  const visit = (abs: Buffer, rel: string, name: Buffer, depth: number, st: fs.BigIntStats): void => {
    const type = typeOf(st);
    if (type === null) {
      problem(abs, 'unsupported file type');
      return;
    }
    if (type === OBJTYPE_REGFILE) {
      try {
        fs.accessSync(abs, fs.constants.R_OK);
      } catch (e) {
        problem(abs, (e as NodeJS.ErrnoException).code ?? 'unreadable');
        return;
      }
    }
    const [rmajor, rminor] = type === OBJTYPE_CDEV || type === OBJTYPE_BDEV ? devParts(st.rdev) : [0, 0];
    entries.push({
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
    });
    if (type !== OBJTYPE_DIRECTORY) return;
    let names: Buffer[];
    try {
      names = fs.readdirSync(abs, { encoding: 'buffer' });
    } catch (e) {
      problem(abs, (e as NodeJS.ErrnoException).code ?? 'unreadable directory');
      return;
    }
    names.sort(Buffer.compare);
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
      visit(childAbs, rel ? `${rel}/${name}` : name, n, depth + 1, cst);
    }
  };
  visit(Buffer.from(root), '', Buffer.alloc(0), 0, rootStat);
  countLinksInTree(entries);
  return { entries, skipped };
}

/**
 * A file's link count as the tree holds it: links from outside the tree are not copied, and
 * must not change how the copy is made (an inode with several names stays open until its last).
 */
function countLinksInTree(entries: SourceEntry[]): void {
  const names = new Map<string, number>();
  for (const e of entries) if (e.type !== OBJTYPE_DIRECTORY && e.nlink > 1) names.set(e.identity, (names.get(e.identity) ?? 0) + 1);
  for (const e of entries) if (e.type !== OBJTYPE_DIRECTORY && e.nlink > 1) e.nlink = names.get(e.identity)!;
}
