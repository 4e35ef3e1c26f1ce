/**
 * `dump pfs`, `dump inode` and `dump file`: the filesystem-level views, beyond what the
 * DragonFly tools print.
 */
import { InodeRef, NotFoundError, Pfs, ReadSession, H2Error } from '../../engine';
import {
  OBJTYPE_DIRECTORY,
  OBJTYPE_REGFILE,
  OBJTYPE_SOFTLINK,
  embedStats,
  hex64,
  inodeNameBytes,
  objtypeName,
  pfsSubtypeName,
  pfstypeName,
  uuidToString,
} from '../../format';
import { time64ToStr } from '../common/cfmt';
import { inodeModel } from './model';

export interface PfsRow {
  name: string;
  pfs_type: string;
  pfs_subtype: string;
  inum: bigint;
  pfs_inum: bigint;
  clid: string;
  fsid: string;
  key: bigint;
  data_off: bigint;
  data_count: bigint;
  inode_count: bigint;
}

export function listPfs(s: ReadSession): PfsRow[] {
  return s.fs.listPfs().map((p) => {
    const m = p.inode.meta;
    const st = embedStats(p.bref);
    return {
      name: p.name,
      pfs_type: pfstypeName(m.pfsType),
      pfs_subtype: pfsSubtypeName(m.pfsSubtype),
      inum: m.inum,
      pfs_inum: m.pfsInum,
      clid: uuidToString(m.pfsClid),
      fsid: uuidToString(m.pfsFsid),
      key: p.bref.key,
      data_off: p.bref.dataOff,
      data_count: st.dataCount,
      inode_count: st.inodeCount,
    };
  });
}

export function renderPfsTable(rows: PfsRow[]): string {
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  let s = `${'NAME'.padEnd(w)}  TYPE         CLID                                  FSID\n`;
  for (const r of rows) s += `${r.name.padEnd(w)}  ${r.pfs_type.padEnd(11)}  ${r.clid}  ${r.fsid}\n`;
  return s;
}

/** The PFS to use: the one named, else DATA, else the only one, else an error listing them. */
export function choosePfs(s: ReadSession, name: string | undefined): Pfs {
  if (name) return s.fs.findPfs(name);
  const all = s.fs.listPfs();
  const data = all.find((p) => p.name === 'DATA');
  if (data) return data;
  if (all.length === 1) return all[0];
  throw new NotFoundError(`several PFSs and none is DATA: choose one with --pfs (${all.map((p) => p.name).join(', ')})`);
}

/** An inode by path ("/a/b") or by number ("#1234", "0x4d2" or a plain decimal). */
export function findInode(s: ReadSession, pfs: Pfs, target: string): InodeRef {
  const num = /^(#?)(0x[0-9a-f]+|\d+)$/i.exec(target);
  if (num && !target.includes('/')) return s.fs.lookupInum(pfs, BigInt(num[2]));
  return s.fs.resolvePath(pfs, target);
}

export function inodeDetails(s: ReadSession, ino: InodeRef): Record<string, unknown> {
  const out: Record<string, unknown> = { ...inodeModel(ino.inode), bref: { key: ino.bref.key, data_off: ino.bref.dataOff } };
  if (ino.inode.meta.type === OBJTYPE_SOFTLINK) out.symlink_target = Buffer.from(s.fs.readlink(ino)).toString('utf8');
  return out;
}

export function renderInodeText(s: ReadSession, ino: InodeRef): string {
  const m = ino.inode.meta;
  const lines: [string, string][] = [
    ['name', Buffer.from(inodeNameBytes(ino.inode)).toString('utf8')],
    ['inum', '0x' + hex64(m.inum)],
    ['type', objtypeName(m.type)],
    ['mode', '0' + m.mode.toString(8)],
    ['size', m.size.toString()],
    ['nlinks', m.nlinks.toString()],
    ['uid', uuidToString(m.uid)],
    ['gid', uuidToString(m.gid)],
    ['ctime', time64ToStr(m.ctime)],
    ['mtime', time64ToStr(m.mtime)],
    ['atime', time64ToStr(m.atime)],
    ['btime', time64ToStr(m.btime)],
    ['iparent', '0x' + hex64(m.iparent)],
    ['name_key', '0x' + hex64(m.nameKey)],
    ['op_flags', '0x' + m.opFlags.toString(16)],
    ['comp_algo', inodeModel(ino.inode).comp_algo as string],
    ['check_algo', inodeModel(ino.inode).check_algo as string],
    ['data_off', '0x' + hex64(ino.bref.dataOff)],
  ];
  if (m.type === OBJTYPE_SOFTLINK) lines.push(['target', Buffer.from(s.fs.readlink(ino)).toString('utf8')]);
  if (m.type === OBJTYPE_DIRECTORY) {
    let n = 0;
    for (const _ of s.fs.readdir(ino)) n++;
    lines.push(['entries', String(n)]);
  }
  return lines.map(([k, v]) => `${k.padEnd(10)} ${v}\n`).join('');
}

export interface ExtractResult {
  bytes: bigint;
  extents: number;
}

/** Where extracted contents go: a file takes positioned writes (holes stay holes), a pipe a stream. */
export interface ByteSink {
  seekable: boolean;
  write(bytes: Uint8Array, at: bigint): void;
  setSize(size: bigint): void;
}

const ZEROS = new Uint8Array(65536);

/** Copy a regular file's contents to `out`, writing zeros for holes only when it cannot seek. */
export function extractFile(s: ReadSession, ino: InodeRef, out: ByteSink): ExtractResult {
  if (ino.inode.meta.type !== OBJTYPE_REGFILE) {
    throw new H2Error(`inode 0x${hex64(ino.inode.meta.inum)} is a ${objtypeName(ino.inode.meta.type)}, not a regular file`);
  }
  const size = ino.inode.meta.size;
  let pos = 0n;
  let extents = 0;
  const fillTo = (end: bigint): void => {
    while (pos < end) {
      const n = end - pos < BigInt(ZEROS.length) ? Number(end - pos) : ZEROS.length;
      out.write(ZEROS.subarray(0, n), pos);
      pos += BigInt(n);
    }
  };
  s.fs.readFile(ino, (off, bytes) => {
    if (!out.seekable) fillTo(off);
    out.write(bytes, off);
    pos = off + BigInt(bytes.length);
    extents++;
  });
  if (out.seekable) out.setSize(size);
  else fillTo(size);
  return { bytes: size, extents };
}
