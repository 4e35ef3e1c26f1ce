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
import { Blockref, brefBytes } from '../format/blockref';
import { BREF_TYPE_EMPTY, BREF_TYPE_INDIRECT, BREF_TYPE_INODE, FREEMAP_BLOCK_SIZE, OFF_MASK } from '../format/constants';
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
  const same = (b: Blockref): string => `${b.type}/${b.dataOff}`;
  // a block and its copy-on-write copy hold the same place in their tables
  const place = (b: Blockref): string => `${b.type}/${b.key}/${b.keybits}`;

  const diff = (olds: Blockref[], news: Blockref[]): void => {
    const unmatched = new Map<string, Blockref[]>();
    for (const o of olds) {
      if (o.type === BREF_TYPE_EMPTY) continue;
      const k = same(o);
      const l = unmatched.get(k);
      if (l) l.push(o);
      else unmatched.set(k, [o]);
    }
    const added: Blockref[] = [];
    for (const n of news) {
      if (n.type === BREF_TYPE_EMPTY) continue;
      const l = unmatched.get(same(n));
      if (l && l.length > 0) l.pop();
      else added.push(n);
    }
    const removed = new Map<string, Blockref[]>();
    for (const l of unmatched.values()) {
      for (const o of l) {
        const k = place(o);
        const r = removed.get(k);
        if (r) r.push(o);
        else removed.set(k, [o]);
      }
    }
    for (const n of added) {
      const o = removed.get(place(n))?.pop();
      if (!o) {
        whole(n, 1);
        continue;
      }
      // subtree(n) - subtree(o) = n - o + the diff of their children, whatever the pairing
      adjust(o, -1);
      adjust(n, 1);
      diff(kidsOf(o), kidsOf(n));
    }
    for (const l of removed.values()) for (const o of l) whole(o, -1);
  };

  diff(oldSet, newSet);
  const live = new Set<bigint>();
  for (const g of wanted) if ((users.get(g) ?? 0) + (delta.get(g) ?? 0) > 0) live.add(g);
  return live;
}
