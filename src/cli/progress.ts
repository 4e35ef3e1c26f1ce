/** Progress bars: cli-progress on stderr, only when stderr is a terminal. */
import { SingleBar, Presets } from 'cli-progress';

export function newProgressBar(total = 0): SingleBar {
  const bar = new SingleBar(
    { stream: process.stderr, format: '{bar} {value} entries, {bytes} bytes', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(total, 0, { bytes: '0' });
  return bar;
}
