/**
 * Pass 2, one walk over the volume and freemap trees. Every blockref is checked where it
 * stands (check code, type, radix, offset, key range and order, tids, sharing); on the way the
 * walk records what passes 3 and 4 need: the inodes and directory entries of each PFS, and the
 * statistics each inode and indirect block should carry.
 */
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_EMPTY,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  Blockref,
  DIRHASH_LOMASK,
  FREEMAP_LEVEL1_SIZE,
  INODE_MAXNAME,
  Inode,
  OBJTYPE_BDEV,
  OBJTYPE_CDEV,
  OBJTYPE_DIRECTORY,
  OBJTYPE_FIFO,
  OBJTYPE_REGFILE,
  OBJTYPE_SOCKET,
  OBJTYPE_SOFTLINK,
  OFF_MASK,
  OPFLAG_DIRECTDATA,
  PFSTYPE_CACHE,
  PFSTYPE_DUMMY,
  PFSTYPE_MASTER,
  PFSTYPE_NONE,
  PFSTYPE_SLAVE,
  PFSTYPE_SOFT_MASTER,
  PFSTYPE_SOFT_SLAVE,
  PFS_ROOT_INUM,
  RADIX_MAX,
  RADIX_MIN,
  ZONE_SEG,
  brefRadix,
  breftypeName,
  childStats,
  decodeInode,
  dirhash,
  embedDirent,
  embedStats,
  hex64,
  inodeNameBytes,
} from '../../format';
import { ChainReader, EXIT, FsReader, H2Error, Visit, addGranules, headerRootBref, walkTree } from '../../engine';
import { PfsFacts, noteEntry } from './facts';
import { Location, at, locate } from './location';
import { Problem, ProblemCode } from './problems';

/** The longest symlink target the kernel accepts (PATH_MAX on DragonFly). */
export const SYMLINK_MAX = 1024;

const KNOWN_BREF_TYPES = new Set([
  BREF_TYPE_INODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_FREEMAP_LEAF,
]);

export const INODE_TYPES = new Set([
  OBJTYPE_DIRECTORY,
  OBJTYPE_REGFILE,
  OBJTYPE_FIFO,
  OBJTYPE_CDEV,
  OBJTYPE_BDEV,
  OBJTYPE_SOFTLINK,
  OBJTYPE_SOCKET,
]);

const PFS_TYPES = new Set([PFSTYPE_NONE, PFSTYPE_CACHE, PFSTYPE_SLAVE, PFSTYPE_SOFT_SLAVE, PFSTYPE_SOFT_MASTER, PFSTYPE_MASTER, PFSTYPE_DUMMY]);

export type Report = (code: ProblemCode, loc: Location, detail?: string) => void;

export interface TopologyOptions {
  /** report problems inside this PFS only (the walk still covers everything) */
  pfs?: string;
  /** bytes read so far, for progress */
  progress?: (bytes: number) => void;
}

export interface TopologyResult {
  blockrefs: number;
  bytes: number;
  /** 16 KiB granules the volume topology uses */
  used: Set<bigint>;
  pfs: PfsFacts[];
  /** pass 4 findings on embed.stats, made during the walk */
  stats: Problem[];
}

const span = (keybits: number): bigint => (keybits >= 64 ? 1n << 64n : 1n << BigInt(keybits));

export function topologyPass(chains: ChainReader, add: (p: Problem) => void, opts: TopologyOptions = {}): TopologyResult {
  const total = chains.vols.totalSize;
  const fs = new FsReader(chains);
  const used = new Set<bigint>();
  const seen = new Map<bigint, bigint>();
  const pfsByKey = new Map<bigint, PfsFacts>();
  const stats: Problem[] = [];
  let blockrefs = 0;
  let bytes = 0;

  for (const root of [BREF_TYPE_VOLUME, BREF_TYPE_FREEMAP] as const) {
    for (const v of walkTree(chains, headerRootBref(chains, root), { readData: true })) {
      const b = v.bref;
      if (b.type === BREF_TYPE_VOLUME || b.type === BREF_TYPE_FREEMAP) continue;
      blockrefs++;
      // The inodes above this blockref: [] for the super-root, [sroot] for a PFS inode,
      // [sroot, pfs, ...] inside a PFS.
      const inodes = root === BREF_TYPE_VOLUME ? v.path.filter((p) => p.type === BREF_TYPE_INODE) : [];
      const pfs = inodes.length >= 2 ? pfsByKey.get(inodes[1].key) ?? null : null;
      const report: Report = (code, loc, detail = '') => {
        if (opts.pfs !== undefined && pfs && !pfs.selected) return;
        add({ code, ...loc, detail });
      };
      const loc = at(b);

      checkBlockref(v, root, total, report);
      const radix = brefRadix(b);
      if (radix !== 0 && root === BREF_TYPE_VOLUME) addGranules(used, b.dataOff, 1 << radix);
      // Data blocks may be shared (live dedup), and snapshots share metadata between PFSs;
      // metadata referenced twice inside one PFS is not allowed.
      if (radix !== 0 && b.type !== BREF_TYPE_DATA) {
        const pfsKey = inodes.length >= 2 ? inodes[1].key : -1n;
        const first = seen.get(b.dataOff);
        if (first === undefined) seen.set(b.dataOff, pfsKey);
        else if (first === pfsKey) report('BLOCK_SHARED', loc, 'twice in one PFS');
      }

      if (v.error) {
        report('BLOCK_READ', loc, v.error);
        continue;
      }
      if (v.check && !v.check.ok) {
        report('BLOCK_CHECK', loc, `stored ${v.check.stored}, computed ${v.check.computed}`);
        continue;
      }
      bytes += v.data.length;
      opts.progress?.(bytes);
      if (v.data.length === 0 && b.type !== BREF_TYPE_DIRENT) continue;

      let kids: Blockref[] = [];
      let inode: Inode | null = null;
      try {
        if (b.type === BREF_TYPE_INODE) inode = decodeInode(v.data);
        kids = chains.children(b, v.data);
      } catch (e) {
        report('BLOCK_READ', loc, (e as Error).message);
        continue;
      }
      checkOrder(kids, b, report);
      if (b.type === BREF_TYPE_INODE || b.type === BREF_TYPE_INDIRECT) checkStats(b, kids, inodes.length === 0 && b.type === BREF_TYPE_INODE, loc, stats, opts.pfs !== undefined && pfs !== null && !pfs.selected);
      if (root !== BREF_TYPE_VOLUME) continue;

      if (b.type === BREF_TYPE_INODE && inode) {
        if (inodes.length === 1) {
          const facts = pfsRoot(b, inode, report);
          facts.selected = opts.pfs === undefined || opts.pfs === facts.name;
          pfsByKey.set(b.key, facts);
        } else if (inodes.length === 2 && pfs) {
          inodeFacts(pfs, b, inode, report);
        } else if (inodes.length > 2) {
          report('CHILD_MISPLACED', loc, 'an inode below a file or directory inode (inodes belong to the PFS index)');
        }
      } else if (b.type === BREF_TYPE_DIRENT) {
        dirent(fs, pfs, inodes, b, report);
      } else if (b.type === BREF_TYPE_DATA) {
        const owner = inodes.length === 3 && pfs ? pfs.inodes.get(inodes[2].key) : undefined;
        if (!owner || owner.type === OBJTYPE_DIRECTORY) {
          report('CHILD_MISPLACED', loc, inodes.length < 3 ? 'file data under the super-root or a PFS root' : 'file data under a directory');
        } else if (b.key > owner.lastDataKey) {
          owner.lastDataKey = b.key;
        }
      }
    }
  }
  const list = [...pfsByKey.values()];
  if (opts.pfs !== undefined && !list.some((p) => p.selected)) {
    throw new PfsNotFound(opts.pfs, list.map((p) => p.name));
  }
  return { blockrefs, bytes, used, pfs: list, stats };
}

/** --pfs named no PFS: a usage error (fsck exit 16). */
export class PfsNotFound extends H2Error {
  constructor(name: string, names: string[]) {
    super(`--pfs: no PFS named '${name}' (there are: ${names.join(', ') || 'none'})`, EXIT.USAGE);
  }
}

function checkBlockref(v: Visit, root: number, total: bigint, report: Report): void {
  const b = v.bref;
  const loc = at(b);
  if (!KNOWN_BREF_TYPES.has(b.type)) report('BREF_TYPE', loc, String(b.type));
  const radix = brefRadix(b);
  if ((radix !== 0 && (radix < RADIX_MIN || radix > RADIX_MAX)) || (radix === 0 && b.type !== BREF_TYPE_DIRENT)) {
    report('BREF_RADIX', loc, String(radix));
  }
  if (radix !== 0) {
    const off = b.dataOff & OFF_MASK;
    if (off + (1n << BigInt(radix)) > total) report('BREF_OFF_OUTSIDE', loc);
    else if (root === BREF_TYPE_VOLUME && off % FREEMAP_LEVEL1_SIZE < ZONE_SEG) report('BREF_OFF_RESERVED', loc);
  }
  const parent = v.parent?.bref;
  if (parent && parent.type === BREF_TYPE_INDIRECT) {
    const end = b.key + span(b.keybits) - 1n;
    if (b.key < parent.key || end > parent.key + span(parent.keybits) - 1n) {
      report('BREF_KEY_RANGE', loc, `0x${hex64(parent.key)}/${parent.keybits}`);
    }
  }
  if (parent && parent.type !== BREF_TYPE_VOLUME && parent.type !== BREF_TYPE_FREEMAP && b.mirrorTid > parent.mirrorTid) {
    report('BREF_TID', loc, `0x${hex64(b.mirrorTid)} > 0x${hex64(parent.mirrorTid)}`);
  }
}

/** The live entries of a block table must be sorted by key without overlapping ranges. */
function checkOrder(kids: Blockref[], parent: Blockref, report: Report): void {
  let lastEnd = -1n;
  for (const k of kids) {
    if (k.type === BREF_TYPE_EMPTY) continue;
    if (k.key <= lastEnd) report('BREF_KEY_ORDER', at(k), `in ${breftypeName(parent.type)} 0x${hex64(parent.dataOff)}`);
    const end = k.key + span(k.keybits) - 1n;
    if (end > lastEnd) lastEnd = end;
  }
}

/**
 * embed.stats of an inode or indirect blockref: the sum over its children. The super-root's
 * blockref (newfs, makefs and the kernel agree) leaves out its PFS inodes' own blocks and counts
 * only what they carry.
 */
function checkStats(b: Blockref, kids: Blockref[], superRoot: boolean, loc: Location, out: Problem[], hidden: boolean): void {
  let dataCount = 0n;
  let inodeCount = 0n;
  for (const k of kids) {
    if (k.type === BREF_TYPE_EMPTY) continue;
    const c = superRoot ? embedStats(k) : childStats(k);
    dataCount += c.dataCount;
    inodeCount += c.inodeCount;
  }
  const st = embedStats(b);
  if (hidden || (st.dataCount === dataCount && st.inodeCount === inodeCount)) return;
  out.push({
    code: 'STATS_COUNT',
    ...loc,
    detail: `data ${st.dataCount} inodes ${st.inodeCount}, computed data ${dataCount} inodes ${inodeCount}`,
  });
}

function pfsRoot(b: Blockref, inode: Inode, report: Report): PfsFacts {
  const nameBytes = inodeNameBytes(inode);
  const name = Buffer.from(nameBytes).toString('utf8');
  const loc = at(b, `'${name}' (0x${hex64(b.dataOff)})`);
  const m = inode.meta;
  if (m.type !== OBJTYPE_DIRECTORY) report('PFS_ROOT', loc, `type ${m.type}, not a directory`);
  if (m.inum !== PFS_ROOT_INUM) report('PFS_ROOT', loc, `inode number 0x${hex64(m.inum)}, not 1`);
  if (!PFS_TYPES.has(m.pfsType)) report('PFS_ROOT', loc, `unknown PFS type ${m.pfsType}`);
  if (nameBytes.length === 0) report('PFS_ROOT', loc, 'no name');
  else if ((b.key & ~DIRHASH_LOMASK) !== dirhash(nameBytes)) report('PFS_ROOT', loc, `key 0x${hex64(b.key)} is not the hash of the name`);
  return { name, key: b.key, inodes: new Map(), refs: new Map(), selected: true };
}

function inodeFacts(pfs: PfsFacts, b: Blockref, inode: Inode, report: Report): void {
  const m = inode.meta;
  const loc = at(b, `${pfs.name}:0x${hex64(b.key)}`);
  if (m.inum !== b.key) report('INODE_KEY', loc, `inode number 0x${hex64(m.inum)}`);
  if (pfs.inodes.has(b.key)) {
    report('INODE_DUP', loc);
    return;
  }
  if (!INODE_TYPES.has(m.type)) report('INODE_TYPE', loc, String(m.type));
  if (m.mode & ~0o7777) report('INODE_MODE', loc, `0${m.mode.toString(8)}`);
  const direct = (m.opFlags & OPFLAG_DIRECTDATA) !== 0;
  if (direct && m.size > BigInt(inode.u.length)) report('FILE_EXTENT', loc, `size ${m.size} with data embedded in the inode (at most ${inode.u.length})`);
  if (m.type === OBJTYPE_SOFTLINK) {
    if (m.size === 0n) report('SYMLINK_BAD', loc, 'empty target');
    else if (m.size > BigInt(SYMLINK_MAX)) report('SYMLINK_BAD', loc, `target of ${m.size} bytes (at most ${SYMLINK_MAX})`);
    else if (direct && m.size <= BigInt(inode.u.length) && inode.u.subarray(0, Number(m.size)).includes(0)) report('SYMLINK_BAD', loc, 'NUL byte in the target');
  }
  pfs.inodes.set(b.key, { dataOff: b.dataOff, key: b.key, type: m.type, nlinks: m.nlinks, iparent: m.iparent, size: m.size, lastDataKey: -1n });
}

function dirent(fs: FsReader, pfs: PfsFacts | null, inodes: Blockref[], b: Blockref, report: Report): void {
  const head = embedDirent(b);
  const dirInum = inodes.length === 2 ? PFS_ROOT_INUM : inodes.length === 3 ? inodes[2].key : null;
  const owner = dirInum === null || !pfs ? undefined : dirInum === PFS_ROOT_INUM ? OBJTYPE_DIRECTORY : pfs.inodes.get(dirInum)?.type;
  const loc = at(b, `${pfs?.name ?? 'super-root'}:0x${hex64(dirInum ?? 0n)} key 0x${hex64(b.key)}`);
  if (!pfs || dirInum === null || owner !== OBJTYPE_DIRECTORY) {
    report('CHILD_MISPLACED', loc, 'a directory entry outside a directory');
    return;
  }
  if (head.namlen === 0 || head.namlen > INODE_MAXNAME - 1) {
    report('DIRENT_NAME', loc, `length ${head.namlen}`);
  } else {
    let name: Uint8Array | null = null;
    try {
      name = fs.direntName(b);
    } catch (e) {
      report('DIRENT_NAME', loc, (e as Error).message);
    }
    if (name) {
      if (name.includes(0) || name.includes(0x2f)) report('DIRENT_NAME', loc, 'a NUL or / in the name');
      const hash = dirhash(name);
      if ((b.key & ~DIRHASH_LOMASK) !== hash) report('DIRENT_HASH', loc, `hash 0x${hex64(hash)}`);
    }
  }
  noteEntry(pfs, head.inum, dirInum, head.type, b.dataOff, b.key);
}

export const locateInode = (pfs: PfsFacts, inum: bigint, dataOff: bigint): Location =>
  locate(BREF_TYPE_INODE, dataOff, inum, `${pfs.name}:0x${hex64(inum)}`);
