/**
 * One SDPO update: score each denied completion under the teacher context → per-token advantages
 * (or teacher distributions for the KL losses) → one forward_backward (importance sampling with
 * the ratio clipped at is_clip) → one Adam step → fresh sampling weights and teacher. A batch whose
 * inputs, loss or gradients are not finite is rejected before the optimizer runs, its gradients
 * discarded, so the weights stay exactly as they were. Returns one flat metrics record.
 */
import type {
  BackendCapabilities,
  Datum,
  ForwardBackwardResult,
  LossFnConfig,
  SamplingClient,
  TrainingClient,
} from "@/lib/training/types";
import { clipAdvantagesByRatio, rlAdvantage, sdpoCredit, type RewardBaseline } from "./advantages";
import { sliceCompletionLogprobs } from "./align";
import { assertLossModeSupported, hasGradientControl, lossFnFor } from "./capabilities";
import { adamFor, type SDPOConfig } from "./config";
import { buildDatum } from "./datum";
import { allFinite, creditMetrics, nllMetrics, prefixed, validLogprobRow } from "./metrics";
import { scoreCompletion, type Scored } from "./scoring";
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
  /** Enables true entropies in token mode (rows are fetched only when T·V is small enough). */
  vocabSize?: number;
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

const meanOf = (xs: Array<number | undefined>): number | undefined =>
  xs.every((x) => x !== undefined) && xs.length ? (xs as number[]).reduce((a, b) => a + b, 0) / xs.length : undefined;

/**
 * Mean entropy over a completion's positions (P−1 … P+T−2, the rows scoreCompletion fetches) from a
 * forward_backward output; undefined when the backend gave none or a position had no weight (and
 * so no entropy).
 */
function completionEntropy(
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

export async function trainStep(ctx: StepContext, batch: StepBatch, config: SDPOConfig): Promise<StepOutcome> {
  const tStart = performance.now();
  const denials = config.enableSdpo ? batch.denials : [];
  const rewards = config.enableRl ? batch.rewards : [];
  if (denials.length === 0 && rewards.length === 0) {
    return { status: "skipped", reason: batch.denials.length > 0 ? "SDPO is off (--no-sdpo)" : "nothing to train on" };
  }
  if (denials.length > 0) assertLossModeSupported(config.lossMode, ctx.capabilities);
  for (const ex of [...denials, ...rewards]) {
    if (ex.completionTokens.length === 0) return { status: "skipped", reason: "a completion has no tokens" };
    if (ex.samplingLogprobs.length !== ex.completionTokens.length)
      throw new Error("sampling log-probs and completion tokens differ in length");
  }

  // 1. Teacher scoring. The student's true entropies come from its forward_backward (step 4).
  const tScore = performance.now();
  const scoreReq = (contextTokens: number[], ex: SampledCompletion) => ({
    contextTokens,
    completionTokens: ex.completionTokens,
    lossMode: config.lossMode,
    topK: config.topK,
    vocabSize: ctx.vocabSize,
  });
  const teacherScores: Scored[] = await Promise.all(
    denials.map((ex) => scoreCompletion(ctx.teacher.current(), scoreReq(ex.teacherPromptTokens, ex))),
  );
  const teacherScoring = seconds(tScore);

  // 2. Advantages: SDPO credit, plus the RL advantage over the completion when it has a reward.
  let baseline = ctx.baseline;
  const rewarded: number[] = [];
  const rl = (reward: number | undefined): number => {
    if (reward === undefined || !config.enableRl) return 0;
    const next = rlAdvantage(reward, baseline);
    baseline = next.baseline;
    rewarded.push(next.advantage);
    return next.advantage;
  };
  const { credits, gain } = sdpoCredit(
    teacherScores.map((s) => s.logprobs),
    denials.map((d) => d.samplingLogprobs),
    config,
  );
  const rlDenial = denials.map((d) => rl(d.reward));
  const rlOnly = rewards.map((r) => rl(r.reward));
  const sdpoAdvantages = credits.map((c, d) => c.advantages.map((a) => a + rlDenial[d]!));
  const rejected = (reason: string): StepOutcome => ({ status: "rejected", reason, baseline: ctx.baseline });
  const finiteInputs = [
    ...denials.map((d) => d.samplingLogprobs),
    ...rewards.map((r) => r.samplingLogprobs),
    ...teacherScores.map((s) => s.logprobs),
    ...sdpoAdvantages,
    rlOnly,
  ];
  const distributionRows = teacherScores.flatMap((s) => [
    ...(s.rows ? [s.rows.logprobs] : []),
    ...(s.topk ? [s.topk.logprobs] : []),
  ]);
  if (!finiteInputs.every(allFinite) || !distributionRows.every(validLogprobRow)) {
    return rejected("non-finite log-probs or advantages; the step was not run");
  }

  // Metrics that read teacher rows come first: the embedded backend takes the rows' buffers.
  const metrics: Record<string, number> = {};
  const delta = credits.flatMap((c) => c.delta);
  const studentLp = denials.flatMap((d) => d.samplingLogprobs);
  const teacherLp = teacherScores.flatMap((s) => s.logprobs);
  Object.assign(
    metrics,
    creditMetrics({
      advantages: sdpoAdvantages.flat(),
      delta,
      klCoef: config.klCoef,
      gain,
      withSolution: denials.filter((d) => d.hasSolution).length,
      denials: denials.length,
    }),
  );
  Object.assign(metrics, nllMetrics(studentLp, teacherLp));
  const teacherTrue = meanOf(teacherScores.map((s) => s.entropy));

  // 3. Datums, with the IS ratio capped natively or by scaling advantages after scoring under the current weights.
  const tFb = performance.now();
  const isExamples: Array<{ ex: SampledCompletion; advantages: number[] }> = [
    // In the KL losses a denial's RL reward still trains through importance sampling.
    ...(config.lossMode === "token"
      ? denials.map((ex, d) => ({ ex, advantages: sdpoAdvantages[d]! }))
      : denials.flatMap((ex, d) =>
          rlDenial[d] ? [{ ex, advantages: ex.completionTokens.map(() => rlDenial[d]!) }] : [],
        )),
    ...rewards.map((ex, i) => ({ ex, advantages: ex.completionTokens.map(() => rlOnly[i]!) })),
  ];
  const klDatums: Datum[] =
    config.lossMode === "token"
      ? []
      : denials.map((ex, d) => {
          const s = teacherScores[d]!;
          const weights = ex.completionTokens.map(() => config.klCoef);
          return buildDatum({ ...ex, weights, teacherRows: s.rows, teacherTopk: s.topk });
        });
  const isConfig: LossFnConfig = ctx.capabilities.importanceSamplingClipRatio ? { clipRatio: config.isClip } : {};
  const ratios: number[] = [];
  let clippedCount = 0;
  if (isExamples.length > 0 && !ctx.capabilities.importanceSamplingClipRatio) {
    const current = await Promise.all(
      isExamples.map(({ ex }) => ctx.student.computeLogprobs([...ex.promptTokens, ...ex.completionTokens])),
    );
    for (const [i, item] of isExamples.entries()) {
      const lp = sliceCompletionLogprobs(current[i]!, item.ex.promptTokens.length, item.ex.completionTokens.length);
      const clipped = clipAdvantagesByRatio(item.advantages, lp, item.ex.samplingLogprobs, config.isClip);
      item.advantages = clipped.advantages;
      ratios.push(...clipped.ratios);
      clippedCount += clipped.clipped;
    }
  }
  const isDatums = isExamples.map(({ ex, advantages }) => buildDatum({ ...ex, advantages }));

  // 4. forward_backward; a non-finite loss or gradient discards what it accumulated.
  const results: ForwardBackwardResult[] = [];
  const discard = async (reason: string): Promise<StepOutcome> => {
    if (!hasGradientControl(ctx.trainer))
      throw new Error(`${reason}, and this training client cannot discard the gradients it accumulated`);
    await ctx.trainer.discardGradients();
    return rejected(`${reason}; the gradients were discarded and the weights are unchanged`);
  };
  if (klDatums.length > 0) results.push(await ctx.trainer.forwardBackward(klDatums, lossFnFor(config.lossMode)));
  if (isDatums.length > 0) results.push(await ctx.trainer.forwardBackward(isDatums, "importance_sampling", isConfig));
  // The denials are the first datums of the first forward_backward (KL datums, or in token mode the first IS datums).
  const denialDatums = klDatums.length > 0 ? klDatums : isDatums;
  const loss = results.reduce((a, r) => a + (r.metrics["loss:sum"] ?? 0), 0);
  if (!Number.isFinite(loss) || !results.every((r) => r.lossFnOutputs.every((o) => allFinite(o.logprobs))))
    return discard("the loss is not finite");
  if (hasGradientControl(ctx.trainer) && !Number.isFinite(await ctx.trainer.gradientNorm()))
    return discard("the gradients are not finite");
  if (ctx.capabilities.importanceSamplingClipRatio && isDatums.length > 0) {
    // Native clipping: the ratio is exp(learner − sampling) at the positions with an advantage.
    const isResult = results[results.length - 1]!;
    isExamples.forEach(({ ex }, i) => {
      const first = ex.promptTokens.length - 1;
      const lp = isResult.lossFnOutputs[i]!.logprobs;
      ex.samplingLogprobs.forEach((q, t) => ratios.push(Math.exp(lp[first + t]! - q)));
    });
    clippedCount = ratios.filter((r) => r > config.isClip).length;
  }
  const forwardBackward = seconds(tFb);
  if (teacherTrue !== undefined) {
    const fromPass = meanOf(
      denials.map((ex, d) => completionEntropy(results[0]!.lossFnOutputs[d]!, denialDatums[d]!, ex)),
    );
    // A backend without entropies in its outputs: score the student separately; its weights are still those the step started from.
    const studentTrue =
      fromPass ??
      meanOf(
        await Promise.all(
          denials.map(
            async (ex) =>
              (
                await scoreCompletion(ctx.student, {
                  ...scoreReq(ex.promptTokens, ex),
                  lossMode: "token",
                  forceRows: true,
                })
              ).entropy,
          ),
        ),
      );
    if (studentTrue !== undefined) {
      metrics["entropy/teacher_true"] = teacherTrue;
      metrics["entropy/student_true"] = studentTrue;
    }
  }

  // 5. One Adam step, then fresh sampling weights and the teacher's update.
  const tOptim = performance.now();
  const optim = await ctx.trainer.optimStep(adamFor(config));
  const optimTime = seconds(tOptim);
  const tRefresh = performance.now();
  const student = await ctx.trainer.saveWeightsForSampler();
  const step = ctx.step + 1;
  await ctx.teacher.afterStep({ trainer: ctx.trainer, student, step });
  const samplerRefresh = seconds(tRefresh);

  const fwd: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.metrics)) fwd[k] = (fwd[k] ?? 0) + v;
  const klTokens = delta.length;
  Object.assign(metrics, {
    sdpo_step: step,
    sdpo_denied_count: denials.length,
    sdpo_reward_only_count: rewards.length,
    sdpo_total_datums: klDatums.length + isDatums.length,
    sdpo_tokens: klTokens,
    sdpo_kl: klTokens ? -delta.reduce((a, b) => a + b, 0) / klTokens : 0,
    grpo_reward_adv_mean: rewarded.length ? rewarded.reduce((a, b) => a + b, 0) / rewarded.length : 0,
    loss,
    sdpo_ratio_mean: ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : 1,
    sdpo_ratio_clipped_frac: ratios.length ? clippedCount / ratios.length : 0,
    ...prefixed("fwd", fwd),
    ...prefixed("optim", optim.metrics),
    "time/teacher_scoring": teacherScoring,
    "time/forward_backward": forwardBackward,
    "time/optim": optimTime,
    "time/sampler_refresh": samplerRefresh,
    "time/total": seconds(tStart),
  });
  return { status: "trained", metrics, student, step, baseline };
}
