/**
 * The fragmentation picture (dump freemap --svg, reblock --svg) and its score: the SVG parsed as
 * XML, its cells counted and their colours and classes checked against fills known from
 * elsewhere (DragonFly's `hammer2 freemap` output of a kernel-written image, a file of known size
 * written by our mkfs, a sparse 1 TiB image that forces aggregation), the score against a hand
 * computation, and reblock's before/after against its plan and against the dump of its result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ReadOnlyDevice, openReadOnly } from '../../src/engine';
import { FREEMAP_BLOCK_SIZE } from '../../src/format';
import { fragScore } from '../../src/ops/common/frag-score';
import { FILL_COLOURS, RESERVED_COLOUR, SegmentInfo, buildFreemapMap, freemapSvg } from '../../src/ops/dump';
import { ITEM_TYPES, PlanState, ReblockOptions } from '../../src/ops/reblock';
import { reblockPictures } from '../../src/ops/reblock/picture';
import { OverlayDevice } from '../helpers/corrupt';
import { freshImage, h2kit, tempDir } from '../helpers/cli';
import { kernelFile, kernelImageCopy } from '../helpers/kernel-corpus';
import { refText } from '../helpers/reference';
import { fragment } from '../helpers/fragment';

const MiB4 = 4n << 20n;
const GiB = 1n << 30n;

interface SvgCell {
  seg: bigint;
  segments: number;
  used: number;
  capacity: number;
  kind: string;
  fill: string;
  source: boolean;
}
interface SvgPanel {
  title: string;
  perCell: number;
  cells: SvgCell[];
  marks: number;
  text: string[];
}

type Node = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => ['g', 'rect', 'text'].includes(name) });

function textOf(t: unknown): string {
  return typeof t === 'string' ? t : String((t as Node)['#text'] ?? '');
}

function parseSvg(xml: string): { panels: SvgPanel[]; legend: string[] } {
  // well-formed, or a browser shows an error page instead of the picture
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml, true) as Node;
  const svg = doc.svg as Node;
  const groups = svg.g as Node[];
  const panels = (groups[0].g as Node[]).map((p): SvgPanel => {
    const rects = (p.rect as Node[]) ?? [];
    return {
      title: String(p['@_data-title']),
      perCell: Number(p['@_data-per-cell']),
      cells: rects
        .filter((r) => r['@_class'] === 'cell')
        .map((r) => ({
          seg: BigInt(String(r['@_data-seg'])),
          segments: Number(r['@_data-segments']),
          used: Number(r['@_data-used']),
          capacity: Number(r['@_data-capacity']),
          kind: String(r['@_data-kind']),
          fill: String(r['@_fill']),
          source: r['@_data-source'] === '1',
        })),
      marks: rects.filter((r) => r['@_class'] === 'mark').length,
      text: ((p.text as unknown[]) ?? []).map(textOf),
    };
  });
  const legend = groups.find((g) => g['@_class'] === 'legend')!;
  return { panels, legend: ((legend.text as unknown[]) ?? []).map(textOf) };
}

/** The fill colour by the rule the legend states: free, ten tenths, full; grey when not allocatable. */
function expectedFill(used: number, capacity: number): string {
  if (capacity === 0) return RESERVED_COLOUR;
  if (used === 0) return FILL_COLOURS[0];
  if (used === capacity) return FILL_COLOURS[11];
  return FILL_COLOURS[1 + Math.floor((10 * used) / capacity)];
}

/** Segments of a `hammer2 freemap` text: granules in use (2-bit states not 00) and the class, by offset. */
function freemapText(text: string): Map<bigint, { granules: number; cls: number }> {
  const out = new Map<bigint, { granules: number; cls: number }>();
  for (const line of text.split('\n')) {
    const m = /^\s+([0-9a-f]{16}) \d{4}\.([0-9a-f]{4}) linear=\S+ avail=\S+((?: [0-9a-f]{16}){8})\s*$/.exec(line);
    if (!m) continue;
    let granules = 0;
    for (const w of m[3].trim().split(' ')) {
      const v = BigInt(`0x${w}`);
      for (let i = 0n; i < 64n; i += 2n) if ((v >> i) & 3n) granules++;
    }
    out.set(BigInt(`0x${m[1]}`), { granules, cls: parseInt(m[2], 16) });
  }
  return out;
}

const KIND_OF_TYPE: Record<number, string> = { 1: 'inode', 2: 'indirect', 3: 'data', 4: 'dirent' };

/** The score by its definition in docs/dump.md, from a list of allocatable segments' granules. */
function handScore(granules: number[]): { score: number; partial: number; full: number; free: number } {
  const full = granules.filter((g) => g === 256).length;
  const partial = granules.filter((g) => g > 0 && g < 256).length;
  const used = granules.reduce((a, b) => a + b, 0);
  const occupied = full + partial;
  const score = occupied === 0 ? 0 : Math.round((1000 * (occupied - Math.ceil(used / 256))) / occupied) / 10;
  return { score, partial, full, free: granules.length - occupied };
}

async function firstAllocatable(img: string): Promise<bigint> {
  const s = await openReadOnly(img);
  try {
    return (s.chains.header.allocatorBeg + MiB4 - 1n) & ~(MiB4 - 1n);
  } finally {
    s.close();
  }
}

const dir = tempDir('svg');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function dumpSvg(img: string, name: string): { svg: ReturnType<typeof parseSvg>; json: Record<string, unknown> } {
  const file = path.join(dir, name);
  const r = h2kit(['dump', 'freemap', img, '--svg', file, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { svg: parseSvg(fs.readFileSync(file, 'utf8')), json: JSON.parse(r.stdout.toString('utf8')) };
}

test('the score by hand: two full, two partly filled, two free segments', () => {
  const f = fragScore([0, 256, 128, 1, 0, 256]);
  // 641 granules fit in 3 segments; 4 are occupied, so 1 of 4 is surplus
  expect(f).toEqual({ segments: 6, free: 2, partial: 2, full: 2, usedGranules: 641, partialGranules: 129, idealSegments: 3, score: 25, partialShare: 20.1 });
  expect(fragScore([256, 256, 17, 0]).score).toBe(0);
  expect(fragScore([]).score).toBe(0);
  expect(fragScore([1, 1, 1, 1]).score).toBe(75);
});

test('a kernel-written fragmented image: every segment a cell, fills and classes as hammer2 freemap prints them, the score by hand', async () => {
  const img = kernelImageCopy('frag_bulkfree', dir);
  const { svg, json } = dumpSvg(img, 'frag.svg');
  const known = freemapText(kernelFile('frag_bulkfree', 'freemap.txt').toString('utf8'));
  const first = await firstAllocatable(img);
  expect(svg.panels).toHaveLength(1);
  const p = svg.panels[0];
  expect(p.perCell).toBe(1);
  expect(p.cells).toHaveLength(512); // 2 GiB of 4 MiB segments
  const allocatable: number[] = [];
  p.cells.forEach((c, i) => {
    expect(c.seg).toBe(BigInt(i) * MiB4);
    const k = known.get(c.seg) ?? { granules: 0, cls: 0 };
    const reserved = c.seg < first || c.seg % GiB === 0n;
    expect(c.capacity).toBe(reserved ? 0 : 256);
    if (reserved) {
      expect(c.kind).toBe(c.seg === 0n ? 'header' : c.seg % GiB === 0n ? 'freemap' : 'reserved');
    } else {
      allocatable.push(k.granules);
      expect(c.used).toBe(k.granules);
      expect(c.kind).toBe(k.granules === 0 ? 'free' : KIND_OF_TYPE[k.cls >> 8]);
    }
    expect(c.fill).toBe(expectedFill(c.used, c.capacity));
  });
  // free cells draw no class band, every other one does
  expect(p.marks).toBe(p.cells.filter((c) => c.kind !== 'free').length);
  // the image holds inodes, indirect blocks and data in partly filled segments
  const kinds = new Set(p.cells.filter((c) => c.capacity > 0 && c.used > 0 && c.used < 256).map((c) => c.kind));
  expect(kinds.size).toBeGreaterThanOrEqual(2);
  const hand = handScore(allocatable);
  const frag = json.fragmentation as Record<string, number>;
  expect(frag.score).toBe(hand.score);
  expect([frag.partial, frag.full, frag.free]).toEqual([hand.partial, hand.full, hand.free]);
  expect(frag.partial).toBeGreaterThan(0);
  expect(p.text.some((t) => t.includes(`fragmentation ${hand.score.toFixed(1)}%`))).toBe(true);
  expect(svg.legend.some((t) => t.includes('full'))).toBe(true);
  // reblock --dry-run prints the same score, from its own segment fill
  const dry = h2kit(['reblock', '-n', img, '--json']);
  expect(dry.status).toBe(0);
  expect((JSON.parse(dry.stdout.toString('utf8')).frag_before as Record<string, number>).score).toBe(hand.score);
  // a picture that cannot be written stops reblock before it writes anything
  const tid = async (): Promise<bigint> => {
    const s = await openReadOnly(img);
    try {
      return s.chains.header.mirrorTid;
    } finally {
      s.close();
    }
  };
  const was = await tid();
  const bad = h2kit(['reblock', img, '--svg', path.join(dir, 'no-such-dir', 'x.svg')]);
  expect(bad.status).toBe(3);
  expect(bad.stderr).toMatch(/^h2kit: .*x\.svg: cannot write the picture: ENOENT\n$/);
  expect(await tid()).toBe(was);
});

test('a 64 MiB newfs image: one short row of 16 large cells, the reserved ones grey, the rest free (hammer2 freemap shows no leaf yet)', async () => {
  const img = freshImage('n64m', dir);
  const { svg, json } = dumpSvg(img, 'n64m.svg');
  const known = freemapText(refText('n64m.freemap.txt').toString('utf8'));
  const first = await firstAllocatable(img);
  const p = svg.panels[0];
  expect(p.cells).toHaveLength(16);
  for (const c of p.cells) {
    const reserved = c.seg < first;
    expect(c.capacity).toBe(reserved ? 0 : 256);
    expect(c.used).toBe(reserved ? 0 : known.get(c.seg)?.granules ?? 0);
    expect(c.fill).toBe(reserved ? RESERVED_COLOUR : FILL_COLOURS[0]);
    expect(c.kind).toBe(reserved ? (c.seg === 0n ? 'header' : 'reserved') : 'free');
  }
  expect(p.cells.filter((c) => c.capacity === 0).length).toBeGreaterThan(0);
  expect((json.fragmentation as Record<string, number>).free).toBe(p.cells.filter((c) => c.capacity > 0).length);
  expect(p.text.some((t) => t.includes('64 MiB, 16 segments; 1 cell = one 4 MiB segment'))).toBe(true);
});

test('our mkfs with an 8 MiB file: the data cells hold its 512 granules, as the text dump counts them', async () => {
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const blob = Buffer.alloc(8 << 20);
  for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  fs.writeFileSync(path.join(root, 'blob'), blob);
  const img = path.join(dir, 'mk.img');
  const mk = h2kit(['mkfs', '-q', '-s', '1G', '--root', root, '--compression', 'none', img]);
  expect(mk.stderr).toBe('');
  const { svg } = dumpSvg(img, 'mk.svg');
  const p = svg.panels[0];
  expect(p.cells).toHaveLength(256);
  const text = freemapText(h2kit(['dump', 'freemap', img]).stdout.toString('utf8'));
  for (const c of p.cells.filter((x) => x.capacity > 0)) {
    expect(c.used).toBe(text.get(c.seg)?.granules ?? 0);
    expect(c.fill).toBe(expectedFill(c.used, 256));
  }
  const data = p.cells.filter((c) => c.kind === 'data');
  const dataGranules = data.reduce((n, c) => n + c.used, 0);
  expect(dataGranules).toBeGreaterThanOrEqual((8 << 20) / FREEMAP_BLOCK_SIZE);
  expect(dataGranules).toBeLessThan((8 << 20) / FREEMAP_BLOCK_SIZE + 64);
  // 8 MiB of data fills at least one whole segment
  expect(data.some((c) => c.used === 256 && c.fill === FILL_COLOURS[11])).toBe(true);
});

test('a sparse 1 TiB image is aggregated to at most 8192 cells of 32 segments, and the legend says so', async () => {
  const img = path.join(dir, 'big.img');
  expect(h2kit(['mkfs', '-q', '-s', '1T', img]).status).toBe(0);
  const { svg, json } = dumpSvg(img, 'big.svg');
  const first = await firstAllocatable(img);
  const allocatableIn = (seg: bigint): number => {
    let n = 0;
    for (let s = seg; s < seg + 32n * MiB4; s += MiB4) if (s >= first && s % GiB !== 0n) n++;
    return n;
  };
  const p = svg.panels[0];
  expect(p.perCell).toBe(32);
  expect(p.cells).toHaveLength(8192);
  p.cells.forEach((c, i) => {
    expect(c.seg).toBe(BigInt(i) * 32n * MiB4);
    expect(c.segments).toBe(32);
    // the reserved segment of each GiB opens every eighth cell; newfs's boot and aux areas fill the first ones
    expect(c.capacity).toBe(allocatableIn(c.seg) * 256);
    expect(c.kind).toBe(c.capacity === 0 ? (c.seg === 0n ? 'header' : 'reserved') : 'free');
    expect(c.fill).toBe(expectedFill(c.used, c.capacity));
  });
  expect(p.text.some((t) => t.includes('aggregated') && t.includes('1 cell = 32 segments (128 MiB)'))).toBe(true);
  expect((json.fragmentation as Record<string, number>).segments).toBe(p.cells.reduce((n, c) => n + c.capacity / 256, 0));
  expect(p.cells.filter((c) => c.capacity === 32 * 256).length).toBeGreaterThan(7000);
  fs.rmSync(img);
});

test('property: cells conserve the granules, stay within the bound, and the score is the one over the segments', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 256 }), { minLength: 1, maxLength: 600 }), fc.integer({ min: 1, max: 64 }), (granules, maxCells) => {
      const segs: SegmentInfo[] = granules.map((g, i) => ({ seg: BigInt(i) * MiB4, granules: g, kind: g ? 'data' : 'free', allocatable: i % 256 !== 0 }));
      const m = buildFreemapMap(BigInt(granules.length) * MiB4, segs, { maxCells });
      expect(m.cells.length).toBeLessThanOrEqual(maxCells);
      expect(m.cells.length).toBe(Math.ceil(granules.length / m.perCell));
      expect(m.cells.reduce((n, c) => n + c.used, 0)).toBe(segs.filter((s) => s.allocatable).reduce((n, s) => n + s.granules, 0));
      expect(m.score).toEqual(fragScore(segs.filter((s) => s.allocatable).map((s) => s.granules)));
      const cells = parseSvg(freemapSvg([{ title: 't', map: m }])).panels[0].cells;
      expect(cells.map((c) => c.fill)).toEqual(m.cells.map((c) => expectedFill(c.used, c.capacity)));
    }),
    { numRuns: 60 },
  );
});

test('16 TiB of segments stream into 8192 cells: the picture stays a few MB', () => {
  const n = 4 << 20; // 16 TiB
  function* segs(): Generator<SegmentInfo> {
    for (let i = 0; i < n; i++) yield { seg: BigInt(i) * MiB4, granules: i % 1000 === 0 ? 100 : 0, kind: i % 1000 === 0 ? 'data' : 'free', allocatable: true };
  }
  const m = buildFreemapMap(BigInt(n) * MiB4, segs());
  expect(m.perCell).toBe(512);
  expect(m.cells).toHaveLength(8192);
  expect(m.score.partial).toBe(Math.ceil(n / 1000));
  const xml = freemapSvg([{ title: 'huge', map: m }]);
  expect(xml.length).toBeLessThan(4 << 20);
  expect(parseSvg(xml).panels[0].cells).toHaveLength(8192);
});

describe('reblock --svg', () => {
  let img = '';
  beforeAll(async () => {
    img = freshImage('n10g', dir);
    await fragment(img, 160);
  });

  const opts = (o: Partial<ReblockOptions>): ReblockOptions => ({
    fillLevel: 95,
    types: new Set(ITEM_TYPES),
    commitEveryBytes: 256n << 20n,
    reserveBytes: 0n,
    dryRun: true,
    ...o,
  });

  test('--dry-run: before and after differ as the plan says, and the scores are the report\'s', async () => {
    const base = ReadOnlyDevice.open(img);
    const dev = new OverlayDevice(base);
    let plan: PlanState | null = null;
    const { report, maps } = await reblockPictures(img, opts({ opener: () => dev, observe: (p) => (plan = p) }));
    expect(dev.patches).toHaveLength(0);
    expect(maps.before.score).toEqual(report.fragBefore);
    expect(maps.after.score).toEqual(report.fragAfter);
    expect(report.fragAfter.partial).toBeLessThan(report.fragBefore.partial);
    const sources = new Set((plan as unknown as PlanState).sources);
    expect(sources.size).toBeGreaterThan(3);
    let emptied = 0;
    let destGranules = 0;
    maps.before.cells.forEach((b, i) => {
      const a = maps.after.cells[i];
      expect(a.seg).toBe(b.seg);
      expect(b.source).toBe(sources.has(b.seg));
      if (a.kind === 'dest') {
        expect(b.used).toBe(0);
        expect(a.used).toBeGreaterThan(0);
        destGranules += a.used;
      } else if (b.source && a.used === 0) emptied++;
      else expect([a.used, a.kind]).toEqual([b.used, b.kind]);
    });
    expect(emptied).toBe(report.segmentsFreed);
    expect(destGranules).toBe(Number((report.plannedBytes + BigInt(FREEMAP_BLOCK_SIZE) - 1n) / BigInt(FREEMAP_BLOCK_SIZE)));
    const xml = parseSvg(freemapSvg([{ title: 'before', map: maps.before }, { title: 'after', map: maps.after }]));
    expect(xml.panels.map((p) => p.cells.length)).toEqual([2560, 2560]);
    expect(xml.panels[0].cells.filter((c) => c.source).length).toBe(sources.size);
    expect(xml.legend.some((t) => t.includes('source'))).toBe(true);
    base.close();
  });

  test('a real run: the picture\'s before is the dump before, its after the dump of the result', () => {
    const copy = path.join(dir, 'rb.img');
    execFileSync('cp', ['--sparse=always', img, copy]);
    const was = dumpSvg(copy, 'was.svg').svg.panels[0].cells;
    const file = path.join(dir, 'rb.svg');
    const r = h2kit(['reblock', copy, '--svg', file, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout.toString('utf8'));
    const pic = parseSvg(fs.readFileSync(file, 'utf8'));
    expect(pic.panels).toHaveLength(2);
    const now = dumpSvg(copy, 'now.svg');
    const strip = (c: SvgCell): Omit<SvgCell, 'source'> => ({ seg: c.seg, segments: c.segments, used: c.used, capacity: c.capacity, kind: c.kind, fill: c.fill });
    expect(pic.panels[0].cells.map(strip)).toEqual(was.map(strip));
    expect(pic.panels[1].cells).toEqual(now.svg.panels[0].cells);
    expect(pic.panels[0].cells.filter((c) => c.source).length).toBe(report.sources);
    expect((now.json.fragmentation as Record<string, number>).score).toBe(report.frag_after.score);
    expect(report.frag_after.partial).toBeLessThan(report.frag_before.partial);
    // the picture shows the change: cells that were partly filled sources are free now
    expect(pic.panels[0].cells.some((c, i) => c.source && c.used > 0 && pic.panels[1].cells[i].used === 0)).toBe(true);
    fs.rmSync(copy);
  });
});
