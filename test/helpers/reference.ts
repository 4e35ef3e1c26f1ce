/**
 * Access to test/fixtures/reference: the DragonFly reference images and tool outputs, kept in the
 * repository so a plain clone tests itself (H2KIT_REFERENCE points elsewhere). Archives are
 * extracted once into a cache folder (sparse, so each image costs kilobytes of disk) and shared
 * by every test file. A missing reference folder is a failure, never a skip.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REF_DIR = process.env.H2KIT_REFERENCE ?? path.resolve(__dirname, '../fixtures/reference');
const CACHE = path.join(os.tmpdir(), 'h2kit-reference-cache');

export function requireReference(): string {
  if (!fs.existsSync(path.join(REF_DIR, 'manifest.json'))) {
    throw new Error(`reference data not found at ${REF_DIR}: the golden tests need test/fixtures/reference`);
  }
  return REF_DIR;
}

/** Extract `archive` (a file in the reference folder) once; returns the folder holding its contents. */
export function extracted(archive: string): string {
  requireReference();
  const src = path.join(REF_DIR, archive);
  const stamp = fs.statSync(src).mtimeMs.toFixed(0);
  const target = path.join(CACHE, `${archive.replace(/\.tar\.gz$/, '')}-${stamp}`);
  if (fs.existsSync(path.join(target, '.complete'))) return target;
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(CACHE, 'tmp-'));
  execFileSync('tar', ['-xzf', src, '-C', tmp], { stdio: ['ignore', 'ignore', 'ignore'] });
  fs.writeFileSync(path.join(tmp, '.complete'), '');
  try {
    fs.renameSync(tmp, target);
  } catch {
    // another worker got there first; its copy is identical
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

export interface RefImage {
  name: string;
  /** folder the image files are in (the tools ran from inside it) */
  dir: string;
  /** the device argument as the tools were given it */
  spec: string;
}

/** Every image named in the reference folder. */
export function referenceImageNames(): string[] {
  requireReference();
  const names = fs
    .readdirSync(REF_DIR)
    .filter((f) => f.endsWith('.img.tar.gz'))
    .map((f) => f.replace(/\.img\.tar\.gz$/, ''))
    .filter((n) => !/^multi\d$/.test(n));
  if (fs.existsSync(path.join(REF_DIR, 'multi0.img.tar.gz'))) names.push('multi');
  return names.sort();
}

export function refImage(name: string): RefImage {
  if (name === 'multi') {
    const d0 = extracted('multi0.img.tar.gz');
    const d1 = extracted('multi1.img.tar.gz');
    // The two volumes must sit side by side, as the tools saw them.
    const dir = path.join(CACHE, 'multi-pair');
    fs.mkdirSync(dir, { recursive: true });
    for (const [d, f] of [[d0, 'multi0.img'], [d1, 'multi1.img']]) {
      const link = path.join(dir, f);
      if (!fs.existsSync(link)) {
        try {
          fs.symlinkSync(path.join(d, f), link);
        } catch {
          // created concurrently
        }
      }
    }
    return { name, dir, spec: 'multi0.img:multi1.img' };
  }
  return { name, dir: extracted(`${name}.img.tar.gz`), spec: `${name}.img` };
}

export function refText(file: string): Buffer {
  return fs.readFileSync(path.join(requireReference(), file));
}

export function refExists(file: string): boolean {
  return fs.existsSync(path.join(requireReference(), file));
}

/** Run `fn` with the working directory set to `dir` (the tools print paths as given). */
export function inDir<T>(dir: string, fn: () => T): T {
  const old = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(old);
  }
}

export async function inDirAsync<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const old = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(old);
  }
}
