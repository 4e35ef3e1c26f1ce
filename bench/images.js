// Builders of the generated benchmark images, each run in its own process:
//   node bench/images.js --fragmented IMG FILES   files of interleaved small and large sizes on
//                                                 a 10 GiB image, then half of them deleted
//   node bench/images.js --inodes IMG COUNT       COUNT inodes (empty files, one in four with a
//                                                 line of text in the inode), 1,000 a directory
// Both write through the engine (no source tree on disk), committing as they go so that memory
// stays bounded.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { REF } = require('./common');

async function fragmented(img, files) {
  const E = require('../dist/src/engine');
  const F = require('../dist/src/format');
  await F.initXxh64();
  const dir = path.dirname(img);
  execFileSync('tar', ['-xzf', path.join(REF, 'n10g.img.tar.gz'), '-C', dir]);
  fs.renameSync(path.join(dir, 'n10g.img'), img);
  let x = 99;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  let s = await E.WriteSession.open(img, { purpose: 'bench' });
  let w = new E.FsWriter(s);
  let pfs = w.pfsRoot('DATA');
  const d0 = w.create(pfs, pfs, Buffer.from('d'), { type: F.OBJTYPE_DIRECTORY, mode: 0o755, mtime: 0n });
  for (let i = 0; i < files; i++) {
    const size = i % 2 ? 500 + (rnd() % 3000) : 100000 + (rnd() % 300000);
    const b = Buffer.alloc(size);
    for (let k = 0; k + 4 <= size; k += 4) b.writeUInt32LE(rnd(), k);
    const f = w.create(pfs, d0, Buffer.from(`f${i}`), { type: F.OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
    w.writeContents(f, b);
    w.finish(f);
  }
  s.commit();
  s.close();
  s = await E.WriteSession.open(img, { purpose: 'bench' });
  w = new E.FsWriter(s);
  pfs = w.pfsRoot('DATA');
  const d = w.resolve(pfs, 'd');
  for (let i = 0; i < files; i++) if (i % 4 < 2) w.unlink(pfs, d, Buffer.from(`f${i}`));
  s.commit();
  s.close();
}

async function inodes(img, count) {
  const E = require('../dist/src/engine');
  const F = require('../dist/src/format');
  const M = require('../dist/src/ops/mkfs');
  await F.initXxh64();
  M.runMkfs({ devices: [img], sizes: [8n << 30n], version: 2, labels: [], params: {}, force: true, dryRun: false });
  const PER_DIR = 1000;
  const PER_COMMIT = 50000;
  for (let done = 0; done < count; ) {
    const s = await E.WriteSession.open(img, { purpose: 'bench' });
    const w = new E.FsWriter(s);
    const pfs = w.pfsRoot('DATA');
    const stop = Math.min(count, done + PER_COMMIT);
    while (done < stop) {
      const d = w.create(pfs, pfs, Buffer.from(`d${Math.floor(done / PER_DIR)}`), { type: F.OBJTYPE_DIRECTORY, mode: 0o755, mtime: 0n });
      for (let i = 0; i < PER_DIR && done < stop; i++, done++) {
        const f = w.create(pfs, d, Buffer.from(`file-${i}`), { type: F.OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
        if (i % 4 === 0) w.writeContents(f, Buffer.from(`small file ${done}\n`));
        w.finish(f);
      }
      w.finish(d);
    }
    s.commit();
    s.close();
  }
}

const [, , what, img, n] = process.argv;
const job = what === '--fragmented' ? fragmented : what === '--inodes' ? inodes : null;
if (!job) {
  console.error('usage: node bench/images.js --fragmented IMG FILES | --inodes IMG COUNT');
  process.exit(2);
}
job(img, Number(n)).catch((e) => {
  console.error(e);
  process.exit(1);
});
