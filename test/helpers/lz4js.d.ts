/** lz4js, the encoder of earlier h2kit versions: a dev dependency, to reproduce the blocks it wrote. */
declare module 'lz4js' {
  export function compressBound(n: number): number;
  export function compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
}
