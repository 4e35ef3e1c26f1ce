/**
 * A seeded generator of source trees full of the cases a filesystem writer gets wrong: names of
 * every length with any byte, symlink targets of many lengths, hardlink groups, sparse and empty
 * files, deep paths, a directory with thousands of entries, and contents from incompressible to
 * all-zero. The same seed and scale give the same tree. Names are Buffers throughout, because
 * most of them are not valid UTF-8.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { rng } from '../../test/helpers/corrupt';

export interface TreeOptions {
  seed: number;
  /** names in `names/`: valid UTF-8, or any bytes (but NUL and '/') */
  nameBytes: 'utf8' | 'any';
  /** entries in the big directory */
  manyEntries: number;
  /** name lengths covered in `names/` (one file each) */
  nameLengths: number[];
  /** symlink target lengths covered in `links/` */
  symlinkLengths: number[];
  /** depth of the nested chain under `deep/` */
  depth: number;
}

const SLASH = 0x2f;
const DOT = 0x2e;

/** The largest 64 KiB-block file the generator makes: keeps every tree at tens of MB. */
const BIG_FILE = 3 * 65536 + 12345;

export class Gen {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.r() * 256);
    return b;
  }
  /** A name byte: anything but NUL and '/'. */
  nameByte(): number {
    for (;;) {
      const c = this.int(1, 255);
      if (c !== SLASH) return c;
    }
  }
  /** A name of exactly `len` bytes: any byte but NUL and '/' (most such names are not UTF-8). */
  name(len: number): Buffer {
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = this.nameByte();
    return b;
  }
  /** A valid UTF-8 name of exactly `len` bytes, mixing characters of 1 to 4 bytes. */
  utf8Name(len: number): Buffer {
    const parts: Buffer[] = [];
    let left = len;
    while (left > 0) {
      const width = Math.min(left, this.int(1, 4));
      let cp: number;
      if (width === 1) {
        do cp = this.int(1, 0x7f);
        while (cp === SLASH);
      } else if (width === 2) cp = this.int(0x80, 0x7ff);
      else if (width === 3) {
        do cp = this.int(0x800, 0xffff);
        while (cp >= 0xd800 && cp <= 0xdfff);
      } else cp = this.int(0x10000, 0x10ffff);
      const c = Buffer.from(String.fromCodePoint(cp), 'utf8');
      parts.push(c);
      left -= c.length;
    }
    return Buffer.concat(parts);
  }
  /**
   * File contents of one of several kinds, so that every compressor sees data it shrinks, data
   * it cannot shrink, and data that is partly each (where block encoders meet their edge cases).
   */
  contents(size: number): Buffer {
    const kind = this.int(0, 5);
    const b = Buffer.alloc(size);
    if (kind === 0) return this.bytes(size);
    if (kind === 1) return b; // all zero
    if (kind === 2) {
      const line = Buffer.from(`line of text ${this.int(0, 1e6)} with some repetition\n`);
      for (let i = 0; i < size; i++) b[i] = line[i % line.length];
      return b;
    }
    if (kind === 3) {
      // random runs and repeats of earlier bytes: matches of all lengths and distances
      let i = 0;
      while (i < size) {
        const run = this.int(1, 300);
        if (i > 0 && this.r() < 0.6) {
          const from = this.int(Math.max(0, i - 65535), i - 1);
          for (let k = 0; k < run && i < size; k++, i++) b[i] = b[from + k];
        } else {
          for (let k = 0; k < run && i < size; k++, i++) b[i] = this.int(0, 255);
        }
      }
      return b;
    }
    if (kind === 4) {
      // a small alphabet: compressible by entropy, few long matches
      for (let i = 0; i < size; i++) b[i] = 0x61 + this.int(0, 3);
      return b;
    }
    // zero blocks between random ones: autozero and hole detection inside a file
    for (let off = 0; off < size; off += 65536) {
      if (this.r() < 0.5) this.bytes(Math.min(65536, size - off)).copy(b, off);
    }
    return b;
  }
}

/**
 * A compressible block whose last bytes repeat an earlier run after a few random ones: a greedy
 * LZ4 matcher is tempted to start a match closer to the end than the format allows (the last
 * match must start 12 bytes before the end, the last 5 bytes must be literals).
 */
export function lz4EdgeBlock(g: Gen, size: number, tail: number): Buffer {
  const b = Buffer.alloc(size);
  const line = Buffer.from(`text ${g.int(0, 999)} and more text, repeated `);
  for (let i = 0; i < size; i++) b[i] = line[i % line.length];
  for (let i = size - 16; i < size - tail; i++) b[i] = g.int(0, 255);
  line.copy(b, size - tail, 0, tail);
  return b;
}

const join = (dir: Buffer, name: Buffer | string): Buffer => Buffer.concat([dir, Buffer.from('/'), Buffer.isBuffer(name) ? name : Buffer.from(name)]);

function mkdir(p: Buffer): void {
  fs.mkdirSync(p as unknown as string);
}
function write(p: Buffer, data: Buffer): void {
  fs.writeFileSync(p as unknown as string, data);
}

/** File sizes at the edges of the on-disk layout: inline data, 1 KiB steps, the 64 KiB block. */
const EDGE_SIZES = [1, 2, 511, 512, 513, 1023, 1024, 1025, 4095, 4096, 4097, 16383, 16384, 16385, 32768, 65535, 65536, 65537, 131072, BIG_FILE];

/** Build the tree under `root` (which must not exist). */
export function generateTree(root: string, o: TreeOptions): void {
  const g = new Gen(o.seed);
  const top = Buffer.from(root);
  mkdir(top);

  // names of every requested length, any byte but NUL and '/', never '.' or '..'
  const names = join(top, 'names');
  mkdir(names);
  const seen = new Set<string>();
  for (const len of o.nameLengths) {
    let n: Buffer;
    do n = o.nameBytes === 'any' ? g.name(len) : g.utf8Name(len);
    while (seen.has(n.toString('hex')) || (len <= 2 && n.every((c) => c === DOT)));
    seen.add(n.toString('hex'));
    write(join(names, n), g.contents(g.int(0, 700)));
  }

  // symlinks: targets of the requested lengths; any byte but NUL, '/' included
  const links = join(top, 'links');
  mkdir(links);
  for (const len of o.symlinkLengths) {
    const t = Buffer.alloc(len);
    for (let i = 0; i < len; i++) t[i] = g.int(1, 255);
    fs.symlinkSync(t as unknown as string, join(links, `l${len}`) as unknown as string);
  }

  // files at the size edges, each with a kind of contents
  const sizes = join(top, 'sizes');
  mkdir(sizes);
  for (const s of EDGE_SIZES) write(join(sizes, `s${s}`), g.contents(s));
  for (let i = 0; i < 4; i++) write(join(sizes, `empty${i}`), Buffer.alloc(0));

  // blocks at LZ4's end-of-block limits, alone and as every block of a larger file
  const edge = join(top, 'lz4edge');
  mkdir(edge);
  for (const size of [1000, 3000, 4096, 65536]) {
    for (let tail = 4; tail <= 12; tail++) write(join(edge, `e${size}-${tail}`), lz4EdgeBlock(g, size, tail));
  }
  write(join(edge, 'multi'), Buffer.concat([4, 5, 6, 7, 8, 9, 10, 11, 12].map((t) => lz4EdgeBlock(g, 65536, t))));

  // hardlink groups of 2 to 5 names, some across directories
  const hl = join(top, 'hardlinks');
  mkdir(hl);
  mkdir(join(hl, 'other'));
  for (let grp = 0; grp < 6; grp++) {
    const first = join(hl, `g${grp}-0`);
    write(first, g.contents(grp % 2 ? g.int(1, 400) : g.int(70000, 140000)));
    const members = 2 + (grp % 4);
    for (let m = 1; m < members; m++) {
      const dir = m % 2 ? join(hl, 'other') : hl;
      fs.linkSync(first as unknown as string, join(dir, `g${grp}-${m}`) as unknown as string);
    }
  }
  // an empty file with two names
  write(join(hl, 'empty-0'), Buffer.alloc(0));
  fs.linkSync(join(hl, 'empty-0') as unknown as string, join(hl, 'empty-1') as unknown as string);

  // sparse files: holes at the start, in the middle and at the end, unaligned data
  const sp = join(top, 'sparse');
  mkdir(sp);
  const sparse = (name: string, size: number, pieces: [number, number][]): void => {
    const p = join(sp, name) as unknown as string;
    const fd = fs.openSync(p, 'w');
    try {
      for (const [off, len] of pieces) fs.writeSync(fd, g.bytes(len), 0, len, off);
      fs.ftruncateSync(fd, size);
    } finally {
      fs.closeSync(fd);
    }
  };
  sparse('all-hole', 3 * 1048576, []);
  sparse('hole-start', 2 * 1048576 + 77, [[2 * 1048576 - 1000, 1077]]);
  sparse('hole-middle', 4 * 1048576, [[0, 70000], [3 * 1048576 + 12345, 4000]]);
  sparse('hole-end', 5 * 1048576, [[100, 200000]]);
  sparse('tiny-hole-end', 65536 * 2 + 1, [[0, 10]]);

  // a deep chain of directories with a file at each of a few levels
  let d = join(top, 'deep');
  mkdir(d);
  for (let i = 0; i < o.depth; i++) {
    d = join(d, `d${i % 10}`);
    mkdir(d);
    if (i % 16 === 15 || i === o.depth - 1) write(join(d, 'f'), g.contents(g.int(0, 3000)));
  }

  // one directory with many entries (small files, a few subdirectories)
  const many = join(top, 'many');
  mkdir(many);
  for (let i = 0; i < o.manyEntries; i++) {
    const n = Buffer.from(`e${i.toString(36)}-${g.name(g.int(1, 20)).toString('hex')}`);
    if (i % 500 === 499) mkdir(join(many, n));
    else write(join(many, n), g.contents(g.int(0, 1500)));
  }

  // special files: a FIFO (makefs R= skips them; the checkers still see them)
  spawnSync('mkfifo', [`${root}/sizes/fifo`]);
}

/** The odd-case tree at a given scale. */
export function treeOptions(seed: number, quick: boolean, nameBytes: TreeOptions['nameBytes'] = 'utf8'): TreeOptions {
  const all = (lo: number, hi: number, step = 1): number[] => {
    const out: number[] = [];
    for (let i = lo; i <= hi; i += step) out.push(i);
    return out;
  };
  return {
    seed,
    nameBytes,
    manyEntries: quick ? 1200 : 3000,
    nameLengths: quick ? [...all(1, 255, 7), 254, 255] : all(1, 255),
    symlinkLengths: [1, 2, 3, 63, 64, 65, 127, 128, 255, 256, 511, 512, 513, 1000, 1023, 1024],
    depth: quick ? 40 : 100,
  };
}

/** Symlink target lengths for the symlink-only tree: every length up to 4 KiB (less one for NUL). */
export function longSymlinkLengths(quick: boolean): number[] {
  const out: number[] = [];
  for (let i = 1; i <= 4095; i += quick ? 37 : 1) out.push(i);
  if (out[out.length - 1] !== 4095) out.push(4095);
  return out;
}

/** A tree holding only symlinks, one per target length. */
export function generateSymlinkTree(root: string, seed: number, lengths: number[]): void {
  const g = new Gen(seed);
  fs.mkdirSync(root);
  for (const len of lengths) {
    const t = Buffer.alloc(len);
    for (let i = 0; i < len; i++) t[i] = g.int(1, 255);
    fs.symlinkSync(t as unknown as string, `${root}/l${len}`);
  }
  // one regular file, so the read-back has something to compare
  fs.writeFileSync(`${root}/file`, g.contents(5000));
}
