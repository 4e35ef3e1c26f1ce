// Times `dump show -v` and a full check-code verification on the largest reference image
// (mk_default: 8 GiB, every file of the source tree) and prints blockrefs/s and MB/s.
// With H2KIT_DF_BIN (the DragonFly tools), it also runs `h2kit dump show|show -v|freemap|volhdr`
// and `hammer2` on one image (H2KIT_BENCH_DUMP_IMAGE, a path; else the reference image),
// alternating, and prints the best CPU time (user+sys) of each, peak RSS and the ratio.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { referenceImage, timed, rate, mbps, peakRssMiB } = require('./common');
const format = require('../dist/src/format');
const engine = require('../dist/src/engine');
const dump = require('../dist/src/ops/dump');

(async () => {
  await format.initXxh64();
  const img = referenceImage(process.env.H2KIT_BENCH_IMAGE || 'mk_default');
  const vols = engine.VolumeSet.open(img);

  const show = timed(() => {
    let chars = 0;
    const r = dump.renderShow(vols, 'show', { ...dump.DEFAULT_SHOW_OPTIONS, verbose: 1 }, { write: (s) => (chars += s.length), writeBytes: (b) => (chars += b.length) });
    return { ...r, chars };
  });
  const s = show.result;
  const perRun = show.ms / show.runs;
  console.log(`dump show -v: ${s.brefs} blockrefs, ${(s.bytes / 1048576).toFixed(1)} MiB read, ${(s.chars / 1048576).toFixed(1)} MiB of text`);
  console.log(`  ${perRun.toFixed(1)} ms/run over ${show.runs} runs: ${rate(s.brefs, perRun)} blockrefs/s, ${mbps(s.bytes, perRun)} MB/s`);

  const verify = timed(() => {
    const chains = new engine.ChainReader(vols);
    let brefs = 0;
    let bytes = 0;
    let failed = 0;
    for (const root of [format.BREF_TYPE_VOLUME, format.BREF_TYPE_FREEMAP]) {
      for (const v of engine.walkTree(chains, engine.headerRootBref(chains, root), { readData: true })) {
        brefs++;
        bytes += v.data.length;
        if (v.check && !v.check.ok) failed++;
      }
    }
    return { brefs, bytes, failed };
  });
  const vr = verify.result;
  const perVerify = verify.ms / verify.runs;
  console.log(`check-code verification: ${vr.brefs} blockrefs, ${(vr.bytes / 1048576).toFixed(1)} MiB, ${vr.failed} failures`);
  console.log(`  ${perVerify.toFixed(1)} ms/run over ${verify.runs} runs: ${rate(vr.brefs, perVerify)} blockrefs/s, ${mbps(vr.bytes, perVerify)} MB/s`);
  console.log(`peak RSS: ${peakRssMiB()} MiB`);
  vols.close();
  if (process.env.H2KIT_DF_BIN) sideBySide(process.env.H2KIT_BENCH_DUMP_IMAGE || img);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

const TIME = '/usr/bin/time';
const RUNS = Number(process.env.H2KIT_BENCH_RUNS || 3);

/** CPU seconds (user+sys) and peak RSS of one run of argv, its output discarded. */
function cpuOf(argv) {
  const r = spawnSync(TIME, ['-f', '%U %S %M', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
  const last = r.stderr.toString().trim().split('\n').pop().split(' ').map(Number);
  return { cpu: last[0] + last[1], rssKiB: last[2] };
}

function sideBySide(image) {
  if (!fs.existsSync(TIME)) {
    console.log(`side by side: skipped (${TIME} is needed to measure the CPU time of a child)`);
    return;
  }
  const cli = path.resolve(__dirname, '../bin/run.js');
  const hammer2 = path.join(process.env.H2KIT_DF_BIN, 'hammer2');
  console.log(`side by side on ${image}, best of ${RUNS} alternating runs, CPU user+sys:`);
  for (const [label, ours, theirs] of [
    ['show', ['dump', 'show'], ['show']],
    ['show -v', ['dump', 'show', '-v'], ['-v', 'show']],
    ['freemap', ['dump', 'freemap'], ['freemap']],
    ['volhdr', ['dump', 'volhdr'], ['volhdr']],
  ]) {
    let a = { cpu: Infinity, rssKiB: 0 };
    let b = { cpu: Infinity, rssKiB: 0 };
    for (let i = 0; i < RUNS; i++) {
      const x = cpuOf([process.execPath, cli, ...ours, image]);
      const y = cpuOf([hammer2, ...theirs, image]);
      if (x.cpu < a.cpu) a = x;
      if (y.cpu < b.cpu) b = y;
    }
    const ratio = b.cpu > 0 ? `${(a.cpu / b.cpu).toFixed(2)}x` : 'n/a';
    console.log(`  ${label.padEnd(8)} h2kit ${a.cpu.toFixed(2)} s ${(a.rssKiB / 1024).toFixed(0)} MiB | hammer2 ${b.cpu.toFixed(2)} s ${(b.rssKiB / 1024).toFixed(0)} MiB | ratio ${ratio}`);
  }
}
