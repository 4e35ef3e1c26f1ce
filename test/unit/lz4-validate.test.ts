/**
 * The validate-only readers fsck uses against the decoders they stand for: on valid, truncated,
 * mutated and hand-built streams, lz4ValidateKernel returns what lz4DecodeKernel returns or
 * throws the same error, and validateBlock agrees with decompressBlock for every codec.
 */
import fc from 'fast-check';
import {
  COMP_LZ4,
  COMP_NONE,
  COMP_ZLIB,
  decompressBlock,
  lz4Bound,
  lz4Compress,
  lz4DecodeKernel,
  lz4EncodeBlock,
  lz4ValidateKernel,
  validateBlock,
  zlibCompress,
} from '../../src/format';
import { Seq, buildStream, lateMatchStream, withPrefix } from '../helpers/lz4-streams';

const RUNS = process.env.H2KIT_LONG === '1' ? 20000 : 400;

type Outcome = { n: number } | { error: string };

const outcome = (fn: () => number): Outcome => {
  try {
    return { n: fn() };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

/** Both readers on one stream: the decoder's outcome, which the validator must equal. */
function expectAgree(stream: Uint8Array, logical: number): Outcome {
  const decoded = outcome(() => lz4DecodeKernel(stream, new Uint8Array(logical)));
  expect(outcome(() => lz4ValidateKernel(stream, logical))).toEqual(decoded);
  return decoded;
}

/** Compressible data: runs, short periods and noise, so the encoder writes matches of all lengths. */
const dataArb = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constant(0), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 255 })),
      fc.tuple(fc.constant(1), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 9 })),
      fc.tuple(fc.constant(2), fc.integer({ min: 1, max: 200 }), fc.integer()),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => {
    const out: number[] = [];
    for (const [kind, len, arg] of parts) {
      let x = arg >>> 0;
      for (let i = 0; i < len; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        out.push(kind === 0 ? arg : kind === 1 ? (i % arg) * 31 : x >>> 24);
      }
    }
    return Uint8Array.from(out);
  });

const encode = (data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(lz4Bound(data.length));
  return out.subarray(0, lz4EncodeBlock(data, out));
};

/** A logical block size around the data's: exact, smaller (overruns) or larger (zero tail). */
const logicalFor = (n: number, pick: number): number => Math.max(1, [n, n - 1, n + 1, n - 13, n + 4096, 1 << Math.ceil(Math.log2(Math.max(n, 2)))][pick % 6]);

test('property: on the encoder\'s streams the validator returns the decoder\'s length', () => {
  fc.assert(
    fc.property(dataArb, fc.nat(), (data, pick) => {
      const logical = logicalFor(data.length, pick);
      const got = expectAgree(encode(data), logical);
      if (logical >= data.length) expect(got).toEqual({ n: data.length });
    }),
    { numRuns: RUNS },
  );
});

test('property: truncated streams are refused alike', () => {
  fc.assert(
    fc.property(dataArb, fc.nat(), fc.nat(), (data, pick, cut) => {
      const stream = encode(data);
      expectAgree(stream.subarray(0, cut % (stream.length + 1)), logicalFor(data.length, pick));
    }),
    { numRuns: RUNS },
  );
});

test('property: mutated streams (bytes changed, inserted, dropped) are judged alike', () => {
  const editArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(dataArb, fc.nat(), editArb, (data, pick, edits) => {
      const bytes = [...encode(data)];
      for (const [op, at, v] of edits) {
        const i = bytes.length === 0 ? 0 : at % bytes.length;
        if (op === 0 && bytes.length > 0) bytes[i] = v;
        else if (op === 1) bytes.splice(i, 0, v);
        else bytes.splice(i, 1);
      }
      expectAgree(Uint8Array.from(bytes), logicalFor(data.length, pick));
    }),
    { numRuns: RUNS },
  );
});

test('property: hand-built sequences (any offset, any match length, any tail) are judged alike', () => {
  const seqArb = fc.record({
    lit: fc.uint8Array({ maxLength: 40 }),
    offset: fc.integer({ min: 0, max: 300 }),
    match: fc.integer({ min: 4, max: 400 }),
  });
  fc.assert(
    fc.property(fc.array(seqArb, { maxLength: 8 }), fc.uint8Array({ maxLength: 30 }), fc.integer({ min: 1, max: 4096 }), (seqs, last, logical) => {
      const all: Seq[] = [...seqs, { lit: last }];
      expectAgree(buildStream(all), logical);
    }),
    { numRuns: RUNS },
  );
});

test('the end-of-block boundaries are judged alike (the lz4js late match refused, the latest legal one taken)', () => {
  for (const tail of [5, 6, 7, 8, 9]) {
    const got = expectAgree(lateMatchStream(4096, tail), 4096);
    expect('error' in got).toBe(tail < 8);
  }
  expect(expectAgree(new Uint8Array(0), 4096)).toEqual({ error: 'lz4: the stream is empty' });
  expect('error' in expectAgree(Uint8Array.of(0x10, 0x41), 0)).toBe(true);
});

test('property: validateBlock agrees with decompressBlock on lz4, zlib and raw blocks, intact or damaged', () => {
  fc.assert(
    fc.property(dataArb, fc.integer({ min: 0, max: 2 }), fc.nat(), fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))), (data, which, pick, damage) => {
      const comp = [COMP_LZ4, COMP_ZLIB, COMP_NONE][which];
      const packed = comp === COMP_LZ4 ? lz4Compress(data, lz4Bound(data.length) + 4) : comp === COMP_ZLIB ? zlibCompress(data, 6, data.length + 64) : data;
      const phys = new Uint8Array(packed!);
      if (damage && phys.length > 0) phys[damage[0] % phys.length] ^= damage[1] | 1;
      const logical = logicalFor(data.length, pick);
      const decoded = outcome(() => decompressBlock(comp, phys, logical).length);
      const validated = outcome(() => validateBlock(comp, phys, logical));
      if ('error' in decoded) expect(validated).toEqual(decoded);
      else expect('n' in validated && validated.n <= logical).toBe(true);
    }),
    { numRuns: RUNS },
  );
});

test('a whole lz4 block with its prefix: validated length is what the decoder fills', () => {
  const data = new Uint8Array(16384).fill(7);
  data.set([1, 2, 3], 100);
  const phys = withPrefix(encode(data.subarray(0, 10000)));
  expect(validateBlock(COMP_LZ4, phys, 16384)).toBe(10000);
  const out = decompressBlock(COMP_LZ4, phys, 16384);
  expect(out.subarray(10000).every((b) => b === 0)).toBe(true);
});
