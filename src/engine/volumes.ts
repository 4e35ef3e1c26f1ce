/**
 * A HAMMER2 filesystem as a set of volumes: one image or device, or several given as
 * `vol0.img:vol1.img` (the reference tools' syntax). Each volume carries its own headers;
 * volume 0's best header is the filesystem's. Logical offsets (blockref data_off) map to a
 * volume through the volumes' logical start offsets (volu_loff).
 */
import {
  FREEMAP_LEVEL1_MASK,
  MAX_VOLUMES,
  ROOT_VOLUME,
  UUID_STRING,
  VOLUME_ALIGN,
  VOL_VERSION_MULTI_VOLUMES,
  VolumeHeader,
  hex64,
  uuidToString,
} from '../format';
import { BlockSource, ReadOnlyDevice } from './device';
import { H2Error, MediaError, NotHammer2Error } from './errors';
import { HeaderSelection, readHeaderCopies, requireBestHeader } from './header';

export interface Volume {
  id: number;
  path: string;
  dev: BlockSource;
  selection: HeaderSelection;
  /** this volume's best header */
  header: VolumeHeader;
  /** logical offset of the volume's first byte */
  offset: bigint;
  /** the volume's size according to its header */
  size: bigint;
}

export interface OpenOptions {
  /** open devices with this instead of read-only (the write path passes its own opener) */
  opener?: (path: string) => BlockSource;
  /** open a device shorter than its header says (fsck reports it; blocks past the end fail to read) */
  allowTruncated?: boolean;
  /** read a device even while another h2kit process writes it (--force) */
  allowWriter?: boolean;
}

export interface Truncation {
  path: string;
  volumeSize: bigint;
  deviceSize: bigint;
}

export function splitVolumePaths(spec: string): string[] {
  const paths = spec.split(':').filter((p) => p.length > 0);
  if (paths.length === 0) throw new H2Error('no device or image given', 2);
  if (paths.length > MAX_VOLUMES) throw new H2Error(`at most ${MAX_VOLUMES} volumes, ${paths.length} given`, 2);
  return paths;
}

export class VolumeSet {
  private constructor(
    /** volumes indexed by volume id */
    readonly volumes: Volume[],
    readonly spec: string,
    /** volumes whose device ends before the header's size (only with allowTruncated) */
    readonly truncated: Truncation[],
  ) {}

  static open(spec: string, opts: OpenOptions = {}): VolumeSet {
    const opener = opts.opener ?? ((p: string) => ReadOnlyDevice.open(p, { allowWriter: opts.allowWriter }));
    const devs: BlockSource[] = [];
    try {
      const volumes: Volume[] = [];
      for (const path of splitVolumePaths(spec)) {
        const dev = opener(path);
        devs.push(dev);
        const selection = readHeaderCopies(dev);
        const header = requireBestHeader(selection, dev.size);
        const id = header.voluId;
        if (id >= MAX_VOLUMES) throw new NotHammer2Error(`${path}: bad volume id ${id}`);
        if (volumes[id]) throw new NotHammer2Error(`${path}: volume id ${id} already given by ${volumes[id].path}`);
        const offset = header.version >= VOL_VERSION_MULTI_VOLUMES ? header.voluLoff[id] : 0n;
        volumes[id] = { id, path, dev, selection, header, offset, size: header.voluSize };
      }
      const set = new VolumeSet(volumes, spec, []);
      set.verify(opts.allowTruncated ?? false);
      return set;
    } catch (e) {
      for (const d of devs) d.close();
      throw e;
    }
  }

  /** Consistency between the volumes, after hammer2_verify_volumes. */
  private verify(allowTruncated: boolean): void {
    const vols = this.volumes.filter(Boolean);
    const root = this.volumes[ROOT_VOLUME];
    if (!root) throw new NotHammer2Error(`${this.spec}: no root volume (volume id 0) among the devices given`);
    const rh = root.header;
    const fstype = uuidToString(rh.fstype);
    if (fstype !== UUID_STRING) throw new NotHammer2Error(`${root.path}: fstype ${fstype} is not HAMMER2's ${UUID_STRING}`);
    for (const v of vols) {
      const h = v.header;
      if (h.version !== rh.version) throw new NotHammer2Error(`${v.path}: version ${h.version} differs from the root volume's ${rh.version}`);
      if (uuidToString(h.fsid) !== uuidToString(rh.fsid)) {
        throw new NotHammer2Error(`${v.path}: fsid ${uuidToString(h.fsid)} differs from the root volume's ${uuidToString(rh.fsid)}`);
      }
      if (v.size > v.dev.size && allowTruncated) {
        this.truncated.push({ path: v.path, volumeSize: v.size, deviceSize: v.dev.size });
      } else if (v.size > v.dev.size) {
        throw new NotHammer2Error(
          `${v.path}: truncated: the header gives a volume of 0x${hex64(v.size)} bytes, the device has 0x${hex64(v.dev.size)}`,
        );
      }
      if (v.size === 0n) throw new NotHammer2Error(`${v.path}: volume size 0 in header`);
    }
    if (rh.version >= VOL_VERSION_MULTI_VOLUMES) {
      if (vols.length !== rh.nvolumes) {
        throw new NotHammer2Error(`${this.spec}: the volume header requires ${rh.nvolumes} device(s), ${vols.length} given`);
      }
      let expect = 0n;
      for (let i = 0; i < vols.length; i++) {
        const v = this.volumes[i];
        if (!v) throw new NotHammer2Error(`${this.spec}: volume id ${i} is missing`);
        if (v.offset !== expect) throw new NotHammer2Error(`${v.path}: inconsistent logical offset 0x${hex64(v.offset)}`);
        const last = i === vols.length - 1;
        if (!last && v.size & FREEMAP_LEVEL1_MASK) throw new NotHammer2Error(`${v.path}: size is not 1 GiB aligned`);
        if (last && v.size % VOLUME_ALIGN) throw new NotHammer2Error(`${v.path}: size is not 8 MiB aligned`);
        expect += v.size;
      }
      if (rh.totalSize !== expect) {
        throw new NotHammer2Error(`${root.path}: total_size 0x${hex64(rh.totalSize)} is not the sum of the volumes 0x${hex64(expect)}`);
      }
    } else if (vols.length !== 1) {
      throw new NotHammer2Error(`${this.spec}: a version ${rh.version} filesystem has exactly one volume`);
    }
  }

  get root(): Volume {
    return this.volumes[ROOT_VOLUME];
  }

  /** The filesystem's volume header: the root volume's best copy. */
  get header(): VolumeHeader {
    return this.root.header;
  }

  get totalSize(): bigint {
    return this.volumes.reduce((s, v) => s + (v ? v.size : 0n), 0n);
  }

  get list(): Volume[] {
    return this.volumes.filter(Boolean);
  }

  /** The volume holding logical offset `off`, or null. */
  volumeAt(off: bigint): Volume | null {
    for (const v of this.list) if (off >= v.offset && off < v.offset + v.size) return v;
    return null;
  }

  /**
   * Read `len` bytes at logical offset `off`. The range must lie inside one volume; the result
   * is shorter than `len` only when the device itself ends early.
   */
  read(off: bigint, len: number): Buffer {
    const v = this.volumeAt(off);
    if (!v) throw new MediaError(`offset 0x${hex64(off)} lies outside every volume`);
    if (off + BigInt(len) > v.offset + v.size) {
      throw new MediaError(`${v.path}: ${len} bytes at 0x${hex64(off)} run past the end of volume ${v.id}`);
    }
    return v.dev.read(off - v.offset, len);
  }

  /** read() into a caller's buffer; the number of bytes read. */
  readInto(off: bigint, buf: Uint8Array, len: number): number {
    const v = this.volumeAt(off);
    if (!v) throw new MediaError(`offset 0x${hex64(off)} lies outside every volume`);
    if (off + BigInt(len) > v.offset + v.size) {
      throw new MediaError(`${v.path}: ${len} bytes at 0x${hex64(off)} run past the end of volume ${v.id}`);
    }
    if (v.dev.readInto) return v.dev.readInto(off - v.offset, buf, len);
    const got = v.dev.read(off - v.offset, len);
    buf.set(got);
    return got.length;
  }

  /** The end (exclusive) of the volume holding logical offset `off`, or null (a read-ahead's bound). */
  extentEnd(off: bigint): bigint | null {
    const v = this.volumeAt(off);
    return v ? v.offset + v.size : null;
  }

  close(): void {
    for (const v of this.list) v.dev.close();
  }
}
