/**
 * The API's own behaviour beyond the documented examples, through `require('h2kit')`: streams
 * that fail, streams that are slow, sessions given instead of paths, lookups by number, and the
 * typed errors of bad options.
 */
import { Writable } from 'node:stream';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { sameBytes, tempDir } from '../helpers/cli';
import { refImage, refText } from '../helpers/reference';
import { requireFreshBuild } from './consumer';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const api: typeof import('../../src/index') = require('h2kit');

const mkDefault = (): string => path.join(refImage('mk_default').dir, 'mk_default.img');
const aImg = (): string => path.join(refImage('a').dir, 'a.img');

let dir: string;
beforeAll(() => {
  requireFreshBuild();
  dir = tempDir('api-behaviour');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Images are large and sparse: copy them as holes. */
function sparseCopy(src: string, name: string): string {
  const dst = path.join(dir, name);
  execFileSync('cp', ['--sparse=always', src, dst]);
  return dst;
}

async function collect(r: NodeJS.ReadableStream): Promise<{ bytes: Buffer; error: Error | null }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of r) parts.push(c as Buffer);
    return { bytes: Buffer.concat(parts), error: null };
  } catch (e) {
    return { bytes: Buffer.concat(parts), error: e as Error };
  }
}

test('a damaged data block ends the file stream with the check error, after the good bytes before it', async () => {
  const copy = sparseCopy(mkDefault(), 'damaged.img');
  const s0 = await api.openReadOnly(mkDefault());
  let whole: Buffer;
  let third: bigint;
  try {
    const ino = api.lookup(s0, api.openPfs(s0), '/files/big-3m');
    whole = (await collect(api.readFileStream(s0, ino))).bytes;
    const data = [...s0.fs.scan(ino.bref, 0n, ino.inode.meta.size - 1n)].filter((b) => api.breftypeName(b.type) === 'data');
    expect(data.length).toBeGreaterThan(3);
    third = data[2].key;
    const fd = fs.openSync(copy, 'r+');
    // a single volume: the logical offset is the image offset; the low 6 bits are the radix
    fs.writeSync(fd, Buffer.from('not what was written'), 0, 20, Number((data[2].dataOff & ~0x3fn) + 100n));
    fs.closeSync(fd);
  } finally {
    s0.close();
  }
  expect(whole.length).toBe(3 << 20);
  const s = await api.openReadOnly(copy);
  try {
    const got = await collect(api.readFileStream(s, api.lookup(s, api.openPfs(s), '/files/big-3m')));
    expect(got.error?.message).toMatch(/check/i);
    expect(got.bytes.length).toBe(Number(third));
    expect(got.bytes.equals(whole.subarray(0, Number(third)))).toBe(true);
  } finally {
    s.close();
  }
});

test('readFileStream refuses what is not a regular file', async () => {
  const s = await api.openReadOnly(mkDefault());
  try {
    const pfs = api.openPfs(s);
    expect(() => api.readFileStream(s, api.lookup(s, pfs, '/files'))).toThrow(api.H2Error);
    expect(() => api.readFileStream(s, api.lookup(s, pfs, '/links/short'))).toThrow(/SOFTLINK, not a regular file/);
    expect(() => api.listDirectory(s, api.lookup(s, pfs, '/files/b1'))).toThrow(/not a directory/);
  } finally {
    s.close();
  }
});

test('lookup by path, by #number, 0x number, decimal and bigint find the same inode', async () => {
  const s = await api.openReadOnly(mkDefault());
  try {
    const pfs = api.openPfs(s, 'DATA');
    const byPath = api.lookup(s, pfs, '/nested');
    const inum = byPath.inode.meta.inum;
    for (const t of [`#${inum}`, `0x${inum.toString(16)}`, `${inum}`, inum]) {
      expect(api.lookup(s, pfs, t).bref.dataOff).toBe(byPath.bref.dataOff);
    }
    expect(() => api.lookup(s, pfs, '/nested/none')).toThrow(api.NotFoundError);
    expect(() => api.openPfs(s, 'NOPE')).toThrow(api.NotFoundError);
  } finally {
    s.close();
  }
});

test('a session given to the dump functions stays open; the text equals hammer2 volhdr', async () => {
  const s = await api.openReadOnly(aImg());
  try {
    const text = await api.dumpText(s, 'volhdr');
    // the reference ran from inside the image folder: it printed the bare name
    expect(text.split(aImg()).join('a.img')).toBe(refText('a.volhdr.txt').toString('latin1'));
    expect(api.listPfs(s).map((p) => p.name)).toEqual(['DATA', 'LOCAL']);
  } finally {
    s.close();
  }
});

test('dumpToStream: any chunk size and any slow stream get the same bytes as dumpText, in order', async () => {
  const s = await api.openReadOnly(mkDefault());
  try {
    const want = Buffer.from(await api.dumpText(s, 'show', { verbose: true }), 'latin1');
    expect(want.length).toBeGreaterThan(100000);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300000 }), fc.integer({ min: 1, max: 1 << 20 }), fc.boolean(), async (chunkBytes, highWaterMark, async) => {
        const got: Buffer[] = [];
        let pending = 0;
        const out = new Writable({
          highWaterMark,
          write(chunk: Buffer, _enc, cb) {
            got.push(chunk);
            pending++;
            const done = (): void => {
              pending--;
              cb();
            };
            if (async) setImmediate(done);
            else done();
          },
        });
        await api.dumpToStream(s, 'show', out, { verbose: true, chunkBytes });
        // resolved only after the stream took every chunk
        expect(pending).toBe(0);
        expect(Buffer.concat(got).equals(want)).toBe(true);
        if (chunkBytes < want.length) expect(got.length).toBeGreaterThan(1);
      }),
      { numRuns: 12 },
    );
  } finally {
    s.close();
  }
});

test('bad options are usage errors (exit 2), refusals and missing devices keep their codes', async () => {
  const usage = expect.objectContaining({ exitCode: api.EXIT.USAGE });
  await expect(api.reblock(mkDefault(), { types: 'data,bogus', dryRun: true })).rejects.toEqual(usage);
  await expect(api.reblock(mkDefault(), { types: ['data', 'bogus' as 'data'], dryRun: true })).rejects.toEqual(usage);
  await expect(api.repair(mkDefault(), { mode: 'ask' })).rejects.toEqual(usage);
  await expect(api.mkfs({ devices: [] })).rejects.toEqual(usage);
  await expect(api.mkfs({ devices: path.join(dir, 'u.img'), size: 1n << 30n, fsid: 'not-a-uuid' })).rejects.toEqual(usage);
  await expect(api.mkfs({ devices: path.join(dir, 'none.img') })).rejects.toEqual(expect.objectContaining({ exitCode: api.EXIT.CANNOT_OPEN }));
  // an existing filesystem is refused without force, and nothing is written
  const img = sparseCopy(aImg(), 'keep.img');
  await expect(api.mkfs({ devices: img })).rejects.toEqual(expect.objectContaining({ exitCode: api.EXIT.REFUSED }));
  expect(sameBytes(img, aImg())).toBe(true);
  const dry = await api.mkfs({ devices: img, dryRun: true, fsid: '11111111-2222-3333-4444-555555555555' });
  expect(api.uuidToString(dry.params.volFsid)).toBe('11111111-2222-3333-4444-555555555555');
  expect(dry.found.length).toBeGreaterThan(0);
});
