/** The typed-array index behind fsck's per-inode and per-block tables, against a Map. */
import fc from 'fast-check';
import { NumberIndex } from '../../src/engine/number-index';

/** Keys as the walks make them: block offsets (multiples of 1 KiB, high bits too), small inode numbers, anything below 2^53. */
const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 22 }).map((k) => k * 1024),
  fc.integer({ min: 0, max: 5000 }),
  fc.integer({ min: 0, max: 2 ** 20 }).map((k) => k * 2 ** 32 + 1024),
  fc.maxSafeNat(),
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
