/**
 * selectTeacher, the one place a policy's teacher is chosen (the app and the learning benchmark
 * both reach it through PolicyRuntime): a teacher checkpoint is a fixed teacher that training
 * never moves, a teacher model that is the policy's own base model is no other model (the mode
 * applies), and otherwise the settings' mode is used.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Datum, SamplingClient } from "@/lib/training/types";
import { selectTeacher, type TeacherSettings } from "./teachers";
import { FIXTURE_MODEL, startFixtureBackend, type FixtureBackend } from "./testing";

const SEQ = [4, 8, 15, 16, 23, 42, 108, 7];
const DATUM: Datum = {
  modelInput: SEQ.slice(0, -1),
  lossFnInputs: { targetTokens: SEQ.slice(1), weights: SEQ.slice(1).map(() => 1) },
};
const SETTINGS: TeacherSettings = { teacherMode: "student", emaTau: 0.05, teacherRefreshEvery: 10 };
const lps = async (s: SamplingClient) => (await s.computeLogprobs(SEQ)).slice(1) as number[];

let fx: FixtureBackend;
beforeAll(async () => {
  fx = await startFixtureBackend();
});
afterAll(async () => {
  await fx?.close();
});

async function open(settings: TeacherSettings) {
  const trainer = await fx.trainer();
  const student = await trainer.saveWeightsForSampler();
  const teacher = await selectTeacher({
    backend: fx.backend,
    baseModel: FIXTURE_MODEL,
    trainer,
    student,
    step: 0,
    settings,
  });
  return { trainer, teacher };
}

describe("choosing a policy's teacher", () => {
  it("a teacher checkpoint gives a fixed teacher that a training step does not move", async () => {
    const source = await fx.trainer({ seed: 5 });
    await source.forwardBackward([DATUM], "cross_entropy");
    await source.optimStep({ learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    const teacherPath = await source.saveState("teacher-source");
    const { trainer, teacher } = await open({ ...SETTINGS, teacherCheckpoint: teacherPath });
    expect(teacher.mode).toBe("fixed");
    const before = teacher.current();
    const scores = await lps(before);
    await trainer.forwardBackward([DATUM], "cross_entropy");
    await trainer.optimStep({ learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    const student = await trainer.saveWeightsForSampler();
    await teacher.afterStep({ trainer, student, step: 1 });
    expect(teacher.current()).toBe(before);
    expect(await lps(teacher.current())).toEqual(scores);
    expect(await lps(student)).not.toEqual(scores);
  });

  it("a teacher model that is the policy's own base model leaves the choice to the mode", async () => {
    const { teacher } = await open({ ...SETTINGS, teacherMode: "frozen", teacherModel: FIXTURE_MODEL });
    expect(teacher.mode).toBe("frozen");
  });

  it("without a teacher model or checkpoint the settings' mode is used", async () => {
    for (const teacherMode of ["student", "ema", "frozen"] as const)
      expect((await open({ ...SETTINGS, teacherMode })).teacher.mode).toBe(teacherMode);
  });
});
