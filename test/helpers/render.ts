/** A dump rendered as the DragonFly tool's captured output: run from the image's folder, stderr first. */
import { openReadOnly } from '../../src/engine';
import { DEFAULT_SHOW_OPTIONS, ShowOptions, ShowWhich, renderShow } from '../../src/ops/dump';
import { inDirAsync } from './reference';

export async function renderAsCaptured(dir: string, spec: string, which: ShowWhich, opts: Partial<ShowOptions>): Promise<Buffer> {
  return inDirAsync(dir, async () => {
    const s = await openReadOnly(spec);
    try {
      const parts: string[] = [];
      const sink = { write: (x: string) => void parts.push(x) };
      renderShow(s.vols, which, { ...DEFAULT_SHOW_OPTIONS, ...opts }, sink, sink);
      return Buffer.from(parts.join(''), 'latin1');
    } finally {
      s.close();
    }
  });
}

/** Two captured outputs are the same bytes; a failure names the first line that differs. */
export function expectSameOutput(got: Buffer, want: Buffer): void {
  if (!got.equals(want)) {
    const g = got.toString('latin1').split('\n');
    const w = want.toString('latin1').split('\n');
    const i = g.findIndex((line, k) => line !== w[k]);
    expect({ line: i + 1, got: g[i] }).toEqual({ line: i + 1, got: w[i] });
  }
  expect(got.equals(want)).toBe(true);
}
