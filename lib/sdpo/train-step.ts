/**
 * One SDPO update: score each denied completion under the teacher context → per-token advantages
 * (or teacher distributions for the KL losses) → one forward_backward (importance sampling with
 * the ratio clipped at is_clip) → one Adam step → fresh sampling weights and teacher. A batch whose
 * inputs, loss or gradients are not finite is rejected before the optimizer runs, its gradients
 * discarded, so the weights stay exactly as they were. Returns one flat metrics record. trainStep
 * reads as the whole algorithm; the arithmetic lives in step-advantages.ts and step-datums.ts.
 */
import type {
  BackendCapabilities,
  ForwardBackwardResult,
  LossFnConfig,
  SamplingClient,
  TrainingClient,
} from "@/lib/training/types";
import type { RewardBaseline } from "./advantages";
import { assertLossModeSupported, hasGradientControl, lossFnFor } from "./capabilities";
import { adamFor, type SDPOConfig } from "./config";
import { buildDatum } from "./datum";
import { allFinite, creditMetrics, nllMetrics, prefixed } from "./metrics";
import { type RehearsalCall, rehearsalExamples } from "./rehearsal";
import { scoreCompletion, type Scored } from "./scoring";
import { finiteInputs, stepAdvantages, type StepAdvantages } from "./step-advantages";
import {
  clipByCurrentRatio,
  completionEntropy,
  importanceExamples,
  klDatums,
  meanOf,
  passRatios,
  type Ratios,
} from "./step-datums";
import type { TeacherSource } from "./teachers";

/** A sampled completion, as the sampler returned it. */
export interface SampledCompletion {
  promptTokens: number[];
  completionTokens: number[];
  /** The sampler's log-prob of each completion token. */
  samplingLogprobs: number[];
}

/** A denial: the completion, scored again under `teacherPromptTokens` (student prompt + reprompt). */
export interface DenialExample extends SampledCompletion {
  teacherPromptTokens: number[];
  hasSolution: boolean;
  /** RL reward (−1 for a denial) when RL is on; added to this completion's advantages. */
  reward?: number;
}

/** An RL-only example: an approved call (+1) or, with SDPO off, a denied one (−1). */
export interface RewardExample extends SampledCompletion {
  reward: number;
}

export interface StepBatch {
  denials: DenialExample[];
  rewards: RewardExample[];
  /** The user's approved calls, kept by the step when it trains on a correction (config.rehearsalCalls of them). */
  rehearsals?: RehearsalCall[];
}

export interface StepContext {
  trainer: TrainingClient;
  /** A sampler holding the trainer's current weights. */
  student: SamplingClient;
  teacher: TeacherSource;
  capabilities: BackendCapabilities;
  /** Optimizer steps taken before this one. */
  step: number;
  baseline: RewardBaseline;
}

export type StepOutcome =
  | {
      status: "trained";
      metrics: Record<string, number>;
      student: SamplingClient;
      step: number;
      baseline: RewardBaseline;
    }
  | { status: "skipped"; reason: string }
  | { status: "rejected"; reason: string; baseline: RewardBaseline };

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const mean = (xs: number[], empty: number) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : empty);

export async function trainStep(ctx: StepContext, batch: StepBatch, config: SDPOConfig): Promise<StepOutcome> {
  const tStart = performance.now();
  const { denials, rewards, skip } = trainable(batch, config);
  if (skip) return { status: "skipped", reason: skip };
  if (denials.length > 0) assertLossModeSupported(config.lossMode, ctx.capabilities);

  // 1. The teacher scores each denial under its context (the student's entropies come from step 4's pass).
  const [teacherScores, teacherScoring] = await timed(() =>
    Promise.all(
      denials.map((ex) => scoreCompletion(ctx.teacher.current(), scoreRequest(ex.teacherPromptTokens, ex, config))),
    ),
  );
  // Rehearsal rides along with corrections only: an approval-only RL step has nothing to protect against.
  const rehearsals = denials.length > 0 ? (batch.rehearsals ?? []).slice(0, config.rehearsalCalls) : [];
  const rehearsed = await rehearsalExamples(ctx.student, rehearsals, config.rehearsalWeight);

  // 2. Advantages: SDPO credit, plus the RL advantage over a completion with a reward.
  const teacherLogprobs = teacherScores.map((s) => s.logprobs);
  const adv = stepAdvantages({ denials, rewards, teacherLogprobs, baseline: ctx.baseline, config });
  const rejected = (reason: string): StepOutcome => ({ status: "rejected", reason, baseline: ctx.baseline });
  const sampled = [...denials, ...rewards, ...rehearsed].map((x) => x.samplingLogprobs);
  if (!finiteInputs({ sampled, teacherScores, advantages: adv }))
    return rejected("non-finite log-probs or advantages; the step was not run");
  // Metrics that read teacher rows come first: the embedded backend takes the rows' buffers.
  const metrics = signalMetrics(denials, teacherLogprobs, adv, config);

  // 3. Datums, with the IS ratio capped natively or by scaling advantages under the current weights.
  const tFb = performance.now();
  const kl = klDatums(denials, teacherScores, config);
  let is = importanceExamples({ denials, rewards, rehearsed, advantages: adv, lossMode: config.lossMode });
  let ratios: Ratios = { ratios: [], clipped: 0 };
  const nativeClip = ctx.capabilities.importanceSamplingClipRatio;
  if (is.length > 0 && !nativeClip)
    ({ examples: is, ...ratios } = await clipByCurrentRatio(ctx.student, is, config.isClip));
  const isDatums = is.map(({ ex, advantages }) => buildDatum({ ...ex, advantages }));

  // 4. forward_backward; a non-finite loss or gradient discards what it accumulated.
  const results: ForwardBackwardResult[] = [];
  if (kl.length > 0) results.push(await ctx.trainer.forwardBackward(kl, lossFnFor(config.lossMode)));
  const isConfig: LossFnConfig = nativeClip ? { clipRatio: config.isClip } : {};
  if (isDatums.length > 0) results.push(await ctx.trainer.forwardBackward(isDatums, "importance_sampling", isConfig));
  const loss = results.reduce((a, r) => a + (r.metrics["loss:sum"] ?? 0), 0);
  const unfit = await unfitPass(ctx.trainer, results, loss);
  if (unfit) return rejected(await discard(ctx.trainer, unfit));
  if (nativeClip && isDatums.length > 0) ratios = passRatios(is, results[results.length - 1]!, config.isClip);
  const forwardBackward = seconds(tFb);
  // The denials are the first datums of the first pass (KL datums, or in token mode the first IS datums).
  const denialDatums = kl.length > 0 ? kl : isDatums;
  const fromPass = denials.map((ex, d) => completionEntropy(results[0]!.lossFnOutputs[d]!, denialDatums[d]!, ex));
  Object.assign(metrics, await entropyMetrics(ctx.student, denials, teacherScores, fromPass, config));

  // 5. One Adam step, then fresh sampling weights and the teacher's update.
  const [optim, optimTime] = await timed(() => ctx.trainer.optimStep(adamFor(config)));
  const step = ctx.step + 1;
  const [student, samplerRefresh] = await timed(async () => {
    const student = await ctx.trainer.saveWeightsForSampler();
    await ctx.teacher.afterStep({ trainer: ctx.trainer, student, step });
    return student;
  });

  Object.assign(metrics, {
    sdpo_step: step,
    sdpo_denied_count: denials.length,
    sdpo_reward_only_count: rewards.length,
    sdpo_rehearsal_count: rehearsed.length,
    sdpo_total_datums: kl.length + isDatums.length,
    sdpo_tokens: adv.delta.length,
    sdpo_kl: adv.delta.length ? -mean(adv.delta, 0) : 0,
    grpo_reward_adv_mean: mean(adv.rewarded, 0),
    loss,
    sdpo_ratio_mean: mean(ratios.ratios, 1),
    sdpo_ratio_clipped_frac: ratios.ratios.length ? ratios.clipped / ratios.ratios.length : 0,
    ...prefixed("fwd", summed(results.map((r) => r.metrics))),
    ...prefixed("optim", optim.metrics),
    "time/teacher_scoring": teacherScoring,
    "time/forward_backward": forwardBackward,
    "time/optim": optimTime,
    "time/sampler_refresh": samplerRefresh,
    "time/total": seconds(tStart),
  });
  return { status: "trained", metrics, student, step, baseline: adv.baseline };
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await run();
  return [value, seconds(t0)];
}

/** The examples this config trains on, or why there are none; a malformed completion throws. */
function trainable(
  batch: StepBatch,
  config: SDPOConfig,
): { denials: DenialExample[]; rewards: RewardExample[]; skip?: string } {
  const denials = config.enableSdpo ? batch.denials : [];
  const rewards = config.enableRl ? batch.rewards : [];
  if (denials.length === 0 && rewards.length === 0)
    return { denials, rewards, skip: batch.denials.length > 0 ? "SDPO is off (--no-sdpo)" : "nothing to train on" };
  for (const ex of [...denials, ...rewards]) {
    if (ex.completionTokens.length === 0) return { denials, rewards, skip: "a completion has no tokens" };
    if (ex.samplingLogprobs.length !== ex.completionTokens.length)
      throw new Error("sampling log-probs and completion tokens differ in length");
  }
  return { denials, rewards };
}

const scoreRequest = (contextTokens: number[], ex: SampledCompletion, config: SDPOConfig) => ({
  contextTokens,
  completionTokens: ex.completionTokens,
  lossMode: config.lossMode,
  topK: config.topK,
});

/** What the correction signal was: credit statistics and the student's and teacher's NLL on the denials. */
function signalMetrics(
  denials: DenialExample[],
  teacherLogprobs: number[][],
  adv: StepAdvantages,
  config: SDPOConfig,
): Record<string, number> {
  return {
    ...creditMetrics({
      advantages: adv.denial.flat(),
      delta: adv.delta,
      klCoef: config.klCoef,
      gain: adv.gain,
      withSolution: denials.filter((d) => d.hasSolution).length,
      denials: denials.length,
    }),
    ...nllMetrics(
      denials.flatMap((d) => d.samplingLogprobs),
      teacherLogprobs.flat(),
    ),
  };
}

/** Why the accumulated gradients must not be applied (a non-finite loss, learner log-prob or gradient), if so. */
async function unfitPass(
  trainer: TrainingClient,
  results: ForwardBackwardResult[],
  loss: number,
): Promise<string | null> {
  if (!Number.isFinite(loss) || !results.every((r) => r.lossFnOutputs.every((o) => allFinite(o.logprobs))))
    return "the loss is not finite";
  if (hasGradientControl(trainer) && !Number.isFinite(await trainer.gradientNorm()))
    return "the gradients are not finite";
  return null;
}

async function discard(trainer: TrainingClient, reason: string): Promise<string> {
  if (!hasGradientControl(trainer))
    throw new Error(`${reason}, and this training client cannot discard the gradients it accumulated`);
  await trainer.discardGradients();
  return `${reason}; the gradients were discarded and the weights are unchanged`;
}

/**
 * True entropies of the teacher's and the student's rows over the denials, when the teacher's
 * rows were fetched: the student's from the pass's own outputs, or (a backend without entropies
 * in its outputs) its rows scored separately, its weights still those the step started from.
 */
async function entropyMetrics(
  student: SamplingClient,
  denials: DenialExample[],
  teacherScores: Scored[],
  fromPass: Array<number | undefined>,
  config: SDPOConfig,
): Promise<Record<string, number>> {
  const teacherTrue = meanOf(teacherScores.map((s) => s.entropy));
  if (teacherTrue === undefined) return {};
  const rescore = (ex: DenialExample) =>
    scoreCompletion(student, { ...scoreRequest(ex.promptTokens, ex, config), lossMode: "token", forceRows: true });
  const studentTrue = meanOf(fromPass) ?? meanOf((await Promise.all(denials.map(rescore))).map((s) => s.entropy));
  return studentTrue === undefined ? {} : { "entropy/teacher_true": teacherTrue, "entropy/student_true": studentTrue };
}

function summed(records: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}
