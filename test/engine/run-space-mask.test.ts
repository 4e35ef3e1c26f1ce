/**
 * RunSpace.segmentMask keeps its answers and updates them as granules change: after any mix
 * of allocations and frees, every segment's answer is what the granules the run touched say
 * (a model kept here as a plain set).
 */
import fc from 'fast-check';
import { FREEMAP_BLOCK_SIZE, SEGSIZE } from '../../src/format';
import { RunSpace } from '../../src/engine';

const G = BigInt(FREEMAP_BLOCK_SIZE);
const SEGS = 3;
const PER_SEG = Number(SEGSIZE / G);

function expected(touched: Set<bigint>, seg: bigint): bigint[] | null {
  let out: bigint[] | null = null;
  for (let j = 0; j < PER_SEG; j++) {
    if (!touched.has(seg + BigInt(j) * G)) continue;
    out ??= new Array<bigint>(PER_SEG / 32).fill(0n);
    out[j >> 5] |= 3n << BigInt((j & 31) * 2);
  }
  return out;
}

test('segmentMask follows every allocation and free, asked before, between and after', () => {
  const op = fc.record({
    kind: fc.constantFrom('alloc', 'free', 'ask'),
    granule: fc.integer({ min: 0, max: SEGS * PER_SEG - 1 }),
    // 1 KiB up to four granules
    radix: fc.integer({ min: 10, max: 16 }),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 3 }), (ops, gib) => {
      const base = BigInt(gib) << 30n;
      const space = new RunSpace();
      const touched = new Set<bigint>();
      for (const o of ops) {
        const g = base + BigInt(o.granule) * G;
        if (o.kind === 'alloc') {
          const bytes = 2 ** o.radix;
          space.allocated(g, bytes);
          for (let x = g; x < g + BigInt(bytes); x += G) touched.add(x);
        } else if (o.kind === 'free') {
          space.freed(g);
          touched.add(g);
        } else {
          const seg = g & ~(SEGSIZE - 1n);
          expect(space.segmentMask(seg)).toEqual(expected(touched, seg));
        }
      }
      for (let s = 0; s < SEGS; s++) {
        const seg = base + BigInt(s) * SEGSIZE;
        expect(space.segmentMask(seg)).toEqual(expected(touched, seg));
        expect(space.segmentUntouched(seg)).toBe(expected(touched, seg) === null);
      }
    }),
    { numRuns: 300 },
  );
});
