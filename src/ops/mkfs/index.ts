/**
 * mkfs: format image files or block devices as a new HAMMER2 filesystem, as newfs_hammer2
 * does, byte for byte given the same generated values.
 */
import * as fs from 'node:fs';
import { uuidToString } from '../../format';
import { EXIT, H2Error, ReadOnlyDevice, WritableDevice, WriteSession } from '../../engine';
import { Algorithms, PopulateProgress, PopulateSummary, estimateSpace, populate } from './populate';
import { ScanResult, scanTree } from './source-tree';
import { sizeToStr } from '../common/cfmt';
import { buildFilesystem } from './build';
import { Found, detectExisting } from './detect';
import { Layout, planLayout } from './layout';
import { GivenParams, MkfsParams, resolveParams } from './params';
import { TargetDevice, WriteStats, writeFilesystem } from './write';

export * from './layout';
export * from './params';
export * from './sizes';
export * from './detect';
export { buildFilesystem } from './build';
export * from './populate';
export * from './source-tree';

export interface RootOptions {
  dir: string;
  pfs: string;
  algos: Algorithms;
  skipUnreadable: boolean;
  progress?: PopulateProgress;
  /** store this atime instead of the source's (reproducible runs) */
  fixedAtime?: bigint;
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

export function runMkfs(opts: MkfsOptions): MkfsResult {
  const scan = opts.root ? scanTree(opts.root.dir, opts.root.skipUnreadable) : null;
  const needed = scan ? estimateSpace(scan) : 0n;
  if (opts.sizeAuto) {
    if (!scan) throw new H2Error('--size auto needs --root', EXIT.USAGE);
    if (opts.devices.length !== 1) throw new H2Error('--size auto formats one volume', EXIT.USAGE);
    opts = { ...opts, autoSizeBytes: autoSize(opts, needed) };
  }
  const createSizes = opts.devices.map((_, i) => createSizeFor(opts, i));
  // Every rule is checked before anything is created or opened for writing.
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

  if (opts.dryRun) {
    const found: MkfsResult['found'] = [];
    opts.devices.forEach((p, i) => {
      if (createSizes[i] !== null) return;
      const dev = ReadOnlyDevice.open(p);
      try {
        for (const f of detectExisting(dev)) found.push({ path: p, ...f });
      } finally {
        dev.close();
      }
    });
    return {
      layout: planned,
      params: resolveParams(opts.params, planned.labels),
      dryRun: true,
      found,
      created: [],
      stats: { bytesWritten: 0, writes: 0 },
      populated: scan ? { ...emptySummary(scan), needed } : undefined,
    };
  }

  const devs: (WritableDevice & TargetDevice)[] = [];
  try {
    opts.devices.forEach((p, i) => {
      devs.push(WritableDevice.open(p, { createSize: createSizes[i] ?? undefined, purpose: 'mkfs' }));
    });
    const found: MkfsResult['found'] = [];
    devs.forEach((d) => {
      if (d.created) return;
      for (const f of detectExisting(d) as Found[]) found.push({ path: d.path, ...f });
    });
    if (found.length > 0 && !opts.force) throw refuse(found);
    devs.forEach((d, i) => {
      // An existing image smaller than the size asked for grows (as holes).
      const want = growSizeFor(opts, i);
      if (!d.isBlockDevice && want !== undefined && d.size < want) d.truncate(want);
    });
    const layout = planLayout(layoutInput(opts, devs.map((d) => d.size)));
    const params = resolveParams(opts.params, layout.labels);
    const image = buildFilesystem(layout, params);
    const stats = writeFilesystem(layout, image, devs);
    return { layout, params, dryRun: false, found, created: devs.filter((d) => d.created).map((d) => d.path), stats, populated: scan ? { ...emptySummary(scan), needed } : undefined };
  } finally {
    for (const d of devs) d.close();
  }
}

function emptySummary(scan: ScanResult): PopulateSummary {
  return { files: 0, directories: 0, symlinks: 0, others: 0, hardlinks: 0, bytesIn: 0n, bytesStored: 0n, skipped: scan.skipped };
}

/** mkfs, then (with --root) copy the tree in, in one commit. */
export async function runMkfsWithRoot(opts: MkfsOptions): Promise<MkfsResult> {
  const result = runMkfs(opts);
  if (!opts.root || result.dryRun) return result;
  const session = await WriteSession.open(opts.devices.join(':'), { purpose: 'mkfs --root' });
  try {
    const scan = scanTree(opts.root.dir, opts.root.skipUnreadable);
    const summary = populate(session, opts.root.pfs, scan, opts.root.algos, opts.root.progress, opts.root.fixedAtime);
    session.commit();
    result.populated = { ...summary, needed: result.populated!.needed };
  } finally {
    session.close();
  }
  return result;
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

