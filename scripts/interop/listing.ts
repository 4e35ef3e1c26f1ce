/**
 * Listings of the regular files a tree holds (path bytes → size and SHA-256), taken from a
 * directory on the host or from an image through h2kit's reader, and their comparison. makefs's
 * offline read extracts regular files and directories only, so that is what is compared.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { OBJTYPE_DIRECTORY, OBJTYPE_REGFILE } from '../../src/format';
import { InodeRef } from '../../src/engine';
import { openImage } from '../../test/helpers/image';

export interface FileFact {
  size: number;
  sha256: string;
}
/** keyed by the hex of the path bytes below the root ('/'-separated) */
export type Listing = Map<string, FileFact>;

const SLASH = Buffer.from('/');
const hexPath = (parts: Buffer[]): string => Buffer.concat(parts.flatMap((p, i) => (i ? [SLASH, p] : [p]))).toString('hex');

function hashFile(p: Buffer): FileFact {
  const h = createHash('sha256');
  const fd = fs.openSync(p as unknown as string, 'r');
  const buf = Buffer.alloc(1 << 20);
  let size = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { size, sha256: h.digest('hex') };
}

/** The regular files under `root` on the host; `skip(hexPath)` leaves some out. */
export function listDir(root: string, skip: (hex: string) => boolean = () => false): Listing {
  const out: Listing = new Map();
  const walk = (dir: Buffer, parts: Buffer[]): void => {
    const names = fs.readdirSync(dir as unknown as string, { encoding: 'buffer' }) as Buffer[];
    for (const name of names) {
      const abs = Buffer.concat([dir, SLASH, name]);
      const st = fs.lstatSync(abs as unknown as string);
      const rel = [...parts, name];
      if (st.isDirectory()) walk(abs, rel);
      else if (st.isFile() && !skip(hexPath(rel))) out.set(hexPath(rel), hashFile(abs));
    }
  };
  walk(Buffer.from(root), []);
  return out;
}

/** The regular files of PFS `label` in image `img`, as h2kit reads them (holes read as zeros). */
export function listImage(img: string, label: string): Listing {
  const out: Listing = new Map();
  const im = openImage(img);
  try {
    const pfs = im.fs.findPfs(label);
    const walk = (dir: InodeRef, parts: Buffer[]): void => {
      for (const e of im.fs.readdir(dir)) {
        const ino = im.fs.lookupInum(pfs, e.inum);
        const rel = [...parts, Buffer.from(e.name)];
        if (ino.inode.meta.type === OBJTYPE_DIRECTORY) walk(ino, rel);
        else if (ino.inode.meta.type === OBJTYPE_REGFILE) {
          const h = createHash('sha256');
          const size = Number(ino.inode.meta.size);
          let at = 0;
          const zeros = (n: number): void => {
            for (; n > 0; n -= 1 << 20) h.update(Buffer.alloc(Math.min(n, 1 << 20)));
          };
          im.fs.readFile(ino, (off, bytes) => {
            zeros(Number(off) - at);
            h.update(bytes);
            at = Number(off) + bytes.length;
          });
          zeros(size - at);
          out.set(hexPath(rel), { size, sha256: h.digest('hex') });
        }
      }
    };
    walk({ bref: pfs.bref, inode: pfs.inode }, []);
  } finally {
    im.close();
  }
  return out;
}

const show = (hex: string): string => JSON.stringify(Buffer.from(hex, 'hex').toString('latin1')).slice(0, 80);

/** What differs between the expected files and the ones read back (empty when identical). */
export function compareListings(expected: Listing, got: Listing): string[] {
  const diffs: string[] = [];
  for (const [p, f] of expected) {
    const g = got.get(p);
    if (!g) diffs.push(`missing ${show(p)}`);
    else if (g.size !== f.size) diffs.push(`${show(p)}: ${g.size} bytes, expected ${f.size}`);
    else if (g.sha256 !== f.sha256) diffs.push(`${show(p)}: contents differ`);
  }
  for (const p of got.keys()) if (!expected.has(p)) diffs.push(`unexpected ${show(p)}`);
  return diffs;
}
