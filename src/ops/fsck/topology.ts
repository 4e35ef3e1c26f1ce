/**
 * Pass 2, one walk over the volume and freemap trees. Every blockref is checked where it
 * stands (check code, type, radix, offset, key range and order, tids, sharing); on the way the
 * walk records what passes 3 and 4 need: the inodes and directory entries of each PFS, and the
 * statistics each inode and indirect block should carry.
 */
import { Blockref, EmbedStats, childStats, decodeBlockrefs, embedDirent, embedStats, keyEnd } from '../../format/blockref';
import {
  bvBlockref,
  bvBlockrefShared,
  bvKey,
  bvKeyEnd,
  bvKeyHi,
  bvKeyLo,
  bvKeybits,
  bvMethods,
  bvMirrorHi,
  bvMirrorLo,
  bvOffset,
  bvOffsetExact,
  bvRadix,
  bvStatData,
  bvStatInodes,
  gt64,
} from '../../format/blockref-view';
import { hex64 } from '../../format/bytes';
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_EMPTY,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  BLOCKREF_BYTES,
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
import { INODE_U_OFF, Inode, InodeMeta, META, decodeInode, inodeNameBytes } from '../../format/inode';
import { breftypeName } from '../../format/names';
import { ChainReader } from '../../engine/chain';
import { READ_AHEAD_BYTES } from '../../engine/device';
import { EXIT, H2Error } from '../../engine/errors';
import { FsReader } from '../../engine/fs';
import { NumberIndex } from '../../engine/number-index';
import { addGranules } from '../../engine/verify';
import { TableVisit, headerRootBref, walkTables } from '../../engine/walk';
import { undecodableAt } from './compressed';
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

  // One report function and one lazily decoded Blockref for the current visit: the walk reads
  // blockrefs in place, and a Blockref is made only for a finding, an inode or a dirent.
  let root: number = BREF_TYPE_VOLUME;
  let inodes: Blockref[] = [];
  let pfs: PfsFacts | null = null;
  let v!: TableVisit;
  let cur: Blockref | null = null;
  // (views of the walk's private table copy: inodes and dirents need one each, so no copy)
  const bref = (): Blockref => (cur ??= bvBlockrefShared(v.table, v.at));
  const here = (): Location => at(bref());
  const report: Report = (code, loc, detail = '') => {
    if (opts.pfs !== undefined && pfs && !pfs.selected) return;
    add({ code, ...loc, detail, target: loc.target ?? (root === BREF_TYPE_VOLUME ? targetOf(inodes, bref()) : undefined) });
  };
  const noInodes: Blockref[] = [];
  const ftHi = Number(freemapTid >> 32n);
  const ftLo = Number(freemapTid & 0xffffffffn);
  const place = new Placement(total);
  // per ancestry (siblings share their parent's inode list): the PFS, its owner ordinal and,
  // for consecutive DATA visits, the slot of the file they belong to
  let cachedFor: Blockref[] | null = null;
  let owner = 0;
  let dataFor: Blockref[] | null = null;
  let dataOwner = -1;

  for (const r of [BREF_TYPE_VOLUME, BREF_TYPE_FREEMAP] as const) {
    root = r;
    for (v of walkTables(chains, headerRootBref(chains, r), { readAhead: READ_AHEAD_BYTES, blocks, rootTag: noInodes })) {
      const type = v.type;
      cur = null;
      // The inodes above this blockref: [] for the super-root, [sroot] for a PFS inode,
      // [sroot, pfs, ...] inside a PFS.
      inodes = root === BREF_TYPE_VOLUME && v.parent ? (v.parent.tag as Blockref[]) : noInodes;
      v.tag = inodes;
      if (type === BREF_TYPE_VOLUME || type === BREF_TYPE_FREEMAP) continue;
      if (type !== BREF_TYPE_DATA) dataFor = null;
      blockrefs++;
      if (inodes !== cachedFor) {
        cachedFor = inodes;
        pfs = inodes.length >= 2 ? pfsByKey.get(inodes[1].key) ?? null : null;
        owner = 0;
      }
      const placed = place.check(v, root, report, here);
      const radix = v.radix;
      const tab = v.table;
      const o = v.at;
      if (root === BREF_TYPE_VOLUME && gt64(bvMirrorHi(tab, o), bvMirrorLo(tab, o), ftHi, ftLo)) newerThanFreemap++;
      // A block outside the volumes or in a reserved segment is its own error, not a freemap hole.
      if (radix !== 0 && root === BREF_TYPE_VOLUME && placed) {
        const off = BigInt(bvOffset(tab, o));
        addGranules(used, off, 1 << radix);
        if (gt64(bvMirrorHi(tab, o), bvMirrorLo(tab, o), ftHi, ftLo)) addGranules(recent, off, 1 << radix);
      }
      // Data blocks may be shared (live dedup), and snapshots share metadata between PFSs;
      // metadata referenced twice inside one PFS is not allowed.
      if (radix !== 0 && type !== BREF_TYPE_DATA) {
        if (owner === 0) {
          const pfsKey = inodes.length >= 2 ? inodes[1].key : -1n;
          const known = pfsOrdinal.get(pfsKey);
          if (known === undefined) pfsOrdinal.set(pfsKey, (owner = pfsOrdinal.size + 1));
          else owner = known;
        }
        const exact = bvOffsetExact(tab, o);
        const slot = blocks.intern(exact ? bvOffset(tab, o) : Number(bref().dataOff & OFF_MASK));
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
          const key = exact ? bvOffset(tab, o) + radix : Number(bref().dataOff);
          first = otherSizes.get(key);
          if (first === undefined) otherSizes.set(key, owner);
        }
        if (first === owner) report('BLOCK_SHARED', here(), 'twice in one PFS');
      }

      if (v.error) {
        report('BLOCK_READ', here(), v.error);
        continue;
      }
      if (v.checkFailed) {
        const c = chains.verify(bref(), v.data);
        report('BLOCK_CHECK', here(), `stored ${c.stored}, computed ${c.computed}`);
        continue;
      }
      const undecoded = type === BREF_TYPE_DATA ? undecodableAt(type, bvMethods(tab, o), bvKeybits(tab, o), v.data) : null;
      if (undecoded) report('BLOCK_DECODE', here(), undecoded);
      bytes += v.data.length;
      opts.progress?.(bytes);
      if (v.data.length === 0 && type !== BREF_TYPE_DIRENT) continue;

      if (v.kidsError) {
        report('BLOCK_READ', here(), v.kidsError);
        continue;
      }
      // only the fields the checks read (a full decode copies 1 KiB)
      const inode = type === BREF_TYPE_INODE ? inodeFields(v.data) : null;
      const kidInodes = type === BREF_TYPE_INODE && v.kidsCount > 0 ? [...inodes, bref()] : inodes;
      v.tag = kidInodes;
      if (v.kids && v.kidsCount > 0 && !tableOrdered(v.kids, v.kidsAt, v.kidsCount)) {
        checkOrder(decodeBlockrefs(v.kids, v.kidsAt, v.kidsCount), bref(), kidInodes, report);
      }
      if (type === BREF_TYPE_INODE || type === BREF_TYPE_INDIRECT) {
        const superRoot = inodes.length === 0 && type === BREF_TYPE_INODE;
        const hidden = opts.pfs !== undefined && pfs !== null && !pfs.selected;
        if (!hidden && (superRoot || !statsMatch(v))) {
          const kids = v.kids ? decodeBlockrefs(v.kids, v.kidsAt, v.kidsCount) : [];
          checkStats(bref(), kids, superRoot, stats, hidden, targetOf(inodes, bref()));
        }
      }
      if (root !== BREF_TYPE_VOLUME) continue;

      if (type === BREF_TYPE_INODE && inode) {
        const b = bref();
        if (inodes.length === 1) {
          const facts = pfsRoot(b, decodeInode(v.data), report, sizeHint(embedStats(b).inodeCount, total));
          facts.selected = opts.pfs === undefined || opts.pfs === facts.name;
          pfsByKey.set(b.key, facts);
        } else if (inodes.length === 2 && pfs) {
          inodeFacts(pfs, b, inode, report);
        } else if (inodes.length > 2) {
          report('CHILD_MISPLACED', here(), 'an inode below a file or directory inode (inodes belong to the PFS index)');
        }
      } else if (type === BREF_TYPE_DIRENT) {
        dirent(fs, pfs, inodes, bref(), v.data, report);
      } else if (type === BREF_TYPE_DATA) {
        const t = pfs?.table;
        if (dataFor !== inodes) {
          dataFor = inodes;
          dataOwner = inodes.length === 3 && t ? t.slotOf(inodes[2].key) : -1;
        }
        if (!t || !t.hasInode(dataOwner) || t.type[dataOwner] === OBJTYPE_DIRECTORY) {
          report('CHILD_MISPLACED', here(), inodes.length < 3 ? 'file data under the super-root or a PFS root' : 'file data under a directory');
        } else {
          t.noteData(dataOwner, bvKey(tab, o));
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

/**
 * Checks one blockref where it stands (type, radix, place in the volumes, key range and
 * mirror_tid against its parent), from its bytes; false when its block lies outside the
 * allocatable space. Findings decode the blockrefs they name.
 */
class Placement {
  private readonly total: number;
  private readonly level1 = Number(FREEMAP_LEVEL1_SIZE);
  private readonly seg = Number(ZONE_SEG);
  private readonly end = [0, 0];
  private readonly parentEnd = [0, 0];

  constructor(private readonly totalBig: bigint) {
    this.total = Number(totalBig);
  }

  check(v: TableVisit, root: number, report: Report, loc: () => Location): boolean {
    const b = v.table;
    const o = v.at;
    const type = v.type;
    if (!BREF_TYPES_ON_MEDIA.has(type)) report('BREF_TYPE', loc(), String(type));
    const radix = v.radix;
    if ((radix !== 0 && (radix < RADIX_MIN || radix > RADIX_MAX)) || (radix === 0 && type !== BREF_TYPE_DIRENT)) {
      report('BREF_RADIX', loc(), String(radix));
    }
    let placed = true;
    if (radix !== 0) {
      // Numbers are exact here but for offsets or volumes beyond 2^53 bytes: those take BigInts
      const exact = bvOffsetExact(b, o) && Number.isSafeInteger(this.total) && radix < 53;
      let outside: boolean;
      let reserved: boolean;
      if (exact) {
        const off = bvOffset(b, o);
        outside = off + 2 ** radix > this.total;
        reserved = off % this.level1 < this.seg;
      } else {
        const off = bvBlockref(b, o).dataOff & OFF_MASK;
        outside = off + (1n << BigInt(radix)) > this.totalBig;
        reserved = off % FREEMAP_LEVEL1_SIZE < ZONE_SEG;
      }
      if (outside) {
        report('BREF_OFF_OUTSIDE', loc());
        placed = false;
      } else if (root === BREF_TYPE_VOLUME && reserved) {
        report('BREF_OFF_RESERVED', loc());
        placed = false;
      }
    }
    const parent = v.parent;
    if (parent && parent.type === BREF_TYPE_INDIRECT) {
      const p = parent.table;
      const po = parent.at;
      bvKeyEnd(b, o, this.end);
      bvKeyEnd(p, po, this.parentEnd);
      if (gt64(bvKeyHi(p, po), bvKeyLo(p, po), bvKeyHi(b, o), bvKeyLo(b, o)) || gt64(this.end[0], this.end[1], this.parentEnd[0], this.parentEnd[1])) {
        const pb = bvBlockref(p, po);
        report('BREF_KEY_RANGE', loc(), `0x${hex64(pb.key)}/${pb.keybits}`);
      }
    }
    if (parent && parent.type !== BREF_TYPE_VOLUME && parent.type !== BREF_TYPE_FREEMAP) {
      const p = parent.table;
      const po = parent.at;
      if (gt64(bvMirrorHi(b, o), bvMirrorLo(b, o), bvMirrorHi(p, po), bvMirrorLo(p, po))) {
        report('BREF_TID', loc(), `0x${hex64(bvBlockref(b, o).mirrorTid)} > 0x${hex64(bvBlockref(p, po).mirrorTid)}`);
      }
    }
    return placed;
  }
}

/** Whether the live entries of a table are sorted by key without overlapping ranges (checkOrder's fast case). */
const orderEnd = [0, 0];
function tableOrdered(t: Uint8Array, at: number, count: number): boolean {
  let have = false;
  for (let i = 0; i < count; i++) {
    const o = at + i * BLOCKREF_BYTES;
    if (t[o] === BREF_TYPE_EMPTY) continue;
    if (have && !gt64(bvKeyHi(t, o), bvKeyLo(t, o), orderEnd[0], orderEnd[1])) return false;
    bvKeyEnd(t, o, orderEnd);
    have = true;
  }
  return true;
}

/**
 * Whether an inode's or indirect block's embed.stats equal the sum over its children,
 * computed in Numbers; false also when a value is too large for them (checkStats decides).
 */
function statsMatch(v: TableVisit): boolean {
  let data = 0;
  let inodeCount = 0;
  const t = v.kids;
  if (t) {
    for (let i = 0; i < v.kidsCount; i++) {
      const o = v.kidsAt + i * BLOCKREF_BYTES;
      const type = t[o];
      if (type === BREF_TYPE_EMPTY) continue;
      const radix = bvRadix(t, o);
      if (radix > 52) return false;
      if (radix) data += 2 ** radix;
      if (type === BREF_TYPE_INODE) inodeCount++;
      if (type === BREF_TYPE_INODE || type === BREF_TYPE_INDIRECT) {
        data += bvStatData(t, o);
        inodeCount += bvStatInodes(t, o);
      }
    }
  }
  if (!(data < 2 ** 53) || !(inodeCount < 2 ** 53)) return false;
  return bvStatData(v.table, v.at) === data && bvStatInodes(v.table, v.at) === inodeCount;
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
