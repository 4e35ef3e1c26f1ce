// mkfs --root on a generated tree: 100,000 small files plus 1 GiB of mixed data by default
// (H2KIT_BENCH_SCALE=0.1 for a tenth). Prints files/s, MB/s and peak RSS for each compression,
// each run in its own process.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const scale = Number(process.env.H2KIT_BENCH_SCALE || 1);
const nFiles = Math.round(100000 * scale);
const dataBytes = Math.round(1024 * 1024 * 1024 * scale);

function makeTree(root) {
  fs.mkdirSync(root);
  let x = 12345;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let d = 0; d < Math.ceil(nFiles / 1000); d++) {
    const dir = path.join(root, `dir${d}`);
    fs.mkdirSync(dir);
    for (let i = 0; i < 1000 && d * 1000 + i < nFiles; i++) {
      const size = 100 + (rnd() % 3000);
      fs.writeFileSync(path.join(dir, `f${i}.txt`), Buffer.alloc(size, `file ${d}/${i} `));
    }
  }
  // mixed data: text, random and zero stretches in 8 MiB files
  const big = path.join(root, 'data');
  fs.mkdirSync(big);
  const chunk = 8 << 20;
  for (let i = 0; i * chunk < dataBytes; i++) {
    const b = Buffer.alloc(Math.min(chunk, dataBytes - i * chunk));
    for (let k = 0; k < b.length; k += 65536) {
      const kind = (k >> 16) % 3;
      const end = Math.min(b.length, k + 65536);
      if (kind === 0) b.fill(`text block ${k} `, k, end);
      else if (kind === 1) for (let j = k; j < end; j += 4) b.writeUInt32LE(rnd(), j);
    }
    fs.writeFileSync(path.join(big, `blob${i}`), b);
  }
}

if (process.argv[2] === '--child') {
  const [, , , root, img, comp] = process.argv;
  const mkfs = require('../dist/src/ops/mkfs');
  const format = require('../dist/src/format');
  (async () => {
    await format.initXxh64();
    const t0 = process.hrtime.bigint();
    const r = await mkfs.runMkfsWithRoot({
      devices: [img], sizes: [], version: 2, labels: [], params: {}, force: true, dryRun: false, sizeAuto: true,
      root: { dir: root, pfs: 'DATA', algos: { comp: mkfs.parseCompression(comp), check: 3 }, skipUnreadable: false },
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const p = r.populated;
    const entries = p.files + p.directories + p.symlinks + p.others;
    console.log(`${comp.padEnd(8)} ${entries} entries, ${(Number(p.bytesIn) / 1048576).toFixed(0)} MiB in ${s.toFixed(1)} s: ` +
      `${(entries / s).toFixed(0)} files/s, ${(Number(p.bytesIn) / 1048576 / s).toFixed(1)} MB/s, ` +
      `stored ${(Number(p.bytesStored) / 1048576).toFixed(0)} MiB, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  })().catch((e) => { console.error(e); process.exit(1); });
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-bench-pop-'));
  const root = path.join(dir, 'tree');
  console.log(`generating ${nFiles} small files and ${(dataBytes / 1048576).toFixed(0)} MiB of mixed data...`);
  makeTree(root);
  for (const comp of ['none', 'autozero', 'lz4', 'zlib']) {
    const img = path.join(dir, `${comp}.img`);
    spawnSync(process.execPath, [__filename, '--child', root, img, comp], { stdio: 'inherit' });
    fs.rmSync(img, { force: true });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
