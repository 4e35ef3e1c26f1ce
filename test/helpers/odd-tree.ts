/**
 * Source trees for the kernel-written corpus (test/fixtures/kernel), and the tree manifest
 * (NAME.tree.json) of a folder. Everything is deterministic: contents come from a SHA-256
 * counter stream with a fixed seed, times are fixed, so a tree built twice is the same tree.
 *
 * Usage (as root, so uid/gid are 0): `npx ts-node test/helpers/odd-tree.ts KIND OUTDIR`, and
 * `npx ts-node test/helpers/odd-tree.ts manifest DIR [PFS=DIR ...] > NAME.tree.json`.
 * This only writes plain files; the images themselves are made by hand (docs/corpus.md).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A reproducible byte stream: SHA-256 of (seed, counter) blocks. */
export class Stream {
  private counter = 0;
  private buf = Buffer.alloc(0);
  constructor(private readonly seed: string) {}

  bytes(n: number): Buffer {
    const parts: Buffer[] = [this.buf];
    let have = this.buf.length;
    while (have < n) {
      const b = createHash('sha256').update(`${this.seed}:${this.counter++}`).digest();
      parts.push(b);
      have += b.length;
    }
    const all = Buffer.concat(parts);
    this.buf = all.subarray(n);
    return all.subarray(0, n);
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.bytes(4).readUInt32LE(0) % n;
  }
}

// 2001-09-09T01:46:40Z: a fixed, ordinary mtime for every entry that does not test times
const FIXED_TIME = 1_000_000_000;

function touch(p: string, t = FIXED_TIME): void {
  fs.lutimesSync(p, t, t);
}

function writeFile(p: string, data: Buffer | string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  fs.chmodSync(p, mode);
  touch(p);
}

/** A file of `size` bytes whose only data is `chunks` (offset, bytes); the rest is holes. */
function writeSparse(p: string, size: number, chunks: [number, Buffer][]): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const fd = fs.openSync(p, 'w', 0o644);
  try {
    for (const [off, b] of chunks) fs.writeSync(fd, b, 0, b.length, off);
    fs.ftruncateSync(fd, size);
  } finally {
    fs.closeSync(fd);
  }
  touch(p);
}

function text(n: number): Buffer {
  const line = 'HAMMER2 is a copy-on-write filesystem; compressible text repeats itself.\n';
  return Buffer.from(line.repeat(Math.ceil(n / line.length)).slice(0, n));
}

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * The population tree for the compression/check images: every kind of content a compressor
 * treats differently, identical blocks in different files (the kernel dedups them), and the
 * entry types makefs stores.
 */
export function populationTree(out: string): void {
  const r = new Stream('h2kit-corpus-population');
  writeFile(path.join(out, 'empty'), '');
  for (const n of [1, 100, 4095, 4096, 65535, 65536, 65537]) writeFile(path.join(out, 'sizes', `f${n}`), r.bytes(n));
  writeFile(path.join(out, 'text.txt'), text(MIB));
  writeFile(path.join(out, 'random.bin'), r.bytes(128 * KIB));
  writeFile(path.join(out, 'zeros.bin'), Buffer.alloc(256 * KIB));
  writeFile(path.join(out, 'mixed.bin'), Buffer.concat([text(64 * KIB), Buffer.alloc(64 * KIB), r.bytes(64 * KIB), text(100)]));
  // past the inode's four direct blockrefs: indirect blocks; half of it does not compress
  writeFile(path.join(out, 'big.bin'), Buffer.concat([...Array(8).keys()].map((i) => (i % 2 ? text(64 * KIB) : r.bytes(64 * KIB))).concat([r.bytes(17)])));
  writeSparse(path.join(out, 'sparse.bin'), 5 * MIB, [
    [0, r.bytes(4 * KIB)],
    [2 * MIB + 12345, r.bytes(70 * KIB)],
    [5 * MIB - 4 * KIB, r.bytes(4 * KIB)],
  ]);
  // dedup: the same 64 KiB blocks in several files, whole and as parts
  const block = r.bytes(64 * KIB);
  const block2 = r.bytes(64 * KIB);
  writeFile(path.join(out, 'dup', 'a.bin'), Buffer.concat([block, block2, block]));
  writeFile(path.join(out, 'dup', 'b.bin'), Buffer.concat([block, block2, block]));
  writeFile(path.join(out, 'dup', 'sub', 'c.bin'), Buffer.concat([block2, r.bytes(64 * KIB), block]));
  writeFile(path.join(out, 'dup', 'text-copy.txt'), text(MIB));
  fs.mkdirSync(path.join(out, 'dir', 'sub', 'subsub'), { recursive: true });
  writeFile(path.join(out, 'dir', 'sub', 'subsub', 'leaf'), 'leaf\n', 0o600);
  writeFile(path.join(out, 'dir', 'run.sh'), '#!/bin/sh\necho hi\n', 0o755);
  fs.symlinkSync('text.txt', path.join(out, 'link'));
  fs.symlinkSync('dir/sub', path.join(out, 'dirlink'));
  fs.linkSync(path.join(out, 'sizes', 'f100'), path.join(out, 'dir', 'f100-hardlink'));
  execMkfifo(path.join(out, 'fifo'));
  for (const p of walkDirs(out).reverse()) touch(p);
}

/** Names of every length 1..255 with any byte but NUL and '/', and a directory of thousands. */
export function namesTree(out: string): void {
  const r = new Stream('h2kit-corpus-names');
  const dir = path.join(out, 'names');
  fs.mkdirSync(dir, { recursive: true });
  const seen = new Set<string>();
  const nameOf = (len: number): Buffer => {
    for (;;) {
      const b = Buffer.from(r.bytes(len).map((x) => (x === 0 || x === 0x2f ? 0x41 + (x % 26) : x)));
      const k = b.toString('hex');
      if (!seen.has(k) && !(len <= 2 && /^\.+$/.test(b.toString('latin1')))) {
        seen.add(k);
        return b;
      }
    }
  };
  for (let len = 1; len <= 255; len++) writeBytesName(dir, nameOf(len), r.bytes(len));
  // every byte value allowed in a name, in one name (254 bytes)
  const every = Buffer.from([...Array(255).keys()].map((i) => i + 1).filter((x) => x !== 0x2f));
  writeBytesName(out, every, Buffer.from('every byte\n'));
  // plain ASCII at the limits, and UTF-8
  writeFile(path.join(out, 'n'.repeat(255)), 'max\n');
  writeFile(path.join(out, '\u00e9t\u00e9 \u65e5\u672c\u8a9e \ud83d\ude00'), 'utf8\n');
  writeFile(path.join(out, ' leading space'), '');
  writeFile(path.join(out, '...'), '');
  writeFile(path.join(out, '-dash'), '');
  // a directory of thousands of entries: the kernel spreads it over indirect blocks
  const big = path.join(out, 'big');
  fs.mkdirSync(big);
  for (let i = 0; i < 2000; i++) {
    const n = `entry-${String(i).padStart(5, '0')}`;
    if (i % 100 === 7) fs.mkdirSync(path.join(big, n));
    else writeFile(path.join(big, n), i % 10 === 0 ? r.bytes(i) : '');
  }
  for (const p of walkDirs(out).reverse()) touch(p);
}

function writeBytesName(dir: string, name: Buffer, data: Buffer): void {
  // node takes a Buffer path as raw bytes, so names need not be UTF-8
  const p = Buffer.concat([Buffer.from(dir + '/'), name]);
  fs.writeFileSync(p, data);
  fs.chmodSync(p, 0o644);
  fs.lutimesSync(p, FIXED_TIME, FIXED_TIME);
}

/**
 * Symlinks with targets of every length from 1 to 1100 bytes (past the 512 bytes an inode holds
 * and past 1024), then every 16th length up to 4095 (the longest Linux allows) and 4094, 4095.
 * Every length to 4095 would put 8 MB of targets into tree.json and show-v.txt; the lengths
 * left out hold no boundary. Targets are path-like and compress well.
 */
export function symlinkTree(out: string): void {
  const r = new Stream('h2kit-corpus-symlinks');
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
  const dir = path.join(out, 'links');
  fs.mkdirSync(dir, { recursive: true });
  const lengths = new Set<number>();
  for (let len = 1; len <= 1100; len++) lengths.add(len);
  for (let len = 1104; len <= 4095; len += 16) lengths.add(len);
  lengths.add(4094).add(4095);
  for (const len of lengths) {
    const tail = [...r.bytes(8)].map((x) => alphabet[x % alphabet.length]).join('');
    const t = (`component-${len % 7}/`.repeat(Math.ceil(len / 12)) + tail).slice(-len);
    const p = path.join(dir, `l${String(len).padStart(4, '0')}`);
    fs.symlinkSync(t, p);
    touch(p);
  }
  writeFile(path.join(out, 'target.txt'), 'the target\n');
  fs.symlinkSync('../target.txt', path.join(dir, 'relative'));
  fs.symlinkSync('/nonexistent/absolute', path.join(dir, 'absolute'));
  fs.symlinkSync('links', path.join(out, 'to-dir'));
  for (const p of walkDirs(out).reverse()) touch(p);
}

/** Hardlink groups, sparse files, empty files, a deep path and a FIFO with two names. */
export function filesTree(out: string): void {
  const r = new Stream('h2kit-corpus-files');
  // hardlink groups of 2, 3 and 8 names, across directories
  for (const [g, n] of [[2, 2], [3, 3], [8, 8]] as const) {
    const first = path.join(out, 'hard', `g${g}`, 'n0');
    writeFile(first, r.bytes(1000 * g));
    for (let i = 1; i < n; i++) {
      const d = path.join(out, 'hard', i % 2 ? `g${g}` : `other${g}`);
      fs.mkdirSync(d, { recursive: true });
      fs.linkSync(first, path.join(d, `n${i}`));
    }
  }
  execMkfifo(path.join(out, 'hard', 'fifo'));
  fs.linkSync(path.join(out, 'hard', 'fifo'), path.join(out, 'hard', 'fifo-link'));
  // sparse files: all hole, hole then data, data hole data, many small islands
  writeSparse(path.join(out, 'sparse', 'all-hole'), 10 * MIB, []);
  writeSparse(path.join(out, 'sparse', 'tail'), 9 * MIB + 1, [[9 * MIB - 10, r.bytes(11)]]);
  writeSparse(path.join(out, 'sparse', 'ends'), 64 * MIB, [[0, r.bytes(65536)], [64 * MIB - 65536, r.bytes(65536)]]);
  writeSparse(
    path.join(out, 'sparse', 'islands'),
    8 * MIB,
    [...Array(32).keys()].map((i) => [i * 256 * KIB + (i % 7) * 1000, r.bytes(1 + ((i * 977) % 5000))]),
  );
  // empty files and an empty directory
  for (let i = 0; i < 20; i++) writeFile(path.join(out, 'empty', `e${i}`), '', i % 2 ? 0o600 : 0o644);
  fs.mkdirSync(path.join(out, 'empty', 'dir'));
  // a deep path: 60 levels, over 3000 bytes from the root
  let deep = path.join(out, 'deep');
  for (let i = 0; i < 60; i++) deep = path.join(deep, `level-${String(i).padStart(2, '0')}-${'x'.repeat(40)}`);
  writeFile(path.join(deep, 'bottom.txt'), 'the bottom\n');
  // modes and times
  writeFile(path.join(out, 'modes', 'setuid'), 'x', 0o4755);
  writeFile(path.join(out, 'modes', 'sticky-dir', 'f'), 'x');
  fs.chmodSync(path.join(out, 'modes', 'sticky-dir'), 0o1777);
  writeFile(path.join(out, 'modes', 'none'), 'x', 0o000);
  for (const p of walkDirs(out).reverse()) touch(p);
  fs.utimesSync(path.join(out, 'modes', 'setuid'), 315532800, 315532800);
}

/**
 * Many files of interleaved small and large sizes for the deletion/bulkfree image: deleting
 * some of them later leaves holes all through the allocated space. Every 4 KiB holds its own
 * file name and offset, so no two blocks are equal (no dedup) yet the image packs small.
 */
export function fragTree(out: string): void {
  for (let i = 0; i < 240; i++) {
    const size = i % 3 === 0 ? 300 * KIB + i : i % 3 === 1 ? 20 * KIB + i : 2 * KIB + i;
    const name = `f${String(i).padStart(3, '0')}`;
    const pages: Buffer[] = [];
    for (let off = 0; off < size; off += 4 * KIB) pages.push(Buffer.concat([Buffer.from(`${name} @${off}\n`), text(4 * KIB)]).subarray(0, 4 * KIB));
    writeFile(path.join(out, `d${i % 4}`, name), Buffer.concat(pages).subarray(0, size));
  }
  for (const p of walkDirs(out).reverse()) touch(p);
}

function execMkfifo(p: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  // node has no mkfifo; coreutils does
  require('node:child_process').execFileSync('mkfifo', ['-m', '644', p]);
  touch(p);
}

function walkDirs(root: string): string[] {
  const out = [root];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...walkDirs(path.join(root, e.name)));
  }
  return out;
}

/** One entry of NAME.tree.json. */
export interface TreeEntry {
  path?: string;
  path_hex?: string;
  /** the PFS holding the entry when it is not DATA (images with several PFSs) */
  pfs?: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'chr' | 'blk' | 'sock';
  mode: number;
  size: number;
  sha256?: string;
  target?: string;
  nlink?: number;
  uid: number;
  gid: number;
}

function typeOf(st: fs.Stats): TreeEntry['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'chr';
  if (st.isBlockDevice()) return 'blk';
  return 'sock';
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/**
 * The manifest entries of the tree under `root` as makefs stores it. nlink is given for
 * non-directories only (a directory's link count is the filesystem's own convention). Paths
 * are raw bytes; those that are not UTF-8 are written as path_hex.
 */
export function manifestEntries(root: string, pfs?: string): { key: Buffer; entry: TreeEntry }[] {
  const out: { key: Buffer; entry: TreeEntry }[] = [];
  const walk = (dir: Buffer, rel: Buffer): void => {
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
      const full = Buffer.concat([dir, Buffer.from('/'), name]);
      const r = Buffer.concat([rel, Buffer.from('/'), name]);
      const st = fs.lstatSync(full);
      const type = typeOf(st);
      // keys in the order the convention lists them; undefined ones vanish in JSON
      const e: TreeEntry = {
        ...(isUtf8(r) ? { path: r.toString('utf8') } : { path_hex: r.toString('hex') }),
        pfs,
        type,
        mode: st.mode & 0o7777,
        size: type === 'dir' || type === 'fifo' ? 0 : st.size,
        sha256: type === 'file' ? createHash('sha256').update(fs.readFileSync(full)).digest('hex') : undefined,
        target: type === 'symlink' ? fs.readlinkSync(full, { encoding: 'buffer' }).toString('latin1') : undefined,
        nlink: type === 'dir' ? undefined : st.nlink,
        uid: st.uid,
        gid: st.gid,
      };
      out.push({ key: Buffer.concat([Buffer.from(pfs ?? ''), Buffer.from([0]), r]), entry: e });
      if (type === 'dir') walk(full, r);
    }
  };
  walk(Buffer.from(root), Buffer.alloc(0));
  return out;
}

/** NAME.tree.json for the DATA tree `root` and further PFSs (`NAME=DIR`). */
export function manifest(root: string, others: [string, string][] = []): string {
  const all = [...manifestEntries(root), ...others.flatMap(([n, d]) => manifestEntries(d, n))];
  all.sort((a, b) => Buffer.compare(a.key, b.key));
  return JSON.stringify({ version: 1, entries: all.map((x) => x.entry) }, null, 1) + '\n';
}

const KINDS: Record<string, (out: string) => void> = {
  population: populationTree,
  names: namesTree,
  symlinks: symlinkTree,
  files: filesTree,
  frag: fragTree,
};

if (require.main === module) {
  const [kind, dir, ...rest] = process.argv.slice(2);
  if (kind === 'manifest' && dir) {
    process.stdout.write(manifest(dir, rest.map((x) => x.split('=', 2) as [string, string])));
  } else if (kind && dir && KINDS[kind]) {
    fs.mkdirSync(dir, { recursive: true });
    KINDS[kind](dir);
  } else {
    process.stderr.write(`usage: odd-tree.ts ${Object.keys(KINDS).join('|')} OUTDIR | manifest DIR [PFS=DIR ...]\n`);
    process.exit(2);
  }
}
