/**
 * A step's datums and what its forward_backward says back, as small functions: which examples
 * train by importance sampling and with which advantages, the KL losses' datums, the ratio cap
 * (natively, or by scaling advantages after scoring under the current weights), and the learner's
 * entropy over a completion read from the pass's own outputs.
 */
import type { Datum, ForwardBackwardResult, SamplingClient } from "@/lib/training/types";
import { clipAdvantagesByRatio } from "./advantages";
import { sliceCompletionLogprobs } from "./align";
import type { SDPOConfig } from "./config";
import { buildDatum } from "./datum";
import type { Scored } from "./scoring";
import type { StepAdvantages } from "./step-advantages";
import type { SampledCompletion } from "./train-step";

/** An importance-sampling example: a completion and its per-token advantages. */
export interface IsExample {
  ex: SampledCompletion;
  advantages: number[];
}

/** The ratios exp(current − sampling) over every IS token, and how many exceeded is_clip. */
export interface Ratios {
  ratios: number[];
  clipped: number;
}

const constant = (ex: SampledCompletion, value: number) => ex.completionTokens.map(() => value);

/**
 * What trains by importance sampling: in token mode each denial with its SDPO advantages; in the
 * KL losses only a denial's RL reward; then the reward-only examples and the rehearsed calls.
 */
export function importanceExamples({
  denials,
  rewards,
  rehearsed,
  advantages,
  lossMode,
}: {
  denials: SampledCompletion[];
  rewards: SampledCompletion[];
  rehearsed: Array<SampledCompletion & { advantages: number[] }>;
  advantages: StepAdvantages;
  lossMode: SDPOConfig["lossMode"];
}): IsExample[] {
  const fromDenials =
    lossMode === "token"
      ? denials.map((ex, d) => ({ ex, advantages: advantages.denial[d]! }))
      : denials.flatMap((ex, d) => {
          const rl = advantages.denialRl[d]!;
          return rl ? [{ ex, advantages: constant(ex, rl) }] : [];
        });
  return [
    ...fromDenials,
    ...rewards.map((ex, i) => ({ ex, advantages: constant(ex, advantages.reward[i]!) })),
    ...rehearsed.map((ex) => ({ ex, advantages: ex.advantages })),
  ];
}

/** The KL losses' datums: each denial weighted kl_coef per completion token, with the teacher's rows or top-k. */
export function klDatums(denials: SampledCompletion[], teacherScores: Scored[], config: SDPOConfig): Datum[] {
  if (config.lossMode === "token") return [];
  return denials.map((ex, d) => {
    const s = teacherScores[d]!;
    return buildDatum({ ...ex, weights: constant(ex, config.klCoef), teacherRows: s.rows, teacherTopk: s.topk });
  });
}

/**
 * For a backend that cannot clip the IS ratio itself: scores each example under the current
 * weights and scales the advantages of tokens whose ratio exceeds is_clip.
 */
export async function clipByCurrentRatio(
  student: SamplingClient,
  examples: IsExample[],
  isClip: number,
): Promise<{ examples: IsExample[] } & Ratios> {
  const current = await Promise.all(
    examples.map(({ ex }) => student.computeLogprobs([...ex.promptTokens, ...ex.completionTokens])),
  );
  const ratios: number[] = [];
  let clipped = 0;
  const out = examples.map(({ ex, advantages }, i) => {
    const lp = sliceCompletionLogprobs(current[i]!, ex.promptTokens.length, ex.completionTokens.length);
    const c = clipAdvantagesByRatio(advantages, lp, ex.samplingLogprobs, isClip);
    ratios.push(...c.ratios);
    clipped += c.clipped;
    return { ex, advantages: c.advantages };
  });
  return { examples: out, ratios, clipped };
}

/** Native clipping: the ratio is exp(learner − sampling) at each completion position of the IS pass. */
export function passRatios(examples: IsExample[], pass: ForwardBackwardResult, isClip: number): Ratios {
  const ratios = examples.flatMap(({ ex }, i) => {
    const first = ex.promptTokens.length - 1;
    const lp = pass.lossFnOutputs[i]!.logprobs;
    return ex.samplingLogprobs.map((q, t) => Math.exp(lp[first + t]! - q));
  });
  return { ratios, clipped: ratios.filter((r) => r > isClip).length };
}

/**
 * Mean entropy over a completion's positions (P−1 … P+T−2, the rows scoreCompletion fetches) from a
 * forward_backward output; undefined when the backend gave none or a position had no weight (and
 * so no entropy).
 */
export function completionEntropy(
  output: ForwardBackwardResult["lossFnOutputs"][number],
  datum: Datum,
  ex: SampledCompletion,
): number | undefined {
  const entropies = output.entropies;
  const weights = datum.lossFnInputs.weights;
  if (!entropies || !weights) return undefined;
  const first = ex.promptTokens.length - 1;
  let sum = 0;
  for (let t = 0; t < ex.completionTokens.length; t++) {
    if (weights[first + t] === 0) return undefined;
    sum += entropies[first + t]!;
  }
  return sum / ex.completionTokens.length;
}

export const meanOf = (xs: Array<number | undefined>): number | undefined =>
  xs.every((x) => x !== undefined) && xs.length ? (xs as number[]).reduce((a, b) => a + b, 0) / xs.length : undefined;
