/**
 * The write gathering under reblock's device guard: whatever the order of writes, reads and
 * fsyncs, a read sees exactly what was written, an fsync leaves the device holding every byte
 * written, contiguous writes reach the device as fewer writes, and a close without fsync drops
 * what is pending (a run that ends without its commit).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { WritableDevice, WritableSource } from '../../src/engine';
import { GatherSource } from '../../src/ops/reblock/gather-source';

const SIZE = 1 << 20;

/** A device that keeps the very arrays it is given, as an in-memory image may: reusing one would show. */
class KeepingDevice implements WritableSource {
  readonly path = 'keeping';
  readonly isBlockDevice = false;
  readonly writes: { off: number; bytes: Uint8Array }[] = [];
  fsyncs = 0;
  get size(): bigint {
    return BigInt(SIZE);
  }
  read(off: bigint, len: number): Buffer {
    // replayed from the arrays kept: one reused after it was handed over shows here
    const all = Buffer.alloc(SIZE);
    for (const w of this.writes) all.set(w.bytes, w.off);
    return Buffer.from(all.subarray(Number(off), Math.min(SIZE, Number(off) + len)));
  }
  write(off: bigint, bytes: Uint8Array): void {
    this.writes.push({ off: Number(off), bytes });
  }
  fsync(): void {
    this.fsyncs++;
  }
  close(): void {}
}

type Op = { kind: 'write'; gap: number; len: number; seed: number } | { kind: 'read'; off: number; len: number } | { kind: 'fsync' };

const op: fc.Arbitrary<Op> = fc.oneof(
  // mostly right after the previous write (what reblock's dense packing does), sometimes elsewhere
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), gap: fc.oneof(fc.constant(0), fc.integer({ min: -70000, max: 70000 })), len: fc.integer({ min: 1, max: 200000 }), seed: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), off: fc.integer({ min: 0, max: SIZE - 1 }), len: fc.integer({ min: 1, max: 100000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fsync' as const }) },
);

/** Bytes that differ from write to write (a short pattern from the seed, repeated). */
function fill(len: number, seed: number): Buffer {
  const x = seed >>> 0;
  return Buffer.alloc(len, Buffer.from([x & 255, (x >>> 8) & 255, (x >>> 16) & 255, x >>> 24, 0x5a, (x * 7) & 255, 0xa5]));
}

/** Run the ops against the gatherer and a plain model; returns the model and the writes made. */
function play(dev: WritableSource, ops: Op[]): { model: Buffer; writes: number } {
  const g = new GatherSource(dev);
  const model = Buffer.alloc(SIZE);
  let next = 0;
  let writes = 0;
  for (const o of ops) {
    if (o.kind === 'write') {
      const at = Math.max(0, Math.min(SIZE - o.len, next + o.gap));
      const bytes = fill(o.len, o.seed);
      g.write(BigInt(at), bytes);
      model.set(bytes, at);
      // the caller may use its buffer again at once
      bytes.fill(0xee);
      next = at + o.len;
      writes++;
    } else if (o.kind === 'read') {
      const got = g.read(BigInt(o.off), o.len);
      expect(Buffer.compare(got, model.subarray(o.off, o.off + got.length))).toBe(0);
    } else {
      g.fsync();
      expect(Buffer.compare(dev.read(0n, SIZE), model)).toBe(0);
    }
  }
  g.fsync();
  expect(Buffer.compare(dev.read(0n, SIZE), model)).toBe(0);
  return { model, writes };
}

test('reads see every write, fsync makes them all durable, and a device that keeps its arrays sees no reuse', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
      const dev = new KeepingDevice();
      const { writes } = play(dev, ops);
      expect(dev.writes.length).toBeLessThanOrEqual(writes);
    }),
    { numRuns: 100 },
  );
});

test('on a real device file the gathering buffer is reused and the file ends byte-identical', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-gather-'));
  try {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const file = path.join(dir, 'dev.img');
        fs.writeFileSync(file, Buffer.alloc(0));
        fs.truncateSync(file, SIZE);
        const dev = WritableDevice.open(file, { purpose: 'test' });
        try {
          const { model } = play(dev, ops);
          expect(Buffer.compare(fs.readFileSync(file), model)).toBe(0);
        } finally {
          dev.close();
        }
      }),
      { numRuns: 30 },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('contiguous small writes reach the device as one write; a close without fsync drops them', () => {
  const dev = new KeepingDevice();
  const g = new GatherSource(dev);
  for (let i = 0; i < 64; i++) g.write(BigInt(i * 1024), fill(1024, i));
  expect(dev.writes.length).toBe(0);
  g.fsync();
  expect(dev.writes.length).toBe(1);
  expect(dev.fsyncs).toBe(1);
  g.write(512n << 10n, fill(4096, 7));
  g.close();
  expect(dev.writes.length).toBe(1);
});
