/** The typed-array index behind fsck's per-inode and per-block tables, against a Map. */
import fc from 'fast-check';
import { NumberIndex } from '../../src/engine/number-index';
import { InumTable } from '../../src/ops/fsck/facts';

/** Keys as the walks make them: block offsets (multiples of 1 KiB, high bits too), small inode numbers, anything below 2^53. */
const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 22 }).map((k) => k * 1024),
  fc.integer({ min: 0, max: 5000 }),
  fc.integer({ min: 0, max: 2 ** 20 }).map((k) => k * 2 ** 32 + 1024),
  fc.maxSafeNat(),
  // fsck's inode table stands large inode numbers in as negative keys
  fc.integer({ min: -5000, max: -1 }),
);

test('property: slots are dense in insertion order and found again, absent keys are not', () => {
  fc.assert(
    fc.property(fc.array(keyArb, { maxLength: 3000 }), fc.array(keyArb, { maxLength: 200 }), (keys, probes) => {
      const idx = new NumberIndex(8);
      const want = new Map<number, number>();
      const got: number[] = [];
      const expected: number[] = [];
      for (const k of keys) {
        got.push(idx.intern(k));
        if (!want.has(k)) want.set(k, want.size);
        expected.push(want.get(k)!);
      }
      expect(got).toEqual(expected);
      expect(idx.size).toBe(want.size);
      expect([...want.keys()].map((k) => idx.slotOf(k))).toEqual([...want.values()]);
      expect([...want.values()].map((s) => idx.keyAt(s))).toEqual([...want.keys()]);
      expect(probes.map((k) => idx.slotOf(k))).toEqual(probes.map((k) => want.get(k) ?? -1));
    }),
    { numRuns: 200 },
  );
});

test('a hundred thousand block offsets keep their slots through every rehash', () => {
  const idx = new NumberIndex();
  let wrong = 0;
  for (let i = 0; i < 100000; i++) if (idx.intern(0x40000000 + i * 1024) !== i) wrong++;
  for (let i = 0; i < 100000; i++) if (idx.slotOf(0x40000000 + i * 1024) !== i) wrong++;
  expect(wrong).toBe(0);
  expect(idx.slotOf(0x40000000 + 100000 * 1024)).toBe(-1);
});

test('property: the inode table keeps inodes and entries apart by number, 64-bit numbers included', () => {
  const inumArb = fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }), fc.bigUint({ max: 2n ** 64n - 1n }));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), inumArb, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), { maxLength: 300 }), (ops) => {
      const t = new InumTable();
      const inodes = new Map<bigint, bigint>();
      const entries = new Map<bigint, number>();
      for (const [isInode, inum, v] of ops) {
        if (isInode) {
          const added = t.addInode({ key: inum, dataOff: v, type: 1, nlinks: v, iparent: 0n, size: v, lastDataKey: -1n });
          expect(added).toBe(!inodes.has(inum));
          if (!inodes.has(inum)) inodes.set(inum, v);
        } else {
          t.addEntry(inum, v, 2, v, v);
          entries.set(inum, (entries.get(inum) ?? 0) + 1);
        }
      }
      const seen = new Set<bigint>();
      for (let s = 0; s < t.slots; s++) seen.add(t.inumAt(s));
      expect(seen).toEqual(new Set([...inodes.keys(), ...entries.keys()]));
      for (const [inum, v] of inodes) {
        const slot = t.slotOf(inum);
        expect(t.hasInode(slot) && t.inumAt(slot) === inum && t.nlinks[slot] === v).toBe(true);
      }
      for (const [inum, n] of entries) expect(t.refCount[t.slotOf(inum)]).toBe(n);
      expect(t.inodeCount).toBe(inodes.size);
      expect(t.refTargets).toBe(entries.size);
    }),
    { numRuns: 200 },
  );
});
