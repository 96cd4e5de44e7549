/**
 * The reusable buffers of forward_backward: one training set of activations (with its gradient
 * scratch), a key/value store and a (T, V) logits buffer, sized for the longest datum, the most
 * keys it has seen and the largest LoRA rank so far, and grown on demand. Allocating and
 * zero-filling them on every call cost about 15 ms per 512-token step. The engine frees them when an adapter is dropped or it closes.
 */
import type { Kernels } from "./kernels/types";
import type { ModelConfig } from "./config";
import { allocActivations, freeActivations, type Activations, type RopeTables } from "./activations";
import { createKvCache, freeKvCache, type KvCache } from "./kv-cache";

export interface WorkspaceBuffers {
  acts: Activations;
  cache: KvCache;
  /** (T, V): logits, then probabilities, then dL/dlogits. */
  logits: Float32Array;
}

export class Workspace {
  private held: (WorkspaceBuffers & { probs: Float32Array | null }) | null = null;

  constructor(
    private readonly kernels: Kernels,
    private readonly config: ModelConfig,
    private readonly rope: RopeTables,
  ) {}

  /**
   * Buffers for T tokens under a LoRA adapter of `rank` (0: none) that see TK key positions: from
   * position 0 (TK = T), or after a shared prefix of TK − T positions the caller puts in the cache.
   */
  take(T: number, rank: number, TK = T): WorkspaceBuffers {
    const held = this.held;
    if (held && held.acts.T >= T && held.acts.TK >= TK && held.acts.rank >= rank) {
      held.cache.length = 0;
      return held;
    }
    const capT = Math.max(T, held?.acts.T ?? 0);
    const capTK = Math.max(TK, held?.acts.TK ?? 0);
    const capRank = Math.max(rank, held?.acts.rank ?? 0);
    this.free();
    const acts = allocActivations(this.kernels, this.config, capT, capTK, capRank, true, this.rope);
    const cache = createKvCache(this.config, capTK, this.kernels);
    const logits = this.kernels.alloc(capT * this.config.vocabSize);
    this.held = { acts, cache, logits, probs: null };
    return this.held;
  }

  /** A second (T, V) buffer for the losses that keep whole log-softmax rows next to their probabilities. */
  probs(): Float32Array {
    const held = this.held;
    if (!held) throw new Error("workspace.probs() before take()");
    held.probs ??= this.kernels.alloc(held.acts.T * this.config.vocabSize);
    return held.probs;
  }

  free(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    freeActivations(this.kernels, held.acts);
    freeKvCache(held.cache, this.kernels);
    this.kernels.free(held.logits);
    if (held.probs) this.kernels.free(held.probs);
  }
}
