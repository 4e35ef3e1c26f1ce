/**
 * Every example of docs/api.md, taken from the document itself, type-checked against the
 * package's declarations and run with Node in a user's folder (see consumer.ts), in document
 * order. Then what each printed and wrote is checked against the reference data, and the
 * images the examples made are read back through `require('h2kit')`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { fileSha256, h2kit } from '../helpers/cli';
import { REF_DIR, refText } from '../helpers/reference';
import { srctreeListing } from '../helpers/image';
import { ROOT, consumerDir } from './consumer';

// By name, as a user would: resolved through package.json "exports" to dist/src/index.js.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const api: typeof import('../../src/index') = require('h2kit');

interface Example {
  name: string;
  code: string;
}

const DOC = path.join(ROOT, 'docs/api.md');

function docExamples(): Example[] {
  const text = fs.readFileSync(DOC, 'utf8');
  const out: Example[] = [];
  for (const m of text.matchAll(/<!-- example: ([a-z0-9-]+) -->\n```ts\n([\s\S]*?)```/g)) out.push({ name: m[1], code: m[2] });
  return out;
}

function readmeSnippet(): string {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /## As a library\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(text);
  if (!m) throw new Error('README.md: no ts example under "## As a library"');
  return m[1];
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const EXPECTED = ['open-walk', 'list-directory', 'read-file', 'mkfs', 'write', 'fsck', 'reblock', 'undo', 'dump', 'errors'];

const MISUSE = `import { mkfs, reblock, openReadOnly, lookup, openPfs, type DirectoryEntry } from 'h2kit';
// @ts-expect-error sizes are bigint
await mkfs({ devices: 'x.img', size: 1024 });
// @ts-expect-error the device is required
await reblock();
// @ts-expect-error no such option
await reblock('x.img', { dryrun: true });
const s = await openReadOnly('x.img');
// @ts-expect-error inode numbers are bigint
const n: number = lookup(s, openPfs(s), '/a').inode.meta.inum;
// @ts-expect-error entry names are strings
const e: DirectoryEntry = { name: 1, nameBytes: new Uint8Array(0), inum: 1n, type: 'FILE', key: 0n };
console.log(n, e);
`;

let dir: string;
const runs = new Map<string, Run>();
let tscOutput = '';
let tscStatus: number | null = null;
let copyShaBeforeReblock = '';
let copyShaAfterReblock = '';

beforeAll(() => {
  dir = consumerDir('api-examples');
  for (const name of ['a', 'mk_default']) spawnSync('tar', ['-xzf', path.join(REF_DIR, `${name}.img.tar.gz`), '-C', dir]);
  spawnSync('tar', ['-xzf', path.join(REF_DIR, 'srctree.tar.gz'), '-C', dir]);
  const examples = docExamples();
  examples.forEach((e, i) => fs.writeFileSync(path.join(dir, `${String(i).padStart(2, '0')}-${e.name}.mts`), e.code));
  // the README's snippet names an image the folder does not have: type-checked, not run
  fs.writeFileSync(path.join(dir, 'readme.mts'), readmeSnippet());
  // type-checked, never run: were the declarations loose (any), these expected errors would not occur
  fs.writeFileSync(path.join(dir, 'misuse.mts'), MISUSE);
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: true },
      include: ['*.mts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir });
  tscStatus = tsc.status;
  tscOutput = tsc.stdout.toString() + tsc.stderr.toString();

  examples.forEach((e, i) => {
    const js = ts.transpileModule(e.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    const file = path.join(dir, `${String(i).padStart(2, '0')}-${e.name}.mjs`);
    fs.writeFileSync(file, js);
    if (e.name === 'reblock') copyShaBeforeReblock = fileSha256(path.join(dir, 'copy.img'));
    const r = spawnSync(process.execPath, [file], { cwd: dir, env: { ...process.env, TZ: 'UTC' }, timeout: 240000 });
    runs.set(e.name, { status: r.status, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('utf8') });
    if (e.name === 'reblock') copyShaAfterReblock = fileSha256(path.join(dir, 'copy.img'));
  });
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const run = (name: string): Run => {
  const r = runs.get(name);
  if (!r) throw new Error(`docs/api.md has no example '${name}'`);
  return r;
};
const lines = (name: string): string[] => run(name).stdout.split('\n').filter((l) => l.length > 0);

test('docs/api.md holds every example, in this order', () => {
  expect(docExamples().map((e) => e.name)).toEqual(EXPECTED);
});

test('the examples (and the README snippet) type-check against the published declarations (import "h2kit", module nodenext), and misuses do not', () => {
  expect({ status: tscStatus, output: tscOutput }).toEqual({ status: 0, output: '' });
});

test.each(EXPECTED)('example %s runs to the end without an error', (name) => {
  const r = run(name);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
});

test('open-walk: the walk visits every blockref hammer2 -v show prints, and none fails', () => {
  const out = JSON.parse(lines('open-walk')[0]);
  const counts: Record<string, number> = {};
  for (const m of refText('mk_default.show-v.txt').toString('latin1').matchAll(/^ *([a-z_]+)\.[0-9a-f]+ +[0-9a-f]{16} /gm)) {
    counts[m[1]] = (counts[m[1]] ?? 0) + 1;
  }
  expect(out.counts).toEqual(counts);
  expect(out.failed).toBe(0);
  expect(out.leaves).toBeGreaterThan(0);
  const used = BigInt(out.used);
  expect(used > 0n && used % 16384n === 0n).toBe(true);
  expect(out.mirrorTid).toBe('0x11');
});

test('list-directory: the PFSs and the entries of /links as the source tree has them', () => {
  const [pfsLine, ...entries] = lines('list-directory');
  expect(pfsLine).toBe('DATA LOCAL');
  const want = srctreeListing()
    .filter((e) => /^links\/[^/]+$/.test(e.path))
    .map((e) => {
      const type = e.type === 'file' ? 'FILE' : e.type === 'symlink' ? 'SOFTLINK' : 'DIR';
      const size = e.type === 'dir' ? 0 : e.size;
      return `${type} ${size} ${e.path.slice('links/'.length)}${e.target ? ` -> ${e.target}` : ''}`;
    });
  expect(entries.sort()).toEqual(want.sort());
});

test('read-file: the stream gives the exact bytes, holes as zeros', () => {
  const bySha = new Map(srctreeListing().map((e) => [e.path, e.sha256]));
  expect(lines('read-file')).toEqual([bySha.get('files/sparse-5m')]);
  expect(fileSha256(path.join(dir, 'big-3m'))).toBe(bySha.get('files/big-3m'));
});

test('mkfs: the summary names the PFSs; both images read back through the package', async () => {
  const out = run('mkfs').stdout;
  for (const label of ['LOCAL', 'DATA', 'HOME']) expect(out).toContain(`PFS "${label}"`);
  expect(fs.statSync(path.join(dir, 'new.img')).size).toBe(1 << 30);
  const s = await api.openReadOnly(path.join(dir, 'copy.img'));
  try {
    const pfs = api.openPfs(s);
    const files = srctreeListing().filter((e) => e.type === 'file');
    for (const e of files) {
      const h = createHash('sha256');
      for await (const chunk of api.readFileStream(s, api.lookup(s, pfs, e.path))) h.update(chunk as Buffer);
      expect([e.path, h.digest('hex')]).toEqual([e.path, e.sha256]);
    }
    // a hard link's second name is a link, not another file
    const inodes = new Set(files.map((e) => (e.hardlink_group === undefined ? e.path : `group ${e.hardlink_group}`)));
    expect(lines('mkfs').at(-1)).toMatch(new RegExp(`^copied ${inodes.size} files, `));
  } finally {
    s.close();
  }
});

test('write: the committed file reads back, and fsck finds nothing', async () => {
  expect(lines('write')).toEqual([expect.stringMatching(/^committed tid 0x[0-9a-f]+ to header copy [0-3]$/)]);
  const s = await api.openReadOnly(path.join(dir, 'new.img'));
  try {
    const chunks: Buffer[] = [];
    for await (const c of api.readFileStream(s, api.lookup(s, api.openPfs(s, 'DATA'), '/hello.txt'))) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello, HAMMER2\n');
  } finally {
    s.close();
  }
});

test('fsck: both images clean, the repair changes nothing', () => {
  const out = lines('fsck');
  expect(out).toEqual([
    // the notes: makefs's older header copies and one leaked granule (fsck -v lists them)
    'mk_default.img: exit 0, 797 blockrefs, 0 problems, 4 notes',
    expect.stringMatching(/^new\.img: exit 0, \d+ blockrefs, 0 problems, 0 notes$/),
    'repair: exit 0, modified false',
  ]);
});

test('reblock: the dry runs report a plan and write nothing', () => {
  const out = run('reblock').stdout;
  expect(out).toMatch(/^segments: \d+ of 4 MiB/m);
  expect(out).toMatch(/^would move: /m);
  expect(out).toMatch(/^bulkfree: 0 unreferenced granules freed/m);
  const planned = /^plan: (\d+) blocks/m.exec(out);
  expect(Number(planned?.[1])).toBeGreaterThan(0);
  expect(copyShaAfterReblock).toBe(copyShaBeforeReblock);
});

test('undo: a real reblock changed the image, and undo put back every byte', () => {
  const last = lines('undo').pop() ?? '';
  expect(last).toMatch(/^reblock moved \d+ bytes \(image changed: true\); after undo: identical$/);
  expect(fileSha256(path.join(dir, 'copy.img'))).toBe(copyShaBeforeReblock);
});

test('dump: the text is hammer2 show and freemap byte for byte; the JSON is the CLI --json', () => {
  expect(fs.readFileSync(path.join(dir, 'show.txt')).equals(refText('a.show.txt'))).toBe(true);
  expect(fs.readFileSync(path.join(dir, 'freemap.txt')).equals(refText('mk_default.freemap.txt'))).toBe(true);
  const cli = h2kit(['dump', 'volhdr', '--json', 'a.img'], { cwd: dir });
  expect(cli.status).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'volhdr.json')).toString()).toBe(cli.stdout.toString());
});

test('errors: each failure is its typed error with the CLI exit code', () => {
  expect(lines('errors')).toEqual(['cannot open: exit 3', 'not HAMMER2: exit 4', 'not found: exit 5']);
});
