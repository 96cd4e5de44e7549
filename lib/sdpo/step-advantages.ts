/**
 * A step's per-token advantages, from numbers alone: SDPO credit on each denied completion (the
 * teacher's log-prob minus the student's, scaled by kl_coef and the adaptive gain), plus, with RL
 * on, each example's reward over a running-mean baseline (denials first, in order, then the
 * reward-only examples), and the check that everything a step would train on is finite.
 */
import { rlAdvantage, sdpoCredit, type RewardBaseline } from "./advantages";
import type { SDPOConfig } from "./config";
import { allFinite, validLogprobRow } from "./metrics";
import type { Scored } from "./scoring";

export interface StepAdvantages {
  /** Per denial: its SDPO credit plus its RL advantage, per token. */
  denial: number[][];
  /** Per denial: its RL advantage alone (0 without a reward); the KL losses train it by importance sampling. */
  denialRl: number[];
  /** Per reward-only example: its RL advantage. */
  reward: number[];
  /** The SDPO credit's teacher − student gap, every denial's tokens in order. */
  delta: number[];
  gain: number;
  /** Every RL advantage handed out, for the reward metric. */
  rewarded: number[];
  /** The baseline after this step's rewards. */
  baseline: RewardBaseline;
}

export function stepAdvantages({
  denials,
  rewards,
  teacherLogprobs,
  baseline,
  config,
}: {
  denials: ReadonlyArray<{ samplingLogprobs: number[]; reward?: number }>;
  rewards: ReadonlyArray<{ reward: number }>;
  teacherLogprobs: number[][];
  baseline: RewardBaseline;
  config: Pick<SDPOConfig, "enableRl" | "klCoef" | "adaptiveKl" | "targetAdvAbsMean" | "adaptiveKlMaxGain">;
}): StepAdvantages {
  let current = baseline;
  const rewarded: number[] = [];
  const rl = (reward: number | undefined): number => {
    if (reward === undefined || !config.enableRl) return 0;
    const next = rlAdvantage(reward, current);
    current = next.baseline;
    rewarded.push(next.advantage);
    return next.advantage;
  };
  const { credits, gain } = sdpoCredit(
    teacherLogprobs,
    denials.map((d) => d.samplingLogprobs),
    config,
  );
  const denialRl = denials.map((d) => rl(d.reward));
  const reward = rewards.map((r) => rl(r.reward));
  return {
    denial: credits.map((c, d) => c.advantages.map((a) => a + denialRl[d]!)),
    denialRl,
    reward,
    delta: credits.flatMap((c) => c.delta),
    gain,
    rewarded,
    baseline: current,
  };
}

/** Are the log-probs, teacher rows and advantages a step would train on all finite (rows: valid log-probs)? */
export function finiteInputs({
  sampled,
  teacherScores,
  advantages,
}: {
  /** Every example's sampling log-probs (denials, rewards, rehearsed calls). */
  sampled: number[][];
  teacherScores: Scored[];
  advantages: StepAdvantages;
}): boolean {
  const values = [...sampled, ...teacherScores.map((s) => s.logprobs), ...advantages.denial, advantages.reward];
  const rows = teacherScores.flatMap((s) => [
    ...(s.rows ? [s.rows.logprobs] : []),
    ...(s.topk ? [s.topk.logprobs] : []),
  ]);
  return values.every(allFinite) && rows.every(validLogprobRow);
}
