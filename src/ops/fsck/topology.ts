/**
 * Pass 2, one walk over the volume and freemap trees. Every blockref is checked where it
 * stands (check code, type, radix, offset, key range and order, tids, sharing); on the way the
 * walk records what passes 3 and 4 need: the inodes and directory entries of each PFS, and the
 * statistics each inode and indirect block should carry.
 */
import { Blockref, EmbedStats, brefRadix, childStats, embedDirent, embedStats, keyEnd } from '../../format/blockref';
import { hex64 } from '../../format/bytes';
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_EMPTY,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  DIRHASH_LOMASK,
  FREEMAP_LEVEL1_SIZE,
  INODE_MAXNAME,
  INODE_OBJTYPES,
  MODE_PERM_MASK,
  BREF_TYPES_ON_MEDIA,
  INODE_BYTES,
  EMBEDDED_BYTES,
  SET_COUNT,
  PFS_TYPES,
  OBJTYPE_DIRECTORY,
  OBJTYPE_SOFTLINK,
  OFF_MASK,
  OPFLAG_DIRECTDATA,
  PFS_ROOT_INUM,
  RADIX_MAX,
  RADIX_MIN,
  ZONE_SEG,
} from '../../format/constants';
import { dirhash } from '../../format/dirhash';
import { INODE_U_OFF, Inode, InodeMeta, META, decodeInode, inodeBlockset, inodeNameBytes } from '../../format/inode';
import { breftypeName } from '../../format/names';
import { ChainReader } from '../../engine/chain';
import { READ_AHEAD_BYTES } from '../../engine/device';
import { EXIT, H2Error } from '../../engine/errors';
import { FsReader } from '../../engine/fs';
import { NumberIndex } from '../../engine/number-index';
import { addGranules } from '../../engine/verify';
import { Visit, headerRootBref, walkTree } from '../../engine/walk';
import { undecodable } from './compressed';
import { PfsFacts, newPfsFacts, noteEntry } from './facts';
import { Location, Target, at, locate } from './location';
import { Problem, ProblemCode } from './problems';

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
  /** the granules of those blocks newer than freemap_tid (what recovery would mark) */
  recent: Set<bigint>;
  /**
   * blockrefs of the volume topology newer than freemap_tid, with storage or not: any makes
   * the kernel run its recovery scan at mount (and it asserts on an inline one)
   */
  newerThanFreemap: number;
  pfs: PfsFacts[];
  /** pass 4 findings on embed.stats, made during the walk */
  stats: Problem[];
}


export function topologyPass(chains: ChainReader, add: (p: Problem) => void, opts: TopologyOptions = {}): TopologyResult {
  const total = chains.vols.totalSize;
  const fs = new FsReader(chains);
  const used = new Set<bigint>();
  const recent = new Set<bigint>();
  let newerThanFreemap = 0;
  const freemapTid = chains.header.freemapTid;
  // metadata block (data_off, size radix included) → the PFS that first referenced it: 1 + its
  // ordinal in pfsOrdinal, 0 when not yet seen. Blocks are numbered by offset in the index the
  // walks' guards share (Number keys, exact below 2^53); the first size met at an offset is
  // kept beside, and the rare other sizes at that offset go to `otherSizes`, keyed by data_off.
  // sized from the inodes the super-root's stats count (one inode block each), so the index
  // need not grow while the walk fills it
  const expectedBlocks = sizeHint(chains.header.srootBlockset.reduce((n, k) => n + (k.type === BREF_TYPE_EMPTY ? 0n : embedStats(k).inodeCount), 0n), total);
  const blocks = new NumberIndex(expectedBlocks);
  let firstOwner: Uint32Array = new Uint32Array(expectedBlocks + 1024);
  let firstRadix: Uint8Array = new Uint8Array(expectedBlocks + 1024);
  const otherSizes = new Map<number, number>();
  const pfsOrdinal = new Map<bigint, number>();
  const pfsByKey = new Map<bigint, PfsFacts>();
  const stats: Problem[] = [];
  let blockrefs = 0;
  let bytes = 0;

  // siblings share their path array: the inodes on it are found once per parent
  const inodesByPath = new WeakMap<readonly Blockref[], Blockref[]>();
  const inodesOn = (path: readonly Blockref[]): Blockref[] => {
    let list = inodesByPath.get(path);
    if (!list) inodesByPath.set(path, (list = path.filter((p) => p.type === BREF_TYPE_INODE)));
    return list;
  };

  for (const root of [BREF_TYPE_VOLUME, BREF_TYPE_FREEMAP] as const) {
    for (const v of walkTree(chains, headerRootBref(chains, root), { readData: true, readAhead: READ_AHEAD_BYTES, blocks })) {
      const b = v.bref;
      if (b.type === BREF_TYPE_VOLUME || b.type === BREF_TYPE_FREEMAP) continue;
      blockrefs++;
      // The inodes above this blockref: [] for the super-root, [sroot] for a PFS inode,
      // [sroot, pfs, ...] inside a PFS.
      const inodes = root === BREF_TYPE_VOLUME ? inodesOn(v.path) : [];
      const pfs = inodes.length >= 2 ? pfsByKey.get(inodes[1].key) ?? null : null;
      const report: Report = (code, loc, detail = '') => {
        if (opts.pfs !== undefined && pfs && !pfs.selected) return;
        add({ code, ...loc, detail, target: loc.target ?? (root === BREF_TYPE_VOLUME ? targetOf(inodes, b) : undefined) });
      };
      const placed = checkBlockref(v, root, total, report);
      const radix = brefRadix(b);
      if (root === BREF_TYPE_VOLUME && b.type !== BREF_TYPE_VOLUME && b.mirrorTid > freemapTid) newerThanFreemap++;
      // A block outside the volumes or in a reserved segment is its own error, not a freemap hole.
      if (radix !== 0 && root === BREF_TYPE_VOLUME && placed) {
        addGranules(used, b.dataOff, 1 << radix);
        if (b.mirrorTid > freemapTid) addGranules(recent, b.dataOff, 1 << radix);
      }
      // Data blocks may be shared (live dedup), and snapshots share metadata between PFSs;
      // metadata referenced twice inside one PFS is not allowed.
      if (radix !== 0 && b.type !== BREF_TYPE_DATA) {
        const pfsKey = inodes.length >= 2 ? inodes[1].key : -1n;
        let owner = pfsOrdinal.get(pfsKey);
        if (owner === undefined) pfsOrdinal.set(pfsKey, (owner = pfsOrdinal.size + 1));
        const slot = blocks.intern(Number(b.dataOff & OFF_MASK));
        if (slot >= firstOwner.length) {
          firstOwner = grown(firstOwner, slot + 1);
          firstRadix = grown(firstRadix, slot + 1);
        }
        let first: number | undefined;
        if (firstOwner[slot] === 0) {
          firstOwner[slot] = owner;
          firstRadix[slot] = radix;
        } else if (firstRadix[slot] === radix) {
          first = firstOwner[slot];
        } else {
          first = otherSizes.get(Number(b.dataOff));
          if (first === undefined) otherSizes.set(Number(b.dataOff), owner);
        }
        if (first === owner) report('BLOCK_SHARED', at(b), 'twice in one PFS');
      }

      if (v.error) {
        report('BLOCK_READ', at(b), v.error);
        continue;
      }
      if (v.check && !v.check.ok) {
        report('BLOCK_CHECK', at(b), `stored ${v.check.stored}, computed ${v.check.computed}`);
        continue;
      }
      const undecoded = b.type === BREF_TYPE_DATA ? undecodable(b, v.data) : null;
      if (undecoded) report('BLOCK_DECODE', at(b), undecoded);
      bytes += v.data.length;
      opts.progress?.(bytes);
      if (v.data.length === 0 && b.type !== BREF_TYPE_DIRENT) continue;

      let kids: Blockref[] = [];
      let inode: InodeFields | null = null;
      try {
        if (b.type === BREF_TYPE_INODE) {
          // the blockset, and only the fields the checks read (a full decode copies 1 KiB)
          kids = inodeBlockset(v.data);
          inode = inodeFields(v.data);
        } else {
          kids = chains.children(b, v.data);
        }
      } catch (e) {
        report('BLOCK_READ', at(b), (e as Error).message);
        continue;
      }
      v.kids = kids;
      checkOrder(kids, b, b.type === BREF_TYPE_INODE ? [...inodes, b] : inodes, report);
      if (b.type === BREF_TYPE_INODE || b.type === BREF_TYPE_INDIRECT) {
        checkStats(b, kids, inodes.length === 0 && b.type === BREF_TYPE_INODE, stats, opts.pfs !== undefined && pfs !== null && !pfs.selected, targetOf(inodes, b));
      }
      if (root !== BREF_TYPE_VOLUME) continue;

      if (b.type === BREF_TYPE_INODE && inode) {
        if (inodes.length === 1) {
          const facts = pfsRoot(b, decodeInode(v.data), report, sizeHint(embedStats(b).inodeCount, total));
          facts.selected = opts.pfs === undefined || opts.pfs === facts.name;
          pfsByKey.set(b.key, facts);
        } else if (inodes.length === 2 && pfs) {
          inodeFacts(pfs, b, inode, report);
        } else if (inodes.length > 2) {
          report('CHILD_MISPLACED', at(b), 'an inode below a file or directory inode (inodes belong to the PFS index)');
        }
      } else if (b.type === BREF_TYPE_DIRENT) {
        dirent(fs, pfs, inodes, b, v.data, report);
      } else if (b.type === BREF_TYPE_DATA) {
        const t = pfs?.table;
        const owner = inodes.length === 3 && t ? t.slotOf(inodes[2].key) : -1;
        if (!t || !t.hasInode(owner) || t.type[owner] === OBJTYPE_DIRECTORY) {
          report('CHILD_MISPLACED', at(b), inodes.length < 3 ? 'file data under the super-root or a PFS root' : 'file data under a directory');
        } else {
          t.noteData(owner, b.key);
        }
      }
    }
  }
  const list = [...pfsByKey.values()];
  if (opts.pfs !== undefined && !list.some((p) => p.selected)) {
    throw new PfsNotFound(opts.pfs, list.map((p) => p.name));
  }
  return { blockrefs, bytes, used, recent, newerThanFreemap, pfs: list, stats };
}

function grown<T extends Uint32Array | Uint8Array>(a: T, atLeast: number): T {
  const out = new (a.constructor as new (n: number) => T)(Math.max(atLeast, a.length * 2));
  out.set(a);
  return out;
}

/** Tables are sized from counts at most this large; beyond, they grow as they fill. */
const MAX_SIZE_HINT = 1 << 22;

/**
 * A table size from an inode count the stats claim: no more than the inode blocks the volumes
 * could hold (damaged stats must not reserve absurd memory), nor MAX_SIZE_HINT.
 */
function sizeHint(inodes: bigint, total: bigint): number {
  const most = total / BigInt(INODE_BYTES);
  const n = inodes < most ? inodes : most;
  return n > BigInt(MAX_SIZE_HINT) ? MAX_SIZE_HINT : Number(n);
}

/** --pfs named no PFS: a usage error (fsck exit 16). */
export class PfsNotFound extends H2Error {
  constructor(name: string, names: string[]) {
    super(`--pfs: no PFS named '${name}' (there are: ${names.join(', ') || 'none'})`, EXIT.USAGE);
  }
}

/** Checks one blockref where it stands; false when its block lies outside the allocatable space. */
function checkBlockref(v: Visit, root: number, total: bigint, report: Report): boolean {
  const b = v.bref;
  const loc = (): Location => at(b);
  if (!BREF_TYPES_ON_MEDIA.has(b.type)) report('BREF_TYPE', loc(), String(b.type));
  const radix = brefRadix(b);
  if ((radix !== 0 && (radix < RADIX_MIN || radix > RADIX_MAX)) || (radix === 0 && b.type !== BREF_TYPE_DIRENT)) {
    report('BREF_RADIX', loc(), String(radix));
  }
  let placed = true;
  if (radix !== 0) {
    const off = b.dataOff & OFF_MASK;
    if (off + (1n << BigInt(radix)) > total) {
      report('BREF_OFF_OUTSIDE', loc());
      placed = false;
    } else if (root === BREF_TYPE_VOLUME && off % FREEMAP_LEVEL1_SIZE < ZONE_SEG) {
      report('BREF_OFF_RESERVED', loc());
      placed = false;
    }
  }
  const parent = v.parent?.bref;
  if (parent && parent.type === BREF_TYPE_INDIRECT) {
    if (b.key < parent.key || keyEnd(b) > keyEnd(parent)) {
      report('BREF_KEY_RANGE', loc(), `0x${hex64(parent.key)}/${parent.keybits}`);
    }
  }
  if (parent && parent.type !== BREF_TYPE_VOLUME && parent.type !== BREF_TYPE_FREEMAP && b.mirrorTid > parent.mirrorTid) {
    report('BREF_TID', loc(), `0x${hex64(b.mirrorTid)} > 0x${hex64(parent.mirrorTid)}`);
  }
  return placed;
}

/**
 * The live entries of a block table must be sorted by key without overlapping ranges. When they
 * are not, the entries blamed are the fewest whose removal leaves the rest in order (the
 * complement of the longest ordered chain), so one damaged key does not accuse its neighbours.
 */
function checkOrder(kids: Blockref[], parent: Blockref, kidInodes: Blockref[], report: Report): void {
  const live = kids.filter((k) => k.type !== BREF_TYPE_EMPTY);
  let sorted = true;
  for (let i = 1; i < live.length && sorted; i++) if (live[i].key <= keyEnd(live[i - 1])) sorted = false;
  if (sorted) return;
  // longest chain i1 < i2 < ... with key(i_{j+1}) > end(i_j); n is at most a table's 512 entries
  const n = live.length;
  const best = new Array<number>(n).fill(1);
  const prev = new Array<number>(n).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (live[i].key > keyEnd(live[j]) && best[j] + 1 > best[i]) {
        best[i] = best[j] + 1;
        prev[i] = j;
      }
    }
  }
  let last = 0;
  for (let i = 1; i < n; i++) if (best[i] > best[last]) last = i;
  const keep = new Set<number>();
  for (let i = last; i >= 0; i = prev[i]) keep.add(i);
  for (let i = 0; i < n; i++) {
    if (keep.has(i)) continue;
    const k = live[i];
    report('BREF_KEY_ORDER', { ...at(k), target: targetOf(kidInodes, k) }, `in ${breftypeName(parent.type)} 0x${hex64(parent.dataOff)}`);
  }
}

/**
 * embed.stats of an inode or indirect blockref: the sum over its children.
 *
 * The super-root's blockref has two valid forms. newfs and makefs write it without its PFS
 * inodes' own blocks (only what they carry), and so does our commit. The kernel then moves it
 * by each child's full share as it inserts and deletes entries, which keeps newfs's offset
 * forever: the kernel's form is the full sum less one inode block per PFS that newfs made
 * (none to SET_COUNT of them), whatever happened to those PFSs later (created or snapshotted
 * PFSs count in full; deleting a newfs PFS takes its full share off).
 */
function checkStats(b: Blockref, kids: Blockref[], superRoot: boolean, out: Problem[], hidden: boolean, target: Target): void {
  let dataCount = 0n;
  let inodeCount = 0n;
  let fullData = 0n;
  let fullInodes = 0n;
  for (const k of kids) {
    if (k.type === BREF_TYPE_EMPTY) continue;
    const c = superRoot ? embedStats(k) : childStats(k);
    dataCount += c.dataCount;
    inodeCount += c.inodeCount;
    const f = childStats(k);
    fullData += f.dataCount;
    fullInodes += f.inodeCount;
  }
  const st = embedStats(b);
  if (hidden || (st.dataCount === dataCount && st.inodeCount === inodeCount)) return;
  if (superRoot && kernelSuperRootStats(st, { dataCount: fullData, inodeCount: fullInodes })) return;
  out.push({
    code: 'STATS_COUNT',
    ...at(b),
    target,
    detail: `data ${st.dataCount} inodes ${st.inodeCount}, computed data ${dataCount} inodes ${inodeCount}`,
  });
}

/** The kernel's form of the super-root's stats: the full sum less 0 to SET_COUNT PFS inode blocks. */
export function kernelSuperRootStats(st: EmbedStats, full: EmbedStats): boolean {
  const uncounted = full.inodeCount - st.inodeCount;
  return uncounted >= 0n && uncounted <= BigInt(SET_COUNT) && full.dataCount - st.dataCount === uncounted * BigInt(INODE_BYTES);
}

function pfsRoot(b: Blockref, inode: Inode, report: Report, expected: number): PfsFacts {
  const nameBytes = inodeNameBytes(inode);
  const name = Buffer.from(nameBytes).toString('utf8');
  const loc = at(b, `'${name}' (0x${hex64(b.dataOff)})`);
  const m = inode.meta;
  if (m.type !== OBJTYPE_DIRECTORY) report('PFS_ROOT', loc, `type ${m.type}, not a directory`);
  if (m.inum !== PFS_ROOT_INUM) report('PFS_ROOT', loc, `inode number 0x${hex64(m.inum)}, not 1`);
  if (!PFS_TYPES.has(m.pfsType)) report('PFS_ROOT', loc, `unknown PFS type ${m.pfsType}`);
  if (nameBytes.length === 0) report('PFS_ROOT', loc, 'no name');
  else if ((b.key & ~DIRHASH_LOMASK) !== dirhash(nameBytes)) report('PFS_ROOT', loc, `key 0x${hex64(b.key)} is not the hash of the name`);
  return newPfsFacts(name, b.key, expected);
}

/** What the checks of an inode inside a PFS read: a few meta fields, and a view of its union. */
interface InodeFields {
  meta: Pick<InodeMeta, 'inum' | 'type' | 'opFlags' | 'mode' | 'size' | 'nlinks' | 'iparent'>;
  u: Uint8Array;
}

/** The fields, from an inode block of at least INODE_BYTES (inodeBlockset checked the length). */
function inodeFields(data: Uint8Array): InodeFields {
  const v = new DataView(data.buffer, data.byteOffset, INODE_BYTES);
  const u64 = (o: number): bigint => v.getBigUint64(o, true);
  return {
    meta: {
      inum: u64(META.inum),
      type: v.getUint8(META.type),
      opFlags: v.getUint8(META.opFlags),
      mode: v.getUint32(META.mode, true),
      size: u64(META.size),
      nlinks: u64(META.nlinks),
      iparent: u64(META.iparent),
    },
    u: data.subarray(INODE_U_OFF, INODE_U_OFF + EMBEDDED_BYTES),
  };
}

function inodeFacts(pfs: PfsFacts, b: Blockref, inode: InodeFields, report: Report): void {
  const m = inode.meta;
  const loc = (): Location => at(b, () => `${pfs.name}:0x${hex64(b.key)}`);
  if (m.inum !== b.key) report('INODE_KEY', loc(), `inode number 0x${hex64(m.inum)}`);
  if (pfs.inodes.has(b.key)) {
    report('INODE_DUP', loc());
    return;
  }
  if (!INODE_OBJTYPES.has(m.type)) report('INODE_TYPE', loc(), String(m.type));
  if (m.mode & ~MODE_PERM_MASK) report('INODE_MODE', loc(), `0${m.mode.toString(8)}`);
  const direct = (m.opFlags & OPFLAG_DIRECTDATA) !== 0;
  if (direct && m.size > BigInt(inode.u.length)) report('FILE_EXTENT', loc(), `size ${m.size} with data embedded in the inode (at most ${inode.u.length})`);
  if (m.type === OBJTYPE_SOFTLINK) {
    // No upper limit: the kernel stores whatever target it is given as file data (makefs on
    // Linux writes targets up to 4095 bytes); MAXPATHLEN only limits what DragonFly resolves.
    if (m.size === 0n) report('SYMLINK_BAD', loc(), 'empty target');
    else if (direct && m.size <= BigInt(inode.u.length) && inode.u.subarray(0, Number(m.size)).includes(0)) report('SYMLINK_BAD', loc(), 'NUL byte in the target');
  }
  pfs.table.addInode({ dataOff: b.dataOff, key: b.key, type: m.type, nlinks: m.nlinks, iparent: m.iparent, size: m.size, lastDataKey: -1n });
}

function dirent(fs: FsReader, pfs: PfsFacts | null, inodes: Blockref[], b: Blockref, data: Uint8Array, report: Report): void {
  const head = embedDirent(b);
  const dirInum = inodes.length === 2 ? PFS_ROOT_INUM : inodes.length === 3 ? inodes[2].key : null;
  const owner = dirInum === null || !pfs ? undefined : dirInum === PFS_ROOT_INUM ? OBJTYPE_DIRECTORY : inodeType(pfs, dirInum);
  const loc = (): Location => at(b, () => `${pfs?.name ?? 'super-root'}:0x${hex64(dirInum ?? 0n)} key 0x${hex64(b.key)}`);
  if (!pfs || dirInum === null || owner !== OBJTYPE_DIRECTORY) {
    report('CHILD_MISPLACED', loc(), 'a directory entry outside a directory');
    return;
  }
  if (head.namlen === 0 || head.namlen > INODE_MAXNAME - 1) {
    report('DIRENT_NAME', loc(), `length ${head.namlen}`);
  } else {
    let name: Uint8Array | null = null;
    try {
      name = fs.direntName(b, data);
    } catch (e) {
      report('DIRENT_NAME', loc(), (e as Error).message);
    }
    if (name) {
      if (name.includes(0) || name.includes(0x2f)) report('DIRENT_NAME', loc(), 'a NUL or / in the name');
      const hash = dirhash(name);
      if ((b.key & ~DIRHASH_LOMASK) !== hash) report('DIRENT_HASH', loc(), `hash 0x${hex64(hash)}`);
    }
  }
  noteEntry(pfs, head.inum, dirInum, head.type, b.dataOff, b.key);
}

function inodeType(pfs: PfsFacts, inum: bigint): number | undefined {
  const slot = pfs.table.slotOf(inum);
  return pfs.table.hasInode(slot) ? pfs.table.type[slot] : undefined;
}

export const locateInode = (pfs: PfsFacts, inum: bigint, dataOff: bigint): Location =>
  locate(BREF_TYPE_INODE, dataOff, inum, () => `${pfs.name}:0x${hex64(inum)}`, { pfs: pfs.key, owner: pfs.key, type: BREF_TYPE_INODE, key: inum, dataOff });

/** Where a blockref stands, given the inodes above it ([] for the super-root's own). */
export function targetOf(inodes: readonly Blockref[], b: Blockref): Target {
  return {
    pfs: inodes.length >= 2 ? inodes[1].key : null,
    owner: inodes.length > 0 ? inodes[inodes.length - 1].key : null,
    type: b.type,
    key: b.key,
    dataOff: b.dataOff,
  };
}
