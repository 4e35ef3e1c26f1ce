// Times mkfs of a 1 TiB sparse image (created by mkfs) and of an existing 1 TiB sparse file,
// and reports wall time, bytes written and the space the image takes on disk.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { peakRssMiB } = require('./common');
const format = require('../dist/src/format');
const mkfs = require('../dist/src/ops/mkfs');

(async () => {
  await format.initXxh64();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-bench-mkfs-'));
  const TiB = 1n << 40n;
  const run = (name, prepare) => {
    const file = path.join(dir, name);
    prepare(file);
    const t0 = process.hrtime.bigint();
    const r = mkfs.runMkfs({ devices: [file], sizes: [TiB], version: 2, labels: [], params: {}, force: true, dryRun: false });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const st = fs.statSync(file);
    console.log(`${name}: ${ms.toFixed(1)} ms, ${(r.stats.bytesWritten / 1024).toFixed(0)} KiB written in ${r.stats.writes} writes, ` +
      `${(st.blocks * 512 / 1024).toFixed(0)} KiB on disk for ${(st.size / 2 ** 40).toFixed(0)} TiB`);
    fs.unlinkSync(file);
  };
  run('new-1TiB.img', () => {});
  run('existing-1TiB.img', (f) => {
    fs.writeFileSync(f, '');
    fs.truncateSync(f, Number(TiB));
  });
  // The whole command, as a user runs it (includes Node and oclif start-up).
  const file = path.join(dir, 'cli-1TiB.img');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(__dirname, '../bin/run.js'), 'mkfs', '--quiet', '--size', '1T', file]);
  console.log(`h2kit mkfs --size 1T (whole process): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms, exit ${r.status}`);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`peak RSS: ${peakRssMiB()} MiB`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
