/**
 * The corruption corpus (test/helpers/fsck-corpus.ts) is found: every case with its code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckReport, PROBLEMS, ProblemCode, checkFilesystem } from '../../src/ops/fsck';
import { Editor } from '../helpers/edit';
import { CASES, Source, corpusImages } from '../helpers/fsck-corpus';

let images: Record<Source, string>;
beforeAll(() => {
  images = corpusImages();
});

function check(ed: Editor): CheckReport {
  const vols = ed.open();
  try {
    return checkFilesystem(vols);
  } finally {
    vols.close();
  }
}

test('the corpus covers every problem code', () => {
  const covered = new Set(CASES.map((c) => c.code));
  expect(Object.keys(PROBLEMS).filter((c) => !covered.has(c as ProblemCode))).toEqual([]);
});

test('the unedited images are clean', () => {
  for (const img of Object.values(images)) {
    const ed = new Editor(img);
    try {
      const bad = check(ed).problems.filter((p) => PROBLEMS[p.code].severity !== 'info');
      expect(bad.map((p) => p.code)).toEqual([]);
    } finally {
      ed.close();
    }
  }
});

test.each(CASES.map((c) => [c.code, c] as const))('%s is found', (code, c) => {
  const ed = new Editor(images[c.on], c.size);
  try {
    c.make(ed);
    const found = check(ed).problems.map((p) => p.code);
    expect(found).toContain(code);
  } finally {
    ed.close();
  }
});

test('docs/fsck.md lists every problem code with its severity and repair', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/fsck.md'), 'utf8');
  for (const p of Object.values(PROBLEMS)) {
    expect(doc).toContain(`| ${p.code} | ${p.severity} |`);
    expect(doc).toContain(`| ${p.repair} |`);
  }
});
