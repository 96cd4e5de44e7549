/**
 * One SDPO step on the fixture model (raw token ids): for every teacher mode and loss mode, a
 * denied completion becomes less likely under the student's context and the student moves toward
 * the teacher on it. The case is chosen so the premise holds: the teacher (the same weights with
 * the feedback tokens in context) finds the completion less likely than the student does. The
 * student's true entropy comes from the step's own forward_backward, not a second forward.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DistributionSamplingClient, TrainingClient } from "@/lib/training/types";
import { capabilitiesOf } from "./capabilities";
import { sdpoConfig, type LossMode, type TeacherMode } from "./config";
import { meanRowReverseKl } from "./metrics";
import { scoreCompletion } from "./scoring";
import { createTeacher } from "./teachers";
import { startFixtureBackend, FIXTURE_VOCAB, type FixtureBackend } from "./testing";
import { trainStep, type DenialExample } from "./train-step";

const PROMPT = [1, 17, 42, 99, 5, 230, 64, 12];
const CANDIDATE_FEEDBACK = Array.from({ length: 12 }, (_, k) =>
  Array.from({ length: 6 }, (_, i) => (31 * k + 7 * i + 3) % FIXTURE_VOCAB),
);

let fx: FixtureBackend;
let completion: { tokens: number[]; logprobs: number[] };
let feedback: number[];

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const completionLps = async (sampler: DistributionSamplingClient, context: number[]) =>
  (await sampler.computeLogprobs([...context, ...completion.tokens])).slice(context.length) as number[];
const rowsOn = (sampler: DistributionSamplingClient, context: number[]) =>
  sampler.logSoftmaxRows(
    [...context, ...completion.tokens],
    completion.tokens.map((_, t) => context.length - 1 + t),
  );

beforeAll(async () => {
  fx = await startFixtureBackend();
  const trainer = await fx.trainer();
  const student = await trainer.saveWeightsForSampler();
  const sampled = (await student.sample(PROMPT, { maxTokens: 8, temperature: 1, seed: 11 })).sequences[0]!;
  completion = { tokens: sampled.tokens, logprobs: sampled.logprobs };
  // The feedback whose context lowers the completion's log-prob the most (a fixed list, so fixed choice).
  const studentSum = sum(await completionLps(student, PROMPT));
  let best = { gap: -Infinity, tokens: [] as number[] };
  for (const f of CANDIDATE_FEEDBACK) {
    const gap = studentSum - sum(await completionLps(student, [...PROMPT, ...f]));
    if (gap > best.gap) best = { gap, tokens: f };
  }
  feedback = best.tokens;
  // Every case below relies on this premise; it is asserted again, by name, in the first test.
  if (!(best.gap > 0)) throw new Error("no candidate feedback makes the teacher find the completion less likely");
});

afterAll(async () => {
  await fx?.close();
});

describe("one SDPO step on a denied completion", () => {
  it("the sampler's log-probs are the model's own (temperature 1), and the teacher finds the completion less likely", async () => {
    const student = await (await fx.trainer()).saveWeightsForSampler();
    const studentLp = await completionLps(student, PROMPT);
    for (const [t, lp] of completion.logprobs.entries()) expect(lp).toBeCloseTo(studentLp[t]!, 4);
    expect(sum(await completionLps(student, [...PROMPT, ...feedback]))).toBeLessThan(sum(studentLp));
  });

  const modes: Array<[TeacherMode, LossMode]> = (["student", "ema", "frozen"] as const).flatMap((t) =>
    (["token", "full_kl", "topk_kl"] as const).map((l) => [t, l] as [TeacherMode, LossMode]),
  );
  it.each(modes)(
    "teacher %s, loss %s: the completion's log-prob falls and the student-teacher KL on it falls",
    async (teacherMode, lossMode) => {
      const config = sdpoConfig({ teacherMode, lossMode, learningRate: 5e-3, topK: 20 });
      const trainer = await fx.trainer();
      const student = await trainer.saveWeightsForSampler();
      const teacher = await createTeacher({
        mode: teacherMode,
        trainer,
        student,
        step: 0,
        emaTau: config.emaTau,
        refreshEvery: config.teacherRefreshEvery,
      });
      const teacherContext = [...PROMPT, ...feedback];
      const klBefore = meanRowReverseKl(
        await rowsOn(student, PROMPT),
        await rowsOn(teacher.current() as DistributionSamplingClient, teacherContext),
        FIXTURE_VOCAB,
      );
      const lpBefore = sum(await completionLps(student, PROMPT));
      const denial: DenialExample = {
        promptTokens: PROMPT,
        completionTokens: completion.tokens,
        samplingLogprobs: completion.logprobs,
        teacherPromptTokens: teacherContext,
        hasSolution: false,
      };
      const outcome = await trainStep(
        {
          trainer,
          student,
          teacher,
          capabilities: capabilitiesOf(fx.backend),
          step: 0,
          baseline: { count: 0, mean: 0 },
        },
        { denials: [denial], rewards: [] },
        config,
      );
      if (outcome.status !== "trained") throw new Error(`step not trained: ${outcome.reason}`);
      const after = outcome.student as DistributionSamplingClient;
      const klAfter = meanRowReverseKl(
        await rowsOn(after, PROMPT),
        await rowsOn(teacher.current() as DistributionSamplingClient, teacherContext),
        FIXTURE_VOCAB,
      );
      expect(sum(await completionLps(after, PROMPT))).toBeLessThan(lpBefore);
      expect(klAfter).toBeLessThan(klBefore);
      expect(outcome.metrics.sdpo_step).toBe(1);
      expect(outcome.metrics.sdpo_tokens).toBe(completion.tokens.length);
    },
  );
});

describe("the student's true entropy", () => {
  /** Counts the student sampler's forward passes, calling through to the real ones. */
  function countForwards(sampler: DistributionSamplingClient): {
    logSoftmaxRows: number;
    computeLogprobs: number;
    topkLogprobs: number;
  } {
    const calls = { logSoftmaxRows: 0, computeLogprobs: 0, topkLogprobs: 0 };
    for (const name of Object.keys(calls) as Array<keyof typeof calls>) {
      const real = (sampler[name] as (...args: unknown[]) => unknown).bind(sampler);
      Object.assign(sampler, { [name]: (...args: unknown[]) => (calls[name]++, real(...args)) });
    }
    return calls;
  }

  const withoutEntropies = (trainer: TrainingClient): TrainingClient =>
    Object.assign(Object.create(trainer) as TrainingClient, {
      forwardBackward: async (...args: Parameters<TrainingClient["forwardBackward"]>) => {
        const result = await trainer.forwardBackward(...args);
        return {
          ...result,
          lossFnOutputs: result.lossFnOutputs.map(
            ({ entropies: _dropped, ...rest }) => rest as typeof rest & { logprobs: number[] },
          ),
        };
      },
    });

  /** One step on a fresh student, with the student's rows scored beforehand and its forwards counted. */
  async function stepCountingStudentForwards(
    lossMode: "token" | "full_kl",
    wrap: (t: TrainingClient) => TrainingClient = (t) => t,
  ) {
    const config = sdpoConfig({ lossMode, learningRate: 5e-3 });
    const trainer = await fx.trainer();
    const student = (await trainer.saveWeightsForSampler()) as DistributionSamplingClient;
    const teacher = await createTeacher({
      mode: "student",
      trainer,
      student: await trainer.saveWeightsForSampler(),
      step: 0,
      emaTau: config.emaTau,
      refreshEvery: config.teacherRefreshEvery,
    });
    const before = await scoreCompletion(student, {
      contextTokens: PROMPT,
      completionTokens: completion.tokens,
      lossMode: "token",
      topK: 0,
      forceRows: true,
    });
    const calls = countForwards(student);
    const denial: DenialExample = {
      promptTokens: PROMPT,
      completionTokens: completion.tokens,
      samplingLogprobs: completion.logprobs,
      teacherPromptTokens: [...PROMPT, ...feedback],
      hasSolution: false,
    };
    const outcome = await trainStep(
      {
        trainer: wrap(trainer),
        student,
        teacher,
        capabilities: capabilitiesOf(fx.backend),
        step: 0,
        baseline: { count: 0, mean: 0 },
      },
      { denials: [denial], rewards: [] },
      config,
    );
    if (outcome.status !== "trained") throw new Error(`step not trained: ${outcome.reason}`);
    return { metrics: outcome.metrics, before: before.entropy!, calls };
  }

  it.each(["token", "full_kl"] as const)(
    "loss %s: comes from forward_backward, equal to scoring the student's rows before the step, with no forward of the student sampler",
    async (lossMode) => {
      const { metrics, before, calls } = await stepCountingStudentForwards(lossMode);
      expect(metrics["entropy/student_true"]).toBeCloseTo(before, 5);
      expect(metrics["entropy/teacher_true"]).toBeGreaterThan(0);
      expect(calls).toEqual({ logSoftmaxRows: 0, computeLogprobs: 0, topkLogprobs: 0 });
    },
  );

  it("a trainer whose outputs carry no entropies gets the same value from one scoring of the student's rows", async () => {
    const { metrics, before, calls } = await stepCountingStudentForwards("token", withoutEntropies);
    expect(metrics["entropy/student_true"]).toBeCloseTo(before, 5);
    expect(calls).toEqual({ logSoftmaxRows: 1, computeLogprobs: 0, topkLogprobs: 0 });
  });
});
