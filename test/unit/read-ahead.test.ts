/** Read-ahead windows return exactly what direct reads return, at any offset, up to the medium's end. */
import fc from 'fast-check';
import { ReadAheadWindow, WindowSource } from '../../src/engine/device';

/** Two "volumes" of a medium held in memory, the second ending early (a truncated device). */
function medium(size: number, secondAt: number, truncateBy: number): WindowSource & { calls: number } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
  const endOf = (off: bigint): bigint | null => (off < 0n || off >= BigInt(size) ? null : off < BigInt(secondAt) ? BigInt(secondAt) : BigInt(size));
  const readable = size - truncateBy;
  const src = {
    calls: 0,
    extentEnd: endOf,
    read(off: bigint, len: number): Buffer {
      src.calls++;
      const end = endOf(off);
      if (end === null || off + BigInt(len) > end) throw new Error(`out of range: ${len} at ${off}`);
      const o = Number(off);
      return Buffer.from(bytes.subarray(o, Math.min(o + len, readable)));
    },
    readInto(off: bigint, buf: Uint8Array, len: number): number {
      const got = src.read(off, len);
      buf.set(got);
      return got.length;
    },
  };
  return src;
}

const outcome = (fn: () => Uint8Array): string => {
  try {
    return Buffer.from(fn()).toString('hex');
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
};

test('property: every read through the windows equals the direct read (or its error)', () => {
  const size = 1 << 16;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: size - 1 }),
      fc.integer({ min: 0, max: 3000 }),
      fc.array(fc.tuple(fc.integer({ min: -10, max: size + 10 }), fc.integer({ min: 0, max: 5000 })), { minLength: 1, maxLength: 60 }),
      (secondAt, truncateBy, reads) => {
        const direct = medium(size, secondAt, truncateBy);
        const win = new ReadAheadWindow(medium(size, secondAt, truncateBy), 4096, 3);
        for (const [off, len] of reads) {
          const want = outcome(() => direct.read(BigInt(off), len));
          expect(outcome(() => win.read(BigInt(off), len))).toBe(want);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('ascending reads in two interleaved regions load each window once', () => {
  const src = medium(1 << 20, 1 << 19, 0);
  const win = new ReadAheadWindow(src, 65536, 2);
  for (let i = 0; i < 64; i++) {
    win.read(BigInt(i * 1024), 1024);
    win.read(BigInt((1 << 19) + i * 1024), 1024);
  }
  expect(win.loads).toBe(2);
  expect(src.calls).toBe(2);
});
