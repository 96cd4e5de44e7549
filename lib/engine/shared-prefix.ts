/**
 * A training batch's shared prefix: the tokens every datum of the batch starts with (an agent's
 * system prompt and tools block, about two thirds of a curriculum episode), run forward once, its
 * keys and values then held fixed while each datum's own tokens run forward and backward after
 * them. The loss is the full sequence's (the prefix's positions carry no weight, so it loses no
 * term); the gradient is the full sequence's less the part that flows back into the prefix's keys
 * and values, a stop-gradient that saves the prefix's backward and all but one of its forwards
 * per batch. Pretraining uses it; Tinker's forward_backward never does (its gradients are exact).
 */
import type { Datum, LossFnInputs, LossFnName } from "../training/types";
import type { LoraAdapter } from "./lora";
import { needsFullRows } from "./losses";
import { forward } from "./model";
import type { PassContext } from "./loss-pass";

export interface SharedPrefix {
  tokens: readonly number[];
  /** Per layer (tokens.length, NKV·HD): keys after q/k-norm and rotary, as a KV cache holds them. */
  k: Float32Array[];
  v: Float32Array[];
}

/**
 * The longest prefix every datum's model input starts with, ending before the first position
 * where any datum's loss has a gradient (a non-zero weight or advantage) and leaving each datum at
 * least one token of its own. 0 for fewer than two datums: nothing would be shared.
 */
export function sharedPrefixLength(datums: readonly Datum[]): number {
  if (datums.length < 2) return 0;
  const first = datums[0]!.modelInput;
  let n = Math.min(...datums.map((d) => d.modelInput.length - 1));
  for (const d of datums) n = Math.min(n, firstGradientRow(d.lossFnInputs));
  for (let t = 0; t < n; t++) {
    if (datums.some((d) => d.modelInput[t] !== first[t])) return t;
  }
  return Math.max(0, n);
}

/** The first position whose loss term can have a gradient (Infinity when none can). */
function firstGradientRow(inputs: LossFnInputs): number {
  let first = Number.POSITIVE_INFINITY;
  for (const rows of [inputs.weights, inputs.advantages]) {
    if (!rows) continue;
    const t = rows.findIndex((x) => x !== 0);
    if (t >= 0) first = Math.min(first, t);
  }
  return first;
}

/** Runs `tokens` forward from position 0 (no gradient) and copies out their keys and values. */
export function prefillSharedPrefix(
  ctx: PassContext,
  lora: LoraAdapter | null,
  tokens: readonly number[],
): SharedPrefix {
  if (tokens.length === 0) throw new Error("a shared prefix needs at least one token");
  const { acts, cache } = ctx.workspace.take(tokens.length, lora?.config.rank ?? 0);
  forward(ctx.kernels, ctx.model, lora, tokens, cache, acts, ctx.rope);
  const c = ctx.model.config;
  const n = tokens.length * c.numKvHeads * c.headDim;
  return {
    tokens: [...tokens],
    k: cache.k.map((a) => Float32Array.from(a.subarray(0, n))),
    v: cache.v.map((a) => Float32Array.from(a.subarray(0, n))),
  };
}

/**
 * The datum from the prefix's end on: its own tokens and the loss inputs of their positions.
 * Throws when the datum does not start with the prefix, when a prefix position carries a loss
 * gradient (it would be lost), or for the losses over whole teacher rows, which keep no per-row
 * window here.
 */
export function afterSharedPrefix(datum: Datum, prefix: SharedPrefix, lossFn: LossFnName): Datum {
  const P = prefix.tokens.length;
  const N = datum.modelInput.length;
  if (needsFullRows(lossFn)) throw new Error(`${lossFn} does not train after a shared prefix`);
  if (P >= N) throw new Error(`a shared prefix of ${P} tokens leaves nothing of a ${N}-token datum`);
  for (let t = 0; t < P; t++) {
    if (datum.modelInput[t] !== prefix.tokens[t])
      throw new Error(`the datum differs from the shared prefix at position ${t}`);
  }
  if (firstGradientRow(datum.lossFnInputs) < P)
    throw new Error(`position ${firstGradientRow(datum.lossFnInputs)} carries a loss inside the shared prefix`);
  const rest = <T extends ArrayLike<number> & { slice(start: number): T }>(a: T | undefined): T | undefined =>
    a === undefined ? undefined : a.slice(P);
  const inputs = datum.lossFnInputs;
  return {
    modelInput: datum.modelInput.slice(P),
    lossFnInputs: {
      targetTokens: inputs.targetTokens.slice(P),
      weights: rest(inputs.weights),
      logprobs: rest(inputs.logprobs),
      advantages: rest(inputs.advantages),
    },
  };
}
