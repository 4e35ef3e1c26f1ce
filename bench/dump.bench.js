// Times `dump show -v` and a full check-code verification on the largest reference image
// (mk_default: 8 GiB, every file of the source tree) and prints blockrefs/s and MB/s.
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
    const r = dump.renderShow(vols, 'show', { ...dump.DEFAULT_SHOW_OPTIONS, verbose: 1 }, { write: (s) => (chars += s.length) });
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
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
