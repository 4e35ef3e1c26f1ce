/**
 * The bytes of a new filesystem, as newfs_hammer2 writes them: one 64 KiB block holding the
 * super-root inode and the PFS root inodes, and the volume header of each volume (the same
 * header at every copy). Pure: returns what to write where.
 */
import {
  BREF_FLAG_PFSROOT,
  BREF_TYPE_INODE,
  BREF_TYPE_INVALID,
  Blockref,
  CHECK_XXHASH64,
  COMP_AUTOZERO,
  COMP_DEFAULT,
  COMP_NONE,
  CHECK_DEFAULT,
  INODE_BYTES,
  INODE_VERSION_ONE,
  MAX_VOLUMES,
  OBJTYPE_DIRECTORY,
  OPFLAG_PFSROOT,
  PBUFSIZE,
  PEER_HAMMER2,
  PFSTYPE_MASTER,
  PFSTYPE_SUPROOT,
  PFS_ROOT_INUM,
  RADIX_MIN,
  SET_COUNT,
  UUID_STRING,
  VOLUME_BYTES,
  VOLUME_ID_HBO,
  VOL_VERSION_MULTI_VOLUMES,
  decodeInode,
  decodeVolumeHeader,
  dirhash,
  emptyBlockref,
  encCheck,
  encComp,
  encodeInode,
  makeDataOff,
  sealVolumeHeader,
  setCheck,
  uuidFromString,
  Inode,
} from '../../format';
import { Layout } from './layout';
import { MkfsParams } from './params';

/** Transaction id of everything newfs writes. */
export const NEWFS_TID = 16n;
/** First inode number a new PFS hands out (pfs_inum). */
export const NEWFS_PFS_INUM = 16n;
/** The super-root is its own PFS of type SUPROOT, inode number 0. */
const SUPROOT_NAME = 'SUPROOT';
/** A PFS labelled BOOT is never compressed (newfs and pfs-create agree). */
const BOOT_LABEL = 'BOOT';
/** copyid of a blockref to local storage. */
const COPYID_LOCAL = 0xff;

export interface Write {
  volume: number;
  offset: bigint;
  bytes: Uint8Array;
}

export interface NewFilesystem {
  /** the 64 KiB block of the first inodes (root volume) */
  inodeBlock: Write;
  /** one header per volume, written at each of its copies */
  headers: { volume: number; bytes: Uint8Array; copies: bigint[] }[];
}

function newDirInode(p: MkfsParams, name: string, mode: number): Inode {
  const ino = decodeInode(new Uint8Array(INODE_BYTES));
  const m = ino.meta;
  m.version = INODE_VERSION_ONE;
  m.ctime = p.time;
  m.mtime = p.time;
  m.atime = p.atime;
  m.btime = p.time;
  m.type = OBJTYPE_DIRECTORY;
  m.mode = mode;
  const nameBytes = Buffer.from(name, 'utf8');
  ino.filenameRaw.set(nameBytes);
  m.nameLen = nameBytes.length;
  return ino;
}

/** A 1 KiB inode slot at `off` (blockref data_off as newfs's direct allocator makes it). */
function inodeBref(off: bigint): Blockref {
  const b = emptyBlockref();
  b.dataOff = makeDataOff(off, RADIX_MIN);
  b.vradix = RADIX_MIN;
  b.type = BREF_TYPE_INODE;
  b.copyid = COPYID_LOCAL;
  b.mirrorTid = NEWFS_TID;
  return b;
}

export function buildFilesystem(layout: Layout, p: MkfsParams): NewFilesystem {
  const base = layout.allocBase - (layout.allocBase % BigInt(PBUFSIZE));
  const block = new Uint8Array(PBUFSIZE);
  const srootRef = inodeBref(base);
  srootRef.methods = encCheck(CHECK_XXHASH64) | encComp(COMP_AUTOZERO);

  const pfsRefs: Blockref[] = [];
  layout.labels.forEach((label, i) => {
    const off = base + BigInt((i + 1) * INODE_BYTES);
    const ino = newDirInode(p, label, 0o755);
    const m = ino.meta;
    m.inum = PFS_ROOT_INUM;
    m.nlinks = 1n;
    m.nameKey = dirhash(Buffer.from(label, 'utf8'));
    const isBoot = label.toUpperCase() === BOOT_LABEL;
    m.compAlgo = isBoot ? COMP_AUTOZERO : COMP_DEFAULT;
    m.checkAlgo = isBoot ? CHECK_XXHASH64 : CHECK_DEFAULT;
    const ids = p.pfs.get(label)!;
    m.pfsClid = ids.clid;
    m.pfsFsid = ids.fsid;
    m.pfsType = PFSTYPE_MASTER;
    m.opFlags |= OPFLAG_PFSROOT;
    m.pfsInum = NEWFS_PFS_INUM;
    const bytes = encodeInode(ino);
    block.set(bytes, Number(off - base));
    const ref = inodeBref(off);
    ref.key = m.nameKey;
    ref.methods = encCheck(CHECK_XXHASH64) | encComp(COMP_NONE);
    ref.flags = BREF_FLAG_PFSROOT;
    setCheck(ref, bytes);
    pfsRefs.push(ref);
  });

  const sroot = newDirInode(p, SUPROOT_NAME, 0o700);
  sroot.meta.inum = 0n;
  sroot.meta.nlinks = 2n;
  sroot.meta.compAlgo = COMP_AUTOZERO;
  sroot.meta.checkAlgo = CHECK_XXHASH64;
  sroot.meta.pfsClid = p.supClid;
  sroot.meta.pfsFsid = p.supFsid;
  sroot.meta.pfsType = PFSTYPE_SUPROOT;
  // The super-root's blockset is fully associative; newfs sorts the PFS roots by key.
  const sorted = [...pfsRefs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  sroot.blockset = Array.from({ length: SET_COUNT }, (_, i) => sorted[i] ?? emptyBlockref());
  const srootBytes = encodeInode(sroot);
  block.set(srootBytes, 0);
  setCheck(srootRef, srootBytes);

  const headers = layout.volumes.map((vol) => {
    const h = decodeVolumeHeader(new Uint8Array(VOLUME_BYTES));
    const root = vol.id === 0;
    h.magic = VOLUME_ID_HBO;
    if (root) {
      h.bootBeg = layout.bootBase;
      h.bootEnd = layout.bootBase + layout.bootSize;
      h.auxBeg = layout.auxBase;
      h.auxEnd = layout.auxBase + layout.auxSize;
    }
    h.voluSize = vol.size;
    h.version = layout.version;
    if (layout.version >= VOL_VERSION_MULTI_VOLUMES) {
      h.voluId = vol.id;
      h.nvolumes = layout.volumes.length;
      h.totalSize = layout.totalSize;
      h.voluLoff = Array.from({ length: MAX_VOLUMES }, (_, i) =>
        i < layout.volumes.length ? layout.volumes[i].offset : 0xffffffffffffffffn,
      );
    }
    h.fsid = p.volFsid;
    h.fstype = uuidFromString(UUID_STRING);
    h.peerType = PEER_HAMMER2;
    h.allocatorSize = layout.freeSize;
    if (root) {
      h.allocatorFree = layout.freeSize;
      h.allocatorBeg = base + BigInt((layout.labels.length + 1) * INODE_BYTES);
      h.srootBlockset = [srootRef, emptyBlockref(), emptyBlockref(), emptyBlockref()];
    } else {
      // Other volumes carry no super-root: their set is marked invalid.
      h.srootBlockset = Array.from({ length: SET_COUNT }, () => ({ ...emptyBlockref(), type: BREF_TYPE_INVALID }));
    }
    h.mirrorTid = NEWFS_TID;
    h.freemapTid = NEWFS_TID;
    return { volume: vol.id, bytes: sealVolumeHeader(h), copies: vol.headerCopies };
  });
  return { inodeBlock: { volume: 0, offset: base, bytes: block }, headers };
}

