/**
 * The problem table, after e2fsck's: every finding has a stable code, a severity, a message
 * template, the repair it implies, and whether preen mode may make that repair unasked.
 * Messages name where: `{where}` is filled with the location of the finding.
 */

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
  HDR_REVERSE_ENDIAN: P('HDR_REVERSE_ENDIAN', 'error', 'volume header {where}: byte-swapped (written on a big-endian host)', 'none: not supported', false, true),
  HDR_CRC: P('HDR_CRC', 'error', 'volume header {where}: CRC mismatch ({detail})', 'rewrite the copy from the best header', true),
  HDR_SHORT: P('HDR_SHORT', 'error', 'volume header {where}: the device ends inside it', 'none: the device is truncated', false, true),
  HDR_STALE: P('HDR_STALE', 'info', 'volume header {where}: older than the best copy ({detail})', 'none: copies rotate, older ones are rollback points', false, true),
  HDR_DISAGREE: P('HDR_DISAGREE', 'error', 'volume header {where}: {detail} differs from the best copy', 'rewrite the copy from the best header', true),
  BLOCK_CHECK: P('BLOCK_CHECK', 'error', 'block {where}: check code mismatch ({detail})', 'cut the subtree after saving what reads (needs -y)'),
  BLOCK_READ: P('BLOCK_READ', 'error', 'block {where}: cannot be read ({detail})', 'cut the subtree after saving what reads (needs -y)'),
  BREF_TYPE: P('BREF_TYPE', 'error', 'blockref {where}: invalid type {detail}', 'cut the blockref (needs -y)'),
  BREF_RADIX: P('BREF_RADIX', 'error', 'blockref {where}: invalid size radix {detail}', 'cut the blockref (needs -y)'),
  BREF_OFF_OUTSIDE: P('BREF_OFF_OUTSIDE', 'error', 'blockref {where}: data_off lies outside the volumes', 'cut the blockref (needs -y)'),
  BREF_OFF_RESERVED: P('BREF_OFF_RESERVED', 'error', 'blockref {where}: data_off lies in a reserved segment', 'cut the blockref (needs -y)'),
  BREF_KEY_RANGE: P('BREF_KEY_RANGE', 'error', 'blockref {where}: key outside its parent\'s range {detail}', 'reinsert the blockref (needs -y)'),
  BREF_KEY_ORDER: P('BREF_KEY_ORDER', 'error', 'blockref {where}: keys unsorted or overlapping ({detail})', 'rebuild the block table (needs -y)'),
  BREF_TID: P('BREF_TID', 'warning', 'blockref {where}: mirror_tid above its parent\'s ({detail})', 'raise the parent tids'),
  BLOCK_SHARED: P('BLOCK_SHARED', 'error', 'block {where}: referenced more than once ({detail})', 'copy the block for one of the references (needs -y)'),
  FREEMAP_HOLE: P('FREEMAP_HOLE', 'error', 'freemap {where}: a referenced block is marked free', 'mark it allocated (freemap rebuild)', true),
  FREEMAP_LEAK: P('FREEMAP_LEAK', 'info', 'freemap {where}: allocated but unreferenced', 'free it (freemap rebuild; bulkfree does the same)', true),
  RECOVERY_NEEDED: P('RECOVERY_NEEDED', 'warning', 'freemap_tid {detail} is below mirror_tid: recovery has not run', 'run the recovery scan', true),
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export interface Problem {
  code: ProblemCode;
  /** for sorting: zone, data_off, type, key */
  zone: bigint;
  dataOff: bigint;
  type: number;
  key: bigint;
  where: string;
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
