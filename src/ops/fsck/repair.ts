/**
 * Repairs (fsck -y, -p, or asked one by one). Rounds, as e2fsck restarts: check, pick the
 * problems to fix, make every fix of the round through one engine write session and its
 * copy-on-write commit, then check again; a fix can reveal the next problem (a cut directory
 * block leaves orphans, a cut block leaves leaks). Damaged header copies are rewritten from
 * the best copy after the commit. Nothing is written when nothing is chosen, and never on a
 * truncated device.
 */
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_INODE,
  DIRHASH_VISIBLE,
  FREEMAP_BLOCK_RADIX,
  KEY_MAX,
  MODE_PERM_MASK,
  OBJTYPE_DIRECTORY,
  OBJTYPE_REGFILE,
  OPFLAG_DIRECTDATA,
  PFSTYPE_MASTER,
  PFS_ROOT_INUM,
} from '../../format/constants';
import { Blockref, cloneBlockref, embedDirent, embedStats, keyEnd, setEmbedDirent } from '../../format/blockref';
import { breftypeName } from '../../format/names';
import { setCheck } from '../../format/check';
import { hex64 } from '../../format/bytes';
import { FormatError } from '../../format/errors';
import {
  Chain,
  FsWriter,
  H2Error,
  UndoLog,
  UndoOptions,
  WritableSource,
  WriteRun,
  WriteSession,
} from '../../engine';
import { CheckOptions, CheckReport, checkFilesystem } from './check';
import { reencode } from './compressed';
import { PfsFacts } from './facts';
import { Target } from './location';
import { PROBLEMS, Problem, ProblemCode } from './problems';

export type RepairMode = 'yes' | 'preen' | 'ask';
export type Answer = 'y' | 'n' | 'a';

export interface RepairOptions extends CheckOptions {
  mode: RepairMode;
  /** ask mode: the answer for one problem ('a' is yes to this and every later one) */
  ask?: (p: Problem) => Answer;
  /** DANGEROUS: take a block whose check code fails as it is and recompute the code */
  rewriteCheckCodes?: boolean;
  /** open devices with this, for reading and writing (tests pass overlays) */
  opener?: (path: string) => WritableSource;
  /** --undo: save what the run overwrites first */
  undo?: UndoOptions | UndoLog;
}

export interface Fix {
  code: ProblemCode;
  where: string;
  action: string;
}

export interface RepairResult {
  /** the first check, before any change */
  initial: CheckReport;
  /** the check after the last round */
  final: CheckReport;
  fixes: Fix[];
  rounds: number;
  modified: boolean;
}

/** Enough for chains of consequences (cut → orphans → links → leaks), bounded. */
export const MAX_ROUNDS = 6;

/** Findings that depend on having read every directory and inode. */
const NAMESPACE = new Set<ProblemCode>(['INODE_ORPHAN', 'DIRENT_DANGLING', 'LINK_COUNT', 'DIR_MULTI_LINK', 'IPARENT', 'STATS_COUNT']);

const HEADER_CODES = new Set<ProblemCode>(['HDR_BAD_MAGIC', 'HDR_CRC', 'HDR_DISAGREE', 'HDR_REVERSE_ENDIAN']);
const LOST_FOUND = 'lost+found';

/** A check through the run's own devices: the writer lock is held from the first read on. */
function check(run: WriteRun, opts: RepairOptions): CheckReport {
  const vols = run.volumes({ allowTruncated: true });
  try {
    return checkFilesystem(vols, { pfs: opts.pfs, progress: opts.progress });
  } finally {
    vols.close();
  }
}

/** A problem's identity across rounds, for answers already given. */
const identity = (p: Problem): string => `${p.code} ${p.where} ${p.detail}`;

export async function runRepair(spec: string, opts: RepairOptions): Promise<RepairResult> {
  const run = await WriteRun.open(spec, { purpose: 'fsck', opener: opts.opener, undo: opts.undo });
  try {
    return repairRun(run, opts);
  } finally {
    run.close();
  }
}

/** Findings whose subtree the walk could not follow: the blocks below them look unreferenced. */
const HIDES_SUBTREE = new Set<ProblemCode>(['BLOCK_CHECK', 'BLOCK_READ', 'BREF_TYPE', 'BREF_RADIX']);

/** A blockref no fix may cut: the super-root and the PFS roots (cutting them loses everything). */
const isRootTarget = (t: Target | undefined): boolean => !t || t.owner === null || (t.pfs === null && t.type === BREF_TYPE_INODE);

/**
 * A problem that -y would leave whatever else it fixed: an unreadable super-root or PFS root
 * (never cut), a PFS root's name or key, or an error that has no repair.
 */
function unrepairable(p: Problem, opts: RepairOptions): boolean {
  const def = PROBLEMS[p.code];
  if (def.severity === 'info') return false;
  if (def.noFix) return true;
  if (p.code === 'BLOCK_READ' || (p.code === 'BLOCK_CHECK' && !opts.rewriteCheckCodes)) {
    // a freemap block is not cut but rebuilt with the whole freemap (FREEMAP_UNREADABLE)
    if (p.type === BREF_TYPE_FREEMAP_NODE || p.type === BREF_TYPE_FREEMAP_LEAF) return false;
    return isRootTarget(p.target);
  }
  // the PFS_ROOT fix rewrites the type, the number or the PFS type; a lost name or a key that
  // is not its hash has nothing to be rewritten from
  if (p.code === 'PFS_ROOT') return !/not a directory|not 1|unknown PFS type/.test(p.detail);
  return false;
}

function repairRun(run: WriteRun, opts: RepairOptions): RepairResult {
  const initial = check(run, opts);
  // -y either repairs the filesystem or leaves it as it was: when something would be left that
  // no round can fix, nothing is changed (the image stays byte-identical for a better tool).
  if (opts.mode === 'yes' && initial.problems.some((p) => unrepairable(p, opts))) {
    return { initial, final: initial, fixes: [], rounds: 0, modified: false };
  }
  let report = initial;
  const fixes: Fix[] = [];
  const answers = new Map<string, boolean>();
  let always = false;
  let rounds = 0;
  const wanted = (p: Problem): boolean => {
    const def = PROBLEMS[p.code];
    // Notes are not repairs (e2fsck's rule): a check that is clean apart from notes leaves the
    // device as it is. Leaks are bulkfree's to reclaim (h2kit cleanup).
    if (def.noFix || def.severity === 'info') return false;
    if (opts.mode === 'preen') return def.preenSafe;
    if (opts.mode === 'yes' || always) return true;
    const id = identity(p);
    if (!answers.has(id)) {
      const a = opts.ask ? opts.ask(p) : 'n';
      if (a === 'a') always = true;
      answers.set(id, a !== 'n');
    }
    return answers.get(id)!;
  };
  while (rounds < MAX_ROUNDS) {
    // A device shorter than its volume is not written: the missing end must come back first.
    if (report.problems.some((p) => p.code === 'VOLUME_TRUNCATED')) break;
    let chosen = report.problems.filter(wanted);
    if (chosen.length === 0) break;
    // While some block cannot be read, the namespace findings are incomplete (its entries and
    // inodes were not seen): mend the blocks first and judge names and links next round.
    if (chosen.some((p) => p.code === 'BLOCK_CHECK' || p.code === 'BLOCK_READ')) chosen = chosen.filter((p) => !NAMESPACE.has(p.code));
    // Nor is a granule below a block the walk could not follow a leak: freeing it would hand out
    // live space. Leaks are judged once every block reads (the next round, after the cuts).
    if (report.problems.some((p) => HIDES_SUBTREE.has(p.code))) chosen = chosen.filter((p) => p.code !== 'FREEMAP_LEAK');
    rounds++;
    const made = repairRound(run, chosen, report, opts);
    if (made.length === 0) break;
    fixes.push(...made);
    report = check(run, opts);
  }
  return { initial, final: report, fixes, rounds, modified: fixes.length > 0 };
}

interface Ctx {
  s: WriteSession;
  w: FsWriter;
  facts: Map<bigint, PfsFacts>;
  opts: RepairOptions;
  fixes: Fix[];
  lostFound: Map<bigint, Chain>;
  /** inode numbers a rekey made reachable in this round: their entries no longer dangle */
  rekeyed: Set<bigint>;
}

function repairRound(run: WriteRun, chosen: Problem[], report: CheckReport, opts: RepairOptions): Fix[] {
  const fixes: Fix[] = [];
  const inSession = chosen.filter((p) => !HEADER_CODES.has(p.code));
  if (inSession.length > 0) {
    const fresh = inSession.some((p) => p.code === 'FREEMAP_UNREADABLE');
    const s = run.session({ freshFreemap: fresh });
    try {
      const ctx: Ctx = { s, w: new FsWriter(s), facts: new Map(report.facts.map((f) => [f.key, f])), opts, fixes, lostFound: new Map(), rekeyed: new Set() };
      if (fresh) {
        const n = s.rebuildFreemap();
        fixes.push({ code: 'FREEMAP_UNREADABLE', where: 'freemap', action: `rebuilt from the topology (${n} blocks marked)` });
      }
      if (inSession.some((p) => p.code === 'RECOVERY_NEEDED')) {
        // the session ran the recovery as it opened
        fixes.push({ code: 'RECOVERY_NEEDED', where: 'volume header', action: `recovery marked ${s.recovered} blocks allocated` });
      }
      // In-place edits first (they keep every table's layout), then what removes or inserts,
      // cuts before moves; one structural fix per blockref (a cut entry is not also moved).
      const order = (p: Problem): number => STRUCTURAL.get(p.code) ?? 0;
      const moved = new Set<string>();
      for (const p of [...inSession].sort((a, b) => order(a) - order(b))) {
        if (p.code === 'FREEMAP_UNREADABLE' || p.code === 'RECOVERY_NEEDED') continue;
        if (STRUCTURAL.has(p.code) && p.target) {
          const id = targetId(p.target);
          if (moved.has(id)) continue;
          moved.add(id);
        }
        let action: string | null = null;
        try {
          action = fixOne(ctx, p);
        } catch (e) {
          if (!(e instanceof H2Error) && !(e instanceof FormatError)) throw e;
          action = null;
        }
        if (action) fixes.push({ code: p.code, where: p.where, action });
      }
      if (fixes.length > 0) s.commit({ exactAllocatorFree: true });
    } finally {
      s.close();
    }
  }
  const headers = chosen.filter((p) => HEADER_CODES.has(p.code) && p.device);
  const copies = new Map<string, number[]>();
  for (const p of headers) copies.set(p.device!, [...(copies.get(p.device!) ?? []), Number(p.key)]);
  for (const [path, wanted] of copies) {
    for (const c of run.rewriteHeaderCopies(path, wanted)) {
      const p = headers.find((h) => h.device === path && Number(h.key) === c)!;
      fixes.push({ code: p.code, where: p.where, action: 'rewritten from the best copy' });
    }
  }
  return fixes;
}

/** Fixes that remove or insert entries, in the order they run (after every in-place edit). */
const STRUCTURAL = new Map<ProblemCode, number>([
  ['INODE_KEY', 1],
  ['BLOCK_CHECK', 2],
  ['BLOCK_READ', 2],
  ['BLOCK_DECODE', 2],
  ['BREF_TYPE', 2],
  ['BREF_RADIX', 2],
  ['BREF_OFF_OUTSIDE', 2],
  ['BREF_OFF_RESERVED', 2],
  ['CHILD_MISPLACED', 2],
  ['INODE_DUP', 2],
  ['DIRENT_NAME', 2],
  ['DIRENT_DANGLING', 2],
  ['DIRENT_HASH', 3],
  ['BREF_KEY_RANGE', 4],
  ['BREF_KEY_ORDER', 4],
  ['DIR_MULTI_LINK', 5],
  ['FILE_EXTENT', 5],
  ['INODE_ORPHAN', 6],
]);

const targetId = (t: Target): string => `${t.pfs}/${t.owner}/${t.type}/${t.key}/${t.dataOff}`;

/** Make one fix; returns what was done, or null when it could not be made. */
function fixOne(ctx: Ctx, p: Problem): string | null {
  const { s } = ctx;
  const t = p.target;
  const held = t ? `cut; it held ${describeHeld(ctx, t)}` : 'cut';
  switch (p.code) {
    case 'FREEMAP_HOLE':
      s.freemap.markAllocated(p.dataOff | BigInt(FREEMAP_BLOCK_RADIX), BREF_TYPE_DATA);
      return 'marked allocated';
    case 'FREEMAP_LEAK':
      s.freemap.free(p.dataOff | BigInt(FREEMAP_BLOCK_RADIX));
      return 'freed';
    case 'STATS_ALLOCATOR_FREE':
      return 'set from the freemap at the commit';
    case 'STATS_COUNT': {
      const c = t && chainAt(ctx, t);
      if (!c) return null;
      s.tree.setDirty(c);
      return 'recomputed from the children';
    }
    case 'INODE_MODE':
      return editInode(ctx, t, (c) => {
        c.inode!.meta.mode &= MODE_PERM_MASK;
        return `mode 0${c.inode!.meta.mode.toString(8)}`;
      });
    case 'INODE_KEY':
      return rekeyOrRenumber(ctx, t);
    case 'INODE_TYPE':
      return editInode(ctx, t, (c) => {
        c.inode!.meta.type = OBJTYPE_REGFILE;
        return 'made a regular file';
      });
    case 'SYMLINK_BAD':
      return editInode(ctx, t, (c) => {
        c.inode!.meta.type = OBJTYPE_REGFILE;
        return 'made a regular file holding the target bytes';
      });
    case 'PFS_ROOT':
      return editInode(ctx, t, (c) => {
        const m = c.inode!.meta;
        if (m.type !== OBJTYPE_DIRECTORY) m.type = OBJTYPE_DIRECTORY;
        else if (m.inum !== PFS_ROOT_INUM) m.inum = PFS_ROOT_INUM;
        else if (/unknown PFS type/.test(p.detail)) m.pfsType = PFSTYPE_MASTER;
        else return null;
        return 'field rewritten';
      });
    case 'LINK_COUNT':
      return editInode(ctx, t, (c) => {
        const m = c.inode!.meta;
        const pfs = t && t.pfs !== null ? ctx.facts.get(t.pfs) : undefined;
        if (!pfs) return null;
        const entries = BigInt(pfs.refs.get(m.inum)?.count ?? 0);
        if (m.type === OBJTYPE_DIRECTORY) {
          let subdirs = 0n;
          for (const [inum, r] of pfs.refs) if (r.dirs[0] === m.inum && pfs.inodes.get(inum)?.type === OBJTYPE_DIRECTORY) subdirs++;
          m.nlinks = m.nlinks > 1n ? 2n + subdirs : 1n;
        } else {
          m.nlinks = entries;
        }
        return `nlinks ${m.nlinks}`;
      });
    case 'IPARENT':
      return editInode(ctx, t, (c) => {
        const pfs = t && t.pfs !== null ? ctx.facts.get(t.pfs) : undefined;
        const r = pfs?.refs.get(c.inode!.meta.inum);
        if (!r) return null;
        c.inode!.meta.iparent = r.dirs[0];
        return `iparent 0x${hex64(r.dirs[0])}`;
      });
    case 'DIRENT_TYPE':
      return editSlot(ctx, t, (b) => {
        const pfs = t && t.pfs !== null ? ctx.facts.get(t.pfs) : undefined;
        const head = embedDirent(b);
        const ino = pfs?.inodes.get(head.inum);
        if (!ino) return null;
        setEmbedDirent(b, { ...head, type: ino.type });
        return `entry type ${ino.type}`;
      });
    case 'BREF_TID':
      return editSlot(ctx, t, (b) => {
        const tid = s.tid;
        if (b.mirrorTid > tid) b.mirrorTid = tid;
        if (b.modifyTid > tid) b.modifyTid = tid;
        return 'tids lowered to this commit';
      });
    case 'BLOCK_SHARED':
      return editSlot(ctx, t, (b) => {
        const bytes = s.chains.readPhysical(b);
        const off = s.freemap.allocate(b.type, bytes.length, b.key);
        s.writeBlock(off, bytes);
        b.dataOff = off;
        return `copied to 0x${hex64(off)}`;
      });
    case 'BLOCK_CHECK':
      if (ctx.opts.rewriteCheckCodes) {
        return editSlot(ctx, t, (b) => {
          setCheck(b, s.chains.readPhysical(b));
          return 'check code recomputed over the block as it is (--rewrite-check-codes)';
        });
      }
      return cut(ctx, t, true, held);
    case 'BLOCK_READ':
      return cut(ctx, t, false, held);
    case 'BLOCK_DECODE':
      return reencodeOrCut(ctx, t, held);
    case 'BREF_TYPE':
    case 'BREF_RADIX':
    case 'BREF_OFF_OUTSIDE':
    case 'BREF_OFF_RESERVED':
    case 'CHILD_MISPLACED':
    case 'INODE_DUP':
    case 'DIRENT_NAME':
      return cut(ctx, t, false, 'entry removed');
    case 'DIRENT_DANGLING': {
      // an entry whose inode a rekey of this round brought back no longer dangles
      const f = t && slotOf(ctx, t);
      if (f && ctx.rekeyed.has(embedDirent(f.parent.table![f.index].bref).inum)) return null;
      return cut(ctx, t, false, 'entry removed');
    }
    case 'BREF_KEY_RANGE':
    case 'BREF_KEY_ORDER':
      // a dirent's key comes from its name: enter it again under the hash
      return t?.type === BREF_TYPE_DIRENT ? rehash(ctx, t) : reinsert(ctx, t);
    case 'DIRENT_HASH':
      return rehash(ctx, t);
    case 'DIR_MULTI_LINK':
      return unlinkExtra(ctx, p);
    case 'FILE_EXTENT':
      return dropBeyondEof(ctx, t);
    case 'INODE_ORPHAN':
      return reattach(ctx, p);
    default:
      return null;
  }
}

/**
 * What an unreadable block held, from its blockref alone (the block itself cannot be read): its
 * type, key range and, for inodes and indirect blocks, the counts its parent records.
 */
function describeHeld(ctx: Ctx, t: Target): string {
  const f = slotOf(ctx, t);
  const b = f ? f.parent.table![f.index].bref : null;
  if (!b) return `a ${breftypeName(t.type)} block`;
  let s = `a ${breftypeName(b.type)} block, keys 0x${hex64(b.key)}-0x${hex64(keyEnd(b))}`;
  if (b.type === BREF_TYPE_INODE || b.type === BREF_TYPE_INDIRECT) {
    const st = embedStats(b);
    s += `, ${st.inodeCount} inodes and ${st.dataCount} bytes below it`;
  }
  return s;
}

// ---- finding a blockref again ------------------------------------------------------------------

/** The inode chain whose tree holds the target's blockref (the volume root for the super-root). */
function ownerOf(ctx: Ctx, t: Target): Chain | null {
  if (t.owner === null) return ctx.s.tree.root;
  if (t.pfs === null) return ctx.w.superRoot();
  const pfs = ctx.w.pfsRootAt(t.pfs);
  if (!pfs || t.owner === t.pfs) return pfs;
  return ctx.w.inodeChain(pfs, t.owner);
}

/** The table entry holding the target's blockref, matched by type, key and data_off. */
function slotOf(ctx: Ctx, t: Target): { parent: Chain; index: number } | null {
  const owner = ownerOf(ctx, t);
  if (!owner) return null;
  const f = ctx.s.tree.lookup(owner, t.key, t.type);
  const table = f.parent.table;
  if (!table) return null;
  const match = (b: Blockref): boolean => b.type === t.type && b.key === t.key && b.dataOff === t.dataOff;
  if (f.index >= 0 && match(table[f.index].bref)) return f;
  // two entries with one key (a duplicate or an out-of-order entry): look at the whole table
  const i = table.findIndex((s) => match(s.bref));
  if (i >= 0) return { parent: f.parent, index: i };
  // an entry in an indirect block whose range does not hold its key: search the whole tree
  return findAnywhere(ctx, owner, match);
}

function findAnywhere(ctx: Ctx, node: Chain, match: (b: Blockref) => boolean, depth = 0): { parent: Chain; index: number } | null {
  if (!node.table || depth > 16) return null;
  for (let i = 0; i < node.table.length; i++) {
    const b = node.table[i].bref;
    if (match(b)) return { parent: node, index: i };
    if (b.type === BREF_TYPE_INDIRECT) {
      const hit = findAnywhere(ctx, ctx.s.tree.child(node, i), match, depth + 1);
      if (hit) return hit;
    }
  }
  return null;
}

function chainAt(ctx: Ctx, t: Target): Chain | null {
  const f = slotOf(ctx, t);
  return f ? ctx.s.tree.child(f.parent, f.index) : null;
}

function editInode(ctx: Ctx, t: Target | undefined, fn: (c: Chain) => string | null): string | null {
  const c = t && chainAt(ctx, t);
  if (!c || !c.inode) return null;
  const out = fn(c);
  if (out) ctx.s.tree.setDirty(c);
  return out;
}

function editSlot(ctx: Ctx, t: Target | undefined, fn: (b: Blockref) => string | null): string | null {
  const f = t && slotOf(ctx, t);
  if (!f) return null;
  let out: string | null = null;
  ctx.s.tree.editSlot(f.parent, f.index, (b) => {
    if (out === null) out = fn(b);
    else fn(b);
  });
  return out;
}

/** A block the kernel cannot decode: written again when its bytes can be salvaged, else cut. */
function reencodeOrCut(ctx: Ctx, t: Target | undefined, held: string): string | null {
  const f = t && slotOf(ctx, t);
  if (!f) return null;
  // re-encode once, on a copy: editSlot applies its edit to the table and to a loaded chain
  const nb = cloneBlockref(f.parent.table![f.index].bref);
  const action = reencode(ctx.s, nb);
  if (!action) return cut(ctx, t, true, held);
  ctx.s.tree.editSlot(f.parent, f.index, (b) => {
    b.dataOff = nb.dataOff;
    b.methods = nb.methods;
    b.check.set(nb.check);
  });
  return action;
}

/** Remove a blockref; the super-root and PFS roots are never cut (that would lose everything). */
function cut(ctx: Ctx, t: Target | undefined, releaseSelf: boolean, action: string): string | null {
  if (!t || isRootTarget(t)) return null;
  const f = slotOf(ctx, t);
  if (!f) return null;
  ctx.s.tree.cut(f.parent, f.index, ctx.s.freemap, releaseSelf);
  return action;
}

/** An entry out of its place: take it out and insert it again where its key belongs. */
function reinsert(ctx: Ctx, t: Target | undefined): string | null {
  if (!t) return null;
  const f = slotOf(ctx, t);
  const owner = ownerOf(ctx, t);
  if (!f || !owner) return null;
  const b = f.parent.table![f.index].bref;
  ctx.s.tree.cut(f.parent, f.index, ctx.s.freemap, false);
  try {
    ctx.s.tree.insert(owner, b, null);
    return 'moved to where its key belongs';
  } catch {
    return 'removed (its key overlaps another entry)';
  }
}

/**
 * An inode whose key is not its number: when entries name its number and no other inode has
 * it, the key was damaged and the blockref moves under its number; otherwise the number takes
 * the key.
 */
function rekeyOrRenumber(ctx: Ctx, t: Target | undefined): string | null {
  const c = t && chainAt(ctx, t);
  const facts = t && t.pfs !== null ? ctx.facts.get(t.pfs) : undefined;
  if (!t || !c || !c.inode || !facts) return null;
  const inum = c.inode.meta.inum;
  if (facts.refs.has(inum) && !facts.inodes.has(inum)) {
    const f = slotOf(ctx, t);
    const owner = ownerOf(ctx, t);
    if (!f || !owner) return null;
    const b = cloneBlockref(f.parent.table![f.index].bref);
    ctx.s.tree.cut(f.parent, f.index, ctx.s.freemap, false);
    b.key = inum;
    ctx.s.tree.insert(owner, b, null);
    ctx.rekeyed.add(inum);
    return `moved under its number 0x${hex64(inum)}`;
  }
  c.inode.meta.inum = c.bref.key;
  ctx.s.tree.setDirty(c);
  return `inode number set to 0x${hex64(c.bref.key)}`;
}

/** A dirent under the wrong key: enter the name again under its hash. */
function rehash(ctx: Ctx, t: Target | undefined): string | null {
  if (!t || t.pfs === null || t.owner === null) return null;
  const f = slotOf(ctx, t);
  const dir = ownerOf(ctx, t);
  if (!f || !dir) return null;
  const b = f.parent.table![f.index].bref;
  const name = Uint8Array.from(ctx.w.direntName(f.parent, f.index));
  const head = embedDirent(b);
  ctx.s.tree.cut(f.parent, f.index, ctx.s.freemap, true);
  ctx.w.link(dir, name, head.inum, head.type);
  return 're-entered under its hash';
}

/** A directory named more than once: keep the entry in its iparent, drop the others. */
function unlinkExtra(ctx: Ctx, p: Problem): string | null {
  const t = p.target;
  const pfsFacts = t && t.pfs !== null ? ctx.facts.get(t.pfs) : undefined;
  const ino = pfsFacts?.inodes.get(p.key);
  const refs = pfsFacts?.refs.get(p.key);
  if (!t || !pfsFacts || !ino || !refs) return null;
  let removed = 0;
  let kept = false;
  for (const d of new Set(refs.dirs)) {
    const dir = ownerOf(ctx, { ...t, owner: d === PFS_ROOT_INUM ? t.pfs : d });
    if (!dir) continue;
    const hits: bigint[] = [];
    for (const { parent, index } of ctx.s.tree.scanRange(dir, DIRHASH_VISIBLE, KEY_MAX)) {
      const b = parent.table![index].bref;
      if (b.type === BREF_TYPE_DIRENT && embedDirent(b).inum === p.key) hits.push(b.key);
    }
    for (const key of hits) {
      if (!kept && d === ino.iparent) {
        kept = true;
        continue;
      }
      const f = ctx.s.tree.lookup(dir, key, BREF_TYPE_DIRENT);
      if (f.index < 0) continue;
      ctx.s.tree.cut(f.parent, f.index, ctx.s.freemap, true);
      removed++;
    }
  }
  return removed ? `${removed} extra entr${removed === 1 ? 'y' : 'ies'} removed` : null;
}

/** Data blocks at or past end of file go; an embedded size past 512 bytes is cut to it. */
function dropBeyondEof(ctx: Ctx, t: Target | undefined): string | null {
  const c = t && chainAt(ctx, t);
  if (!c || !c.inode) return null;
  const m = c.inode.meta;
  if (m.opFlags & OPFLAG_DIRECTDATA) {
    if (m.size <= BigInt(c.inode.u.length)) return null;
    m.size = BigInt(c.inode.u.length);
    ctx.s.tree.setDirty(c);
    return `size cut to ${m.size}`;
  }
  const keys: bigint[] = [];
  for (const { parent, index } of ctx.s.tree.scanRange(c, m.size, KEY_MAX)) {
    const b = parent.table![index].bref;
    if (b.type === BREF_TYPE_DATA && b.key >= m.size) keys.push(b.key);
  }
  for (const key of keys) {
    const f = ctx.s.tree.lookup(c, key, BREF_TYPE_DATA);
    if (f.index >= 0) ctx.s.tree.remove(f.parent, f.index, ctx.s.freemap);
  }
  return keys.length ? `${keys.length} block${keys.length === 1 ? '' : 's'} past end of file dropped` : null;
}

/** An inode without entries goes under lost+found in its PFS, named #<inode number>. */
function reattach(ctx: Ctx, p: Problem): string | null {
  const t = p.target;
  if (!t || t.pfs === null) return null;
  const facts = ctx.facts.get(t.pfs);
  const ino = facts?.inodes.get(p.key);
  const c = chainAt(ctx, t);
  if (!facts || !ino || !c || !c.inode) return null;
  const lf = lostFound(ctx, t.pfs);
  if (!lf) return null;
  const name = Buffer.from(`#${p.key}`);
  if (ctx.w.findEntry(lf, name)) return null;
  ctx.w.link(lf, name, p.key, c.inode.meta.type);
  const m = c.inode.meta;
  if (m.type === OBJTYPE_DIRECTORY) m.iparent = lf.inode!.meta.inum;
  else m.nlinks = 1n;
  ctx.s.tree.setDirty(c);
  return `reattached as ${LOST_FOUND}/${name.toString()}`;
}

function lostFound(ctx: Ctx, pfsKey: bigint): Chain | null {
  const had = ctx.lostFound.get(pfsKey);
  if (had) return had;
  const pfs = ctx.w.pfsRootAt(pfsKey);
  if (!pfs) return null;
  const name = Buffer.from(LOST_FOUND);
  const e = ctx.w.findEntry(pfs, name);
  let lf: Chain;
  if (e) {
    lf = ctx.w.inodeChain(pfs, e.inum);
    if (lf.inode!.meta.type !== OBJTYPE_DIRECTORY) return null;
  } else {
    const now = BigInt(Date.now()) * 1000n;
    lf = ctx.w.create(pfs, pfs, name, { type: OBJTYPE_DIRECTORY, mode: 0o700, mtime: now });
  }
  ctx.lostFound.set(pfsKey, lf);
  return lf;
}
