/** The HAMMER2 on-disk format: structures, constants, check codes, compression, dirhash. */
export * from './constants';
export * from './errors';
export * from './bytes';
export * from './uuid';
export * from './blockref';
export * from './volume';
export * from './inode';
export * from './freemap';
export * from './crc32c';
export * from './xxh64';
export * from './check';
export * from './compress';
export * from './lz4';
export * from './dirhash';
export * from './names';
export * from './undo-file';
