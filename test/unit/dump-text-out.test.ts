/**
 * The dump's byte-level printing against the printf conversions it replaces: every field
 * TextOut writes reads back as the BigInt/string formatting of the same value, whatever the
 * buffer size (so across flushes), and the traversal guard counts visits as a Map would.
 */
import fc from 'fast-check';
import { MAX_BLOCK_VISITS, MAX_TREE_DEPTH } from '../../src/engine';
import { BREF_TYPE_DATA, BREF_TYPE_INODE } from '../../src/format';
import { TraversalGuard } from '../../src/engine/guard';
import { Text, TextOut } from '../../src/ops/dump/text-out';

type Op =
  | { k: 'dec'; v: number }
  | { k: 'u64'; v: bigint }
  | { k: 'hex'; v: number; w: number }
  | { k: 'hex64'; v: bigint }
  | { k: 'spaces'; n: number }
  | { k: 'str'; s: string }
  | { k: 'text'; s: string }
  | { k: 'bytes'; b: Uint8Array }
  | { k: 'decLeft'; v: number; w: number };

const u64 = fc.bigUintN(64);
const latin1Str = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 80 }).map((a) => String.fromCharCode(...a));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.maxSafeInteger(), fc.constantFrom(0, 9, 10, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1)).map((v) => ({ k: 'dec' as const, v })),
  fc.oneof(u64, fc.constantFrom(0n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n)).map((v) => ({ k: 'u64' as const, v })),
  fc.record({ v: fc.integer({ min: 0, max: 2 ** 32 - 1 }), w: fc.integer({ min: 1, max: 8 }) }).map((r) => ({ k: 'hex' as const, ...r })),
  u64.map((v) => ({ k: 'hex64' as const, v })),
  fc.integer({ min: -3, max: 200 }).map((n) => ({ k: 'spaces' as const, n })),
  latin1Str.map((s) => ({ k: 'str' as const, s })),
  latin1Str.map((s) => ({ k: 'text' as const, s })),
  fc.uint8Array({ maxLength: 100 }).map((b) => ({ k: 'bytes' as const, b })),
  fc.record({ v: fc.integer({ min: 0, max: 100000 }), w: fc.integer({ min: 0, max: 6 }) }).map((r) => ({ k: 'decLeft' as const, ...r })),
);

/** What printf would print for the op. */
function expected(o: Op): string {
  switch (o.k) {
    case 'dec':
      return String(o.v);
    case 'u64':
      return o.v.toString();
    case 'hex':
      return o.v.toString(16).padStart(o.w, '0');
    case 'hex64':
      return o.v.toString(16).padStart(16, '0');
    case 'spaces':
      return ' '.repeat(Math.max(0, o.n));
    case 'str':
    case 'text':
      return o.s;
    case 'bytes':
      return Buffer.from(o.b).toString('latin1');
    case 'decLeft':
      return String(o.v).padEnd(o.w, ' ');
  }
}

function apply(out: TextOut, o: Op): void {
  switch (o.k) {
    case 'dec':
      return out.dec(o.v);
    case 'u64':
      return out.u64(Number(o.v >> 32n), Number(o.v & 0xffffffffn));
    case 'hex':
      return out.hex(o.v, o.w);
    case 'hex64':
      return out.hex64(Number(o.v >> 32n), Number(o.v & 0xffffffffn));
    case 'spaces':
      return out.spaces(o.n);
    case 'str':
      return out.str(o.s);
    case 'text':
      return out.text(new Text(o.s));
    case 'bytes':
      return out.bytes(o.b, 0, o.b.length);
    case 'decLeft':
      return out.decLeft(o.v, o.w);
  }
}

describe('TextOut', () => {
  test('every field prints as printf would, across flushes of any buffer size', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 24, max: 300 }), (ops, capacity) => {
        const chunks: Buffer[] = [];
        const out = new TextOut((b) => void chunks.push(Buffer.from(b)), capacity);
        for (const o of ops) apply(out, o);
        out.flush();
        // the sink is never handed an empty chunk
        for (const c of chunks) expect(c.length).toBeGreaterThan(0);
        expect(Buffer.concat(chunks).toString('latin1')).toBe(ops.map(expected).join(''));
      }),
      { numRuns: 500 },
    );
  });

  test('the sink sees the bytes only when the buffer fills or on flush', () => {
    const seen: string[] = [];
    const out = new TextOut((b) => void seen.push(Buffer.from(b).toString('latin1')), 32);
    out.str('0123456789');
    out.str('0123456789');
    expect(seen).toEqual([]);
    out.str('0123456789abcdef');
    expect(seen).toEqual(['01234567890123456789']);
    out.flush();
    out.flush();
    expect(seen).toEqual(['01234567890123456789', '0123456789abcdef']);
  });
});

describe('TraversalGuard.checkAt (the raw-field check dump show uses)', () => {
  test('refuses a block past the visit bound, as a count per offset would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ blk: fc.integer({ min: 0, max: 3 }), hi: fc.constantFrom(0, 1, 0x1fffff), data: fc.boolean() }), { maxLength: 3000 }),
        (visits) => {
          const g = new TraversalGuard();
          const ref = new Map<string, number>();
          for (const v of visits) {
            const offLo = (v.blk * 1024) >>> 0;
            const offset = v.hi * 2 ** 32 + offLo;
            const type = v.data ? BREF_TYPE_DATA : BREF_TYPE_INODE;
            const got = g.checkAt(type, 10, offset, 0);
            let want: string | null = null;
            if (!v.data) {
              const key = `${v.hi}:${offLo}`;
              const n = (ref.get(key) ?? 0) + 1;
              ref.set(key, n);
              if (n > MAX_BLOCK_VISITS) want = `block 0x${BigInt(offset).toString(16)} referenced more than ${MAX_BLOCK_VISITS} times`;
            }
            expect(got).toBe(want);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('many distinct blocks (the table grows) are each entered once without refusal', () => {
    const g = new TraversalGuard();
    const refused = (from: number, step: number): number => {
      let n = 0;
      for (let i = from; i < 100000; i += step) if (g.checkAt(BREF_TYPE_INODE, 10, i * 1024, 1) !== null) n++;
      return n;
    };
    expect(refused(0, 1)).toBe(0);
    expect(refused(0, 997)).toBe(0);
    // and the counts survived the growth: one block entered to the bound is then refused
    for (let k = 2; k < MAX_BLOCK_VISITS; k++) g.checkAt(BREF_TYPE_INODE, 10, 5 * 1024, 1);
    expect(g.checkAt(BREF_TYPE_INODE, 10, 5 * 1024, 1)).toBeNull();
    expect(g.checkAt(BREF_TYPE_INODE, 10, 5 * 1024, 1)).toMatch(/referenced more than/);
  });

  test('refuses a tree deeper than the bound', () => {
    const g = new TraversalGuard();
    expect(g.checkAt(BREF_TYPE_INODE, 10, 0, MAX_TREE_DEPTH)).toBeNull();
    expect(g.checkAt(BREF_TYPE_INODE, 10, 0, MAX_TREE_DEPTH + 1)).toMatch(/deeper than/);
  });
});
