/** Questions on the terminal, answered a line at a time (fsck's per-problem prompt). */
import * as fs from 'node:fs';

/** Read one line from stdin, synchronously; null at end of input. */
function readLine(): string | null {
  const buf = Buffer.alloc(1);
  let line = '';
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(0, buf, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      return null;
    }
    if (n === 0) return line.length ? line : null;
    const c = buf.toString('utf8');
    if (c === '\n') return line;
    line += c;
  }
}

/** Ask until the answer is one of `choices` (the first letter counts); end of input is `fallback`. */
export function askChoice<T extends string>(question: string, choices: readonly T[], fallback: T): T {
  for (;;) {
    process.stderr.write(`${question} [${choices.join('/')}] `);
    const line = readLine();
    if (line === null) {
      process.stderr.write('\n');
      return fallback;
    }
    const c = line.trim().toLowerCase()[0];
    const hit = choices.find((x) => x === c);
    if (hit) return hit;
  }
}
