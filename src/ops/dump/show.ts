/**
 * `dump show`, `dump freemap` and `dump volhdr` as text: the output of DragonFly's
 * `hammer2 show`, `hammer2 freemap` and `hammer2 volhdr`, byte for byte, including their
 * quirks (the reserved00A0 lines all print element 0; the leaf summary lines; the header
 * lines of every readable copy, valid or not).
 *
 * Text is produced as latin1 strings so that name bytes pass through unchanged.
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
  BMAP_DATA_BYTES,
  BLOCKREF_BYTES,
  Blockref,
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
  OPFLAG_DIRECTDATA,
  OPFLAG_PFSROOT,
  PBUFSIZE,
  PFSTYPE_SUPROOT,
  SET_COUNT,
  SEGMASK,
  UUID_STRING,
  VolumeHeader,
  ZONE_FREEMAP_00,
  ZONE_FREEMAP_INC,
  brefOffset,
  brefRadix,
  breftypeName,
  checkFreemap,
  checkModeName,
  compModeName,
  decCheck,
  decComp,
  decodeBlockrefs,
  decodeBmapData,
  decodeInode,
  decodeVolumeHeader,
  embedDirent,
  embedStats,
  hex64,
  objtypeName,
  pfsSubtypeName,
  pfstypeName,
  uuidToString,
  verifyCheck,
  VOL_ICRC_SECT0,
  VOL_ICRC_SECT1,
  computeVolumeCrcs,
  OFF_MASK_RADIX,
  META,
  INODE_U_OFF,
  INODE_FILENAME_OFF,
  INODE_BYTES,
} from '../../format';
import { TraversalGuard, VolumeSet, headerCopyRootBref, splitVolumePaths } from '../../engine';
import { cName, fixedRatio, hexN, padRight, time64ToStr } from '../common/cfmt';
import { FreemapTotals, countFreemapBlocks, newFreemapTotals } from './freemap-totals';

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
}

const MB = 1024n * 1024n;
const GB = 1024n * MB;

interface Ctx {
  vols: VolumeSet;
  opts: ShowOptions;
  out: TextSink;
  initTab: number;
  totals: FreemapTotals;
  /** blockrefs and bytes seen, for benchmarks */
  brefs: number;
  bytes: number;
  guard: TraversalGuard;
}

function tabs(n: number): string {
  return ' '.repeat(Math.max(0, n));
}

type MediaRead = { ok: true; data: Uint8Array } | { ok: false; message: string };

/** The tool reads from a 16 KiB aligned base, in a power-of-two size that must fit 64 KiB. */
function ioPlan(bref: Blockref, bytes: bigint): { ioBase: bigint; boff: number; ioBytes: number } | null {
  const ioOff = brefOffset(bref);
  const ioBase = ioOff & ~BigInt(LBUFSIZE - 1);
  const boff = Number(ioOff - ioBase);
  let ioBytes = BigInt(LBUFSIZE);
  while (ioBytes + BigInt(boff) < bytes) ioBytes *= 2n;
  return ioBytes > BigInt(PBUFSIZE) ? null : { ioBase, boff, ioBytes: Number(ioBytes) };
}

function readMedia(vols: VolumeSet, bref: Blockref, bytes: number, plan: { ioBase: bigint; boff: number; ioBytes: number }): MediaRead {
  const failed: MediaRead = { ok: false, message: '(media read failed)\n' };
  const vol = vols.volumeAt(brefOffset(bref));
  if (!vol) return failed;
  let buf: Uint8Array;
  try {
    buf = vol.dev.read(plan.ioBase - vol.offset, plan.ioBytes);
  } catch {
    return failed;
  }
  if (buf.length !== plan.ioBytes) return failed;
  // The tool decodes from a 64 KiB buffer; pad so short blocks decode as it would (zeros here).
  const media = new Uint8Array(PBUFSIZE);
  media.set(buf.subarray(plan.boff, plan.boff + bytes));
  return { ok: true, data: media };
}

function volumeIdOf(vols: VolumeSet, dataOff: bigint): number {
  const v = vols.volumeAt(dataOff & ~OFF_MASK_RADIX);
  return v ? v.id : -1;
}

function showBref(ctx: Ctx, voldata: VolumeHeader, tab: number, bi: number, bref: Blockref, norecurse: number): void {
  const { out, opts, vols } = ctx;
  if (bref.mirrorTid < opts.minMirrorTid) return;
  if (bref.modifyTid < opts.minModifyTid) {
    if (bref.modifyTid !== 0n) return;
    if (bref.type === BREF_TYPE_INODE && bref.leafCount === 0) return;
  }
  if (ctx.initTab === -1) ctx.initTab = tab;
  const refused = ctx.guard.check(bref, Math.trunc((tab - ctx.initTab) / Math.max(1, opts.tab)));
  if (refused) {
    out.write(`${tabs(tab)}(${refused})\n`);
    return;
  }
  ctx.brefs++;

  const radix = brefRadix(bref);
  const bytes = radix === 0 ? 0 : 2 ** radix;
  let media: Uint8Array = new Uint8Array(PBUFSIZE);
  if (bytes) {
    const plan = ioPlan(bref, 1n << BigInt(radix));
    if (!plan) {
      out.write(`(bad block size ${(1n << BigInt(radix)).toString()})\n`);
      return;
    }
    if (bref.type !== BREF_TYPE_DATA || opts.verbose >= 1) {
      const r = readMedia(vols, bref, bytes, plan);
      if (!r.ok) {
        out.write(r.message);
        return;
      }
      media = r.data;
      ctx.bytes += bytes;
    }
  }
  const block = media.subarray(0, bytes);

  let bscan: Blockref[] = [];
  let bcount = 0;
  let failed = false;
  let obrace = true;
  const typeStr = breftypeName(bref.type);
  const typePad = Math.max(0, 8 - typeStr.length);

  let rootHeader: VolumeHeader | null = null;
  switch (bref.type) {
    case BREF_TYPE_INODE: {
      const opFlags = media[META.opFlags];
      if (!(opFlags & OPFLAG_DIRECTDATA)) {
        bscan = decodeBlockrefs(media, INODE_U_OFF, SET_COUNT);
        bcount = SET_COUNT;
      }
      break;
    }
    case BREF_TYPE_INDIRECT:
    case BREF_TYPE_FREEMAP_NODE:
      bcount = Math.floor(bytes / BLOCKREF_BYTES);
      bscan = decodeBlockrefs(media, 0, bcount);
      break;
    case BREF_TYPE_VOLUME:
    case BREF_TYPE_FREEMAP:
      rootHeader = decodeVolumeHeader(media);
      bscan = bref.type === BREF_TYPE_VOLUME ? rootHeader.srootBlockset : rootHeader.freemapBlockset;
      bcount = SET_COUNT;
      break;
  }

  out.write(
    `${tabs(tab)}${typeStr}.${padRight(bi, 3)}${tabs(typePad)} ${hex64(bref.dataOff)} ${hex64(bref.key)}/${padRight(bref.keybits, 2)} `,
  );
  out.write(`\n${tabs(tab + 13)}`);
  out.write(
    `vol=${volumeIdOf(vols, bref.dataOff)} mir=${hex64(bref.mirrorTid)} mod=${hex64(bref.modifyTid)} lfcnt=${bref.leafCount} `,
  );
  const isFreemapBlock = bref.type === BREF_TYPE_FREEMAP_NODE || bref.type === BREF_TYPE_FREEMAP_LEAF;
  if (bcount || bref.flags || isFreemapBlock) out.write(`\n${tabs(tab + 13)}`);
  if (bcount) out.write(`bcnt=${bcount} `);
  if (bref.flags) out.write(`flags=${hexN(bref.flags, 2)} `);
  if (isFreemapBlock) {
    const fm = checkFreemap(bref);
    out.write(`bigmask=${hexN(fm.bigmask, 8)} avail=${fm.avail} `);
  }

  if (bytes && (bref.type !== BREF_TYPE_DATA || opts.verbose >= 1)) {
    out.write(`\n${tabs(tab + 13)}`);
    const checkAlgo = decCheck(bref.methods);
    const checkStr = checkModeName(checkAlgo);
    const compStr = compModeName(decComp(bref.methods));
    const res = verifyCheck(bref, block);
    switch (checkAlgo) {
      case CHECK_NONE:
      case CHECK_DISABLED:
        out.write(`meth=${checkStr}|${compStr} `);
        break;
      case CHECK_ISCSI32:
        if (!res.ok) {
          out.write(`(icrc ${checkStr}|${compStr} ${res.stored}/${res.computed} failed) `);
          failed = true;
        } else out.write(`meth=${checkStr}|${compStr} iscsi32=${res.computed} `);
        break;
      case CHECK_XXHASH64:
        if (!res.ok) {
          out.write(`(xxhash64 ${checkStr}|${compStr} ${res.stored}/${res.computed} failed) `);
          failed = true;
        } else out.write(`meth=${checkStr}|${compStr} xxh=${res.computed} `);
        break;
      case CHECK_SHA192:
        if (!res.ok) {
          out.write(`(sha192 ${checkStr}:${compStr} failed) `);
          failed = true;
        } else out.write(`meth=${checkStr}|${compStr} `);
        break;
      case CHECK_FREEMAP:
        if (!res.ok) {
          out.write(`(fcrc ${checkStr}|${compStr} ${res.stored}/${res.computed} failed) `);
          failed = true;
        } else out.write(`meth=${checkStr}|${compStr} fcrc=${res.computed} `);
        break;
    }
  }

  tab += opts.tab;
  let namelen = 0;
  let inodeName: Uint8Array = new Uint8Array(0);

  switch (bref.type) {
    case BREF_TYPE_EMPTY:
      if (norecurse) out.write('\n');
      obrace = false;
      break;
    case BREF_TYPE_DIRENT: {
      out.write('{\n');
      const head = embedDirent(bref);
      const src = head.namlen <= bref.check.length ? bref.check : media;
      out.write(`${tabs(tab)}filename "${cName(src, head.namlen)}"\n`);
      out.write(`${tabs(tab)}inum 0x${hex64(head.inum)}\n`);
      out.write(`${tabs(tab)}nlen ${head.namlen}\n`);
      out.write(`${tabs(tab)}type ${objtypeName(head.type)}\n`);
      break;
    }
    case BREF_TYPE_INODE: {
      out.write('{\n');
      const ino = decodeInode(media);
      const m = ino.meta;
      namelen = m.nameLen > INODE_MAXNAME ? 0 : m.nameLen;
      inodeName = media.subarray(INODE_FILENAME_OFF, INODE_BYTES);
      const isPfs = (m.opFlags & OPFLAG_PFSROOT) !== 0 || m.pfsType === PFSTYPE_SUPROOT;
      const t = tabs(tab);
      let s = `${t}filename "${cName(inodeName, namelen)}"\n`;
      s += `${t}version  ${m.version}\n`;
      if (isPfs) s += `${t}pfs_st   ${m.pfsSubtype} (${pfsSubtypeName(m.pfsSubtype)})\n`;
      s += `${t}uflags   0x${hexN(m.uflags, 8)}\n`;
      if (m.rmajor || m.rminor) {
        s += `${t}rmajor   ${m.rmajor | 0}\n`;
        s += `${t}rminor   ${m.rminor | 0}\n`;
      }
      s += `${t}ctime    ${time64ToStr(m.ctime)}\n`;
      s += `${t}mtime    ${time64ToStr(m.mtime)}\n`;
      s += `${t}atime    ${time64ToStr(m.atime)}\n`;
      s += `${t}btime    ${time64ToStr(m.btime)}\n`;
      s += `${t}uid      ${uuidToString(m.uid)}\n`;
      s += `${t}gid      ${uuidToString(m.gid)}\n`;
      s += `${t}type     ${objtypeName(m.type)}\n`;
      s += `${t}opflgs   0x${hexN(m.opFlags, 2)}\n`;
      s += `${t}capflgs  0x${hexN(m.capFlags, 4)}\n`;
      s += `${t}mode     ${padRight(m.mode.toString(8), 7)}\n`;
      s += `${t}inum     0x${hex64(m.inum)}\n`;
      s += `${t}size     ${m.size} `;
      s += m.opFlags & OPFLAG_DIRECTDATA && m.size <= BigInt(EMBEDDED_BYTES) ? '(embedded data)\n' : '\n';
      s += `${t}nlinks   ${m.nlinks}\n`;
      s += `${t}iparent  0x${hex64(m.iparent)}\n`;
      s += `${t}name_key 0x${hex64(m.nameKey)}\n`;
      s += `${t}name_len ${m.nameLen}\n`;
      s += `${t}ncopies  ${m.ncopies}\n`;
      s += `${t}compalg  ${compModeName(m.compAlgo)}\n`;
      s += `${t}checkalg ${checkModeName(m.checkAlgo)}\n`;
      if (isPfs) {
        s += `${t}pfs_nmas ${m.pfsNmasters}\n`;
        s += `${t}pfs_type ${m.pfsType} (${pfstypeName(m.pfsType)})\n`;
        s += `${t}pfs_inum 0x${hex64(m.pfsInum)}\n`;
        s += `${t}pfs_clid ${uuidToString(m.pfsClid)}\n`;
        s += `${t}pfs_fsid ${uuidToString(m.pfsFsid)}\n`;
        s += `${t}pfs_lsnap_tid 0x${hex64(m.pfsLsnapTid)}\n`;
      }
      const st = embedStats(bref);
      s += `${t}data_quota  ${m.dataQuota}\n`;
      s += `${t}data_count  ${st.dataCount}\n`;
      s += `${t}inode_quota ${m.inodeQuota}\n`;
      s += `${t}inode_count ${st.inodeCount}\n`;
      out.write(s);
      break;
    }
    case BREF_TYPE_INDIRECT:
      out.write('{\n');
      break;
    case BREF_TYPE_DATA:
      out.write('\n');
      obrace = false;
      break;
    case BREF_TYPE_VOLUME:
    case BREF_TYPE_FREEMAP:
      out.write(`mirror_tid=${hex64(rootHeader!.mirrorTid)} freemap_tid=${hex64(rootHeader!.freemapTid)} {\n`);
      break;
    case BREF_TYPE_FREEMAP_LEAF: {
      out.write('{\n');
      out.write(`${tabs(tab)}rotation=${rotationOf(bref)}\n`);
      let s = '';
      for (let i = 0; i < FREEMAP_COUNT; i++) {
        const bm = decodeBmapData(media, i * BMAP_DATA_BYTES);
        const dataOff = (bref.key + BigInt(i) * FREEMAP_LEVEL0_SIZE) & 0xffffffffffffffffn;
        s += `${tabs(tab + 4)}${hex64(dataOff)} ${String(i).padStart(4, '0')}.${hexN(bm.class, 4)} linear=${hexN(bm.linear, 6)} avail=${hexN(bm.avail, 6)}`;
        for (const w of bm.bitmapq) s += ` ${hex64(w)}`;
        s += '\n';
      }
      s += `${tabs(tab)}}\n`;
      out.write(s);
      break;
    }
    case BREF_TYPE_FREEMAP_NODE:
      out.write('{\n');
      out.write(`${tabs(tab)}rotation=${rotationOf(bref)}\n`);
      break;
    default:
      out.write('\n');
      obrace = false;
      break;
  }

  if (bref.type === BREF_TYPE_FREEMAP_LEAF) {
    for (let i = 0; i < FREEMAP_COUNT; i++) {
      const dataOff = bref.key + BigInt(i) * FREEMAP_LEVEL0_SIZE;
      if (dataOff >= voldata.auxEnd && dataOff < vols.totalSize) {
        countFreemapBlocks(decodeBmapData(media, i * BMAP_DATA_BYTES), ctx.totals);
      } else {
        ctx.totals.unavail += FREEMAP_LEVEL0_SIZE;
      }
    }
    ctx.totals.freemap += FREEMAP_LEVEL1_SIZE;
  }

  if (opts.depth === -1 || Math.trunc((tab - ctx.initTab) / opts.tab) < opts.depth) {
    for (let i = 0; norecurse === 0 && i < bcount; i++) {
      if (bscan[i].type !== BREF_TYPE_EMPTY) showBref(ctx, voldata, tab, i, bscan[i], failed ? 1 : 0);
    }
  }
  tab -= opts.tab;
  if (obrace) {
    if (bref.type === BREF_TYPE_INODE) out.write(`${tabs(tab)}} (${typeStr}.${bi}, "${cName(inodeName, namelen)}")\n`);
    else out.write(`${tabs(tab)}} (${typeStr}.${bi})\n`);
  }
}

/** Which of the 8 freemap rotation sets a freemap block sits in. */
function rotationOf(bref: Blockref): number {
  const blk = Number((brefOffset(bref) & SEGMASK) / BigInt(PBUFSIZE));
  return Math.trunc((blk - ZONE_FREEMAP_00) / ZONE_FREEMAP_INC);
}

function showVolhdr(ctx: Ctx, v: VolumeHeader, bi: number): void {
  const { out } = ctx;
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
  out.write(s);
  v.srootBlockset.forEach((b, i) => showBref(ctx, v, 16, i, b, 2));
  out.write('    }\n    freemap_blockset {\n');
  v.freemapBlockset.forEach((b, i) => showBref(ctx, v, 16, i, b, 2));
  out.write('    }\n');
  if (v.voluLoff.some((x) => x !== 0n)) {
    out.write('\n');
    v.voluLoff.forEach((loff, i) => {
      if (loff !== NO_VOLUME) out.write(`    volu_loff[${i}]   0x${hex64(loff)}\n`);
    });
  }
  out.write('}\n');
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
export function renderShow(vols: VolumeSet, which: ShowWhich, opts: ShowOptions, out: TextSink, diag?: TextSink): ShowResult {
  if (diag) {
    const d = headerDiagnostics(vols);
    if (d) diag.write(d);
  }
  const ctx: Ctx = { vols, opts, out, initTab: -1, totals: newFreemapTotals(), brefs: 0, bytes: 0, guard: new TraversalGuard() };
  for (const v of vols.list) out.write(`checkvolu header ${v.id} ${hex64(v.size)}/${hex64(v.dev.size)}\n`);

  let nextLoff = 0n;
  for (let i = 0; i < vols.list.length; i++) {
    const loff = nextLoff;
    const vol = vols.volumeAt(loff);
    if (!vol) break;
    out.write(`${vol.path}\n`);
    for (let j = 0; j < NUM_VOLHDRS; j++) {
      const copy = vol.selection.copies[j];
      if (!copy.raw) continue;
      const hdr = copy.header!;
      out.write(`Volume ${hdr.voluId} header ${j}: mirror_tid=${hex64(hdr.mirrorTid)}\n`);
      if (!(opts.allHeaders || vol.selection.best === j)) continue;
      if (which === 'volhdr') {
        showVolhdr(ctx, hdr, j);
        nextLoff = nextVolume(hdr, loff);
      } else {
        const root = headerCopyRootBref(j, which === 'show' ? BREF_TYPE_VOLUME : BREF_TYPE_FREEMAP, hdr.mirrorTid);
        showBref(ctx, hdr, 0, j, root, 0);
        nextLoff = NO_VOLUME;
      }
      if (opts.allHeaders && j !== NUM_VOLHDRS - 1) out.write('\n');
    }
    if (nextLoff === NO_VOLUME) break;
    out.write('---------------------------------------------\n');
  }

  if (which === 'freemap' && opts.verbose < 3) {
    const t = ctx.totals;
    const g = (x: bigint): string => fixedRatio(x, GB, 3, 6);
    out.write(`Total unallocated storage:   ${g(t.accum16[0])}GB (${g(t.accum64[0])}GB in 64KB chunks)\n`);
    out.write(`Total possibly free storage: ${g(t.accum16[2])}GB (${g(t.accum64[2])}GB in 64KB chunks)\n`);
    out.write(`Total allocated storage:     ${g(t.accum16[3])}GB (${g(t.accum64[3])}GB in 64KB chunks)\n`);
    out.write(`Total unavailable storage:   ${g(t.unavail)}GB\n`);
    out.write(`Total freemap storage:       ${g(t.freemap)}GB\n`);
  }
  return { brefs: ctx.brefs, bytes: ctx.bytes };
}

