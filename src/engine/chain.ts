/**
 * Reading chains: resolving a blockref to its physical bytes, verifying the check code,
 * decoding the child table of a node, and decompressing data blocks.
 */
import {
  Blockref,
  brefBytes,
  brefCompMethod,
  brefOffset,
  brefRadix,
  decodeBlockrefs,
} from '../format/blockref';
import { hex64 } from '../format/bytes';
import { bvBlockref, bvOffset, bvOffsetExact, bvRadix } from '../format/blockref-view';
import { CheckResult, verifyCheck } from '../format/check';
import { decompressBlock } from '../format/compress';
import {
  BLOCKREF_BYTES,
  BREF_TYPE_DATA,
  BREF_TYPE_FREEMAP,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_INODE,
  BREF_TYPE_VOLUME,
  INODE_BYTES,
  RADIX_MAX,
} from '../format/constants';
import { FormatError } from '../format/errors';
import { inodeBlockset } from '../format/inode';
import { breftypeName } from '../format/names';
import { VolumeHeader } from '../format/volume';
import { ReadAheadWindow } from './device';
import { MediaError } from './errors';
import { VolumeSet } from './volumes';

/** Where a blockref is, for messages: "inode key 0x... at 0x...". */
export function describeBref(b: Blockref): string {
  return `${breftypeName(b.type)} key 0x${hex64(b.key)} at 0x${hex64(b.dataOff)}`;
}

/** Default bound of the verified-metadata cache. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export class ChainReader {
  /** blocks read, and their bytes, for statistics and benchmarks */
  blocksRead = 0;
  bytesRead = 0;
  /**
   * Verified metadata blocks by data_off (offset and radix), least recently used first.
   * Lookups by inode number descend the same indirect blocks again and again; data blocks
   * are read once and never cached.
   */
  private cache = new Map<bigint, { data: Uint8Array; methods: number; check: Uint8Array }>();
  private cacheBytes = 0;

  constructor(
    readonly vols: VolumeSet,
    private readonly cacheLimit = DEFAULT_CACHE_BYTES,
  ) {}

  get header(): VolumeHeader {
    return this.vols.header;
  }

  /**
   * The physical bytes `bref` points to (empty for a blockref without storage); through a
   * read-ahead window over this reader's volumes when one is given (see readAhead; the bytes
   * are then a view that a later read through the window may overwrite).
   */
  readPhysical(bref: Blockref, via?: ReadAheadWindow): Uint8Array {
    const radix = brefRadix(bref);
    if (radix === 0) return new Uint8Array(0);
    if (radix > RADIX_MAX) throw new FormatError(`${describeBref(bref)}: size radix ${radix} exceeds ${RADIX_MAX}`);
    const bytes = brefBytes(bref);
    const off = brefOffset(bref);
    const data = via ? via.read(off, bytes) : this.vols.read(off, bytes);
    if (data.length !== bytes) throw new MediaError(`${describeBref(bref)}: short read, ${data.length} of ${bytes} bytes`);
    this.blocksRead++;
    this.bytesRead += bytes;
    return data;
  }

  /**
   * readPhysical of the blockref stored at `at` in `table` (a block table's bytes), without
   * decoding it: the blockref is decoded only for an error message.
   */
  readPhysicalAt(table: Uint8Array, at: number, via?: ReadAheadWindow): Uint8Array {
    const radix = bvRadix(table, at);
    if (radix === 0) return new Uint8Array(0);
    if (radix > RADIX_MAX || !bvOffsetExact(table, at)) return this.readPhysical(bvBlockref(table, at), via);
    const bytes = 2 ** radix;
    const off = BigInt(bvOffset(table, at));
    const data = via ? via.read(off, bytes) : this.vols.read(off, bytes);
    if (data.length !== bytes) throw new MediaError(`${describeBref(bvBlockref(table, at))}: short read, ${data.length} of ${bytes} bytes`);
    this.blocksRead++;
    this.bytesRead += bytes;
    return data;
  }

  /** A read-ahead window over these volumes, for a read-only pass over an unchanging medium. */
  readAhead(windowBytes?: number): ReadAheadWindow {
    return new ReadAheadWindow(this.vols, windowBytes);
  }

  verify(bref: Blockref, data: Uint8Array): CheckResult {
    return verifyCheck(bref, data);
  }

  /** Read and verify; a failed check code is an error. Verified metadata is cached. */
  readVerified(bref: Blockref): Uint8Array {
    const cacheable = bref.type !== BREF_TYPE_DATA;
    if (cacheable) {
      const hit = this.cache.get(bref.dataOff);
      // A blockref that claims another check code for the same block is verified on its own.
      if (hit && hit.methods === bref.methods && sameBytes(hit.check, bref.check)) {
        this.cache.delete(bref.dataOff);
        this.cache.set(bref.dataOff, hit);
        return hit.data;
      }
    }
    const data = this.readPhysical(bref);
    const check = verifyCheck(bref, data);
    if (!check.ok) {
      throw new MediaError(`${describeBref(bref)}: check code mismatch (stored ${check.stored}, computed ${check.computed})`);
    }
    if (cacheable && data.length <= this.cacheLimit) this.remember(bref, data);
    return data;
  }

  private remember(bref: Blockref, data: Uint8Array): void {
    const old = this.cache.get(bref.dataOff);
    if (old) this.cacheBytes -= old.data.length;
    this.cache.delete(bref.dataOff);
    this.cache.set(bref.dataOff, { data, methods: bref.methods, check: new Uint8Array(bref.check) });
    this.cacheBytes += data.length;
    for (const [k, v] of this.cache) {
      if (this.cacheBytes <= this.cacheLimit) break;
      this.cache.delete(k);
      this.cacheBytes -= v.data.length;
    }
  }

  /**
   * The child blockrefs held by a node, given its bytes (for the two header roots, pass the
   * header's raw bytes or nothing). Data, dirent and leaf blocks have none.
   */
  children(bref: Blockref, data: Uint8Array): Blockref[] {
    switch (bref.type) {
      case BREF_TYPE_VOLUME:
        return this.header.srootBlockset;
      case BREF_TYPE_FREEMAP:
        return this.header.freemapBlockset;
      case BREF_TYPE_INODE: {
        if (data.length < INODE_BYTES) throw new FormatError(`${describeBref(bref)}: inode block of ${data.length} bytes`);
        return inodeBlockset(data);
      }
      case BREF_TYPE_INDIRECT:
      case BREF_TYPE_FREEMAP_NODE:
        return decodeBlockrefs(data, 0, Math.floor(data.length / BLOCKREF_BYTES));
      default:
        return [];
    }
  }

  /** The logical bytes of a DATA blockref: 1 << keybits bytes, decompressed. */
  readData(bref: Blockref, verify = true): Uint8Array {
    const phys = verify ? this.readVerified(bref) : this.readPhysical(bref);
    const logical = 2 ** bref.keybits;
    if (bref.keybits > RADIX_MAX) throw new FormatError(`${describeBref(bref)}: logical radix ${bref.keybits} exceeds ${RADIX_MAX}`);
    try {
      return decompressBlock(brefCompMethod(bref), phys, logical);
    } catch (e) {
      throw new FormatError(`${describeBref(bref)}: ${(e as Error).message}`);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
