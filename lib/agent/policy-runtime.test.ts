/**
 * The policy runtime's in-memory clients: a policy forgotten while a call is using its clients (a
 * restore, a failed step) lets that call finish, then frees the adapter; the next use opens anew.
 * Its queue runner: a claimed step trains while its row is running and ends done with a new
 * version, a batch with nothing to train fails the row with the reason, and nothing queued is null.
 */
import { expect, it } from "vitest";
import { resolveConfig } from "@/lib/config/resolve";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { enqueueTrainingStep } from "@/lib/db/queries/training-steps";
import { forEachDriver } from "@/lib/db/test-db";
import { denialExample, sdpoConfigFromSettings, type StepBatch } from "@/lib/sdpo";
import { PolicyRuntime, type OpenedPolicy } from "./policy-runtime";
import { setUpUser, TEST_SETTINGS, useTaughtBackend } from "./test-harness";

forEachDriver("the policy runtime", (db) => {
  const env = useTaughtBackend("runtime");

  it("a policy forgotten mid-call lets the call finish, then frees its clients; the next use opens new ones", async () => {
    const runtime = new PolicyRuntime({ db: db(), backend: env.backend });
    const t = await setUpUser({ db: db(), taught: env.taught });
    const config = resolveConfig({ user: TEST_SETTINGS }).config;
    const prompt = env.renderer.renderPrompt([{ role: "user", content: "hello" }], [], {
      addGenerationPrompt: true,
    }).tokens;
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
      refusal = await held!.sampler.sample(prompt, params).then(
        () => null,
        (e: unknown) => e,
      );
      if (refusal === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(String(refusal)).toMatch(/released/);

    const again = await runtime.use(t.policy, config, (opened) => {
      expect(opened).not.toBe(held);
      return opened.sampler.sample(prompt, params);
    });
    expect(again.sequences[0]!.tokens).toEqual(first);
  }, 120_000);

  it("runs a queued step: running while it trains, then done with its metrics and the policy's next version", async () => {
    const runtime = new PolicyRuntime({ db: db(), backend: env.backend });
    const t = await setUpUser({ db: db(), taught: env.taught, name: "queue" });
    const config = resolveConfig({ user: TEST_SETTINGS }).config;
    const promptMessages = [{ role: "user" as const, content: "hello" }];
    const promptTokens = env.renderer.renderPrompt(promptMessages, [], { addGenerationPrompt: true }).tokens;
    const seq = (
      await runtime.use(t.policy, config, (o) => o.sampler.sample(promptTokens, { maxTokens: 6, temperature: 0 }))
    ).sequences[0]!;
    const batch: StepBatch = {
      denials: [
        denialExample({
          completion: { promptTokens, completionTokens: seq.tokens, samplingLogprobs: seq.logprobs },
          promptMessages,
          task: "hello",
          correction: { feedback: "answer in one word" },
          renderer: env.renderer,
          tools: [],
          config: sdpoConfigFromSettings(config),
        }),
      ],
      rewards: [],
    };
    const queued = await enqueueTrainingStep({
      db: db(),
      ownerId: t.user.id,
      policyId: t.policy.id,
      lossFn: "importance_sampling",
    });
    const statuses: string[] = [];
    const done = await runtime.runNext({
      policy: t.policy,
      config,
      build: async (row) => {
        statuses.push(row.status);
        return batch;
      },
    });
    expect(statuses).toEqual(["running"]);
    expect(done).toMatchObject({ status: "done", row: { id: queued.id, status: "done", step: t.policy.version + 1 } });
    if (done?.status !== "done") throw new Error("the step did not train");
    expect(done.metrics.sdpo_step).toBe(1);
    const moved = (await getPolicyForOwner({ db: db(), id: t.policy.id, ownerId: t.user.id }))!;
    expect(moved.version).toBe(t.policy.version + 1);

    await enqueueTrainingStep({ db: db(), ownerId: t.user.id, policyId: t.policy.id, lossFn: "importance_sampling" });
    const failed = await runtime.runNext({ policy: moved, config, build: async () => ({ denials: [], rewards: [] }) });
    expect(failed).toMatchObject({
      status: "failed",
      row: { status: "failed" },
      error: "skipped: nothing to train on",
    });
    expect(await runtime.runNext({ policy: moved, config, build: async () => batch })).toBeNull();
  }, 120_000);
});
