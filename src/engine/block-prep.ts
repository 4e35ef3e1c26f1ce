/**
 * The part of writing file data that needs no chain, allocator or device: reading a segment of
 * a source file, cutting it into logical blocks, finding the holes and compressing. It runs on
 * the main thread or in a worker (block-worker.ts), with the same functions, so the bytes of a
 * block do not depend on where it was made.
 */
import * as fs from 'node:fs';
import {
  CHECK_NONE,
  COMP_AUTOZERO,
  COMP_LZ4,
  COMP_ZLIB,
  LZ4_PREFIX_BYTES,
  PBUFSIZE,
  RADIX_MIN,
  decAlgo,
  decLevel,
  isAllZero,
  lz4Compress,
  zlibCompress,
} from '../format';

/**
 * Bytes of the logical block that holds the `eof` bytes left of a file: a full 64 KiB block,
 * or for the last one the least power of two of at least 1 KiB that holds them.
 */
export function logicalBlockBytes(eof: number): number {
  if (eof >= PBUFSIZE) return PBUFSIZE;
  let pblk = PBUFSIZE;
  while (pblk >= eof && pblk >= 1 << RADIX_MIN) pblk >>= 1;
  return pblk << 1;
}

/** The kernel's zlib level when the inode names none. */
const ZLIB_DEFAULT_LEVEL = 6;

export function zlibLevel(algo: number): number {
  const l = decLevel(algo);
  return l === 0 ? ZLIB_DEFAULT_LEVEL : Math.min(9, Math.max(ZLIB_DEFAULT_LEVEL, l));
}

/**
 * A logical block compressed as the kernel keeps it: only when the result fits half the block,
 * padded to a power of two of at least 1 KiB. Null when it is to be stored as it is.
 */
export function packDataBlock(block: Uint8Array, comp: number, level = ZLIB_DEFAULT_LEVEL): { phys: Uint8Array; comp: number } | null {
  const half = block.length / 2;
  const packed =
    comp === COMP_LZ4 ? lz4Compress(block, half - 8 + LZ4_PREFIX_BYTES) : comp === COMP_ZLIB ? zlibCompress(block, level, half) : null;
  if (!packed) return null;
  let size = 1 << RADIX_MIN;
  while (size < packed.length) size <<= 1;
  const phys = new Uint8Array(size);
  phys.set(packed);
  return { phys, comp };
}

/** The inode's comp_algo and check_algo bytes, and whether the source is sparse. */
export interface BlockPolicy {
  compAlgo: number;
  checkAlgo: number;
  zerosAreHoles: boolean;
}

/** Whether an all-zero block is stored as a hole (hammer2_write_file_core's rule). */
export function zerosBecomeHoles(p: BlockPolicy): boolean {
  const comp = decAlgo(p.compAlgo);
  return p.zerosAreHoles || comp === COMP_AUTOZERO || ((comp === COMP_LZ4 || comp === COMP_ZLIB) && decAlgo(p.checkAlgo) !== CHECK_NONE);
}

export function compresses(compAlgo: number): boolean {
  const comp = decAlgo(compAlgo);
  return comp === COMP_LZ4 || comp === COMP_ZLIB;
}

/**
 * The kernel stops trying to compress a file after failures and tries again every 8th block:
 * `heuristic` counts them. True when block with this count is to be tried.
 */
export function worthTrying(heuristic: number): boolean {
  return heuristic < 8 || (heuristic & 7) === 0;
}

/** The count after a block was tried: reset by a success, capped after long failure runs. */
export function nextHeuristic(heuristic: number, packed: boolean): number {
  if (packed) return 0;
  return heuristic + 1 > 128 ? 8 : heuristic + 1;
}

/**
 * A segment of a file cut into its logical blocks, ready to place: `data` holds the blocks
 * one after the other (the last one zero-padded), `holes[i]` marks a block stored as a hole,
 * `packed[i]` is its compressed form, null when compression did not pay, undefined when it
 * was not tried (the caller tries it then if its count says so).
 */
export interface PreparedSegment {
  data: Uint8Array;
  holes: Uint8Array;
  packed: (Uint8Array | null | undefined)[];
}

/** Offsets of the logical blocks of `len` bytes of data, and the padded length. */
export function blockStarts(len: number): { starts: number[]; padded: number } {
  const starts: number[] = [];
  let lbase = 0;
  for (; lbase < len; lbase += PBUFSIZE) starts.push(lbase);
  const last = starts.length ? starts[starts.length - 1] : 0;
  return { starts, padded: starts.length ? last + logicalBlockBytes(len - last) : 0 };
}

/**
 * Cut `len` bytes (already in `data`, padded to whole blocks) into blocks: holes, and the
 * compressed form of the blocks that are tried. `heuristic`: the failure count at the
 * segment's first block when it is known (a file's first segment), so only the blocks the
 * kernel would try are compressed; null tries every one (a later segment, whose count
 * depends on the blocks before it).
 */
export function prepareSegment(data: Uint8Array, len: number, policy: BlockPolicy, heuristic: number | null): PreparedSegment {
  const { starts } = blockStarts(len);
  const holes = new Uint8Array(starts.length);
  const packed: (Uint8Array | null | undefined)[] = new Array(starts.length).fill(undefined);
  const mayHole = zerosBecomeHoles(policy);
  const comp = decAlgo(policy.compAlgo);
  const tries = compresses(policy.compAlgo);
  const level = zlibLevel(policy.compAlgo);
  let h = heuristic;
  for (let i = 0; i < starts.length; i++) {
    const lbase = starts[i];
    const block = data.subarray(lbase, lbase + logicalBlockBytes(len - lbase));
    if (mayHole && isAllZero(block)) {
      holes[i] = 1;
      continue;
    }
    if (!tries || (h !== null && !worthTrying(h))) {
      continue; // an untried block leaves the count as it is
    }
    const p = packDataBlock(block, comp, level);
    packed[i] = p ? p.phys : null;
    if (h !== null) h = nextHeuristic(h, p !== null);
  }
  return { data, holes, packed };
}

/**
 * Read `len` bytes of `path` from `off` into a new buffer padded to whole blocks. A file that
 * shrank while it was read leaves the rest zero, as the reader on the main thread did.
 */
export function readSegment(path: string | Buffer, off: number, len: number): Uint8Array {
  const data = new Uint8Array(blockStarts(len).padded);
  const fd = fs.openSync(path, 'r');
  try {
    let got = 0;
    while (got < len) {
      const n = fs.readSync(fd, data, got, len - got, off + got);
      if (n === 0) break;
      got += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return data;
}
