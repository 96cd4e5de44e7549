/**
 * Builds a training datum from a prompt and a sampled completion (design §3): with S = prompt ++
 * completion (n tokens), modelInput = S[0..n-2], targetTokens = S[1..n-1], and every per-position
 * array has n-1 entries; position P-1+t predicts completion token t, prompt positions carry zero
 * advantage and zero weight. Teacher distributions (for the KL losses) cover only the completion's
 * positions: T rows from teacherRowsStart = P-1, not N (a 1,500-token prompt would otherwise carry
 * 1,500 zero rows of the whole vocabulary).
 */
import type { Datum, LossFnInputs } from "@/lib/training/types";

export interface DatumInput {
  promptTokens: number[];
  completionTokens: number[];
  /** The sampler's log-prob of each completion token (T). */
  samplingLogprobs: number[];
  /** Per completion token (T); omitted for the KL losses. */
  advantages?: number[];
  /** Per completion token (T): the weight of each position in the KL losses (default 1). */
  weights?: number[];
  /** reverse_kl: the teacher's log-softmax rows over the completion, (T, V); the datum holds this array, uncopied. */
  teacherRows?: { logprobs: Float32Array; vocabSize: number };
  /** topk_reverse_kl: the teacher's top-k per completion position, (T, k); held uncopied, like teacherRows. */
  teacherTopk?: { ids: Int32Array; logprobs: Float32Array; k: number };
}

export function buildDatum(input: DatumInput): Datum {
  const P = input.promptTokens.length;
  const T = input.completionTokens.length;
  if (P < 1) throw new Error("a datum needs at least one prompt token");
  if (T < 1) throw new Error("a datum needs at least one completion token");
  const perToken = (arr: ArrayLike<number> | undefined, label: string, per = 1) => {
    if (arr !== undefined && arr.length !== T * per)
      throw new Error(`${label} has ${arr.length} entries for ${T} completion tokens${per > 1 ? ` × ${per}` : ""}`);
  };
  perToken(input.samplingLogprobs, "samplingLogprobs");
  perToken(input.advantages, "advantages");
  perToken(input.weights, "weights");
  perToken(input.teacherRows?.logprobs, "teacherRows", input.teacherRows?.vocabSize);
  perToken(input.teacherTopk?.ids, "teacherTopk.ids", input.teacherTopk?.k);
  perToken(input.teacherTopk?.logprobs, "teacherTopk.logprobs", input.teacherTopk?.k);

  const sequence = [...input.promptTokens, ...input.completionTokens];
  const N = sequence.length - 1;
  const first = P - 1; // the position that predicts completion token 0
  const spread = (values: ArrayLike<number>): number[] => {
    const out = new Array<number>(N).fill(0);
    for (let t = 0; t < T; t++) out[first + t] = values[t]!;
    return out;
  };
  const lossFnInputs: LossFnInputs = {
    targetTokens: sequence.slice(1),
    logprobs: spread(input.samplingLogprobs),
    weights: spread(input.weights ?? new Array<number>(T).fill(1)),
  };
  if (input.advantages) lossFnInputs.advantages = spread(input.advantages);
  // Positions first..N-1 are exactly the completion's T, so the teacher's arrays are the rows as they are.
  if (input.teacherRows || input.teacherTopk) lossFnInputs.teacherRowsStart = first;
  if (input.teacherRows) lossFnInputs.teacherLogprobs = input.teacherRows.logprobs;
  if (input.teacherTopk) {
    lossFnInputs.teacherTopkIds = input.teacherTopk.ids;
    lossFnInputs.teacherTopkLogprobs = input.teacherTopk.logprobs;
  }
  const datum: Datum = { modelInput: sequence.slice(0, -1), lossFnInputs };
  assertDatumShape(datum);
  return datum;
}

/**
 * Every per-position input has exactly one entry per model-input position; teacher arrays hold one
 * row per position of the window [teacherRowsStart, N).
 */
export function assertDatumShape(datum: Datum): void {
  const N = datum.modelInput.length;
  const inputs = datum.lossFnInputs;
  for (const key of ["targetTokens", "logprobs", "advantages", "weights"] as const) {
    const arr = inputs[key];
    if (arr !== undefined && arr.length !== N)
      throw new Error(`datum ${key} has ${arr.length} entries, modelInput has ${N}`);
  }
  const topk = inputs.teacherTopkIds;
  const full = inputs.teacherLogprobs;
  if (!topk && !full) return;
  const start = inputs.teacherRowsStart ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= N)
    throw new Error(`datum teacherRowsStart ${start} is not one of its ${N} positions`);
  const R = N - start;
  if (topk && (topk.length % R !== 0 || inputs.teacherTopkLogprobs?.length !== topk.length))
    throw new Error(`teacher top-k arrays are not (${R}, k) from position ${start}`);
  if (full && full.length % R !== 0) throw new Error(`teacher rows are not (${R}, V) from position ${start}`);
}
