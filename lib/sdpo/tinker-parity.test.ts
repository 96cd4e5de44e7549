/**
 * The same SDPO step through the Tinker client and our Tinker-protocol server (over the embedded
 * backend, on 127.0.0.1) as directly on the embedded backend: token mode gives the same metrics
 * and the same new weights within float tolerance, although the Tinker path clips the ratio by
 * scaling advantages (Tinker has no native clip). The KL losses are refused on Tinker up front.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinkerBackend } from "@/lib/training/tinker/client";
import { createTinkerProtocolServer } from "@/lib/training/tinker/server";
import type { TrainingBackend } from "@/lib/training/types";
import { capabilitiesOf } from "./capabilities";
import { sdpoConfig, type TeacherMode } from "./config";
import { createTeacher } from "./teachers";
import { FIXTURE_MODEL, startFixtureBackend, type FixtureBackend } from "./testing";
import { trainStep, type DenialExample } from "./train-step";

const PROMPT = [2, 30, 60, 90, 120, 150];
let fx: FixtureBackend;
let server: http.Server;
let tinker: TrainingBackend;
let denial: DenialExample;

beforeAll(async () => {
  fx = await startFixtureBackend();
  server = createTinkerProtocolServer(fx.backend, { apiKey: "secret", longPollMs: 20 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  tinker = createTinkerBackend({
    apiKey: "secret",
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log: () => {},
  });
  const sampler = await fx.backend.createSamplingClient({ baseModel: FIXTURE_MODEL });
  const s = (await sampler.sample(PROMPT, { maxTokens: 6, temperature: 1, seed: 3 })).sequences[0]!;
  denial = {
    promptTokens: PROMPT,
    completionTokens: s.tokens,
    samplingLogprobs: s.logprobs,
    teacherPromptTokens: [...PROMPT, 300, 301, 302, 303],
    hasSolution: true,
  };
});
afterAll(async () => {
  await tinker?.close();
  await new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  await fx?.close();
});

async function oneStep(backend: TrainingBackend, { teacherMode = "student" as TeacherMode, example = denial } = {}) {
  const config = sdpoConfig({ learningRate: 1e-2, teacherMode });
  const trainer = await backend.createTrainingClient({ baseModel: FIXTURE_MODEL, rank: 4, seed: 9 });
  const student = await trainer.saveWeightsForSampler();
  const teacher = await createTeacher({ mode: teacherMode, trainer, student, step: 0, emaTau: 0.05, refreshEvery: 10 });
  const out = await trainStep(
    { trainer, student, teacher, capabilities: capabilitiesOf(backend), step: 0, baseline: { count: 0, mean: 0 } },
    { denials: [example], rewards: [] },
    config,
  );
  if (out.status !== "trained") throw new Error(out.reason);
  const after = (await out.student.computeLogprobs([...PROMPT, ...denial.completionTokens])).slice(1) as number[];
  return { metrics: out.metrics, after };
}

describe("one SDPO step through Tinker", () => {
  it.each(["student", "frozen"] as const)(
    "teacher %s: gives the embedded backend's metrics and weights within float tolerance",
    async (teacherMode) => {
      const direct = await oneStep(fx.backend, { teacherMode });
      const remote = await oneStep(tinker, { teacherMode });
      const compared = Object.keys(direct.metrics).filter(
        (k) => !k.startsWith("time/") && !k.startsWith("optim/") && !k.endsWith("_true"),
      );
      expect(compared.length).toBeGreaterThan(20);
      for (const key of compared) expect(remote.metrics[key], key).toBeCloseTo(direct.metrics[key]!, 4);
      for (const [i, lp] of remote.after.entries()) expect(lp).toBeCloseTo(direct.after[i]!, 5);
      expect(direct.metrics.sdpo_ratio_mean).toBeCloseTo(1, 4);
    },
  );

  it("an off-policy completion has its ratio clipped at is_clip on both paths, with the same loss and report", async () => {
    // Sampling log-probs 1.5 below the model's: every ratio is e^1.5 ≈ 4.48 > is_clip = 2.
    const stale = { ...denial, samplingLogprobs: denial.samplingLogprobs.map((lp) => lp - 1.5) };
    const direct = await oneStep(fx.backend, { example: stale });
    const remote = await oneStep(tinker, { example: stale });
    for (const m of [direct.metrics, remote.metrics]) {
      expect(m.sdpo_ratio_clipped_frac).toBe(1);
      expect(m.sdpo_ratio_mean).toBeCloseTo(Math.exp(1.5), 3);
    }
    // Native clip: −Σ is_clip·A; scaled advantages: −Σ ratio·A·is_clip/ratio, the same number.
    expect(remote.metrics.loss).toBeCloseTo(direct.metrics.loss!, 4);
  });

  it("full-vocabulary KL on Tinker is a clear error, before anything runs", async () => {
    const trainer = await tinker.createTrainingClient({ baseModel: FIXTURE_MODEL, rank: 4, seed: 9 });
    const student = await trainer.saveWeightsForSampler();
    const teacher = await createTeacher({ mode: "student", trainer, student, step: 0, emaTau: 0.05, refreshEvery: 10 });
    await expect(
      trainStep(
        { trainer, student, teacher, capabilities: capabilitiesOf(tinker), step: 0, baseline: { count: 0, mean: 0 } },
        { denials: [denial], rewards: [] },
        sdpoConfig({ lossMode: "full_kl" }),
      ),
    ).rejects.toThrow(/SDPO loss mode "full_kl" needs the reverse_kl loss, which this backend cannot compute/);
    await expect(
      createTeacher({ mode: "ema", trainer, student, step: 0, emaTau: 0.05, refreshEvery: 10 }),
    ).rejects.toThrow(/needs the embedded backend/);
  });
});
