/**
 * Per-token credit: the SDPO advantage kl_coef · g · (teacher − student), with the original's
 * adaptive gain g = clamp(target / mean|delta|, 1, max_gain) (it only ever boosts); the RL
 * advantage (reward − running-mean baseline); and the importance-ratio clip done by scaling
 * advantages, for backends whose importance_sampling loss cannot clip.
 */
import type { SDPOConfig } from "./config";

export interface SdpoCredit {
  /** teacher − student per completion token. */
  delta: number[];
  /** kl_coef · g · delta. */
  advantages: number[];
  gain: number;
}

export function meanAbs(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.abs(values[i]!);
  return s / values.length;
}

/** The adaptive gain for a batch of raw advantages (kl_coef · delta); 1 when disabled. */
export function adaptiveGain(
  rawAdvantages: ArrayLike<number>,
  config: Pick<SDPOConfig, "adaptiveKl" | "targetAdvAbsMean" | "adaptiveKlMaxGain">,
): number {
  if (!config.adaptiveKl) return 1;
  const m = meanAbs(rawAdvantages);
  if (m === 0) return config.adaptiveKlMaxGain;
  return Math.min(Math.max(config.targetAdvAbsMean / m, 1), config.adaptiveKlMaxGain);
}

/**
 * Advantages for every denial of a step. The gain is computed over all of the step's tokens at
 * once (as the original did), so one short completion does not get a gain of its own.
 */
export function sdpoCredit(
  teacher_D_T: number[][],
  student_D_T: number[][],
  config: Pick<SDPOConfig, "klCoef" | "adaptiveKl" | "targetAdvAbsMean" | "adaptiveKlMaxGain">,
): { credits: SdpoCredit[]; gain: number } {
  if (teacher_D_T.length !== student_D_T.length) throw new Error("teacher and student batches differ in size");
  const delta_D_T = teacher_D_T.map((teacher_T, d) => {
    const student_T = student_D_T[d]!;
    if (teacher_T.length !== student_T.length) {
      throw new Error(`datum ${d}: ${teacher_T.length} teacher log-probs for ${student_T.length} student log-probs`);
    }
    return teacher_T.map((tau, t) => tau - student_T[t]!);
  });
  const gain = adaptiveGain(
    delta_D_T.flat().map((d) => config.klCoef * d),
    config,
  );
  const credits = delta_D_T.map((delta) => ({ delta, advantages: delta.map((d) => config.klCoef * gain * d), gain }));
  return { credits, gain };
}

/** Running mean of rewards: the baseline a new reward is compared with is the mean before it. */
export interface RewardBaseline {
  count: number;
  mean: number;
}

export function rlAdvantage(reward: number, baseline: RewardBaseline): { advantage: number; baseline: RewardBaseline } {
  const advantage = reward - baseline.mean;
  const count = baseline.count + 1;
  return { advantage, baseline: { count, mean: baseline.mean + (reward - baseline.mean) / count } };
}

/**
 * Caps the importance ratio from above by scaling advantages: where ratio = exp(current −
 * sampling) > isClip, that token's advantage is multiplied by isClip / ratio, so its term in
 * −Σ ratio·A counts as isClip·A. Returns the new advantages and the ratios.
 */
export function clipAdvantagesByRatio(
  advantages_T: number[],
  current_T: number[],
  sampling_T: number[],
  isClip: number,
): { advantages: number[]; ratios: number[]; clipped: number } {
  let clipped = 0;
  const ratios = current_T.map((lp, t) => Math.exp(lp - sampling_T[t]!));
  const out = advantages_T.map((a, t) => {
    const r = ratios[t]!;
    if (r > isClip) {
      clipped++;
      return a * (isClip / r);
    }
    return a;
  });
  return { advantages: out, ratios, clipped };
}
