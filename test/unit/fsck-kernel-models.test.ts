/**
 * The two pieces of kernel arithmetic fsck models (docs/fsck.md, pass 4), as properties: what the
 * kernel's operations produce is accepted, and anything off that pattern is still reported. And
 * the traversal guard lets the kernel's dedup share a data block without bound.
 */
import fc from 'fast-check';
import { Blockref, emptyBlockref } from '../../src/format/blockref';
import { BREF_TYPE_DATA, BREF_TYPE_INDIRECT, FREEMAP_LEVEL1_SIZE, INODE_BYTES, SET_COUNT, ZONE_SEG } from '../../src/format/constants';
import { MAX_BLOCK_VISITS, TraversalGuard } from '../../src/engine/guard';
import { allocatorFreeAgrees } from '../../src/ops/fsck/check';
import { kernelSuperRootStats } from '../../src/ops/fsck/topology';

const MiB8 = 8n << 20n;

describe('allocator_free after growfs', () => {
  // a volume of 1 to 64 GiB in the kernel's 8 MiB steps, and a computed value below it
  const volume = fc.bigInt({ min: FREEMAP_LEVEL1_SIZE / MiB8, max: (64n * FREEMAP_LEVEL1_SIZE) / MiB8 }).map((n) => n * MiB8);
  const zones = (total: bigint): bigint => (total + FREEMAP_LEVEL1_SIZE - 1n) / FREEMAP_LEVEL1_SIZE;

  test('each GiB a growfs added leaves its 4 MiB segment in allocator_free: accepted', () => {
    fc.assert(
      fc.property(volume, fc.bigInt({ min: 0n, max: 1n << 36n }), fc.nat(), (total, computed, pick) => {
        const added = BigInt(pick) % zones(total); // 0 .. zones - 1: the first GiB was always there
        expect(allocatorFreeAgrees(computed + added * ZONE_SEG, computed, total)).toBe(true);
      }),
    );
  });

  test('less than computed, not whole segments, or more segments than zones were added: reported', () => {
    fc.assert(
      fc.property(volume, fc.bigInt({ min: 1n << 20n, max: 1n << 36n }), fc.bigInt({ min: 1n, max: 1n << 30n }), (total, computed, off) => {
        expect(allocatorFreeAgrees(computed - off, computed, total)).toBe(false);
        if (off % ZONE_SEG !== 0n) expect(allocatorFreeAgrees(computed + off, computed, total)).toBe(false);
        expect(allocatorFreeAgrees(computed + zones(total) * ZONE_SEG, computed, total)).toBe(false);
      }),
    );
  });
});

describe("the kernel's super-root stats", () => {
  const stats = fc.record({ dataCount: fc.bigInt({ min: 0n, max: 1n << 40n }), inodeCount: fc.bigInt({ min: 0n, max: 1n << 24n }) });

  test('the full sum less 0 to SET_COUNT newfs PFS inode blocks: accepted', () => {
    fc.assert(
      fc.property(stats, fc.integer({ min: 0, max: SET_COUNT }), (carried, n) => {
        const full = { dataCount: carried.dataCount + BigInt((n + 4) * INODE_BYTES), inodeCount: carried.inodeCount + BigInt(n + 4) };
        const st = { dataCount: full.dataCount - BigInt(n * INODE_BYTES), inodeCount: full.inodeCount - BigInt(n) };
        expect(kernelSuperRootStats(st, full)).toBe(true);
      }),
    );
  });

  test('any other difference: reported', () => {
    fc.assert(
      fc.property(stats, fc.integer({ min: 0, max: SET_COUNT }), fc.bigInt({ min: 1n, max: 1n << 20n }), fc.boolean(), (full, n, delta, onData) => {
        const st = { dataCount: full.dataCount - BigInt(n * INODE_BYTES), inodeCount: full.inodeCount - BigInt(n) };
        if (onData) st.dataCount += delta;
        else st.inodeCount += delta;
        expect(kernelSuperRootStats(st, full)).toBe(false);
        // more uncounted inodes than newfs can make
        const many = BigInt(SET_COUNT + 1);
        expect(kernelSuperRootStats({ dataCount: full.dataCount - many * BigInt(INODE_BYTES), inodeCount: full.inodeCount - many }, full)).toBe(false);
      }),
    );
  });
});

describe('the traversal guard and live dedup', () => {
  const at = (type: number): Blockref => ({ ...emptyBlockref(), type, dataOff: 0x8c00000n | 16n });

  test('a data block may be entered any number of times; a metadata block at most MAX_BLOCK_VISITS', () => {
    const g = new TraversalGuard();
    for (let i = 0; i < 5 * MAX_BLOCK_VISITS; i++) expect(g.check(at(BREF_TYPE_DATA), 3)).toBeNull();
    for (let i = 0; i < MAX_BLOCK_VISITS; i++) expect(g.check(at(BREF_TYPE_INDIRECT), 3)).toBeNull();
    expect(g.check(at(BREF_TYPE_INDIRECT), 3)).toMatch(/referenced more than/);
  });
});
