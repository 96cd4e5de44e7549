/**
 * One datum through the model, its loss, and (when asked) its backward pass, in the engine's
 * reusable workspace. Losses on target log-probs turn the logits buffer itself into probabilities
 * and then dL/dlogits (one pass of exponentials, no second (N, V) buffer); the KL losses keep
 * whole log-softmax rows beside it. Shared by LoRA training and full-parameter training.
 * Each pass also reports the entropy of the model's next-token distribution at its loss positions,
 * so a caller that wants the learner's entropies needs no second forward over the same tokens.
 * The row-wise work on the (N, V) logits (entropies, softmax, target log-probs) runs on every
 * thread of the kernels' pool, a block of whole rows per unit, so it gives the same bits on any
 * number of threads.
 */
import type { Kernels, TaskContext, ThreadPool } from "./kernels/types";
import type { Datum, LossFnConfig, LossFnName } from "../training/types";
import type { BaseModel, BaseWeights } from "./weights";
import type { LoraAdapter } from "./lora";
import { backward, forward, logits, type RopeTables } from "./model";
import { expNonPositive, logSoftmaxRows, softmaxRowsWithTargets } from "./ops";
import { checkLossInputs, datumLoss, needsFullRows, type DatumLoss } from "./losses";
import type { Workspace } from "./workspace";
import { taskId } from "./threads";
import { afterSharedPrefix, type SharedPrefix } from "./shared-prefix";

export interface PassContext {
  kernels: Kernels;
  model: BaseModel;
  rope: RopeTables;
  workspace: Workspace;
}

/** What the backward pass adds gradients into: nothing (scoring), the adapter's tensors, or the base weights'. */
export type GradTarget = { kind: "none" } | { kind: "lora" } | { kind: "base"; grads: BaseWeights<Float32Array> };

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
 * Runs `datum` and returns its loss, target log-probs and entropies; with a gradient target, also
 * adds the datum's gradients into it (accumulating across calls). With a shared prefix (which the
 * datum starts with), only the datum's own tokens run, after the prefix's fixed keys and values:
 * the prefix's positions report log-prob and entropy 0 and carry no loss (see shared-prefix.ts).
 */
export function datumPass(
  ctx: PassContext,
  lora: LoraAdapter | null,
  fullDatum: Datum,
  lossFn: LossFnName,
  lossFnConfig: LossFnConfig,
  target: GradTarget,
  prefix: SharedPrefix | null = null,
): PassResult {
  const { kernels, model, rope } = ctx;
  const V = model.config.vocabSize;
  const total = fullDatum.modelInput.length;
  if (total === 0) throw new Error("a datum has an empty model input");
  const maxPositions = rope.cos.length / (model.config.headDim / 2);
  if (total > maxPositions)
    throw new Error(`${total} positions exceed the model's context of ${model.config.maxPositionEmbeddings}`);
  if (target.kind === "lora" && !lora) throw new Error("LoRA gradients need an adapter");
  checkLossInputs(fullDatum.lossFnInputs, total, V);
  const datum = prefix ? afterSharedPrefix(fullDatum, prefix, lossFn) : fullDatum;
  const P = prefix?.tokens.length ?? 0;
  const N = datum.modelInput.length;
  const withGrad = target.kind !== "none";
  const { acts, cache, logits: z } = ctx.workspace.take(N, lora?.config.rank ?? 0, P + N);
  if (prefix) {
    for (let l = 0; l < model.config.numLayers; l++) {
      cache.k[l]!.set(prefix.k[l]!);
      cache.v[l]!.set(prefix.v[l]!);
    }
    cache.length = P;
  }
  forward(kernels, model, lora, datum.modelInput, cache, acts, rope);
  logits(kernels, model, acts, N, null, z); // (N, V)
  let d: DatumLoss;
  let dLogits: Float32Array;
  let entropies: number[];
  if (needsFullRows(lossFn)) {
    dLogits = ctx.workspace.probs(); // (N, V): probabilities, then dL/dlogits
    // Entropies before datumLoss overwrites the probabilities.
    entropies = logitRows(kernels, z, dLogits, N, V, null, entropyRows(lossFn, datum), false).entropies;
    d = datumLoss(lossFn, lossFnConfig, datum.lossFnInputs, z, dLogits, N, V, withGrad);
  } else {
    const targets = datum.lossFnInputs.targetTokens;
    for (let t = 0; t < N; t++) {
      const y = targets[t];
      if (!(y >= 0 && y < V)) throw new Error(`target token ${y} at position ${t} is outside the vocabulary`);
    }
    const probRows = withGrad && gradientRows(lossFn, datum);
    const rows = logitRows(kernels, z, null, N, V, targets, entropyRows(lossFn, datum), probRows);
    entropies = rows.entropies;
    dLogits = z;
    d = datumLoss(lossFn, lossFnConfig, datum.lossFnInputs, null, z, N, V, withGrad, rows.logprobs);
  }
  if (withGrad && d.rows.length > 0) {
    const base = target.kind === "base" ? { grads: target.grads, tokens: datum.modelInput } : null;
    backward(kernels, model, target.kind === "lora" ? lora : null, acts, cache, N, d.rows, dLogits, base);
  }
  if (P === 0) return { ...d, entropies };
  const before = new Array<number>(P).fill(0);
  return {
    ...d,
    rows: d.rows.map((r) => r + P),
    logprobs: [...before, ...d.logprobs],
    entropies: [...before, ...entropies],
  };
}

/** Below this many logits the pool is not worth waking (about a millisecond of work on one thread). */
const PARALLEL_MIN_LOGITS = 1 << 18;
/** Rows per unit of the logit-rows task: enough to amortise claiming a unit, few enough to balance. */
const ROWS_PER_UNIT = 4;

/**
 * The row-wise pass over logits z (N, V). With `targets` (losses on target log-probs): entropies
 * at `entropySel` from the logits, then each row's target log-prob, and probabilities in place at
 * `probSel` (softmaxRowsWithTargets). Without (the KL losses): log-softmax rows in place and their
 * probabilities into `probs`, then entropies at `entropySel` from both. Each row depends on
 * itself only, so blocks of rows run on the pool's threads when it has more than one.
 */
function logitRows(
  kernels: Kernels,
  z: Float32Array,
  probs: Float32Array | null,
  N: number,
  V: number,
  targets: ArrayLike<number> | null,
  entropySel: ArrayLike<number> | true,
  probSel: ArrayLike<number> | boolean,
): { entropies: number[]; logprobs: number[] } {
  const pool = poolFor(kernels, N * V, probs ? [z, probs] : [z]);
  if (!pool) {
    if (!targets) {
      logSoftmaxRows(z, N, V, probs);
      return { entropies: entropiesFromRows(z, probs!, N, V, entropySel), logprobs: [] };
    }
    const lp: number[] = new Array(N);
    const entropies = entropiesFromLogits(z, N, V, entropySel);
    softmaxRowsWithTargets(z, N, V, targets, lp, probSel);
    return { entropies, logprobs: lp };
  }
  // Per-row inputs and outputs in the shared memory: targets, the two selections, target
  // log-probs (float32, as lp holds them) and entropies (float64, an even float offset).
  const half = Math.ceil(N / 2) * 2;
  const io = kernels.alloc(4 * half + 2 * half);
  try {
    const sel = (rows: ArrayLike<number> | boolean, at: number): void => {
      for (let t = 0; t < N; t++) io[at + t] = rows === true || (rows !== false && rows[t] !== 0) ? 1 : 0;
    };
    if (targets) for (let t = 0; t < N; t++) io[t] = targets[t];
    sel(entropySel, half);
    sel(probSel, 2 * half);
    const args = [
      z.byteOffset,
      z.length,
      probs?.byteOffset ?? 0,
      probs?.length ?? 0,
      io.byteOffset,
      N,
      V,
      targets ? 1 : 0,
    ];
    const units = Math.ceil(N / ROWS_PER_UNIT);
    pool.run({ task: taskId("logit-rows"), args, units, scratchFloats: 0, flops: 0 });
    const lp = Array.from(io.subarray(3 * half, 3 * half + N));
    const entropies = Array.from(new Float64Array(io.buffer, io.byteOffset + 4 * half * 4, N));
    return { entropies, logprobs: targets ? lp : [] };
  } finally {
    kernels.free(io);
  }
}

function poolFor(kernels: Kernels, logits: number, arrays: Float32Array[]): ThreadPool | null {
  const pool = kernels.pool;
  if (!pool || pool.threads < 2 || logits < PARALLEL_MIN_LOGITS) return null;
  return arrays.every((a) => pool.shares(a)) ? pool : null;
}

/** One block of rows of logitRows on a pool thread; args as logitRows posts them. */
export function logitRowsTask(ctx: TaskContext, args: readonly number[], unit: number): void {
  const [zAt, zLength, probsAt, probsLength, ioAt, N, V, withTargets] = args;
  const half = Math.ceil(N / 2) * 2;
  const io = ctx.f32(ioAt, 4 * half + 2 * half);
  const r0 = unit * ROWS_PER_UNIT;
  const rows = Math.min(ROWS_PER_UNIT, N - r0);
  const z = ctx.f32(zAt, zLength).subarray(r0 * V, (r0 + rows) * V);
  const entropySel = io.subarray(half + r0, half + r0 + rows);
  let entropies: number[];
  if (withTargets) {
    const lp: number[] = new Array(rows);
    entropies = entropiesFromLogits(z, rows, V, entropySel);
    softmaxRowsWithTargets(
      z,
      rows,
      V,
      io.subarray(r0, r0 + rows),
      lp,
      io.subarray(2 * half + r0, 2 * half + r0 + rows),
    );
    io.set(lp, 3 * half + r0);
  } else {
    const probs = ctx.f32(probsAt, probsLength).subarray(r0 * V, (r0 + rows) * V);
    logSoftmaxRows(z, rows, V, probs);
    entropies = entropiesFromRows(z, probs, rows, V, entropySel);
  }
  new Float64Array(io.buffer, io.byteOffset + 4 * half * 4, N).set(entropies, r0);
}
