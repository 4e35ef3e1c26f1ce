/**
 * An image written by the lz4js encoder of earlier h2kit versions (test/fixtures/lz4): fsck
 * finds the block the kernel cannot decode, -y re-encodes it with the file's bytes unchanged,
 * and a second check is clean. A block that cannot be salvaged is cut instead.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { FormatError, setCheck } from '../../src/format';
import { PROBLEMS, Problem, runRepair } from '../../src/ops/fsck';
import { h2kit, tempDir } from '../helpers/cli';
import { Editor } from '../helpers/edit';
import { openImage, readDataFile } from '../helpers/image';
import { FIXTURE_DIR, buildStream, fixtureTree, withPrefix } from '../helpers/lz4-streams';

function fixture(tag: string): string {
  const dir = tempDir(tag);
  execFileSync('tar', ['-xzf', path.join(FIXTURE_DIR, 'lz4js-tail.img.tar.gz'), '-C', dir]);
  return path.join(dir, 'lz4js-tail.img');
}

/** The first block of words.txt, as the fixture's README says. */
const LZ4JS_BLOCK = 0x1c0800fn;
const BAD = /^error: BLOCK_DECODE: block data 0x000000000\d*1c0800f key 0x0000000000000000: .*match starts 11 bytes before the end of the block/m;

test('fsck finds the lz4js block, -y re-encodes it, the files keep their bytes, a second check is clean', () => {
  const img = fixture('lz4-fix');
  const before = openImage(img);
  try {
    expect(() => readDataFile(before.fs, 'words.txt')).toThrow(FormatError);
  } finally {
    before.close();
  }

  const first = h2kit(['fsck', '-n', img]);
  expect(first.status).toBe(4);
  const out1 = first.stdout.toString();
  expect(out1).toMatch(BAD);
  expect(out1.match(/BLOCK_DECODE/g)).toHaveLength(1);

  const fix = h2kit(['fsck', '-y', img]);
  expect(fix.status).toBe(1);
  expect(fix.stdout.toString()).toMatch(/fixed: BLOCK_DECODE: data 0x0+1c0800f key 0x0+: re-encoded to 0x[0-9a-f]+ \(\d+ bytes, the logical block unchanged\)/);

  const second = h2kit(['fsck', '-n', img]);
  expect(second.stdout.toString()).toMatch(/0 errors, 0 warnings/);
  expect(second.status).toBe(0);

  const after = openImage(img);
  try {
    for (const [p, want] of fixtureTree()) expect(readDataFile(after.fs, p).equals(want)).toBe(true);
  } finally {
    after.close();
  }
});

test('a block the kernel refuses and a lenient decode does not fill is cut, like an unreadable block', async () => {
  const img = fixture('lz4-cut');
  const ed = new Editor(img);
  try {
    const v = ed.find((x) => x.bref.dataOff === LZ4JS_BLOCK);
    // literals only, one stray byte after them: refused, and a lenient decode cannot fill the block
    const phys = new Uint8Array(32768);
    phys.set(withPrefix(Uint8Array.of(...buildStream([{ lit: new Uint8Array(100).fill(0x61) }]), 0)));
    ed.patch(v.bref.dataOff & ~0x3fn, phys);
    ed.editBref(v, (b) => setCheck(b, phys));
    const r = await runRepair(img, { mode: 'yes', opener: () => ed.dev });
    expect(r.initial.problems.map((p: Problem) => p.code)).toEqual(['BLOCK_DECODE']);
    const f = r.fixes.find((x) => x.code === 'BLOCK_DECODE')!;
    expect(f.action).toMatch(/^cut; it held a data block, keys 0x0+-0x0+ffff/);
    expect(r.final.problems.filter((p) => PROBLEMS[p.code].severity !== 'info')).toEqual([]);
  } finally {
    ed.close();
  }
});
