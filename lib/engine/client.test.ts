/**
 * The engine behind its worker thread: a training round trip (forwardBackward, optimStep, sample)
 * matches the same calls made in-thread, two adapters do not interfere, dropping an adapter
 * returns its memory, full-parameter training works through it, a sample streams its tokens ahead
 * of its result, and errors come back as rejected promises.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineClient } from "./client";
import { createJsKernels } from "./kernels/js-kernels";
import { Engine } from "./engine";
import { randomBaseModel } from "./weights";
import { randomTokens, tinyConfig } from "./testing";
import type { AdamParams, Datum } from "../training/types";

const config = tinyConfig();
const seq = randomTokens(20, config.vocabSize, 9);
const adam: AdamParams = { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 };
const V = config.vocabSize;

function klDatum(): Datum {
  const N = seq.length - 1;
  const teacher = new Float32Array(N * V).fill(Math.log(1 / V));
  return {
    modelInput: seq.slice(0, -1),
    lossFnInputs: {
      targetTokens: seq.slice(1),
      weights: seq.slice(1).map((_, t) => (t < 5 ? 0 : 1)),
      teacherLogprobs: teacher,
    },
  };
}

let client: EngineClient;

beforeAll(async () => {
  client = await EngineClient.start({ model: { random: config, seed: 4 }, kernels: "js" });
});

afterAll(async () => {
  await client.close();
});

describe("EngineClient (worker thread)", () => {
  it("forwardBackward + optimStep + sample through the worker equal the same calls in-thread", async () => {
    const local = new Engine(randomBaseModel(config, 4, createJsKernels()), createJsKernels());
    local.createAdapter("a", { rank: 4, seed: 2 });
    await client.createAdapter("a", { rank: 4, seed: 2 });
    // The first step only moves B (A's gradient is zero while B = 0); two steps train both.
    let remote: Awaited<ReturnType<EngineClient["forwardBackward"]>> | undefined;
    let here: ReturnType<Engine["forwardBackward"]> | undefined;
    for (let i = 0; i < 2; i++) {
      remote = await client.forwardBackward("a", [klDatum()], "reverse_kl");
      here = local.forwardBackward("a", [klDatum()], "reverse_kl");
      expect((await client.optimStep("a", adam)).metrics).toEqual(local.optimStep("a", adam).metrics);
    }
    expect(remote).toEqual(here);
    const params = { maxTokens: 6, temperature: 1, seed: 3, numSamples: 2 };
    expect(await client.sample("a", seq.slice(0, 6), params)).toEqual(local.sample("a", seq.slice(0, 6), params));
    const rows = await client.logSoftmaxRows("a", seq, [3, 7]);
    expect(rows).toBeInstanceOf(Float32Array);
    expect(rows).toEqual(local.logSoftmaxRows("a", seq, [3, 7]));
    await client.dropAdapter("a");
  });

  it("training one adapter leaves another adapter's outputs unchanged", async () => {
    await client.createAdapter("x", { rank: 4, seed: 1 });
    await client.createAdapter("y", { rank: 4, seed: 1 });
    const before = await client.computeLogprobs("y", seq);
    const pending = [];
    for (let i = 0; i < 3; i++) {
      pending.push(client.forwardBackward("x", [klDatum()], "reverse_kl"), client.optimStep("x", adam));
    }
    await Promise.all(pending);
    expect(await client.computeLogprobs("y", seq)).toEqual(before);
    expect(await client.computeLogprobs("x", seq)).not.toEqual(before);
    expect((await client.adapterInfo("x")).step).toBe(3);
    expect((await client.adapterInfo("y")).step).toBe(0);
    await client.dropAdapter("x");
    await client.dropAdapter("y");
  });

  it("dropping an adapter returns the worker's kernel memory to where it was", async () => {
    const baseline = (await client.memoryStats())!.liveBytes;
    await client.createAdapter("m", { rank: 16 });
    await client.forwardBackward("m", [klDatum()], "reverse_kl");
    await client.optimStep("m", adam);
    expect((await client.memoryStats())!.liveBytes).toBeGreaterThan(baseline);
    await client.dropAdapter("m");
    expect((await client.memoryStats())!.liveBytes).toBe(baseline);
  });

  it("full-parameter training through a worker matches the same calls in-thread, and its saved model loads", async () => {
    const own = await EngineClient.start({ model: { random: config, seed: 5 }, kernels: "js" });
    try {
      const local = new Engine(randomBaseModel(config, 5, createJsKernels()), createJsKernels());
      const sft: Datum = {
        modelInput: seq.slice(0, -1),
        lossFnInputs: { targetTokens: seq.slice(1), weights: seq.slice(1).map(() => 1) },
      };
      local.createFullTraining();
      await own.createFullTraining();
      for (let i = 0; i < 2; i++) {
        const [remote, here] = [
          await own.fullForwardBackward([sft], "cross_entropy"),
          local.fullForwardBackward([sft], "cross_entropy"),
        ];
        expect(remote.metrics["loss:sum"]).toBe(here.metrics["loss:sum"]);
        expect((await own.fullOptimStep(adam)).metrics["optim/step"]).toBe(
          local.fullOptimStep(adam).metrics["optim/step"],
        );
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "full-client-"));
      await own.saveBaseModel(dir);
      expect(Engine.fromDirectory(dir, createJsKernels()).computeLogprobs(null, seq)).toEqual(
        local.computeLogprobs(null, seq),
      );
      fs.rmSync(dir, { recursive: true });
    } finally {
      await own.close();
    }
  });

  it("a model directory that cannot be loaded fails start() with the reason", async () => {
    await expect(EngineClient.start({ model: { dir: "/nonexistent/model" }, kernels: "js" })).rejects.toThrow(
      /config\.json|no such file/i,
    );
  });

  it("a sample's progress batches, joined, are its first sequence's tokens, and all arrive before it resolves", async () => {
    const params = { maxTokens: 120, temperature: 1, seed: 6, numSamples: 2 };
    const batches: number[][] = [];
    let resolved = false;
    const sampled = client.sample(null, seq.slice(0, 4), params, {
      onTokens: (tokens) => batches.push(resolved ? [-1] : tokens),
    });
    void sampled.then(
      () => (resolved = true),
      () => {},
    );
    const result = await sampled;
    expect(batches.flat()).toEqual(result.sequences[0]!.tokens);
    // The first token is posted alone, at once; the rest come batched.
    expect(batches[0]).toHaveLength(1);
    expect(result).toEqual(await client.sample(null, seq.slice(0, 4), params));
  });

  it("an observer that throws fails its sample, and the worker goes on serving calls", async () => {
    const failing = {
      onTokens: () => {
        throw new Error("observer broke");
      },
    };
    await expect(client.sample(null, seq.slice(0, 4), { maxTokens: 5, temperature: 0 }, failing)).rejects.toThrow(
      "observer broke",
    );
    expect(
      (await client.sample(null, seq.slice(0, 4), { maxTokens: 5, temperature: 0 })).sequences[0]!.tokens,
    ).toHaveLength(5);
  });

  it("an error in the worker rejects that call only", async () => {
    await expect(client.optimStep("missing", adam)).rejects.toThrow(/no adapter named "missing"/);
    expect(await client.hasAdapter("missing")).toBe(false);
  });
});
