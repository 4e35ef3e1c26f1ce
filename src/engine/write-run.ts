/**
 * A writing run: one command's hold on its devices, from the first read to the last commit.
 *
 * The run opens every device once, exclusively and under the target lock, so that what a
 * command checks is what it then changes and no other writer comes between its commits. It owns
 * the run's RunSpace: every write of every session passes its guard (see run-space.ts), and
 * allocation across all the run's commits comes only from space that was free when it began.
 */
import { initXxh64 } from '../format';
import { VOLUME_BYTES, ZONE_BYTES } from '../format/constants';
import { ChainReader } from './chain';
import { H2Error } from './errors';
import { readHeaderCopies } from './header';
import { RunSpace } from './run-space';
import { OpenOptions, VolumeSet, splitVolumePaths } from './volumes';
import { UndoLog, UndoOptions } from './undo-log';
import { GuardedSource, WritableDevice, WritableSource } from './writable-device';
import { SessionOptions, WriteSession } from './write-session';

export interface RunOpenOptions {
  purpose: string;
  /** open devices with this (the crash harness records through it) */
  opener?: (path: string) => WritableSource;
  /**
   * save what the run overwrites to an undo file first (see undo-log.ts): a file of its own,
   * or a command's log that several runs share
   */
  undo?: UndoOptions | UndoLog;
}

export class WriteRun {
  readonly space = new RunSpace();
  private readonly devs = new Map<string, GuardedSource>();
  private protectedDone = false;
  private undo: UndoLog | null = null;
  private ownsUndo = false;

  private constructor(readonly spec: string) {}

  static async open(spec: string, opts: RunOpenOptions): Promise<WriteRun> {
    await initXxh64();
    const run = new WriteRun(spec);
    try {
      const paths = splitVolumePaths(spec);
      let inners: WritableSource[] = [];
      for (const p of paths) {
        const inner = opts.opener ? opts.opener(p) : WritableDevice.open(p, { purpose: opts.purpose });
        inners.push(inner);
        // held here only so that a failure further on closes what was opened; never written through
        run.devs.set(p, new GuardedSource(inner, () => {
          throw new H2Error(`${p}: write before the run was set up`);
        }));
      }
      if (opts.undo) {
        run.ownsUndo = !(opts.undo instanceof UndoLog);
        run.undo = opts.undo instanceof UndoLog ? opts.undo : new UndoLog(opts.undo, opts.purpose);
        inners = run.undo.attach(inners);
      }
      paths.forEach((p, i) => run.devs.set(p, new GuardedSource(inners[i], (local, len) => run.check(p, local, len))));
    } catch (e) {
      run.close();
      throw e;
    }
    return run;
  }

  /** The device of a volume path, as every session of the run writes to it. */
  device(path: string): GuardedSource {
    const d = this.devs.get(path);
    if (!d) throw new H2Error(`${path}: not a device of this run`);
    return d;
  }

  private check(path: string, local: bigint, len: number): void {
    const base = this.devs.get(path)?.base;
    if (base === undefined || base === null) throw new H2Error(`${path}: write before the volume set was read`);
    this.space.checkWrite(base + local, len);
  }

  /** The volume set as the media holds it now (reads go through the run's devices). */
  volumes(opts: Omit<OpenOptions, 'opener'> = {}): VolumeSet {
    const vols = VolumeSet.open(this.spec, { ...opts, opener: (p) => this.device(p) });
    for (const v of vols.volumes) if (v) this.device(v.path).base = v.offset;
    if (!this.protectedDone) {
      this.protectedDone = true;
      const sel = vols.root.selection;
      this.space.protectHeaderCopies(new ChainReader(vols), sel.copies, sel.best);
    }
    return vols;
  }

  /** A new session over the media as the last commit left it. */
  session(opts: SessionOptions = {}): WriteSession {
    const vols = this.volumes();
    try {
      return new WriteSession(this, vols, opts);
    } catch (e) {
      vols.close();
      throw e;
    }
  }

  /**
   * Rewrite damaged header copies of one device from its best copy (fsck's header repair).
   * Returns the copies written.
   */
  rewriteHeaderCopies(path: string, copies: number[]): number[] {
    const dev = this.device(path);
    if (dev.base === null) throw new H2Error(`${path}: header rewrite before the volume set was read`);
    const sel = readHeaderCopies(dev);
    if (sel.best < 0) throw new H2Error(`${path}: no valid header copy to rewrite the others from`);
    const best = dev.read(BigInt(sel.best) * ZONE_BYTES, VOLUME_BYTES);
    const wrote: number[] = [];
    for (const c of copies) {
      const off = BigInt(c) * ZONE_BYTES;
      if (c === sel.best || off + BigInt(VOLUME_BYTES) > dev.size) continue;
      this.space.armHeader(dev.base + off);
      dev.write(off, best);
      wrote.push(c);
    }
    dev.fsync();
    return wrote;
  }

  close(): void {
    try {
      if (this.ownsUndo) this.undo?.finish();
      else this.undo?.detach();
    } finally {
      for (const d of this.devs.values()) d.inner.close();
    }
    this.devs.clear();
  }
}
