// fsck on generated images of 10,000, 30,000 and 100,000+ inodes (H2KIT_BENCH_SCALE scales
// them). Each check runs in its own process and prints blockrefs/s, MB/s and peak RSS, so the
// table shows how memory grows with the image. With H2KIT_C_FSCK=/path/to/fsck_hammer2 (the C
// checker, built by you outside this repository) the largest image is also checked by it, for
// a side-by-side time and peak RSS.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const scale = Number(process.env.H2KIT_BENCH_SCALE || 1);
const SIZES = [10000, 30000, 100000].map((n) => Math.max(100, Math.round(n * scale)));

// the issue-14 tree, as the table's fsck row uses
const { makeTree } = require('./common');

if (process.argv[2] === '--build') {
  const [, , , root, img] = process.argv;
  const mkfs = require('../dist/src/ops/mkfs');
  const format = require('../dist/src/format');
  (async () => {
    await format.initXxh64();
    await mkfs.runMkfsWithRoot({
      devices: [img], sizes: [], version: 2, labels: [], params: {}, force: true, dryRun: false, sizeAuto: true,
      root: { dir: root, pfs: 'DATA', algos: { comp: mkfs.parseCompression('lz4'), check: format.CHECK_XXHASH64 }, skipUnreadable: false },
    });
  })().catch((e) => { console.error(e); process.exit(1); });
} else if (process.argv[2] === '--check') {
  const img = process.argv[3];
  const fsck = require('../dist/src/ops/fsck');
  const format = require('../dist/src/format');
  (async () => {
    await format.initXxh64();
    const t0 = process.hrtime.bigint();
    const { report, exitCode } = await fsck.runFsck(img);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const st = fs.statSync(img);
    console.log(
      `${String(report.inodes).padStart(7)} inodes ${String(report.blockrefs).padStart(8)} blockrefs ` +
        `${(report.bytesVerified / 1048576).toFixed(0).padStart(5)} MiB read ${(st.blocks * 512 / 1048576).toFixed(0).padStart(5)} MiB on disk | ` +
        `${(ms / 1000).toFixed(2)} s, ${(report.blockrefs / (ms / 1000)).toFixed(0)} blockrefs/s, ` +
        `${(report.bytesVerified / 1048576 / (ms / 1000)).toFixed(1)} MB/s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB, exit ${exitCode}`,
    );
  })().catch((e) => { console.error(e); process.exit(1); });
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-bench-fsck-'));
  try {
    let last = '';
    for (const n of SIZES) {
      const root = path.join(dir, `tree${n}`);
      const img = path.join(dir, `i${n}.img`);
      makeTree(root, n);
      const b = spawnSync(process.execPath, [__filename, '--build', root, img], { stdio: 'inherit' });
      if (b.status !== 0) process.exit(1);
      fs.rmSync(root, { recursive: true, force: true });
      spawnSync(process.execPath, [__filename, '--check', img], { stdio: 'inherit' });
      if (last) fs.rmSync(last, { force: true });
      last = img;
    }
    const c = process.env.H2KIT_C_FSCK;
    if (c) {
      // GNU time prints the C checker's wall time and peak RSS on stderr
      const t0 = process.hrtime.bigint();
      const r = spawnSync('/usr/bin/time', ['-f', '%e s, peak RSS %M KiB', c, last], { encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const tail = (r.stderr || '').trim().split('\n').pop();
      console.log(`C fsck_hammer2 on the ${SIZES[SIZES.length - 1]}-file image: ${(ms / 1000).toFixed(2)} s wall, ${tail}, exit ${r.status}`);
    } else {
      console.log('(set H2KIT_C_FSCK to the C fsck_hammer2 binary to compare)');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
