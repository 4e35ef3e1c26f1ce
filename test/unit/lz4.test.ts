/**
 * The LZ4 codec against the kernel's decoding rules: every block our encoder writes decodes by
 * those rules (property tests over random and adversarial blocks of 1 to 64 KiB), the rules
 * themselves hold at their boundaries, and the block lz4js got wrong is refused, then salvaged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import * as lz4js from 'lz4js';
import {
  FormatError,
  lz4Bound,
  lz4Compress,
  lz4DecodeKernel,
  lz4DecodeLenient,
  lz4EncodeBlock,
  lz4Decompress,
  lz4DecompressLenient,
  zlibCompress,
  zlibDecompress,
} from '../../src/format';
import { FIXTURE_DIR, buildStream, fixtureTree, lateMatchStream, withPrefix } from '../helpers/lz4-streams';

const LONG = process.env.H2KIT_LONG === '1';
const RUNS = LONG ? 20000 : 300;

function encode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(lz4Bound(data.length));
  return out.subarray(0, lz4EncodeBlock(data, out));
}

/** Decode by the kernel's rules; the bytes produced, or the refusal. */
function kernel(stream: Uint8Array, n: number): Uint8Array {
  const dst = new Uint8Array(n);
  return dst.subarray(0, lz4DecodeKernel(stream, dst));
}

// ---- generated blocks ----------------------------------------------------------------------

type Part =
  | { kind: 'random'; len: number; seed: number }
  | { kind: 'run'; len: number; byte: number }
  | { kind: 'copy'; len: number; back: number }
  | { kind: 'period'; len: number; period: number; seed: number };

const partArb: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), len: fc.integer({ min: 1, max: 4096 }), seed: fc.integer() }),
  fc.record({ kind: fc.constant('run' as const), len: fc.integer({ min: 1, max: 70000 }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('copy' as const), len: fc.integer({ min: 1, max: 300 }), back: fc.integer({ min: 1, max: 70000 }) }),
  fc.record({ kind: fc.constant('period' as const), len: fc.integer({ min: 1, max: 9000 }), period: fc.integer({ min: 1, max: 16 }), seed: fc.integer() }),
);

/** The tail decides where the last match can fall: short noise, a short run, a short copy. */
const tailArb: fc.Arbitrary<Part[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('random' as const), len: fc.integer({ min: 0, max: 24 }), seed: fc.integer() }),
    fc.record({ kind: fc.constant('run' as const), len: fc.integer({ min: 1, max: 24 }), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('copy' as const), len: fc.integer({ min: 1, max: 24 }), back: fc.integer({ min: 1, max: 4096 }) }),
  ),
  { maxLength: 3 },
);

/** Every power of two from 1 to 64 KiB (the block sizes HAMMER2 uses), and any size between. */
const sizeArb = fc.oneof(fc.integer({ min: 10, max: 16 }).map((r) => 1 << r), fc.integer({ min: 1024, max: 65536 }));

function render(size: number, body: Part[], tail: Part[]): Uint8Array {
  const out = new Uint8Array(size);
  const tailLen = Math.min(size, tail.reduce((s, p) => s + p.len, 0));
  let at = 0;
  const fill = (p: Part, end: number): void => {
    const stop = Math.min(end, at + p.len);
    let x = 'seed' in p ? p.seed >>> 0 : 0;
    for (let i = 0; at < stop; i++, at++) {
      switch (p.kind) {
        case 'random':
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          out[at] = x >>> 24;
          break;
        case 'run':
          out[at] = p.byte;
          break;
        case 'copy':
          out[at] = at >= p.back ? out[at - p.back] : 0x5a;
          break;
        case 'period':
          out[at] = (p.seed + (i % p.period) * 37) & 0xff;
          break;
      }
    }
  };
  for (let i = 0; at < size - tailLen; i++) {
    if (body.length === 0) break;
    fill(body[i % body.length], size - tailLen);
  }
  at = size - tailLen;
  for (const p of tail) fill(p, size);
  return out;
}

const blockArb = fc
  .tuple(sizeArb, fc.array(partArb, { minLength: 0, maxLength: 6 }), tailArb)
  .map(([size, body, tail]) => render(size, body, tail));

test('property: every block the encoder writes decodes by the kernel rules to the same bytes', () => {
  fc.assert(
    fc.property(blockArb, (data) => {
      const stream = encode(data);
      const got = kernel(stream, data.length);
      expect(got.length).toBe(data.length);
      expect(Buffer.compare(Buffer.from(got), Buffer.from(data))).toBe(0);
      // the lenient decoder agrees on what the kernel takes
      const dst = new Uint8Array(data.length);
      expect(lz4DecodeLenient(stream, dst)).toBe(data.length);
      expect(Buffer.compare(Buffer.from(dst), Buffer.from(data))).toBe(0);
      expect(stream.length).toBeLessThanOrEqual(lz4Bound(data.length));
    }),
    { numRuns: RUNS },
  );
});

test('property: lz4Compress output, when it fits, reads back through lz4Decompress', () => {
  fc.assert(
    fc.property(blockArb, (data) => {
      const packed = lz4Compress(data, data.length / 2 + 4);
      if (!packed) return;
      const phys = new Uint8Array(1 << Math.ceil(Math.log2(Math.max(packed.length, 1024))));
      phys.set(packed);
      expect(Buffer.compare(Buffer.from(lz4Decompress(phys, data.length)), Buffer.from(data))).toBe(0);
    }),
    { numRuns: Math.ceil(RUNS / 3) },
  );
});

test('the encoder compresses runs, text and short blocks, and never matches in the last 12 bytes', () => {
  const run = new Uint8Array(65536).fill(7);
  expect(encode(run).length).toBeLessThan(300);
  for (let n = 0; n <= 40; n++) {
    const d = new Uint8Array(n).fill(3);
    expect(Buffer.from(kernel(encode(d), Math.max(n, 1)).subarray(0, n)).equals(Buffer.from(d))).toBe(true);
  }
  // 13 equal bytes: the one match allowed starts at 1 and must stop 5 bytes before the end
  expect([...encode(new Uint8Array(13).fill(9))]).toEqual([0x13, 9, 1, 0, 0x50, 9, 9, 9, 9, 9]);
});

// ---- the kernel's rules at their boundaries -----------------------------------------------

describe('the kernel rules', () => {
  const n = 4096;

  test('a last match may start 12 bytes before the end, not 11 or 10', () => {
    const ok = kernel(lateMatchStream(n, 8), n);
    expect(ok.length).toBe(n);
    expect(Buffer.from(ok).toString('latin1')).toBe('a'.repeat(n - 8) + 'z'.repeat(8));
    expect(() => kernel(lateMatchStream(n, 7), n)).toThrow(/match starts 11 bytes before the end/);
    expect(() => kernel(lateMatchStream(n, 6), n)).toThrow(/match starts 10 bytes before the end/);
    // the lenient decoder takes them, to the same bytes as their encoding says
    for (const tail of [6, 7]) {
      const dst = new Uint8Array(n);
      expect(lz4DecodeLenient(lateMatchStream(n, tail), dst)).toBe(n);
      expect(Buffer.from(dst).toString('latin1')).toBe('a'.repeat(n - tail) + 'z'.repeat(tail));
    }
  });

  test('a match must end at least 5 bytes before the end of the block', () => {
    const m = 40;
    const lit = new Uint8Array(20).fill(0x61);
    const five = buildStream([{ lit, offset: 20, match: 15 }, { lit: new Uint8Array(5).fill(0x7a) }]);
    expect(kernel(five, m).length).toBe(m);
    // one byte longer: refused at the match, whatever follows it
    const four = buildStream([{ lit, offset: 20, match: 16 }]);
    expect(() => kernel(Uint8Array.of(...four, 0x40, 0x7a, 0x7a, 0x7a, 0x7a, 0, 0, 0), m)).toThrow(/match ends 4 bytes before the end/);
    // a stream that ends with a match is refused too
    expect(() => kernel(four, m)).toThrow(FormatError);
    const dst = new Uint8Array(m);
    expect(lz4DecodeLenient(four, dst)).toBe(36);
  });

  test('the stream must end exactly with the last literals, and stay inside the block', () => {
    const good = buildStream([{ lit: new Uint8Array(100).fill(1) }]);
    expect(kernel(good, n).length).toBe(100); // shorter than the block: the rest reads as zeros
    expect(() => kernel(Uint8Array.of(...good, 0), n)).toThrow(/last literals end at 102, not at the end of the 103-byte stream/);
    expect(() => kernel(good.subarray(0, 50), n)).toThrow(FormatError);
    expect(() => kernel(new Uint8Array(0), n)).toThrow(/empty/);
    expect(() => kernel(buildStream([{ lit: new Uint8Array(n + 1) }]), n)).toThrow(/past the 4096-byte/);
    expect(() => kernel(good, 0)).toThrow(FormatError);
  });

  test('offsets stay inside the block and are never zero', () => {
    const lit = new Uint8Array(20).fill(2);
    const tail = { lit: new Uint8Array(8) };
    expect(kernel(buildStream([{ lit, offset: 20, match: 30 }, tail]), n).length).toBe(58);
    expect(() => kernel(buildStream([{ lit, offset: 21, match: 30 }, tail]), n)).toThrow(/reaches before the start/);
    expect(() => kernel(buildStream([{ lit, offset: 0, match: 30 }, tail]), n)).toThrow(/zero offset/);
  });

  test('random garbage is refused or decoded, never past the block, never hanging', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.integer({ min: 1, max: 65536 }), (g, size) => {
        for (const decode of [lz4DecodeKernel, lz4DecodeLenient]) {
          try {
            expect(decode(g, new Uint8Array(size))).toBeLessThanOrEqual(size);
          } catch (e) {
            expect(e).toBeInstanceOf(FormatError);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- what lz4js wrote ---------------------------------------------------------------------

test('the fixture block (lz4js, from the fixture image) is refused by the kernel rules and salvaged leniently', () => {
  const phys = gunzipSync(fs.readFileSync(path.join(FIXTURE_DIR, 'lz4js-tail.block.bin.gz')));
  const want = fixtureTree().get('words.txt')!.subarray(0, 65536);
  expect(phys.length).toBe(32768);
  expect(() => lz4Decompress(phys, 65536)).toThrow(/match starts 11 bytes before the end of the block/);
  const got = lz4DecompressLenient(phys, 65536);
  expect(Buffer.from(got).equals(want)).toBe(true);
  // re-encoded, it fits the same half block and the kernel rules take it
  const again = lz4Compress(got, 65536 / 2 - 8 + 4)!;
  expect(again).not.toBeNull();
  expect(Buffer.from(lz4Decompress(again, 65536)).equals(want)).toBe(true);
  // and lz4js still writes exactly that refused stream for these bytes
  const out = new Uint8Array(lz4js.compressBound(65536));
  const k = lz4js.compressBlock(want, out, 0, 65536, new Uint32Array(1 << 16));
  expect(Buffer.from(out.subarray(0, k)).equals(phys.subarray(4, 4 + k))).toBe(true);
});

test('a lenient decode that does not fill the logical block is no salvage', () => {
  const short = withPrefix(buildStream([{ lit: new Uint8Array(100).fill(1) }]));
  expect(lz4Decompress(short, 4096).length).toBe(4096);
  expect(() => lz4DecompressLenient(short, 4096)).toThrow(/decodes to 100 bytes, not the 4096-byte/);
});

// ---- zlib, by the same rules ----------------------------------------------------------------

test('zlib: the stream must end within the logical block; padding after it is ignored', () => {
  const data = new Uint8Array(16384).map((_, i) => (i * 7) % 251);
  const c = zlibCompress(data, 6, 16384)!;
  const padded = new Uint8Array(8192);
  padded.set(c);
  expect(Buffer.from(zlibDecompress(padded, 16384)).equals(Buffer.from(data))).toBe(true);
  expect(() => zlibDecompress(padded, 16383)).toThrow(/past the 16383-byte logical block/);
  const out = zlibDecompress(padded, 65536);
  expect(out.subarray(16384).every((b) => b === 0)).toBe(true);
});
