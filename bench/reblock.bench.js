// reblock: bytes relocated per second on a fragmented image, against a raw copy (cp, then
// fsync) of the same number of bytes on the same filesystem. The image: files of interleaved
// small and large sizes, then half of them deleted. H2KIT_BENCH_SCALE scales the file count.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const scale = Number(process.env.H2KIT_BENCH_SCALE || 1);
const FILES = Math.max(40, Math.round(2000 * scale));

async function reblock(img) {
  const R = require('../dist/src/ops/reblock');
  const F = require('../dist/src/format');
  await F.initXxh64();
  const t0 = process.hrtime.bigint();
  const r = await R.runReblock(img, { fillLevel: 95, types: new Set(R.ITEM_TYPES), commitEveryBytes: R.DEFAULT_COMMIT_EVERY, reserveBytes: 0n, dryRun: false });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ s, moved: Number(r.bytesMoved), blocks: Object.values(r.counters).reduce((n, c) => n + c.moved, 0), freed: r.segmentsFreed, partial: [r.partialBefore, r.partialAfter], rss: process.resourceUsage().maxRSS }));
}

if (process.argv[2] === '--reblock') reblock(process.argv[3]).catch((e) => { console.error(e); process.exit(1); });
else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-bench-reblock-'));
  try {
    const img = path.join(dir, 'fragmented.img');
    // the same image as the table's reblock row (bench/images.js)
    if (spawnSync(process.execPath, [path.join(__dirname, 'images.js'), '--fragmented', img, String(FILES)], { stdio: 'inherit' }).status !== 0) process.exit(1);
    const out = spawnSync(process.execPath, [__filename, '--reblock', img], { encoding: 'utf8' });
    if (out.status !== 0) { console.error(out.stderr); process.exit(1); }
    const r = JSON.parse(out.stdout.trim().split('\n').pop());
    // the raw copy: the same number of bytes, cp'd and fsynced on the same filesystem
    const src = path.join(dir, 'raw.src');
    const dst = path.join(dir, 'raw.dst');
    const buf = Buffer.alloc(r.moved);
    for (let k = 0; k + 4 <= buf.length; k += 4) buf.writeUInt32LE((k * 2654435761) >>> 0, k);
    fs.writeFileSync(src, buf);
    const fd0 = fs.openSync(src, 'r'); fs.fsyncSync(fd0); fs.closeSync(fd0);
    const t0 = process.hrtime.bigint();
    execFileSync('cp', [src, dst]);
    const fd = fs.openSync(dst, 'r'); fs.fsyncSync(fd); fs.closeSync(fd);
    const cpS = Number(process.hrtime.bigint() - t0) / 1e9;
    const mb = r.moved / 1048576;
    console.log(`reblock: ${FILES} files made, half deleted; moved ${r.blocks} blocks, ${mb.toFixed(1)} MiB in ${r.s.toFixed(2)} s = ${(mb / r.s).toFixed(1)} MB/s; ` +
      `segments freed ${r.freed}; partly filled ${r.partial[0]} -> ${r.partial[1]}; peak RSS ${(r.rss / 1024).toFixed(0)} MiB`);
    console.log(`cp + fsync of the same ${mb.toFixed(1)} MiB: ${cpS.toFixed(2)} s = ${(mb / cpS).toFixed(1)} MB/s; reblock runs at ${((mb / r.s) / (mb / cpS) * 100).toFixed(0)}% of it`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
