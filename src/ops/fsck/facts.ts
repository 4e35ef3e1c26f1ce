/**
 * What pass 2's single walk of the tree leaves for the later passes. One small record per inode
 * and per referenced inode number, never one per blockref, so memory follows the inode count.
 */

export interface InodeFacts {
  dataOff: bigint;
  key: bigint;
  type: number;
  nlinks: bigint;
  iparent: bigint;
  size: bigint;
  /** highest DATA key seen under it, -1 when none */
  lastDataKey: bigint;
}

/** The directory entries that name one inode number. */
export interface EntryRefs {
  count: number;
  /** the directories holding them, the first few (enough to judge iparent and multiple links) */
  dirs: bigint[];
  /** the entry type of the first entry, and where that entry is */
  type: number;
  dataOff: bigint;
  key: bigint;
}

export interface PfsFacts {
  name: string;
  /** key of the PFS inode under the super-root */
  key: bigint;
  inodes: Map<bigint, InodeFacts>;
  refs: Map<bigint, EntryRefs>;
  /** problems located inside this PFS are reported (all PFSs unless --pfs names one) */
  selected: boolean;
}

export const MAX_DIRS_KEPT = 4;

export function noteEntry(pfs: PfsFacts, target: bigint, dir: bigint, type: number, dataOff: bigint, key: bigint): void {
  const r = pfs.refs.get(target);
  if (!r) {
    pfs.refs.set(target, { count: 1, dirs: [dir], type, dataOff, key });
    return;
  }
  r.count++;
  if (r.dirs.length < MAX_DIRS_KEPT) r.dirs.push(dir);
}
