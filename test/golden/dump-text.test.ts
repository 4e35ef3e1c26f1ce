/**
 * `dump volhdr|show|freemap` print exactly what DragonFly's `hammer2 volhdr|show|freemap`
 * printed on every reference image, in plain, -v and all-headers modes.
 */
import { ShowOptions, ShowWhich } from '../../src/ops/dump';
import { refExists, refImage, refText, referenceImageNames } from '../helpers/reference';
import { expectSameOutput, renderAsCaptured } from '../helpers/render';

const MODES: { suffix: string; which: ShowWhich; opts: Partial<ShowOptions> }[] = [
  { suffix: 'volhdr', which: 'volhdr', opts: {} },
  { suffix: 'volhdr-all', which: 'volhdr', opts: { allHeaders: true } },
  { suffix: 'show', which: 'show', opts: {} },
  { suffix: 'show-v', which: 'show', opts: { verbose: 1 } },
  { suffix: 'freemap', which: 'freemap', opts: {} },
];

function render(name: string, which: ShowWhich, opts: Partial<ShowOptions>): Promise<Buffer> {
  const img = refImage(name);
  return renderAsCaptured(img.dir, img.spec, which, opts);
}

const names = referenceImageNames();

test('the reference set has the images the README lists', () => {
  for (const n of ['a', 'n64m', 'n256m', 'n10g', 'labels', 'labelnone', 'v1', 'bootaux', 'multi', 'mk_default']) {
    expect(names).toContain(n);
  }
  expect(names.filter((n) => n.startsWith('mk_')).length).toBeGreaterThanOrEqual(9);
});

describe.each(names)('image %s', (name) => {
  const present = MODES.filter((m) => refExists(`${name}.${m.suffix}.txt`));

  test('has golden outputs to compare against', () => {
    expect(present.map((m) => m.suffix)).toEqual(expect.arrayContaining(['volhdr', 'show', 'freemap']));
  });

  test.each(present.map((m) => [m.suffix, m] as const))('%s is byte-identical to the reference tool', async (suffix, m) => {
    const got = await render(name, m.which, m.opts);
    const want = refText(`${name}.${suffix}.txt`);
    expectSameOutput(got, want);
  });
});
