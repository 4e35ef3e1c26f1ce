/**
 * HAMMER2 on-disk constants (DragonFly `hammer2_disk.h`, current format).
 *
 * This file is the single source of truth for every numeric format fact used by h2kit.
 * Offsets and sizes that are 64-bit on disk are bigint; small ones that always fit a JS
 * number are number.
 */

// ---- allocation and buffer sizes ------------------------------------------------------------

/** Smallest allocation: 1 KiB (radix 10). */
export const RADIX_MIN = 10;
/** Largest allocation: 64 KiB (radix 16). */
export const RADIX_MAX = 16;
export const ALLOC_MIN = 1 << RADIX_MIN;
export const ALLOC_MAX = 1 << RADIX_MAX;

/** Physical I/O buffer: 64 KiB. */
export const PBUFRADIX = 16;
export const PBUFSIZE = 1 << PBUFRADIX;
/** Logical I/O buffer: 16 KiB, the device read granularity of the userland tools. */
export const LBUFRADIX = 14;
export const LBUFSIZE = 1 << LBUFRADIX;

/** Indirect blocks hold 4 KiB .. 64 KiB of blockrefs. */
export const IND_BYTES_MIN = 4096;
/** Nominal indirect block: 16 KiB, 128 blockrefs. */
export const IND_BYTES_NOM = 16384;
export const IND_BYTES_MAX = PBUFSIZE;

/** A blockset (volume root, inode) holds 4 blockrefs. */
export const SET_COUNT = 4;
/** Bytes of file data an inode can hold directly (DIRECTDATA). */
export const EMBEDDED_BYTES = 512;

// ---- volume geometry ------------------------------------------------------------------------

/** Volumes are sized and aligned in 8 MiB units. */
export const VOLUME_ALIGN = 8n * 1024n * 1024n;
/** A zone is 2 GiB; each starts with a reserved 4 MiB segment (header copy + freemap). */
export const ZONE_BYTES = 2n * 1024n * 1024n * 1024n;
export const ZONE_MASK = ZONE_BYTES - 1n;
/** The reserved segment at the start of every zone. */
export const ZONE_SEG = 4n * 1024n * 1024n;
/** 64 KiB blocks per reserved segment (64). */
export const ZONE_BLOCKS_SEG = Number(ZONE_SEG) / PBUFSIZE;
/** In the reserved segment: block 0 is the volume header, then 8 freemap rotation sets of 5 blocks. */
export const ZONE_VOLHDR = 0;
export const ZONE_FREEMAP_00 = 1;
export const ZONE_FREEMAP_END = 41;
export const ZONE_FREEMAP_INC = 5;
export const NFREEMAPS = 8;
/** Number of volume header copies, one at the start of each of the first 4 zones. */
export const NUM_VOLHDRS = 4;
export const MAX_VOLUMES = 64;
export const ROOT_VOLUME = 0;

// ---- freemap --------------------------------------------------------------------------------

export const FREEMAP_LEVEL0_RADIX = 22; // 4 MiB: one bmap_data
export const FREEMAP_LEVEL1_RADIX = 30; // 1 GiB: one leaf
export const FREEMAP_LEVEL2_RADIX = 38; // 256 GiB
export const FREEMAP_LEVEL3_RADIX = 46; // 64 TiB
export const FREEMAP_LEVEL4_RADIX = 54; // 16 PiB
export const FREEMAP_LEVEL5_RADIX = 62; // 4 EiB
export const FREEMAP_LEVEL0_SIZE = 1n << BigInt(FREEMAP_LEVEL0_RADIX);
export const FREEMAP_LEVEL1_SIZE = 1n << BigInt(FREEMAP_LEVEL1_RADIX);
export const FREEMAP_LEVEL1_MASK = FREEMAP_LEVEL1_SIZE - 1n;
/** Freemap nodes and leaves are 32 KiB physical blocks. */
export const FREEMAP_LEVELN_PSIZE = 32768;
/** A 4 MiB freemap segment, the unit of HAMMER2's allocator (and of reblock). */
export const SEGSIZE = FREEMAP_LEVEL0_SIZE;
export const SEGMASK = SEGSIZE - 1n;
/** The freemap tracks 16 KiB blocks with 2 bits each. */
export const FREEMAP_BLOCK_RADIX = 14;
export const FREEMAP_BLOCK_SIZE = 1 << FREEMAP_BLOCK_RADIX;
/** bmap_data: 8 x 64-bit bitmap words, 32 blocks per word. */
export const BMAP_ELEMENTS = 8;
export const BMAP_BLOCKS_PER_ELEMENT = 32;
export const BMAP_DATA_BYTES = 128;
/** bmap_data entries per leaf (256). */
export const FREEMAP_COUNT = FREEMAP_LEVELN_PSIZE / BMAP_DATA_BYTES;
/** 2-bit freemap states. */
export const BMAP_FREE = 0;
export const BMAP_RESERVED = 1; // unused by the kernel
export const BMAP_POSSIBLY_FREE = 2;
export const BMAP_ALLOCATED = 3;

// ---- boot and aux areas ---------------------------------------------------------------------

export const BOOT_MIN_BYTES = VOLUME_ALIGN;
export const BOOT_NOM_BYTES = 64n * 1024n * 1024n;
export const BOOT_MAX_BYTES = 256n * 1024n * 1024n;
export const AUX_MIN_BYTES = VOLUME_ALIGN;
export const AUX_NOM_BYTES = 256n * 1024n * 1024n;
export const AUX_MAX_BYTES = 1024n * 1024n * 1024n;

// ---- blockref -------------------------------------------------------------------------------

export const BLOCKREF_BYTES = 128;
/** leaf_count saturates here. */
export const BLOCKREF_LEAF_MAX = 65535;
/** data_off: the low 6 bits hold the size radix, the rest the byte offset. */
export const OFF_MASK_RADIX = 0x3fn;
export const OFF_MASK = ~OFF_MASK_RADIX & 0xffffffffffffffffn;
export const KEY_MAX = 0xffffffffffffffffn;

export const BREF_TYPE_EMPTY = 0;
export const BREF_TYPE_INODE = 1;
export const BREF_TYPE_INDIRECT = 2;
export const BREF_TYPE_DATA = 3;
export const BREF_TYPE_DIRENT = 4;
export const BREF_TYPE_FREEMAP_NODE = 5;
export const BREF_TYPE_FREEMAP_LEAF = 6;
export const BREF_TYPE_INVALID = 7;
/** Pseudo-types for the two roots held in the volume header. */
export const BREF_TYPE_FREEMAP = 254;
export const BREF_TYPE_VOLUME = 255;
/** The types a blockref stored on the media may have (the last two are in-memory roots only). */
export const BREF_TYPES_ON_MEDIA: ReadonlySet<number> = new Set([
  BREF_TYPE_INODE,
  BREF_TYPE_INDIRECT,
  BREF_TYPE_DATA,
  BREF_TYPE_DIRENT,
  BREF_TYPE_FREEMAP_NODE,
  BREF_TYPE_FREEMAP_LEAF,
]);

export const BREF_FLAG_PFSROOT = 0x01;
export const BREF_FLAG_EMERG_MIP = 0x04;

// check methods (high nibble of blockref.methods) and compression (low nibble)
export const CHECK_NONE = 0;
export const CHECK_DISABLED = 1;
export const CHECK_ISCSI32 = 2;
export const CHECK_XXHASH64 = 3;
export const CHECK_SHA192 = 4;
export const CHECK_FREEMAP = 5;
export const CHECK_DEFAULT = CHECK_XXHASH64;

export const COMP_NONE = 0;
export const COMP_AUTOZERO = 1;
export const COMP_LZ4 = 2;
export const COMP_ZLIB = 3;
export const COMP_DEFAULT = COMP_LZ4;

// ---- LZ4 raw block (the kernel's decoder, LZ4_decompress_safe in hammer2_lz4.c) --------------

/** Shortest match; a token's match nibble counts from it. */
export const LZ4_MIN_MATCH = 4;
/** A match starts at least this many bytes before the end of the block. */
export const LZ4_MFLIMIT = 12;
/** The last bytes of a block are always literals. */
export const LZ4_LAST_LITERALS = 5;
/** A sequence whose literals end closer than this to the end of the input must be the last. */
export const LZ4_LAST_SEQUENCE_INPUT = 2 + 1 + LZ4_LAST_LITERALS;
/** The match-length extension is read only while more than this many input bytes follow. */
export const LZ4_MATCH_EXT_TAIL = LZ4_LAST_LITERALS + 1;
/** Matches reach back at most this far (a 16-bit offset). */
export const LZ4_MAX_OFFSET = 0xffff;
/** A token nibble at this value is followed by extension bytes. */
export const LZ4_NIBBLE_MAX = 15;
/** An extension byte at this value is followed by another. */
export const LZ4_EXT_MORE = 255;
/** The 4-byte little-endian compressed length before the raw block. */
export const LZ4_PREFIX_BYTES = 4;

export const encCheck = (n: number): number => (n & 15) << 4;
export const decCheck = (methods: number): number => (methods >> 4) & 15;
export const encComp = (n: number): number => n & 15;
export const decComp = (methods: number): number => methods & 15;
/** Inode comp_algo/check_algo: algorithm in the low nibble, level in the high nibble. */
export const decAlgo = (n: number): number => n & 15;
export const decLevel = (n: number): number => (n >> 4) & 15;

/** XXH64 seed for HAMMER2 check codes ("MattDlln"). */
export const XXH_HAMMER2_SEED = 0x4d617474446c6c6en;

// ---- directory keys -------------------------------------------------------------------------

/** Directory entry keys have bit 63 set; inode numbers never do. */
export const DIRHASH_VISIBLE = 0x8000000000000000n;
/** The low 15 bits of a directory key are an iterator for hash collisions. */
export const DIRHASH_LOMASK = 0x7fffn;
export const SROOT_KEY = 0n;

// ---- inode ----------------------------------------------------------------------------------

export const INODE_BYTES = 1024;
export const INODE_MAXNAME = 256;
export const INODE_VERSION_ONE = 1;
/** First dynamically allocated inode number in a PFS. */
export const INODE_START = 1024n;
/** Inode number of every PFS root. */
export const PFS_ROOT_INUM = 1n;

export const OPFLAG_DIRECTDATA = 0x01;
export const OPFLAG_PFSROOT = 0x02;

export const OBJTYPE_UNKNOWN = 0;
export const OBJTYPE_DIRECTORY = 1;
export const OBJTYPE_REGFILE = 2;
export const OBJTYPE_FIFO = 4;
export const OBJTYPE_CDEV = 5;
export const OBJTYPE_BDEV = 6;
export const OBJTYPE_SOFTLINK = 7;
export const OBJTYPE_SOCKET = 9;
export const OBJTYPE_WHITEOUT = 10;
/** The object types an inode may have (a whiteout is a directory-entry type only). */
export const INODE_OBJTYPES: ReadonlySet<number> = new Set([
  OBJTYPE_DIRECTORY,
  OBJTYPE_REGFILE,
  OBJTYPE_FIFO,
  OBJTYPE_CDEV,
  OBJTYPE_BDEV,
  OBJTYPE_SOFTLINK,
  OBJTYPE_SOCKET,
]);
/** meta.mode holds the permission, setuid, setgid and sticky bits only; the type is meta.type. */
export const MODE_PERM_MASK = 0o7777;

export const PFSTYPE_NONE = 0x00;
export const PFSTYPE_CACHE = 0x01;
export const PFSTYPE_SLAVE = 0x03;
export const PFSTYPE_SOFT_SLAVE = 0x04;
export const PFSTYPE_SOFT_MASTER = 0x05;
export const PFSTYPE_MASTER = 0x06;
export const PFSTYPE_SUPROOT = 0x08;
export const PFSTYPE_DUMMY = 0x09;
/** The PFS types a PFS root inode may carry (the super-root alone is SUPROOT). */
export const PFS_TYPES: ReadonlySet<number> = new Set([
  PFSTYPE_NONE,
  PFSTYPE_CACHE,
  PFSTYPE_SLAVE,
  PFSTYPE_SOFT_SLAVE,
  PFSTYPE_SOFT_MASTER,
  PFSTYPE_MASTER,
  PFSTYPE_DUMMY,
]);

export const PFSSUBTYPE_NONE = 0;
export const PFSSUBTYPE_SNAPSHOT = 1;
export const PFSSUBTYPE_AUTOSNAP = 2;

// ---- volume header --------------------------------------------------------------------------

export const VOLUME_ID_HBO = 0x48414d3205172011n;
/** The magic as read on a host of the other byte order. */
export const VOLUME_ID_ABO = 0x11201705324d4148n;
export const VOLUME_BYTES = 65536;
/** icrc_sects index of sector 0's CRC (the indexes are deliberately reversed). */
export const VOL_ICRC_SECT0 = 7;
export const VOL_ICRC_SECT1 = 6;
export const VOLUME_ICRC0_OFF = 0;
export const VOLUME_ICRC0_SIZE = 512 - 4;
export const VOLUME_ICRC1_OFF = 512;
export const VOLUME_ICRC1_SIZE = 512;
export const VOLUME_ICRCVH_OFF = 0;
export const VOLUME_ICRCVH_SIZE = VOLUME_BYTES - 4;

export const VOL_VERSION_MIN = 1;
export const VOL_VERSION_MULTI_VOLUMES = 2;
export const VOL_VERSION_DEFAULT = VOL_VERSION_MULTI_VOLUMES;

/** The fstype UUID of HAMMER2, as printed. */
export const UUID_STRING = '5cbb9ad1-862d-11dc-a94d-01301bb8a9f5';

/** peer_type of a normal volume (HAMMER2_PEER_HAMMER2). */
export const PEER_HAMMER2 = 3;
