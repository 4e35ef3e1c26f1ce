/**
 * Shell completion (@oclif/plugin-autocomplete): the setup line the user appends to ~/.bashrc
 * names a script the cache holds, and bash, running that script, completes our commands,
 * topics and flags. The cache goes to a private XDG_CACHE_HOME, never the user's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { h2kit, tempDir } from '../helpers/cli';

const cache = tempDir('autocomplete');
const env = { ...process.env, TZ: 'UTC', XDG_CACHE_HOME: cache };
let setupLine = '';

beforeAll(() => {
  const r = h2kit(['autocomplete', 'script', 'bash'], { env });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  setupLine = r.stdout.toString('utf8');
  // the cache the setup line sources is built by the instructions command (or --refresh-cache)
  const c = h2kit(['autocomplete', '--refresh-cache'], { env });
  expect(c.status).toBe(0);
});

test('the bash setup line points into the cache', () => {
  const m = /H2KIT_AC_BASH_SETUP_PATH=(\S+)/.exec(setupLine);
  expect(m).not.toBeNull();
  expect(m![1].startsWith(path.join(cache, 'h2kit'))).toBe(true);
  expect(fs.existsSync(m![1])).toBe(true);
});

/** What bash's completion of `words` (the last one being completed) offers, through the setup line. */
function completeInBash(words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const script = `${setupLine}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _h2kit_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { env, encoding: 'utf8' });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

test('bash completes command names', () => {
  expect(completeInBash(['h2kit', 'mk'])).toEqual(['mkfs']);
  expect(completeInBash(['h2kit', 're'])).toEqual(['reblock']);
  expect(completeInBash(['h2kit', ''])).toEqual(expect.arrayContaining(['cleanup', 'dump', 'fsck', 'mkfs', 'reblock']));
});

test('bash completes the commands of the dump topic after a space', () => {
  expect(completeInBash(['h2kit', 'dump', ''])).toEqual(['file', 'freemap', 'inode', 'pfs', 'show', 'volhdr']);
  expect(completeInBash(['h2kit', 'dump', 'v'])).toEqual(['volhdr']);
});

test("bash completes a command's flags", () => {
  expect(completeInBash(['h2kit', 'mkfs', '--s'])).toEqual(['--seed', '--size', '--skip-unreadable', '--sup-clid', '--sup-fsid']);
  expect(completeInBash(['h2kit', 'fsck', '--y'])).toEqual(['--yes']);
  expect(completeInBash(['h2kit', 'dump', 'freemap', '--'])).toEqual(expect.arrayContaining(['--json', '--verbose']));
});

test('the zsh completion function names every command with its flags', () => {
  const zsh = fs.readFileSync(path.join(cache, 'h2kit', 'autocomplete', 'functions', 'zsh', '_h2kit'), 'utf8');
  expect(zsh).toMatch(/^#compdef h2kit/);
  for (const cmd of ['cleanup', 'fsck', 'mkfs', 'reblock', 'volhdr', 'freemap']) expect(zsh).toContain(`${cmd}[`);
  for (const flag of ['--keep-owner', '--rewrite-check-codes', '--fill-level']) expect(zsh).toContain(flag);
});
