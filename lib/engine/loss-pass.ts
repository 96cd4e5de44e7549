/**
 * One datum through the model, its loss, and (when asked) its backward pass, in the engine's
 * reusable workspace. Losses on target log-probs turn the logits buffer itself into probabilities
 * and then dL/dlogits (one pass of exponentials, no second (N, V) buffer); the KL losses keep
 * whole log-softmax rows beside it. Shared by LoRA training and full-parameter training.
 */
import type { Kernels } from "./kernels/types";
import type { Datum, LossFnConfig, LossFnName } from "../training/types";
import type { BaseModel, BaseWeights } from "./weights";
import type { LoraAdapter } from "./lora";
import { backward, forward, logits, type RopeTables } from "./model";
import { logSoftmaxRows, softmaxRowsWithTargets } from "./ops";
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
 * Runs `datum` (pos0 = 0) and returns its loss and target log-probs; with a gradient target, also
 * adds the datum's gradients into it (accumulating across calls).
 */
export function datumPass(ctx: PassContext, lora: LoraAdapter | null, datum: Datum, lossFn: LossFnName, lossFnConfig: LossFnConfig, target: GradTarget): DatumLoss {
  const { kernels, model, rope } = ctx;
  const V = model.config.vocabSize;
  const N = datum.modelInput.length;
  if (N === 0) throw new Error("a datum has an empty model input");
  const maxPositions = rope.cos.length / (model.config.headDim / 2);
  if (N > maxPositions) throw new Error(`${N} positions exceed the model's context of ${model.config.maxPositionEmbeddings}`);
  if (target.kind === "lora" && !lora) throw new Error("LoRA gradients need an adapter");
  checkLossInputs(datum.lossFnInputs, N, V);
  const withGrad = target.kind !== "none";
  const { acts, cache, logits: z } = ctx.workspace.take(N, lora?.config.rank ?? 0);
  forward(kernels, model, lora, datum.modelInput, cache, acts, rope);
  logits(kernels, model, acts, N, null, z); // (N, V)
  let d: DatumLoss;
  let dLogits: Float32Array;
  if (needsFullRows(lossFn)) {
    dLogits = ctx.workspace.probs(); // (N, V): probabilities, then dL/dlogits
    logSoftmaxRows(z, N, V, dLogits);
    d = datumLoss(lossFn, lossFnConfig, datum.lossFnInputs, z, dLogits, N, V, withGrad);
  } else {
    const lp: number[] = new Array(N);
    softmaxRowsWithTargets(z, N, V, datum.lossFnInputs.targetTokens, lp, withGrad && gradientRows(lossFn, datum));
    dLogits = z;
    d = datumLoss(lossFn, lossFnConfig, datum.lossFnInputs, null, z, N, V, withGrad, lp);
  }
  if (withGrad && d.rows.length > 0) {
    const base = target.kind === "base" ? { grads: target.grads, tokens: datum.modelInput } : null;
    backward(kernels, model, target.kind === "lora" ? lora : null, acts, cache, N, d.rows, dLogits, base);
  }
  return d;
}
