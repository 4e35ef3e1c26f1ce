/**
 * XXH64 through xxhash-wasm. WebAssembly compiles asynchronously, so callers that hash must
 * first await `initXxh64()` once (the engine does it when it opens a device, the test setup
 * before every suite); hashing itself is then synchronous.
 */
import xxhash from 'xxhash-wasm';
import { XXH_HAMMER2_SEED } from './constants';

type H64Raw = (input: Uint8Array, seed?: bigint) => bigint;
let h64Raw: H64Raw | null = null;
let loading: Promise<void> | null = null;

export function initXxh64(): Promise<void> {
  if (h64Raw) return Promise.resolve();
  loading ??= xxhash().then((api) => {
    h64Raw = api.h64Raw;
  });
  return loading;
}

export function xxh64(data: Uint8Array, seed: bigint = XXH_HAMMER2_SEED): bigint {
  if (!h64Raw) throw new Error('internal: xxh64 used before initXxh64() completed');
  return h64Raw(data, seed);
}
