// The issue-14 table: every job h2kit has a DragonFly counterpart for, run side by side on the
// same generated data, alternating h2kit and DragonFly rounds, with the medians and their ratio.
//
//   npm run bench                         h2kit's figures (and how to get the ratios)
//   H2KIT_DF_BIN=/path/to/bin npm run bench   also fsck_hammer2, hammer2 show and makefs
//   H2KIT_BENCH_SCALE=0.05                a twentieth of the data (for development)
//   H2KIT_BENCH_ROUNDS=3                  rounds per job (the median is reported)
//   H2KIT_BENCH_INODES=1000000            inodes of the memory-figure image (default 1M x scale)
//   npm run bench -- --prepare            only generate (and cache) the data
//   H2KIT_BENCH_JOBS=fsck,memory,show,mkfs,reblock   the jobs to run
//
// Generated trees and images are cached under os.tmpdir()/h2kit-bench-cache (H2KIT_BENCH_CACHE),
// keyed by their parameters, so a second run does not make them again.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const C = require('./common');

const DF = process.env.H2KIT_DF_BIN || '';
const ROUNDS = Math.max(1, Number(process.env.H2KIT_BENCH_ROUNDS || 3));
const FILES = Math.max(500, Math.round(100000 * C.SCALE));
const MANY = Number(process.env.H2KIT_BENCH_INODES) || Math.max(5000, Math.round(1000000 * C.SCALE));
const FRAG_FILES = Math.max(40, Math.round(2000 * C.SCALE));
const SIZE = 8n << 30n;
const df = (tool) => path.join(DF, tool);

const MiB = 1048576;
const fmt = {
  s: (x) => (Number.isNaN(x) ? '-' : x < 10 ? `${x.toFixed(2)} s` : `${x.toFixed(1)} s`),
  mib: (kib) => (Number.isNaN(kib) ? '-' : `${(kib / 1024).toFixed(0)} MiB`),
  ratio: (x) => (Number.isFinite(x) ? `${x.toFixed(2)}` : '-'),
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-bench-run-'));
const scratch = (name) => path.join(work, name);

function must(r, what) {
  if (r.status !== 0 && r.status !== null && r.status > 1) {
    throw new Error(`${what}: exit ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return r;
}

/** Rounds of h2kit and DragonFly alternating; each side's medians. */
function sideBySide(ours, theirs, rounds = ROUNDS) {
  const a = [];
  const b = [];
  for (let i = 0; i < rounds; i++) {
    a.push(ours(i));
    if (theirs) b.push(theirs(i));
  }
  return { h2kit: C.medians(a), df: theirs ? C.medians(b) : null, last: a[a.length - 1] };
}

const rows = [];
function row(job, m, extra) {
  rows.push({ job, ...m, ...extra });
}

function tree() {
  return C.cached(`tree-issue14-${FILES}`, (p) => C.makeTree(p, FILES));
}

/** The shared 100k image: made by makefs when the DragonFly tools are there (as in the issue), else by h2kit. */
function image(tree) {
  const root = fs.realpathSync(tree);
  if (DF) {
    return C.cached(`img-makefs-lz4-${FILES}.img`, (p) => {
      execFileSync(df('makefs'), ['-t', 'hammer2', '-Z', '-s', String(SIZE), '-o', 'c=lz4', p, root], { stdio: 'ignore' });
    });
  }
  return C.cached(`img-h2kit-lz4-${FILES}.img`, (p) => {
    execFileSync(process.execPath, [C.CLI, 'mkfs', '--quiet', '--root', root, '--size', '8G', p], { stdio: 'ignore' });
  });
}

function fsckJob(img, label, rounds) {
  const out = scratch('fsck.json');
  const r = sideBySide(
    () => must(C.h2kit(['fsck', '-n', '--json', img], { out }), 'h2kit fsck'),
    DF ? () => must(C.measure(df('fsck_hammer2'), [img], { out: scratch('fsck.df') }), 'fsck_hammer2') : null,
    rounds,
  );
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  const diskBytes = fs.statSync(img).blocks * 512;
  row(`fsck -n (${label})`, r, {
    thr: `${(j.blockrefs / r.h2kit.wall / 1000).toFixed(0)}k brefs/s, ${(diskBytes / MiB / r.h2kit.wall).toFixed(0)} MB/s`,
    perInode: (r.h2kit.rssKiB * 1024) / j.inodes,
    inodes: j.inodes,
    blockrefs: j.blockrefs,
    target: 'ratio <= 1.0, RSS <= 128 MiB',
  });
  return { ...r, inodes: j.inodes, blockrefs: j.blockrefs };
}

function showJob(img, blockrefs) {
  const mine = scratch('show.h2k');
  const theirs = scratch('show.df');
  const r = sideBySide(
    () => must(C.h2kit(['dump', 'show', img], { out: mine }), 'h2kit dump show'),
    DF ? () => must(C.measure(df('hammer2'), ['show', img], { out: theirs }), 'hammer2 show') : null,
  );
  const bytes = fs.statSync(mine).size;
  const same = DF ? (fs.statSync(theirs).size === bytes ? 'same size as hammer2 show' : `hammer2 show: ${fs.statSync(theirs).size} bytes`) : '';
  row('dump show > file', r, {
    thr: `${(blockrefs / r.h2kit.wall / 1000).toFixed(0)}k brefs/s, ${(bytes / MiB / r.h2kit.wall).toFixed(0)} MB/s out`,
    note: `${(bytes / MiB).toFixed(0)} MiB of text ${same}`,
    target: 'ratio <= 1.0',
  });
  fs.rmSync(mine, { force: true });
  fs.rmSync(theirs, { force: true });
}

function mkfsJob(tree) {
  // the tree itself, not a link to it (mkfs --root takes a directory)
  const root = fs.realpathSync(tree);
  const { bytes, files } = C.treeBytes(root);
  const img = scratch('mkfs.img');
  const r = sideBySide(
    () => {
      fs.rmSync(img, { force: true });
      return must(C.h2kit(['mkfs', '--quiet', '--root', root, '--size', '8G', img]), 'h2kit mkfs --root');
    },
    DF
      ? () => {
          fs.rmSync(img, { force: true });
          return must(C.measure(df('makefs'), ['-t', 'hammer2', '-Z', '-s', String(SIZE), '-o', 'c=lz4', img, root]), 'makefs');
        }
      : null,
  );
  fs.rmSync(img, { force: true });
  const failed = r.last.status !== 0 ? ` (exit ${r.last.status}: ${r.last.stderr.trim().split('\n').pop()})` : '';
  row('mkfs --root (8 GiB, lz4)', r, {
    thr: `${(files / r.h2kit.wall).toFixed(0)} files/s, ${(bytes / MiB / r.h2kit.wall).toFixed(0)} MB/s in`,
    note: `${files} files, ${(bytes / MiB).toFixed(0)} MiB${failed}`,
    target: 'ratio <= 0.3, RSS <= 256 MiB',
  });
}

/**
 * reblock against a plain copy of the bytes it moved: dd reads them from a file in the page
 * cache (as reblock's sources are), writes them to a new file and fsyncs it.
 */
function reblockJob(label, base, args) {
  const img = scratch('reblock.img');
  const out = scratch('reblock.json');
  const src = scratch('copy.src');
  const dst = scratch('copy.dst');
  let moved = 0;
  let blocks = 0;
  const ours = () => {
    execFileSync('cp', ['--sparse=always', base, img]);
    // the copy's own dirty pages go out first, or reblock's first fsync would pay for them
    const fd = fs.openSync(img, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const r = must(C.h2kit(['reblock', '--json', ...args, img], { out }), 'h2kit reblock');
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    moved = Number(BigInt(j.bytesMoved ?? j.bytes_moved));
    blocks = Object.values(j.counters).reduce((n, c) => n + c.moved, 0);
    return r;
  };
  const copy = () => {
    if (!fs.existsSync(src) || fs.statSync(src).size !== moved) {
      const b = Buffer.alloc(moved);
      for (let k = 0; k + 4 <= b.length; k += 4) b.writeUInt32LE((k * 2654435761) >>> 0, k);
      fs.writeFileSync(src, b);
      execFileSync('sync');
    }
    fs.rmSync(dst, { force: true });
    return must(C.measure('dd', [`if=${src}`, `of=${dst}`, 'bs=1M', 'conv=fsync', 'status=none']), 'dd');
  };
  const a = [];
  const b = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(ours());
    b.push(copy());
  }
  const r = { h2kit: C.medians(a), df: C.medians(b) };
  row(`reblock (${label})`, r, {
    thr: `${(moved / MiB / r.h2kit.wall).toFixed(0)} MB/s moved, ${(blocks / r.h2kit.wall).toFixed(0)} blocks/s`,
    note: `${blocks} blocks, ${(moved / MiB).toFixed(1)} MiB moved; the other side is dd + fsync of as many bytes`,
    // reblock's target is the other way round: at least half the speed of a copy
    inverse: true,
    target: 'copy/reblock >= 0.5',
  });
  for (const f of [img, out, src, dst]) fs.rmSync(f, { force: true });
}

function print() {
  const side = DF ? 'DragonFly (or copy)' : 'other side';
  const head = ['job', 'h2kit wall', 'cpu', 'peak RSS', 'throughput', `${side} wall`, 'cpu', 'peak RSS', 'ratio wall', 'ratio cpu', 'target'];
  const lines = rows.map((r) => {
    if (r.failed) return [r.job, 'failed', '-', '-', r.failed.slice(0, 60), '-', '-', '-', '-', '-', '-'];
    const o = r.df;
    const rw = o ? (r.inverse ? o.wall / r.h2kit.wall : r.h2kit.wall / o.wall) : NaN;
    const rc = o ? (r.inverse ? o.cpu / r.h2kit.cpu : r.h2kit.cpu / o.cpu) : NaN;
    return [r.job, fmt.s(r.h2kit.wall), fmt.s(r.h2kit.cpu), fmt.mib(r.h2kit.rssKiB), r.thr, o ? fmt.s(o.wall) : '-', o ? fmt.s(o.cpu) : '-', o ? fmt.mib(o.rssKiB) : '-', fmt.ratio(rw), fmt.ratio(rc), r.target];
  });
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  console.log('');
  console.log(line(head));
  console.log(line(w.map((n) => '-'.repeat(n))));
  for (const l of lines) console.log(line(l));
  console.log('');
  for (const r of rows) if (r.note) console.log(`${r.job}: ${r.note}`);
}

const JOBS = new Set((process.env.H2KIT_BENCH_JOBS || 'fsck,memory,show,mkfs,reblock').split(','));

function buildMany(p) {
  execFileSync(process.execPath, [path.join(__dirname, 'images.js'), '--inodes', p, String(MANY)], { stdio: 'inherit' });
}

function main() {
  const t0 = Date.now();
  console.log(`h2kit benchmark table: scale ${C.SCALE} (${FILES} files, ${MANY} inodes), ${ROUNDS} rounds, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  if (!C.hasTime) console.log('(no /usr/bin/time: only wall times are shown)');
  const root = tree();
  const img = image(root);
  const frag = C.cached(`img-fragmented-${FRAG_FILES}.img`, (p) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    execFileSync(process.execPath, [path.join(__dirname, 'images.js'), '--fragmented', p, String(FRAG_FILES)], { stdio: 'inherit' });
  });
  if (JOBS.has('memory')) C.cached(`img-inodes-${MANY}.img`, buildMany);
  if (process.argv.includes('--prepare')) return;
  const label = DF ? 'makefs image' : 'h2kit image';
  // a job that fails is a row saying so; the others still run
  const attempt = (name, fn) => {
    if (!JOBS.has(name)) return undefined;
    console.log(`  ${name}...`);
    try {
      return fn();
    } catch (e) {
      rows.push({ job: name, failed: String(e.message || e).split('\n')[0] });
      return undefined;
    }
  };
  const small = attempt('fsck', () => fsckJob(img, `${label}, ${FILES} files`));
  // one round: the memory figure is what this is for, and the walk is long
  const big = attempt('memory', () => fsckJob(C.cached(`img-inodes-${MANY}.img`, buildMany), `${MANY} inodes, 1 round`, 1));
  attempt('show', () => showJob(img, small ? small.blockrefs : NaN));
  attempt('mkfs', () => mkfsJob(root));
  attempt('reblock', () => {
    reblockJob(`fragmented, ${FRAG_FILES} files half deleted`, frag, []);
    reblockJob(`${label}, --fill-level 100`, img, ['--fill-level', '100']);
  });
  print();
  if (small && big) {
    const grow = ((big.h2kit.rssKiB - small.h2kit.rssKiB) * 1024) / (big.inodes - small.inodes);
    console.log(`fsck memory: ${(small.h2kit.rssKiB / 1024).toFixed(0)} MiB at ${small.inodes} inodes, ${(big.h2kit.rssKiB / 1024).toFixed(0)} MiB at ${big.inodes}: ` +
      `${grow.toFixed(0)} bytes per inode beyond (target <= 100)` + (big.df ? `; fsck_hammer2 ${(big.df.rssKiB / 1024).toFixed(0)} MiB at ${big.inodes}` : ''));
  }
  if (!DF) console.log('For the ratios against DragonFly, set H2KIT_DF_BIN to a directory holding fsck_hammer2, hammer2 and makefs.');
  console.log(`Medians of ${ROUNDS} rounds; wall times depend on what else runs (load ${os.loadavg()[0].toFixed(1)} now); ${((Date.now() - t0) / 1000).toFixed(0)} s in all.`);
}

try {
  main();
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
