/**
 * Running the DragonFly tools (found through H2KIT_DF_BIN) and h2kit's CLI, each with a timeout,
 * keeping every output in the case's folder so that a kept failure can be read later.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DF_TOOLS = ['fsck_hammer2', 'hammer2', 'makefs'] as const;
/** This checkout's CLI, or another build's `bin/run.js` named by H2KIT_INTEROP_H2KIT. */
export const H2KIT_BIN = process.env.H2KIT_INTEROP_H2KIT ?? path.resolve(__dirname, '../../bin/run.js');

/** Long enough for the largest image of a default run on a loaded 2-core machine. */
const DF_TIMEOUT_MS = 180_000;
const H2KIT_TIMEOUT_MS = 600_000;

export interface Run {
  /** exit status, or null when killed by a signal */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  out: string;
}

/** Where the tools are, or why they cannot be used (one line). */
export function findTools(): { dir: string } | { problem: string } {
  const dir = process.env.H2KIT_DF_BIN;
  if (!dir) return { problem: 'H2KIT_DF_BIN is not set: point it at a folder holding fsck_hammer2, hammer2 and makefs (see docs/interop.md)' };
  const missing = DF_TOOLS.filter((t) => {
    try {
      fs.accessSync(path.join(dir, t), fs.constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) return { problem: `H2KIT_DF_BIN=${dir} lacks ${missing.join(', ')}` };
  return { dir };
}

function run(cmd: string, args: string[], cwd: string, log: string, timeout: number): Run {
  fs.writeFileSync(log, `$ ${path.basename(cmd)} ${args.join(' ')}\n`);
  const head = fs.statSync(log).size;
  // stdout and stderr share the log's descriptor, so the bytes keep the order they came in
  const fd = fs.openSync(log, 'a');
  let r: ReturnType<typeof spawnSync>;
  const t0 = Date.now();
  try {
    r = spawnSync(cmd, args, {
      cwd,
      timeout,
      killSignal: 'SIGKILL',
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  const out = fs.readFileSync(log).subarray(head).toString('latin1');
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  fs.appendFileSync(log, `\nexit status: ${r.status ?? `signal ${r.signal}`}${timedOut ? ' (timed out)' : ''} after ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  return { status: r.status, signal: r.signal, timedOut, out };
}

/** A one-line account of how a run ended badly, or null when it exited 0. */
/** Tool output fit for a one-line reason: printable ASCII only, bounded. */
export function clip(s: string, n = 160): string {
  const t = s.trim().replace(/[^\x20-\x7e]/g, '?');
  // keep both ends: error messages put the path first and the reason last
  return t.length <= n ? t : `${t.slice(0, n / 2 - 2)} .. ${t.slice(t.length - n / 2 + 2)}`;
}

export function badEnd(r: Run, what: string): string | null {
  if (r.timedOut) return `${what} timed out`;
  if (r.signal) {
    const last = r.out.trim().split('\n').filter((l) => l.trim()).slice(-1)[0] ?? '';
    return `${what} killed by ${r.signal}${last ? ` (${clip(last)})` : ''}`;
  }
  if (r.status !== 0) {
    const errLine = r.out.split('\n').find((l) => /error|fail|abort|panic|assert/i.test(l)) ?? r.out.trim().split('\n').slice(-1)[0] ?? '';
    return `${what} exit ${r.status}${errLine ? ` (${clip(errLine)})` : ''}`;
  }
  return null;
}

export class Tools {
  constructor(readonly dir: string) {}

  private df(tool: string, args: string[], cwd: string, log: string): Run {
    return run(path.join(this.dir, tool), args, cwd, log, DF_TIMEOUT_MS);
  }

  fsck(img: string, cwd: string, log: string): Run {
    return this.df('fsck_hammer2', [img], cwd, log);
  }

  show(img: string, cwd: string, log: string): Run {
    return this.df('hammer2', ['-v', 'show', img], cwd, log);
  }

  /** makefs's offline read: the PFS `label` of `img`, from its root, into `outDir`. */
  readBack(img: string, outDir: string, label: string, cwd: string, log: string): Run {
    return this.df('makefs', ['-t', 'hammer2', '-o', `m=${label}`, '-o', 'R=/', img, outDir], cwd, log);
  }

  /** makefs's offline bulkfree ('__' stands for "no source directory"). */
  bulkfree(img: string, label: string, cwd: string, log: string): Run {
    return this.df('makefs', ['-t', 'hammer2', '-o', `m=${label}`, '-o', 'B', img, '__'], cwd, log);
  }

  /** The kernel's writer: a new image from `srcDir`, of makefs's default size (8 GiB for small trees, sparse). */
  makefs(img: string, srcDir: string, opts: string[], cwd: string, log: string): Run {
    return this.df('makefs', ['-t', 'hammer2', ...opts.flatMap((o) => ['-o', o]), img, srcDir], cwd, log);
  }
}

export function h2kit(args: string[], cwd: string, log: string): Run {
  return run(process.execPath, [H2KIT_BIN, ...args], cwd, log, H2KIT_TIMEOUT_MS);
}

/**
 * Failed check codes in `hammer2 -v show` output. The tool prints `(<method> ... failed)` in
 * place of a blockref's check value when the media does not match it, `(media read failed)` when
 * a block cannot be read, `(bad block size N)` for an impossible radix, and `FAILED` after a
 * volume header CRC that does not match.
 */
export function showFailures(out: string): string[] {
  return out.split('\n').filter((l) => /\((icrc|xxhash64|sha192|fcrc) [^)]*failed\)|\(media read failed\)|\(bad block size|FAILED/.test(l));
}
