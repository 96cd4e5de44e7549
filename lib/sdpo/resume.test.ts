/**
 * Restarting: a new backend (a new engine) resumes the latest saved state with identical weights,
 * optimizer state and step count; an explicit --checkpoint is loaded even when a newer state was
 * saved; both stores (JSONL file and database) answer the same questions.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDb, makeUser } from "@/lib/db/test-db";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import type { EmbeddedTrainingClient } from "@/lib/training/embedded-clients";
import type { TrainingClient } from "@/lib/training/types";
import { dbCheckpointStore, fileCheckpointStore, type CheckpointStore } from "./checkpoints";
import { sdpoConfig } from "./config";
import { openPolicy } from "./resume";
import { createTeacher } from "./teachers";
import { FIXTURE_MODEL, startFixtureBackend, type FixtureBackend } from "./testing";
import { trainStep, type DenialExample } from "./train-step";

const PROMPT = [5, 6, 7, 8, 9, 10];
const DENIAL: DenialExample = {
  promptTokens: PROMPT,
  completionTokens: [40, 41, 42, 43],
  samplingLogprobs: [-5.9, -5.8, -6.0, -5.95],
  teacherPromptTokens: [...PROMPT, 200, 201, 202],
  hasSolution: false,
};
const config = sdpoConfig({ learningRate: 1e-2 });
const statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "sdpo-resume-"));
const opened: FixtureBackend[] = [];
afterAll(async () => {
  for (const fx of opened) await fx.close();
});

async function backend(): Promise<FixtureBackend> {
  const fx = await startFixtureBackend(statesDir);
  opened.push(fx);
  return fx;
}

async function step(trainer: TrainingClient, fromStep: number) {
  const student = await trainer.saveWeightsForSampler();
  const teacher = await createTeacher({
    mode: "student",
    trainer,
    student,
    step: fromStep,
    emaTau: 0.05,
    refreshEvery: 10,
  });
  const out = await trainStep(
    {
      trainer,
      student,
      teacher,
      capabilities: { losses: ["importance_sampling"], importanceSamplingClipRatio: true, teacherModes: ["student"] },
      step: fromStep,
      baseline: { count: 0, mean: 0 },
    },
    { denials: [DENIAL], rewards: [] },
    config,
  );
  if (out.status !== "trained") throw new Error(out.reason);
  return out.step;
}

async function trainAndSave(fx: FixtureBackend, store: CheckpointStore) {
  const policy = await openPolicy({
    backend: fx.backend,
    model: FIXTURE_MODEL,
    rank: 4,
    seed: 2,
    store,
    enableTraining: true,
  });
  const trainer = policy.trainer!;
  let n = await step(trainer, policy.step);
  const first = await store.record({ name: "step-000001", step: n, statePath: await trainer.saveState("step-000001") });
  n = await step(trainer, n);
  const second = await store.record({
    name: "step-000002",
    step: n,
    statePath: await trainer.saveState("step-000002"),
  });
  return {
    trainer: trainer as EmbeddedTrainingClient,
    first,
    second,
    weightsAt2: await fx.weights(trainer as EmbeddedTrainingClient),
  };
}

describe("resuming a policy after a restart", () => {
  it("a new backend resumes the latest state with identical weights, optimizer state and step count", async () => {
    const store = fileCheckpointStore(fs.mkdtempSync(path.join(os.tmpdir(), "sdpo-log-")) + "/nested/log");
    const fx1 = await backend();
    const saved = await trainAndSave(fx1, store);
    const fx2 = await backend();
    const resumed = await openPolicy({
      backend: fx2.backend,
      model: FIXTURE_MODEL,
      rank: 4,
      store,
      enableTraining: true,
    });
    expect({ origin: resumed.origin, step: resumed.step, statePath: resumed.statePath }).toEqual({
      origin: "resume",
      step: 2,
      statePath: saved.second.statePath,
    });
    const trainer2 = resumed.trainer as EmbeddedTrainingClient;
    expect(await fx2.weights(trainer2)).toEqual(saved.weightsAt2);
    // The same next step from both gives the same weights only if Adam's moments came back too.
    await step(saved.trainer, 2);
    await step(trainer2, 2);
    expect(await fx2.weights(trainer2)).toEqual(await fx1.weights(saved.trainer));
  });

  it("--checkpoint is loaded even when a newer state was saved, with that state's step count", async () => {
    const store = fileCheckpointStore(fs.mkdtempSync(path.join(os.tmpdir(), "sdpo-log-")));
    const fx = await backend();
    const saved = await trainAndSave(fx, store);
    const policy = await openPolicy({
      backend: fx.backend,
      model: FIXTURE_MODEL,
      rank: 4,
      store,
      checkpoint: saved.first.statePath,
      enableTraining: true,
    });
    expect({ origin: policy.origin, step: policy.step }).toEqual({ origin: "checkpoint", step: 1 });
    expect(await fx.weights(policy.trainer as EmbeddedTrainingClient)).not.toEqual(saved.weightsAt2);
    expect((await store.latest())!.step).toBe(2);
  });

  it("with training off, the latest state is not loaded and the sampler reads the base model", async () => {
    const store = fileCheckpointStore(fs.mkdtempSync(path.join(os.tmpdir(), "sdpo-log-")));
    await store.record({ name: "x", step: 3, statePath: "/nonexistent" });
    const fx = await backend();
    const policy = await openPolicy({
      backend: fx.backend,
      model: FIXTURE_MODEL,
      rank: 4,
      store,
      enableTraining: false,
    });
    expect({ trainer: policy.trainer, origin: policy.origin, step: policy.step }).toEqual({
      trainer: null,
      origin: "fresh",
      step: 0,
    });
  });
});

describe("the database checkpoint store", () => {
  it("records states, resumes the policy's current one and finds a state's step by its path", async () => {
    const handle = await createTestDb();
    try {
      const user = await makeUser(handle.db);
      const policy = await getOrCreatePolicy({
        db: handle.db,
        ownerId: user.id,
        baseModel: FIXTURE_MODEL,
        backend: "embedded",
        loraRank: 4,
      });
      const store = dbCheckpointStore({ db: handle.db, ownerId: user.id, policyId: policy.id });
      expect(await store.latest()).toBeNull();
      await store.record({ name: "step-000001", step: 1, statePath: "/states/a/step-000001" });
      await store.record({ name: "step-000002", step: 2, statePath: "/states/a/step-000002" });
      expect(await store.latest()).toMatchObject({ name: "step-000002", step: 2, statePath: "/states/a/step-000002" });
      expect(await store.find("/states/a/step-000001")).toMatchObject({ step: 1 });
      expect(await store.find("/elsewhere")).toBeNull();
    } finally {
      await handle.close();
    }
  });
});
