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
      // growfs zeroes the header copies of the zones it adds; the commits fill them in rotation
      if (c.status === 'bad-magic' && c.raw && c.raw.every((x) => x === 0)) {
        report('HDR_STALE', loc, 'never written: all zero, as growfs leaves the copies of the zones it adds');
        continue;
      }
      const code = STATUS_CODES[c.status];
      if (code) {
        report(code, loc, c.detail);
        continue;
      }
      if (c.status !== 'ok' || c === best) continue;
      const h = c.header!;
      const b = best.header!;
      const older = h.mirrorTid < b.mirrorTid;
      // growfs only ever grows: an older copy may still give the sizes of before
      const grown = older && h.voluSize <= b.voluSize && h.totalSize <= b.totalSize;
      const sizes = grown ? `; sizes from before a growfs: volu_size 0x${hex64(h.voluSize)}, total_size 0x${hex64(h.totalSize)}` : '';
      if (older) report('HDR_STALE', loc, `mirror_tid 0x${hex64(h.mirrorTid)} < 0x${hex64(b.mirrorTid)}${h.voluSize !== b.voluSize || h.totalSize !== b.totalSize ? sizes : ''}`);
      const fields: [string, unknown, unknown][] = [
        ['fsid', uuidToString(h.fsid), uuidToString(b.fsid)],
        ['version', h.version, b.version],
        ['volu_id', h.voluId, b.voluId],
      ];
      if (!grown) fields.push(['volu_size', h.voluSize, b.voluSize], ['total_size', h.totalSize, b.totalSize]);
      for (const [name, x, y] of fields) if (x !== y) report('HDR_DISAGREE', loc, name);
    }
  }
}
