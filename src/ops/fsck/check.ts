/**
 * The checker's passes, read-only. This first part covers the volume headers (pass 1), the
 * topology (pass 2: check codes, types, radixes, offsets, key ranges and order, tids, sharing)
 * and the freemap against the topology (pass 5). Inodes and directories (pass 3) and the
 * statistics (pass 4) are the next step.
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
  Blockref,
  FREEMAP_LEVEL1_SIZE,
  OFF_MASK,
  RADIX_MAX,
  RADIX_MIN,
  ZONE_BYTES,
  ZONE_SEG,
  brefRadix,
  breftypeName,
  hex64,
  uuidToString,
} from '../../format';
import { ChainReader, VolumeSet, addGranules, compareFreemap, headerRootBref, walkTree } from '../../engine';
import { Problem, ProblemCode, sortProblems } from './problems';

export interface PhaseReport {
  name: string;
  problems: number;
}

export interface CheckReport {
  problems: Problem[];
  phases: PhaseReport[];
  blockrefs: number;
  bytesVerified: number;
}

const KNOWN_TYPES = new Set([
  BREF_TYPE_INODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_FREEMAP_LEAF,
]);

function at(b: Blockref): { zone: bigint; dataOff: bigint; type: number; key: bigint; where: string } {
  const off = b.dataOff & OFF_MASK;
  return { zone: off / ZONE_BYTES, dataOff: b.dataOff, type: b.type, key: b.key, where: `${breftypeName(b.type)} 0x${hex64(b.dataOff)} key 0x${hex64(b.key)}` };
}

function headerPass(vols: VolumeSet, add: (p: Problem) => void): void {
  for (const v of vols.list) {
    const best = v.selection.copies[v.selection.best];
    for (const c of v.selection.copies) {
      const where = `${v.path} copy ${c.index}`;
      const loc = { zone: c.offset / ZONE_BYTES, dataOff: c.offset, type: BREF_TYPE_VOLUME, key: 0n, where };
      const map: Record<string, ProblemCode> = {
        'bad-magic': 'HDR_BAD_MAGIC',
        'reverse-endian': 'HDR_REVERSE_ENDIAN',
        'crc-sect0': 'HDR_CRC',
        'crc-sect1': 'HDR_CRC',
        'crc-volheader': 'HDR_CRC',
        short: 'HDR_SHORT',
      };
      if (map[c.status]) {
        add({ code: map[c.status], ...loc, detail: c.detail });
        continue;
      }
      if (c.status !== 'ok' || c === best) continue;
      const h = c.header!;
      const b = best.header!;
      if (h.mirrorTid < b.mirrorTid) add({ code: 'HDR_STALE', ...loc, detail: `mirror_tid 0x${hex64(h.mirrorTid)} < 0x${hex64(b.mirrorTid)}` });
      const fields: [string, unknown, unknown][] = [
        ['fsid', uuidToString(h.fsid), uuidToString(b.fsid)],
        ['version', h.version, b.version],
        ['volu_size', h.voluSize, b.voluSize],
        ['volu_id', h.voluId, b.voluId],
        ['total_size', h.totalSize, b.totalSize],
      ];
      for (const [name, x, y] of fields) if (x !== y) add({ code: 'HDR_DISAGREE', ...loc, detail: name });
    }
  }
}

function topologyPass(chains: ChainReader, add: (p: Problem) => void): { blockrefs: number; bytes: number; used: Set<bigint> } {
  const used = new Set<bigint>();
  const total = chains.vols.totalSize;
  const seen = new Map<bigint, bigint>();
  let blockrefs = 0;
  let bytes = 0;
  for (const root of [BREF_TYPE_VOLUME, BREF_TYPE_FREEMAP] as const) {
    for (const v of walkTree(chains, headerRootBref(chains, root), { readData: true })) {
      const b = v.bref;
      if (b.type === BREF_TYPE_VOLUME || b.type === BREF_TYPE_FREEMAP) continue;
      blockrefs++;
      const loc = at(b);
      if (!KNOWN_TYPES.has(b.type)) add({ code: 'BREF_TYPE', ...loc, detail: String(b.type) });
      const radix = brefRadix(b);
      const needsStorage = b.type !== BREF_TYPE_DIRENT;
      if ((radix !== 0 && (radix < RADIX_MIN || radix > RADIX_MAX)) || (radix === 0 && needsStorage)) {
        add({ code: 'BREF_RADIX', ...loc, detail: String(radix) });
      }
      const off = b.dataOff & OFF_MASK;
      if (radix !== 0 && root === BREF_TYPE_VOLUME) addGranules(used, b.dataOff, 1 << radix);
      if (radix !== 0) {
        if (off + (1n << BigInt(radix)) > total) add({ code: 'BREF_OFF_OUTSIDE', ...loc, detail: '' });
        else if (root === BREF_TYPE_VOLUME && off % FREEMAP_LEVEL1_SIZE < ZONE_SEG) add({ code: 'BREF_OFF_RESERVED', ...loc, detail: '' });
        // Data blocks may be shared (live dedup), and snapshots share metadata between PFSs;
        // metadata referenced twice inside one PFS is not allowed.
        if (b.type !== BREF_TYPE_DATA) {
          const pfs = v.path.length > 2 ? v.path[2].key : -1n;
          const first = seen.get(b.dataOff);
          if (first === undefined) seen.set(b.dataOff, pfs);
          else if (first === pfs) add({ code: 'BLOCK_SHARED', ...loc, detail: 'twice in one PFS' });
        }
      }
      const parent = v.parent?.bref;
      if (parent && parent.type === BREF_TYPE_INDIRECT) {
        const span = parent.keybits >= 64 ? 1n << 64n : 1n << BigInt(parent.keybits);
        const end = b.key + (b.keybits >= 64 ? 1n << 64n : 1n << BigInt(b.keybits)) - 1n;
        if (b.key < parent.key || end > parent.key + span - 1n) {
          add({ code: 'BREF_KEY_RANGE', ...loc, detail: `0x${hex64(parent.key)}/${parent.keybits}` });
        }
      }
      if (parent && parent.type !== BREF_TYPE_VOLUME && parent.type !== BREF_TYPE_FREEMAP && b.mirrorTid > parent.mirrorTid) {
        add({ code: 'BREF_TID', ...loc, detail: `0x${hex64(b.mirrorTid)} > 0x${hex64(parent.mirrorTid)}` });
      }
      if (v.error) add({ code: 'BLOCK_READ', ...loc, detail: v.error });
      else if (v.check && !v.check.ok) add({ code: 'BLOCK_CHECK', ...loc, detail: `stored ${v.check.stored}, computed ${v.check.computed}` });
      else if (v.data.length > 0) {
        bytes += v.data.length;
        try {
          checkOrder(chains.children(b, v.data), b, add);
        } catch (e) {
          add({ code: 'BLOCK_READ', ...loc, detail: (e as Error).message });
        }
      }
    }
  }
  return { blockrefs, bytes, used };
}

/** The live entries of a block table must be sorted by key without overlapping ranges. */
function checkOrder(kids: Blockref[], parent: Blockref, add: (p: Problem) => void): void {
  let lastEnd = -1n;
  for (const k of kids) {
    if (k.type === BREF_TYPE_EMPTY) continue;
    if (k.key <= lastEnd) {
      add({ code: 'BREF_KEY_ORDER', ...at(k), detail: `in ${breftypeName(parent.type)} 0x${hex64(parent.dataOff)}` });
    }
    const end = k.key + (k.keybits >= 64 ? 1n << 64n : 1n << BigInt(k.keybits)) - 1n;
    if (end > lastEnd) lastEnd = end;
  }
}

/** Pass 5, on the granules pass 2 found in use (the tree is read once). */
function freemapPass(chains: ChainReader, used: Set<bigint>, add: (p: Problem) => void): void {
  const r = compareFreemap(chains, used);
  const loc = (g: bigint) => ({ zone: g / ZONE_BYTES, dataOff: g, type: BREF_TYPE_FREEMAP_LEAF, key: g, where: `granule 0x${hex64(g)}` });
  for (const g of r.holes) add({ code: 'FREEMAP_HOLE', ...loc(g), detail: '' });
  for (const g of r.leaks) add({ code: 'FREEMAP_LEAK', ...loc(g), detail: '' });
  const h = chains.header;
  if (h.freemapTid < h.mirrorTid) {
    add({ code: 'RECOVERY_NEEDED', zone: 0n, dataOff: 0n, type: BREF_TYPE_VOLUME, key: 0n, where: 'volume header', detail: `0x${hex64(h.freemapTid)}` });
  }
}

export function checkFilesystem(vols: VolumeSet): CheckReport {
  const chains = new ChainReader(vols);
  const problems: Problem[] = [];
  const phases: PhaseReport[] = [];
  const phase = <T>(name: string, fn: (add: (p: Problem) => void) => T): T => {
    let n = 0;
    const out = fn((p) => {
      problems.push(p);
      n++;
    });
    phases.push({ name, problems: n });
    return out;
  };
  phase('Pass 1: volume headers', (add) => headerPass(vols, add));
  const topo = phase('Pass 2: topology', (add) => topologyPass(chains, add));
  phase('Pass 5: freemap', (add) => freemapPass(chains, topo.used, add));
  return { problems: sortProblems(problems), phases, blockrefs: topo.blockrefs, bytesVerified: topo.bytes };
}
