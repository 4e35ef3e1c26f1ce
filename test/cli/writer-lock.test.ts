/**
 * A device another h2kit process is writing: readers refuse it (its media is between two
 * states) unless --force, and a second writer, fsck -y included, is refused before it reads.
 */
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCK_DIR } from '../../src/engine';
import { fileSha256, freshImage, h2kit, tempDir } from '../helpers/cli';

let img = '';
let holder: ChildProcess;
let lockFile = '';

beforeAll(() => {
  img = freshImage('a', tempDir('writer-lock'));
  // a live process that holds the writer lock, as a running reblock would
  holder = spawn('sleep', ['600'], { stdio: 'ignore' });
  const st = fs.statSync(img);
  fs.mkdirSync(LOCK_DIR, { recursive: true });
  lockFile = path.join(LOCK_DIR, `file-${st.dev}-${st.ino}.lock`);
  fs.writeFileSync(lockFile, JSON.stringify({ pid: holder.pid, start: '', purpose: 'reblock', path: img, since: '2026-12-01T00:00:00.000Z' }));
});

afterAll(() => {
  holder.kill('SIGKILL');
  fs.rmSync(lockFile, { force: true });
});

test('dump and fsck -n refuse a device being written, and read it with --force', () => {
  const show = h2kit(['dump', 'volhdr', img]);
  expect(show.status).toBe(3);
  expect(show.stderr).toMatch(new RegExp(`in use by another h2kit process \\(pid ${holder.pid}, reblock.*--force to read it anyway`));
  expect(show.stderr.trim().split('\n')).toHaveLength(1);
  expect(h2kit(['dump', 'volhdr', '--force', img]).status).toBe(0);
  expect(h2kit(['dump', 'pfs', img]).status).toBe(3);
  expect(h2kit(['dump', 'pfs', '--force', img]).status).toBe(0);
  const fsck = h2kit(['fsck', '-n', img]);
  expect(fsck.status).toBe(8);
  expect(fsck.stderr).toMatch(/in use by another h2kit process.*--force/);
  expect(h2kit(['fsck', '-n', '-f', img]).status).toBe(0);
});

test('fsck -y is refused before its first read while another writer holds the device', () => {
  const before = fileSha256(img);
  const r = h2kit(['fsck', '-y', img]);
  expect(r.status).toBe(8);
  expect(r.stderr).toMatch(new RegExp(`in use by another h2kit process \\(pid ${holder.pid}`));
  expect(fileSha256(img)).toBe(before);
});
