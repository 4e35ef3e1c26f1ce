/**
 * A worker thread of BlockPool: reads and prepares each batch of segments it is sent, in
 * order, and answers on its port, bumping the shared counter the main thread waits on.
 */
import { MessagePort, parentPort, workerData } from 'node:worker_threads';
import { BatchAnswer, SegmentJob, prepareJob, transferList } from './worker-pool';

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

parentPort!.on('message', (batch: SegmentJob[]) => {
  let answer: BatchAnswer;
  let moved: ArrayBuffer[] = [];
  try {
    // a path arrives as a plain Uint8Array; the error messages want it as text
    const segs = batch.map((j) => prepareJob({ ...j, path: Buffer.from(j.path.buffer, j.path.byteOffset, j.path.byteLength) }));
    answer = { segs };
    moved = transferList(segs);
  } catch (e) {
    answer = { error: (e as Error).message };
  }
  port.postMessage(answer, moved);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
