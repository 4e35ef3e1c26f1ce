/**
 * The space `mkfs --root` needs for a tree, counted as the population allocates it, without
 * compression (which can only lower it): one inode block per inode, a block per long name,
 * each file's logical blocks at the size the writer gives them, and the blockref tables
 * (indirect blocks) that index inodes, directory entries and data blocks.
 *
 * It is an upper bound that stays close: it must never refuse a tree that fits, and the
 * --size auto margin is taken on top of it.
 */
import {
  ALLOC_MIN,
  BLOCKREF_BYTES,
  CHECK_BYTES,
  EMBEDDED_BYTES,
  FREEMAP_LEVEL0_SIZE,
  IND_BYTES_MIN,
  IND_BYTES_NOM,
  INODE_BYTES,
  OBJTYPE_DIRECTORY,
  OBJTYPE_REGFILE,
  OBJTYPE_SOFTLINK,
  PBUFSIZE,
  SET_COUNT,
} from '../../format';
import { logicalBlockBytes } from '../../engine/fs-write';
import { SourceEntry, SourceSink, TreeLinks, walkSource } from './source-tree';

/**
 * The allocator gives each block type its own 4 MiB segments: every type this population
 * writes (inodes, data, indirect blocks, long-name blocks) may leave one partly used, and a
 * few more may be skipped while other runs' blocks or the write guard hold them.
 */
const SEGMENT_SLACK = 8n * FREEMAP_LEVEL0_SIZE;

/**
 * Indirect blocks split when full and the kernel's split leaves both halves about half used:
 * a table costs at most twice its blockrefs, plus one block where a split has just begun.
 */
const TABLE_FILL_FACTOR = 2;

/** Table bytes for `refs` blockrefs under a parent whose own set holds SET_COUNT. */
function tableBytes(refs: number, indBytes: number): number {
  if (refs <= SET_COUNT) return 0;
  return refs * BLOCKREF_BYTES * TABLE_FILL_FACTOR + indBytes;
}

/** Physical bytes of a file's data blocks, uncompressed; holes counted from the allocated size. */
export function fileDataBytes(size: number, allocated: number): { bytes: number; blocks: number } {
  if (size <= EMBEDDED_BYTES) return { bytes: 0, blocks: 0 };
  const full = Math.floor(size / PBUFSIZE);
  const tail = size - full * PBUFSIZE;
  let bytes = full * PBUFSIZE + (tail > 0 ? logicalBlockBytes(tail) : 0);
  let blocks = full + (tail > 0 ? 1 : 0);
  if (allocated < size) {
    // A sparse source: only its allocated stretches become blocks (whole 64 KiB ones at most).
    const dense = Math.ceil(allocated / PBUFSIZE);
    if (dense < blocks) {
      blocks = dense;
      bytes = dense * PBUFSIZE;
    }
  }
  return { bytes, blocks };
}

/** Adds up a tree entry by entry, so the walk that sizes a tree keeps nothing of it. */
export class SpaceEstimate implements SourceSink {
  private inodes = 0;
  private bytes = 0;
  /** identities of inodes with more than one name: a further name adds no inode */
  private readonly linked = new Set<string>();
  /** names per multiply-linked file inside the tree, for the population walk */
  readonly links = new TreeLinks();

  entry(e: SourceEntry): void {
    if (e.depth === 0) return; // the PFS root exists already
    this.links.add(e);
    if (e.name.length > CHECK_BYTES) this.bytes += ALLOC_MIN;
    if (e.type !== OBJTYPE_DIRECTORY && e.nlink > 1) {
      if (this.linked.has(e.identity)) return;
      this.linked.add(e.identity);
    }
    this.inodes++;
    this.bytes += INODE_BYTES;
    if (e.type === OBJTYPE_REGFILE || e.type === OBJTYPE_SOFTLINK) {
      const d = fileDataBytes(Number(e.size), Number(e.allocated));
      this.bytes += d.bytes + tableBytes(d.blocks, IND_BYTES_NOM);
    }
  }

  /** A directory's entries beyond its own blockset go into dirent tables. */
  leave(_dir: SourceEntry, children: number): void {
    this.bytes += tableBytes(children, IND_BYTES_MIN);
  }

  /** The estimate: the inode index of the PFS root and the allocator's slack on top. */
  total(): bigint {
    return BigInt(this.bytes + tableBytes(this.inodes, IND_BYTES_NOM)) + SEGMENT_SLACK;
  }
}

/** A tree as sized before anything is written: the space it needs and what it leaves out. */
export interface MeasuredTree {
  needed: bigint;
  /** how many names each multiply-linked file has inside the tree */
  links: TreeLinks;
  skipped: { path: string; reason: string }[];
}

/** Walk the tree once to size it (the population walks it again). */
export function measureTree(dir: string, skipUnreadable: boolean): MeasuredTree {
  const est = new SpaceEstimate();
  const skipped = walkSource(dir, skipUnreadable, est);
  return { needed: est.total(), links: est.links, skipped };
}
