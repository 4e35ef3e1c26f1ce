/** A text sink that collects latin1 text and writes it to a file descriptor in large chunks. */
import * as fs from 'node:fs';
import { TextSink } from '../ops/dump/show';

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

  flush(): void {
    if (this.size === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'latin1');
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < buf.length) {
      try {
        off += fs.writeSync(this.fd, buf, off, buf.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
    }
  }
}
