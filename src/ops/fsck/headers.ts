/** Pass 1: every copy of every volume header against the best one. */
import { hex64 } from '../../format/bytes';
import { BREF_TYPE_VOLUME } from '../../format/constants';
import { uuidToString } from '../../format/uuid';
import { VolumeSet } from '../../engine/volumes';
import { locate } from './location';
import { ProblemCode } from './problems';
import { Report } from './topology';

const STATUS_CODES: Record<string, ProblemCode> = {
  'bad-magic': 'HDR_BAD_MAGIC',
  'reverse-endian': 'HDR_REVERSE_ENDIAN',
  'crc-sect0': 'HDR_CRC',
  'crc-sect1': 'HDR_CRC',
  'crc-volheader': 'HDR_CRC',
  short: 'HDR_SHORT',
};

export function headerPass(vols: VolumeSet, report: Report): void {
  for (const t of vols.truncated) {
    report('VOLUME_TRUNCATED', locate(BREF_TYPE_VOLUME, 0n, 0n, t.path), `0x${hex64(t.volumeSize)} bytes in the header, 0x${hex64(t.deviceSize)} on the device`);
  }
  for (const v of vols.list) {
    const best = v.selection.copies[v.selection.best];
    for (const c of v.selection.copies) {
      const loc = { ...locate(BREF_TYPE_VOLUME, c.offset, BigInt(c.index), `${v.path} copy ${c.index}`), device: v.path };
      const code = STATUS_CODES[c.status];
      if (code) {
        report(code, loc, c.detail);
        continue;
      }
      if (c.status !== 'ok' || c === best) continue;
      const h = c.header!;
      const b = best.header!;
      if (h.mirrorTid < b.mirrorTid) report('HDR_STALE', loc, `mirror_tid 0x${hex64(h.mirrorTid)} < 0x${hex64(b.mirrorTid)}`);
      const fields: [string, unknown, unknown][] = [
        ['fsid', uuidToString(h.fsid), uuidToString(b.fsid)],
        ['version', h.version, b.version],
        ['volu_size', h.voluSize, b.voluSize],
        ['volu_id', h.voluId, b.voluId],
        ['total_size', h.totalSize, b.totalSize],
      ];
      for (const [name, x, y] of fields) if (x !== y) report('HDR_DISAGREE', loc, name);
    }
  }
}
