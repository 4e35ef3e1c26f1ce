/**
 * Hand-built raw LZ4 streams, for testing the decoder's end-of-block rules on streams no
 * encoder of ours would write, and the generated tree of the lz4js fixture image.
 */
import * as path from 'node:path';

/** One sequence: literals, then (unless it is the last) a match of `match` bytes at `offset`. */
export interface Seq {
  lit: Uint8Array;
  offset?: number;
  match?: number;
}

function putLength(out: number[], rest: number): void {
  while (rest >= 255) {
    out.push(255);
    rest -= 255;
  }
  out.push(rest);
}

/** The raw stream of `seqs`, tokens and length extensions as the format spells them. */
export function buildStream(seqs: Seq[]): Uint8Array {
  const out: number[] = [];
  for (const s of seqs) {
    const lit = s.lit.length;
    const m = s.match === undefined ? 0 : s.match - 4;
    out.push((Math.min(lit, 15) << 4) | Math.min(m, 15));
    if (lit >= 15) putLength(out, lit - 15);
    out.push(...s.lit);
    if (s.match === undefined) continue;
    out.push(s.offset! & 0xff, s.offset! >> 8);
    if (m >= 15) putLength(out, m - 15);
  }
  return Uint8Array.from(out);
}

/** With the 4-byte length prefix of a HAMMER2 LZ4 block. */
export function withPrefix(stream: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + stream.length);
  new DataView(out.buffer).setInt32(0, stream.length, true);
  out.set(stream, 4);
  return out;
}

/**
 * A stream for an `n`-byte block of `n - tail` bytes 'a' then `tail` literal bytes 'z', whose
 * last match (offset 1) starts `tail + 4` bytes before the end: with `tail` 7 or 6 it is what
 * lz4js wrote (too late for the kernel), with 8 it is the latest start the kernel takes.
 */
export function lateMatchStream(n: number, tail: number): Uint8Array {
  const a = Uint8Array.of(0x61);
  return buildStream([
    { lit: a, offset: 1, match: n - tail - 4 - 1 },
    { lit: new Uint8Array(0), offset: 1, match: 4 },
    { lit: new Uint8Array(tail).fill(0x7a) },
  ]);
}

export const FIXTURE_DIR = path.resolve(__dirname, '../fixtures/lz4');

const WORDS = 'the quick brown fox jumps over lazy dog hammer2 block chain inode freemap volume header lz4 zlib match literal offset'.split(' ');

/** Words in a seeded order: text lz4 packs to about half, the content of the fixture's files. */
export function words(seed: number, n: number): Buffer {
  let x = seed >>> 0;
  const r = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16;
  let s = '';
  while (s.length < n) s += WORDS[r() % WORDS.length] + (r() % 9 === 0 ? '\n' : ' ');
  return Buffer.from(s.slice(0, n));
}

/** The tree the fixture image lz4js-tail.img was made from (see test/fixtures/lz4/README.md). */
export function fixtureTree(): Map<string, Buffer> {
  return new Map([
    ['words.txt', words(7, 65536 + 3000)],
    ['sub/notes.txt', words(11, 20000)],
    ['hello.txt', Buffer.from('hello, kernel\n')],
  ]);
}
