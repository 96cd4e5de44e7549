/**
 * The keys and values of the last sequence the engine scored or sampled, kept so that the next
 * call on the same weights skips the positions it shares with it. An agent's prompts grow by
 * appending (the next turn's prompt starts with the last one and its reply), and a denial's
 * teacher prompt is the student's prompt plus a reprompt, so most of a long prompt is computed
 * once. Keys and values depend on the weights: any change to any adapter or to the base model
 * invalidates the entry (Engine calls `invalidate`), so a reused row is always what a fresh pass
 * would compute.
 */
import type { ModelConfig } from "./config";
import type { Kernels } from "./kernels/types";
import { createKvCache, freeKvCache, type KvCache } from "./kv-cache";

/** Entries larger than this are not kept (a long prompt on a large local model). */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export class PrefixCache {
  private entry: { adapter: string | null; tokens: number[]; cache: KvCache } | null = null;
  /** Positions served from the cache since the engine started (for tests and benchmarks). */
  reused = 0;

  constructor(
    private readonly config: ModelConfig,
    private readonly kernels: Kernels,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** Some weights changed: nothing kept is valid any more. */
  invalidate(): void {
    if (!this.entry) return;
    freeKvCache(this.entry.cache, this.kernels);
    this.entry = null;
  }

  /**
   * A fresh cache of `capacity` positions holding the keys and values of the longest prefix of
   * `tokens` the kept entry shares, at most `limit` positions (the caller needs hidden states, not
   * only keys, from `limit` on). Its `length` says how many positions it holds.
   */
  take(adapter: string | null, tokens: readonly number[], capacity: number, limit: number): KvCache {
    const cache = createKvCache(this.config, capacity, this.kernels);
    const kept = this.entry;
    if (!kept || kept.adapter !== adapter) return cache;
    const max = Math.min(limit, kept.tokens.length, tokens.length, capacity);
    let n = 0;
    while (n < max && kept.tokens[n] === tokens[n]) n++;
    if (n === 0) return cache;
    const KVD = this.config.numKvHeads * this.config.headDim;
    for (let l = 0; l < this.config.numLayers; l++) {
      cache.k[l]!.set(kept.cache.k[l]!.subarray(0, n * KVD));
      cache.v[l]!.set(kept.cache.v[l]!.subarray(0, n * KVD));
    }
    cache.length = n;
    this.reused += n;
    return cache;
  }

  /**
   * Keeps `cache` (whose first `cache.length` positions hold `tokens`' keys and values) in place
   * of the last entry, taking ownership: the caller must not free it.
   */
  keep(adapter: string | null, tokens: readonly number[], cache: KvCache): void {
    this.invalidate();
    const bytes = 2 * this.config.numLayers * cache.capacity * this.config.numKvHeads * this.config.headDim * 4;
    if (cache.length === 0 || bytes > this.maxBytes) {
      freeKvCache(cache, this.kernels);
      return;
    }
    this.entry = { adapter, tokens: tokens.slice(0, cache.length), cache };
  }
}
