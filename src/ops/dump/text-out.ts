/**
 * Text output built straight into one large byte buffer. The dumps print millions of short
 * fields; as JavaScript strings each would be an allocation, a concatenation and finally an
 * encoding pass, which left most of the run to the garbage collector. Here every field is
 * written in place as latin1 bytes (name bytes pass through unchanged), and the buffer is
 * handed on only when full or at the end.
 */

const HEX_DIGITS = '0123456789abcdef';
const HEX = Uint8Array.from(HEX_DIGITS, (c) => c.charCodeAt(0));
const SPACE = 0x20;
const WORD = 8;
const SPACES8 = new Float64Array(new Uint8Array(WORD).fill(SPACE).buffer)[0];
const ZERO = 0x30;
const TWO_32 = 4294967296;
/** Below this the high half of a 64-bit value keeps the whole value exact as a Number. */
const EXACT_HI = 1 << 21;
/** Below this a value is a small integer to the engine, and `| 0` divides it exactly. */
const SMALL = 2 ** 31;

/** Pairs of hex digits by byte value, as one little-endian 16-bit store (high digit first). */
const HEX2 = Uint16Array.from({ length: 256 }, (_, x) => HEX[x >> 4] | (HEX[x & 15] << 8));

/**
 * Text printed often enough to be encoded once (labels with their indentation, names, times).
 * ASCII text is copied eight bytes at a time as a float64: no ASCII byte pattern is a NaN
 * (that needs 0x7ff in the top twelve bits), so the copy keeps every bit.
 */
export class Text {
  readonly bytes: Uint8Array;
  /** the bytes, zero padded to whole eight-byte words */
  readonly view: DataView;
  readonly ascii: boolean;

  constructor(s: string) {
    const raw = Buffer.from(s, 'latin1');
    const padded = new Uint8Array(Math.ceil(raw.length / 8) * 8);
    padded.set(raw);
    this.bytes = padded.subarray(0, raw.length);
    this.view = new DataView(padded.buffer);
    this.ascii = this.bytes.every((c) => c < 0x80);
  }
}

/** Receives each full buffer; the bytes are valid only during the call (the buffer is reused). */
export type ChunkSink = (bytes: Uint8Array) => void;

export class TextOut {
  /** `capacity` bytes, and a word of slack: whole words may be stored past the end of the text */
  private readonly buf: Buffer;
  private readonly view: DataView;
  private readonly capacity: number;
  private pos = 0;

  constructor(
    private readonly sink: ChunkSink,
    capacity = 1 << 20,
  ) {
    this.capacity = capacity;
    this.buf = Buffer.allocUnsafe(capacity + WORD);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Hand on what is buffered. */
  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    this.sink(this.buf.subarray(0, n));
  }

  /** Make room for `n` more bytes; false when they can never fit (the caller streams them). */
  private room(n: number): boolean {
    if (this.pos + n <= this.capacity) return true;
    this.flush();
    return n <= this.capacity;
  }

  /** A string of latin1 characters (ASCII text, or bytes decoded as latin1). */
  str(s: string): void {
    const n = s.length;
    if (!this.room(n)) {
      this.sink(Buffer.from(s, 'latin1'));
      return;
    }
    const b = this.buf;
    let p = this.pos;
    if (n > 32) p += b.write(s, p, n, 'latin1');
    else for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** One character code. */
  ch(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  /** `n` spaces (none when n <= 0). */
  spaces(n: number): void {
    if (n <= 0) return;
    if (!this.room(n)) {
      for (; n > 0; n -= this.capacity) this.spaces(Math.min(n, this.capacity));
      return;
    }
    // Half of a show's bytes are indentation. Whole words through a float64 whose bytes are
    // all spaces (a plain number, not a NaN, so its bits are kept), the last one running
    // into the slack; Buffer.fill's argument checks cost more than the short runs themselves.
    const v = this.view;
    const p = this.pos;
    for (let i = 0; i < n; i += WORD) v.setFloat64(p + i, SPACES8, true);
    this.pos = p + n;
  }

  /** Raw bytes [start, end) of `src`. */
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (!this.room(n)) {
      this.sink(src.subarray(start, end));
      return;
    }
    if (n > 64) this.buf.set(src.subarray(start, end), this.pos);
    else {
      // most are names and cached fields: a loop beats making a view to copy from
      const b = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) b[p++] = src[i];
    }
    this.pos += n;
  }

  /** Text encoded once. */
  text(t: Text): void {
    const src = t.bytes;
    const n = src.length;
    if (!t.ascii || !this.room(n)) {
      this.bytes(src, 0, n);
      return;
    }
    // whole words, the last one running into the slack
    const v = this.view;
    const sv = t.view;
    const p = this.pos;
    for (let i = 0; i < n; i += WORD) v.setFloat64(p + i, sv.getFloat64(i, true), true);
    this.pos = p + n;
  }

  /** `%0Nx` of an unsigned 32-bit value, `width` 1..8. */
  hex(v: number, width: number): void {
    this.room(8);
    v >>>= 0;
    // as printf: a value wider than the field takes the digits it needs
    let w = width;
    while (w < 8 && v >>> (4 * w) !== 0) w++;
    const b = this.buf;
    let p = this.pos + w;
    this.pos = p;
    for (let i = 0; i < w; i++) {
      b[--p] = HEX[v & 15];
      v >>>= 4;
    }
  }

  /** `%016jx` of the 64-bit value hi:lo. */
  hex64(hi: number, lo: number): void {
    this.room(16);
    const v = this.view;
    const p = this.pos;
    v.setUint16(p, HEX2[hi >>> 24], true);
    v.setUint16(p + 2, HEX2[(hi >>> 16) & 255], true);
    v.setUint16(p + 4, HEX2[(hi >>> 8) & 255], true);
    v.setUint16(p + 6, HEX2[hi & 255], true);
    v.setUint16(p + 8, HEX2[lo >>> 24], true);
    v.setUint16(p + 10, HEX2[(lo >>> 16) & 255], true);
    v.setUint16(p + 12, HEX2[(lo >>> 8) & 255], true);
    v.setUint16(p + 14, HEX2[lo & 255], true);
    this.pos = p + 16;
  }

  /** `%d` of an integer below 2^53 in magnitude. */
  dec(v: number): void {
    this.room(17);
    const b = this.buf;
    if (v < 0) {
      b[this.pos++] = 0x2d;
      v = -v;
    }
    if (v < 10) {
      b[this.pos++] = ZERO + v;
      return;
    }
    if (v < SMALL) {
      // integer arithmetic for the common case
      let digits = 1;
      for (let t = v; t >= 10; t = (t / 10) | 0) digits++;
      let p = this.pos + digits;
      this.pos = p;
      while (v >= 10) {
        const q = (v / 10) | 0;
        b[--p] = ZERO + (v - q * 10);
        v = q;
      }
      b[--p] = ZERO + v;
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      b[--p] = ZERO + (v - q * 10);
      v = q;
    }
    b[--p] = ZERO + v;
  }

  /** `%ju` of the unsigned 64-bit value hi:lo. */
  u64(hi: number, lo: number): void {
    if (hi < EXACT_HI) this.dec(hi * TWO_32 + lo);
    else this.str(((BigInt(hi) << 32n) | BigInt(lo)).toString());
  }

  /** `%-Nd` of a small non-negative integer: the digits, then spaces up to `width`. */
  decLeft(v: number, width: number): void {
    // with room for both, neither write below flushes, so pos measures what dec() wrote
    this.room(17 + width);
    const start = this.pos;
    this.dec(v);
    this.spaces(width - (this.pos - start));
  }
}
