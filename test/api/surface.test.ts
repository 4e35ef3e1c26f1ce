/**
 * What a user of the package gets: the entry point through package.json "exports", exactly the
 * documented names, no internal subpaths, and a tarball (`npm pack`) that holds every file the
 * entry point loads.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, consumerDir, requireFreshBuild } from './consumer';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** The API's runtime names; docs/api.md "What is exported" lists the same. */
const NAMES = [
  'CLEANUP_TIME_LIMIT_MS', 'undo', 'renderUndo', 'CannotOpenError', 'ChainReader', 'ChainTree', 'DEFAULT_COMMIT_EVERY', 'DEFAULT_FILL_LEVEL', 'EXIT',
  'FSCK_EXIT', 'FormatError', 'Freemap', 'FsReader', 'FsWriter', 'H2Error', 'ITEM_TYPES', 'JSON_FORMAT_VERSION', 'MediaError',
  'NoSpaceError', 'NotFoundError', 'NotHammer2Error', 'OBJTYPE_DIRECTORY', 'OBJTYPE_REGFILE', 'OBJTYPE_SOFTLINK', 'PROBLEMS',
  'VolumeSet', 'WriteGuardError', 'WriteRun', 'WriteSession', 'blockrefLocation', 'breftypeName', 'bulkfree', 'cleanup',
  'dumpJson', 'dumpText', 'dumpToSink', 'dumpToStream', 'fsck', 'headerCopyRootBref', 'headerRootBref', 'hex64', 'listDirectory',
  'listPfs', 'loadFreemap', 'lookup', 'mkfs', 'mkfsJson', 'objtypeName', 'openPfs', 'openReadOnly', 'readFileStream', 'readSymlink',
  'reblock', 'renderBulkfree', 'renderFsck', 'renderMkfsSummary', 'renderPopulateSummary', 'renderProblem', 'renderReblock',
  'renderRepair', 'repair', 'toJson', 'uuidFromString', 'uuidToString', 'walkFreemap', 'walkTree', 'walkVolume',
];

beforeAll(() => requireFreshBuild());

test('package.json: main, types and exports name the built entry point and its declarations', () => {
  expect(pkg.main).toBe('./dist/src/index.js');
  expect(pkg.types).toBe('./dist/src/index.d.ts');
  expect(pkg.exports).toEqual({
    '.': { types: './dist/src/index.d.ts', require: './dist/src/index.js', default: './dist/src/index.js' },
    './package.json': './package.json',
  });
  for (const f of [pkg.main, pkg.types]) expect(fs.existsSync(path.join(ROOT, f))).toBe(true);
});

test("require('h2kit') by name resolves through exports and gives exactly the documented names", () => {
  expect(require.resolve('h2kit')).toBe(path.join(ROOT, 'dist/src/index.js'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const api = require('h2kit');
  expect(Object.keys(api).sort()).toEqual([...NAMES].sort());
  const doc = fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
  const listed = doc.slice(doc.indexOf('## What is exported'));
  for (const n of NAMES.filter((x) => !x.startsWith('OBJTYPE_'))) expect([n, listed.includes(n)]).toEqual([n, true]);
  expect(new api.NotFoundError('x')).toBeInstanceOf(api.H2Error);
  expect(new api.NotFoundError('x').exitCode).toBe(api.EXIT.NOT_FOUND);
});

test('in a user project: CommonJS and ES module imports work, internal paths are closed', () => {
  const dir = consumerDir('api-surface');
  try {
    fs.writeFileSync(
      path.join(dir, 'cjs.cjs'),
      [
        "const h = require('h2kit');",
        "console.log(typeof h.mkfs, require('h2kit/package.json').name);",
        "try { require('h2kit/dist/src/engine'); console.log('open'); } catch (e) { console.log(e.code); }",
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'esm.mjs'), "import { openReadOnly, H2Error } from 'h2kit';\nconsole.log(typeof openReadOnly, typeof H2Error);\n");
    const cjs = spawnSync(process.execPath, ['cjs.cjs'], { cwd: dir });
    const esm = spawnSync(process.execPath, ['esm.mjs'], { cwd: dir });
    expect([cjs.status, cjs.stdout.toString(), cjs.stderr.toString()]).toEqual([0, 'function h2kit\nERR_PACKAGE_PATH_NOT_EXPORTED\n', '']);
    expect([esm.status, esm.stdout.toString(), esm.stderr.toString()]).toEqual([0, 'function function\n', '']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Every file the entry point loads or its declarations name, following relative specifiers. */
function reachable(): Set<string> {
  const seen = new Set<string>();
  const todo = ['dist/src/index.js', 'dist/src/index.d.ts'];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
    const ext = f.endsWith('.d.ts') ? '.d.ts' : '.js';
    for (const m of text.matchAll(/(?:require\(|from |import\()["'](\.[^"']+)["']/g)) {
      const base = path.join(path.dirname(f), m[1]);
      const file = fs.existsSync(path.join(ROOT, base + ext)) ? base + ext : path.join(base, 'index' + ext);
      todo.push(file);
    }
  }
  return seen;
}

test('npm pack holds the CLI, the entry point and every module it reaches, and no sources or tests', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status).toBe(0);
  const files = new Set<string>(JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path));
  const needed = reachable();
  expect(needed.size).toBeGreaterThan(50);
  const missing = [...needed, 'bin/run.js', 'package.json', 'README.md'].filter((f) => !files.has(f));
  expect(missing).toEqual([]);
  expect([...files].filter((f) => f.startsWith('test/') || f.startsWith('src/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
});
