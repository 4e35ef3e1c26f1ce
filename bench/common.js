// Helpers for the benchmarks: reference images, cached generated data, child-process figures.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REF = process.env.H2KIT_REFERENCE || path.resolve(__dirname, '../test/fixtures/reference');
const CLI = path.resolve(__dirname, '../bin/run.js');
const SCALE = Number(process.env.H2KIT_BENCH_SCALE || 1);
const TIME = '/usr/bin/time';

/** Extract a reference archive into a fresh temp dir; returns the image path. */
function referenceImage(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-bench-'));
  execFileSync('tar', ['-xzf', path.join(REF, `${name}.img.tar.gz`), '-C', dir]);
  return path.join(dir, `${name}.img`);
}

/** Run fn repeatedly for at least `minMs`; returns { runs, ms, result }. */
function timed(fn, minMs = 2000) {
  let runs = 0;
  let result;
  const t0 = process.hrtime.bigint();
  let ms = 0;
  do {
    result = fn();
    runs++;
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (ms < minMs);
  return { runs, ms, result };
}

function rate(count, ms) {
  return (count / (ms / 1000)).toFixed(0);
}

function mbps(bytes, ms) {
  return (bytes / 1048576 / (ms / 1000)).toFixed(1);
}

function peakRssMiB() {
  return (process.resourceUsage().maxRSS / 1024).toFixed(1);
}

/** Generated trees and images live here between runs (keyed by their parameters). */
function cacheDir() {
  const d = process.env.H2KIT_BENCH_CACHE || path.join(os.tmpdir(), 'h2kit-bench-cache');
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/**
 * The cached file or directory `name`, made by `build(path)` when missing. A marker written
 * after the build tells a finished one from one a killed run left half made.
 */
function cached(name, build) {
  const p = path.join(cacheDir(), name);
  const done = `${p}.done`;
  if (fs.existsSync(done) && fs.existsSync(p)) return p;
  fs.rmSync(p, { recursive: true, force: true });
  const t0 = Date.now();
  process.stdout.write(`  generating ${name} (cached for later runs)... `);
  build(p);
  fs.writeFileSync(done, new Date().toISOString());
  console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return p;
}

/**
 * The issue-14 tree: 500 files a directory, one in ten of 20 KB to 320 KB, the rest of 50 B to
 * 2 KB, filled with repeated text (so it compresses as source code does). 100,000 files make
 * about 1.7 GB.
 */
function makeTree(root, nFiles) {
  fs.mkdirSync(root, { recursive: true });
  let x = 4242;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let d = 0; d * 500 < nFiles; d++) {
    const dir = path.join(root, `d${d}`);
    fs.mkdirSync(dir);
    for (let i = 0; i < 500 && d * 500 + i < nFiles; i++) {
      const size = i % 10 === 0 ? 20000 + (rnd() % 300000) : 50 + (rnd() % 2000);
      fs.writeFileSync(path.join(dir, `file-${i}`), Buffer.alloc(size, `${d}/${i} `));
    }
  }
}

/** Bytes of a directory tree's regular files, and their count. */
function treeBytes(root) {
  let bytes = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        bytes += fs.statSync(p).size;
        files++;
      }
    }
  };
  walk(root);
  return { bytes, files };
}

const hasTime = fs.existsSync(TIME);

/**
 * Run a command as a child and measure it: wall seconds, CPU seconds (user + sys) and peak RSS
 * (KiB), taken by GNU time from the kernel's accounting of the child. `out` is a file that gets
 * the child's stdout (so that printing costs what writing a file costs).
 */
function measure(cmd, args, { out, env } = {}) {
  const stat = path.join(cacheDir(), `.time-${process.pid}`);
  const fd = out ? fs.openSync(out, 'w') : 'ignore';
  const full = hasTime ? [TIME, ['-f', '%e %U %S %M', '-o', stat, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full[1], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (out) fs.closeSync(fd);
  let cpu = NaN;
  let rssKiB = NaN;
  if (hasTime && fs.existsSync(stat)) {
    const f = fs.readFileSync(stat, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    cpu = f[1] + f[2];
    rssKiB = f[3];
    fs.rmSync(stat, { force: true });
  }
  return { wall, cpu, rssKiB, status: r.status, stderr: (r.stderr || '').toString() };
}

/** h2kit's CLI, measured as a user runs it (Node and oclif start-up included). */
function h2kit(args, opts) {
  return measure(process.execPath, [CLI, ...args], opts);
}

function median(xs) {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median of each figure over rounds of `measure` results. */
function medians(runs) {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), rssKiB: Math.max(...runs.map((r) => r.rssKiB)) };
}

module.exports = { REF, CLI, SCALE, referenceImage, timed, rate, mbps, peakRssMiB, cacheDir, cached, makeTree, treeBytes, measure, h2kit, median, medians, hasTime };
