/**
 * Per-layer key/value store, preallocated for a maximum number of positions. Keys are stored after
 * q/k-norm and rotary embedding, so decoding one token only computes that token's rows.
 * Training uses one of capacity T as the keys/values its backward pass reads.
 */
import type { Kernels } from "./kernels/types";
import type { ModelConfig } from "./config";

export interface KvCache {
  capacity: number;
  /** Positions filled so far. */
  length: number;
  k: Float32Array[]; // per layer (capacity, NKV*HD)
  v: Float32Array[]; // per layer (capacity, NKV*HD)
}

export function createKvCache(c: ModelConfig, capacity: number, kernels: Kernels): KvCache {
  const KVD = c.numKvHeads * c.headDim;
  const k: Float32Array[] = [];
  const v: Float32Array[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    k.push(kernels.alloc(capacity * KVD));
    v.push(kernels.alloc(capacity * KVD));
  }
  return { capacity, length: 0, k, v };
}

export function freeKvCache(cache: KvCache, kernels: Kernels): void {
  for (const a of cache.k) kernels.free(a);
  for (const a of cache.v) kernels.free(a);
  cache.k = [];
  cache.v = [];
  cache.length = 0;
}
