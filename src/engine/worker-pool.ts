/**
 * Reading and compressing file data off the main thread, for a writer that stays synchronous.
 *
 * Segments (a stretch of one source file) are handed to `submit` in the order the writer will
 * place them and come back from `take` in that same order, so allocation order, and with it
 * every byte of the image, is what a run without workers makes. Workers get segments in
 * batches, round-robin; each answers its batches in order on its own port, so the next result
 * is always the next message of one known worker. The main thread waits for it with
 * `receiveMessageOnPort` and `Atomics.wait` on a counter the worker bumps: no event loop turn
 * is needed, so the walk and the chain tree stay plain synchronous code.
 *
 * Without workers (H2KIT_WORKERS=0, or no compiled worker script next to this module, as
 * under ts-jest) the same functions run inline when a segment is taken.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { BlockPolicy, PreparedSegment, prepareSegment, readSegment } from './block-prep';
import { EXIT, H2Error } from './errors';

export interface SegmentJob {
  /** the source file */
  path: Buffer;
  off: number;
  len: number;
  policy: BlockPolicy;
  /** the compression failure count at the first block when known (see prepareSegment) */
  heuristic: number | null;
  /** false: only the bytes are wanted (data kept in the inode), no blocks */
  blocks: boolean;
}

/** What a worker answers for one batch. */
export interface BatchAnswer {
  segs?: PreparedSegment[];
  error?: string;
}

/** One segment, read and prepared here; read errors become one-line failures. */
export function prepareJob(j: SegmentJob): PreparedSegment {
  let data: Uint8Array;
  try {
    data = readSegment(j.path, j.off, j.len);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new H2Error(`${j.path.toString()}: cannot be read (${err.code ?? err.message})`, EXIT.FAILURE);
  }
  return j.blocks ? prepareSegment(data, j.len, j.policy, j.heuristic) : { data, holes: new Uint8Array(0), packed: [] };
}

/** The buffers of prepared segments, to move them instead of copying. */
export function transferList(segs: PreparedSegment[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const s of segs) {
    out.push(s.data.buffer as ArrayBuffer);
    for (const p of s.packed) if (p) out.push(p.buffer as ArrayBuffer);
  }
  return out;
}

/** Batches close at this many bytes or segments: fewer messages for trees of small files. */
const BATCH_BYTES = 1 << 20;
const BATCH_SEGMENTS = 64;

const WORKER_YOUNG_GENERATION_MB = 4;
/** Atomics.wait slices, and the silence after which a worker counts as dead (a batch is ~1 MiB). */
const WAIT_STEP_MS = 1000;
const WORKER_SILENCE_MS = 120_000;

/** The compiled worker script, beside this module (dist/ or an installed package). */
const WORKER_SCRIPT = path.join(__dirname, 'block-worker.js');

/** H2KIT_WORKERS when set, else one per core besides the main thread's, at least one. */
export function workerCount(): number {
  const env = process.env.H2KIT_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) throw new H2Error(`H2KIT_WORKERS: '${env}' is not a worker count`, EXIT.USAGE);
    return n;
  }
  return Math.max(1, os.availableParallelism() - 1);
}

interface PoolWorker {
  worker: Worker;
  port: MessagePort;
  signal: Int32Array;
}

export class BlockPool {
  private readonly workers: PoolWorker[] = [];
  /** segments submitted and not yet sent (a batch being filled), or all of them inline */
  private pending: SegmentJob[] = [];
  private pendingBytes = 0;
  /** which worker answers each sent batch, oldest first */
  private readonly sent: number[] = [];
  private nextWorker = 0;
  private answer: PreparedSegment[] = [];
  private answerAt = 0;
  /** source length of each segment submitted and not yet taken, oldest first */
  private readonly lengths: number[] = [];
  /** source bytes submitted and not yet taken: what the caller bounds */
  inflightBytes = 0;

  constructor(count = workerCount()) {
    if (count > 0 && fs.existsSync(WORKER_SCRIPT)) {
      for (let i = 0; i < count; i++) {
        const { port1, port2 } = new MessageChannel();
        const signal = new Int32Array(new SharedArrayBuffer(4));
        // A small young generation: a worker's garbage is a batch's buffers, collected often
        // (the default one took about 30 MB more peak RSS on the benchmark tree).
        const worker = new Worker(WORKER_SCRIPT, {
          workerData: { port: port2, signal },
          transferList: [port2],
          resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
        });
        worker.unref();
        this.workers.push({ worker, port: port1, signal });
      }
    }
  }

  /** Worker threads in use (0: inline). */
  get size(): number {
    return this.workers.length;
  }

  submit(job: SegmentJob): void {
    this.pending.push(job);
    this.pendingBytes += job.len;
    this.inflightBytes += job.len;
    this.lengths.push(job.len);
    if (this.workers.length > 0 && (this.pendingBytes >= BATCH_BYTES || this.pending.length >= BATCH_SEGMENTS)) this.send();
  }

  /** The next segment in submission order (waits for its worker). */
  take(): PreparedSegment {
    if (this.workers.length === 0) {
      const job = this.pending.shift();
      if (!job) throw new H2Error('block pool: take without a submitted segment');
      this.inflightBytes -= this.lengths.shift()!;
      return prepareJob(job);
    }
    if (this.answerAt >= this.answer.length) {
      if (this.sent.length === 0) this.send();
      const w = this.sent.shift();
      if (w === undefined) throw new H2Error('block pool: take without a submitted segment');
      const a = this.receive(this.workers[w]);
      if (a.error !== undefined) throw new H2Error(a.error, EXIT.FAILURE);
      this.answer = a.segs!;
      this.answerAt = 0;
    }
    const seg = this.answer[this.answerAt];
    this.answer[this.answerAt++] = undefined as unknown as PreparedSegment; // let it go once placed
    this.inflightBytes -= this.lengths.shift()!;
    return seg;
  }

  close(): void {
    for (const w of this.workers) {
      w.port.close();
      void w.worker.terminate();
    }
    this.workers.length = 0;
  }

  private send(): void {
    if (this.pending.length === 0) return;
    const w = this.nextWorker;
    this.nextWorker = (w + 1) % this.workers.length;
    this.workers[w].worker.postMessage(this.pending);
    this.sent.push(w);
    this.pending = [];
    this.pendingBytes = 0;
  }

  private receive(w: PoolWorker): BatchAnswer {
    // A worker that dies outright (out of memory, killed) never answers, and its exit event
    // cannot reach a thread blocked here: give up after a silence no batch can explain.
    let silentMs = 0;
    for (;;) {
      const seen = Atomics.load(w.signal, 0);
      const m = receiveMessageOnPort(w.port);
      if (m) return m.message as BatchAnswer;
      if (Atomics.wait(w.signal, 0, seen, WAIT_STEP_MS) === 'timed-out') silentMs += WAIT_STEP_MS;
      else silentMs = 0;
      if (silentMs >= WORKER_SILENCE_MS) throw new H2Error(`a block worker stopped answering (no reply in ${WORKER_SILENCE_MS / 1000} s)`, EXIT.FAILURE);
    }
  }
}
