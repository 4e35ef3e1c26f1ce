/**
 * The problem table, after e2fsck's: every finding has a stable code, a severity, a message
 * template, the repair it implies, and whether preen mode may make that repair unasked.
 * Messages name where: `{where}` is filled with the location of the finding.
 */
import { Location } from './location';

export type Severity = 'error' | 'warning' | 'info';

export interface ProblemDef {
  code: string;
  severity: Severity;
  /** `{where}` and `{detail}` are filled in */
  message: string;
  repair: string;
  /** a fix preen (-p) may make without asking */
  preenSafe: boolean;
  /** reported only: nothing to fix */
  noFix: boolean;
}

const P = (code: string, severity: Severity, message: string, repair: string, preenSafe = false, noFix = false): ProblemDef => ({
  code,
  severity,
  message,
  repair,
  preenSafe,
  noFix,
});

export const PROBLEMS = {
  HDR_BAD_MAGIC: P('HDR_BAD_MAGIC', 'error', 'volume header {where}: bad magic ({detail})', 'rewrite the copy from the best header', true),
  HDR_REVERSE_ENDIAN: P('HDR_REVERSE_ENDIAN', 'error', 'volume header {where}: byte-swapped (written on a big-endian host)', 'rewrite the copy from the best header', true),
  HDR_CRC: P('HDR_CRC', 'error', 'volume header {where}: CRC mismatch ({detail})', 'rewrite the copy from the best header', true),
  HDR_SHORT: P('HDR_SHORT', 'error', 'volume header {where}: the device ends inside it', 'none: the device is truncated', false, true),
  VOLUME_TRUNCATED: P('VOLUME_TRUNCATED', 'error', 'volume {where}: the device ends before the volume does ({detail})', 'none: restore the missing end of the device', false, true),
  HDR_STALE: P('HDR_STALE', 'info', 'volume header {where}: older than the best copy ({detail})', 'none: copies rotate, older ones are rollback points', false, true),
  HDR_DISAGREE: P('HDR_DISAGREE', 'error', 'volume header {where}: {detail} differs from the best copy', 'rewrite the copy from the best header', true),
  BLOCK_CHECK: P('BLOCK_CHECK', 'error', 'block {where}: check code mismatch ({detail})', 'cut the subtree after saving what reads (needs -y)'),
  BLOCK_READ: P('BLOCK_READ', 'error', 'block {where}: cannot be read ({detail})', 'cut the subtree after saving what reads (needs -y)'),
  BLOCK_DECODE: P('BLOCK_DECODE', 'error', 'block {where}: check code good, but the kernel cannot decompress it ({detail})', 're-encode it when a lenient decode fills the logical block, else cut it (needs -y)'),
  BREF_TYPE: P('BREF_TYPE', 'error', 'blockref {where}: invalid type {detail}', 'cut the blockref (needs -y)'),
  BREF_RADIX: P('BREF_RADIX', 'error', 'blockref {where}: invalid size radix {detail}', 'cut the blockref (needs -y)'),
  BREF_OFF_OUTSIDE: P('BREF_OFF_OUTSIDE', 'error', 'blockref {where}: data_off lies outside the volumes', 'cut the blockref (needs -y)'),
  BREF_OFF_RESERVED: P('BREF_OFF_RESERVED', 'error', 'blockref {where}: data_off lies in a reserved segment', 'cut the blockref (needs -y)'),
  BREF_KEY_RANGE: P('BREF_KEY_RANGE', 'error', 'blockref {where}: key outside its parent\'s range {detail}', 'reinsert the blockref (needs -y)'),
  BREF_KEY_ORDER: P('BREF_KEY_ORDER', 'error', 'blockref {where}: keys unsorted or overlapping ({detail})', 'rebuild the block table (needs -y)'),
  BREF_TID: P('BREF_TID', 'warning', 'blockref {where}: mirror_tid above its parent\'s ({detail})', 'lower its tids to the repair\'s commit, which the parents then carry'),
  BLOCK_SHARED: P('BLOCK_SHARED', 'error', 'block {where}: referenced more than once ({detail})', 'copy the block for one of the references (needs -y)'),
  FREEMAP_HOLE: P('FREEMAP_HOLE', 'error', 'freemap {where}: a referenced block is marked free', 'mark it allocated (freemap rebuild)', true),
  FREEMAP_LEAK: P('FREEMAP_LEAK', 'info', 'freemap {where}: allocated but unreferenced', 'none: bulkfree reclaims it (h2kit cleanup)', false, true),
  PFS_ROOT: P('PFS_ROOT', 'error', 'PFS {where}: malformed root inode ({detail})', 'rewrite the field from the PFS name and type (needs -y)'),
  CHILD_MISPLACED: P('CHILD_MISPLACED', 'error', 'blockref {where}: {detail}', 'cut the blockref after saving what reads (needs -y)'),
  INODE_KEY: P('INODE_KEY', 'error', 'inode {where}: its key is not its inode number ({detail})', 'rekey it under its inode number (needs -y)'),
  INODE_DUP: P('INODE_DUP', 'error', 'inode {where}: the inode number is used twice in its PFS', 'cut the second blockref (its inode is lost; needs -y)'),
  INODE_TYPE: P('INODE_TYPE', 'error', 'inode {where}: invalid object type {detail}', 'make it a regular file (its data kept; needs -y)'),
  INODE_MODE: P('INODE_MODE', 'warning', 'inode {where}: mode {detail} has bits outside the permission bits (07777)', 'clear the extra bits', true),
  DIRENT_HASH: P('DIRENT_HASH', 'error', 'dirent {where}: key is not the directory hash of its name ({detail})', 're-enter the name under its hash (needs -y)'),
  DIRENT_NAME: P('DIRENT_NAME', 'error', 'dirent {where}: invalid name ({detail})', 'remove the entry (needs -y)'),
  DIRENT_DANGLING: P('DIRENT_DANGLING', 'error', 'dirent {where}: points to inode {detail}, which does not exist', 'remove the entry (needs -y)'),
  DIRENT_TYPE: P('DIRENT_TYPE', 'warning', 'dirent {where}: type {detail}', 'set the entry type from the inode', true),
  LINK_COUNT: P('LINK_COUNT', 'error', 'inode {where}: link count {detail}', 'set nlinks to the number of entries', true),
  DIR_MULTI_LINK: P('DIR_MULTI_LINK', 'error', 'directory {where}: has {detail} entries (directories have one)', 'remove all but the first entry (needs -y)'),
  IPARENT: P('IPARENT', 'warning', 'directory {where}: iparent {detail}', 'set iparent to the directory holding its entry', true),
  FILE_EXTENT: P('FILE_EXTENT', 'warning', 'inode {where}: {detail}', 'drop the blocks beyond end of file (needs -y)'),
  SYMLINK_BAD: P('SYMLINK_BAD', 'error', 'symlink {where}: {detail}', 'make it a regular file holding the target bytes (needs -y)'),
  INODE_ORPHAN: P('INODE_ORPHAN', 'warning', 'inode {where}: no directory entry refers to it ({detail})', 'reattach it under lost+found, named by inode number (needs -y)'),
  STATS_COUNT: P('STATS_COUNT', 'warning', 'blockref {where}: embed.stats {detail}', 'set the counts to the computed values', true),
  STATS_ALLOCATOR_FREE: P('STATS_ALLOCATOR_FREE', 'warning', 'volume header: allocator_free {detail}', 'set it to the computed value', true),
  FREEMAP_UNREADABLE: P('FREEMAP_UNREADABLE', 'error', 'freemap: cannot be loaded ({detail}); holes and leaks were not checked', 'rebuild the freemap from the topology', true),
  RECOVERY_NEEDED: P('RECOVERY_NEEDED', 'warning', 'freemap_tid {detail}: recovery has not run', 'run the recovery scan (the kernel runs it at mount)', true),
  FREEMAP_TID_BEHIND: P('FREEMAP_TID_BEHIND', 'info', 'freemap_tid {detail}, with nothing to recover', 'none: the kernel leaves it so when a flush has no freemap change', false, true),
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export interface Problem extends Location {
  code: ProblemCode;
  detail: string;
}

export function render(p: Problem): string {
  const def = PROBLEMS[p.code];
  return def.message.replace('{where}', p.where).replace('{detail}', p.detail);
}

/** One line per problem, sorted by location: zone, data_off, type, key. */
export function sortProblems(list: Problem[]): Problem[] {
  const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...list].sort((a, b) => cmp(a.zone, b.zone) || cmp(a.dataOff, b.dataOff) || a.type - b.type || cmp(a.key, b.key) || a.code.localeCompare(b.code));
}
