/**
 * The Qwen3 decoder stack, forward and backward, for one sequence at a time:
 * embed → per layer [RMSNorm → q/k/v (+LoRA) → q/k head-RMSNorm → RoPE → causal GQA attention →
 * o (+LoRA) → residual → RMSNorm → SwiGLU MLP (+LoRA) → residual] → final RMSNorm → lm_head.
 * The forward caches exactly what the backward reads (llm.c style). The backward produces
 * gradients for the LoRA tensors and, in full-parameter training only, for every base weight
 * (dW = dYᵀ·X per linear, norm weights, embedding rows). lm_head runs only at requested rows.
 */
import type { Kernels } from "./kernels/types";
import type { BaseModel, BaseWeights } from "./weights";
import { readValues, weightOperand } from "./matrix";
import type { LoraAdapter } from "./lora";
import { linearBackward, linearForward } from "./lora";
import type { KvCache } from "./kv-cache";
import { attentionBackward, attentionForward } from "./attention";
import { rmsnormBackwardOn, rmsnormForwardOn, ropeOn, swigluBackwardOn, swigluForwardOn } from "./threads-ops";
import { allocGradScratch, type Activations, type RopeTables } from "./activations";

export { allocActivations, freeActivations, type Activations, type RopeTables } from "./activations";

/**
 * Runs tokens at positions cache.length .. cache.length+T-1 through every layer, appending their
 * keys/values to `cache`, and leaves the final normed hidden states in acts.xnF (T, C).
 * `acts` must have been allocated for (T, TK = cache.length + T) (see allocActivations).
 */
export function forward(
  k: Kernels,
  model: BaseModel,
  lora: LoraAdapter | null,
  tokens: ArrayLike<number>,
  cache: KvCache,
  acts: Activations,
  rt: RopeTables,
): void {
  const c = model.config;
  const T = tokens.length;
  const C = c.hiddenSize,
    NH = c.numHeads,
    NKV = c.numKvHeads,
    HD = c.headDim,
    I = c.intermediateSize;
  const QD = NH * HD,
    KVD = NKV * HD;
  const pos0 = cache.length;
  const TK = pos0 + T;
  if (TK > cache.capacity) throw new Error(`sequence of ${TK} positions exceeds the cache capacity ${cache.capacity}`);
  if (T > acts.T || TK > acts.TK) throw new Error("activations were allocated for a shorter sequence");
  if (lora && lora.config.rank > acts.rank)
    throw new Error(`activations were allocated for LoRA rank ${acts.rank}, not ${lora.config.rank}`);
  const eps = c.rmsNormEps;
  const scaling = lora?.scaling ?? 0;

  // 1. Token embeddings into the residual stream.
  const x0 = acts.resid[0]; // (T, C)
  for (let t = 0; t < T; t++) {
    const id = tokens[t];
    if (!(id >= 0 && id < c.vocabSize))
      throw new Error(`token id ${id} at position ${pos0 + t} is outside the vocabulary of ${c.vocabSize}`);
    readValues(model.embed_tokens, id * C, C, x0, t * C);
  }

  for (let l = 0; l < c.numLayers; l++) {
    const w = model.layers[l];
    const a = acts.layers[l];
    const pairs = lora?.layers[l] ?? {};
    const xIn = acts.resid[l],
      xOut = acts.resid[l + 1];
    // 2. Attention block: pre-norm, projections, per-head q/k norm, rotary, attention, output projection.
    rmsnormForwardOn(k, a.xn1, a.rstd1, xIn, w.input_layernorm, T, C, eps); // (T, C)
    linearForward(k, a.qRaw, a.xn1, T, w.q_proj, C, QD, pairs.q_proj, scaling, a.xa.q_proj ?? null); // (T, QD)
    linearForward(k, a.kRaw, a.xn1, T, w.k_proj, C, KVD, pairs.k_proj, scaling, a.xa.k_proj ?? null); // (T, KVD)
    linearForward(k, a.v, a.xn1, T, w.v_proj, C, KVD, pairs.v_proj, scaling, a.xa.v_proj ?? null); // (T, KVD)
    rmsnormForwardOn(k, a.q, a.qRstd, a.qRaw, w.q_norm, T * NH, HD, eps); // (T, NH, HD)
    rmsnormForwardOn(k, a.k, a.kRstd, a.kRaw, w.k_norm, T * NKV, HD, eps); // (T, NKV, HD)
    ropeOn(k, a.q, T, NH, HD, pos0, rt.cos, rt.sin, false);
    ropeOn(k, a.k, T, NKV, HD, pos0, rt.cos, rt.sin, false);
    cache.k[l].set(a.k.subarray(0, T * KVD), pos0 * KVD); // (TK, KVD)
    cache.v[l].set(a.v.subarray(0, T * KVD), pos0 * KVD); // (TK, KVD)
    attentionForward(k, a.att, a.probs, a.q, cache.k[l], cache.v[l], acts.attnScratch, { T, TK, pos0, NH, NKV, HD }); // (T, QD)
    linearForward(k, a.o, a.att, T, w.o_proj, QD, C, pairs.o_proj, scaling, a.xa.o_proj ?? null); // (T, C)
    for (let i = 0; i < T * C; i++) a.xMid[i] = xIn[i] + a.o[i]; // (T, C)
    // 3. MLP block: pre-norm, down(silu(gate(x)) · up(x)), residual.
    rmsnormForwardOn(k, a.xn2, a.rstd2, a.xMid, w.post_attention_layernorm, T, C, eps); // (T, C)
    linearForward(k, a.gate, a.xn2, T, w.gate_proj, C, I, pairs.gate_proj, scaling, a.xa.gate_proj ?? null); // (T, I)
    linearForward(k, a.up, a.xn2, T, w.up_proj, C, I, pairs.up_proj, scaling, a.xa.up_proj ?? null); // (T, I)
    swigluForwardOn(k, a.h, a.gate, a.up, T * I); // (T, I)
    linearForward(k, a.o, a.h, T, w.down_proj, I, C, pairs.down_proj, scaling, a.xa.down_proj ?? null); // (T, C)
    for (let i = 0; i < T * C; i++) xOut[i] = a.xMid[i] + a.o[i]; // (T, C)
  }
  // 4. Final norm; lm_head is applied by `logits` at the rows that need it.
  rmsnormForwardOn(k, acts.xnF, acts.rstdF, acts.resid[c.numLayers], model.norm, T, C, eps); // (T, C)
  cache.length = TK;
}

/**
 * Logits (P, V) at the given rows of the last forward (all T rows when `rows` is null), written
 * into `out`. Rows are gathered first so the product only covers what is needed.
 */
export function logits(
  k: Kernels,
  model: BaseModel,
  acts: Activations,
  T: number,
  rows: ArrayLike<number> | null,
  out: Float32Array,
): number {
  const C = model.config.hiddenSize,
    V = model.config.vocabSize;
  let src = acts.xnF;
  let P = T;
  if (rows) {
    P = rows.length;
    for (let i = 0; i < P; i++) acts.gather.set(acts.xnF.subarray(rows[i] * C, rows[i] * C + C), i * C); // (P, C)
    src = acts.gather;
  }
  k.sgemm({
    transA: false,
    transB: true,
    M: P,
    N: V,
    K: C,
    alpha: 1,
    A: src,
    lda: C,
    ...weightOperand(model.lm_head),
    ldb: C,
    beta: 0,
    C: out,
    ldc: V,
  }); // (P, V)
  return P;
}

/** Where full-parameter training collects base-weight gradients, and the tokens the embedding rows came from. */
export interface BaseGradTarget {
  /** Same layout as the model; lm_head is the same array as embed_tokens when they are tied. */
  grads: BaseWeights<Float32Array>;
  tokens: ArrayLike<number>;
}

/**
 * Backward of forward + logits for the last forward's T tokens, given dL/dlogits (P, V) at `rows`.
 * The tokens start where the cache held keys already (pos0 = cache.length − T: 0 for a full
 * sequence, or a shared prefix's length); the prefix's keys and values are held fixed, so no
 * gradient flows into the positions before pos0. Adds into the LoRA gradients (which must be
 * allocated) when there is an adapter, and into the base weights' gradients when `base` is given;
 * otherwise base weights get none.
 */
export function backward(
  k: Kernels,
  model: BaseModel,
  lora: LoraAdapter | null,
  acts: Activations,
  cache: KvCache,
  T: number,
  rows: ArrayLike<number>,
  dLogits: Float32Array,
  base: BaseGradTarget | null = null,
): void {
  const c = model.config;
  const C = c.hiddenSize,
    NH = c.numHeads,
    NKV = c.numKvHeads,
    HD = c.headDim,
    I = c.intermediateSize,
    V = c.vocabSize;
  const QD = NH * HD,
    KVD = NKV * HD;
  const eps = c.rmsNormEps;
  const scaling = lora?.scaling ?? 0;
  const TK = cache.length,
    pos0 = TK - T;
  if (pos0 < 0) throw new Error(`backward of ${T} tokens with only ${TK} cached positions`);
  acts.grads ??= allocGradScratch(k, c, acts.T, acts.TK, acts.rank);
  const g = acts.grads;
  const gw = base?.grads ?? null;
  const P = rows.length;

  // 1. lm_head: its weight's gradient dLogitsᵀ·xnF[rows] (V, C) when training the base; then
  //    dxnF rows = dLogits W (P, C), scattered into (T, C); then the final norm.
  if (gw) {
    for (let i = 0; i < P; i++) acts.gather.set(acts.xnF.subarray(rows[i] * C, rows[i] * C + C), i * C); // (P, C)
    k.sgemm({
      transA: true,
      transB: false,
      M: V,
      N: C,
      K: P,
      alpha: 1,
      A: dLogits,
      lda: V,
      B: acts.gather,
      ldb: C,
      beta: 1,
      C: gw.lm_head,
      ldc: C,
    }); // (V, C)
  }
  k.sgemm({
    transA: false,
    transB: false,
    M: P,
    N: C,
    K: V,
    alpha: 1,
    A: dLogits,
    lda: V,
    ...weightOperand(model.lm_head),
    ldb: C,
    beta: 0,
    C: acts.gather,
    ldc: C,
  }); // (P, C)
  g.dxn.fill(0, 0, T * C);
  for (let i = 0; i < P; i++) {
    const r = rows[i];
    for (let j = 0; j < C; j++) g.dxn[r * C + j] += acts.gather[i * C + j];
  }
  let dRes = g.dResA; // (T, C): gradient w.r.t. the residual stream
  let dResNext = g.dResB;
  rmsnormBackwardOn(k, dRes, g.dxn, acts.resid[c.numLayers], model.norm, acts.rstdF, T, C, false, gw?.norm ?? null);

  for (let l = c.numLayers - 1; l >= 0; l--) {
    const w = model.layers[l];
    const a = acts.layers[l];
    const pairs = lora?.layers[l] ?? {};
    const lg = gw?.layers[l] ?? null;
    // 2. MLP block backward; dxMid starts as the residual branch's gradient. Where xn2 and h are
    //    one buffer for all layers (see activations.ts) they are recomputed: the forward's values.
    if (acts.recomputed) {
      rmsnormForwardOn(k, a.xn2, a.rstd2, a.xMid, w.post_attention_layernorm, T, C, eps); // (T, C)
      swigluForwardOn(k, a.h, a.gate, a.up, T * I); // (T, I)
    }
    linearBackward(
      k,
      g.dh,
      false,
      dRes,
      a.h,
      T,
      w.down_proj,
      I,
      C,
      pairs.down_proj,
      scaling,
      a.xa.down_proj ?? null,
      g.dxa,
      lg?.down_proj ?? null,
    ); // (T, I)
    swigluBackwardOn(k, g.dgate, g.dup, g.dh, a.gate, a.up, T * I); // (T, I)
    linearBackward(
      k,
      g.dxn,
      false,
      g.dgate,
      a.xn2,
      T,
      w.gate_proj,
      C,
      I,
      pairs.gate_proj,
      scaling,
      a.xa.gate_proj ?? null,
      g.dxa,
      lg?.gate_proj ?? null,
    ); // (T, C)
    linearBackward(
      k,
      g.dxn,
      true,
      g.dup,
      a.xn2,
      T,
      w.up_proj,
      C,
      I,
      pairs.up_proj,
      scaling,
      a.xa.up_proj ?? null,
      g.dxa,
      lg?.up_proj ?? null,
    ); // (T, C)
    const dxMid = g.dxMid; // (T, C)
    dxMid.set(dRes.subarray(0, T * C));
    rmsnormBackwardOn(
      k,
      dxMid,
      g.dxn,
      a.xMid,
      w.post_attention_layernorm,
      a.rstd2,
      T,
      C,
      true,
      lg?.post_attention_layernorm ?? null,
    );
    // 3. Attention block backward: o_proj, attention, rotary (inverse rotation), q/k norm, projections.
    linearBackward(
      k,
      g.datt,
      false,
      dxMid,
      a.att,
      T,
      w.o_proj,
      QD,
      C,
      pairs.o_proj,
      scaling,
      a.xa.o_proj ?? null,
      g.dxa,
      lg?.o_proj ?? null,
    ); // (T, QD)
    if (acts.recomputed) {
      // q (normed and rotated), from qRaw; then the attention weights from q and the key/value
      // store. The recomputed output goes to dq, which attentionBackward overwrites whole.
      rmsnormForwardOn(k, a.q, a.qRstd, a.qRaw, w.q_norm, T * NH, HD, eps); // (T, NH, HD)
      ropeOn(k, a.q, T, NH, HD, pos0, acts.rope.cos, acts.rope.sin, false);
      attentionForward(k, g.dq, a.probs, a.q, cache.k[l], cache.v[l], acts.attnScratch, { T, TK, pos0, NH, NKV, HD });
    }
    attentionBackward(k, g.dq, g.dk, g.dv, g.dP, g.datt, a.probs, a.q, cache.k[l], cache.v[l], acts.attnScratch, {
      T,
      TK,
      pos0,
      NH,
      NKV,
      HD,
    });
    // The rows from pos0 on are these tokens' own keys and values; the prefix's are dropped.
    const dk = g.dk.subarray(pos0 * KVD, TK * KVD),
      dv = g.dv.subarray(pos0 * KVD, TK * KVD);
    ropeOn(k, g.dq, T, NH, HD, pos0, acts.rope.cos, acts.rope.sin, true); // (T, QD)
    ropeOn(k, dk, T, NKV, HD, pos0, acts.rope.cos, acts.rope.sin, true); // (T, KVD)
    rmsnormBackwardOn(k, g.dqRaw, g.dq, a.qRaw, w.q_norm, a.qRstd, T * NH, HD, false, lg?.q_norm ?? null); // (T, QD)
    rmsnormBackwardOn(k, g.dkRaw, dk, a.kRaw, w.k_norm, a.kRstd, T * NKV, HD, false, lg?.k_norm ?? null); // (T, KVD)
    // Layer 0's input comes straight from the embeddings: its gradient is needed only to train them.
    const needInput = l > 0 || gw !== null;
    const dxn1 = needInput ? g.dxn : null;
    if (acts.recomputed) rmsnormForwardOn(k, a.xn1, a.rstd1, acts.resid[l], w.input_layernorm, T, C, eps); // (T, C)
    linearBackward(
      k,
      dxn1,
      false,
      g.dqRaw,
      a.xn1,
      T,
      w.q_proj,
      C,
      QD,
      pairs.q_proj,
      scaling,
      a.xa.q_proj ?? null,
      g.dxa,
      lg?.q_proj ?? null,
    );
    linearBackward(
      k,
      dxn1,
      true,
      g.dkRaw,
      a.xn1,
      T,
      w.k_proj,
      C,
      KVD,
      pairs.k_proj,
      scaling,
      a.xa.k_proj ?? null,
      g.dxa,
      lg?.k_proj ?? null,
    );
    linearBackward(
      k,
      dxn1,
      true,
      dv,
      a.xn1,
      T,
      w.v_proj,
      C,
      KVD,
      pairs.v_proj,
      scaling,
      a.xa.v_proj ?? null,
      g.dxa,
      lg?.v_proj ?? null,
    );
    if (!needInput) break;
    dResNext.set(dxMid.subarray(0, T * C));
    rmsnormBackwardOn(
      k,
      dResNext,
      g.dxn,
      acts.resid[l],
      w.input_layernorm,
      a.rstd1,
      T,
      C,
      true,
      lg?.input_layernorm ?? null,
    ); // (T, C)
    [dRes, dResNext] = [dResNext, dRes];
  }
  // 4. Embeddings: each position's residual-stream gradient is added to its token's row.
  if (gw && base) {
    for (let t = 0; t < T; t++) {
      const e = base.tokens[t] * C,
        o = t * C;
      for (let j = 0; j < C; j++) gw.embed_tokens[e + j] += dRes[o + j];
    }
  }
}
