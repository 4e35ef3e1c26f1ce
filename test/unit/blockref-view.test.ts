/**
 * blockref-view.ts reads the fields fsck checks straight from a table's bytes: every reader must
 * agree with decodeBlockref on random blockrefs, and the verdict of bvVerify with verifyCheck's.
 */
import fc from 'fast-check';
import { decodeBlockref, keyEnd, brefOffset, brefRadix, embedStats, setCheck } from '../../src/format';
import {
  bvBlockrefShared,
  bvKey,
  bvKeyEnd,
  bvKeyHi,
  bvKeyLo,
  bvKeybits,
  bvMethods,
  bvMirrorHi,
  bvMirrorLo,
  bvOffset,
  bvOffsetExact,
  bvRadix,
  bvStatData,
  bvStatInodes,
  bvType,
  bvVerify,
  gt64,
  u64At,
} from '../../src/format/blockref-view';
import { verifyCheck } from '../../src/format/check';
import { BLOCKREF_BYTES, CHECK_FREEMAP, CHECK_ISCSI32, CHECK_NONE, CHECK_XXHASH64, encCheck } from '../../src/format/constants';

const halves = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);

describe('blockref views', () => {
  it('read the same fields as decodeBlockref, at any offset of a table', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: BLOCKREF_BYTES, maxLength: BLOCKREF_BYTES }), fc.nat(3), (raw, slot) => {
        const table = new Uint8Array(BLOCKREF_BYTES * 4);
        const o = slot * BLOCKREF_BYTES;
        table.set(raw, o);
        const b = decodeBlockref(table, o);
        expect(bvType(table, o)).toBe(b.type);
        expect(bvMethods(table, o)).toBe(b.methods);
        expect(bvKeybits(table, o)).toBe(b.keybits);
        expect(halves(bvKeyHi(table, o), bvKeyLo(table, o))).toBe(b.key);
        expect(bvKey(table, o)).toBe(b.key);
        expect(halves(bvMirrorHi(table, o), bvMirrorLo(table, o))).toBe(b.mirrorTid);
        expect(bvRadix(table, o)).toBe(brefRadix(b));
        expect(bvOffsetExact(table, o)).toBe(brefOffset(b) < 2n ** 53n);
        if (bvOffsetExact(table, o)) expect(BigInt(bvOffset(table, o))).toBe(brefOffset(b));
        const st = embedStats(b);
        if (st.dataCount < 2n ** 53n) expect(BigInt(bvStatData(table, o))).toBe(st.dataCount);
        if (st.inodeCount < 2n ** 53n) expect(BigInt(bvStatInodes(table, o))).toBe(st.inodeCount);
        const end = [0, 0];
        bvKeyEnd(table, o, end);
        expect(halves(end[0], end[1])).toBe(keyEnd(b));
        expect(u64At(table, o + 0x20)).toBe(b.dataOff);
        expect(bvBlockrefShared(table, o)).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });

  it('keybits near 32 and 64 and keys near the top give the clipped end', () => {
    for (const keybits of [0, 1, 31, 32, 33, 52, 63, 64, 70]) {
      for (const key of [0n, 0xffffffffn, 0xfffffffffffff000n, 0xffffffffffffffffn]) {
        const t = new Uint8Array(BLOCKREF_BYTES);
        const v = new DataView(t.buffer);
        v.setUint8(3, keybits);
        v.setBigUint64(8, key, true);
        const end = [0, 0];
        bvKeyEnd(t, 0, end);
        expect(halves(end[0], end[1])).toBe(keyEnd(decodeBlockref(t, 0)));
      }
    }
  });

  it('gt64 orders 64-bit values given as halves', () => {
    fc.assert(
      fc.property(fc.bigUintN(64), fc.bigUintN(64), (a, b) => {
        const h = (x: bigint): [number, number] => [Number(x >> 32n), Number(x & 0xffffffffn)];
        expect(gt64(...h(a), ...h(b))).toBe(a > b);
      }),
    );
  });

  it('bvVerify gives verifyCheck verdict for each method, good and damaged', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(CHECK_ISCSI32, CHECK_XXHASH64, CHECK_FREEMAP, CHECK_NONE),
        fc.uint8Array({ minLength: 1, maxLength: 2048 }),
        fc.boolean(),
        (method, data, damage) => {
          const t = new Uint8Array(BLOCKREF_BYTES);
          t[1] = encCheck(method);
          const b = decodeBlockref(t, 0);
          setCheck(b, data);
          t.set(b.check, 0x40);
          if (damage) t[0x40] ^= 1;
          expect(bvVerify(t, 0, data)).toBe(verifyCheck(decodeBlockref(t, 0), data).ok);
        },
      ),
      { numRuns: 300 },
    );
  });
});
