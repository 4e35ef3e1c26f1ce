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
import { Location, locate } from './location';
import { Report, locateInode } from './topology';

export function namespacePass(pfs: PfsFacts, report: Report): void {
  if (!pfs.selected) return;
  const t = pfs.table;
  // subdirectories per directory slot (its entries' first directory), for directory link counts
  const subdirs = new Uint32Array(t.slots);
  for (let s = 0; s < t.slots; s++) {
    if (!t.hasRefs(s)) continue;
    const inum = t.inumAt(s);
    const dir = t.dir0[s];
    const entryLoc = (): Location => {
      const key = t.entKey[s];
      const dataOff = t.entDataOff[s];
      return locate(BREF_TYPE_DIRENT, dataOff, key, () => `${pfs.name}:0x${hex64(dir)} key 0x${hex64(key)}`, {
        pfs: pfs.key,
        owner: dir === PFS_ROOT_INUM ? pfs.key : dir,
        type: BREF_TYPE_DIRENT,
        key,
        dataOff,
      });
    };
    if (!t.hasInode(s)) {
      const count = t.refCount[s];
      report('DIRENT_DANGLING', entryLoc(), `0x${hex64(inum)}${count > 1 ? ` (${count} entries)` : ''}`);
      continue;
    }
    if (t.entType[s] !== t.type[s]) report('DIRENT_TYPE', entryLoc(), `${t.entType[s]}, the inode's is ${t.type[s]}`);
    if (t.type[s] === OBJTYPE_DIRECTORY) {
      // a directory number with no slot has no inode to judge
      const d = t.slotOf(dir);
      if (d >= 0) subdirs[d]++;
    }
  }
  for (let s = 0; s < t.slots; s++) {
    if (!t.hasInode(s)) continue;
    const inum = t.inumAt(s);
    const loc = (): Location => locateInode(pfs, inum, t.dataOff[s]);
    const nlinks = t.nlinks[s];
    if (inum === PFS_ROOT_INUM) {
      report('INODE_DUP', loc(), 'the PFS root number is used by an ordinary inode');
      continue;
    }
    if (!t.hasRefs(s)) {
      report('INODE_ORPHAN', loc(), `nlinks ${nlinks}`);
      continue;
    }
    const entries = t.refCount[s];
    if (t.type[s] === OBJTYPE_DIRECTORY) {
      if (entries > 1) report('DIR_MULTI_LINK', loc(), String(entries));
      const counted = 2n + BigInt(subdirs[s]);
      if (nlinks !== 1n && nlinks !== counted) report('LINK_COUNT', loc(), `${nlinks}, expected 1 or ${counted}`);
      const iparent = t.iparent[s];
      if (iparent !== t.dir0[s]) report('IPARENT', loc(), `0x${hex64(iparent)}, its entry is in 0x${hex64(t.dir0[s])}`);
    } else if (nlinks !== BigInt(entries)) {
      report('LINK_COUNT', loc(), `${nlinks}, ${entries} entr${entries === 1 ? 'y' : 'ies'} refer to it`);
    }
    const last = t.lastData(s);
    if (last >= 0n && last >= t.size[s]) {
      report('FILE_EXTENT', loc(), `a data block at offset 0x${hex64(last)} lies beyond the size ${t.size[s]}`);
    }
  }
}
