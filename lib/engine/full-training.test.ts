/**
 * Full-parameter training on tiny random models: every base tensor's gradient against central
 * finite differences of the loss (tied and untied embeddings), a loss that falls under AdamW from
 * a fresh initialisation, and saved models that load back exactly (float32) or as their bfloat16
 * rounding. LoRA training is covered, unchanged, by training.test.ts and the parity tests.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import { createKernels } from "./kernels/index";
import { countingKernels } from "./accounting";
import { Engine } from "./engine";
import { REFERENCE_FIXTURE_DIR } from "./reference-fixture";
import { Rng } from "./sampling";
import { readSafetensors, toBfloat16Bits } from "./safetensors";
import { randomEngine, randomTokens, tinyConfig } from "./testing";
import type { Datum, LossFnName } from "../training/types";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "full-training-"));
afterAll(() => fs.rmSync(tmp, { recursive: true }));

function sftDatum(n: number, vocab: number, seed: number): Datum {
  const seq = randomTokens(n + 1, vocab, seed);
  return {
    modelInput: seq.slice(0, -1),
    lossFnInputs: {
      targetTokens: seq.slice(1),
      weights: seq.slice(1).map((_, t) => (t < 2 ? 0 : 0.5 + (t % 3) * 0.5)),
    },
  };
}

/** Analytic vs central-difference derivative of the loss along a random unit direction over `names`. */
function directional(
  engine: Engine,
  data: Datum[],
  loss: LossFnName,
  names: string[],
  seed: number,
): { analytic: number; numeric: number } {
  const base = engine.baseTensors();
  engine.fullZeroGrad();
  engine.fullForwardBackward(data, loss);
  const grads = engine.baseTensors("grad");
  engine.fullZeroGrad();
  const rng = new Rng(seed);
  const dir: Record<string, Float32Array> = {};
  let norm = 0;
  for (const n of names) {
    dir[n] = Float32Array.from(base[n], () => rng.normal());
    for (const x of dir[n]) norm += x * x;
  }
  norm = Math.sqrt(norm);
  let analytic = 0;
  for (const n of names) for (let i = 0; i < dir[n].length; i++) analytic += (grads[n][i] * dir[n][i]) / norm;
  const eps = 1e-2;
  const lossAt = (sign: number): number => {
    const shifted: Record<string, Float32Array> = {};
    for (const n of names) shifted[n] = Float32Array.from(base[n], (x, i) => x + (sign * eps * dir[n][i]) / norm);
    engine.setBaseTensors(shifted);
    return engine.forward(null, data, loss).metrics["loss:sum"];
  };
  const numeric = (lossAt(1) - lossAt(-1)) / (2 * eps);
  engine.setBaseTensors(base);
  return { analytic, numeric };
}

function expectClose({ analytic, numeric }: { analytic: number; numeric: number }, label: string): void {
  expect(Math.abs(analytic), `${label}: gradient is zero`).toBeGreaterThan(1e-4);
  expect(Math.abs(analytic - numeric), `${label}: analytic ${analytic} vs numeric ${numeric}`).toBeLessThan(
    3e-4 + 2e-3 * Math.abs(numeric),
  );
}

describe("full-parameter gradients agree with finite differences of the loss", () => {
  for (const tied of [false, true]) {
    const config = tinyConfig({ tieWordEmbeddings: tied });
    const engine = randomEngine(createJsKernels(), config, 2, 0.3);
    engine.createFullTraining();
    const data = [sftDatum(11, config.vocabSize, 21), sftDatum(6, config.vocabSize, 22)];
    const names = Object.keys(engine.baseTensors());

    it(`cross_entropy, for every base tensor separately (${tied ? "tied" : "untied"} embeddings)`, () => {
      expect(names.includes("lm_head.weight")).toBe(!tied);
      expect(names).toHaveLength(2 + 11 * config.numLayers + (tied ? 0 : 1));
      for (const [i, n] of names.entries()) expectClose(directional(engine, data, "cross_entropy", [n], 300 + i), n);
    });

    it(`importance_sampling along random directions over all tensors (${tied ? "tied" : "untied"})`, () => {
      const lps = engine.forward(null, data, "cross_entropy").lossFnOutputs.map((o) => o.logprobs);
      const isData = data.map((d, i) => ({
        modelInput: d.modelInput,
        lossFnInputs: {
          targetTokens: d.lossFnInputs.targetTokens,
          logprobs: lps[i].map((lp) => lp - 0.05),
          advantages: lps[i].map((_, t) => (t % 2 ? 1 : -0.5)),
        },
      }));
      for (let s = 0; s < 2; s++)
        expectClose(directional(engine, isData, "importance_sampling", names, 70 + s), `direction ${s}`);
    });
  }

  it("the tied embedding's gradient is the sum of its input and output uses", () => {
    const untied = randomEngine(createJsKernels(), tinyConfig({ tieWordEmbeddings: false }), 4, 0.3);
    const tied = randomEngine(createJsKernels(), tinyConfig({ tieWordEmbeddings: true }), 4, 0.3);
    // Same weights in both, with lm_head equal to the embedding in the untied copy.
    const w = untied.baseTensors();
    w["lm_head.weight"] = w["model.embed_tokens.weight"];
    untied.setBaseTensors(w);
    tied.setBaseTensors(w);
    const data = [sftDatum(9, tinyConfig().vocabSize, 5)];
    for (const e of [untied, tied]) {
      e.createFullTraining();
      e.fullForwardBackward(data, "cross_entropy");
    }
    const gu = untied.baseTensors("grad"),
      gt = tied.baseTensors("grad");
    const sum = gu["model.embed_tokens.weight"].map((x, i) => x + gu["lm_head.weight"][i]);
    const got = gt["model.embed_tokens.weight"];
    for (let i = 0; i < sum.length; i++) expect(got[i]).toBeCloseTo(sum[i], 5);
  });
});

describe("full-parameter training", () => {
  it("cross-entropy on a few sequences falls steadily over 30 AdamW steps from a fresh initialisation", () => {
    const config = tinyConfig({ tieWordEmbeddings: true, vocabSize: 64, hiddenSize: 32, intermediateSize: 48 });
    const engine = Engine.fromConfig(config, createJsKernels(), { seed: 3 });
    engine.createFullTraining();
    const data = [0, 1, 2].map((i) => {
      const seq = randomTokens(25, config.vocabSize, 40 + i);
      return {
        modelInput: seq.slice(0, -1),
        lossFnInputs: { targetTokens: seq.slice(1), weights: seq.slice(1).map(() => 1) },
      };
    });
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      losses.push(engine.fullForwardBackward(data, "cross_entropy").metrics["loss:sum"]);
      const { metrics } = engine.fullOptimStep({
        learningRate: 1e-2,
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weightDecay: 0.01,
        gradClipNorm: 1,
      });
      expect(metrics["optim/step"]).toBe(step + 1);
    }
    // A fresh model (weights of std 0.02) predicts almost uniformly: the loss starts near 72·ln(64).
    expect(Math.abs(losses[0] / (72 * Math.log(64)) - 1)).toBeLessThan(0.01);
    expect(losses[29]).toBeLessThan(losses[0] * 0.5);
    for (let i = 5; i < 30; i += 5) expect(losses[i]).toBeLessThan(losses[i - 5]);
  });

  it("the fast kernels give the reference kernels' base gradients", async () => {
    const fast = await createKernels();
    try {
      const config = tinyConfig({ hiddenSize: 40, intermediateSize: 72, vocabSize: 200 });
      const data = [sftDatum(70, config.vocabSize, 12)];
      const grads = [randomEngine(createJsKernels(), config, 7, 0.3), randomEngine(fast, config, 7, 0.3)].map((e) => {
        e.createFullTraining();
        e.fullForwardBackward(data, "cross_entropy");
        return e.baseTensors("grad");
      });
      for (const [name, g] of Object.entries(grads[0])) {
        let scale = 0,
          diff = 0;
        for (let i = 0; i < g.length; i++) {
          scale = Math.max(scale, Math.abs(g[i]));
          diff = Math.max(diff, Math.abs(g[i] - grads[1][name][i]));
        }
        expect(scale, name).toBeGreaterThan(0);
        expect(diff / scale, name).toBeLessThan(1e-4);
      }
    } finally {
      fast.dispose();
    }
  });

  it("LoRA adapters see the trained base weights; dropping full training frees its memory", () => {
    const kernels = countingKernels(createJsKernels());
    const engine = randomEngine(kernels, tinyConfig(), 6, 0.3);
    const seq = randomTokens(10, tinyConfig().vocabSize, 8);
    const before = engine.computeLogprobs(null, seq);
    engine.prefix.invalidate(); // the scored sequence's keys and values are not full training's
    const baseline = kernels.stats().liveBytes;
    engine.createFullTraining();
    engine.fullForwardBackward([sftDatum(9, tinyConfig().vocabSize, 8)], "cross_entropy");
    engine.fullOptimStep({ learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    engine.createAdapter("a", { rank: 2 });
    expect(engine.computeLogprobs("a", seq)).toEqual(engine.computeLogprobs(null, seq));
    expect(engine.computeLogprobs(null, seq)).not.toEqual(before);
    engine.dropAdapter("a");
    engine.dropFullTraining();
    engine.prefix.invalidate();
    expect(kernels.stats().liveBytes).toBe(baseline);
  });
});

describe("saving the base model as a Hugging Face directory", () => {
  for (const tied of [false, true]) {
    it(`float32 saves load back with identical log-probs and weights (${tied ? "tied" : "untied"})`, () => {
      const config = tinyConfig({ tieWordEmbeddings: tied });
      const engine = randomEngine(createJsKernels(), config, 9, 0.3);
      const dir = path.join(tmp, `f32-${tied}`);
      engine.saveBaseModel(dir);
      const loaded = Engine.fromDirectory(dir, createJsKernels());
      const seq = randomTokens(14, config.vocabSize, 3);
      expect(loaded.computeLogprobs(null, seq)).toEqual(engine.computeLogprobs(null, seq));
      expect(loaded.baseTensors()).toEqual(engine.baseTensors());
      expect(loaded.config).toEqual(engine.config);
      const keys = Object.keys(Object.fromEntries(readSafetensors(path.join(dir, "model.safetensors"))));
      expect(keys.includes("lm_head.weight")).toBe(!tied);
      expect(keys).toContain("model.layers.1.self_attn.q_norm.weight");
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
      expect(cfg).toMatchObject({
        model_type: "qwen3",
        architectures: ["Qwen3ForCausalLM"],
        torch_dtype: "float32",
        dtype: "float32",
        tie_word_embeddings: tied,
        head_dim: config.headDim,
      });
      // Every field transformers itself wrote into the reference fixture's config is present.
      const reference = JSON.parse(fs.readFileSync(path.join(REFERENCE_FIXTURE_DIR, "config.json"), "utf8"));
      expect(Object.keys(reference).filter((key) => key !== "transformers_version" && !(key in cfg))).toEqual([]);
    });
  }

  it("bfloat16 saves store every weight rounded to nearest-even bfloat16, and load back as exactly those values", () => {
    const engine = randomEngine(createJsKernels(), tinyConfig(), 10, 0.3);
    const dir = path.join(tmp, "bf16");
    engine.saveBaseModel(dir, "bfloat16");
    const stored = readSafetensors(path.join(dir, "model.safetensors"));
    for (const t of stored.values()) expect(t.dtype).toBe("BF16");
    expect(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).torch_dtype).toBe("bfloat16");
    const loaded = Engine.fromDirectory(dir, createJsKernels()).baseTensors();
    for (const [name, w] of Object.entries(engine.baseTensors())) {
      const expected = new Float32Array(new Uint32Array(Array.from(toBfloat16Bits(w), (b) => b << 16)).buffer);
      expect(loaded[name], name).toEqual(expected);
    }
  });

  it("bfloat16 rounding is to nearest, ties to even, and keeps NaN a NaN", () => {
    const bits = (x: number): number => toBfloat16Bits(Float32Array.of(x))[0];
    expect(bits(1)).toBe(0x3f80);
    expect(bits(-3)).toBe(0xc040);
    const f = (u: number): number => new Float32Array(Uint32Array.of(u).buffer)[0];
    expect(bits(f(0x3f808000))).toBe(0x3f80); // tie, even stays
    expect(bits(f(0x3f818000))).toBe(0x3f82); // tie, odd rounds up
    expect(bits(f(0x3f808001))).toBe(0x3f81); // above the tie
    expect(Number.isNaN(new Float32Array(Uint32Array.of(bits(NaN) << 16).buffer)[0])).toBe(true);
  });
});
