/**
 * The few printf conversions the DragonFly tools' output uses, reproduced exactly so that our
 * text is byte-identical to theirs.
 */

/** %-Nd / %Nd */
export const padRight = (s: string | number, w: number): string => String(s).padEnd(w, ' ');
export const padLeft = (s: string | number, w: number): string => String(s).padStart(w, ' ');

/** %0Nx of a number or bigint (negative 32-bit values print as unsigned, as in C). */
export function hexN(v: number | bigint, width: number): string {
  const x = typeof v === 'bigint' ? v : BigInt(v >>> 0);
  return x.toString(16).padStart(width, '0');
}

/**
 * `%W.Pf` of num/den, rounded exactly as glibc does: to nearest, ties to even. The values the
 * tools print are byte counts over powers of two, where exact ties do occur.
 */
export function fixedRatio(num: bigint, den: bigint, precision: number, width = 0): string {
  const neg = num < 0n !== den < 0n && num !== 0n;
  if (num < 0n) num = -num;
  if (den < 0n) den = -den;
  const scale = 10n ** BigInt(precision);
  const scaled = num * scale;
  let q = scaled / den;
  const r = scaled % den;
  if (r * 2n > den || (r * 2n === den && q % 2n === 1n)) q += 1n;
  let digits = q.toString().padStart(precision + 1, '0');
  if (precision > 0) digits = digits.slice(0, -precision) + '.' + digits.slice(-precision);
  return padLeft((neg ? '-' : '') + digits, width);
}

/**
 * strftime("%d-%b-%Y %H:%M:%S") of a HAMMER2 time (microseconds), in the local zone as the
 * tools use localtime(); run with TZ=UTC for reproducible output.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export function time64ToStr(usec: bigint): string {
  let secs = usec / 1000000n;
  if (secs >= 1n << 63n) secs -= 1n << 64n; // time_t is signed
  const ms = Number(secs) * 1000;
  const d = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) return '(time out of range)';
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getDate())}-${MONTHS[d.getMonth()]}-${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/**
 * `%*.*s` of a byte string: at most `n` bytes, stopping at a NUL, right-aligned in `n`
 * columns. Returned as a latin1 string so that raw bytes pass through unchanged.
 */
export function cName(bytes: Uint8Array, n: number): string {
  let len = Math.min(n, bytes.length);
  const nul = bytes.subarray(0, len).indexOf(0);
  if (nul >= 0) len = nul;
  return padLeft(Buffer.from(bytes.subarray(0, len)).toString('latin1'), n);
}

/** The tools' `sizetostr`: "%6.2f" in the largest unit the value reaches half of. */
export function sizeToStr(size: bigint): string {
  const units: [bigint, string][] = [
    [1n << 40n, 'TB'],
    [1n << 30n, 'GB'],
    [1n << 20n, 'MB'],
    [1n << 10n, 'KB'],
  ];
  for (const [unit, name] of units) if (size * 2n >= unit) return fixedRatio(size, unit, 2, 6) + name;
  return fixedRatio(size, 1n, 2, 6) + 'B';
}
