/** Writing to stdout and output files: complete, ordered, synchronous writes. */
import * as fs from 'node:fs';
import { TextSink } from '../ops/dump/show';
import { ByteSink } from '../ops/dump/objects';

/**
 * Write all of `buf`, at `position` or at the current offset. Node leaves pipes non-blocking,
 * so a full pipe answers EAGAIN: wait for the reader and go on.
 */
export function writeFully(fd: number, buf: Uint8Array, position: number | null = null): void {
  let off = 0;
  while (off < buf.length) {
    try {
      const at = position === null ? null : position + off;
      off += fs.writeSync(fd, buf, off, buf.length - off, at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** Collects latin1 text and writes it in large chunks; byte chunks go out as they come. */
export class FdSink implements TextSink {
  private parts: string[] = [];
  private size = 0;

  constructor(
    private readonly fd: number,
    private readonly limit = 1 << 20,
  ) {}

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.limit) this.flush();
  }

  /** Bytes already gathered into a large buffer by the caller: written at once, after any text. */
  writeBytes(bytes: Uint8Array): void {
    this.flush();
    writeFully(this.fd, bytes);
  }

  flush(): void {
    if (this.size === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'latin1');
    this.parts = [];
    this.size = 0;
    writeFully(this.fd, buf);
  }
}

/** File contents to a descriptor: positioned writes and a final size for files, a stream otherwise. */
export function fdByteSink(fd: number): ByteSink {
  const seekable = fs.fstatSync(fd).isFile();
  return {
    seekable,
    write: (bytes, at) => writeFully(fd, bytes, seekable ? Number(at) : null),
    setSize: (size) => {
      if (seekable) fs.ftruncateSync(fd, Number(size));
    },
  };
}
