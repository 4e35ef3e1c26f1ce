/**
 * The corruption corpus: at least one case per problem code, made by our own editing tools on
 * reference images and on an image our mkfs built. Check codes are recomputed after each
 * semantic edit, so the damage reaches the deeper passes. Used by the checker's and the
 * repairs' tests.
 */
import * as path from 'node:path';
import {
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_FREEMAP_LEAF,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  Blockref,
  FREEMAP_LEVEL1_SIZE,
  OBJTYPE_DIRECTORY,
  OBJTYPE_FIFO,
  OBJTYPE_REGFILE,
  OBJTYPE_SOFTLINK,
  OPFLAG_DIRECTDATA,
  VOLUME_ID_ABO,
  ZONE_BYTES,
  COMP_LZ4,
  brefBytes,
  brefCompMethod,
  brefRadix,
  decodeInode,
  embedDirent,
  embedStats,
  setEmbedDirent,
  setCheck,
  setEmbedStats,
} from '../../src/format';
import { Visit } from '../../src/engine';
import { ProblemCode } from '../../src/ops/fsck';
import { Editor, inodeDepth } from './edit';
import { h2kit, tempDir } from './cli';
import { lateMatchStream, withPrefix } from './lz4-streams';
import { extracted, refImage } from './reference';

export type Source = 'lz4' | 'default' | 'own';
export interface Case {
  code: ProblemCode;
  on: Source;
  /** the device ends here */
  size?: bigint;
  make: (ed: Editor) => void;
}

const meta = (v: Visit) => decodeInode(v.data).meta;
const isInode = (v: Visit) => v.bref.type === BREF_TYPE_INODE && inodeDepth(v) === 2;
const isType = (t: number) => (v: Visit) => isInode(v) && meta(v).type === t;
const bigFile = (v: Visit) => isType(OBJTYPE_REGFILE)(v) && (meta(v).opFlags & OPFLAG_DIRECTDATA) === 0 && meta(v).size > 65536n;
const subdir = (v: Visit) => isType(OBJTYPE_DIRECTORY)(v);
const direntIn = (dirDepth: number) => (v: Visit) => v.bref.type === BREF_TYPE_DIRENT && inodeDepth(v) === dirDepth;
const wideIndirect = (v: Visit) => v.bref.type === BREF_TYPE_INDIRECT && v.data.length >= 1024;

function inumOf(ed: Editor, pred: (v: Visit) => boolean): bigint {
  return ed.find(pred).bref.key;
}

export const CASES: Case[] = [
  { code: 'HDR_BAD_MAGIC', on: 'default', make: (ed) => ed.patch(ZONE_BYTES, new Uint8Array(8)) },
  {
    code: 'HDR_REVERSE_ENDIAN',
    on: 'default',
    make: (ed) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(VOLUME_ID_ABO);
      ed.patch(ZONE_BYTES, b);
    },
  },
  { code: 'HDR_CRC', on: 'default', make: (ed) => ed.patch(2n * ZONE_BYTES + 0x300n, Uint8Array.of(0xee)) },
  { code: 'HDR_SHORT', on: 'default', size: 3n * ZONE_BYTES + 1000n, make: () => undefined },
  { code: 'VOLUME_TRUNCATED', on: 'own', size: 512n * 1048576n, make: () => undefined },
  { code: 'HDR_STALE', on: 'default', make: () => undefined },
  {
    code: 'HDR_DISAGREE',
    on: 'default',
    make: (ed) => ed.editHeader(ed.open().root.selection.best === 1 ? 2 : 1, (h) => (h.totalSize += 1n << 30n)),
  },
  { code: 'BLOCK_CHECK', on: 'lz4', make: (ed) => ed.patch((ed.find(subdir).bref.dataOff & ~0x3fn) + 0x10n, Uint8Array.of(0x55)) },
  {
    // what lz4js wrote: a last match too close to the end; the block's bytes become that stream's
    code: 'BLOCK_DECODE',
    on: 'lz4',
    make: (ed) => {
      const v = ed.find((x) => x.bref.type === BREF_TYPE_DATA && brefCompMethod(x.bref) === COMP_LZ4 && brefBytes(x.bref) >= 1024);
      const phys = new Uint8Array(brefBytes(v.bref));
      phys.set(withPrefix(lateMatchStream(2 ** v.bref.keybits, 7)));
      ed.patch(v.bref.dataOff & ~0x3fn, phys);
      ed.editBref(v, (b) => setCheck(b, phys));
    },
  },
  { code: 'BLOCK_READ', on: 'own', size: 64n * 1048576n + 4096n, make: () => undefined },
  { code: 'BREF_TYPE', on: 'lz4', make: (ed) => ed.editBref(ed.find(bigFile), (b) => (b.type = 0x33)) },
  { code: 'BREF_RADIX', on: 'lz4', make: (ed) => ed.editBref(ed.find(bigFile), (b) => (b.dataOff = (b.dataOff & ~0x3fn) | 5n)) },
  { code: 'BREF_OFF_OUTSIDE', on: 'lz4', make: (ed) => ed.editBref(ed.find(bigFile), (b) => (b.dataOff = (0x7fffff000000n) | BigInt(brefRadix(b)))) },
  { code: 'BREF_OFF_RESERVED', on: 'lz4', make: (ed) => ed.editBref(ed.find(bigFile), (b) => (b.dataOff = FREEMAP_LEVEL1_SIZE + 0x10000n + BigInt(brefRadix(b)))) },
  {
    code: 'BREF_KEY_RANGE',
    on: 'lz4',
    make: (ed) => ed.editBref(ed.find((v) => v.parent?.bref.type === BREF_TYPE_INDIRECT && v.bref.type === BREF_TYPE_DIRENT && v.parent.bref.keybits < 64), (b) => (b.key ^= 1n << 62n)),
  },
  {
    code: 'BREF_KEY_ORDER',
    on: 'lz4',
    make: (ed) => {
      const ind = ed.find(wideIndirect);
      const kids = ed.visits().filter((v) => v.parent?.bref.dataOff === ind.bref.dataOff && v.parent?.bref.key === ind.bref.key);
      const [a, b] = [kids[0], kids[1]];
      let first: Blockref | null = null;
      ed.editBref(a, (x) => (first = { ...x }), false);
      ed.editBref(b, (x) => Object.assign(x, { ...first!, key: x.key, keybits: x.keybits }), false);
      ed.editBref(a, (x) => (x.key = kids[1].bref.key + 1n));
    },
  },
  { code: 'BREF_TID', on: 'lz4', make: (ed) => ed.editBref(ed.find((v) => v.bref.type === BREF_TYPE_DATA), (b) => (b.mirrorTid = 0xffffffffn)) },
  {
    code: 'BLOCK_SHARED',
    on: 'lz4',
    make: (ed) => {
      const dirs = ed.visits().filter(subdir);
      ed.editBref(dirs[1], (b) => {
        b.dataOff = dirs[0].bref.dataOff;
        b.check = dirs[0].bref.check;
      });
    },
  },
  { code: 'FREEMAP_HOLE', on: 'lz4', make: (ed) => clearFileSegment(ed) },
  { code: 'FREEMAP_LEAK', on: 'lz4', make: () => undefined },
  {
    code: 'FREEMAP_UNREADABLE',
    on: 'lz4',
    make: (ed) => ed.patch((ed.find((v) => v.bref.type === BREF_TYPE_FREEMAP_LEAF, BREF_TYPE_FREEMAP).bref.dataOff & ~0x3fn) + 0x40n, Uint8Array.of(0x99)),
  },
  {
    // the same free granules, but every block is newer than freemap_tid: recovery marks them
    code: 'RECOVERY_NEEDED',
    on: 'lz4',
    make: (ed) => {
      clearFileSegment(ed);
      ed.editHeader(0, (h) => (h.freemapTid = 0n));
    },
  },
  // a flush that changed no freemap block (growfs, a bulkfree that freed nothing): no block is
  // newer than freemap_tid, so recovery has nothing to walk
  { code: 'FREEMAP_TID_BEHIND', on: 'lz4', make: (ed) => ed.editHeader(0, (h) => (h.mirrorTid = h.freemapTid + 1n)) },
  { code: 'PFS_ROOT', on: 'lz4', make: (ed) => ed.editInode(ed.find((v) => v.bref.type === BREF_TYPE_INODE && inodeDepth(v) === 1), (i) => (i.meta.pfsType = 0x77)) },
  {
    code: 'CHILD_MISPLACED',
    on: 'lz4',
    make: (ed) =>
      ed.editBref(ed.find((v) => v.bref.type === BREF_TYPE_DATA), (b) => {
        b.type = BREF_TYPE_DIRENT;
        setEmbedDirent(b, { inum: 2n, namlen: 1, type: OBJTYPE_REGFILE });
      }),
  },
  { code: 'INODE_KEY', on: 'lz4', make: (ed) => ed.editInode(ed.find(bigFile), (i) => (i.meta.inum += 0x100000n)) },
  {
    code: 'INODE_DUP',
    on: 'lz4',
    make: (ed) => {
      const files = ed.visits().filter(isType(OBJTYPE_REGFILE));
      ed.editBref(files[1], (b) => (b.key = files[0].bref.key));
    },
  },
  { code: 'INODE_TYPE', on: 'lz4', make: (ed) => ed.editInode(ed.find(bigFile), (i) => (i.meta.type = 0x42)) },
  { code: 'INODE_MODE', on: 'lz4', make: (ed) => ed.editInode(ed.find(bigFile), (i) => (i.meta.mode |= 0o170000)) },
  {
    code: 'DIRENT_HASH',
    on: 'lz4',
    make: (ed) =>
      ed.editBref(ed.find((v) => direntIn(3)(v) && embedDirent(v.bref).namlen >= 3), (b) => {
        b.check[0] ^= 0x20;
      }),
  },
  { code: 'DIRENT_NAME', on: 'lz4', make: (ed) => ed.editBref(ed.find(direntIn(3)), (b) => setEmbedDirent(b, { ...embedDirent(b), namlen: 0 })) },
  { code: 'DIRENT_DANGLING', on: 'lz4', make: (ed) => ed.editBref(ed.find(direntIn(3)), (b) => setEmbedDirent(b, { ...embedDirent(b), inum: 0x7777777n })) },
  { code: 'DIRENT_TYPE', on: 'own', make: (ed) => ed.editBref(ed.find(direntIn(3)), (b) => setEmbedDirent(b, { ...embedDirent(b), type: OBJTYPE_FIFO })) },
  { code: 'LINK_COUNT', on: 'own', make: (ed) => ed.editInode(ed.find(bigFile), (i) => (i.meta.nlinks = 5n)) },
  {
    code: 'DIR_MULTI_LINK',
    on: 'lz4',
    make: (ed) => {
      const dir = inumOf(ed, subdir);
      ed.editBref(
        ed.find((v) => direntIn(3)(v) && embedDirent(v.bref).type === OBJTYPE_REGFILE),
        (b) => setEmbedDirent(b, { ...embedDirent(b), inum: dir, type: OBJTYPE_DIRECTORY }),
      );
    },
  },
  { code: 'IPARENT', on: 'own', make: (ed) => ed.editInode(ed.find(subdir), (i) => (i.meta.iparent = 0x999n)) },
  { code: 'FILE_EXTENT', on: 'own', make: (ed) => ed.editInode(ed.find(bigFile), (i) => (i.meta.size = 1n)) },
  { code: 'SYMLINK_BAD', on: 'own', make: (ed) => ed.editInode(ed.find(isType(OBJTYPE_SOFTLINK)), (i) => (i.meta.size = 0n)) },
  {
    code: 'INODE_ORPHAN',
    on: 'own',
    make: (ed) => {
      const file = ed.find(bigFile).bref.key;
      ed.editBref(ed.find((v) => v.bref.type === BREF_TYPE_DIRENT && embedDirent(v.bref).inum === file), (b) => setEmbedDirent(b, { ...embedDirent(b), inum: 0x5555n }));
    },
  },
  {
    code: 'STATS_COUNT',
    on: 'own',
    make: (ed) => ed.editBref(ed.find(bigFile), (b) => setEmbedStats(b, { ...embedStats(b), dataCount: embedStats(b).dataCount + 65536n })),
  },
  { code: 'STATS_ALLOCATOR_FREE', on: 'lz4', make: (ed) => ed.editHeader(0, (h) => (h.allocatorFree += 16384n)) },
];

/** Clear the freemap bitmap of the segment holding a file's inode: its granules read as free. */
function clearFileSegment(ed: Editor): void {
  const leaf = ed.find((v) => v.bref.type === BREF_TYPE_FREEMAP_LEAF, BREF_TYPE_FREEMAP);
  const fileOff = ed.find(bigFile).bref.dataOff & ~0x3fn;
  const seg = Number((fileOff & (FREEMAP_LEVEL1_SIZE - 1n)) >> 22n);
  ed.patch((leaf.bref.dataOff & ~0x3fn) + BigInt(seg * 128 + 0x40), new Uint8Array(64));
  ed.reseal(leaf);
}

/** The images the cases start from: two reference images and one our mkfs makes (call once per suite). */
export function corpusImages(): Record<Source, string> {
  const own = path.join(tempDir('fsck-corpus'), 'own.img');
  const src = path.join(extracted('srctree.tar.gz'), 'srctree');
  const r = h2kit(['mkfs', '--quiet', '--size', '1G', '--root', src, '--compression', 'zlib', '--check', 'sha192', own]);
  if (r.status !== 0) throw new Error(`corpus: mkfs failed: ${r.stderr.toString()}`);
  const ref = (name: string): string => {
    const img = refImage(name);
    return path.join(img.dir, img.spec);
  };
  return { lz4: ref('mk_lz4_xxhash64'), default: ref('mk_default'), own };
}

