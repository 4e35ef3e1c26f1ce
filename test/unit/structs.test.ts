/** Structure sizes, and decode/encode round trips on real blocks from the reference images. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BLOCKREF_BYTES,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  FREEMAP_LEVELN_PSIZE,
  INODE_BYTES,
  VOLUME_BYTES,
  decodeBlockref,
  decodeFreemapLeaf,
  decodeInode,
  decodeVolumeHeader,
  emptyBlockref,
  encodeBlockref,
  encodeFreemapLeaf,
  encodeInode,
  encodeVolumeHeader,
  sealVolumeHeader,
  uuidFromString,
  uuidToString,
} from '../../src/format';
import { headerRootBref, openReadOnly, walkTree } from '../../src/engine';
import { inDirAsync, refImage, refText, referenceImageNames, REF_DIR } from '../helpers/reference';

test('structure sizes: blockref 128, inode 1024, volume header 65536, freemap leaf 32768', () => {
  expect(BLOCKREF_BYTES).toBe(128);
  const b = new Uint8Array(BLOCKREF_BYTES);
  encodeBlockref(emptyBlockref(), b);
  expect(() => encodeBlockref(emptyBlockref(), new Uint8Array(127))).toThrow(/blockref/);
  expect(INODE_BYTES).toBe(1024);
  expect(() => decodeInode(new Uint8Array(1023))).toThrow(/inode/);
  expect(encodeInode(decodeInode(new Uint8Array(INODE_BYTES))).length).toBe(1024);
  expect(VOLUME_BYTES).toBe(65536);
  expect(encodeVolumeHeader(decodeVolumeHeader(new Uint8Array(VOLUME_BYTES))).length).toBe(65536);
  expect(() => decodeVolumeHeader(new Uint8Array(65535))).toThrow(/volume header/);
  expect(encodeFreemapLeaf(decodeFreemapLeaf(new Uint8Array(FREEMAP_LEVELN_PSIZE))).length).toBe(FREEMAP_LEVELN_PSIZE);
});

test('UUIDs print with their first three fields byte-swapped, as params.json records them', () => {
  const params = JSON.parse(refText('a.params.json').toString('utf8'));
  const uuids = [params.generated.vol_fsid, params.generated.sup_clid, params.generated.sup_fsid];
  for (const u of uuids) {
    expect(uuidToString(Buffer.from(u.raw_hex, 'hex'))).toBe(u.printed);
    expect(Buffer.from(uuidFromString(u.printed)).toString('hex')).toBe(u.raw_hex);
  }
});

describe.each(referenceImageNames())('image %s', (name) => {
  test('every header copy and every node, inode and freemap block round-trips', async () => {
    const img = refImage(name);
    await inDirAsync(img.dir, async () => {
      const s = await openReadOnly(img.spec);
      try {
        let blocks = 0;
        for (const v of s.vols.list) {
          for (const c of v.selection.copies) {
            if (!c.raw) continue;
            expect(Buffer.from(encodeVolumeHeader(decodeVolumeHeader(c.raw))).equals(Buffer.from(c.raw))).toBe(true);
            // re-sealing a valid header reproduces its three CRCs
            if (c.status === 'ok') expect(Buffer.from(sealVolumeHeader(decodeVolumeHeader(c.raw))).equals(Buffer.from(c.raw))).toBe(true);
            blocks++;
          }
        }
        for (const root of [BREF_TYPE_VOLUME, BREF_TYPE_FREEMAP] as const) {
          for (const v of walkTree(s.chains, headerRootBref(s.chains, root), { readData: false })) {
            const d = v.data;
            if (d.length === 0) continue;
            const t = v.bref.type;
            if (t === BREF_TYPE_INODE) {
              expect(Buffer.from(encodeInode(decodeInode(d))).equals(Buffer.from(d))).toBe(true);
            } else if (t === BREF_TYPE_INDIRECT || t === BREF_TYPE_FREEMAP_NODE) {
              const out = new Uint8Array(d.length);
              for (let o = 0; o < d.length; o += BLOCKREF_BYTES) encodeBlockref(decodeBlockref(d, o), out, o);
              expect(Buffer.from(out).equals(Buffer.from(d))).toBe(true);
            } else if (t === BREF_TYPE_FREEMAP_LEAF) {
              expect(Buffer.from(encodeFreemapLeaf(decodeFreemapLeaf(d))).equals(Buffer.from(d))).toBe(true);
            } else continue;
            blocks++;
          }
        }
        expect(blocks).toBeGreaterThanOrEqual(3);
      } finally {
        s.close();
      }
    });
  });
});

test('decoded fields of a newfs image agree with params.json', async () => {
  const params = JSON.parse(fs.readFileSync(path.join(REF_DIR, 'n10g.params.json'), 'utf8'));
  const img = refImage('n10g');
  await inDirAsync(img.dir, async () => {
    const s = await openReadOnly(img.spec);
    try {
      const h = s.vols.header;
      expect(uuidToString(h.fsid)).toBe(params.generated.vol_fsid.printed);
      expect(h.bootEnd - h.bootBeg).toBe(BigInt(params.inputs.boot_area_size));
      expect(h.auxEnd - h.auxBeg).toBe(BigInt(params.inputs.aux_area_size));
      expect(s.vols.root.selection.copies.filter((c) => c.status === 'ok').length).toBe(4);
      const sroot = s.fs.superRoot();
      expect(uuidToString(sroot.inode.meta.pfsClid)).toBe(params.generated.sup_clid.printed);
      const pfs = s.fs.listPfs().map((p) => [p.name, uuidToString(p.inode.meta.pfsClid)]);
      for (const g of params.generated.pfs) expect(pfs).toContainEqual([g.label, g.clid.printed]);
    } finally {
      s.close();
    }
  });
});
