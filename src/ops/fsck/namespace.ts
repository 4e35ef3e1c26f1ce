/**
 * Pass 3, per PFS, from what the walk recorded: every entry names an existing inode of the
 * right type; link counts equal the entries; a directory has one entry and its iparent is the
 * directory holding it; no inode is left without an entry; no data lies beyond end of file.
 *
 * Directory link counts: the current kernel gives a new directory 2 and adds one per
 * subdirectory, while newfs, makefs and older kernels leave 1 and never count. Both are valid.
 */
import { hex64 } from '../../format/bytes';
import { BREF_TYPE_DIRENT, OBJTYPE_DIRECTORY, PFS_ROOT_INUM } from '../../format/constants';
import { PfsFacts } from './facts';
import { locate } from './location';
import { Report, locateInode } from './topology';

export function namespacePass(pfs: PfsFacts, report: Report): void {
  if (!pfs.selected) return;
  const subdirs = new Map<bigint, number>();
  for (const [inum, r] of pfs.refs) {
    const owner = r.dirs[0] === PFS_ROOT_INUM ? pfs.key : r.dirs[0];
    const entryLoc = locate(BREF_TYPE_DIRENT, r.dataOff, r.key, () => `${pfs.name}:0x${hex64(r.dirs[0])} key 0x${hex64(r.key)}`, {
      pfs: pfs.key,
      owner,
      type: BREF_TYPE_DIRENT,
      key: r.key,
      dataOff: r.dataOff,
    });
    const ino = pfs.inodes.get(inum);
    if (!ino) {
      report('DIRENT_DANGLING', entryLoc, `0x${hex64(inum)}${r.count > 1 ? ` (${r.count} entries)` : ''}`);
      continue;
    }
    if (r.type !== ino.type) report('DIRENT_TYPE', entryLoc, `${r.type}, the inode's is ${ino.type}`);
    if (ino.type === OBJTYPE_DIRECTORY) subdirs.set(r.dirs[0], (subdirs.get(r.dirs[0]) ?? 0) + 1);
  }
  for (const [inum, ino] of pfs.inodes) {
    const loc = locateInode(pfs, inum, ino.dataOff);
    const r = pfs.refs.get(inum);
    const entries = r?.count ?? 0;
    if (inum === PFS_ROOT_INUM) {
      report('INODE_DUP', loc, 'the PFS root number is used by an ordinary inode');
      continue;
    }
    if (!r) {
      report('INODE_ORPHAN', loc, `nlinks ${ino.nlinks}`);
      continue;
    }
    if (ino.type === OBJTYPE_DIRECTORY) {
      if (entries > 1) report('DIR_MULTI_LINK', loc, String(entries));
      const counted = 2n + BigInt(subdirs.get(inum) ?? 0);
      if (ino.nlinks !== 1n && ino.nlinks !== counted) report('LINK_COUNT', loc, `${ino.nlinks}, expected 1 or ${counted}`);
      if (ino.iparent !== r.dirs[0]) report('IPARENT', loc, `0x${hex64(ino.iparent)}, its entry is in 0x${hex64(r.dirs[0])}`);
    } else if (ino.nlinks !== BigInt(entries)) {
      report('LINK_COUNT', loc, `${ino.nlinks}, ${entries} entr${entries === 1 ? 'y' : 'ies'} refer to it`);
    }
    if (ino.lastDataKey >= 0n && ino.lastDataKey >= ino.size) {
      report('FILE_EXTENT', loc, `a data block at offset 0x${hex64(ino.lastDataKey)} lies beyond the size ${ino.size}`);
    }
  }
}
