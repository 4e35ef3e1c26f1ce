/** Progress bars: cli-progress on stderr, only when stderr is a terminal. */
import * as fs from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { H2Error, EXIT } from '../engine/errors';

export function newProgressBar(total = 0): SingleBar {
  const bar = new SingleBar(
    { stream: process.stderr, format: '{bar} {value} entries, {bytes} bytes', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(total, 0, { bytes: '0' });
  return bar;
}

/** Progress in percent, per pass (fsck) or for one job (`label`): a bar on a TTY, or nothing. */
export function newPassBar(label?: string): { update: (pass: number, done: number, max: number) => void; stop: () => void } | null {
  if (!process.stderr.isTTY) return null;
  const bar = new SingleBar(
    { stream: process.stderr, format: `${label ?? 'Pass {pass}'} {bar} {percentage}%`, hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(100, 0, { pass: 1 });
  return {
    update: (pass, done, max) => bar.update(Math.min(100, Math.floor((done * 100) / Math.max(1, max))), { pass }),
    stop: () => bar.stop(),
  };
}

/**
 * e2fsck's `-C fd` protocol: lines of "pass done max device" on the descriptor, written when
 * the per-mille value moves, so a front end can draw its own bar.
 */
export function progressFdWriter(fd: number, device: string): (pass: number, done: number, max: number) => void {
  try {
    fs.fstatSync(fd);
  } catch {
    throw new H2Error(`--progress-fd: ${fd} is not an open file descriptor`, EXIT.USAGE);
  }
  let last = '';
  return (pass, done, max) => {
    const key = `${pass} ${Math.floor((done * 1000) / Math.max(1, max))}`;
    if (key === last) return;
    last = key;
    fs.writeSync(fd, `${pass} ${done} ${max} ${device}\n`);
  };
}
