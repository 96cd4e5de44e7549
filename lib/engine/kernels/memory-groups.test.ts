/**
 * A model spread over several kernel memories (bytes per memory capped so that every group of
 * layers lands in a memory of its own) computes exactly what it computes in one memory: log-probs,
 * samples, LoRA gradients and an optimizer step, with bf16 weights. Running out of room names sizes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine";
import { randomBaseModel } from "../weights";
import { randomizeAdapter, randomTokens, tinyConfig } from "../testing";
import type { Datum } from "../../training/types";
import { createKernels } from "./index";
import { createMemoryGroups, memoriesFor, type KernelSet, type MemoryGroups } from "./memory-groups";

// Wide enough that products take the packed (and, with threads, split) paths.
const config = tinyConfig({ numLayers: 4, hiddenSize: 64, intermediateSize: 160, vocabSize: 300, headDim: 16 });
const tokens = randomTokens(40, config.vocabSize, 3);
const datum: Datum = {
  modelInput: tokens.slice(0, -1),
  lossFnInputs: { targetTokens: tokens.slice(1), weights: tokens.slice(1).map(() => 1) },
};

/** Log-probs, a greedy continuation, LoRA gradients and the weights after one Adam step. */
function run(kernels: KernelSet) {
  const engine = new Engine(randomBaseModel(config, 7, kernels, 0.3, "bf16"), kernels);
  engine.createAdapter("a", { rank: 4, seed: 2 });
  randomizeAdapter(engine, "a", 5, 0.2);
  const logprobs = engine.computeLogprobs("a", tokens);
  const sample = engine.sample("a", tokens.slice(0, 10), { maxTokens: 6, temperature: 0 }).sequences[0].tokens;
  engine.forwardBackward("a", [datum], "cross_entropy");
  const grads = engine.adapterTensors("a", "grad");
  engine.optimStep("a", { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
  const after = engine.adapterTensors("a");
  engine.dispose();
  return { logprobs, sample, grads, after };
}

let one: KernelSet;
let split: MemoryGroups;
beforeAll(async () => {
  one = await createKernels({ threads: 1 });
  // 128 KiB of tensors per memory: about one layer of the bf16 model (85 KiB a layer, 420 KiB in all).
  split = await createMemoryGroups({
    create: () => createKernels({ threads: 1 }),
    memories: 16,
    bytesPerMemory: 128 * 1024,
  });
});
afterAll(() => {
  one.dispose();
  split.dispose();
});

describe("a model over several kernel memories", () => {
  it("computes log-probs, samples, gradients and an Adam step identical bit for bit to one memory", () => {
    const a = run(one);
    const b = run(split);
    expect(b.logprobs).toEqual(a.logprobs);
    expect(b.sample).toEqual(a.sample);
    for (const name of Object.keys(a.grads)) {
      expect(Array.from(b.grads[name]), name).toEqual(Array.from(a.grads[name]));
      expect(Array.from(b.after[name]), name).toEqual(Array.from(a.after[name]));
    }
  });

  it("really spreads the layers: each memory holds tensors, none more than its cap", () => {
    const model = randomBaseModel(config, 7, split, 0.3, "bf16");
    const live = split.liveBytes();
    const used = live.filter((b) => b > 0).length;
    expect(used).toBeGreaterThanOrEqual(4);
    for (const b of live) expect(b).toBeLessThanOrEqual(split.bytesPerMemory);
    const first = model.layers[0].q_proj;
    const last = model.layers[config.numLayers - 1].down_proj;
    expect(split.memoryOf("bits" in first ? first.bits : first)).not.toBe(
      split.memoryOf("bits" in last ? last.bits : last),
    );
    new Engine(model, split).dispose();
    expect(split.liveBytes().every((b) => b === 0)).toBe(true);
  });

  it("a model larger than every memory together fails with a message naming the sizes", async () => {
    const small = await createMemoryGroups({
      create: () => createKernels({ threads: 1 }),
      memories: 2,
      bytesPerMemory: 64 * 1024,
    });
    try {
      expect(() => randomBaseModel(config, 7, small, 0.3, "bf16")).toThrow(
        /kernel memory is full: .* more were asked for with .* held in 2 memories of at most 65536 bytes each/,
      );
      expect(() => small.alloc(32 * 1024)).toThrow(
        /a tensor of 131072 bytes is larger than one kernel memory \(65536 bytes\)/,
      );
    } finally {
      small.dispose();
    }
  });

  it("counts the memories a model needs from its bytes", () => {
    expect(memoriesFor(1.2e9)).toBe(1);
    expect(memoriesFor(3.44e9)).toBe(2);
    expect(memoriesFor(100, 40, 0)).toBe(3);
  });
});
