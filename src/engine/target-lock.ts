/**
 * One writer per target. A lock file named after the target's identity (device number for a
 * block device, device and inode for an image file) is created exclusively in a shared lock
 * folder and records the holder's pid, its start time and what it is doing. A lock whose
 * holder no longer runs (killed, crashed) is stale and is taken over, so nothing a dead
 * process left behind blocks the next run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CannotOpenError } from './errors';

export const LOCK_DIR = process.env.H2KIT_LOCK_DIR ?? path.join(os.tmpdir(), 'h2kit-locks');

interface LockInfo {
  pid: number;
  start: string;
  purpose: string;
  path: string;
  since: string;
}

/** The process's start time from /proc (guards against a recycled pid); '' where unknown. */
function startTimeOf(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function alive(info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = startTimeOf(info.pid);
  return !(start && info.start && start !== info.start);
}

const lockKey = (st: fs.Stats): string => (st.isBlockDevice() || st.isCharacterDevice() ? `rdev-${st.rdev}` : `file-${st.dev}-${st.ino}`);

export interface WriterInfo {
  pid: number;
  purpose: string;
  since: string;
}

/** The h2kit process (other than this one) writing the target now, if any. */
export function writerOf(st: fs.Stats): WriterInfo | null {
  let info: LockInfo;
  try {
    info = JSON.parse(fs.readFileSync(path.join(LOCK_DIR, `${lockKey(st)}.lock`), 'utf8')) as LockInfo;
  } catch {
    return null;
  }
  if (info.pid === process.pid || !alive(info)) return null;
  return { pid: info.pid, purpose: info.purpose, since: info.since };
}

export class TargetLock {
  private held = true;
  private readonly onExit = (): void => this.release();

  private constructor(readonly file: string) {
    process.once('exit', this.onExit);
  }

  static acquire(target: string, st: fs.Stats, purpose: string): TargetLock {
    const key = lockKey(st);
    if (!fs.existsSync(LOCK_DIR)) {
      fs.mkdirSync(LOCK_DIR, { recursive: true });
      // shared by every user, like /tmp itself (the umask would narrow the mode given to mkdir)
      try {
        fs.chmodSync(LOCK_DIR, 0o1777);
      } catch {
        // another user's folder: it is theirs to set
      }
    }
    const file = path.join(LOCK_DIR, `${key}.lock`);
    const mine: LockInfo = { pid: process.pid, start: startTimeOf(process.pid), purpose, path: target, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(mine), { flag: 'wx', mode: 0o644 });
        return new TargetLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new CannotOpenError(`${target}: cannot create lock ${file}: ${(e as Error).message}`);
        }
      }
      let holder: LockInfo | null = null;
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
      } catch {
        holder = null; // half-written or vanished: treat as stale
      }
      if (holder && alive(holder)) {
        throw new CannotOpenError(
          `${target}: in use by another h2kit process (pid ${holder.pid}, ${holder.purpose}, since ${holder.since})`,
        );
      }
      try {
        fs.unlinkSync(file);
      } catch {
        // someone else removed it first
      }
    }
    throw new CannotOpenError(`${target}: could not take the lock ${file}`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    process.removeListener('exit', this.onExit);
    try {
      const info = JSON.parse(fs.readFileSync(this.file, 'utf8')) as LockInfo;
      if (info.pid === process.pid) fs.unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}
