/**
 * Builds a training datum from a prompt and a sampled completion (design §3): with S = prompt ++
 * completion (n tokens), modelInput = S[0..n-2], targetTokens = S[1..n-1], and every per-position
 * array has n-1 entries; position P-1+t predicts completion token t, prompt positions carry zero
 * advantage and zero weight. Teacher distributions (for the KL losses) go on the same rows.
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
  /** reverse_kl: the teacher's log-softmax rows over the completion, (T, V). */
  teacherRows?: { logprobs: Float32Array; vocabSize: number };
  /** topk_reverse_kl: the teacher's top-k per completion position, (T, k). */
  teacherTopk?: { ids: Int32Array; logprobs: Float32Array; k: number };
}

export function buildDatum(input: DatumInput): Datum {
  const P = input.promptTokens.length;
  const T = input.completionTokens.length;
  if (P < 1) throw new Error("a datum needs at least one prompt token");
  if (T < 1) throw new Error("a datum needs at least one completion token");
  const perToken = (arr: ArrayLike<number> | undefined, label: string, per = 1) => {
    if (arr !== undefined && arr.length !== T * per) throw new Error(`${label} has ${arr.length} entries for ${T} completion tokens${per > 1 ? ` × ${per}` : ""}`);
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
  if (input.teacherRows) {
    const V = input.teacherRows.vocabSize;
    const rows = new Float32Array(N * V);
    rows.set(input.teacherRows.logprobs, first * V);
    lossFnInputs.teacherLogprobs = rows;
  }
  if (input.teacherTopk) {
    const { k } = input.teacherTopk;
    const ids = new Int32Array(N * k);
    const lps = new Float32Array(N * k);
    ids.set(input.teacherTopk.ids, first * k);
    lps.set(input.teacherTopk.logprobs, first * k);
    lossFnInputs.teacherTopkIds = ids;
    lossFnInputs.teacherTopkLogprobs = lps;
  }
  const datum: Datum = { modelInput: sequence.slice(0, -1), lossFnInputs };
  assertDatumShape(datum);
  return datum;
}

/** Every per-position input has exactly one entry per model-input position. */
export function assertDatumShape(datum: Datum): void {
  const N = datum.modelInput.length;
  const inputs = datum.lossFnInputs;
  for (const key of ["targetTokens", "logprobs", "advantages", "weights"] as const) {
    const arr = inputs[key];
    if (arr !== undefined && arr.length !== N) throw new Error(`datum ${key} has ${arr.length} entries, modelInput has ${N}`);
  }
  const topk = inputs.teacherTopkIds;
  if (topk && (topk.length % N !== 0 || inputs.teacherTopkLogprobs?.length !== topk.length)) throw new Error("teacher top-k arrays are not (N, k)");
  if (inputs.teacherLogprobs && inputs.teacherLogprobs.length % N !== 0) throw new Error("teacher rows are not (N, V)");
}
