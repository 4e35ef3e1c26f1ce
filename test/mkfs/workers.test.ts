/**
 * mkfs --root with the worker pool (issue 14): segments are read and compressed in worker
 * threads and placed in walk order, so the image is byte for byte the image of a run without
 * workers. The tree is made to reach every branch of the block preparation: files in the
 * inode, holes, incompressible runs that trip the kernel's compression heuristic across a
 * 1 MiB segment boundary (where a worker tries every block and the main thread picks), zlib.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { verifyFilesystem } from '../../src/engine';
import { openImage, readDataFile } from '../helpers/image';
import { fileSha256, h2kit, tempDir } from '../helpers/cli';

const dir = tempDir('workers');
const src = path.join(dir, 'src');

/** Deterministic bytes that lz4 cannot shrink. */
function noise(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const text = (n: number): Buffer => Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(Math.ceil(n / 44)).slice(0, n));

const files: Record<string, Buffer> = {};
function put(rel: string, data: Buffer): void {
  const p = path.join(src, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  files[rel] = data;
}

beforeAll(() => {
  put('empty', Buffer.alloc(0));
  put('tiny', text(300));
  put('a/small', text(5000));
  put('a/random', noise(70000, 7));
  // 20 incompressible blocks (the count passes 8: only every 8th block is tried), then
  // compressible ones past the first 1 MiB segment
  put('a/b/mixed', Buffer.concat([noise(20 * 65536, 11), text(30 * 65536 + 1234)]));
  put('a/b/zeros', Buffer.concat([text(65536), Buffer.alloc(3 * 65536), text(100)]));
  for (let i = 0; i < 100; i++) put(`many/f${i}`, i % 3 === 0 ? noise(1000 + i * 37, i) : text(600 + i * 91));
  fs.linkSync(path.join(src, 'a/small'), path.join(src, 'small-link'));
  fs.symlinkSync('a/small', path.join(src, 'sym'));
  // a sparse file: a hole the source does not store
  const fd = fs.openSync(path.join(src, 'sparse'), 'w');
  fs.writeSync(fd, text(4096), 0, 4096, 5 * 65536);
  fs.closeSync(fd);
  files.sparse = Buffer.concat([Buffer.alloc(5 * 65536), text(4096)]);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function mkfs(workers: string, comp: string, tag: string): string {
  const img = path.join(dir, `${tag}-${workers}.img`);
  const env = { ...process.env, TZ: 'UTC', SOURCE_DATE_EPOCH: '1700000000', H2KIT_WORKERS: workers };
  const r = h2kit(['mkfs', '-q', '--size', '1G', '--compression', comp, '--root', src, img], { env });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return img;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.each(['lz4', 'zlib'])('%s', (comp) => {
  let imgs: string[] = [];
  beforeAll(() => {
    imgs = ['0', '1', '2'].map((n) => mkfs(n, comp, comp));
  });

  test('the same image with no worker, one and two', () => {
    const [a, b, c] = imgs.map(fileSha256);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  test('the image holds the tree and verifies', () => {
    const r = openImage(imgs[2]);
    try {
      for (const [rel, data] of Object.entries(files)) expect({ rel, sha: sha(readDataFile(r.fs, rel)) }).toEqual({ rel, sha: sha(data) });
      expect(verifyFilesystem(r.chains)).toMatchObject({ checkFailures: [], holes: [], leaks: [], recoveryNeeded: false });
    } finally {
      r.close();
    }
  });
});

test('H2KIT_WORKERS must be a count', () => {
  const env = { ...process.env, H2KIT_WORKERS: 'many' };
  const r = h2kit(['mkfs', '-q', '--size', '1G', '--root', src, path.join(dir, 'bad.img')], { env });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^h2kit: H2KIT_WORKERS: 'many' is not a worker count\n$/);
});
