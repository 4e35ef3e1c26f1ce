/**
 * `h2kit undo FILE DEVICE...`: put back the bytes a run saved in its undo file.
 *
 * The records are disjoint and each holds the bytes of its range as they were before the run,
 * so restoring is the same whatever was restored before: a crash during an undo is repaired
 * by running it again. Images a run grew are cut back to their old size last.
 */
import { NUM_VOLHDRS, UNDO_REC_DATA, UndoIdentity, UndoRecord, VOLUME_BYTES, ZONE_BYTES, hex64, uuidToString } from '../../format';
import { EXIT, H2Error, WritableDevice, WritableSource, deviceIdentity } from '../../engine';
import { UNDO_REFUSED, UndoFile, UndoFileContents } from './file';

/** A device undo writes: an image can be cut back to its old size. */
export type UndoTarget = WritableSource & { truncate?(size: bigint): void };

export interface UndoRunOptions {
  dryRun: boolean;
  /** restore even onto a device whose state the undo file does not fit */
  force: boolean;
  /** open the devices with this (tests record through it) */
  opener?: (path: string) => UndoTarget;
}

export type DeviceState = 'before' | 'after' | 'partial';

export interface UndoDeviceReport {
  path: string;
  /** the path the run wrote, as the undo file names it */
  recordedPath: string;
  /** as before the run, as the run left it, or between the two (a crash during the run or the undo) */
  state: DeviceState;
  /** why the device does not fit, when it does not (then only --force restores) */
  mismatches: string[];
  sizeBefore: bigint;
  sizeNow: bigint;
  fsid: string;
  mirrorTidBefore: bigint;
  headerCrcBefore: number;
  noHeaderBefore: boolean;
}

export interface UndoRange {
  device: number;
  offset: bigint;
  length: number;
  zeros: boolean;
}

export interface UndoReport {
  dryRun: boolean;
  file: string;
  command: string;
  completed: boolean;
  torn: boolean;
  devices: UndoDeviceReport[];
  ranges: UndoRange[];
  bytes: bigint;
  /** ranges written (those that already held their old bytes are skipped) */
  written: number;
  /** images cut back to their old size */
  truncated: string[];
}

function covered(ranges: UndoRecord[], dev: number, off: bigint, len: number): boolean {
  const end = off + BigInt(len);
  let at = off;
  // ranges of a device never overlap; sorted, they must tile [off, end)
  const mine = ranges.filter((r) => r.device === dev && r.offset < end && r.offset + BigInt(r.length) > off).sort((a, b) => (a.offset < b.offset ? -1 : 1));
  for (const r of mine) {
    if (r.offset > at) return false;
    const e = r.offset + BigInt(r.length);
    if (e > at) at = e;
  }
  return at >= end;
}

/**
 * How the device now compares with the states the undo file knows: each header copy must be
 * as before the run, as the run left it, or (when the run did not reach its end) one the run
 * may have written (its old bytes are in the file).
 */
function compare(c: UndoFileContents, i: number, now: UndoIdentity): { state: DeviceState; mismatches: string[] } {
  const pre = c.header.devices[i];
  const post = c.after?.[i] ?? null;
  const out: string[] = [];
  const sizeOk = now.size === pre.size || (post !== null && now.size === post.size) || (post === null && c.sizes[i].has(now.size));
  if (!sizeOk) out.push(`size ${now.size}, the undo file is for ${pre.size}${post && post.size !== pre.size ? ` or ${post.size}` : ''}`);
  let allPre = now.size === pre.size;
  let allPost = post !== null && now.size === post.size;
  for (let k = 0; k < NUM_VOLHDRS; k++) {
    const cur = now.copyDigests[k];
    const isPre = cur === pre.copyDigests[k];
    const isPost = post !== null && cur === post.copyDigests[k];
    allPre &&= isPre;
    allPost &&= isPost;
    if (isPre || isPost) continue;
    const at = BigInt(k) * ZONE_BYTES;
    // a copy past the old end goes with the growth undo cuts off
    if (at + BigInt(VOLUME_BYTES) > pre.size) continue;
    if (post === null && covered(c.ranges, i, at, VOLUME_BYTES)) continue;
    out.push(`header copy ${k} is neither as before the run nor as the run left it`);
  }
  return { state: allPre ? 'before' : allPost ? 'after' : 'partial', mismatches: out };
}

export function runUndo(file: string, devices: string[], opts: UndoRunOptions): UndoReport {
  const uf = UndoFile.open(file);
  try {
    const c = uf.contents();
    const n = c.header.devices.length;
    if (devices.length !== n) {
      throw new H2Error(`${file}: the run wrote ${n} device${n === 1 ? '' : 's'} (${c.header.note.paths.join(' ')}); give ${n}, in that order`, EXIT.USAGE);
    }
    const open = opts.opener ?? ((p: string) => WritableDevice.open(p, { purpose: 'undo' }));
    const devs: UndoTarget[] = [];
    try {
      for (const p of devices) devs.push(open(p));
      const reports = devs.map((d, i) => deviceReport(c, i, d, devices[i]));
      const bad = reports.filter((r) => r.mismatches.length > 0);
      if (bad.length > 0 && !opts.force) {
        const r = bad[0];
        throw new H2Error(`${r.path}: does not fit ${file} (${r.mismatches.join('; ')}); use --force to restore anyway`, UNDO_REFUSED);
      }
      const ranges = c.ranges.map((r) => ({ device: r.device, offset: r.offset, length: r.length, zeros: r.type !== UNDO_REC_DATA }));
      const report: UndoReport = {
        dryRun: opts.dryRun,
        file,
        command: c.header.note.command,
        completed: c.after !== null,
        torn: c.torn,
        devices: reports,
        ranges,
        bytes: ranges.reduce((s, r) => s + BigInt(r.length), 0n),
        written: 0,
        truncated: [],
      };
      if (!opts.dryRun) restore(uf, c, devs, report);
      return report;
    } finally {
      for (const d of devs) d.close();
    }
  } finally {
    uf.close();
  }
}

function deviceReport(c: UndoFileContents, i: number, d: UndoTarget, path: string): UndoDeviceReport {
  const pre = c.header.devices[i];
  const { state, mismatches } = compare(c, i, deviceIdentity(d));
  return {
    path,
    recordedPath: c.header.note.paths[i] ?? '',
    state,
    mismatches,
    sizeBefore: pre.size,
    sizeNow: d.size,
    fsid: pre.best >= 0 ? uuidToString(pre.fsid) : '',
    mirrorTidBefore: pre.mirrorTid,
    headerCrcBefore: pre.headerCrc,
    noHeaderBefore: pre.best < 0,
  };
}

const ZEROS = Buffer.alloc(1 << 20);

/** Every range back, a sync, then images cut back to their old size and synced again. */
function restore(uf: UndoFile, c: UndoFileContents, devs: UndoTarget[], report: UndoReport): void {
  for (const r of c.ranges) {
    const dev = devs[r.device];
    const limit = c.header.devices[r.device].size;
    if (r.offset >= limit) continue;
    const len = r.offset + BigInt(r.length) > limit ? Number(limit - r.offset) : r.length;
    const old = r.type === UNDO_REC_DATA ? uf.payload(r).subarray(0, len) : ZEROS.subarray(0, len);
    // what already holds its old bytes is left alone: a rerun writes nothing, and holes stay holes
    if (dev.read(r.offset, len).equals(old)) continue;
    dev.write(r.offset, old);
    report.written++;
  }
  for (const d of devs) d.fsync();
  devs.forEach((d, i) => {
    const want = c.header.devices[i].size;
    if (d.isBlockDevice || d.size === want) return;
    if (!d.truncate) throw new H2Error(`${d.path}: cannot be resized back to ${want} bytes`);
    d.truncate(want);
    d.fsync();
    report.truncated.push(d.path);
  });
}

/** The text report. */
export function renderUndo(r: UndoReport): string {
  let s = '';
  s += `undo file ${r.file}: ${r.command}${r.completed ? '' : ' (the run did not finish)'}\n`;
  for (const d of r.devices) {
    const hdr = d.noHeaderBefore ? 'no valid header before the run' : `fsid ${d.fsid}, mirror_tid 0x${hex64(d.mirrorTidBefore)}`;
    const state = d.state === 'before' ? 'as before the run' : d.state === 'after' ? 'as the run left it' : 'partly changed';
    s += `${d.path}: ${state}; ${hdr}, ${d.sizeBefore} bytes\n`;
    for (const m of d.mismatches) s += `${d.path}: does not fit: ${m}\n`;
  }
  if (r.dryRun) {
    for (const x of r.ranges) {
      s += `would restore ${r.devices[x.device].path} 0x${x.offset.toString(16)} ${x.length} bytes${x.zeros ? ' (zeros)' : ''}\n`;
    }
    for (const d of r.devices) if (d.sizeNow !== d.sizeBefore) s += `would cut ${d.path} back to ${d.sizeBefore} bytes\n`;
    s += `would restore ${r.ranges.length} ranges, ${r.bytes} bytes\n`;
  } else {
    s += `restored ${r.ranges.length} ranges, ${r.bytes} bytes (${r.written} written, the others held their old bytes already)\n`;
    for (const p of r.truncated) s += `${p}: cut back to its size before the run\n`;
  }
  return s;
}

export function undoJson(r: UndoReport): Record<string, unknown> {
  return {
    dry_run: r.dryRun,
    file: r.file,
    command: r.command,
    completed: r.completed,
    torn: r.torn,
    devices: r.devices.map((d) => ({
      path: d.path,
      recorded_path: d.recordedPath,
      state: d.state,
      mismatches: d.mismatches,
      size_before: d.sizeBefore,
      size_now: d.sizeNow,
      fsid: d.noHeaderBefore ? null : d.fsid,
      mirror_tid_before: d.noHeaderBefore ? null : d.mirrorTidBefore,
      header_crc_before: d.noHeaderBefore ? null : d.headerCrcBefore,
    })),
    ranges: r.ranges.map((x) => ({ device: x.device, offset: x.offset, length: x.length, zeros: x.zeros })),
    bytes: r.bytes,
    written: r.written,
    truncated: r.truncated,
  };
}
