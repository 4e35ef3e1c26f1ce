/**
 * Which freed granules a new tree still uses, found from the old tree's granule user counts and
 * a diff of the two trees, instead of a walk of the whole new tree.
 *
 * A walk of the topology visits a block once per path to it, so the user count of a granule is
 * the number of visits covering it. The new tree's counts are the old ones, less the visits of
 * what the new tree no longer has, plus the visits of what it has new. A slot whose blockref
 * names the same block (type and data_off) in both trees heads the same subtree in both: blocks
 * are never overwritten in place, and no run allocates over a block the old tree references (the
 * soundness check refuses a freemap that marks one free), so the diff never descends there. Only
 * the chains a run rewrote, and what it inserted or deleted, are read.
 */
import { Blockref, brefBytes, decodeBlockref } from '../format/blockref';
import { BLOCKREF_BYTES, BREF_TYPE_EMPTY, BREF_TYPE_INDIRECT, BREF_TYPE_INODE, FREEMAP_BLOCK_SIZE, OFF_MASK } from '../format/constants';
import { ChainReader } from './chain';
import { GranuleUsers } from './verify';
import { walkTree } from './walk';

/**
 * The granules of `wanted` that the tree under `newSet` uses, given `users`: the counts of the
 * tree under `oldSet`. `users` is not changed.
 */
export function liveAfterDiff(chains: ChainReader, oldSet: Blockref[], newSet: Blockref[], users: GranuleUsers, wanted: ReadonlySet<bigint>): Set<bigint> {
  const delta: GranuleUsers = new Map();
  const granule = BigInt(FREEMAP_BLOCK_SIZE);
  // as countGranules, for the wanted granules only
  const adjust = (b: Blockref, by: number): void => {
    const n = brefBytes(b);
    if (n === 0) return;
    const off = b.dataOff & OFF_MASK;
    for (let g = off & ~(granule - 1n); g < off + BigInt(n); g += granule) if (wanted.has(g)) delta.set(g, (delta.get(g) ?? 0) + by);
  };
  // every visit of a subtree only one of the trees has
  const whole = (b: Blockref, by: number): void => {
    for (const v of walkTree(chains, b, { readData: false })) adjust(v.bref, by);
  };
  const kidsOf = (b: Blockref): Blockref[] =>
    (b.type === BREF_TYPE_INODE || b.type === BREF_TYPE_INDIRECT) && brefBytes(b) > 0 ? chains.children(b, chains.readPhysical(b)) : [];
  const same = (o: Blockref, n: Blockref): boolean => o.dataOff === n.dataOff && o.type === n.type;
  // a block and its copy-on-write copy hold the same place in their tables
  const samePlace = (o: Blockref, n: Blockref): boolean => o.type === n.type && o.key === n.key && o.keybits === n.keybits;
  /** Take from `l` the first blockref `match` accepts. */
  const take = (l: Blockref[] | undefined, match: (o: Blockref) => boolean): Blockref | undefined => {
    const i = l ? l.findIndex(match) : -1;
    return i < 0 ? undefined : l!.splice(i, 1)[0];
  };

  const diff = (olds: Blockref[], news: Blockref[]): void => {
    // Most slots hold the same blockref in both tables: those cancel where they stand, and only
    // the rest is matched as multisets (a table may also have been reordered).
    const gone: Blockref[] = [];
    const added: Blockref[] = [];
    for (let i = 0; i < Math.max(olds.length, news.length); i++) {
      const o = olds[i];
      const n = news[i];
      if (o && n && same(o, n)) continue;
      if (o && o.type !== BREF_TYPE_EMPTY) gone.push(o);
      if (n && n.type !== BREF_TYPE_EMPTY) added.push(n);
    }
    if (gone.length === 0 && added.length === 0) return;
    const byOff = new Map<bigint, Blockref[]>();
    for (const o of gone) {
      const l = byOff.get(o.dataOff);
      if (l) l.push(o);
      else byOff.set(o.dataOff, [o]);
    }
    const fresh: Blockref[] = [];
    for (const n of added) if (!take(byOff.get(n.dataOff), (o) => same(o, n))) fresh.push(n);
    const byKey = new Map<bigint, Blockref[]>();
    for (const l of byOff.values()) {
      for (const o of l) {
        const k = byKey.get(o.key);
        if (k) k.push(o);
        else byKey.set(o.key, [o]);
      }
    }
    for (const n of fresh) {
      const o = take(byKey.get(n.key), (x) => samePlace(x, n));
      if (!o) {
        whole(n, 1);
        continue;
      }
      // subtree(n) - subtree(o) = n - o + the diff of their children, whatever the pairing
      adjust(o, -1);
      adjust(n, 1);
      kidsDiff(o, n);
    }
    for (const l of byKey.values()) for (const o of l) whole(o, -1);
  };

  // Two versions of an indirect block differ in a few of their slots: the bytes of each slot are
  // compared and only the differing ones decoded.
  const kidsDiff = (o: Blockref, n: Blockref): void => {
    if (o.type !== BREF_TYPE_INDIRECT || brefBytes(o) === 0 || brefBytes(n) === 0) {
      diff(kidsOf(o), kidsOf(n));
      return;
    }
    const a = asBuffer(chains.readPhysical(o));
    const b = asBuffer(chains.readPhysical(n));
    if (a.length !== b.length) {
      diff(chains.children(o, a), chains.children(n, b));
      return;
    }
    const olds: Blockref[] = [];
    const news: Blockref[] = [];
    for (let at = 0; at + BLOCKREF_BYTES <= a.length; at += BLOCKREF_BYTES) {
      if (a.compare(b, at, at + BLOCKREF_BYTES, at, at + BLOCKREF_BYTES) === 0) continue;
      olds.push(decodeBlockref(a, at));
      news.push(decodeBlockref(b, at));
    }
    diff(olds, news);
  };

  diff(oldSet, newSet);
  const live = new Set<bigint>();
  for (const g of wanted) if ((users.get(g) ?? 0) + (delta.get(g) ?? 0) > 0) live.add(g);
  return live;
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length));
