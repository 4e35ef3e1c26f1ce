/** mkfs as a library call: newfs_hammer2's job, and with a tree the makefs job. */
import { EXIT, H2Error } from '../engine';
import { AUX_MAX_BYTES, BOOT_MAX_BYTES, VOLUME_ALIGN, VOL_VERSION_DEFAULT, uuidFromString } from '../format';
import { GivenParams, MkfsResult, PopulateProgress, checkSize, defaultTime, parseCheck, parseCompression, runMkfsWithRoot } from '../ops/mkfs';

/** A UUID as printed ("xxxxxxxx-xxxx-...") or as its 16 bytes. */
export type UuidInput = string | Uint8Array;

export interface MkfsRootOptions {
  /** the directory tree to copy in */
  dir: string;
  /** the PFS it fills (default 'DATA') */
  pfs?: string;
  /** 'none', 'autozero', 'lz4' (default) or 'zlib[:level]' */
  compression?: string;
  /** 'none', 'disabled', 'crc32', 'xxhash64' (default) or 'sha192' */
  check?: string;
  /** leave out files that cannot be read instead of failing (default false; they are listed) */
  skipUnreadable?: boolean;
  progress?: PopulateProgress;
}

export interface MkfsOptions {
  /** the image files or block devices; several make one multi-volume filesystem */
  devices: string | string[];
  /**
   * Bytes: one size for all volumes or one per volume; missing image files are created (sparse)
   * at this size. 'auto' (with root): the smallest size that holds the tree with a margin.
   * Default: the devices' own sizes.
   */
  size?: bigint | bigint[] | 'auto';
  /** volume version, 1 or 2 (default 2) */
  version?: number;
  /** PFS labels besides LOCAL (default ['DATA']; ['none'] for LOCAL only) */
  labels?: string[];
  /** boot and aux area sizes in bytes (default: scaled with the filesystem) */
  bootSize?: bigint;
  auxSize?: bigint;
  /** fixed ids and times instead of random ids and the clock (reproducible images) */
  fsid?: UuidInput;
  supClid?: UuidInput;
  supFsid?: UuidInput;
  pfsIds?: Record<string, { clid?: UuidInput; fsid?: UuidInput }>;
  /** inode times, microseconds since 1970 (default: now, or SOURCE_DATE_EPOCH) */
  time?: bigint;
  /** format over an existing filesystem or partition table (default false: refused) */
  force?: boolean;
  /** plan and report, write nothing (default false) */
  dryRun?: boolean;
  /** copy a directory tree in (the makefs job); a string is the directory, with defaults */
  root?: string | MkfsRootOptions;
}

const uuid = (v: UuidInput | undefined, what: string): Uint8Array | undefined => {
  if (v === undefined || v instanceof Uint8Array) return v;
  try {
    return uuidFromString(v);
  } catch {
    throw new H2Error(`${what}: '${v}' is not a UUID`, EXIT.USAGE);
  }
};

function givenParams(o: MkfsOptions): GivenParams {
  const pfs = new Map<string, { clid?: Uint8Array; fsid?: Uint8Array }>();
  for (const [label, ids] of Object.entries(o.pfsIds ?? {})) {
    pfs.set(label, { clid: uuid(ids.clid, `pfsIds.${label}.clid`), fsid: uuid(ids.fsid, `pfsIds.${label}.fsid`) });
  }
  return { volFsid: uuid(o.fsid, 'fsid'), supClid: uuid(o.supClid, 'supClid'), supFsid: uuid(o.supFsid, 'supFsid'), pfs, time: o.time };
}

/** Format (and with `root`, populate) a new HAMMER2 filesystem: newfs_hammer2's and makefs's job. */
export async function mkfs(o: MkfsOptions): Promise<MkfsResult> {
  const devices = typeof o.devices === 'string' ? [o.devices] : o.devices;
  if (devices.length === 0) throw new H2Error('give at least one image file or device', EXIT.USAGE);
  const sizeAuto = o.size === 'auto';
  const sizes = o.size === undefined || o.size === 'auto' ? [] : typeof o.size === 'bigint' ? [o.size] : o.size;
  const area = (v: bigint | undefined, what: string, max: bigint): bigint | undefined =>
    v === undefined ? undefined : checkSize(v, what, String(v), { max, align: VOLUME_ALIGN });
  const root = typeof o.root === 'string' ? { dir: o.root } : o.root;
  return runMkfsWithRoot({
    devices,
    sizes,
    version: o.version ?? VOL_VERSION_DEFAULT,
    labels: o.labels ?? [],
    bootSize: area(o.bootSize, 'bootSize', BOOT_MAX_BYTES),
    auxSize: area(o.auxSize, 'auxSize', AUX_MAX_BYTES),
    params: givenParams(o),
    force: o.force ?? false,
    dryRun: o.dryRun ?? false,
    sizeAuto,
    root: root
      ? {
          dir: root.dir,
          pfs: root.pfs ?? 'DATA',
          algos: { comp: parseCompression(root.compression ?? 'lz4'), check: parseCheck(root.check ?? 'xxhash64') },
          skipUnreadable: root.skipUnreadable ?? false,
          // reading the tree moves its atimes: a reproducible run stores SOURCE_DATE_EPOCH
          fixedAtime: process.env.SOURCE_DATE_EPOCH ? defaultTime() : undefined,
          progress: root.progress,
        }
      : undefined,
  });
}
