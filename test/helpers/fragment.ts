/**
 * A fragmented filesystem built through the engine: files of interleaved small and large sizes,
 * then every other one deleted (and every fourth of the rest), leaving partly filled segments.
 */
import { OBJTYPE_DIRECTORY, OBJTYPE_REGFILE, BREF_TYPE_VOLUME } from '../../src/format';
import { BlockSource, ChainReader, FsReader, FsWriter, VolumeSet, WritableSource, WriteSession, headerRootBref, walkTree } from '../../src/engine';
import { digestTree } from './image';
import { rng } from './corrupt';

export async function fragment(spec: string, files: number, opener?: (p: string) => WritableSource): Promise<void> {
  const r = rng(files);
  let s = await WriteSession.open(spec, { purpose: 'test', opener });
  let w = new FsWriter(s);
  let pfs = w.pfsRoot('DATA');
  const dir = w.create(pfs, pfs, Buffer.from('d'), { type: OBJTYPE_DIRECTORY, mode: 0o755, mtime: 0n });
  for (let i = 0; i < files; i++) {
    const size = i % 2 ? 500 + Math.floor(r() * 3000) : 100000 + Math.floor(r() * 300000);
    const b = Buffer.alloc(size);
    for (let k = 0; k + 4 <= size; k += 4) b.writeUInt32LE(Math.floor(r() * 2 ** 32), k);
    const f = w.create(pfs, dir, Buffer.from(`f${i}`), { type: OBJTYPE_REGFILE, mode: 0o644, mtime: 0n });
    w.writeContents(f, b);
    w.finish(f);
  }
  s.commit();
  s.close();
  s = await WriteSession.open(spec, { purpose: 'test', opener });
  w = new FsWriter(s);
  pfs = w.pfsRoot('DATA');
  const d = w.resolve(pfs, 'd');
  for (let i = 0; i < files; i++) if (i % 4 === 0 || i % 4 === 1) w.unlink(pfs, d, Buffer.from(`f${i}`));
  s.commit();
  s.close();
}

/** The digest of the DATA PFS (see digestTree). */
export function contentDigest(spec: string, dev?: BlockSource): string {
  const vols = VolumeSet.open(spec, dev ? { opener: () => dev } : {});
  try {
    return digestTree(new FsReader(new ChainReader(vols)));
  } finally {
    vols.close();
  }
}

/** Where every block is: type, key and data_off of every blockref, in walk order. */
export function layout(spec: string, dev?: BlockSource): string[] {
  const vols = VolumeSet.open(spec, dev ? { opener: () => dev } : {});
  try {
    const chains = new ChainReader(vols);
    const out: string[] = [];
    for (const v of walkTree(chains, headerRootBref(chains, BREF_TYPE_VOLUME), { readData: false })) {
      out.push(`${v.bref.type}:${v.bref.key.toString(16)}:${v.bref.dataOff.toString(16)}`);
    }
    return out;
  } finally {
    vols.close();
  }
}
