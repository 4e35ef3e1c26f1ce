// reblock: bytes relocated per second on a fragmented image, against a raw copy (cp, then
// fsync) of the same number of bytes on the same filesystem. The image: files of interleaved
// small and large sizes, then half of them deleted. H2KIT_BENCH_SCALE scales the file count.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REF = process.env.H2KIT_REFERENCE || path.resolve(__dirname, '../test/fixtures/reference');
const scale = Number(process.env.H2KIT_BENCH_SCALE || 1);
const FILES = Math.max(40, Math.round(2000 * scale));

async function build(img) {
  const E = require('../dist/src/engine');
  const F = require('../dist/src/format');
  await F.initXxh64();
  let x = 99;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  let s = await E.WriteSession.open(img, { purpose: 'bench' });
  let w = new E.FsWriter(s);
  let pfs = w.pfsRoot('DATA');
  const dir = w.create(pfs, pfs, Buffer.from('d'), { type: F.OBJTYPE_DIRECTORY, mode: 0o755, mtime: 0n });
  for (let i = 0; i < FILES; i++) {
    const size = i % 2 ? 500 + (rnd() % 3000) : 100000 + (rnd() % 300000);
    const b = Buffer.alloc(size);
    for (let k = 0; k + 4 <= size; k += 4) b.writeUInt32LE(rnd(), k);
    const f = w.create(pfs, dir, Buffer.from(`f${i}`), { type: F.OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
    w.writeContents(f, b);
    w.finish(f);
  }
  s.commit();
  s.close();
  s = await E.WriteSession.open(img, { purpose: 'bench' });
  w = new E.FsWriter(s);
  pfs = w.pfsRoot('DATA');
  const d = w.resolve(pfs, 'd');
  for (let i = 0; i < FILES; i++) if (i % 4 < 2) w.unlink(pfs, d, Buffer.from(`f${i}`));
  s.commit();
  s.close();
}

async function reblock(img) {
  const R = require('../dist/src/ops/reblock');
  const F = require('../dist/src/format');
  await F.initXxh64();
  const t0 = process.hrtime.bigint();
  const r = await R.runReblock(img, { fillLevel: 95, types: new Set(R.ITEM_TYPES), commitEveryBytes: R.DEFAULT_COMMIT_EVERY, reserveBytes: 0n, dryRun: false });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ s, moved: Number(r.bytesMoved), blocks: Object.values(r.counters).reduce((n, c) => n + c.moved, 0), freed: r.segmentsFreed, partial: [r.partialBefore, r.partialAfter], rss: process.resourceUsage().maxRSS }));
}

if (process.argv[2] === '--build') build(process.argv[3]).catch((e) => { console.error(e); process.exit(1); });
else if (process.argv[2] === '--reblock') reblock(process.argv[3]).catch((e) => { console.error(e); process.exit(1); });
else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2kit-bench-reblock-'));
  try {
    execFileSync('tar', ['-xzf', path.join(REF, 'n10g.img.tar.gz'), '-C', dir]);
    const img = path.join(dir, 'n10g.img');
    if (spawnSync(process.execPath, [__filename, '--build', img], { stdio: 'inherit' }).status !== 0) process.exit(1);
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
