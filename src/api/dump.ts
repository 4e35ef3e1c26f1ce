/** dump show, freemap and volhdr as library calls: to a string, a sink, a Node stream, or the JSON body. */
import { Writable } from 'node:stream';
import { OpenOptions, ReadSession, openReadOnly } from '../engine';
import { initXxh64 } from '../format';
import { DEFAULT_SHOW_OPTIONS, ShowResult, ShowWhich, TextSink, renderShow, showJson } from '../ops/dump';

export type DumpWhich = ShowWhich;

export interface DumpOptions {
  /** also read data blocks and verify their check codes (hammer2 -v) */
  verbose?: boolean;
  /** every volume header copy, not only the best */
  allHeaders?: boolean;
  /** with a device path: read it even while another h2kit process writes it */
  force?: boolean;
  /** where the tool's stderr lines (header copies passed over) go; default: dropped */
  diagnostics?: TextSink;
  /** dumpToStream: bytes per write to the stream (default 1 MiB) */
  chunkBytes?: number;
}

/** A device path (opened read-only and closed again) or a session the caller keeps open. */
export type DumpSource = string | ReadSession;

async function withSession<T>(src: DumpSource, opts: OpenOptions, fn: (s: ReadSession) => T): Promise<T> {
  if (typeof src !== 'string') {
    await initXxh64();
    return fn(src);
  }
  const s = await openReadOnly(src, opts);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

const showOpts = (o: DumpOptions) => ({ verbose: o.verbose ? 1 : 0, allHeaders: o.allHeaders ?? false });

/**
 * The text of `hammer2 show|freemap|volhdr`, byte for byte, to any sink with write(text).
 * Text is latin1 (one character per byte), so name bytes pass through unchanged.
 */
export async function dumpToSink(src: DumpSource, which: DumpWhich, out: TextSink, o: DumpOptions = {}): Promise<ShowResult> {
  return withSession(src, { allowWriter: o.force }, (s) => renderShow(s.vols, which, { ...DEFAULT_SHOW_OPTIONS, ...showOpts(o) }, out, o.diagnostics));
}

/** The dump as one string (latin1: one character per byte). */
export async function dumpText(src: DumpSource, which: DumpWhich, o: DumpOptions = {}): Promise<string> {
  const parts: string[] = [];
  await dumpToSink(src, which, { write: (t) => void parts.push(t) }, o);
  return parts.join('');
}

const STREAM_CHUNK = 1 << 20;

/**
 * The dump written to a Node stream as bytes, in chunks of `chunkBytes`; resolves once the stream has
 * taken the last chunk. The stream is not ended (pass process.stdout, or end a file stream
 * yourself). The rendering is synchronous: chunks wait in the stream's buffer until it drains.
 */
export async function dumpToStream(src: DumpSource, which: DumpWhich, out: Writable, o: DumpOptions = {}): Promise<ShowResult> {
  let parts: Buffer[] = [];
  let size = 0;
  let last: Promise<void> = Promise.resolve();
  const flush = (): void => {
    if (size === 0) return;
    const buf = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    last = new Promise((resolve, reject) => out.write(buf, (e) => (e ? reject(e) : resolve())));
    // the last write's callback stands for all of them; earlier ones must not go unhandled
    last.catch(() => undefined);
  };
  const limit = Math.max(1, o.chunkBytes ?? STREAM_CHUNK);
  // the renderer hands over its own buffer, valid only during the call: copy it, cut to the limit
  const push = (b: Uint8Array): void => {
    for (let off = 0; off < b.length; ) {
      const n = Math.min(limit - size, b.length - off);
      parts.push(Buffer.from(b.subarray(off, off + n)));
      size += n;
      off += n;
      if (size >= limit) flush();
    }
  };
  const sink: TextSink = { write: (t) => push(Buffer.from(t, 'latin1')), writeBytes: push };
  const r = await dumpToSink(src, which, sink, o);
  flush();
  await last;
  return r;
}

/** The dump as the plain object the CLI's --json prints (before its envelope): 64-bit values are bigint. */
export async function dumpJson(src: DumpSource, which: DumpWhich, o: DumpOptions = {}): Promise<Record<string, unknown>> {
  return withSession(src, { allowWriter: o.force }, (s) => showJson(s, which, showOpts(o)));
}
