declare module 'crc-32/crc32c' {
  export function buf(data: Uint8Array | number[], seed?: number): number;
  export function str(data: string, seed?: number): number;
}
declare module 'lz4js' {
  export function compressBound(n: number): number;
  export function decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
  export function compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
}
