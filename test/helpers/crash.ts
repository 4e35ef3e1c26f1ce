/**
 * The crash-injection harness. A recording device sees every write and fsync a run makes (on
 * an overlay: the image itself is never written). Crash images are then built by replaying
 * onto the original image:
 * - every prefix of the run that ends at an fsync (what is certainly on the media then);
 * - such a prefix plus a random subset of the writes issued before the next fsync (a crash
 *   with the device reordering or dropping in-flight writes).
 */
import { BlockSource } from '../../src/engine';
import { OverlayDevice, rng } from './corrupt';

export type IoEvent = { kind: 'write'; off: bigint; bytes: Uint8Array } | { kind: 'fsync' };

export class RecordingDevice extends OverlayDevice {
  readonly events: IoEvent[] = [];

  override write(off: bigint, bytes: Uint8Array): void {
    super.write(off, bytes);
    this.events.push({ kind: 'write', off, bytes: bytes.slice() });
  }

  override fsync(): void {
    this.events.push({ kind: 'fsync' });
  }
}

export interface CrashImage {
  label: string;
  device: OverlayDevice;
}

/** The crash images of a recorded run: fsync prefixes, and `subsets` random in-flight subsets per gap. */
export function crashImages(base: BlockSource, events: IoEvent[], subsets: number, seed = 1): CrashImage[] {
  const out: CrashImage[] = [];
  const fsyncs = events.map((e, i) => (e.kind === 'fsync' ? i : -1)).filter((i) => i >= 0);
  const build = (writes: IoEvent[], label: string): CrashImage => {
    const d = new OverlayDevice(base);
    for (const w of writes) if (w.kind === 'write') d.write(w.off, w.bytes);
    return { label, device: d };
  };
  out.push(build([], 'before the run'));
  const bounds = [-1, ...fsyncs];
  for (let k = 0; k < bounds.length; k++) {
    const durable = events.slice(0, bounds[k] + 1);
    if (k > 0) out.push(build(durable, `prefix through fsync ${k}`));
    const end = k + 1 < bounds.length ? bounds[k + 1] : events.length;
    const inflight = events.slice(bounds[k] + 1, end).filter((e) => e.kind === 'write');
    if (inflight.length === 0) continue;
    const r = rng(seed * 1000 + k);
    for (let s = 0; s < subsets; s++) {
      const pick = inflight.filter(() => r() < 0.5);
      out.push(build([...durable, ...pick], `fsync ${k} + ${pick.length}/${inflight.length} in-flight writes (subset ${s})`));
    }
  }
  return out;
}
