/**
 * The engine's prefix cache: a call that starts with the last scored or sampled sequence skips
 * the shared positions and gets what a fresh pass gets; any weight change, another adapter or a
 * different prefix starts afresh.
 */
import { describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import type { Engine } from "./engine";
import { randomEngine, randomizeAdapter, randomTokens, tinyConfig } from "./testing";
import type { AdamParams, Datum } from "../training/types";

const config = tinyConfig({ tieWordEmbeddings: true });
const prompt = randomTokens(40, config.vocabSize, 3);
const adam: AdamParams = { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 };

function engineWithAdapter(): Engine {
  const engine = randomEngine(createJsKernels(), config);
  engine.createAdapter("a", { rank: 4 });
  randomizeAdapter(engine, "a", 9);
  return engine;
}

/** The same call on the same weights with nothing cached. */
function fresh<T>(engine: Engine, call: () => T): T {
  engine.prefix.invalidate();
  return call();
}

const close = (a: ArrayLike<number | null>, b: ArrayLike<number | null>) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(a[i] ?? 0).toBeCloseTo(b[i] ?? 0, 5);
};

describe("the prefix cache", () => {
  it("scoring a sequence that extends the last sampled one reuses its positions and gets a fresh pass's log-probs", () => {
    const engine = engineWithAdapter();
    const reply = engine.sample("a", prompt, { maxTokens: 8, temperature: 0 }).sequences[0]!.tokens;
    const longer = [...prompt, ...reply, ...randomTokens(6, config.vocabSize, 4)];
    const before = engine.prefix.reused;
    const cached = engine.computeLogprobs("a", longer);
    // Log-probs are read at every position, so only keys and values before row 0 could be reused.
    expect(engine.prefix.reused - before).toBe(0);
    const positions = longer.map((_, i) => i).slice(prompt.length);
    const reusedBefore = engine.prefix.reused;
    const rows = engine.logSoftmaxRows("a", longer, positions);
    expect(engine.prefix.reused - reusedBefore).toBe(prompt.length);
    close(
      rows,
      fresh(engine, () => engine.logSoftmaxRows("a", longer, positions)),
    );
    close(
      cached,
      fresh(engine, () => engine.computeLogprobs("a", longer)),
    );
  });

  it("a teacher prompt that shares the student's prompt reuses it for the completion's rows", () => {
    const engine = engineWithAdapter();
    const completion = engine.sample("a", prompt, { maxTokens: 6, temperature: 0 }).sequences[0]!.tokens;
    const teacher = [...prompt.slice(0, -2), ...randomTokens(5, config.vocabSize, 11), ...completion];
    const positions = completion.map((_, t) => teacher.length - completion.length - 1 + t);
    const before = engine.prefix.reused;
    const rows = engine.logSoftmaxRows("a", teacher, positions);
    expect(engine.prefix.reused - before).toBe(prompt.length - 2);
    close(
      rows,
      fresh(engine, () => engine.logSoftmaxRows("a", teacher, positions)),
    );
  });

  it("sampling a prompt that extends the last one reuses it and draws the same tokens with the same log-probs", () => {
    const engine = engineWithAdapter();
    const first = engine.sample("a", prompt, { maxTokens: 5, temperature: 0 }).sequences[0]!.tokens;
    const next = [...prompt, ...first, ...randomTokens(4, config.vocabSize, 6)];
    const before = engine.prefix.reused;
    const params = { maxTokens: 6, temperature: 1, seed: 7, numSamples: 2 };
    const cached = engine.sample("a", next, params);
    // The last sampled token was never run through the model, so its keys are not cached.
    expect(engine.prefix.reused - before).toBe(prompt.length + first.length - 1);
    const uncached = fresh(engine, () => engine.sample("a", next, params));
    expect(cached.sequences.map((s) => s.tokens)).toEqual(uncached.sequences.map((s) => s.tokens));
    for (const [i, s] of cached.sequences.entries()) close(s.logprobs, uncached.sequences[i]!.logprobs);
  });

  it("any change to the weights, another adapter or the base model starts afresh", () => {
    const engine = engineWithAdapter();
    const datum: Datum = {
      modelInput: prompt.slice(0, -1),
      lossFnInputs: { targetTokens: prompt.slice(1), weights: prompt.slice(1).map(() => 1) },
    };
    const positions = [prompt.length - 2, prompt.length - 1];
    const score = (id: string | null) => engine.logSoftmaxRows(id, prompt, positions);
    const changes: Array<[string, () => void]> = [
      ["an optimizer step", () => (engine.forwardBackward("a", [datum], "cross_entropy"), engine.optimStep("a", adam))],
      [
        "new tensors",
        () =>
          engine.setAdapterTensors(
            "a",
            Object.fromEntries(Object.entries(engine.adapterTensors("a")).map(([k, v]) => [k, v.map((x) => x * 0.5)])),
          ),
      ],
      [
        "an EMA update",
        () => (
          engine.snapshotAdapter("a", "ema"),
          randomizeAdapter(engine, "ema", 3),
          engine.emaUpdate("a", "ema", 0.5),
          engine.dropAdapter("ema")
        ),
      ],
    ];
    for (const [what, change] of changes) {
      score("a");
      change();
      const before = engine.prefix.reused;
      const after = score("a");
      expect(engine.prefix.reused - before, what).toBe(0);
      close(
        after,
        fresh(engine, () => score("a")),
      );
    }
    score("a");
    const before = engine.prefix.reused;
    score(null);
    expect(engine.prefix.reused - before).toBe(0);
  });
});
