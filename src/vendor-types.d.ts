declare module 'crc-32/crc32c' {
  export function buf(data: Uint8Array | number[], seed?: number): number;
  export function str(data: string, seed?: number): number;
}
