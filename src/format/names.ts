/** Printable names of the format's enumerations, as the DragonFly tools print them. */
import * as C from './constants';

export function breftypeName(type: number): string {
  switch (type) {
    case C.BREF_TYPE_EMPTY: return 'empty';
    case C.BREF_TYPE_INODE: return 'inode';
    case C.BREF_TYPE_INDIRECT: return 'indirect';
    case C.BREF_TYPE_DATA: return 'data';
    case C.BREF_TYPE_DIRENT: return 'dirent';
    case C.BREF_TYPE_FREEMAP_NODE: return 'freemap_node';
    case C.BREF_TYPE_FREEMAP_LEAF: return 'freemap_leaf';
    case C.BREF_TYPE_INVALID: return 'invalid';
    case C.BREF_TYPE_FREEMAP: return 'freemap';
    case C.BREF_TYPE_VOLUME: return 'volume';
    default: return 'unknown';
  }
}

export function objtypeName(type: number): string {
  switch (type) {
    case C.OBJTYPE_UNKNOWN: return 'UNKNOWN';
    case C.OBJTYPE_DIRECTORY: return 'DIR';
    case C.OBJTYPE_REGFILE: return 'FILE';
    case C.OBJTYPE_FIFO: return 'FIFO';
    case C.OBJTYPE_CDEV: return 'CDEV';
    case C.OBJTYPE_BDEV: return 'BDEV';
    case C.OBJTYPE_SOFTLINK: return 'SOFTLINK';
    case C.OBJTYPE_SOCKET: return 'SOCKET';
    case C.OBJTYPE_WHITEOUT: return 'WHITEOUT';
    default: return 'ILLEGAL';
  }
}

export function pfstypeName(type: number): string {
  switch (type) {
    case C.PFSTYPE_NONE: return 'NONE';
    case C.PFSTYPE_SUPROOT: return 'SUPROOT';
    case C.PFSTYPE_DUMMY: return 'DUMMY';
    case C.PFSTYPE_CACHE: return 'CACHE';
    case C.PFSTYPE_SLAVE: return 'SLAVE';
    case C.PFSTYPE_SOFT_SLAVE: return 'SOFT_SLAVE';
    case C.PFSTYPE_SOFT_MASTER: return 'SOFT_MASTER';
    case C.PFSTYPE_MASTER: return 'MASTER';
    default: return 'ILLEGAL';
  }
}

export function pfsSubtypeName(subtype: number): string {
  switch (subtype) {
    case C.PFSSUBTYPE_NONE: return 'NONE';
    case C.PFSSUBTYPE_SNAPSHOT: return 'SNAPSHOT';
    case C.PFSSUBTYPE_AUTOSNAP: return 'AUTOSNAP';
    default: return 'ILLEGAL';
  }
}

/** Check method names, indexed by method; "crc32" is the iSCSI CRC. */
export const CHECK_NAMES = ['none', 'disabled', 'crc32', 'xxhash64', 'sha192', 'freemap'] as const;
/** Compression names, indexed by method. */
export const COMP_NAMES = ['none', 'autozero', 'lz4', 'zlib'] as const;

/** "lz4:default", "zlib:6", "unknown(9):default" — an algorithm byte with its level nibble. */
export function compModeName(algo: number): string {
  const comp = C.decAlgo(algo);
  const level = C.decLevel(algo);
  const name = comp < COMP_NAMES.length ? COMP_NAMES[comp] : `unknown(${comp})`;
  return `${name}:${level ? level : 'default'}`;
}

export function checkModeName(algo: number): string {
  const check = C.decAlgo(algo);
  const level = C.decLevel(algo);
  const name = check < CHECK_NAMES.length ? CHECK_NAMES[check] : `unknown(${check})`;
  return level ? `${name}:${level}` : name;
}
