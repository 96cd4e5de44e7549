/**
 * Per-datum losses as Tinker defines them (plain sums over tokens, tinker-api.md §7) plus the
 * embedded backend's distillation losses, each with its gradient with respect to the logits.
 * Input: the log-softmax rows (N, V) of one datum and the same rows as probabilities. Output: the
 * loss, every target's log-prob, and dL/dlogits for the rows that carry gradient only (the rest are
 * skipped by the backward pass), written compactly over the probability buffer to save memory.
 *
 * reverse_kl:      Σ_t w_t Σ_v p_s(v)(log p_s(v) − log p_t(v)) over the full vocabulary.
 * topk_reverse_kl: the same restricted to the teacher's top-k ids S_t, both distributions
 *                  renormalised over S_t: p̃(i) = p(i) / Σ_{j∈S_t} p(j); Σ_t w_t Σ_{i∈S_t} p̃_s(i)(log p̃_s(i) − log p̃_t(i)).
 *                  Ids within a row must be distinct; tokens outside S_t get no gradient.
 * Teacher rows (either kind) may cover only a window of positions from teacherRowsStart, e.g. the
 * completion of a long prompt, as long as every weighted position lies in it.
 */
import type { LossFnConfig, LossFnInputs, LossFnName } from "../training/types";

export interface DatumLoss {
  loss: number;
  /** Learner log-prob of every target token (N). */
  logprobs: number[];
  /** Row indices (positions) with non-zero gradient, in increasing order; row i of the overwritten probs buffer holds dL/dlogits at rows[i]. */
  rows: number[];
}

function need<T>(value: T | undefined, name: string, loss: LossFnName): T {
  if (value === undefined) throw new Error(`loss ${loss} needs loss_fn_inputs.${name}`);
  return value;
}

function cfg(config: LossFnConfig, camel: string, snake: string, fallback: number): number {
  return config[camel] ?? config[snake] ?? fallback;
}

/** Whether a loss reads whole log-softmax rows (the KL losses) rather than only the target log-probs. */
export function needsFullRows(name: LossFnName): boolean {
  switch (name) {
    case "cross_entropy":
    case "importance_sampling":
    case "ppo":
    case "cispo":
      return false;
    case "reverse_kl":
    case "topk_reverse_kl":
      return true;
    default: {
      const never: never = name;
      throw new Error(`unknown loss ${String(never)}`);
    }
  }
}

/**
 * Checks that every per-position input has N entries and that teacher rows fit their window
 * (see checkTeacherRows).
 */
export function checkLossInputs(inputs: LossFnInputs, N: number, V: number): void {
  if (inputs.targetTokens.length !== N)
    throw new Error(`targetTokens has ${inputs.targetTokens.length} entries for ${N} input positions`);
  const check = (arr: ArrayLike<number> | undefined, label: string): void => {
    if (arr && arr.length !== N) throw new Error(`${label} has ${arr.length} entries, expected ${N}`);
  };
  check(inputs.weights, "weights");
  check(inputs.advantages, "advantages");
  check(inputs.logprobs, "logprobs");
  checkTeacherRows(inputs, N, V);
}

/**
 * Teacher rows cover positions [start, start + R) (start = teacherRowsStart, default 0): full rows
 * (R, V) with R ≤ N − start; top-k rows run to the last position, (N − start, k), since their width
 * k is read from their length. Every position with a non-zero weight must have its row.
 */
function checkTeacherRows(inputs: LossFnInputs, N: number, V: number): void {
  const { teacherLogprobs: full, teacherTopkIds: ids, teacherTopkLogprobs: topLp } = inputs;
  const start = inputs.teacherRowsStart ?? 0;
  if (!Number.isInteger(start) || start < 0 || start > N)
    throw new Error(`teacherRowsStart ${start} is not a position in [0, ${N}]`);
  const span = N - start;
  const covered = (R: number, label: string): void => {
    const w = inputs.weights;
    if (!w) return;
    for (let t = 0; t < N; t++) {
      if (w[t] !== 0 && (t < start || t >= start + R)) {
        throw new Error(`position ${t} has weight ${w[t]} but ${label} covers only positions [${start}, ${start + R})`);
      }
    }
  };
  if (full) {
    if (full.length % V !== 0) throw new Error(`teacherLogprobs has ${full.length} entries, not whole rows of ${V}`);
    const R = full.length / V;
    if (R > span)
      throw new Error(
        `teacherLogprobs has ${R} rows from position ${start}, more than the ${span} positions left of ${N}`,
      );
    covered(R, "teacherLogprobs");
  }
  if (ids && topLp) {
    if (topLp.length !== ids.length)
      throw new Error(`teacherTopkIds has ${ids.length} entries but teacherTopkLogprobs ${topLp.length}`);
    if (span === 0 ? ids.length !== 0 : ids.length % span !== 0) {
      throw new Error(`teacherTopkIds has ${ids.length} entries, not (${span}, k) for positions [${start}, ${N})`);
    }
    covered(span, "teacherTopkIds");
  }
}

/**
 * Computes one datum's loss and gradient. `logp` holds log-softmax rows (N, V), `probs` their
 * exponentials; with `withGrad`, probs is overwritten: its first rows.length rows become
 * dL/dlogits (rows.length, V). Rows are processed in increasing order, so row i (≤ rows[i]) is
 * only written after every row it could overwrite has been read. Losses on target log-probs only
 * (see needsFullRows) may pass `logp` null with the target log-probs already in `targetLogprobs`.
 */
export function datumLoss(
  name: LossFnName,
  config: LossFnConfig,
  inputs: LossFnInputs,
  logp: Float32Array | null,
  probs: Float32Array,
  N: number,
  V: number,
  withGrad: boolean,
  targetLogprobs?: number[],
): DatumLoss {
  const targets = inputs.targetTokens;
  checkLossInputs(inputs, N, V);
  let lp: number[];
  if (targetLogprobs) {
    if (targetLogprobs.length !== N) throw new Error(`${targetLogprobs.length} target log-probs for ${N} positions`);
    lp = targetLogprobs;
  } else {
    if (!logp) throw new Error("datumLoss needs log-softmax rows or the target log-probs");
    lp = new Array(N);
    for (let t = 0; t < N; t++) {
      const y = targets[t];
      if (!(y >= 0 && y < V)) throw new Error(`target token ${y} at position ${t} is outside the vocabulary`);
      lp[t] = logp[t * V + y];
    }
  }
  if (needsFullRows(name) && !logp) throw new Error(`loss ${name} needs the full log-softmax rows`);
  switch (name) {
    case "cross_entropy":
    case "importance_sampling":
    case "ppo":
    case "cispo":
      return tokenLoss(name, config, inputs, lp, probs, N, V, withGrad);
    case "reverse_kl":
      return fullKl(inputs, lp, logp!, probs, N, V, withGrad);
    case "topk_reverse_kl":
      return topkKl(inputs, lp, logp!, probs, N, V, withGrad);
    default: {
      const never: never = name;
      throw new Error(`unknown loss ${String(never)}`);
    }
  }
}

/** Losses that depend on the target log-probs only: L = Σ_t f_t(lp_t), dL/dz = f'_t · (onehot − p). */
function tokenLoss(
  name: "cross_entropy" | "importance_sampling" | "ppo" | "cispo",
  config: LossFnConfig,
  inputs: LossFnInputs,
  lp: number[],
  probs: Float32Array,
  N: number,
  V: number,
  withGrad: boolean,
): DatumLoss {
  let loss = 0;
  const coef = new Float64Array(N); // dL/dlp_t
  if (name === "cross_entropy") {
    const w = need(inputs.weights, "weights", name);
    for (let t = 0; t < N; t++) {
      loss -= w[t] * lp[t];
      coef[t] = -w[t];
    }
  } else {
    const q = need(inputs.logprobs, "logprobs", name);
    const adv = need(inputs.advantages, "advantages", name);
    const clipRatio = config.clipRatio ?? config.clip_ratio ?? Infinity;
    const lo = cfg(config, "clipLowThreshold", "clip_low_threshold", name === "ppo" ? 0.8 : 0);
    const hi = cfg(config, "clipHighThreshold", "clip_high_threshold", name === "ppo" ? 1.2 : 4);
    for (let t = 0; t < N; t++) {
      const A = adv[t];
      if (A === 0) continue;
      const ratio = Math.exp(lp[t] - q[t]);
      if (name === "importance_sampling") {
        // An upper cap turns the ratio into a constant: the capped token contributes no gradient.
        if (ratio > clipRatio) loss -= clipRatio * A;
        else {
          loss -= ratio * A;
          coef[t] = -A * ratio;
        }
      } else if (name === "ppo") {
        const clipped = Math.min(Math.max(ratio, lo), hi);
        if (ratio * A <= clipped * A) {
          loss -= ratio * A;
          coef[t] = -A * ratio;
        } else loss -= clipped * A;
      } else {
        // cispo: the clipped ratio is a stop-gradient coefficient on lp.
        const clipped = Math.min(Math.max(ratio, lo), hi);
        loss -= clipped * lp[t] * A;
        coef[t] = -clipped * A;
      }
    }
  }
  const rows: number[] = [];
  if (withGrad) for (let t = 0; t < N; t++) if (coef[t] !== 0) rows.push(t);
  rows.forEach((t, i) => {
    const o = t * V,
      d = i * V,
      c = coef[t];
    for (let j = 0; j < V; j++) probs[d + j] = -c * probs[o + j];
    probs[d + inputs.targetTokens[t]] += c;
  });
  return { loss, logprobs: lp, rows };
}

/** Full-vocabulary reverse KL against teacher log-softmax rows (R, V) from teacherRowsStart; dKL_t/dz_j = p_j (log p_j − log t_j − KL_t). */
function fullKl(
  inputs: LossFnInputs,
  lp: number[],
  logp: Float32Array,
  probs: Float32Array,
  N: number,
  V: number,
  withGrad: boolean,
): DatumLoss {
  const w = need(inputs.weights, "weights", "reverse_kl");
  const teacher = need(inputs.teacherLogprobs, "teacherLogprobs", "reverse_kl");
  const start = inputs.teacherRowsStart ?? 0;
  const rows: number[] = [];
  for (let t = 0; t < N; t++) if (w[t] !== 0) rows.push(t);
  let loss = 0;
  rows.forEach((t, i) => {
    const o = t * V;
    const to = (t - start) * V; // checkLossInputs: every weighted position has its teacher row
    let kl = 0;
    for (let j = 0; j < V; j++) {
      const p = probs[o + j];
      if (p > 0) kl += p * (logp[o + j] - teacher[to + j]);
    }
    loss += w[t] * kl;
    if (!withGrad) return;
    const d = i * V;
    for (let j = 0; j < V; j++) {
      const p = probs[o + j];
      probs[d + j] = p > 0 ? w[t] * p * (logp[o + j] - teacher[to + j] - kl) : 0;
    }
  });
  return { loss, logprobs: lp, rows: withGrad ? rows : [] };
}

/** Top-k reverse KL (definition in the module comment). */
function topkKl(
  inputs: LossFnInputs,
  lp: number[],
  logp: Float32Array,
  probs: Float32Array,
  N: number,
  V: number,
  withGrad: boolean,
): DatumLoss {
  const w = need(inputs.weights, "weights", "topk_reverse_kl");
  const ids = need(inputs.teacherTopkIds, "teacherTopkIds", "topk_reverse_kl");
  const tlp = need(inputs.teacherTopkLogprobs, "teacherTopkLogprobs", "topk_reverse_kl");
  const start = inputs.teacherRowsStart ?? 0;
  const K = N > start ? ids.length / (N - start) : 0; // checkLossInputs: (N − start, k)
  const rows: number[] = [];
  for (let t = 0; t < N; t++) if (w[t] !== 0) rows.push(t);
  const ls = new Float64Array(K);
  const lt = new Float64Array(K);
  let loss = 0;
  rows.forEach((t, i) => {
    const o = (t - start) * K;
    for (let s = 0; s < K; s++) {
      const id = ids[o + s];
      if (!(id >= 0 && id < V)) throw new Error(`teacher top-k id ${id} at position ${t} is outside the vocabulary`);
      ls[s] = logp[t * V + id];
      lt[s] = tlp[o + s];
    }
    normaliseLog(ls);
    normaliseLog(lt);
    let kl = 0;
    for (let s = 0; s < K; s++) kl += Math.exp(ls[s]) * (ls[s] - lt[s]);
    loss += w[t] * kl;
    if (!withGrad) return;
    probs.fill(0, i * V, (i + 1) * V);
    for (let s = 0; s < K; s++) probs[i * V + ids[o + s]] = w[t] * Math.exp(ls[s]) * (ls[s] - lt[s] - kl);
  });
  return { loss, logprobs: lp, rows: withGrad ? rows : [] };
}

/** In place: x ← x − logsumexp(x). */
function normaliseLog(x: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < x.length; i++) x[i] -= lse;
}
