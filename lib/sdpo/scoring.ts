/**
 * Scores a sampled completion under a teacher (or the current student) context: the log-prob of
 * each sampled token, and where the sampler gives whole distributions (embedded), the log-softmax
 * rows or top-k (plus the sampled token) at the completion positions, for the KL losses and for
 * true entropies. Rows are the model's own vocabulary wide (the sampler's rowWidth) and cost T·V
 * floats, so outside the KL losses they are fetched only for completions under a budget.
 */
import { canScoreDistributions, type SamplingClient } from "@/lib/training/types";
import { completionRowPositions, sliceCompletionLogprobs } from "./align";
import type { LossMode } from "./config";
import { meanRowEntropy } from "./metrics";

/** Largest (T, V) block fetched just to report true entropies: 16 Mi floats, 64 MiB. */
export const ENTROPY_ROWS_BUDGET = 1 << 24;

export interface Scored {
  /** log p(y_t | context, y_<t) for each completion token (T). */
  logprobs: number[];
  /** Full rows (T, V) when fetched, V the sampler's rowWidth. */
  rows?: { logprobs: Float32Array; vocabSize: number };
  topk?: { ids: Int32Array; logprobs: Float32Array; k: number };
  /** Mean entropy of the rows, when fetched. */
  entropy?: number;
}

export interface ScoreRequest {
  contextTokens: number[];
  completionTokens: number[];
  lossMode: LossMode;
  topK: number;
  /** Fetch rows whatever their size (the other side of a pair whose rows were fetched). */
  forceRows?: boolean;
}

/** Each row's log-prob of its completion token, read at that token's column. */
function pickTargets(rows: Float32Array, columns: number[], V: number): number[] {
  return columns.map((c, t) => rows[t * V + c]!);
}

/**
 * The teacher's top-k at each position, always including the sampled token: rows of k+1 where the
 * last slot is the (k+1)-th best, or the sampled token when it is not among the k best. Without it
 * a denied token outside the teacher's top-k would get no gradient at all.
 */
export function withSampledToken(
  top: { ids: Int32Array; logprobs: Float32Array },
  completion: number[],
  sampledLogprobs: number[],
): { ids: Int32Array; logprobs: Float32Array; k: number } {
  const T = completion.length;
  const K = top.ids.length / Math.max(1, T);
  const ids = Int32Array.from(top.ids);
  const lps = Float32Array.from(top.logprobs);
  for (let t = 0; t < T; t++) {
    const row = ids.subarray(t * K, (t + 1) * K);
    if (!row.subarray(0, K - 1).includes(completion[t]!)) {
      ids[t * K + K - 1] = completion[t]!;
      lps[t * K + K - 1] = sampledLogprobs[t]!;
    }
  }
  return { ids, logprobs: lps, k: K };
}

export async function scoreCompletion(sampler: SamplingClient, req: ScoreRequest): Promise<Scored> {
  const P = req.contextTokens.length;
  const T = req.completionTokens.length;
  const sequence = [...req.contextTokens, ...req.completionTokens];
  const positions = completionRowPositions(P, T);
  const distributions = canScoreDistributions(sampler);
  const wantRows =
    req.lossMode === "full_kl" ||
    req.forceRows === true ||
    (distributions && req.lossMode === "token" && T * sampler.rowWidth <= ENTROPY_ROWS_BUDGET);
  if (req.lossMode !== "token" && !distributions) {
    throw new Error(
      `SDPO loss mode "${req.lossMode}" needs a teacher that returns whole distributions (embedded backend)`,
    );
  }
  if (wantRows && distributions) {
    const rows = await sampler.logSoftmaxRows(sequence, positions);
    const V = sampler.rowWidth;
    if (rows.length !== T * V) throw new Error(`expected ${T} rows of ${V} log-probs, got ${rows.length} values`);
    return {
      logprobs: pickTargets(rows, sampler.rowColumns(req.completionTokens), V),
      rows: { logprobs: rows, vocabSize: V },
      entropy: meanRowEntropy(rows, V),
    };
  }
  const logprobs = sliceCompletionLogprobs(await sampler.computeLogprobs(sequence), P, T);
  if (req.lossMode === "topk_kl" && distributions) {
    const top = await sampler.topkLogprobs(sequence, positions, req.topK + 1);
    return { logprobs, topk: withSampledToken(top, req.completionTokens, logprobs) };
  }
  return { logprobs };
}
