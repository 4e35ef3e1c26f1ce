/**
 * The undo device layer under random writes (fast-check): reads during the run see every write
 * made so far (held batches included), the records never overlap, and undo brings back the
 * device's bytes exactly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { UNDO_REC_DATA, UNDO_REC_HEADER_BYTES, UNDO_REC_ZERO, decodeUndoHeader, decodeUndoRecordHeader } from '../../src/format';
import { UndoLog, UndoSink, WritableSource } from '../../src/engine';
import { runUndo } from '../../src/ops/undo';
import { tempDir } from '../helpers/cli';

const SIZE = 3 << 20;

/** A device in memory. */
class MemDevice implements WritableSource {
  readonly path = 'mem';
  readonly isBlockDevice = false;
  constructor(readonly bytes: Buffer) {}
  get size(): bigint {
    return BigInt(this.bytes.length);
  }
  read(off: bigint, len: number): Buffer {
    return Buffer.from(this.bytes.subarray(Number(off), Number(off) + len));
  }
  write(off: bigint, b: Uint8Array): void {
    this.bytes.set(b, Number(off));
  }
  fsync(): void {}
  close(): void {}
}

class MemSink implements UndoSink {
  readonly parts: Buffer[] = [];
  append(b: Uint8Array): void {
    this.parts.push(Buffer.from(b));
  }
  sync(): void {}
  close(): void {}
}

type Op = { kind: 'write'; off: number; len: number; fill: number } | { kind: 'read'; off: number; len: number } | { kind: 'fsync' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), off: fc.integer({ min: 0, max: SIZE - 1 }), len: fc.integer({ min: 1, max: 200000 }), fill: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('read' as const), off: fc.integer({ min: 0, max: SIZE - 1 }), len: fc.integer({ min: 1, max: 100000 }) }),
  fc.constant({ kind: 'fsync' as const }),
);

const dir = tempDir('undo-log');
let seq = 0;

test('random writes through the undo layer: reads see them, records are disjoint, undo restores every byte', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 0, max: 1 << 30 }), (ops, seed) => {
      const original = Buffer.alloc(SIZE);
      for (let i = 0; i < SIZE; i += 4096) original.writeUInt32LE((seed + i * 2654435761) >>> 0, i);
      const mem = new MemDevice(Buffer.from(original));
      const model = Buffer.from(original);
      const sink = new MemSink();
      const log = new UndoLog({ file: 'mem.undo', sink }, 'test');
      const [dev] = log.attach([mem]);
      for (const o of ops) {
        if (o.kind === 'fsync') dev.fsync();
        else if (o.kind === 'read') {
          const len = Math.min(o.len, SIZE - o.off);
          expect(dev.read(BigInt(o.off), len).equals(model.subarray(o.off, o.off + len))).toBe(true);
        } else {
          const len = Math.min(o.len, SIZE - o.off);
          const b = Buffer.alloc(len, o.fill);
          dev.write(BigInt(o.off), b);
          b.fill(o.fill ^ 0xff); // the layer must have kept its own copy
          model.fill(o.fill, o.off, o.off + len);
        }
      }
      log.finish();
      expect(mem.bytes.equals(model)).toBe(true);
      const file = Buffer.concat(sink.parts);
      // the ranges saved never overlap: every byte has one old image
      let at = decodeUndoHeader(file).end;
      const covered = new Uint8Array(SIZE);
      let overlaps = 0;
      while (at < file.length) {
        const r = decodeUndoRecordHeader(file.subarray(at, at + UNDO_REC_HEADER_BYTES), at)!;
        if (r.type === UNDO_REC_DATA || r.type === UNDO_REC_ZERO) {
          const from = Number(r.offset);
          const seen = covered.subarray(from, from + r.length);
          overlaps += seen.reduce((n, x) => n + x, 0);
          seen.fill(1);
        }
        at += UNDO_REC_HEADER_BYTES + r.payload;
      }
      expect(overlaps).toBe(0);
      const f = path.join(dir, `u${seq++}`);
      fs.writeFileSync(f, file);
      const rep = runUndo(f, ['mem'], { dryRun: false, force: false, opener: () => mem });
      expect(rep.completed).toBe(true);
      expect(mem.bytes.equals(original)).toBe(true);
      fs.rmSync(f);
    }),
    { numRuns: 60 },
  );
});
