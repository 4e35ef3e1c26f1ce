/**
 * The bulkfree pass of `h2kit cleanup`, the offline counterpart of the kernel's bulkfree: every
 * granule the freemap marks allocated that no block of the topology uses is freed, and the
 * commit sets the leaves' avail counts and allocator_free from the result.
 */
import { FREEMAP_BLOCK_RADIX, FREEMAP_BLOCK_SIZE } from '../../format/constants';
import { ChainReader } from '../../engine/chain';
import { GranuleUsers, requireSoundTopology } from '../../engine/verify';
import { WritableSource } from '../../engine/writable-device';
import { WriteSession } from '../../engine/write-session';
import { UndoLog, UndoOptions } from '../../engine/undo-log';

export interface BulkfreeReport {
  recovered: number;
  freedGranules: number;
  freedBytes: bigint;
  allocatorFreeBefore: bigint;
  allocatorFreeAfter: bigint;
}

export async function runBulkfree(spec: string, opts: { opener?: (path: string) => WritableSource; dryRun?: boolean; undo?: UndoOptions | UndoLog } = {}): Promise<BulkfreeReport> {
  const s = await WriteSession.open(spec, { purpose: 'cleanup', opener: opts.opener, undo: opts.dryRun ? undefined : opts.undo });
  try {
    const recovered = s.recovered;
    // the counts let the commit skip a second walk of the tree to see that the leaks are unused
    const users: GranuleUsers = new Map();
    const { leaks } = requireSoundTopology(new ChainReader(s.vols), s.freemap, spec, undefined, users);
    const before = s.base.allocatorFree;
    if (opts.dryRun) {
      const freed = BigInt(leaks.length * FREEMAP_BLOCK_SIZE);
      return { recovered, freedGranules: leaks.length, freedBytes: freed, allocatorFreeBefore: before, allocatorFreeAfter: before + freed };
    }
    for (const g of leaks) s.freemap.free(g | BigInt(FREEMAP_BLOCK_RADIX));
    const c = s.commit({ exactAllocatorFree: true, granuleUsers: users });
    return { recovered, freedGranules: leaks.length, freedBytes: BigInt(leaks.length * FREEMAP_BLOCK_SIZE), allocatorFreeBefore: before, allocatorFreeAfter: c.allocatorFree };
  } finally {
    s.close();
  }
}
