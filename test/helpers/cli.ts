/** Running the built CLI (bin/run.js) as a user would. `npm test` builds dist/ first. */
import { SpawnSyncOptions, execFileSync, spawnSync } from 'node:child_process';
import { REF_DIR } from './reference';
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';

export const BIN = path.resolve(__dirname, '../../bin/run.js');

export interface CliResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * The environment of a CLI run. Jest sets NODE_ENV=test, and under it oclif would load
 * commands/*.ts through ts-node (seconds per run) instead of the built dist/ a user runs.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, TZ: 'UTC', NODE_ENV: 'production', ...extra };
}

export function h2kit(args: string[], opts: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: cliEnv(), timeout: 120000, maxBuffer: 1 << 30, ...opts });
  return { status: r.status, stdout: r.stdout as Buffer, stderr: (r.stderr as Buffer).toString('utf8') };
}

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `h2kit-${tag}-`));
}

/** A private, writable copy of a reference image, extracted sparse from its archive. */
export function freshImage(name: string, destDir: string): string {
  execFileSync('tar', ['-xzf', path.join(REF_DIR, `${name}.img.tar.gz`), '-C', destDir]);
  return path.join(destDir, `${name}.img`);
}

/** SHA-256 of a file, read in chunks (use on small files: hashing runs at ~100 MB/s). */
export function fileSha256(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 22);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Are two (large, sparse) files byte-identical? cmp compares holes at memory speed; without
 * cmp, compare in process.
 */
export function sameBytes(a: string, b: string): boolean {
  const r = spawnSync('cmp', ['-s', a, b]);
  if (r.status === 0 || r.status === 1) return r.status === 0;
  if (fs.statSync(a).size !== fs.statSync(b).size) return false;
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  const ba = Buffer.alloc(1 << 22);
  const bb = Buffer.alloc(1 << 22);
  try {
    for (let off = 0; ; off += ba.length) {
      const na = fs.readSync(fa, ba, 0, ba.length, off);
      const nb = fs.readSync(fb, bb, 0, bb.length, off);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/** `len` bytes of `file` at `off`. */
export function readAt(file: string, off: bigint, len: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(len);
    fs.readSync(fd, b, 0, len, Number(off));
    return b;
  } finally {
    fs.closeSync(fd);
  }
}
