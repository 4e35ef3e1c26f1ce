/**
 * Crash safety of repairs: the freemap rebuild, a header-copy rewrite and link fixes are
 * recorded, and every image a crash could leave (each fsync prefix, and random subsets of the
 * in-flight writes) must open, hold the old contents or the repaired ones, and show only
 * problems the damaged image already had. `npm test` runs 8 subsets per gap, test:long 200.
 */
import { BREF_TYPE_FREEMAP, BREF_TYPE_FREEMAP_LEAF, OBJTYPE_DIRECTORY, OBJTYPE_REGFILE, ZONE_BYTES, decodeInode } from '../../src/format';
import { BlockSource, ChainReader, FsReader, VolumeSet } from '../../src/engine';
import { PROBLEMS, checkFilesystem, runRepair } from '../../src/ops/fsck';
import { RecordingDevice, crashImages } from '../helpers/crash';
import { Editor, inodeDepth } from '../helpers/edit';
import { refImage } from '../helpers/reference';
import { digestTree } from '../helpers/image';
import * as path from 'node:path';

const SUBSETS = process.env.H2KIT_LONG ? 200 : 8;

interface State {
  content: string;
  codes: string[];
}

function stateOf(spec: string, dev: BlockSource): State {
  const vols = VolumeSet.open(spec, { opener: () => dev, allowTruncated: true });
  try {
    const codes = [...new Set(checkFilesystem(vols).problems.filter((p) => PROBLEMS[p.code].severity !== 'info').map((p) => p.code))].sort();
    const content = digestTree(new FsReader(new ChainReader(vols)), ['lost+found']);
    return { content, codes };
  } finally {
    vols.close();
  }
}

async function sweep(name: string, damage: (ed: Editor) => void): Promise<number> {
  const img = refImage(name);
  const spec = path.join(img.dir, img.spec);
  const ed = new Editor(spec);
  try {
    damage(ed);
    const before = stateOf(spec, ed.dev);
    expect(before.codes.length).toBeGreaterThan(0);
    const rec = new RecordingDevice(ed.dev);
    const r = await runRepair(spec, { mode: 'yes', opener: () => rec });
    expect(r.modified).toBe(true);
    const after = stateOf(spec, rec);
    expect(after.codes).toEqual([]);
    const images = crashImages(ed.dev, rec.events, SUBSETS);
    for (const c of images) {
      const st = stateOf(spec, c.device);
      const extra = st.codes.filter((x) => !before.codes.includes(x));
      if (extra.length || (st.content !== before.content && st.content !== after.content)) {
        throw new Error(`${c.label}: codes ${st.codes.join(',')} (before ${before.codes.join(',')}), content ${st.content === before.content ? 'old' : st.content === after.content ? 'repaired' : 'neither'}`);
      }
    }
    return images.length;
  } finally {
    ed.close();
  }
}

test('a freemap rebuild survives a crash at any point', async () => {
  const n = await sweep('mk_zlib_crc32', (ed) => {
    const leaf = ed.find((v) => v.bref.type === BREF_TYPE_FREEMAP_LEAF, BREF_TYPE_FREEMAP);
    ed.patch((leaf.bref.dataOff & ~0x3fn) + 0x200n, Uint8Array.of(0x5a));
  });
  expect(n).toBeGreaterThan(SUBSETS);
});

test('a header copy rewrite survives a crash at any point', async () => {
  const n = await sweep('mk_default', (ed) => ed.patch(2n * ZONE_BYTES + 0x300n, Uint8Array.of(0xee)));
  expect(n).toBeGreaterThan(1);
});

test('link count and iparent fixes survive a crash at any point', async () => {
  const n = await sweep('mk_lz4_crc32', (ed) => {
    const files = ed.visits().filter((v) => v.bref.type === 1 && inodeDepth(v) === 2 && decodeInode(v.data).meta.type === OBJTYPE_REGFILE);
    ed.editInode(files[1], (i) => (i.meta.nlinks = 4n));
    const dir = ed.find((v) => v.bref.type === 1 && inodeDepth(v) === 2 && decodeInode(v.data).meta.type === OBJTYPE_DIRECTORY);
    ed.editInode(dir, (i) => (i.meta.iparent = 0x4242n));
  });
  expect(n).toBeGreaterThan(SUBSETS);
});
