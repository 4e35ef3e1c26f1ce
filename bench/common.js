// Helpers for the benchmarks: reference images, timing, figures.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REF = process.env.H2KIT_REFERENCE || path.resolve(__dirname, '../test/fixtures/reference');

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

module.exports = { referenceImage, timed, rate, mbps, peakRssMiB };
