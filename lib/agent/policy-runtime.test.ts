/**
 * The policy runtime's in-memory clients: a policy forgotten while a call is using its clients (a
 * restore, a failed step) lets that call finish, then frees the adapter; the next use opens anew.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { getRenderer } from "@/lib/chat";
import type { Renderer } from "@/lib/chat/types";
import { resolveConfig } from "@/lib/config/resolve";
import { forEachDriver } from "@/lib/db/test-db";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { PolicyRuntime, type OpenedPolicy } from "./policy-runtime";
import { TEACH_SPEC, TEST_MODEL_NAME } from "./test-fixtures";
import { setUpUser, TEST_SETTINGS } from "./test-harness";
import { taughtTestModel, type Taught } from "./test-model";

forEachDriver("the policy runtime", (db) => {
  let renderer: Renderer;
  let taught: Taught;
  let backend: EmbeddedBackend;
  let statesDir: string;

  beforeAll(async () => {
    renderer = await getRenderer(TEST_MODEL_NAME);
    taught = await taughtTestModel(TEACH_SPEC, renderer);
    statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-runtime-states-"));
    backend = createEmbeddedBackend({ models: { [TEST_MODEL_NAME]: { dir: taught.modelDir } }, statesDir });
  }, 600_000);
  afterAll(async () => {
    await backend?.close();
    if (statesDir) fs.rmSync(statesDir, { recursive: true, force: true });
  });

  it("a policy forgotten mid-call lets the call finish, then frees its clients; the next use opens new ones", async () => {
    const runtime = new PolicyRuntime({ db: db(), backend });
    const t = await setUpUser({ db: db(), taught });
    const config = resolveConfig({ user: TEST_SETTINGS }).config;
    const prompt = renderer.renderPrompt([{ role: "user", content: "hello" }], [], { addGenerationPrompt: true }).tokens;
    const params = { maxTokens: 4, temperature: 0 };

    let held: OpenedPolicy | undefined;
    let resume: () => void = () => {};
    const paused = new Promise<void>((r) => (resume = r));
    const inFlight = runtime.use(t.policy, config, async (opened) => {
      held = opened;
      await paused;
      return opened.sampler.sample(prompt, params);
    });
    while (!held) await new Promise((r) => setTimeout(r, 10));
    runtime.forget(t.policy.id);
    resume();
    const first = (await inFlight).sequences[0]!.tokens;
    expect(first.length).toBeGreaterThan(0);

    // Freed after the call: the old sampler refuses, within a moment (the release is not awaited).
    let refusal: unknown = null;
    for (let i = 0; i < 100 && refusal === null; i++) {
      refusal = await held!.sampler.sample(prompt, params).then(() => null, (e: unknown) => e);
      if (refusal === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(String(refusal)).toMatch(/released/);

    const again = await runtime.use(t.policy, config, (opened) => {
      expect(opened).not.toBe(held);
      return opened.sampler.sample(prompt, params);
    });
    expect(again.sequences[0]!.tokens).toEqual(first);
  }, 120_000);
});
