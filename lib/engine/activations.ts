/**
 * Buffers for forward (and backward) passes, allocated from the kernel set for up to T tokens and
 * LoRA rank r; any shorter sequence or smaller rank fits (the engine reuses one training set).
 * Training keeps every layer's activations the backward reads. What only the forward reads (k and
 * v before they are copied into the key/value store, the projection outputs o) is one buffer for
 * all layers. Where the activations would pass RECOMPUTE_ABOVE_BYTES (real model sizes), what is
 * cheap to recompute is shared as well, and the backward recomputes it: the normed inputs xn1 and
 * xn2, the normed, rotated queries q, SwiGLU's h and the attention weights (one attention forward
 * per layer again, from q and the key/value store; at 512 tokens Qwen3-0.6B's weights alone are
 * 28 × 16 × 512² floats, 470 MB). The recomputation repeats the forward's own arithmetic, so the
 * gradients are the same bits; the default shape stays under the threshold and keeps every buffer. Inference shares one set of layer buffers
 * across layers and one residual stream, so decoding allocates nothing per token.
 */
import type { Kernels } from "./kernels/types";
import type { ModelConfig } from "./config";
import { ALL_TARGETS, type TargetModule } from "./lora";
import { attentionGradRows, attentionProbsSize, attentionScratchSize } from "./attention";

export interface RopeTables {
  cos: Float32Array; // (maxPos, HD/2)
  sin: Float32Array; // (maxPos, HD/2)
}

export interface LayerActivations {
  xn1: Float32Array; // (T, C) input_layernorm output (shared and recomputed when `recomputed`)
  rstd1: Float32Array; // (T)
  qRaw: Float32Array; // (T, NH*HD) q_proj output
  kRaw: Float32Array; // (T, NKV*HD) k_proj output
  v: Float32Array; // (T, NKV*HD), forward scratch shared by all layers
  q: Float32Array; // (T, NH*HD) after q_norm and rotary (shared and recomputed when `recomputed`)
  k: Float32Array; // (T, NKV*HD) after k_norm and rotary, shared (the backward reads the key/value store)
  qRstd: Float32Array; // (T*NH)
  kRstd: Float32Array; // (T*NKV)
  probs: Float32Array; // attention weights, attentionProbsSize(NH, T, TK) (shared and recomputed when `recomputed`)
  att: Float32Array; // (T, NH*HD) attention output, o_proj input
  o: Float32Array; // (T, C) o_proj / down_proj output, shared
  xMid: Float32Array; // (T, C) residual after attention
  xn2: Float32Array; // (T, C) post_attention_layernorm output (shared and recomputed when `recomputed`)
  rstd2: Float32Array; // (T)
  gate: Float32Array; // (T, I)
  up: Float32Array; // (T, I)
  h: Float32Array; // (T, I) silu(gate) · up, down_proj input (shared and recomputed when `recomputed`)
  xa: Partial<Record<TargetModule, Float32Array>>; // (T, r) x Aᵀ per LoRA target
}

export interface GradScratch {
  dxn: Float32Array; // (T, C)
  dResA: Float32Array; // (T, C)
  dResB: Float32Array; // (T, C)
  dxMid: Float32Array; // (T, C)
  dh: Float32Array; // (T, I)
  dgate: Float32Array; // (T, I)
  dup: Float32Array; // (T, I)
  datt: Float32Array; // (T, NH*HD)
  dq: Float32Array; // (T, NH*HD)
  dk: Float32Array; // (TK, NKV*HD): every key position's, a shared prefix's included
  dv: Float32Array; // (TK, NKV*HD)
  dqRaw: Float32Array; // (T, NH*HD)
  dkRaw: Float32Array; // (T, NKV*HD)
  dP: Float32Array; // (attentionGradRows, TK)
  dxa: Float32Array; // (T, r)
  owned: Float32Array[];
}

export interface Activations {
  T: number;
  TK: number;
  /** LoRA rank the xa buffers (and the gradient scratch's dxa) hold. */
  rank: number;
  /** Whether xn1, q, probs, xn2 and h are one buffer for all layers, which the backward recomputes. */
  recomputed: boolean;
  resid: Float32Array[]; // numLayers + 1 entries of (T, C); one shared array when not training
  layers: LayerActivations[];
  xnF: Float32Array; // (T, C) final norm output
  rstdF: Float32Array; // (T)
  gather: Float32Array; // (T, C) rows gathered for lm_head
  attnScratch: Float32Array; // attentionScratchSize: a KV group's stacked queries and gradients
  rope: RopeTables;
  grads: GradScratch | null;
  owned: Float32Array[];
}

/**
 * @param T new tokens per forward, @param TK key positions visible to them,
 * @param rank LoRA rank (0 without an adapter), @param training keep per-layer activations.
 */
export function allocActivations(
  k: Kernels,
  c: ModelConfig,
  T: number,
  TK: number,
  rank: number,
  training: boolean,
  rope: RopeTables,
  /** Share and recompute xn1, q, xn2 and h in training; default: above RECOMPUTE_ABOVE_BYTES. */
  recompute?: boolean,
): Activations {
  const owned: Float32Array[] = [];
  const alloc = (n: number): Float32Array => {
    const a = k.alloc(Math.max(1, n));
    owned.push(a);
    return a;
  };
  const C = c.hiddenSize,
    I = c.intermediateSize,
    QD = c.numHeads * c.headDim,
    KVD = c.numKvHeads * c.headDim;
  type Scratch = Pick<LayerActivations, "k" | "v" | "o">;
  type Recomputed = Pick<LayerActivations, "xn1" | "q" | "probs" | "xn2" | "h">;
  const scratch = (): Scratch => ({ k: alloc(T * KVD), v: alloc(T * KVD), o: alloc(T * C) });
  const recomputable = (): Recomputed => ({
    xn1: alloc(T * C),
    q: alloc(T * QD),
    probs: alloc(attentionProbsSize(c.numHeads, T, TK)),
    xn2: alloc(T * C),
    h: alloc(T * I),
  });
  const layer = (shared: Scratch & Partial<Recomputed>): LayerActivations => {
    const xa: Partial<Record<TargetModule, Float32Array>> = {};
    if (rank > 0) for (const t of ALL_TARGETS) xa[t] = alloc(T * rank);
    return {
      ...(shared.xn1 ? (shared as Recomputed) : recomputable()),
      ...shared,
      rstd1: alloc(T),
      qRaw: alloc(T * QD),
      kRaw: alloc(T * KVD),
      qRstd: alloc(T * c.numHeads),
      kRstd: alloc(T * c.numKvHeads),
      att: alloc(T * QD),
      xMid: alloc(T * C),
      rstd2: alloc(T),
      gate: alloc(T * I),
      up: alloc(T * I),
      xa,
    };
  };
  let layers: LayerActivations[];
  let resid: Float32Array[];
  const recomputed = training && (recompute ?? trainingActivationBytes(c, T, TK) > RECOMPUTE_ABOVE_BYTES);
  if (training) {
    const shared = recomputed ? { ...scratch(), ...recomputable() } : scratch();
    layers = Array.from({ length: c.numLayers }, () => layer(shared));
    resid = Array.from({ length: c.numLayers + 1 }, () => alloc(T * C));
  } else {
    const shared = layer({ ...scratch(), ...recomputable() });
    layers = Array.from({ length: c.numLayers }, () => shared);
    const stream = alloc(T * C);
    resid = Array.from({ length: c.numLayers + 1 }, () => stream);
  }
  return {
    T,
    TK,
    rank,
    recomputed,
    resid,
    layers,
    xnF: alloc(T * C),
    rstdF: alloc(T),
    gather: alloc(T * C),
    attnScratch: alloc(attentionScratchSize(c.numHeads, c.numKvHeads, c.headDim)),
    rope,
    grads: null,
    owned,
  };
}

/** Above this many bytes of per-layer training activations, the cheap ones are recomputed instead of kept. */
export const RECOMPUTE_ABOVE_BYTES = 256 * 2 ** 20;

/** Bytes the layers' training activations take when every layer keeps its own (LoRA's xa aside). */
export function trainingActivationBytes(c: ModelConfig, T: number, TK: number): number {
  const C = c.hiddenSize,
    I = c.intermediateSize,
    QD = c.numHeads * c.headDim,
    KVD = c.numKvHeads * c.headDim;
  const perLayer = T * (4 * C + 3 * QD + KVD + 3 * I) + attentionProbsSize(c.numHeads, T, TK);
  return 4 * c.numLayers * perLayer;
}

export function allocGradScratch(k: Kernels, c: ModelConfig, T: number, TK: number, rank: number): GradScratch {
  const owned: Float32Array[] = [];
  const alloc = (n: number): Float32Array => {
    const a = k.alloc(Math.max(1, n));
    owned.push(a);
    return a;
  };
  const C = c.hiddenSize,
    I = c.intermediateSize,
    QD = c.numHeads * c.headDim,
    KVD = c.numKvHeads * c.headDim;
  return {
    dxn: alloc(T * C),
    dResA: alloc(T * C),
    dResB: alloc(T * C),
    dxMid: alloc(T * C),
    dh: alloc(T * I),
    dgate: alloc(T * I),
    dup: alloc(T * I),
    datt: alloc(T * QD),
    dq: alloc(T * QD),
    dk: alloc(TK * KVD),
    dv: alloc(TK * KVD),
    dqRaw: alloc(T * QD),
    dkRaw: alloc(T * KVD),
    dP: alloc(attentionGradRows(c.numHeads, c.numKvHeads, T) * TK),
    dxa: alloc(T * rank),
    owned,
  };
}

export function freeActivations(k: Kernels, acts: Activations): void {
  for (const a of acts.owned) k.free(a);
  if (acts.grads) for (const a of acts.grads.owned) k.free(a);
  acts.owned = [];
  acts.grads = null;
}
