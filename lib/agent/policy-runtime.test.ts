/**
 * The policy runtime's in-memory clients: a policy forgotten while a call is using its clients (a
 * restore, a failed step) lets that call finish, then frees the adapter; the next use opens anew.
 */
import { expect, it } from "vitest";
import { resolveConfig } from "@/lib/config/resolve";
import { forEachDriver } from "@/lib/db/test-db";
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
});
