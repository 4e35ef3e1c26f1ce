/** Where a finding is: the sort key of the problem model (zone, data_off, type, key) and its text. */
import { Blockref, OFF_MASK, ZONE_BYTES, breftypeName, hex64 } from '../../format';

export interface Location {
  zone: bigint;
  dataOff: bigint;
  type: number;
  key: bigint;
  where: string;
}

export function locate(type: number, dataOff: bigint, key: bigint, where?: string): Location {
  return {
    zone: (dataOff & OFF_MASK) / ZONE_BYTES,
    dataOff,
    type,
    key,
    where: where ?? `${breftypeName(type)} 0x${hex64(dataOff)} key 0x${hex64(key)}`,
  };
}

export const at = (b: Blockref, where?: string): Location => locate(b.type, b.dataOff, b.key, where);
