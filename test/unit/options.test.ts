/**
 * Small parsers and encodings the commands rely on: durations, --types, --inums, the reblock
 * resume key, and the segment histogram.
 */
import { parseDuration } from '../../src/ops/common/duration';
import { decodeResumeKey, encodeResumeKey, histogram, parseInumRange, parseTypes, planSources, GRANULES_PER_SEGMENT, SEGMENT_BYTES } from '../../src/ops/reblock';

test('durations: bare seconds and units; garbage is a usage error', () => {
  expect(parseDuration('90', 'x')).toBe(90000);
  expect(parseDuration('1.5s', 'x')).toBe(1500);
  expect(parseDuration('15m', 'x')).toBe(900000);
  expect(parseDuration('2h', 'x')).toBe(7200000);
  expect(parseDuration('250ms', 'x')).toBe(250);
  expect(() => parseDuration('soon', '--time-limit')).toThrow(/--time-limit: 'soon' is not a duration/);
});

test('--types and --inums', () => {
  expect([...parseTypes('all')].sort()).toEqual(['data', 'dirents', 'indirect', 'inodes']);
  expect([...parseTypes('data, inodes')]).toEqual(['data', 'inodes']);
  expect(() => parseTypes('blocks')).toThrow(/not one of/);
  expect(parseInumRange('1024-0x800')).toEqual([1024n, 2048n]);
  expect(() => parseInumRange('5-1')).toThrow(/above/);
});

test('a resume key carries the whole plan and nothing else decodes', () => {
  const seg = (n: number): bigint => BigInt(n) * SEGMENT_BYTES;
  const plan = {
    fillLevel: 80,
    sources: [seg(3), seg(4), seg(5), seg(9), seg(300000)],
    frontier: seg(12),
    dests: [seg(20), seg(21)],
    cursor: seg(21) + 0x12400n,
    gaps: [[seg(20) + 0x400n, seg(20) + 0x10000n]] as [bigint, bigint][],
  };
  const key = encodeResumeKey(plan);
  expect(key).toMatch(/^h2rb1\.[A-Za-z0-9_-]+$/);
  expect(decodeResumeKey(key)).toEqual(plan);
  expect(() => decodeResumeKey('h2rb1.AAAA')).toThrow(/not a resume key/);
  expect(() => decodeResumeKey(key.slice(0, -3))).toThrow(/not a resume key/);
});

test('sources: used segments below the fill level, never the frontier; the histogram counts every segment', () => {
  const full = GRANULES_PER_SEGMENT;
  const segs = [0, full / 2, full, 10, 0, full - 1].map((granules, i) => ({ seg: BigInt(i) * SEGMENT_BYTES, granules }));
  const p = planSources(segs, 95);
  expect(p.frontier).toBe(5n * SEGMENT_BYTES);
  expect(p.sources).toEqual([1n * SEGMENT_BYTES, 3n * SEGMENT_BYTES]);
  expect(planSources(segs, 100).sources).toEqual([1n * SEGMENT_BYTES, 3n * SEGMENT_BYTES]);
  const h = histogram(segs);
  expect(h.reduce((a, b) => a + b, 0)).toBe(segs.length);
  expect(h[0]).toBe(3);
  expect(h[5]).toBe(1);
  expect(h[9]).toBe(1);
  expect(h[10]).toBe(1);
});
