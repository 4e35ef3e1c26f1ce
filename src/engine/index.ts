/** The engine: devices, volume header selection, chain reading and the filesystem view. */
export * from './errors';
export * from './device';
export * from './header';
export * from './volumes';
export * from './chain';
export * from './fs';
export * from './open';
export * from './walk';
export * from './guard';
export * from './writable-device';
export * from './target-lock';
export * from './mounts';
export * from './freemap';
export * from './write-session';
export * from './verify';
export * from './block-table';
export * from './chain-tree';
