/**
 * Training activations that the backward recomputes (xn1, q, the attention weights, xn2 and h shared
 * by all layers) give the same gradients, bit for bit, as keeping them per layer; real model sizes
 * recompute, the default shape keeps them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernels } from "./kernels/index";
import type { Kernels } from "./kernels/types";
import { Engine } from "./engine";
import { randomBaseModel } from "./weights";
import { backward, forward, logits } from "./model";
import { allocActivations, freeActivations, trainingActivationBytes, RECOMPUTE_ABOVE_BYTES } from "./activations";
import { createKvCache, freeKvCache } from "./kv-cache";
import { embeddedDefaultConfig, randomizeAdapter, randomTokens, tinyConfig } from "./testing";
import { allocBaseWeights } from "./full-training";

const config = tinyConfig({ numLayers: 3, hiddenSize: 64, intermediateSize: 96, vocabSize: 80, headDim: 16 });
const T = 40;
const tokens = randomTokens(T, config.vocabSize, 3);

let kernels: Kernels & { dispose(): void };
beforeAll(async () => {
  kernels = await createKernels({ threads: 2 });
});
afterAll(() => kernels.dispose());

/** LoRA and base-weight gradients of one pass with the given activation policy. */
function gradients(recompute: boolean): Float32Array[] {
  const engine = new Engine(randomBaseModel(config, 5, kernels, 0.3), kernels);
  engine.createAdapter("a", { rank: 4, seed: 1 });
  randomizeAdapter(engine, "a", 2, 0.3);
  const lora = engine.loraAdapter("a");
  for (const t of lora.tensors) t.grad = kernels.alloc(t.value.length);
  const acts = allocActivations(kernels, config, T, T, 4, true, engine.rope, recompute);
  expect(acts.recomputed).toBe(recompute);
  const cache = createKvCache(config, T, kernels);
  const base = { grads: allocBaseWeights(config, kernels), tokens };
  const out = kernels.alloc(T * config.vocabSize);
  forward(kernels, engine.model, lora, tokens, cache, acts, engine.rope);
  const rows = tokens.map((_, i) => i);
  logits(kernels, engine.model, acts, T, rows, out);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(i) * 0.01; // a fixed dL/dlogits
  backward(kernels, engine.model, lora, acts, cache, T, rows, out, base);
  const grads = [
    ...lora.tensors.map((t) => Float32Array.from(t.grad!)),
    Float32Array.from(base.grads.embed_tokens),
    ...base.grads.layers.flatMap((lw) => Object.values(lw).map((g) => Float32Array.from(g))),
  ];
  freeActivations(kernels, acts);
  freeKvCache(cache, kernels);
  engine.dispose();
  return grads;
}

describe("training activations", () => {
  it("recomputing xn1, q, the attention weights, xn2 and h in the backward gives the gradients of keeping them, bit for bit", () => {
    const kept = gradients(false);
    const recomputed = gradients(true);
    expect(recomputed.length).toBe(kept.length);
    for (let i = 0; i < kept.length; i++) expect(Array.from(recomputed[i]), `tensor ${i}`).toEqual(Array.from(kept[i]));
    expect(kept.some((g) => g.some((x) => x !== 0))).toBe(true);
  });

  it("recomputes at Qwen3-0.6B's size and keeps per-layer buffers at the default shape", () => {
    const qwen06 = embeddedDefaultConfig({
      numLayers: 28,
      hiddenSize: 1024,
      intermediateSize: 3072,
      numHeads: 16,
      numKvHeads: 8,
      headDim: 128,
      vocabSize: 151936,
    });
    expect(trainingActivationBytes(qwen06, 512, 512)).toBeGreaterThan(RECOMPUTE_ABOVE_BYTES);
    expect(trainingActivationBytes(embeddedDefaultConfig(), 512, 512)).toBeLessThan(RECOMPUTE_ABOVE_BYTES);
  });
});
