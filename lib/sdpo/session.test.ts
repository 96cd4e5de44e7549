/**
 * SDPOSession's plumbing on real messages: a random engine model with the Qwen3 vocabulary (so
 * the real renderer's token ids fit) behind the embedded backend. Sampling records the exact
 * prompt, a blank correction trains nothing and says why, a real one trains a step that reports
 * every metric and saves a checkpoint a new session resumes, and --no-training keeps nothing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRenderer } from "@/lib/chat";
import type { Renderer } from "@/lib/chat/types";
import { tinyConfig } from "@/lib/engine/testing";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { createTestDb, makeUser } from "@/lib/db/test-db";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import { fileCheckpointStore } from "./checkpoints";
import { recordSdpoStep } from "./step-record";
import { SDPOSession } from "./session";

const MODEL = "test/random-qwen3-vocab";
const statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "sdpo-session-"));
const store = fileCheckpointStore(path.join(statesDir, "log"));
const backends: EmbeddedBackend[] = [];
let renderer: Renderer;

function backend(): EmbeddedBackend {
  const b = createEmbeddedBackend({
    statesDir,
    models: {
      [MODEL]: { random: tinyConfig({ vocabSize: 151_669, numLayers: 1, maxPositionEmbeddings: 512 }), seed: 3 },
    },
  });
  backends.push(b);
  return b;
}

function session(overrides: Partial<ConstructorParameters<typeof SDPOSession>[0]> = {}) {
  return new SDPOSession({
    backend: backend(),
    model: MODEL,
    renderer,
    loraRank: 4,
    seed: 7,
    maxTokens: 6,
    temperature: 1,
    systemPrompt: "You are a coding agent.",
    checkpoints: store,
    saveEvery: 1,
    sdpo: { learningRate: 1e-2 },
    ...overrides,
  });
}

beforeAll(async () => {
  renderer = await getRenderer("Qwen/Qwen3-4B-Instruct-2507");
});
afterAll(async () => {
  for (const b of backends) await b.close();
});

describe("an SDPO session on real messages", () => {
  it("samples from the exact rendered prompt, learns from a correction, skips a blank one, and a new session resumes it", async () => {
    const s = session();
    await s.init();
    expect(s.origin).toBe("fresh");
    s.addUserMessage("Fix the failing test in sum.test.ts");
    s.addUserMessage("Retry: output exactly ONE tool call.", { task: false });
    const out = await s.sample();
    const c = out.completion;
    expect(c.promptTokens).toEqual(renderer.renderPrompt(s.promptMessages(), [], { addGenerationPrompt: true }).tokens);
    expect(c).toMatchObject({ promptLength: c.promptTokens.length, task: "Fix the failing test in sum.test.ts" });
    expect(c.tokens.length).toBe(c.logprobs.length);

    expect(s.recordDenial(c, "   ")).toBe(false);
    expect(await s.trainSdpo()).toEqual({
      metrics: {},
      reason: "the correction is blank, so there is nothing to learn from",
    });
    expect(s.sdpoSteps).toBe(0);

    expect(s.recordDenial(c, "read the file before editing it", { environmentFeedback: "ENOENT: sum.test.tsx" })).toBe(
      true,
    );
    const trained = await s.trainSdpo();
    expect(trained.reason).toBeUndefined();
    for (const key of [
      "sdpo_step",
      "sdpo_denied_count",
      "sdpo_reward_only_count",
      "sdpo_total_datums",
      "sdpo_tokens",
      "sdpo_kl",
      "grpo_reward_adv_mean",
      "loss",
      "credit/adv_abs_mean_raw",
      "credit/kl_gain",
      "credit/solution_coverage",
      "entropy/student",
      "entropy/teacher",
      "entropy/gap",
      "entropy/student_true",
      "entropy/teacher_true",
      "fwd/loss:sum",
      "optim/grad_norm",
      "time/teacher_scoring",
      "time/forward_backward",
      "time/optim",
      "time/sampler_refresh",
      "time/total",
    ]) {
      expect(Number.isFinite(trained.metrics[key]), key).toBe(true);
    }
    expect(trained.metrics).toMatchObject({ sdpo_step: 1, sdpo_denied_count: 1, sdpo_tokens: c.tokens.length });
    expect(s.sdpoSteps).toBe(1);
    expect(await store.latest()).toMatchObject({ name: "step-000001", step: 1 });
    // Nothing pending now: the records were used.
    expect(await s.trainSdpo()).toEqual({ metrics: {}, reason: "no corrections were recorded" });

    const resumed = session();
    await resumed.init();
    expect({ origin: resumed.origin, steps: resumed.sdpoSteps }).toEqual({ origin: "resume", steps: 1 });
  });

  it("with --no-training nothing is kept and trainSdpo says why", async () => {
    const s = session({ enableTraining: false });
    await s.init();
    s.addUserMessage("List the files");
    const { completion } = await s.sample();
    expect(s.recordDenial(completion, "use glob")).toBe(false);
    expect(await s.trainSdpo()).toEqual({ metrics: {}, reason: "training is off (--no-training)" });
  });

  it("with a database, each step is a training_steps row that ends done with the step's metrics", async () => {
    const handle = await createTestDb();
    try {
      const user = await makeUser(handle.db);
      const policy = await getOrCreatePolicy({
        db: handle.db,
        ownerId: user.id,
        baseModel: MODEL,
        backend: "embedded",
        loraRank: 4,
      });
      const s = session({
        checkpoints: undefined,
        recordStep: async (lossFn, run) =>
          (await recordSdpoStep({ db: handle.db, ownerId: user.id, policyId: policy.id, lossFn }, run)).outcome,
      });
      await s.init();
      s.addUserMessage("Add a divide function");
      const { completion } = await s.sample();
      s.recordDenial(completion, "handle division by zero", { solution: 'edit({"path":"calc.ts"})' });
      const { metrics } = await s.trainSdpo();
      const rows = await listTrainingStepsByOwner({ db: handle.db, ownerId: user.id });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "done", step: 1, lossFn: "importance_sampling", metrics });
      expect(metrics["credit/solution_coverage"]).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it("--teacher-checkpoint gives a fixed teacher that training does not move", async () => {
    const source = session({ checkpoints: undefined });
    await source.init();
    const teacherPath = await source.saveCheckpoint("teacher-source");
    const s = session({ checkpoints: undefined, teacherCheckpoint: teacherPath });
    await s.init();
    const teacher = s.teacher!.current();
    expect(s.teacher!.mode).toBe("fixed");
    s.addUserMessage("Run the tests");
    s.recordDenial((await s.sample()).completion, "use bash, not read");
    expect((await s.trainSdpo()).metrics.sdpo_step).toBe(1);
    expect(s.teacher!.current()).toBe(teacher);
  });

  it("tool results carry the name of the call they answer", async () => {
    const s = session({ enableTraining: false });
    s.addUserMessage("Read a.ts");
    s.addAssistantMessage({
      role: "assistant",
      content: "",
      toolCalls: [{ id: "call_1", name: "read", arguments: { path: "a.ts" } }],
    });
    s.addToolResult("call_1", "1| export {}");
    expect(s.messages.at(-1)).toEqual({ role: "tool", toolCallId: "call_1", name: "read", content: "1| export {}" });
    expect(() => s.addToolResult("call_9", "x")).toThrow(/no tool call call_9/);
  });
});
