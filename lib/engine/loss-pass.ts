/**
 * One datum through the model, its loss, and (when asked) its backward pass, in the engine's
 * reusable workspace. Losses on target log-probs turn the logits buffer itself into probabilities
 * and then dL/dlogits (one pass of exponentials, no second (N, V) buffer); the KL losses keep
 * whole log-softmax rows beside it. Shared by LoRA training and full-parameter training.
 * Each pass also reports the entropy of the model's next-token distribution at its loss positions,
 * so a caller that wants the learner's entropies needs no second forward over the same tokens.
 */
import type { Kernels } from "./kernels/types";
import type { Datum, LossFnConfig, LossFnName } from "../training/types";
import type { BaseModel, BaseWeights } from "./weights";
import type { LoraAdapter } from "./lora";
import { backward, forward, logits, type RopeTables } from "./model";
import { expNonPositive, logSoftmaxRows, softmaxRowsWithTargets } from "./ops";
import { checkLossInputs, datumLoss, needsFullRows, type DatumLoss } from "./losses";
import type { Workspace } from "./workspace";

export interface PassContext {
  kernels: Kernels;
  model: BaseModel;
  rope: RopeTables;
  workspace: Workspace;
}

/** What the backward pass adds gradients into: nothing (scoring), the adapter's tensors, or the base weights'. */
export type GradTarget = { kind: "none" } | { kind: "lora" } | { kind: "base"; grads: BaseWeights };

/**
 * Positions whose dL/dlogits can be non-zero for a loss on target log-probs: cross_entropy needs a
 * non-zero weight, the policy losses a non-zero advantage. Prompt positions are usually neither,
 * so their rows skip the probabilities. True (every row) when the input is missing.
 */
function gradientRows(lossFn: LossFnName, datum: Datum): ArrayLike<number> | true {
  const inputs = datum.lossFnInputs;
  return (lossFn === "cross_entropy" ? inputs.weights : inputs.advantages) ?? true;
}

/**
 * Positions whose entropy a pass reports: those with a non-zero weight; a datum without weights
 * (a policy loss) uses its gradient rows instead, so prompt positions never cost an extra pass.
 */
function entropyRows(lossFn: LossFnName, datum: Datum): ArrayLike<number> | true {
  return datum.lossFnInputs.weights ?? gradientRows(lossFn, datum);
}

const selected = (rows: ArrayLike<number> | true, t: number): boolean => rows === true || rows[t] !== 0;

/** H = −Σ p log p of log-softmax rows `logp` and their probabilities `probs` (N, V), at the selected positions; 0 elsewhere. */
function entropiesFromRows(
  logp: Float32Array,
  probs: Float32Array,
  N: number,
  V: number,
  rows: ArrayLike<number> | true,
): number[] {
  const h = new Array<number>(N).fill(0);
  for (let t = 0; t < N; t++) {
    if (!selected(rows, t)) continue;
    const o = t * V;
    let sum = 0;
    for (let j = 0; j < V; j++) if (probs[o + j] > 0) sum -= probs[o + j] * logp[o + j];
    h[t] = sum;
  }
  return h;
}

/**
 * H = logsumexp(z) − Σ p z = log s − Σ e (z − m) / s with e = exp(z − m), s = Σ e, from logits z
 * (N, V) at the selected positions; 0 elsewhere. Columns at −∞ (ids a trimmed model lacks) have
 * e = 0 and add nothing. Read before the logits become probabilities: one extra exponential per
 * entry of the selected rows only, next to the C·V multiply-adds of their logits.
 */
function entropiesFromLogits(z: Float32Array, N: number, V: number, rows: ArrayLike<number> | true): number[] {
  const h = new Array<number>(N).fill(0);
  for (let t = 0; t < N; t++) {
    if (!selected(rows, t)) continue;
    const o = t * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (z[o + j] > max) max = z[o + j];
    let s = 0;
    let u = 0;
    for (let j = 0; j < V; j++) {
      const x = z[o + j] - max;
      const e = expNonPositive(x);
      if (e > 0) {
        s += e;
        u += e * x;
      }
    }
    h[t] = Math.log(s) - u / s;
  }
  return h;
}

export interface PassResult extends DatumLoss {
  /**
   * Natural-log entropy of the untempered next-token distribution at each model-input position
   * (N): non-zero-weight positions (or, without weights, the gradient rows); 0 at the others.
   */
  entropies: number[];
}

/**
 * Runs `datum` (pos0 = 0) and returns its loss, target log-probs and entropies; with a gradient
 * target, also adds the datum's gradients into it (accumulating across calls).
 */
export function datumPass(
  ctx: PassContext,
  lora: LoraAdapter | null,
  datum: Datum,
  lossFn: LossFnName,
  lossFnConfig: LossFnConfig,
  target: GradTarget,
): PassResult {
  const { kernels, model, rope } = ctx;
  const V = model.config.vocabSize;
  const N = datum.modelInput.length;
  if (N === 0) throw new Error("a datum has an empty model input");
  const maxPositions = rope.cos.length / (model.config.headDim / 2);
  if (N > maxPositions)
    throw new Error(`${N} positions exceed the model's context of ${model.config.maxPositionEmbeddings}`);
  if (target.kind === "lora" && !lora) throw new Error("LoRA gradients need an adapter");
  checkLossInputs(datum.lossFnInputs, N, V);
  const withGrad = target.kind !== "none";
  const { acts, cache, logits: z } = ctx.workspace.take(N, lora?.config.rank ?? 0);
  forward(kernels, model, lora, datum.modelInput, cache, acts, rope);
  logits(kernels, model, acts, N, null, z); // (N, V)
  let d: DatumLoss;
  let dLogits: Float32Array;
  let entropies: number[];
  if (needsFullRows(lossFn)) {
    dLogits = ctx.workspace.probs(); // (N, V): probabilities, then dL/dlogits
    logSoftmaxRows(z, N, V, dLogits);
    entropies = entropiesFromRows(z, dLogits, N, V, entropyRows(lossFn, datum)); // before datumLoss overwrites the probabilities
    d = datumLoss(lossFn, lossFnConfig, datum.lossFnInputs, z, dLogits, N, V, withGrad);
  } else {
    const lp: number[] = new Array(N);
    entropies = entropiesFromLogits(z, N, V, entropyRows(lossFn, datum));
    softmaxRowsWithTargets(z, N, V, datum.lossFnInputs.targetTokens, lp, withGrad && gradientRows(lossFn, datum));
    dLogits = z;
    d = datumLoss(lossFn, lossFnConfig, datum.lossFnInputs, null, z, N, V, withGrad, lp);
  }
  if (withGrad && d.rows.length > 0) {
    const base = target.kind === "base" ? { grads: target.grads, tokens: datum.modelInput } : null;
    backward(kernels, model, target.kind === "lora" ? lora : null, acts, cache, N, d.rows, dLogits, base);
  }
  return { ...d, entropies };
}
