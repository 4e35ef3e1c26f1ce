/**
 * Sizes on the command line: plain bytes, or a number with a K/M/G/T/P suffix in either case
 * (powers of 1024), checked against the rules newfs_hammer2 applies. Errors name the rule.
 */
import { H2Error, EXIT } from '../../engine/errors';
import { sizeToStr } from '../common/cfmt';

const SUFFIX: Record<string, bigint> = { '': 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n };

export function parseSize(text: string, what: string): bigint {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*([kmgtp]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new H2Error(`${what}: '${text}' is not a size (plain bytes, or a number with K, M, G, T or P)`, EXIT.USAGE);
  return BigInt(m[1]) * SUFFIX[m[2].toLowerCase()];
}

export interface SizeRule {
  min?: bigint;
  max?: bigint;
  /** must be a multiple of this */
  align?: bigint;
}

export function checkSize(value: bigint, what: string, text: string, rule: SizeRule): bigint {
  if (rule.min !== undefined && value < rule.min) {
    throw new H2Error(`${what}: ${text} is too small: the minimum is ${sizeToStr(rule.min).trim()}`, EXIT.USAGE);
  }
  if (rule.max !== undefined && value > rule.max) {
    throw new H2Error(`${what}: ${text} is too large: the maximum is ${sizeToStr(rule.max).trim()}`, EXIT.USAGE);
  }
  if (rule.align !== undefined && value % rule.align !== 0n) {
    throw new H2Error(`${what}: ${text} is not a multiple of ${sizeToStr(rule.align).trim()}`, EXIT.USAGE);
  }
  return value;
}

