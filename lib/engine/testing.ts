/**
 * Small random models and data for the engine's own tests and benchmarks (not parity: parity runs
 * against Hugging Face's numbers). Shapes are deliberately awkward: head_dim·heads ≠ hidden size,
 * grouped-query attention, untied embeddings unless asked.
 */
import type { ModelConfig } from "./config";
import type { Kernels } from "./kernels/types";
import { Engine } from "./engine";
import { randomBaseModel } from "./weights";
import { Rng } from "./sampling";

export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    vocabSize: 48,
    hiddenSize: 16,
    intermediateSize: 24,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 6,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: false,
    ...overrides,
  };
}

/** The size of the embedded default model (benchmarks). */
export function embeddedDefaultConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return tinyConfig({
    vocabSize: 6144,
    hiddenSize: 192,
    intermediateSize: 512,
    numLayers: 6,
    numHeads: 6,
    numKvHeads: 2,
    headDim: 32,
    maxPositionEmbeddings: 4096,
    ropeTheta: 1e6,
    ...overrides,
  });
}

/** An engine over a random model whose weights are large enough (std) to give peaked distributions. */
export function randomEngine(kernels: Kernels, config: ModelConfig = tinyConfig(), seed = 1, std = 0.3): Engine {
  return new Engine(randomBaseModel(config, seed, kernels, std), kernels);
}

export function randomTokens(n: number, vocab: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Math.floor(rng.uniform() * vocab));
}

/** Gives every LoRA tensor of an adapter random values (B is zero after PEFT initialisation). */
export function randomizeAdapter(engine: Engine, id: string, seed: number, scale = 0.3): void {
  const rng = new Rng(seed);
  const tensors = engine.adapterTensors(id);
  for (const t of Object.values(tensors)) for (let i = 0; i < t.length; i++) t[i] = rng.normal() * scale;
  engine.setAdapterTensors(id, tensors);
}
