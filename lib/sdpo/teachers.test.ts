/**
 * Teacher sources on the embedded backend (fixture model): the student teacher follows every
 * step, the EMA teacher moves a fraction τ toward the student, and the frozen teacher holds still
 * until its K-th step.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdamParams, Datum, SamplingClient, TrainingClient } from "@/lib/training/types";
import { createTeacher } from "./teachers";
import { startFixtureBackend, type FixtureBackend } from "./testing";

const SEQ = [4, 8, 15, 16, 23, 42, 108, 7];
const DATUM: Datum = {
  modelInput: SEQ.slice(0, -1),
  lossFnInputs: { targetTokens: SEQ.slice(1), weights: SEQ.slice(1).map(() => 1) },
};
const ADAM: AdamParams = { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 };
let fx: FixtureBackend;
beforeAll(async () => {
  fx = await startFixtureBackend();
});
afterAll(async () => {
  await fx?.close();
});

const lps = async (s: SamplingClient) => (await s.computeLogprobs(SEQ)).slice(1) as number[];
async function trainOnce(trainer: TrainingClient): Promise<SamplingClient> {
  await trainer.forwardBackward([DATUM], "cross_entropy");
  await trainer.optimStep(ADAM);
  return trainer.saveWeightsForSampler();
}

describe("teacher sources", () => {
  it("the student teacher is the newest student sampler", async () => {
    const trainer = await fx.trainer();
    const teacher = await createTeacher({
      mode: "student",
      trainer,
      student: await trainer.saveWeightsForSampler(),
      step: 0,
      emaTau: 0.05,
      refreshEvery: 10,
    });
    const student = await trainOnce(trainer);
    await teacher.afterStep({ trainer, student, step: 1 });
    expect(teacher.current()).toBe(student);
  });

  it("the EMA teacher moves part of the way toward the student", async () => {
    const trainer = await fx.trainer();
    const start = await trainer.saveWeightsForSampler();
    const teacher = await createTeacher({
      mode: "ema",
      trainer,
      student: start,
      step: 0,
      emaTau: 0.5,
      refreshEvery: 10,
    });
    const before = await lps(teacher.current());
    const student = await trainOnce(trainer);
    await teacher.afterStep({ trainer, student, step: 1 });
    const [b, t, s] = [before, await lps(teacher.current()), await lps(student)];
    const moved = t.reduce((a, x, i) => a + Math.abs(x - b[i]!), 0);
    const full = s.reduce((a, x, i) => a + Math.abs(x - b[i]!), 0);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(full);
  });

  it("the frozen teacher keeps its weights until every K-th step refreshes them", async () => {
    const trainer = await fx.trainer();
    const teacher = await createTeacher({
      mode: "frozen",
      trainer,
      student: await trainer.saveWeightsForSampler(),
      step: 0,
      emaTau: 0.05,
      refreshEvery: 2,
    });
    const frozen = await lps(teacher.current());
    let student = await trainOnce(trainer);
    await teacher.afterStep({ trainer, student, step: 1 });
    expect(await lps(teacher.current())).toEqual(frozen);
    student = await trainOnce(trainer);
    await teacher.afterStep({ trainer, student, step: 2 });
    expect(await lps(teacher.current())).toEqual(await lps(student));
  });
});
