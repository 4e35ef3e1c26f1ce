/** Compression codecs: round trips, and hostile lengths rejected rather than trusted. */
import {
  COMP_AUTOZERO,
  COMP_LZ4,
  COMP_NONE,
  COMP_ZLIB,
  FormatError,
  decompressBlock,
  lz4Compress,
  lz4Decompress,
  zlibCompress,
  zlibDecompress,
} from '../../src/format';

function sample(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 64 < 40 ? 65 + (i % 7) : x >>> 24; // part text-like, part noise
  }
  return out;
}

test.each([1024, 16384, 65536])('lz4 round-trips a %i-byte block', (n) => {
  const data = sample(n, n);
  const c = lz4Compress(data, n)!;
  expect(c).not.toBeNull();
  expect(c.length).toBeLessThan(n);
  expect(Buffer.from(lz4Decompress(c, n)).equals(Buffer.from(data))).toBe(true);
});

test('lz4 gives up when the result would not be smaller', () => {
  const noise = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
  expect(lz4Compress(noise, 2048)).toBeNull();
});

test('lz4 rejects a length prefix larger than the block', () => {
  const c = Buffer.from(lz4Compress(sample(4096, 1), 4096)!);
  c.writeInt32LE(c.length, 0);
  expect(() => lz4Decompress(c, 4096)).toThrow(FormatError);
  c.writeInt32LE(-5, 0);
  expect(() => lz4Decompress(c, 4096)).toThrow(FormatError);
  expect(() => lz4Decompress(new Uint8Array(2), 4096)).toThrow(FormatError);
});

test('lz4 rejects a stream that decodes past the logical block', () => {
  const data = new Uint8Array(65536).fill(9);
  const c = lz4Compress(data, 65536)!;
  expect(() => lz4Decompress(c, 16384)).toThrow(/past/);
});

test('lz4 survives random garbage without hanging', () => {
  for (let seed = 1; seed < 200; seed++) {
    const g = sample(1024, seed * 7919);
    new DataView(g.buffer).setInt32(0, 1000, true);
    try {
      lz4Decompress(g, 65536);
    } catch (e) {
      expect(e).toBeInstanceOf(FormatError);
    }
  }
});

test('zlib round-trips and pads to the logical size', () => {
  const data = sample(10000, 3);
  const c = zlibCompress(data, 6, 65536)!;
  const out = zlibDecompress(c, 16384);
  expect(out.length).toBe(16384);
  expect(Buffer.from(out.subarray(0, 10000)).equals(Buffer.from(data))).toBe(true);
  expect(out.subarray(10000).every((b) => b === 0)).toBe(true);
});

test('zlib rejects garbage, truncation and overlong streams', () => {
  expect(() => zlibDecompress(sample(512, 5), 65536)).toThrow(FormatError);
  const c = zlibCompress(sample(8192, 4), 6, 65536)!;
  expect(() => zlibDecompress(c.subarray(0, c.length >> 1), 65536)).toThrow(FormatError);
  expect(() => zlibDecompress(c, 1024)).toThrow(/past/);
});

test('none and autozero blocks pass through, zero-filled to the logical size', () => {
  const d = sample(1024, 9);
  for (const comp of [COMP_NONE, COMP_AUTOZERO]) {
    const out = decompressBlock(comp, d, 4096);
    expect(Buffer.from(out.subarray(0, 1024)).equals(Buffer.from(d))).toBe(true);
    expect(out.subarray(1024).every((b) => b === 0)).toBe(true);
  }
  expect(() => decompressBlock(9, d, 1024)).toThrow(/unknown compression/);
  expect(decompressBlock(COMP_LZ4, lz4Compress(d, 1024) ?? d, 1024).length).toBe(1024);
  expect(decompressBlock(COMP_ZLIB, zlibCompress(d, 6, 65536)!, 1024).length).toBe(1024);
});
