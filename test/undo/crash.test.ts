/**
 * Undo under the crash harness. A run's device writes and fsyncs are recorded together with
 * its undo file's appends and syncs; for every state a crash could leave (each fsync prefix,
 * random subsets of the in-flight writes, and the undo file as synced by then plus a torn
 * piece of what was not), `h2kit undo` must take the device back to its bytes before the run.
 * Then the undo itself crashes at every fsync and in between, and a rerun must end the same.
 *
 * "Back to its bytes" is checked over every range the run wrote (the device is an overlay on
 * the untouched image, so nothing else can differ): the same as comparing the sha256.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BREF_TYPE_INODE, CHECK_XXHASH64, COMP_LZ4, OBJTYPE_REGFILE, decodeInode } from '../../src/format';
import { BlockSource, ReadOnlyDevice, UndoOptions, UndoSink, WritableSource } from '../../src/engine';
import { MkfsOptions, MkfsTarget, runMkfsWithRoot } from '../../src/ops/mkfs';
import { runRepair } from '../../src/ops/fsck';
import { ITEM_TYPES, runReblock } from '../../src/ops/reblock';
import { runUndo } from '../../src/ops/undo';
import { IoEvent, RecordingDevice, crashImages } from '../helpers/crash';
import { OverlayDevice, rng } from '../helpers/corrupt';
import { Editor } from '../helpers/edit';
import { freshImage, tempDir } from '../helpers/cli';
import { fragment } from '../helpers/fragment';

const SUBSETS = process.env.H2KIT_LONG ? 40 : 3;

/** An undo file kept in memory, its appends and syncs placed among the device's events. */
class RecordingSink implements UndoSink {
  private readonly chunks: { at: number; bytes: Buffer }[] = [];
  private readonly syncs: { at: number; len: number }[] = [];
  private total = 0;
  constructor(private readonly events: IoEvent[]) {}

  append(bytes: Uint8Array): void {
    this.chunks.push({ at: this.events.length, bytes: Buffer.from(bytes) });
    this.total += bytes.length;
  }
  sync(): void {
    this.syncs.push({ at: this.events.length, len: this.total });
  }
  close(): void {}

  /** The file after a crash that followed the first `n` device events: synced bytes, plus up to `torn` more. */
  fileAt(n: number, torn: number): Buffer {
    const all = Buffer.concat(this.chunks.map((c) => c.bytes));
    let durable = 0;
    for (const s of this.syncs) if (s.at <= n) durable = s.len;
    let appended = 0;
    for (const c of this.chunks) if (c.at <= n) appended += c.bytes.length;
    return all.subarray(0, durable + Math.min(torn, Math.max(0, appended - durable)));
  }
}

class RecordingTarget extends RecordingDevice implements MkfsTarget {
  readonly created = false;
  truncate(): void {
    throw new Error('the test image already has its size');
  }
}

interface Crash {
  label: string;
  writes: IoEvent[];
  /** device events that happened before the crash */
  n: number;
}

/** The crash states of a recorded run, as crashImages makes them, with how far the run got. */
function crashes(events: IoEvent[], subsets: number, seed: number): Crash[] {
  const out: Crash[] = [{ label: 'before the first device write', writes: [], n: 0 }];
  const fsyncs = events.map((e, i) => (e.kind === 'fsync' ? i : -1)).filter((i) => i >= 0);
  const bounds = [-1, ...fsyncs];
  const r = rng(seed);
  for (let k = 0; k < bounds.length; k++) {
    const durable = events.slice(0, bounds[k] + 1);
    if (k > 0) out.push({ label: `through fsync ${k}`, writes: durable, n: bounds[k] + 1 });
    const end = k + 1 < bounds.length ? bounds[k + 1] : events.length;
    const idx: number[] = [];
    for (let i = bounds[k] + 1; i < end; i++) if (events[i].kind === 'write') idx.push(i);
    for (let s = 0; s < subsets && idx.length > 0; s++) {
      const pick = idx.filter(() => r() < 0.5);
      const last = pick.length > 0 ? pick[pick.length - 1] + 1 : bounds[k] + 1;
      out.push({ label: `fsync ${k} + ${pick.length}/${idx.length} in-flight (subset ${s})`, writes: [...durable, ...pick.map((i) => events[i])], n: last });
    }
  }
  return out;
}

/** Every range a list of events wrote, merged. */
function rangesOf(events: IoEvent[]): [bigint, bigint][] {
  const rs = events.flatMap((e) => (e.kind === 'write' ? [[e.off, e.off + BigInt(e.bytes.length)] as [bigint, bigint]] : [])).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = r[1] > last[1] ? r[1] : last[1];
    else out.push([...r]);
  }
  return out;
}

/** The ranges (offset and length) where `dev` differs from `base`, over `ranges`. */
function differences(base: BlockSource, dev: BlockSource, ranges: [bigint, bigint][]): string[] {
  const out: string[] = [];
  for (const [from, to] of ranges) {
    for (let at = from; at < to; at += 1n << 20n) {
      const n = Number(to - at < 1n << 20n ? to - at : 1n << 20n);
      if (!base.read(at, n).equals(dev.read(at, n))) out.push(`0x${at.toString(16)}+${n}`);
    }
  }
  return out;
}

/**
 * Record `run` over `img`, then for every crash state undo it and compare; then crash the
 * full undo and rerun it. Returns how many states were checked.
 */
async function sweep(img: string, run: (opener: () => RecordingDevice, undo: UndoOptions) => Promise<unknown>, mkTarget = false): Promise<number> {
  const base = ReadOnlyDevice.open(img);
  const dir = tempDir('undo-crash');
  try {
    const rec = mkTarget ? new RecordingTarget(base) : new RecordingDevice(base);
    const sink = new RecordingSink(rec.events);
    await run(() => rec, { file: path.join(dir, 'never-written'), sink });
    expect(rec.events.some((e) => e.kind === 'write')).toBe(true);
    const written = rangesOf(rec.events);
    const r = rng(7);
    const file = path.join(dir, 'u');
    const failures: string[] = [];
    const states = crashes(rec.events, SUBSETS, 11);
    for (const c of states) {
      const dev = new OverlayDevice(base);
      for (const w of c.writes) if (w.kind === 'write') dev.write(w.off, w.bytes);
      const torn = Math.floor(r() * 3000);
      fs.writeFileSync(file, sink.fileAt(c.n, torn));
      try {
        runUndo(file, [img], { dryRun: false, force: false, opener: () => dev });
      } catch (e) {
        failures.push(`${c.label}: ${(e as Error).message}`);
        continue;
      }
      const diff = differences(base, dev, written);
      if (diff.length > 0) failures.push(`${c.label} (torn ${torn}): differs at ${diff.slice(0, 3).join(', ')}`);
    }
    expect(failures).toEqual([]);

    // the whole run, then an undo that crashes
    const after = new OverlayDevice(base);
    for (const w of rec.events) if (w.kind === 'write') after.write(w.off, w.bytes);
    fs.writeFileSync(file, sink.fileAt(rec.events.length, 0));
    const urec = new RecordingDevice(after);
    runUndo(file, [img], { dryRun: false, force: false, opener: () => urec });
    expect(differences(base, urec, written)).toEqual([]);
    const images = crashImages(after, urec.events, SUBSETS, 5);
    for (const c of images) {
      try {
        runUndo(file, [img], { dryRun: false, force: false, opener: () => c.device });
      } catch (e) {
        failures.push(`undo crashed ${c.label}: ${(e as Error).message}`);
        continue;
      }
      const diff = differences(base, c.device, written);
      if (diff.length > 0) failures.push(`undo crashed ${c.label}, rerun: differs at ${diff.slice(0, 3).join(', ')}`);
    }
    expect(failures).toEqual([]);
    return states.length + images.length;
  } finally {
    base.close();
  }
}

const bytesOf = (seed: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, k) => ((k * 131 + seed * 17) ^ (k >> 9)) & 0xff));

function makeTree(dir: string, seed: number): string {
  const root = path.join(dir, `tree${seed}`);
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'multi'), bytesOf(seed, 200000));
  for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(root, 'sub', `f${i}`), bytesOf(seed + i, 500 + i * 4000));
  return root;
}

const mkfsOptions = (img: string, tree: string, opener?: MkfsOptions['opener'], undo?: UndoOptions): MkfsOptions => ({
  devices: [img],
  sizes: [],
  version: 2,
  labels: [],
  params: { pfs: new Map() },
  force: true,
  dryRun: false,
  root: { dir: tree, pfs: 'DATA', algos: { comp: COMP_LZ4, check: CHECK_XXHASH64 }, skipUnreadable: false },
  opener,
  undo,
});

async function smallFs(tag: string): Promise<{ dir: string; img: string }> {
  const dir = tempDir(tag);
  const img = freshImage('n64m', dir);
  await runMkfsWithRoot(mkfsOptions(img, makeTree(dir, 1)));
  return { dir, img };
}

test('reblock: every crash state undoes to the old bytes, and so does a crashed undo rerun', async () => {
  const img = freshImage('n256m', tempDir('undo-crash-reblock'));
  await fragment(img, 30);
  const n = await sweep(img, (opener, undo) =>
    runReblock(img, { fillLevel: 100, types: new Set(ITEM_TYPES), commitEveryBytes: 256n << 10n, reserveBytes: 0n, dryRun: false, opener: opener as () => WritableSource, undo }),
  );
  console.log(`reblock: ${n} crash states undone`);
});

test('fsck -y on a damaged image: every crash state undoes to the damaged bytes', async () => {
  const { img } = await smallFs('undo-crash-fsck');
  const ed = new Editor(img);
  try {
    const files = ed.visits().filter((v) => v.bref.type === BREF_TYPE_INODE && decodeInode(v.data).meta.type === OBJTYPE_REGFILE);
    ed.editInode(files[2], (i) => (i.meta.nlinks = 5n));
    ed.editInode(files[4], (i) => (i.meta.mode |= 0o170000));
    ed.applyTo(img);
  } finally {
    ed.close();
  }
  const n = await sweep(img, (opener, undo) => runRepair(img, { mode: 'yes', opener, undo }));
  console.log(`fsck -y: ${n} crash states undone`);
});

test('mkfs --root --force over a filesystem: every crash state undoes to the old filesystem', async () => {
  const { dir, img } = await smallFs('undo-crash-mkfs');
  const tree = makeTree(dir, 2);
  const n = await sweep(img, (opener, undo) => runMkfsWithRoot(mkfsOptions(img, tree, opener as unknown as MkfsOptions['opener'], undo)), true);
  console.log(`mkfs --root: ${n} crash states undone`);
});
