/**
 * `dump show`, `dump freemap` and `dump volhdr` as text: the output of DragonFly's
 * `hammer2 show`, `hammer2 freemap` and `hammer2 volhdr`, byte for byte, including their
 * quirks (the reserved00A0 lines all print element 0; the leaf summary lines; the header
 * lines of every readable copy, valid or not).
 *
 * The tree is printed straight from the block bytes into a byte buffer (see text-out.ts and
 * src/format/blockref-view.ts): the show of a large filesystem prints millions of fields, and objects and
 * strings per field cost many times the work of printing them. Name bytes pass through
 * unchanged (the text is latin1).
 *
 * Constants are imported from the modules that define them, not the format index, whose
 * re-exports are getters, called on every use.
 */
import { Blockref, CHECK_BYTES, decodeBlockref, encodeBlockref } from '../../format/blockref';
import {
  BLOCKREF_BYTES,
  BMAP_DATA_BYTES,
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_EMPTY,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  CHECK_DISABLED,
  CHECK_FREEMAP,
  CHECK_ISCSI32,
  CHECK_NONE,
  CHECK_SHA192,
  CHECK_XXHASH64,
  EMBEDDED_BYTES,
  FREEMAP_COUNT,
  FREEMAP_LEVEL0_SIZE,
  FREEMAP_LEVEL1_SIZE,
  INODE_MAXNAME,
  LBUFSIZE,
  NUM_VOLHDRS,
  OFF_MASK_RADIX,
  OPFLAG_DIRECTDATA,
  OPFLAG_PFSROOT,
  PBUFSIZE,
  PFSTYPE_SUPROOT,
  SEGSIZE,
  SET_COUNT,
  UUID_STRING,
  VOL_ICRC_SECT0,
  VOL_ICRC_SECT1,
  ZONE_FREEMAP_00,
  ZONE_FREEMAP_INC,
  decCheck,
  decComp,
} from '../../format/constants';
import { hex64 } from '../../format/bytes';
import { verifyCheck } from '../../format/check';
import { crc32c } from '../../format/crc32c';
import { decodeBmapData } from '../../format/freemap';
import { INODE_FILENAME_OFF, INODE_U_OFF, META } from '../../format/inode';
import { breftypeName, checkModeName, compModeName, objtypeName, pfsSubtypeName, pfstypeName } from '../../format/names';
import { UUID_BYTES, uuidToString } from '../../format/uuid';
import { VOL, VolumeHeader, computeVolumeCrcs, decodeVolumeHeader } from '../../format/volume';
import { xxh64 } from '../../format/xxh64';
import { BlockSource } from '../../engine/device';
import { VolumeSet, splitVolumePaths } from '../../engine/volumes';
import { headerCopyRootBref } from '../../engine';
import { fixedRatio, hexN, time64ToStr } from '../common/cfmt';
import { FreemapTotals, countFreemapBlocks, newFreemapTotals } from './freemap-totals';
import { BlockWindow } from './block-window';
import { BREF_AT, DIRENT_AT, FMCHECK_AT, STATS_AT, TWO_32, halves, joinHalves, lt64, u16At as u16, u32At as u32 } from '../../format/blockref-view';
import { TraversalGuard } from '../../engine/guard';
import { Text, TextOut } from './text-out';

/** The size radix in the low bits of data_off. */
const RADIX_MASK = Number(OFF_MASK_RADIX);

export type ShowWhich = 'show' | 'freemap' | 'volhdr';

export interface ShowOptions {
  /** -v: read and verify data blocks too */
  verbose: number;
  /** every header copy, not just the best (HAMMER2_SHOW_ALL_VOLUME_HEADERS or -vvv) */
  allHeaders: boolean;
  /** indentation step (HAMMER2_SHOW_TAB, 0..8) */
  tab: number;
  /** maximum depth shown, -1 for all (HAMMER2_SHOW_DEPTH) */
  depth: number;
  /** omit blockrefs below these tids (HAMMER2_SHOW_MIN_MIRROR_TID / _MODIFY_TID) */
  minMirrorTid: bigint;
  minModifyTid: bigint;
}

export const DEFAULT_SHOW_OPTIONS: ShowOptions = {
  verbose: 0,
  allHeaders: false,
  tab: 2,
  depth: -1,
  minMirrorTid: 0n,
  minModifyTid: 0n,
};

export interface TextSink {
  write(s: string): void;
  /**
   * Latin1 text as bytes, valid only during the call. When a sink has it, the dumps hand it
   * their output buffers directly instead of strings.
   */
  writeBytes?(bytes: Uint8Array): void;
}

const MB = 1024n * 1024n;
const GB = 1024n * MB;

/** Where a volume lies in the logical address space, as Numbers (offsets are below 2^53). */
interface VolSpan {
  id: number;
  start: number;
  end: number;
  dev: BlockSource;
  devSize: number;
}

interface Ctx {
  vols: VolumeSet;
  spans: VolSpan[];
  opts: ShowOptions;
  out: TextOut;
  initTab: number;
  totals: FreemapTotals;
  /** blockrefs and bytes seen, for benchmarks */
  brefs: number;
  bytes: number;
  guard: TraversalGuard;
  window: BlockWindow;
  /** one block buffer per nesting level: a block's table stays intact while its children are shown */
  media: Uint8Array[];
  /** how much of each level's buffer may hold bytes other than zeros */
  dirty: number[];
  minMirror: [number, number] | null;
  minModify: [number, number] | null;
}

/** What a block not read decodes as (zeros, as the tool's fresh buffer); never written. */
const ZERO_MEDIA: Uint8Array = new Uint8Array(PBUFSIZE);
const SEG_BYTES = Number(SEGSIZE);

function spanAt(ctx: Ctx, off: number): VolSpan | null {
  for (const s of ctx.spans) if (off >= s.start && off < s.end) return s;
  return null;
}

/**
 * The block's bytes into this level's buffer, zeros after them (a data block's, only hashed,
 * stay in the window); null when the tool's read would fail. It reads from a 16 KiB aligned base a power-of-two size of at least 16 KiB, so
 * a block near the end of the device fails even when its own bytes are there.
 */
function readMedia(ctx: Ctx, span: VolSpan | null, level: number, off: number, bytes: number, ioBase: number, ioBytes: number, isData: boolean): Uint8Array | null {
  if (!span) return null;
  if (ioBase - span.start + ioBytes > span.devSize) return null;
  const got = ctx.window.read(span.dev, span.devSize, off - span.start, bytes);
  if (!got) return null;
  // A data block is only hashed, before anything else is read: the window's view will do.
  if (isData) return got;
  let media = ctx.media[level];
  if (!media) {
    media = ctx.media[level] = new Uint8Array(PBUFSIZE);
    ctx.dirty[level] = 0;
  }
  media.set(got);
  if (ctx.dirty[level] > bytes) media.fill(0, bytes, ctx.dirty[level]);
  ctx.dirty[level] = bytes;
  return media;
}

/** `%*.*s` of a name: at most `n` bytes of `src` from `at`, stopping at a NUL, right-aligned in `n` columns. */
function writeName(out: TextOut, src: Uint8Array, at: number, n: number): void {
  const end = at + Math.min(n, src.length - at);
  let stop = at;
  while (stop < end && src[stop] !== 0) stop++;
  out.spaces(n - (stop - at));
  out.bytes(src, at, stop);
}

/** Names by method byte, made once: the same few are printed on every line. */
const compNames: string[] = [];
const checkNames: string[] = [];
const compName = (algo: number): string => (compNames[algo] ??= compModeName(algo));
const checkName = (algo: number): string => (checkNames[algo] ??= checkModeName(algo));
const compTexts: Text[] = [];
const checkTexts: Text[] = [];
const compText = (algo: number): Text => (compTexts[algo] ??= new Text(compModeName(algo)));
const checkText = (algo: number): Text => (checkTexts[algo] ??= new Text(checkModeName(algo)));
const typeNames: string[] = [];
const typeName = (type: number): string => (typeNames[type] ??= breftypeName(type));
const objTexts: Text[] = [];
const objText = (type: number): Text => (objTexts[type] ??= new Text(objtypeName(type)));

/**
 * Local time strings by second: a tree's inodes share few distinct times. Emptied at the start
 * of each render, as the local zone may have changed.
 */
const timeCache = new Map<number, Text>();
/** By field (ctime, mtime, atime, btime): the last one, which the next inode's most often repeats. */
const lastSecs = [-1, -1, -1, -1];
const lastTime: (Text | null)[] = [null, null, null, null];
function resetTimes(): void {
  timeCache.clear();
  lastSecs.fill(-1);
  lastTime.fill(null);
}
function writeTime(out: TextOut, b: Uint8Array, o: number): void {
  const hi = u32(b, o + 4);
  const lo = u32(b, o);
  if (hi >= 1 << 21) {
    out.str(time64ToStr(joinHalves(hi, lo)));
    return;
  }
  const usec = hi * TWO_32 + lo;
  // exact: the remainder of a double is exact, and so is the division of what is left
  const secs = (usec - (usec % 1e6)) / 1e6;
  const slot = (o - META.ctime) >> 3;
  if (secs === lastSecs[slot]) {
    out.text(lastTime[slot]!);
    return;
  }
  let s = timeCache.get(secs);
  if (s === undefined) {
    s = new Text(time64ToStr(BigInt(secs) * 1000000n));
    if (timeCache.size >= 4096) timeCache.clear();
    timeCache.set(secs, s);
  }
  lastSecs[slot] = secs;
  lastTime[slot] = s;
  out.text(s);
}

/** UUID strings by slot, reused while the bytes repeat (uid and gid rarely change). */
class UuidText {
  private last = new Uint8Array(UUID_BYTES);
  private text: Text | null = null;

  write(out: TextOut, b: Uint8Array, o: number): void {
    const l = this.last;
    const same =
      this.text !== null && u32(b, o) === u32(l, 0) && u32(b, o + 4) === u32(l, 4) && u32(b, o + 8) === u32(l, 8) && u32(b, o + 12) === u32(l, 12);
    if (!same) {
      this.last.set(b.subarray(o, o + UUID_BYTES));
      this.text = new Text(uuidToString(b, o));
    }
    out.text(this.text!);
  }
}
const uidText = new UuidText();
const gidText = new UuidText();

const hex64At = (out: TextOut, b: Uint8Array, o: number): void => out.hex64(u32(b, o + 4), u32(b, o));
const u64At = (out: TextOut, b: Uint8Array, o: number): void => out.u64(u32(b, o + 4), u32(b, o));

/** The labels of an inode's lines, as the tool prints them. */
const INODE_LABELS = {
  filename: 'filename "',
  version: 'version  ',
  pfs_st: 'pfs_st   ',
  uflags: 'uflags   0x',
  rmajor: 'rmajor   ',
  rminor: 'rminor   ',
  ctime: 'ctime    ',
  mtime: 'mtime    ',
  atime: 'atime    ',
  btime: 'btime    ',
  uid: 'uid      ',
  gid: 'gid      ',
  type: 'type     ',
  opflgs: 'opflgs   0x',
  capflgs: 'capflgs  0x',
  mode: 'mode     ',
  inum: 'inum     0x',
  size: 'size     ',
  nlinks: 'nlinks   ',
  iparent: 'iparent  0x',
  name_key: 'name_key 0x',
  name_len: 'name_len ',
  ncopies: 'ncopies  ',
  compalg: 'compalg  ',
  checkalg: 'checkalg ',
  pfs_nmas: 'pfs_nmas ',
  pfs_type: 'pfs_type ',
  pfs_inum: 'pfs_inum 0x',
  pfs_clid: 'pfs_clid ',
  pfs_fsid: 'pfs_fsid ',
  pfs_lsnap_tid: 'pfs_lsnap_tid 0x',
  data_quota: 'data_quota  ',
  data_count: 'data_count  ',
  inode_quota: 'inode_quota ',
  inode_count: 'inode_count ',
} as const;
type InodeLabels = { [K in keyof typeof INODE_LABELS]: Text };

/** The labels with their indentation, by indentation: every inode at one depth shares them. */
const inodeLabelsByTab = new Map<number, InodeLabels>();
function inodeLabels(tab: number): InodeLabels {
  let L = inodeLabelsByTab.get(tab);
  if (!L) {
    const indent = ' '.repeat(Math.max(0, tab));
    // each label starts the line, ending the one before; the first also ends the blockref's
    L = Object.fromEntries(Object.entries(INODE_LABELS).map(([k, label]) => [k, new Text((k === 'filename' ? '{\n' : '\n') + indent + label)])) as InodeLabels;
    inodeLabelsByTab.set(tab, L);
  }
  return L;
}

/** The inode's fields, as the tool prints them (between the brace and the children). */
function writeInode(ctx: Ctx, tab: number, m: Uint8Array, tb: Uint8Array, to: number): void {
  const out = ctx.out;
  const opFlags = m[META.opFlags];
  const pfsType = m[META.pfsType];
  const nameLen = u16(m, META.nameLen);
  const isPfs = (opFlags & OPFLAG_PFSROOT) !== 0 || pfsType === PFSTYPE_SUPROOT;
  const L = inodeLabels(tab);
  out.text(L.filename);
  writeName(out, m, INODE_FILENAME_OFF, nameLen > INODE_MAXNAME ? 0 : nameLen);
  out.ch(0x22);
  out.text(L.version);
  out.dec(u16(m, META.version));
  if (isPfs) {
    out.text(L.pfs_st);
    out.dec(m[META.pfsSubtype]);
    out.str(` (${pfsSubtypeName(m[META.pfsSubtype])})`);
  }
  out.text(L.uflags);
  out.hex(u32(m, META.uflags), 8);
  const rmajor = u32(m, META.rmajor);
  const rminor = u32(m, META.rminor);
  if (rmajor || rminor) {
    out.text(L.rmajor);
    out.dec(rmajor | 0);
      out.text(L.rminor);
    out.dec(rminor | 0);
    }
  out.text(L.ctime);
  writeTime(out, m, META.ctime);
  out.text(L.mtime);
  writeTime(out, m, META.mtime);
  out.text(L.atime);
  writeTime(out, m, META.atime);
  out.text(L.btime);
  writeTime(out, m, META.btime);
  out.text(L.uid);
  uidText.write(out, m, META.uid);
  out.text(L.gid);
  gidText.write(out, m, META.gid);
  out.text(L.type);
  out.text(objText(m[META.type]));
  out.text(L.opflgs);
  out.hex(opFlags, 2);
  out.text(L.capflgs);
  out.hex(u16(m, META.capFlags), 4);
  out.text(L.mode);
  const mode = u32(m, META.mode).toString(8);
  out.str(mode);
  out.spaces(7 - mode.length);
  out.text(L.inum);
  hex64At(out, m, META.inum);
  out.text(L.size);
  u64At(out, m, META.size);
  const sizeHi = u32(m, META.size + 4);
  const sizeLo = u32(m, META.size);
  out.str(opFlags & OPFLAG_DIRECTDATA && sizeHi === 0 && sizeLo <= EMBEDDED_BYTES ? ' (embedded data)' : ' ');
  out.text(L.nlinks);
  u64At(out, m, META.nlinks);
  out.text(L.iparent);
  hex64At(out, m, META.iparent);
  out.text(L.name_key);
  hex64At(out, m, META.nameKey);
  out.text(L.name_len);
  out.dec(nameLen);
  out.text(L.ncopies);
  out.dec(m[META.ncopies]);
  out.text(L.compalg);
  out.text(compText(m[META.compAlgo]));
  out.text(L.checkalg);
  out.text(checkText(m[META.checkAlgo]));
  if (isPfs) {
    out.text(L.pfs_nmas);
    out.dec(m[META.pfsNmasters]);
      out.text(L.pfs_type);
    out.dec(pfsType);
    out.str(` (${pfstypeName(pfsType)})`);
    out.text(L.pfs_inum);
    hex64At(out, m, META.pfsInum);
      out.text(L.pfs_clid);
    out.str(uuidToString(m, META.pfsClid));
      out.text(L.pfs_fsid);
    out.str(uuidToString(m, META.pfsFsid));
      out.text(L.pfs_lsnap_tid);
    hex64At(out, m, META.pfsLsnapTid);
    }
  out.text(L.data_quota);
  u64At(out, m, META.dataQuota);
  out.text(L.data_count);
  u64At(out, tb, to + STATS_AT.dataCount);
  out.text(L.inode_quota);
  u64At(out, m, META.inodeQuota);
  out.text(L.inode_count);
  u64At(out, tb, to + STATS_AT.inodeCount);
  out.ch(NL);
}

const NL = 0x0a;

/** Texts of a blockref's lines that depend only on the indentation. */
interface TabTexts {
  /** by type: the indentation, the type's name and "." */
  head: Text[];
  /** the end of the first line and the start of the second, up to "vol=" */
  vol: Text;
  /** a line break and the continuation indent */
  more: Text;
  /** by type: the indentation, "} (", the type's name and "." */
  close: Text[];
  direntName: Text;
  direntInum: Text;
  direntNlen: Text;
  direntType: Text;
}

const tabTextsByTab = new Map<number, TabTexts>();
function tabTexts(tab: number): TabTexts {
  let T = tabTextsByTab.get(tab);
  if (!T) {
    const ind = ' '.repeat(Math.max(0, tab));
    const cont = ' '.repeat(Math.max(0, tab + 13));
    T = {
      head: [],
      vol: new Text(` \n${cont}vol=`),
      more: new Text(`\n${cont}`),
      close: [],
      direntName: new Text(`{\n${ind}filename "`),
      direntInum: new Text(`"\n${ind}inum 0x`),
      direntNlen: new Text(`\n${ind}nlen `),
      direntType: new Text(`\n${ind}type `),
    };
    tabTextsByTab.set(tab, T);
  }
  return T;
}

/** By type: the spaces that pad its name to 8 columns, then the separator. */
const typePads: Text[] = [];
const typePad = (type: number): Text => (typePads[type] ??= new Text(' '.repeat(Math.max(0, 8 - typeName(type).length)) + ' '));
const MIR = new Text(' mir=');
const MOD = new Text(' mod=');
const LFCNT = new Text(' lfcnt=');

/**
 * The check code part of a blockref's line; true when the code does not match (the tool
 * then shows the block's own fields but not its children).
 */
const okPrefixes: Text[] = [];
/** "meth=CHECK|COMP " and the name of the code that follows, by methods byte. */
function okPrefix(methods: number): Text {
  if (okPrefixes[methods] === undefined) {
    const checkAlgo = decCheck(methods);
    let s = `meth=${checkName(checkAlgo)}|${compName(decComp(methods))} `;
    if (checkAlgo === CHECK_ISCSI32) s += 'iscsi32=';
    else if (checkAlgo === CHECK_FREEMAP) s += 'fcrc=';
    else if (checkAlgo === CHECK_XXHASH64) s += 'xxh=';
    okPrefixes[methods] = new Text(s);
  }
  return okPrefixes[methods];
}

function writeCheck(out: TextOut, tb: Uint8Array, to: number, block: Uint8Array): boolean {
  const methods = tb[to + BREF_AT.methods];
  const checkAlgo = decCheck(methods);
  const checkStr = checkName(checkAlgo);
  const compStr = compName(decComp(methods));
  const at = to + BREF_AT.check;
  switch (checkAlgo) {
    case CHECK_NONE:
    case CHECK_DISABLED:
      out.text(okPrefix(methods));
      return false;
    case CHECK_ISCSI32:
    case CHECK_FREEMAP: {
      const stored = u32(tb, at);
      const computed = crc32c(block);
      if (stored !== computed) {
        out.str(`(${checkAlgo === CHECK_ISCSI32 ? 'icrc' : 'fcrc'} ${checkStr}|${compStr} `);
        out.hex(stored, 8);
        out.ch(0x2f);
        out.hex(computed, 8);
        out.str(' failed) ');
        return true;
      }
      out.text(okPrefix(methods));
      out.hex(computed, 8);
      out.ch(0x20);
      return false;
    }
    case CHECK_XXHASH64: {
      const hi = u32(tb, at + 4);
      const lo = u32(tb, at);
      const computed = xxh64(block);
      if (computed !== joinHalves(hi, lo)) {
        const [chi, clo] = halves(computed);
        out.str(`(xxhash64 ${checkStr}|${compStr} `);
        out.hex64(hi, lo);
        out.ch(0x2f);
        out.hex64(chi, clo);
        out.str(' failed) ');
        return true;
      }
      out.text(okPrefix(methods));
      out.hex64(hi, lo);
      out.ch(0x20);
      return false;
    }
    case CHECK_SHA192: {
      // rare enough for the general decoder
      if (!verifyCheck(decodeBlockref(tb, to), block).ok) {
        out.str(`(sha192 ${checkStr}:${compStr} failed) `);
        return true;
      }
      out.text(okPrefix(methods));
      return false;
    }
    default:
      return false;
  }
}

/** Show the blockref at byte `to` of `tb`, then its children, `level` calls deep. */
function showBref(ctx: Ctx, voldata: VolumeHeader, tab: number, bi: number, tb: Uint8Array, to: number, norecurse: number, level: number): void {
  const { out, opts } = ctx;
  const type = tb[to + BREF_AT.type];
  if (ctx.minMirror && lt64(u32(tb, to + BREF_AT.mirrorTid + 4), u32(tb, to + BREF_AT.mirrorTid), ctx.minMirror[0], ctx.minMirror[1])) return;
  if (ctx.minModify) {
    const hi = u32(tb, to + BREF_AT.modifyTid + 4);
    const lo = u32(tb, to + BREF_AT.modifyTid);
    if (lt64(hi, lo, ctx.minModify[0], ctx.minModify[1])) {
      if (hi || lo) return;
      if (type === BREF_TYPE_INODE && u16(tb, to + BREF_AT.leafCount) === 0) return;
    }
  }
  if (ctx.initTab === -1) ctx.initTab = tab;
  const offLoRaw = u32(tb, to + BREF_AT.dataOff);
  const offHi = u32(tb, to + BREF_AT.dataOff + 4);
  const radix = offLoRaw & RADIX_MASK;
  const offLo = (offLoRaw - radix) >>> 0;
  const off = offHi * TWO_32 + offLo;
  const refused = ctx.guard.checkAt(type, radix, off, Math.trunc((tab - ctx.initTab) / Math.max(1, opts.tab)));
  if (refused) {
    out.spaces(tab);
    out.str(`(${refused})\n`);
    return;
  }
  ctx.brefs++;

  const bytes = radix === 0 ? 0 : radix < 31 ? 1 << radix : 2 ** radix;
  let media = ZERO_MEDIA;
  const readIt = bytes !== 0 && (type !== BREF_TYPE_DATA || opts.verbose >= 1);
  if (bytes) {
    if (bytes > PBUFSIZE) {
      out.str(`(bad block size ${(1n << BigInt(radix)).toString()})\n`);
      return;
    }
    if (readIt) {
      const boff = off % LBUFSIZE;
      const ioBase = off - boff;
      let ioBytes = LBUFSIZE;
      while (ioBytes + boff < bytes) ioBytes *= 2;
      const got = readMedia(ctx, spanAt(ctx, off), level, off, bytes, ioBase, ioBytes, type === BREF_TYPE_DATA);
      if (!got) {
        out.str('(media read failed)\n');
        return;
      }
      media = got;
      ctx.bytes += bytes;
    }
  }

  // the children's table: where, and how many entries
  let bAt = 0;
  let bcount = 0;
  let failed = false;
  let obrace = true;
  const typeStr = typeName(type);

  const span = spanAt(ctx, off);
  let rootHeader: VolumeHeader | null = null;
  switch (type) {
    case BREF_TYPE_INODE:
      if (!(media[META.opFlags] & OPFLAG_DIRECTDATA)) {
        bAt = INODE_U_OFF;
        bcount = SET_COUNT;
      }
      break;
    case BREF_TYPE_INDIRECT:
    case BREF_TYPE_FREEMAP_NODE:
      bcount = Math.floor(bytes / BLOCKREF_BYTES);
      break;
    case BREF_TYPE_VOLUME:
    case BREF_TYPE_FREEMAP:
      rootHeader = decodeVolumeHeader(media);
      bAt = type === BREF_TYPE_VOLUME ? VOL.srootBlockset : VOL.freemapBlockset;
      bcount = SET_COUNT;
      break;
  }

  const T = tabTexts(tab);
  out.text(T.head[type] ??= new Text(' '.repeat(Math.max(0, tab)) + typeStr + '.'));
  out.decLeft(bi, 3);
  out.text(typePad(type));
  out.hex64(offHi, offLoRaw);
  out.ch(0x20);
  hex64At(out, tb, to + BREF_AT.key);
  out.ch(0x2f);
  out.decLeft(tb[to + BREF_AT.keybits], 2);
  out.text(T.vol);
  out.dec(span ? span.id : -1);
  out.text(MIR);
  hex64At(out, tb, to + BREF_AT.mirrorTid);
  out.text(MOD);
  hex64At(out, tb, to + BREF_AT.modifyTid);
  out.text(LFCNT);
  out.dec(u16(tb, to + BREF_AT.leafCount));
  out.ch(0x20);
  const flags = tb[to + BREF_AT.flags];
  const isFreemapBlock = type === BREF_TYPE_FREEMAP_NODE || type === BREF_TYPE_FREEMAP_LEAF;
  if (bcount || flags || isFreemapBlock) out.text(T.more);
  if (bcount) {
    out.str('bcnt=');
    out.dec(bcount);
    out.ch(0x20);
  }
  if (flags) {
    out.str('flags=');
    out.hex(flags, 2);
    out.ch(0x20);
  }
  if (isFreemapBlock) {
    out.str('bigmask=');
    out.hex(u32(tb, to + FMCHECK_AT.bigmask), 8);
    out.str(' avail=');
    u64At(out, tb, to + FMCHECK_AT.avail);
    out.ch(0x20);
  }

  if (readIt) {
    out.text(T.more);
    failed = writeCheck(out, tb, to, media.length === bytes ? media : media.subarray(0, bytes));
  }

  tab += opts.tab;
  let namelen = 0;

  switch (type) {
    case BREF_TYPE_EMPTY:
      if (norecurse) out.ch(NL);
      obrace = false;
      break;
    case BREF_TYPE_DIRENT: {
      const D = tabTexts(tab);
      out.text(D.direntName);
      const namlen = u16(tb, to + DIRENT_AT.namlen);
      // a short name sits in the check union, a longer one in the block
      if (namlen <= CHECK_BYTES) writeName(out, tb, to + BREF_AT.check, namlen);
      else writeName(out, media, 0, namlen);
      out.text(D.direntInum);
      hex64At(out, tb, to + DIRENT_AT.inum);
      out.text(D.direntNlen);
      out.dec(namlen);
      out.text(D.direntType);
      out.text(objText(tb[to + DIRENT_AT.type]));
      out.ch(NL);
      break;
    }
    case BREF_TYPE_INODE: {
      const nameLen = u16(media, META.nameLen);
      namelen = nameLen > INODE_MAXNAME ? 0 : nameLen;
      writeInode(ctx, tab, media, tb, to);
      break;
    }
    case BREF_TYPE_INDIRECT:
      out.str('{\n');
      break;
    case BREF_TYPE_DATA:
      out.ch(NL);
      obrace = false;
      break;
    case BREF_TYPE_VOLUME:
    case BREF_TYPE_FREEMAP:
      out.str(`mirror_tid=${hex64(rootHeader!.mirrorTid)} freemap_tid=${hex64(rootHeader!.freemapTid)} {\n`);
      break;
    case BREF_TYPE_FREEMAP_LEAF: {
      out.str('{\n');
      out.spaces(tab);
      out.str(`rotation=${rotationOf(off)}\n`);
      const key = joinHalves(u32(tb, to + BREF_AT.key + 4), u32(tb, to + BREF_AT.key));
      for (let i = 0; i < FREEMAP_COUNT; i++) {
        const bm = decodeBmapData(media, i * BMAP_DATA_BYTES);
        const dataOff = (key + BigInt(i) * FREEMAP_LEVEL0_SIZE) & 0xffffffffffffffffn;
        let s = `${tabs(tab + 4)}${hex64(dataOff)} ${String(i).padStart(4, '0')}.${hexN(bm.class, 4)} linear=${hexN(bm.linear, 6)} avail=${hexN(bm.avail, 6)}`;
        for (const w of bm.bitmapq) s += ` ${hex64(w)}`;
        out.str(s + '\n');
        const segOff = key + BigInt(i) * FREEMAP_LEVEL0_SIZE;
        if (segOff >= voldata.auxEnd && segOff < ctx.vols.totalSize) countFreemapBlocks(bm, ctx.totals);
        else ctx.totals.unavail += FREEMAP_LEVEL0_SIZE;
      }
      ctx.totals.freemap += FREEMAP_LEVEL1_SIZE;
      out.spaces(tab);
      out.str('}\n');
      break;
    }
    case BREF_TYPE_FREEMAP_NODE:
      out.str('{\n');
      out.spaces(tab);
      out.str(`rotation=${rotationOf(off)}\n`);
      break;
    default:
      out.ch(NL);
      obrace = false;
      break;
  }

  if (opts.depth === -1 || Math.trunc((tab - ctx.initTab) / opts.tab) < opts.depth) {
    for (let i = 0; norecurse === 0 && i < bcount; i++) {
      const at = bAt + i * BLOCKREF_BYTES;
      if (media[at + BREF_AT.type] !== BREF_TYPE_EMPTY) showBref(ctx, voldata, tab, i, media, at, failed ? 1 : 0, level + 1);
    }
  }
  tab -= opts.tab;
  if (obrace) {
    out.text(T.close[type] ??= new Text(`${' '.repeat(Math.max(0, tab))}} (${typeStr}.`));
    out.dec(bi);
    if (type === BREF_TYPE_INODE) {
      out.str(', "');
      writeName(out, media, INODE_FILENAME_OFF, namelen);
      out.str('")\n');
    } else out.str(')\n');
  }
}

function tabs(n: number): string {
  return ' '.repeat(Math.max(0, n));
}

/** Which of the 8 freemap rotation sets a freemap block at byte `off` sits in. */
function rotationOf(off: number): number {
  const blk = Math.floor((off % SEG_BYTES) / PBUFSIZE);
  return Math.trunc((blk - ZONE_FREEMAP_00) / ZONE_FREEMAP_INC);
}

/** A blockref object as the 128 bytes the renderer reads. */
function brefBytes(b: Blockref): Uint8Array {
  const raw = new Uint8Array(BLOCKREF_BYTES);
  encodeBlockref(b, raw, 0);
  return raw;
}

function showVolhdr(ctx: Ctx, v: VolumeHeader, bi: number): void {
  const out = ctx.out;
  const mb = (a: bigint, b: bigint): string => fixedRatio(a - b, MB, 2, 6);
  const gb = (a: bigint): string => fixedRatio(a, GB, 2, 6);
  let s = `\nVolume ${v.voluId} header ${bi} {\n`;
  s += `    magic          0x${hex64(v.magic)}\n`;
  s += `    boot_beg       0x${hex64(v.bootBeg)}\n`;
  s += `    boot_end       0x${hex64(v.bootEnd)} (${mb(v.bootEnd, v.bootBeg)}MB)\n`;
  s += `    aux_beg        0x${hex64(v.auxBeg)}\n`;
  s += `    aux_end        0x${hex64(v.auxEnd)} (${mb(v.auxEnd, v.auxBeg)}MB)\n`;
  s += `    volu_size      0x${hex64(v.voluSize)} (${gb(v.voluSize)}GB)\n`;
  s += `    version        ${v.version | 0}\n`;
  s += `    flags          0x${hexN(v.flags, 8)}\n`;
  s += `    copyid         ${v.copyid}\n`;
  s += `    freemap_vers   ${v.freemapVersion}\n`;
  s += `    peer_type      ${v.peerType}\n`;
  s += `    volu_id        ${v.voluId}\n`;
  s += `    nvolumes       ${v.nvolumes}\n`;
  s += `    fsid           ${uuidToString(v.fsid)}\n`;
  const fstype = uuidToString(v.fstype);
  s += `    fstype         ${fstype}\n`;
  s += `                   (${fstype === UUID_STRING ? 'DragonFly HAMMER2' : '?'})\n`;
  s += `    allocator_size 0x${hex64(v.allocatorSize)} (${gb(v.allocatorSize)}GB)\n`;
  s += `    allocator_free 0x${hex64(v.allocatorFree)} (${gb(v.allocatorFree)}GB)\n`;
  s += `    allocator_beg  0x${hex64(v.allocatorBeg)} (${gb(v.allocatorBeg)}GB)\n`;
  s += `    mirror_tid     0x${hex64(v.mirrorTid)}\n`;
  s += `    reserved0080   0x${hex64(v.reserved0080)}\n`;
  s += `    reserved0088   0x${hex64(v.reserved0088)}\n`;
  s += `    freemap_tid    0x${hex64(v.freemapTid)}\n`;
  s += `    bulkfree_tid   0x${hex64(v.bulkfreeTid)}\n`;
  // The reference tool prints element 0 on every line; so do we, for identical output.
  for (let i = 0; i < v.reserved00A0.length; i++) s += `    reserved00A0/${i} 0x${hex64(v.reserved00A0[0])}\n`;
  s += `    total_size     0x${hex64(v.totalSize)}\n`;
  s += `    copyexists    ${v.copyexists.map((c) => ' 0x' + hexN(c, 2)).join('')}\n`;
  s += '\n';
  const crcs = computeVolumeCrcs(v.raw);
  for (let i = 0; i < v.icrcSects.length; i++) {
    s += `    icrc_sects[${i}]  `;
    if (i === VOL_ICRC_SECT0 || i === VOL_ICRC_SECT1) {
      const computed = i === VOL_ICRC_SECT0 ? crcs.sect0 : crcs.sect1;
      s += `0x${hexN(computed, 8)}/0x${hexN(v.icrcSects[i], 8)}${computed === v.icrcSects[i] ? ' (OK)' : ' (FAILED)'}`;
    } else {
      s += `0x${hexN(v.icrcSects[i], 8)} (reserved)`;
    }
    s += '\n';
  }
  s += `    icrc_volhdr    0x${hexN(crcs.volheader, 8)}/0x${hexN(v.icrcVolheader, 8)}`;
  s += crcs.volheader === v.icrcVolheader ? ' (OK)\n' : ' (FAILED - not a critical error)\n';
  s += '\n    sroot_blockset {\n';
  out.str(s);
  v.srootBlockset.forEach((b, i) => showBref(ctx, v, 16, i, brefBytes(b), 0, 2, 0));
  out.str('    }\n    freemap_blockset {\n');
  v.freemapBlockset.forEach((b, i) => showBref(ctx, v, 16, i, brefBytes(b), 0, 2, 0));
  out.str('    }\n');
  if (v.voluLoff.some((x) => x !== 0n)) {
    out.str('\n');
    v.voluLoff.forEach((loff, i) => {
      if (loff !== NO_VOLUME) out.str(`    volu_loff[${i}]   0x${hex64(loff)}\n`);
    });
  }
  out.str('}\n');
}

/** The first listed logical volume offset above `loff`, or -1 (as in the tool's volume walk). */
const NO_VOLUME = 0xffffffffffffffffn;
function nextVolume(v: VolumeHeader, loff: bigint): bigint {
  for (const x of v.voluLoff) if (x > loff) return x;
  return NO_VOLUME;
}

export interface ShowResult {
  brefs: number;
  bytes: number;
}

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/**
 * What the DragonFly tool says on stderr of the header copies it passes over while it looks
 * for the best one: it reads every volume's copies as it adds the volume, then the root
 * volume's again, all before its first line of output. Some of its messages end without a
 * newline, and so do these.
 */
export function headerDiagnostics(vols: VolumeSet): string {
  let text = '';
  const byPath = new Map(vols.list.map((v) => [v.path, v]));
  const order = [...splitVolumePaths(vols.spec), vols.root.path];
  for (const path of order) {
    const v = byPath.get(path);
    if (!v) continue;
    for (const c of v.selection.copies) {
      const at = `${path} #${c.index}: `;
      if (c.status === 'bad-magic') text += `${at}bad magic\n`;
      else if (c.status === 'reverse-endian') text += `${at}reverse-endian filesystem detected`;
      else if (c.status.startsWith('crc-') && c.raw && c.header) {
        const crcs = computeVolumeCrcs(c.raw);
        if (c.status === 'crc-sect0') text += `${at}volume header crc mismatch sect0 ${hex8(c.header.icrcSects[VOL_ICRC_SECT0])}/${hex8(crcs.sect0)}\n`;
        else if (c.status === 'crc-sect1') text += `${at}volume header crc mismatch sect1 ${hex8(c.header.icrcSects[VOL_ICRC_SECT1])}/${hex8(crcs.sect1)}`;
        else text += `${at}volume header crc mismatch vh ${hex8(c.header.icrcVolheader)}/${hex8(crcs.volheader)}`;
      }
    }
  }
  return text;
}

/**
 * Render `which` for the filesystem `vols` into `out`; the header diagnostics the DragonFly
 * tool prints on stderr go to `diag` first (pass `out` itself for the tool's combined output).
 */
export function renderShow(vols: VolumeSet, which: ShowWhich, opts: ShowOptions, sink: TextSink, diag?: TextSink): ShowResult {
  if (diag) {
    const d = headerDiagnostics(vols);
    if (d) diag.write(d);
  }
  resetTimes();
  const out = new TextOut(sink.writeBytes ? (b) => sink.writeBytes!(b) : (b) => sink.write(Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')));
  const spans = vols.list.map((v) => ({ id: v.id, start: Number(v.offset), end: Number(v.offset + v.size), dev: v.dev, devSize: Number(v.dev.size) }));
  const ctx: Ctx = {
    vols,
    spans,
    opts,
    out,
    initTab: -1,
    totals: newFreemapTotals(),
    brefs: 0,
    bytes: 0,
    guard: new TraversalGuard(),
    window: new BlockWindow(),
    media: [],
    dirty: [],
    minMirror: opts.minMirrorTid > 0n ? halves(opts.minMirrorTid) : null,
    minModify: opts.minModifyTid > 0n ? halves(opts.minModifyTid) : null,
  };
  try {
    renderInto(ctx, which);
  } finally {
    ctx.window.close();
    // what was printed before a failure is real output, as the tool's would be
    out.flush();
  }
  return { brefs: ctx.brefs, bytes: ctx.bytes };
}

function renderInto(ctx: Ctx, which: ShowWhich): void {
  const { vols, opts, out } = ctx;
  for (const v of vols.list) out.str(`checkvolu header ${v.id} ${hex64(v.size)}/${hex64(v.dev.size)}\n`);

  let nextLoff = 0n;
  for (let i = 0; i < vols.list.length; i++) {
    const loff = nextLoff;
    const vol = vols.volumeAt(loff);
    if (!vol) break;
    out.str(`${vol.path}\n`);
    for (let j = 0; j < NUM_VOLHDRS; j++) {
      const copy = vol.selection.copies[j];
      if (!copy.raw) continue;
      const hdr = copy.header!;
      out.str(`Volume ${hdr.voluId} header ${j}: mirror_tid=${hex64(hdr.mirrorTid)}\n`);
      if (!(opts.allHeaders || vol.selection.best === j)) continue;
      if (which === 'volhdr') {
        showVolhdr(ctx, hdr, j);
        nextLoff = nextVolume(hdr, loff);
      } else {
        const root = headerCopyRootBref(j, which === 'show' ? BREF_TYPE_VOLUME : BREF_TYPE_FREEMAP, hdr.mirrorTid);
        showBref(ctx, hdr, 0, j, brefBytes(root), 0, 0, 0);
        nextLoff = NO_VOLUME;
      }
      if (opts.allHeaders && j !== NUM_VOLHDRS - 1) out.str('\n');
    }
    if (nextLoff === NO_VOLUME) break;
    out.str('---------------------------------------------\n');
  }

  if (which === 'freemap' && opts.verbose < 3) {
    const t = ctx.totals;
    const g = (x: bigint): string => fixedRatio(x, GB, 3, 6);
    out.str(`Total unallocated storage:   ${g(t.accum16[0])}GB (${g(t.accum64[0])}GB in 64KB chunks)\n`);
    out.str(`Total possibly free storage: ${g(t.accum16[2])}GB (${g(t.accum64[2])}GB in 64KB chunks)\n`);
    out.str(`Total allocated storage:     ${g(t.accum16[3])}GB (${g(t.accum64[3])}GB in 64KB chunks)\n`);
    out.str(`Total unavailable storage:   ${g(t.unavail)}GB\n`);
    out.str(`Total freemap storage:       ${g(t.freemap)}GB\n`);
  }
}
