/**
 * mkfs: format image files or block devices as a new HAMMER2 filesystem, as newfs_hammer2
 * does, byte for byte given the same generated values.
 */
import * as fs from 'node:fs';
import { VOLUME_BYTES, ZONE_BYTES, initXxh64, uuidToString } from '../../format';
import { EXIT, H2Error, ReadOnlyDevice, UndoLog, UndoOptions, WritableDevice, WriteSession } from '../../engine';
import { Algorithms, PopulateProgress, PopulateSummary, populate } from './populate';
import { MeasuredTree, measureTree } from './estimate';
import { StoredAttrPolicy } from './source-tree';
import { sizeToStr } from '../common/cfmt';
import { NewFilesystem, buildFilesystem } from './build';
import { detectExisting, isHammer2Header } from './detect';
import { Layout, planLayout } from './layout';
import { GivenParams, MkfsParams, resolveParams } from './params';
import { StagedTarget } from './staged';
import { TargetDevice, WriteStats, invalidateHeaders, newWriteStats, writeFilesystem, writeHeaderCopies, writeLayout } from './write';

export * from './layout';
export * from './params';
export * from './sizes';
export * from './detect';
export { buildFilesystem } from './build';
export * from './populate';
export * from './source-tree';
export * from './estimate';

export interface RootOptions {
  dir: string;
  pfs: string;
  algos: Algorithms;
  skipUnreadable: boolean;
  progress?: PopulateProgress;
  /** store this atime instead of the source's (reproducible runs) */
  fixedAtime?: bigint;
  /** owner and time clamping of the copied inodes */
  attrs?: StoredAttrPolicy;
}

export interface MkfsOptions {
  devices: string[];
  /** -s: one size for all, or one per volume; also the size of image files to create */
  sizes: bigint[];
  version: number;
  labels: string[];
  bootSize?: bigint;
  auxSize?: bigint;
  params: GivenParams;
  force: boolean;
  dryRun: boolean;
  /** --size auto: the smallest size that holds --root with the documented margin */
  sizeAuto?: boolean;
  /** the size --size auto chose (an image size, not a -s limit) */
  autoSizeBytes?: bigint;
  root?: RootOptions;
  /** open the targets with this (the crash harness records through it); default WritableDevice */
  opener?: (path: string, createSize?: bigint) => MkfsTarget;
  /** --undo: save what the run overwrites on existing targets first */
  undo?: UndoOptions;
}

/** A device mkfs formats: writable, knows whether this run created it, and an image can grow. */
export interface MkfsTarget extends TargetDevice {
  truncate(size: bigint): void;
  close(): void;
}

export interface MkfsResult {
  layout: Layout;
  params: MkfsParams;
  dryRun: boolean;
  /** filesystems found on the targets (overwritten with --force, or reported in a dry run) */
  found: { path: string; what: string; offset: bigint }[];
  created: string[];
  stats: WriteStats;
  /** with --root: what was copied, and the space it was estimated to need */
  populated?: PopulateSummary & { needed: bigint };
}

/** The size a missing image file is created with, or null when it exists. */
function createSizeFor(opts: MkfsOptions, i: number): bigint | null {
  if (fs.existsSync(opts.devices[i])) return null;
  if (opts.autoSizeBytes !== undefined) return opts.autoSizeBytes;
  if (opts.sizes.length === 0) {
    throw new H2Error(`${opts.devices[i]}: no such file; give --size to create an image`, EXIT.CANNOT_OPEN);
  }
  if (opts.sizes.length === opts.devices.length) return opts.sizes[i];
  if (opts.devices.length === 1) return opts.sizes[0];
  throw new H2Error(`${opts.devices[i]}: no such file; give one --size per volume to create images`, EXIT.USAGE);
}

function sizeOf(path: string): bigint {
  const dev = ReadOnlyDevice.open(path);
  try {
    return dev.size;
  } finally {
    dev.close();
  }
}

function refuse(found: MkfsResult['found']): H2Error {
  const list = found.map((f) => `${f.what} on ${f.path} at 0x${f.offset.toString(16)}`).join('; ');
  return new H2Error(`refusing to overwrite existing data (${list}); use --force to format anyway`, EXIT.REFUSED);
}

function layoutInput(opts: MkfsOptions, sizes: bigint[]) {
  return {
    devices: opts.devices.map((path, i) => ({ path, size: sizes[i] })),
    sizes: opts.sizes,
    version: opts.version,
    labels: opts.labels,
    bootSize: opts.bootSize,
    auxSize: opts.auxSize,
  };
}

/** The size each volume will have: a file to create, an image to grow, or the device as it is. */
function intendedSizes(opts: MkfsOptions, createSizes: (bigint | null)[]): bigint[] {
  return opts.devices.map((p, i) => {
    if (createSizes[i] !== null) return createSizes[i]!;
    const current = sizeOf(p);
    const want = growSizeFor(opts, i);
    return !isBlockDevice(p) && want !== undefined && current < want ? want : current;
  });
}

function growSizeFor(opts: MkfsOptions, i: number): bigint | undefined {
  if (opts.autoSizeBytes !== undefined) return opts.autoSizeBytes;
  if (opts.sizes.length === opts.devices.length) return opts.sizes[i];
  return opts.devices.length === 1 ? opts.sizes[0] : undefined;
}

function isBlockDevice(p: string): boolean {
  const st = fs.statSync(p);
  return st.isBlockDevice() || st.isCharacterDevice();
}

/** Margin --size auto leaves above the estimated need: a quarter, so the tree can grow a little. */
export const AUTO_SIZE_MARGIN_PERCENT = 25n;

/** The smallest valid single-volume size whose free space holds `needed` plus the margin. */
export function autoSize(opts: MkfsOptions, needed: bigint): bigint {
  const want = needed + (needed * AUTO_SIZE_MARGIN_PERCENT) / 100n;
  let size = 64n << 20n;
  for (;;) {
    try {
      const l = planLayout({ ...layoutInput(opts, [size]), sizes: [] });
      if (l.freeSize >= want) return size;
    } catch {
      // too small for the fixed areas: grow
    }
    size += size < 1n << 30n ? 8n << 20n : size / 16n - ((size / 16n) % (8n << 20n));
  }
}

interface Plan {
  opts: MkfsOptions;
  /** the --root tree as measured before anything is written */
  scan: MeasuredTree | null;
  needed: bigint;
  createSizes: (bigint | null)[];
  planned: Layout;
}

/** Every rule is checked, and the tree measured, before anything is created or opened for writing. */
function plan(opts: MkfsOptions): Plan {
  const scan = opts.root ? measureTree(opts.root.dir, opts.root.skipUnreadable) : null;
  const needed = scan ? scan.needed : 0n;
  if (opts.sizeAuto) {
    if (!scan) throw new H2Error('--size auto needs --root', EXIT.USAGE);
    if (opts.devices.length !== 1) throw new H2Error('--size auto formats one volume', EXIT.USAGE);
    opts = { ...opts, autoSizeBytes: autoSize(opts, needed) };
  }
  const createSizes = opts.devices.map((_, i) => createSizeFor(opts, i));
  const planned = planLayout(layoutInput(opts, intendedSizes(opts, createSizes)));
  if (opts.root && !planned.labels.includes(opts.root.pfs)) {
    throw new H2Error(`--pfs ${opts.root.pfs}: not among the PFSs made (${planned.labels.join(', ')})`, EXIT.USAGE);
  }
  if (scan && needed > planned.freeSize) {
    throw new H2Error(
      `the tree does not fit: it needs about ${sizeToStr(needed).trim()} (${needed} bytes), the filesystem has ${sizeToStr(planned.freeSize).trim()} (${planned.freeSize} bytes) free`,
      EXIT.USAGE,
    );
  }
  return { opts, scan, needed, createSizes, planned };
}

function dryRunResult(p: Plan): MkfsResult {
  const found: MkfsResult['found'] = [];
  p.opts.devices.forEach((path, i) => {
    if (p.createSizes[i] !== null) return;
    const dev = ReadOnlyDevice.open(path);
    try {
      for (const f of detectExisting(dev)) found.push({ path, ...f });
    } finally {
      dev.close();
    }
  });
  return {
    layout: p.planned,
    params: resolveParams(p.opts.params, p.planned.labels),
    dryRun: true,
    found,
    created: [],
    stats: newWriteStats(),
    populated: p.scan ? { ...emptySummary(p.scan), needed: p.needed } : undefined,
  };
}

/** The open targets of a run, what they held, and the new filesystem planned over them. */
interface Targets {
  devs: MkfsTarget[];
  found: MkfsResult['found'];
  layout: Layout;
  params: MkfsParams;
  image: NewFilesystem;
  stats: WriteStats;
  undo: UndoLog | null;
}

/**
 * Open every target, refuse what holds data unless --force, grow image files, plan over the
 * real sizes. With --force over a HAMMER2 filesystem its header copies are made invalid (and
 * synced) before anything else is written. Closes what it opened when it fails.
 */
function openTargets(p: Plan): Targets {
  const { opts } = p;
  const open = opts.opener ?? ((path: string, createSize?: bigint) => WritableDevice.open(path, { createSize, purpose: 'mkfs' }));
  const devs: MkfsTarget[] = [];
  let undo: UndoLog | null = null;
  const missing = opts.devices.filter((_, i) => p.createSizes[i] !== null);
  if (opts.undo && missing.length > 0) {
    throw new H2Error(`--undo: ${missing.join(', ')} does not exist: an image mkfs creates has no old contents to save`, EXIT.USAGE);
  }
  try {
    opts.devices.forEach((path, i) => devs.push(open(path, p.createSizes[i] ?? undefined)));
    const found: MkfsResult['found'] = [];
    devs.forEach((d) => {
      if (d.created) return;
      for (const f of detectExisting(d)) found.push({ path: d.path, ...f });
    });
    if (found.length > 0 && !opts.force) throw refuse(found);
    if (opts.undo) {
      // from here on every write (and the growth of an image) is saved to the undo file first
      undo = new UndoLog(opts.undo, 'mkfs');
      devs.splice(0, devs.length, ...undo.attach(devs));
    }
    devs.forEach((d, i) => {
      // An existing image smaller than the size asked for grows (as holes).
      const want = growSizeFor(opts, i);
      if (!d.isBlockDevice && want !== undefined && d.size < want) d.truncate(want);
    });
    const layout = planLayout(layoutInput(opts, devs.map((d) => d.size)));
    const params = resolveParams(opts.params, layout.labels);
    const image = buildFilesystem(layout, params);
    const stats = newWriteStats();
    const hadHammer2 = new Set(found.filter(isHammer2Header).map((f) => f.path));
    if (hadHammer2.size > 0) invalidateHeaders(devs.filter((d) => hadHammer2.has(d.path)), stats);
    return { devs, found, layout, params, image, stats, undo };
  } catch (e) {
    closeTargets(devs, false, undo);
    throw e;
  }
}

/** Close the targets; an image file this run created and did not finish holds no filesystem and goes. */
function closeTargets(devs: MkfsTarget[], finished: boolean, undo: UndoLog | null = null): void {
  try {
    undo?.finish();
  } finally {
    for (const d of devs) d.close();
  }
  if (!finished) for (const d of devs) if (d.created) fs.rmSync(d.path, { force: true });
}

function resultOf(p: Plan, t: Targets): MkfsResult {
  return {
    layout: t.layout,
    params: t.params,
    dryRun: false,
    found: t.found,
    created: t.devs.filter((d) => d.created).map((d) => d.path),
    stats: t.stats,
    populated: p.scan ? { ...emptySummary(p.scan), needed: p.needed } : undefined,
  };
}

/** mkfs without --root (or a dry run of either): newfs_hammer2's job. */
export function runMkfs(opts: MkfsOptions): MkfsResult {
  const p = plan(opts);
  if (opts.dryRun) return dryRunResult(p);
  if (opts.root) throw new H2Error('mkfs --root runs through runMkfsWithRoot');
  const t = openTargets(p);
  let finished = false;
  try {
    writeFilesystem(t.layout, t.image, t.devs, t.stats);
    finished = true;
    return resultOf(p, t);
  } finally {
    closeTargets(t.devs, finished, t.undo);
  }
}

function emptySummary(scan: MeasuredTree): PopulateSummary {
  return { files: 0, directories: 0, symlinks: 0, others: 0, hardlinks: 0, bytesIn: 0n, bytesStored: 0n, skipped: scan.skipped };
}

/**
 * mkfs, then (with --root) copy the tree in: layout and population in one commit, the headers
 * last. The engine's session starts from the new headers as staged in memory (StagedTarget);
 * the commit writes one header copy, then the other copies get the same bytes. Until that
 * first copy is synced no valid header exists on the targets, so an interrupted run leaves
 * no filesystem (and a rerun needs no --force), and a finished header names a complete one.
 */
export async function runMkfsWithRoot(opts: MkfsOptions): Promise<MkfsResult> {
  await initXxh64();
  if (!opts.root || opts.dryRun) return runMkfs(opts);
  const root = opts.root;
  const p = plan(opts);
  const t = openTargets(p);
  const { devs, image, stats } = t;
  let finished = false;
  try {
    writeLayout(t.layout, image, devs, stats);
    const staged = new Map<string, StagedTarget>();
    image.headers.forEach((h) => staged.set(opts.devices[h.volume], new StagedTarget(devs[h.volume], h.bytes, h.copies, stats)));
    const session = await WriteSession.open(opts.devices.join(':'), { purpose: 'mkfs --root', opener: (path) => staged.get(path)! });
    let summary: PopulateSummary;
    try {
      summary = populate(session, root.pfs, { dir: root.dir, skipUnreadable: root.skipUnreadable, attrs: root.attrs, links: p.scan!.links }, root.algos, root.progress, root.fixedAtime);
      // The other volumes' headers do not change with the population; they must be on the
      // media (synced by the commit) before the root volume's header makes the set valid.
      for (const h of image.headers) if (h.volume !== 0) writeHeaderCopies(devs[h.volume], h.bytes, h.copies, stats);
      const c = session.commit();
      // a valid header is on the media now: whatever follows, the file holds the filesystem
      finished = true;
      const at = BigInt(c.headerCopy) * ZONE_BYTES;
      const committed = devs[0].read(at, VOLUME_BYTES);
      writeHeaderCopies(devs[0], committed, image.headers[0].copies.filter((x) => x !== at), stats);
      for (const d of devs) d.fsync();
    } finally {
      session.close();
    }
    return { ...resultOf(p, t), populated: { ...summary, needed: p.needed } };
  } finally {
    closeTargets(devs, finished, t.undo);
  }
}

const RULE = '---------------------------------------------';

/** The summary, in newfs_hammer2's words. */
export function renderMkfsSummary(r: MkfsResult): string {
  const { layout: l, params: p } = r;
  const bytes = (v: bigint): string => `${sizeToStr(v)} (${v} bytes)`;
  let s = '';
  for (const v of l.volumes) s += `Volume ${v.path.padEnd(15)} size ${sizeToStr(v.size)}\n`;
  s += `${RULE}\n`;
  s += `version:          ${l.version}\n`;
  s += `total-size:       ${bytes(l.totalSize)}\n`;
  s += `boot-area-size:   ${bytes(l.bootSize)}\n`;
  s += `aux-area-size:    ${bytes(l.auxSize)}\n`;
  s += `topo-reserved:    ${bytes(l.reservedSize)}\n`;
  s += `free-size:        ${bytes(l.freeSize)}\n`;
  s += `vol-fsid:         ${uuidToString(p.volFsid)}\n`;
  s += `sup-clid:         ${uuidToString(p.supClid)}\n`;
  s += `sup-fsid:         ${uuidToString(p.supFsid)}\n`;
  for (const label of l.labels) {
    const ids = p.pfs.get(label)!;
    s += `PFS "${label}"\n    clid ${uuidToString(ids.clid)}\n    fsid ${uuidToString(ids.fsid)}\n`;
  }
  return s;
}

/** The --root part of the summary. */
export function renderPopulateSummary(r: MkfsResult): string {
  const p = r.populated;
  if (!p) return '';
  if (r.dryRun) return `would copy a tree needing about ${sizeToStr(p.needed).trim()}\n`;
  const ratio = p.bytesStored > 0n ? Number((p.bytesIn * 1000n) / p.bytesStored) / 1000 : 0;
  let s = `${RULE}\n`;
  s += `files:            ${p.files}\n`;
  s += `directories:      ${p.directories}\n`;
  s += `symlinks:         ${p.symlinks}\n`;
  s += `other nodes:      ${p.others}\n`;
  s += `hardlinks:        ${p.hardlinks}\n`;
  s += `bytes in files:   ${sizeToStr(p.bytesIn)} (${p.bytesIn} bytes)\n`;
  s += `bytes stored:     ${sizeToStr(p.bytesStored)} (${p.bytesStored} bytes)\n`;
  s += `compression:      ${ratio ? ratio.toFixed(2) + ':1' : '-'}\n`;
  for (const k of p.skipped) s += `skipped:          ${k.path} (${k.reason})\n`;
  return s;
}

export function mkfsJson(r: MkfsResult): Record<string, unknown> {
  const { layout: l, params: p } = r;
  return {
    dry_run: r.dryRun,
    version: l.version,
    volumes: l.volumes.map((v) => ({ id: v.id, path: v.path, offset: v.offset, size: v.size, header_copies: v.headerCopies })),
    total_size: l.totalSize,
    boot_area: { offset: l.bootBase, size: l.bootSize },
    aux_area: { offset: l.auxBase, size: l.auxSize },
    topo_reserved: l.reservedSize,
    free_size: l.freeSize,
    allocator_beg: l.allocBase,
    vol_fsid: uuidToString(p.volFsid),
    sup_clid: uuidToString(p.supClid),
    sup_fsid: uuidToString(p.supFsid),
    pfs: l.labels.map((label) => ({ label, clid: uuidToString(p.pfs.get(label)!.clid), fsid: uuidToString(p.pfs.get(label)!.fsid) })),
    uuid_seed: p.seed,
    time_usec: p.time,
    atime_usec: p.atime,
    existing: r.found,
    created: r.created,
    bytes_written: r.stats.bytesWritten,
    root: r.populated
      ? {
          files: r.populated.files,
          directories: r.populated.directories,
          symlinks: r.populated.symlinks,
          other_nodes: r.populated.others,
          hardlinks: r.populated.hardlinks,
          bytes_in: r.populated.bytesIn,
          bytes_stored: r.populated.bytesStored,
          estimated_need: r.populated.needed,
          skipped: r.populated.skipped,
        }
      : undefined,
  };
}

