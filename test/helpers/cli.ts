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

export function h2kit(args: string[], opts: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, TZ: 'UTC' }, timeout: 120000, maxBuffer: 1 << 30, ...opts });
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

/** SHA-256 of a file of any size, read in chunks. */
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
