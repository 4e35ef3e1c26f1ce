/**
 * Plain-object views of the on-disk structures, for `--json`. Field names follow
 * hammer2_disk.h; 64-bit values stay bigint and are rendered as 0x hex by the JSON writer.
 */
import {
  BMAP_DATA_BYTES,
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  Blockref,
  FREEMAP_COUNT,
  FREEMAP_LEVEL0_SIZE,
  Inode,
  OPFLAG_DIRECTDATA,
  VolumeHeader,
  brefBytes,
  brefCheckMethod,
  brefCompMethod,
  CHECK_NAMES,
  COMP_NAMES,
  breftypeName,
  checkFreemap,
  checkModeName,
  compModeName,
  computeVolumeCrcs,
  decodeBmapData,
  decodeInode,
  INODE_BYTES,
  embedDirent,
  embedStats,
  inodeNameBytes,
  objtypeName,
  pfsSubtypeName,
  pfstypeName,
  uuidToString,
  uuidToUnixId,
  VOL_ICRC_SECT0,
  VOL_ICRC_SECT1,
} from '../../format';
import { ChainReader, HeaderCopy, TraversalGuard, VolumeSet, headerRootBref } from '../../engine';

const nameOf = (names: readonly string[], i: number): string => names[i] ?? `unknown(${i})`;

export function brefModel(b: Blockref): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: breftypeName(b.type),
    type_code: b.type,
    check_method: nameOf(CHECK_NAMES, brefCheckMethod(b)),
    comp_method: nameOf(COMP_NAMES, brefCompMethod(b)),
    copyid: b.copyid,
    keybits: b.keybits,
    vradix: b.vradix,
    flags: b.flags,
    leaf_count: b.leafCount,
    key: b.key,
    mirror_tid: b.mirrorTid,
    modify_tid: b.modifyTid,
    data_off: b.dataOff,
    update_tid: b.updateTid,
  };
  if (b.type === BREF_TYPE_DIRENT) {
    const d = embedDirent(b);
    out.dirent = { inum: d.inum, namlen: d.namlen, type: objtypeName(d.type) };
  } else if (b.type === BREF_TYPE_INODE) {
    const s = embedStats(b);
    out.stats = { data_count: s.dataCount, inode_count: s.inodeCount };
  }
  if (b.type === BREF_TYPE_FREEMAP_NODE || b.type === BREF_TYPE_FREEMAP_LEAF) {
    const f = checkFreemap(b);
    out.freemap = { bigmask: f.bigmask, avail: f.avail };
  }
  return out;
}

export function inodeModel(ino: Inode): Record<string, unknown> {
  const m = ino.meta;
  return {
    filename: Buffer.from(inodeNameBytes(ino)).toString('utf8'),
    version: m.version,
    pfs_subtype: pfsSubtypeName(m.pfsSubtype),
    uflags: m.uflags,
    rmajor: m.rmajor,
    rminor: m.rminor,
    ctime: m.ctime,
    mtime: m.mtime,
    atime: m.atime,
    btime: m.btime,
    uid: uuidToString(m.uid),
    gid: uuidToString(m.gid),
    unix_uid: uuidToUnixId(m.uid),
    unix_gid: uuidToUnixId(m.gid),
    type: objtypeName(m.type),
    op_flags: m.opFlags,
    cap_flags: m.capFlags,
    mode: '0' + m.mode.toString(8),
    inum: m.inum,
    size: m.size,
    nlinks: m.nlinks,
    iparent: m.iparent,
    name_key: m.nameKey,
    name_len: m.nameLen,
    ncopies: m.ncopies,
    comp_algo: compModeName(m.compAlgo),
    check_algo: checkModeName(m.checkAlgo),
    pfs_nmasters: m.pfsNmasters,
    pfs_type: pfstypeName(m.pfsType),
    pfs_inum: m.pfsInum,
    pfs_clid: uuidToString(m.pfsClid),
    pfs_fsid: uuidToString(m.pfsFsid),
    data_quota: m.dataQuota,
    inode_quota: m.inodeQuota,
    pfs_lsnap_tid: m.pfsLsnapTid,
    decrypt_check: m.decryptCheck,
    direct_data: (m.opFlags & OPFLAG_DIRECTDATA) !== 0,
  };
}

export function volumeHeaderModel(h: VolumeHeader): Record<string, unknown> {
  const crcs = computeVolumeCrcs(h.raw);
  return {
    magic: h.magic,
    boot_beg: h.bootBeg,
    boot_end: h.bootEnd,
    aux_beg: h.auxBeg,
    aux_end: h.auxEnd,
    volu_size: h.voluSize,
    version: h.version,
    flags: h.flags,
    copyid: h.copyid,
    freemap_version: h.freemapVersion,
    peer_type: h.peerType,
    volu_id: h.voluId,
    nvolumes: h.nvolumes,
    fsid: uuidToString(h.fsid),
    fstype: uuidToString(h.fstype),
    allocator_size: h.allocatorSize,
    allocator_free: h.allocatorFree,
    allocator_beg: h.allocatorBeg,
    mirror_tid: h.mirrorTid,
    freemap_tid: h.freemapTid,
    bulkfree_tid: h.bulkfreeTid,
    total_size: h.totalSize,
    icrc_sects: h.icrcSects,
    icrc_volheader: h.icrcVolheader,
    crc_ok: {
      sect0: crcs.sect0 === h.icrcSects[VOL_ICRC_SECT0],
      sect1: crcs.sect1 === h.icrcSects[VOL_ICRC_SECT1],
      volheader: crcs.volheader === h.icrcVolheader,
    },
    sroot_blockset: h.srootBlockset.map(brefModel),
    freemap_blockset: h.freemapBlockset.map(brefModel),
    volu_loff: h.voluLoff.filter((x) => x !== 0xffffffffffffffffn),
  };
}

function copyModel(c: HeaderCopy, best: number): Record<string, unknown> {
  return {
    index: c.index,
    offset: c.offset,
    status: c.status,
    best: c.index === best,
    detail: c.detail || undefined,
    header: c.header && c.status !== 'beyond-device' ? volumeHeaderModel(c.header) : null,
  };
}

export function volhdrModel(vols: VolumeSet, all: boolean): Record<string, unknown> {
  return {
    volumes: vols.list.map((v) => ({
      id: v.id,
      path: v.path,
      device_size: v.dev.size,
      best_copy: v.selection.best,
      copies: v.selection.copies
        .filter((c) => all || c.index === v.selection.best)
        .map((c) => copyModel(c, v.selection.best)),
    })),
  };
}

export interface TreeOptions {
  /** read and verify data blocks too */
  verbose: boolean;
}

export interface TreeCounts {
  brefs: number;
  failed: number;
}

/** The chain tree below a root (volume or freemap) as nested objects. */
export function treeModel(
  chains: ChainReader,
  which: 'volume' | 'freemap',
  opts: TreeOptions,
  counts: TreeCounts = { brefs: 0, failed: 0 },
): Record<string, unknown> {
  const h = chains.header;
  const root = headerRootBref(chains, which === 'volume' ? BREF_TYPE_VOLUME : BREF_TYPE_FREEMAP);
  const guard = new TraversalGuard();
  const node = (b: Blockref, depth: number): Record<string, unknown> => {
    counts.brefs++;
    const out = brefModel(b);
    const refused = guard.check(b, depth);
    if (refused) {
      out.error = refused;
      counts.failed++;
      return out;
    }
    const isRoot = b.type === BREF_TYPE_VOLUME || b.type === BREF_TYPE_FREEMAP;
    if (isRoot) {
      out.mirror_tid = h.mirrorTid;
      out.freemap_tid = h.freemapTid;
    }
    let data: Uint8Array = new Uint8Array(0);
    if (!isRoot && brefBytes(b) > 0 && (b.type !== BREF_TYPE_DATA || opts.verbose)) {
      try {
        data = chains.readPhysical(b);
        const check = chains.verify(b, data);
        out.check = { ok: check.ok, stored: check.stored, computed: check.computed };
        if (!check.ok) counts.failed++;
      } catch (e) {
        out.error = (e as Error).message;
        counts.failed++;
        return out;
      }
    }
    if (b.type === BREF_TYPE_INODE && data.length >= INODE_BYTES) out.inode = inodeModel(decodeInode(data));
    if (b.type === BREF_TYPE_FREEMAP_LEAF && data.length > 0) {
      out.segments = Array.from({ length: FREEMAP_COUNT }, (_, i) => {
        const bm = decodeBmapData(data, i * BMAP_DATA_BYTES);
        return {
          offset: b.key + BigInt(i) * FREEMAP_LEVEL0_SIZE,
          class: bm.class,
          linear: bm.linear,
          avail: bm.avail,
          bitmap: bm.bitmapq,
        };
      });
    }
    {
      let kids: Blockref[] = [];
      try {
        kids = chains.children(b, data);
      } catch (e) {
        out.error = (e as Error).message;
      }
      const shown = kids.map((k, i) => ({ k, i })).filter(({ k }) => k.type !== 0);
      if (shown.length > 0) out.children = shown.map(({ k, i }) => ({ index: i, ...node(k, depth + 1) }));
    }
    return out;
  };
  return node(root, 0);
}
