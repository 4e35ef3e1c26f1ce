/**
 * What a target already holds. mkfs refuses to overwrite any of these without --force.
 * Signatures are checked at their documented offsets; the list names every one found.
 */
import { NUM_VOLHDRS, VOLUME_ID_ABO, VOLUME_ID_HBO, ZONE_BYTES } from '../../format';
import { BlockSource } from '../../engine';

/** HAMMER (version 1) volume signature, "HAMMER01". */
const HAMMER1_SIGNATURE = 0xc8414d4dc5523031n;
const HAMMER1_SIGNATURE_REV = 0x313052c54d4d41c8n;

export interface Found {
  what: string;
  offset: bigint;
}

const HAMMER2_HEADER = 'HAMMER2 volume header';

/** A HAMMER2 header copy (valid or not, either byte order): --force must invalidate these first. */
export const isHammer2Header = (f: Found): boolean => f.what.startsWith(HAMMER2_HEADER);

function ascii(buf: Buffer, off: number, text: string): boolean {
  return buf.length >= off + text.length && buf.toString('latin1', off, off + text.length) === text;
}

export function detectExisting(dev: BlockSource): Found[] {
  const found: Found[] = [];
  const head = dev.read(0n, 128 * 1024);
  const u16 = (off: number): number => (head.length >= off + 2 ? head.readUInt16LE(off) : -1);
  const u64 = (off: number): bigint => (head.length >= off + 8 ? head.readBigUInt64LE(off) : -1n);

  for (let i = 0; i < NUM_VOLHDRS; i++) {
    const off = BigInt(i) * ZONE_BYTES;
    if (off + 8n > dev.size) break;
    const magic = dev.read(off, 8);
    if (magic.length < 8) break;
    const m = magic.readBigUInt64LE(0);
    if (m === VOLUME_ID_HBO) found.push({ what: `${HAMMER2_HEADER} (copy ${i})`, offset: off });
    else if (m === VOLUME_ID_ABO) found.push({ what: `${HAMMER2_HEADER}, byte-swapped (copy ${i})`, offset: off });
  }
  if (u64(0) === HAMMER1_SIGNATURE || u64(0) === HAMMER1_SIGNATURE_REV) found.push({ what: 'HAMMER (version 1) volume', offset: 0n });
  if (u16(0x438) === 0xef53) found.push({ what: 'ext2/ext3/ext4 superblock', offset: 0x400n });
  if (ascii(head, 0, 'XFSB')) found.push({ what: 'XFS superblock', offset: 0n });
  if (ascii(head, 0x10040, '_BHRfS_M')) found.push({ what: 'btrfs superblock', offset: 0x10000n });
  if (ascii(head, 0, 'LUKS\xba\xbe')) found.push({ what: 'LUKS header', offset: 0n });
  if (ascii(head, 4086, 'SWAPSPACE2') || ascii(head, 4086, 'SWAP-SPACE')) found.push({ what: 'Linux swap area', offset: 0n });
  const bootSig = u16(510) === 0xaa55;
  if (ascii(head, 3, 'EXFAT   ')) found.push({ what: 'exFAT boot sector', offset: 0n });
  else if (ascii(head, 3, 'NTFS    ')) found.push({ what: 'NTFS boot sector', offset: 0n });
  else if (bootSig && (ascii(head, 54, 'FAT12') || ascii(head, 54, 'FAT16') || ascii(head, 82, 'FAT32'))) {
    found.push({ what: 'FAT boot sector', offset: 0n });
  }
  for (const off of [512, 4096]) {
    if (ascii(head, off, 'EFI PART')) found.push({ what: 'GPT partition table', offset: BigInt(off) });
  }
  if (bootSig && !found.some((f) => /FAT|NTFS|GPT/.test(f.what))) {
    const parts = [0, 1, 2, 3].filter((i) => head[446 + 16 * i + 4] !== 0);
    if (parts.length > 0) found.push({ what: `MBR partition table (${parts.length} partition${parts.length > 1 ? 's' : ''})`, offset: 0n });
  }
  return found;
}
