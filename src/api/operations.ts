/**
 * Each h2kit job as one async function with an options object whose fields all have defaults
 * (the CLI's defaults), returning the job's report. The commands call these same functions.
 */
import { Writable } from 'node:stream';
import { EXIT, H2Error, OpenOptions, ReadSession, openReadOnly } from '../engine';
import { AUX_MAX_BYTES, BOOT_MAX_BYTES, VOLUME_ALIGN, VOL_VERSION_DEFAULT, initXxh64, uuidFromString } from '../format';
import { FsckResult, RepairMode, RepairResult, Answer, Problem, repairExitCode, runFsck, runRepair } from '../ops/fsck';
import { GivenParams, MkfsResult, PopulateProgress, checkSize, defaultTime, parseCheck, parseCompression, runMkfsWithRoot } from '../ops/mkfs';
import { DEFAULT_COMMIT_EVERY, DEFAULT_FILL_LEVEL, ITEM_TYPES, ItemType, ReblockReport, parseTypes, runReblock, BulkfreeReport, runBulkfree } from '../ops/reblock';
import { CleanupOptions, CleanupReport, runCleanup } from '../ops/cleanup/run';
import { DEFAULT_SHOW_OPTIONS, ShowResult, ShowWhich, TextSink, renderShow, showJson } from '../ops/dump';

// ---------------------------------------------------------------- mkfs

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

// ---------------------------------------------------------------- fsck

export interface FsckOptions {
  /** report only inside this PFS (the freemap pass stays volume-wide) */
  pfs?: string;
  /** pass number, work done, work expected (e2fsck -C style) */
  progress?: (pass: number, done: number, max: number) => void;
  /** check even while another h2kit process writes the device (default false: refused) */
  force?: boolean;
}

/**
 * Check read-only. `exitCode` is fsck(8)'s: 0 when only notes (severity 'info') were found,
 * 4 (FSCK_EXIT.UNCORRECTED) when errors or warnings were.
 */
export async function fsck(device: string, o: FsckOptions = {}): Promise<FsckResult> {
  return runFsck(device, { pfs: o.pfs, progress: o.progress, allowWriter: o.force });
}

export interface RepairOptions {
  /** 'yes' (default): repair everything repairable; 'preen': only what is safe unattended; 'ask': call `ask` */
  mode?: RepairMode;
  /** mode 'ask': the answer for one problem ('a' is yes to it and every later one) */
  ask?: (p: Problem) => Answer;
  pfs?: string;
  progress?: (pass: number, done: number, max: number) => void;
  /** DANGEROUS: keep blocks whose check code fails and recompute the code, instead of cutting them */
  rewriteCheckCodes?: boolean;
}

export interface RepairReport extends RepairResult {
  /** fsck(8)'s: 1 when something was corrected, | 4 when errors or warnings remain */
  exitCode: number;
}

/** Check and repair (fsck -y, -p, or asking per problem), in rounds until nothing is left to do. */
export async function repair(device: string, o: RepairOptions = {}): Promise<RepairReport> {
  const mode = o.mode ?? 'yes';
  if (mode === 'ask' && !o.ask) throw new H2Error("repair mode 'ask' needs an ask function", EXIT.USAGE);
  const r = await runRepair(device, { mode, ask: o.ask, pfs: o.pfs, progress: o.progress, rewriteCheckCodes: o.rewriteCheckCodes });
  return { ...r, exitCode: repairExitCode(r) };
}

// ---------------------------------------------------------------- reblock, bulkfree, cleanup

export interface ReblockOptions {
  /** move blocks out of 4 MiB segments less full than this percentage (default 95; 100 moves everything) */
  fillLevel?: number;
  /** what moves: a set or list of 'data', 'inodes', 'dirents', 'indirect', or a CLI-style 'data,inodes' (default all) */
  types?: Iterable<ItemType> | string;
  /** only the blocks of this PFS */
  pfs?: string;
  /** only these inodes and their blocks, inclusive */
  inums?: [bigint, bigint];
  /** stop at the first commit after this long; the report's resumeKey continues */
  timeLimitMs?: number;
  /** a resumeKey of an earlier run stopped by its time limit (give the same other options) */
  resume?: string;
  /** commit after moving this many bytes (default 256 MiB) */
  commitEveryBytes?: bigint;
  /** free space never used as a destination (default 0) */
  reserveBytes?: bigint;
  /** report the fragmentation and the expected result, write nothing (default false) */
  dryRun?: boolean;
  progress?: (movedBytes: bigint, plannedBytes: bigint) => void;
}

/** Compact and defragment offline. A report with `stopped: 'space'` is what the CLI exits 1 for. */
export async function reblock(device: string, o: ReblockOptions = {}): Promise<ReblockReport> {
  const types = o.types === undefined ? new Set(ITEM_TYPES) : typeof o.types === 'string' ? parseTypes(o.types) : new Set(o.types);
  for (const t of types) if (!ITEM_TYPES.includes(t)) throw new H2Error(`types: '${t}' is not one of ${ITEM_TYPES.join(', ')}`, EXIT.USAGE);
  return runReblock(device, {
    fillLevel: o.fillLevel ?? DEFAULT_FILL_LEVEL,
    types,
    pfs: o.pfs,
    inums: o.inums,
    timeLimitMs: o.timeLimitMs,
    resume: o.resume,
    commitEveryBytes: o.commitEveryBytes ?? DEFAULT_COMMIT_EVERY,
    reserveBytes: o.reserveBytes ?? 0n,
    dryRun: o.dryRun ?? false,
    progress: o.progress,
  });
}

/** Free every granule the freemap marks allocated that no block uses (the cleanup's first step). */
export async function bulkfree(device: string, o: { dryRun?: boolean } = {}): Promise<BulkfreeReport> {
  return runBulkfree(device, { dryRun: o.dryRun ?? false });
}

/** Routine maintenance: bulkfree, then reblock with the defaults and a time limit (default 5 minutes). */
export async function cleanup(device: string, o: CleanupOptions = {}): Promise<CleanupReport> {
  return runCleanup(device, o);
}

// ---------------------------------------------------------------- dump show / freemap / volhdr

export type DumpWhich = ShowWhich;

export interface DumpOptions {
  /** also read data blocks and verify their check codes (hammer2 -v) */
  verbose?: boolean;
  /** every volume header copy, not only the best */
  allHeaders?: boolean;
  /** with a device path: read it even while another h2kit process writes it */
  force?: boolean;
  /** where the tool's stderr lines (header copies passed over) go; default: dropped */
  diagnostics?: TextSink;
  /** dumpToStream: bytes per write to the stream (default 1 MiB) */
  chunkBytes?: number;
}

/** A device path (opened read-only and closed again) or a session the caller keeps open. */
export type DumpSource = string | ReadSession;

async function withSession<T>(src: DumpSource, opts: OpenOptions, fn: (s: ReadSession) => T): Promise<T> {
  if (typeof src !== 'string') {
    await initXxh64();
    return fn(src);
  }
  const s = await openReadOnly(src, opts);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

const showOpts = (o: DumpOptions) => ({ verbose: o.verbose ? 1 : 0, allHeaders: o.allHeaders ?? false });

/**
 * The text of `hammer2 show|freemap|volhdr`, byte for byte, to any sink with write(text).
 * Text is latin1 (one character per byte), so name bytes pass through unchanged.
 */
export async function dumpToSink(src: DumpSource, which: DumpWhich, out: TextSink, o: DumpOptions = {}): Promise<ShowResult> {
  return withSession(src, { allowWriter: o.force }, (s) => renderShow(s.vols, which, { ...DEFAULT_SHOW_OPTIONS, ...showOpts(o) }, out, o.diagnostics));
}

/** The dump as one string (latin1: one character per byte). */
export async function dumpText(src: DumpSource, which: DumpWhich, o: DumpOptions = {}): Promise<string> {
  const parts: string[] = [];
  await dumpToSink(src, which, { write: (t) => void parts.push(t) }, o);
  return parts.join('');
}

const STREAM_CHUNK = 1 << 20;

/**
 * The dump written to a Node stream as bytes, in chunks of `chunkBytes`; resolves once the stream has
 * taken the last chunk. The stream is not ended (pass process.stdout, or end a file stream
 * yourself). The rendering is synchronous: chunks wait in the stream's buffer until it drains.
 */
export async function dumpToStream(src: DumpSource, which: DumpWhich, out: Writable, o: DumpOptions = {}): Promise<ShowResult> {
  let parts: string[] = [];
  let size = 0;
  let last: Promise<void> = Promise.resolve();
  const flush = (): void => {
    if (size === 0) return;
    const buf = Buffer.from(parts.join(''), 'latin1');
    parts = [];
    size = 0;
    last = new Promise((resolve, reject) => out.write(buf, (e) => (e ? reject(e) : resolve())));
    // the last write's callback stands for all of them; earlier ones must not go unhandled
    last.catch(() => undefined);
  };
  const limit = Math.max(1, o.chunkBytes ?? STREAM_CHUNK);
  const sink: TextSink = {
    write: (t) => {
      parts.push(t);
      size += t.length;
      if (size >= limit) flush();
    },
  };
  const r = await dumpToSink(src, which, sink, o);
  flush();
  await last;
  return r;
}

/** The dump as the plain object the CLI's --json prints (before its envelope): 64-bit values are bigint. */
export async function dumpJson(src: DumpSource, which: DumpWhich, o: DumpOptions = {}): Promise<Record<string, unknown>> {
  return withSession(src, { allowWriter: o.force }, (s) => showJson(s, which, showOpts(o)));
}
