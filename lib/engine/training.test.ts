/**
 * Training behaviour of the in-thread engine on a small random model: a fresh adapter is the base
 * model, Adam drives a loss down, gradients accumulate until optimStep, saved state resumes
 * exactly, snapshots stay frozen while EMA copies follow, and dropped adapters free their memory;
 * every loss reports the learner's entropies at its weighted positions from the same pass.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import { countingKernels } from "./accounting";
import { randomEngine, randomizeAdapter, randomTokens, tinyConfig } from "./testing";
import { meanRowEntropy } from "@/lib/sdpo/metrics";
import type { AdamParams, Datum, LossFnName } from "../training/types";

const config = tinyConfig({ tieWordEmbeddings: true });
const adam: AdamParams = { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 };
const seq = randomTokens(24, config.vocabSize, 5);
const sft: Datum = {
  modelInput: seq.slice(0, -1),
  lossFnInputs: { targetTokens: seq.slice(1), weights: seq.slice(1).map((_, t) => (t < 4 ? 0 : 1)) },
};

describe("training the LoRA adapter", () => {
  it("a freshly initialised adapter (B = 0) gives exactly the base model's log-probs", () => {
    const engine = randomEngine(createJsKernels(), config);
    engine.createAdapter("a", { rank: 4, seed: 3 });
    expect(engine.computeLogprobs("a", seq)).toEqual(engine.computeLogprobs(null, seq));
  });

  it("cross-entropy on one sequence falls steadily over 20 Adam steps", () => {
    const engine = randomEngine(createJsKernels(), config);
    engine.createAdapter("a", { rank: 4, seed: 3 });
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      losses.push(engine.forwardBackward("a", [sft], "cross_entropy").metrics["loss:sum"]);
      engine.optimStep("a", adam);
    }
    expect(losses[19]).toBeLessThan(losses[0] * 0.5);
    expect(losses[5]).toBeLessThan(losses[0]);
    expect(engine.adapterInfo("a").step).toBe(20);
  });

  it("gradients accumulate across forwardBackward calls and optimStep zeroes them", () => {
    const engine = randomEngine(createJsKernels(), config);
    engine.createAdapter("a", { rank: 4, seed: 3 });
    randomizeAdapter(engine, "a", 9);
    engine.forwardBackward("a", [sft], "cross_entropy");
    const once = engine.adapterTensors("a", "grad");
    engine.forwardBackward("a", [sft], "cross_entropy");
    const twice = engine.adapterTensors("a", "grad");
    for (const n of Object.keys(once))
      for (let i = 0; i < once[n].length; i++) expect(twice[n][i]).toBeCloseTo(2 * once[n][i], 5);
    engine.optimStep("a", adam);
    for (const g of Object.values(engine.adapterTensors("a", "grad"))) expect(g.every((x) => x === 0)).toBe(true);
  });

  it("AdamW weight decay and gradient clipping change the step as torch's do", () => {
    const engine = randomEngine(createJsKernels(), config);
    engine.createAdapter("a", { rank: 2, seed: 3 });
    randomizeAdapter(engine, "a", 9);
    const before = engine.adapterTensors("a");
    engine.forwardBackward("a", [sft], "cross_entropy");
    const grads = engine.adapterTensors("a", "grad");
    const { metrics } = engine.optimStep("a", { ...adam, weightDecay: 0.1, gradClipNorm: 1e-3 });
    const after = engine.adapterTensors("a");
    const coef = Math.min(1, 1e-3 / (metrics["optim/grad_norm"] + 1e-6));
    // First step: m̂ = g, v̂ = g², so p' = p·(1 − lr·wd) − lr · g / (|g| + eps) with g clipped.
    for (const n of Object.keys(before)) {
      for (let i = 0; i < before[n].length; i++) {
        const g = grads[n][i] * coef;
        const expected =
          before[n][i] * (1 - adam.learningRate * 0.1) - (adam.learningRate * g) / (Math.abs(g) + adam.eps);
        expect(after[n][i]).toBeCloseTo(expected, 5);
      }
    }
  });

  it("a saved state resumes training exactly; weightsOnly restores weights but resets the optimizer", () => {
    const engine = randomEngine(createJsKernels(), config);
    engine.createAdapter("a", { rank: 4, seed: 3 });
    for (let i = 0; i < 3; i++) {
      engine.forwardBackward("a", [sft], "cross_entropy");
      engine.optimStep("a", adam);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lora-state-"));
    engine.saveState("a", dir);
    engine.loadState("b", dir);
    expect(engine.adapterInfo("b")).toEqual(engine.adapterInfo("a"));
    for (const id of ["a", "b"]) {
      engine.forwardBackward(id, [sft], "cross_entropy");
      engine.optimStep(id, adam);
    }
    expect(engine.adapterTensors("b")).toEqual(engine.adapterTensors("a"));
    engine.loadState("c", dir, { weightsOnly: true });
    expect(engine.adapterInfo("c").step).toBe(0);
    fs.rmSync(dir, { recursive: true });
  });

  it("a snapshot stays frozen while its source trains; an EMA copy moves toward the source", () => {
    const engine = randomEngine(createJsKernels(), config);
    engine.createAdapter("student", { rank: 4, seed: 3 });
    randomizeAdapter(engine, "student", 4);
    engine.snapshotAdapter("student", "frozen");
    engine.snapshotAdapter("student", "ema");
    const frozenBefore = engine.computeLogprobs("frozen", seq);
    engine.forwardBackward("student", [sft], "cross_entropy");
    engine.optimStep("student", adam);
    expect(engine.computeLogprobs("frozen", seq)).toEqual(frozenBefore);
    engine.emaUpdate("ema", "student", 1);
    expect(engine.adapterTensors("ema")).toEqual(engine.adapterTensors("student"));
    engine.emaUpdate("ema", "frozen", 0.25);
    const s = engine.adapterTensors("student"),
      f = engine.adapterTensors("frozen"),
      e = engine.adapterTensors("ema");
    for (const n of Object.keys(s))
      for (let i = 0; i < s[n].length; i++) expect(e[n][i]).toBeCloseTo(0.75 * s[n][i] + 0.25 * f[n][i], 6);
  });

  it("the reused workspace gives the same results as fresh buffers, whether it grows or is larger than needed", () => {
    const V = config.vocabSize;
    const datum = (n: number, seed: number): Datum => {
      const s = randomTokens(n + 1, V, seed);
      return {
        modelInput: s.slice(0, -1),
        lossFnInputs: {
          targetTokens: s.slice(1),
          weights: s.slice(1).map(() => 1),
          teacherLogprobs: new Float32Array(n * V).fill(-Math.log(V)),
        },
      };
    };
    const short = datum(6, 31),
      long = datum(70, 32);
    const run = (
      engine: ReturnType<typeof randomEngine>,
      order: Datum[],
      loss: "cross_entropy" | "reverse_kl",
    ): { losses: number[]; grads: Record<string, Float32Array> } => {
      const losses = order.map((d) => engine.forwardBackward("a", [d], loss).metrics["loss:sum"]);
      const grads = engine.adapterTensors("a", "grad");
      engine.zeroGrad("a");
      return { losses, grads };
    };
    const fresh = (): ReturnType<typeof randomEngine> => {
      const e = randomEngine(createJsKernels(), config);
      e.createAdapter("a", { rank: 4, seed: 3 });
      randomizeAdapter(e, "a", 9);
      return e;
    };
    for (const loss of ["cross_entropy", "reverse_kl"] as const) {
      const reused = fresh();
      const grown = run(reused, [short, long], loss);
      const shrunk = run(reused, [long, short], loss);
      const separate = [short, long].map((d) => run(fresh(), [d], loss));
      expect(grown.losses).toEqual(separate.map((r) => r.losses[0]));
      expect(shrunk.losses).toEqual([separate[1].losses[0], separate[0].losses[0]]);
      for (const n of Object.keys(grown.grads)) {
        for (let i = 0; i < grown.grads[n].length; i++) {
          const sum = separate[0].grads[n][i] + separate[1].grads[n][i];
          // Accumulated in float32 in the engine, summed in float64 here.
          expect(Math.abs(grown.grads[n][i] - sum)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(sum)));
          expect(Math.abs(shrunk.grads[n][i] - sum)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(sum)));
        }
      }
    }
  });

  it("dropping an adapter returns all of its memory, forward_backward's workspace included; sampling keeps only its keys and values, until the weights change", () => {
    const kernels = countingKernels(createJsKernels());
    const engine = randomEngine(kernels, config);
    const baseline = kernels.stats().liveBytes;
    engine.createAdapter("a", { rank: 8 });
    const withAdapter = kernels.stats().liveBytes;
    expect(withAdapter).toBeGreaterThan(baseline);
    engine.forwardBackward("a", [sft], "cross_entropy");
    engine.optimStep("a", adam);
    const beforeSampling = kernels.stats().liveBytes;
    engine.sample("a", seq.slice(0, 5), { maxTokens: 4, temperature: 1, seed: 1 });
    // The prefix cache keeps the 9 positions' keys and values (prompt 5 + 4 tokens), 4-byte floats.
    const kvBytes = 2 * config.numLayers * 9 * config.numKvHeads * config.headDim * 4;
    expect(kernels.stats().liveBytes).toBe(beforeSampling + kvBytes);
    expect(kernels.stats().peakBytes).toBeGreaterThan(beforeSampling + kvBytes);
    engine.snapshotAdapter("a", "snap");
    expect(kernels.stats().liveBytes).toBeGreaterThan(beforeSampling);
    engine.dropAdapter("snap");
    engine.dropAdapter("a");
    expect(kernels.stats().liveBytes).toBe(baseline);
    expect(engine.hasAdapter("a")).toBe(false);
  });
});

describe("entropies from forward_backward", () => {
  // A prompt of 10 positions and a completion of the rest; position 12 has weight but no advantage.
  const P = 10;
  const N = seq.length - 1;
  const weights = Array.from({ length: N }, (_, t) => (t >= P - 1 ? 1 : 0));
  const advantages = weights.map((w, t) => (t === 12 ? 0 : w * (t % 2 ? 0.5 : -1)));
  const weighted = weights.flatMap((w, t) => (w ? [t] : []));

  /** The entropy of engine.logSoftmaxRows at each position, as the SDPO metric computes it. */
  function rowEntropies(engine: ReturnType<typeof randomEngine>, id: string | null): number[] {
    const out = new Array<number>(N).fill(0);
    for (const t of weighted) out[t] = meanRowEntropy(engine.logSoftmaxRows(id, seq, [t]), config.vocabSize);
    return out;
  }

  function datumFor(lossFn: LossFnName, engine: ReturnType<typeof randomEngine>): Datum {
    const targetTokens = seq.slice(1);
    const logprobs = (engine.computeLogprobs(null, seq) as number[]).slice(1);
    const teacher = engine.logSoftmaxRows(null, seq, weighted); // (T, V) from P − 1
    const topk = engine.topkLogprobs(null, seq, weighted, 5);
    switch (lossFn) {
      case "cross_entropy":
        return { modelInput: seq.slice(0, -1), lossFnInputs: { targetTokens, weights } };
      case "importance_sampling":
      case "ppo":
      case "cispo":
        return { modelInput: seq.slice(0, -1), lossFnInputs: { targetTokens, weights, logprobs, advantages } };
      case "reverse_kl":
        return {
          modelInput: seq.slice(0, -1),
          lossFnInputs: { targetTokens, weights, teacherRowsStart: P - 1, teacherLogprobs: teacher },
        };
      case "topk_reverse_kl":
        return {
          modelInput: seq.slice(0, -1),
          lossFnInputs: {
            targetTokens,
            weights,
            teacherRowsStart: P - 1,
            teacherTopkIds: topk.ids,
            teacherTopkLogprobs: topk.logprobs,
          },
        };
      default: {
        const never: never = lossFn;
        throw new Error(`unknown loss ${String(never)}`);
      }
    }
  }

  const losses: LossFnName[] = [
    "cross_entropy",
    "importance_sampling",
    "ppo",
    "cispo",
    "reverse_kl",
    "topk_reverse_kl",
  ];
  it.each(losses)(
    "%s: the learner's entropy at every weighted position equals that of its log-softmax rows, 0 elsewhere; forward reports the same",
    (lossFn) => {
      const engine = randomEngine(createJsKernels(), config);
      engine.createAdapter("a", { rank: 4, seed: 3 });
      randomizeAdapter(engine, "a", 9);
      const expected = rowEntropies(engine, "a");
      const datum = datumFor(lossFn, engine);
      const trained = engine.forwardBackward("a", [datum], lossFn).lossFnOutputs[0]!.entropies!;
      const scored = engine.forward("a", [datum], lossFn).lossFnOutputs[0]!.entropies!;
      expect(trained).toHaveLength(N);
      for (const [t, h] of trained.entries()) expect(h).toBeCloseTo(expected[t]!, 5);
      expect(expected.filter((h) => h > 0.1)).toHaveLength(weighted.length);
      expect(scored).toEqual(trained);
    },
  );

  it("a policy-loss datum without weights reports entropies at its non-zero advantages", () => {
    const engine = randomEngine(createJsKernels(), config);
    const { weights: _unused, ...inputs } = datumFor("importance_sampling", engine).lossFnInputs;
    const out = engine.forward(null, [{ modelInput: seq.slice(0, -1), lossFnInputs: inputs }], "importance_sampling")
      .lossFnOutputs[0]!.entropies!;
    const expected = rowEntropies(engine, null);
    for (const [t, h] of out.entries()) expect(h).toBeCloseTo(advantages[t] ? expected[t]! : 0, 5);
  });
});
