/** Where a finding is: the sort key of the problem model (zone, data_off, type, key) and its text. */
import { Blockref } from '../../format/blockref';
import { hex64 } from '../../format/bytes';
import { OFF_MASK, ZONE_BYTES } from '../../format/constants';
import { breftypeName } from '../../format/names';

/**
 * The blockref a finding is about, as a repair finds it again: the PFS (key of its inode under
 * the super-root), the inode whose tree holds the blockref (its key; null for the super-root's
 * own blockref in the header), and the blockref's type, key and data_off.
 */
export interface Target {
  pfs: bigint | null;
  owner: bigint | null;
  type: number;
  key: bigint;
  dataOff: bigint;
}

export interface Location {
  zone: bigint;
  dataOff: bigint;
  type: number;
  key: bigint;
  where: string;
  target?: Target;
  /** header findings: the device holding the copy (the copy index is the key) */
  device?: string;
}

/** The text is made only when a problem is reported (the walk locates every blockref). */
export function locate(type: number, dataOff: bigint, key: bigint, where?: string | (() => string), target?: Target): Location {
  return {
    zone: (dataOff & OFF_MASK) / ZONE_BYTES,
    dataOff,
    type,
    key,
    target,
    get where(): string {
      if (typeof where === 'function') return where();
      return where ?? `${breftypeName(type)} 0x${hex64(dataOff)} key 0x${hex64(key)}`;
    },
  };
}

export const at = (b: Blockref, where?: string | (() => string)): Location => locate(b.type, b.dataOff, b.key, where);
