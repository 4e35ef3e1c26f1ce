/** Is a block device mounted? Looked up in /proc/self/mounts and the mount table. */
import * as fs from 'node:fs';

const TABLES = ['/proc/self/mounts', '/proc/mounts', '/etc/mtab'];

/** Mount table fields escape blanks as octal (\040). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Where the device at `path` (stat `st`) is mounted, or null. */
export function mountPointOf(path: string, st: fs.Stats, tables: string[] = TABLES): string | null {
  let real = path;
  try {
    real = fs.realpathSync(path);
  } catch {
    // keep the given path
  }
  for (const table of tables) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [src, mnt] = line.split(/\s+/);
      if (!src || !mnt || !src.startsWith('/')) continue;
      const source = unescape(src);
      if (source === path || source === real) return unescape(mnt);
      try {
        const s = fs.statSync(source);
        if ((s.isBlockDevice() || s.isCharacterDevice()) && s.rdev === st.rdev) return unescape(mnt);
      } catch {
        // a source that is not a device path
      }
    }
  }
  return null;
}
