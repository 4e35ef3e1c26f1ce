/**
 * A worker thread of BlockPool: reads and prepares each batch of segments it is sent, in
 * order, and answers on its port, bumping the shared counter the main thread waits on.
 * Every failure is answered too: the main thread waits synchronously and would not see the
 * worker's error event.
 */
import { MessagePort, parentPort, workerData } from 'node:worker_threads';
import { BatchAnswer, SegmentJob, prepareJob, transferList } from './worker-pool';

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

function answer(a: BatchAnswer, moved: ArrayBuffer[] = []): void {
  port.postMessage(a, moved);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

process.on('uncaughtException', (e) => answer({ error: `block worker: ${(e as Error).message}` }));

parentPort!.on('message', (batch: SegmentJob[]) => {
  let segs: BatchAnswer['segs'];
  try {
    // a path arrives as a plain Uint8Array; the error messages want it as text
    segs = batch.map((j) => prepareJob({ ...j, path: Buffer.from(j.path.buffer, j.path.byteOffset, j.path.byteLength) }));
  } catch (e) {
    answer({ error: (e as Error).message });
    return;
  }
  answer({ segs }, transferList(segs));
});
