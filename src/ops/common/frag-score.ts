/**
 * The fragmentation score, shared by `dump freemap --svg` and `reblock` (docs/dump.md).
 *
 * It is computed over the allocatable 4 MiB segments only (the reserved segment of every GiB,
 * the boot and aux areas and newfs's first blocks are never counted), from the granules each
 * segment's bitmap marks in use. The score is the share of occupied segments that a perfect
 * packing would empty: 0 when every used granule sits in as few segments as it can, near 100
 * when a little data is spread over many segments. A filesystem whose only partly filled
 * segment is the one being filled scores 0, which the share of granules in partly filled
 * segments (also given) does not.
 */
import { BLOCKS_PER_SEGMENT } from '../../format/freemap';

export interface FragScore {
  /** allocatable segments counted */
  segments: number;
  free: number;
  partial: number;
  full: number;
  usedGranules: number;
  /** used granules that sit in partly filled segments */
  partialGranules: number;
  /** the fewest segments the used granules fit in */
  idealSegments: number;
  /** 100 * (occupied - ideal) / occupied, rounded to one decimal; 0 with nothing occupied */
  score: number;
  /** 100 * partialGranules / usedGranules, one decimal; 0 with nothing used */
  partialShare: number;
}

const oneDecimal = (x: number): number => Math.round(x * 10) / 10;

/** Adds segments one at a time, so that a huge device never needs a list of them. */
export class FragTally {
  private segments = 0;
  private free = 0;
  private partial = 0;
  private full = 0;
  private used = 0;
  private inPartial = 0;

  add(granules: number): void {
    this.segments++;
    this.used += granules;
    if (granules === 0) this.free++;
    else if (granules >= BLOCKS_PER_SEGMENT) this.full++;
    else {
      this.partial++;
      this.inPartial += granules;
    }
  }

  result(): FragScore {
    const occupied = this.partial + this.full;
    const ideal = Math.ceil(this.used / BLOCKS_PER_SEGMENT);
    return {
      segments: this.segments,
      free: this.free,
      partial: this.partial,
      full: this.full,
      usedGranules: this.used,
      partialGranules: this.inPartial,
      idealSegments: ideal,
      score: occupied === 0 ? 0 : oneDecimal((100 * (occupied - ideal)) / occupied),
      partialShare: this.used === 0 ? 0 : oneDecimal((100 * this.inPartial) / this.used),
    };
  }
}

export function fragScore(granules: Iterable<number>): FragScore {
  const t = new FragTally();
  for (const g of granules) t.add(g);
  return t.result();
}

/** One line, as `dump freemap --svg` and `reblock` print it. */
export function renderFragScore(f: FragScore): string {
  const occupied = f.partial + f.full;
  return (
    `fragmentation ${f.score.toFixed(1)}%: ${occupied - f.idealSegments} of ${occupied} occupied segments surplus ` +
    `(the used space fits in ${f.idealSegments}); ${f.partial} partly filled, ${f.full} full, ${f.free} free; ` +
    `${f.partialShare.toFixed(1)}% of used granules in partly filled segments`
  );
}
