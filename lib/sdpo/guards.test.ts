/**
 * What a step refuses to do and which way RL pushes: a non-finite teacher log-prob or an
 * overflowing gradient leaves the weights bit for bit as they were (and no gradient behind), an
 * empty batch trains nothing, and RL raises an approved completion and lowers a denied one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SamplingClient } from "@/lib/training/types";
import { capabilitiesOf } from "./capabilities";
import { sdpoConfig, type SDPOConfig } from "./config";
import { createTeacher, fixedTeacher, type TeacherSource } from "./teachers";
import { startFixtureBackend, type FixtureBackend } from "./testing";
import { trainStep, type DenialExample, type StepBatch } from "./train-step";

const PROMPT = [3, 77, 140, 9, 211, 58];
const FEEDBACK = [100, 101, 102, 103];
let fx: FixtureBackend;
let completion: { tokens: number[]; logprobs: number[] };

beforeAll(async () => {
  fx = await startFixtureBackend();
  const student = await (await fx.trainer()).saveWeightsForSampler();
  const s = (await student.sample(PROMPT, { maxTokens: 6, temperature: 1, seed: 5 })).sequences[0]!;
  completion = { tokens: s.tokens, logprobs: s.logprobs };
});
afterAll(async () => {
  await fx?.close();
});

const denial = (): DenialExample => ({
  promptTokens: PROMPT,
  completionTokens: completion.tokens,
  samplingLogprobs: completion.logprobs,
  teacherPromptTokens: [...PROMPT, ...FEEDBACK],
  hasSolution: false,
});
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const completionLp = async (s: SamplingClient) =>
  sum((await s.computeLogprobs([...PROMPT, ...completion.tokens])).slice(PROMPT.length) as number[]);

async function setup(config: SDPOConfig, teacherFor?: (student: SamplingClient) => TeacherSource) {
  const trainer = await fx.trainer();
  const student = await trainer.saveWeightsForSampler();
  const teacher = teacherFor
    ? teacherFor(student)
    : await createTeacher({ mode: "student", trainer, student, step: 0, emaTau: 0.05, refreshEvery: 10 });
  const runWith = (c: SDPOConfig, batch: StepBatch) =>
    trainStep(
      { trainer, student, teacher, capabilities: capabilitiesOf(fx.backend), step: 0, baseline: { count: 0, mean: 0 } },
      batch,
      c,
    );
  return { trainer, student, teacher, run: (batch: StepBatch) => runWith(config, batch), runWith };
}

describe("the non-finite guard", () => {
  it("a NaN teacher log-prob rejects the step and leaves the weights bit for bit as they were", async () => {
    const nanTeacher = (student: SamplingClient): TeacherSource =>
      fixedTeacher({
        modelPath: null,
        sample: (p, params) => student.sample(p, params),
        computeLogprobs: async (tokens) => {
          const lps = await student.computeLogprobs(tokens);
          lps[lps.length - 2] = Number.NaN;
          return lps;
        },
      });
    const { trainer, run } = await setup(sdpoConfig({ learningRate: 1e-2 }), nanTeacher);
    const before = await fx.weights(trainer);
    const outcome = await run({ denials: [denial()], rewards: [] });
    expect(outcome).toEqual({
      status: "rejected",
      reason: "non-finite log-probs or advantages; the step was not run",
      baseline: { count: 0, mean: 0 },
    });
    expect(await fx.weights(trainer)).toEqual(before);
    expect(await trainer.gradientNorm()).toBe(0);
  });

  it("a step whose gradients overflow is rejected, its gradients discarded and the weights unchanged", async () => {
    const { trainer, run, runWith } = await setup(sdpoConfig({ learningRate: 1e-2, klCoef: 1e300 }));
    const before = await fx.weights(trainer);
    const outcome = await run({ denials: [denial()], rewards: [] });
    expect(outcome.status).toBe("rejected");
    expect(outcome.status === "rejected" && outcome.reason).toMatch(
      /gradients are not finite; the gradients were discarded/,
    );
    expect(await trainer.gradientNorm()).toBe(0);
    expect(await fx.weights(trainer)).toEqual(before);
    // A sound step afterwards trains from exactly those weights, with no leftover gradient.
    const good = await runWith(sdpoConfig({ learningRate: 1e-2 }), { denials: [denial()], rewards: [] });
    expect(good.status).toBe("trained");
    expect(await fx.weights(trainer)).not.toEqual(before);
  });

  it("with SDPO off a denial trains nothing and says why", async () => {
    const { run } = await setup(sdpoConfig({ enableSdpo: false }));
    expect(await run({ denials: [denial()], rewards: [] })).toEqual({
      status: "skipped",
      reason: "SDPO is off (--no-sdpo)",
    });
  });
});

describe("RL with a reward baseline", () => {
  it("an approved completion (+1) becomes more likely", async () => {
    const { student, run } = await setup(sdpoConfig({ enableRl: true, learningRate: 5e-3 }));
    const outcome = await run({
      denials: [],
      rewards: [
        { promptTokens: PROMPT, completionTokens: completion.tokens, samplingLogprobs: completion.logprobs, reward: 1 },
      ],
    });
    if (outcome.status !== "trained") throw new Error(outcome.reason);
    expect(await completionLp(outcome.student)).toBeGreaterThan(await completionLp(student));
    expect(outcome.metrics.grpo_reward_adv_mean).toBe(1);
    expect(outcome.metrics.sdpo_reward_only_count).toBe(1);
    expect(outcome.baseline).toEqual({ count: 1, mean: 1 });
  });

  it("a denied completion (−1) becomes less likely, even with SDPO off", async () => {
    const { student, run } = await setup(sdpoConfig({ enableRl: true, enableSdpo: false, learningRate: 5e-3 }));
    const outcome = await run({
      denials: [],
      rewards: [
        {
          promptTokens: PROMPT,
          completionTokens: completion.tokens,
          samplingLogprobs: completion.logprobs,
          reward: -1,
        },
      ],
    });
    if (outcome.status !== "trained") throw new Error(outcome.reason);
    expect(await completionLp(outcome.student)).toBeLessThan(await completionLp(student));
    expect(outcome.metrics.grpo_reward_adv_mean).toBe(-1);
  });

  it("a denial with RL on adds its reward advantage to the SDPO advantages", async () => {
    const { run } = await setup(sdpoConfig({ enableRl: true, learningRate: 5e-3 }));
    const outcome = await run({ denials: [{ ...denial(), reward: -1 }], rewards: [] });
    if (outcome.status !== "trained") throw new Error(outcome.reason);
    expect(outcome.metrics.grpo_reward_adv_mean).toBe(-1);
    expect(outcome.metrics["credit/adv_mean"]).toBeLessThan(-0.5);
  });

  it("in the KL losses a denial's RL reward still trains, through an importance-sampling datum", async () => {
    const { run } = await setup(sdpoConfig({ enableRl: true, lossMode: "full_kl", learningRate: 5e-3 }));
    const outcome = await run({ denials: [{ ...denial(), reward: -1 }], rewards: [] });
    if (outcome.status !== "trained") throw new Error(outcome.reason);
    expect(outcome.metrics).toMatchObject({ sdpo_total_datums: 2, sdpo_denied_count: 1, grpo_reward_adv_mean: -1 });
  });
});
