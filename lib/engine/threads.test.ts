/**
 * The engine on 1, 2 and 4 threads: every unit of work (a chunk of a product, a block of
 * attention) is owned whole by one thread, so logits, losses, gradients and the weights after an
 * Adam step are the same bits whatever the thread count.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { adamStep } from "./adam";
import { createWasmKernels, type WasmKernels } from "./kernels/wasm-kernels";
import { randomEngine, randomizeAdapter, randomTokens, tinyConfig } from "./testing";
import { TASK_NAMES, taskId } from "./threads";
import { TASKS } from "./threads-table";
import type { Datum, LossFnName } from "../training/types";

// Large enough that products split and that attention (T = 256: over 2^20 multiply-adds per layer)
// and the rows of logits (256 × 1100, over 2^18) go to the pool.
const config = tinyConfig({
  vocabSize: 1100,
  hiddenSize: 64,
  intermediateSize: 96,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  maxPositionEmbeddings: 512,
});
const tokens = randomTokens(257, config.vocabSize, 11);
const datum: Datum = {
  modelInput: tokens.slice(0, -1),
  lossFnInputs: { targetTokens: tokens.slice(1), weights: tokens.slice(1).map((_, t) => (t < 40 ? 0 : 1)) },
};

interface Outcome {
  logprobs: Float32Array;
  losses: Record<LossFnName, number>;
  grads: Record<string, Float32Array>;
  after: Record<string, Float32Array>;
  poolRuns: Record<string, number>;
}

function run(kernels: WasmKernels): Outcome {
  const poolRuns: Record<string, number> = {};
  const spy = vi.spyOn(kernels.pool, "run");
  const engine = randomEngine(kernels, config, 3, 0.2);
  engine.createAdapter("a", { rank: 8, seed: 5 });
  randomizeAdapter(engine, "a", 7, 0.1);
  const logprobs = engine.logSoftmaxRows("a", tokens, [0, 100, 255]).slice();
  const ce = engine.forwardBackward("a", [datum], "cross_entropy").metrics["loss:sum"];
  const grads = structuredClone(engine.adapterTensors("a", "grad"));
  engine.optimStep("a", { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
  const teacher = engine.logSoftmaxRows(null, tokens, [...Array(256).keys()]);
  const kl = engine.forward(
    "a",
    [{ ...datum, lossFnInputs: { ...datum.lossFnInputs, teacherLogprobs: teacher } }],
    "reverse_kl",
  ).metrics["loss:sum"];
  const after = structuredClone(engine.adapterTensors("a"));
  for (const [job] of spy.mock.calls) poolRuns[TASK_NAMES[job.task]] = (poolRuns[TASK_NAMES[job.task]] ?? 0) + 1;
  spy.mockRestore();
  engine.dispose();
  return {
    logprobs,
    losses: { cross_entropy: ce, reverse_kl: kl } as Record<LossFnName, number>,
    grads,
    after,
    poolRuns,
  };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

let kernels: WasmKernels[] = [];
let outcomes: Outcome[] = [];

beforeAll(async () => {
  kernels = await Promise.all([1, 2, 4].map((threads) => createWasmKernels({ threads })));
  outcomes = kernels.map(run);
});
afterAll(() => {
  for (const k of kernels) k.dispose();
});

describe("the engine on 1, 2 and 4 threads", () => {
  it("runs attention and the rows of logits on the pool when there is more than one thread", () => {
    expect(outcomes[0].poolRuns).toEqual({});
    for (const outcome of outcomes.slice(1)) {
      expect(outcome.poolRuns["attention-forward"]).toBeGreaterThan(0);
      expect(outcome.poolRuns["attention-backward"]).toBeGreaterThan(0);
      // cross_entropy's pass and reverse_kl's pass (the teacher's rows come from logSoftmaxRows).
      expect(outcome.poolRuns["logit-rows"]).toBe(2);
    }
  });

  it("gives bit-identical log-probs, losses, gradients and Adam-updated weights", () => {
    const [one, ...others] = outcomes;
    for (const other of others) {
      expect(bits(other.logprobs)).toEqual(bits(one.logprobs));
      expect(other.losses).toEqual(one.losses);
      for (const name of Object.keys(one.grads)) {
        expect(bits(other.grads[name]), `gradient of ${name}`).toEqual(bits(one.grads[name]));
        expect(bits(other.after[name]), `${name} after the step`).toEqual(bits(one.after[name]));
      }
    }
    expect(Number.isFinite(one.losses.cross_entropy) && one.losses.cross_entropy > 0).toBe(true);
  });
});

describe("Adam on 1, 2 and 4 threads", () => {
  it("gives the same gradient norm, weights and moments, with the spans of large tensors on the pool", () => {
    const results = kernels.map((k) => {
      const spy = vi.spyOn(k.pool, "run");
      const tensors = [70_001, 200_000, 65_536, 3].map((n, i) => {
        // Filled in place: the pool takes only arrays in the kernels' memory.
        const value = k.alloc(n);
        for (let j = 0; j < n; j++) value[j] = Math.sin(j * 0.37 + i);
        const grad = i === 3 ? null : k.alloc(n);
        for (let j = 0; grad && j < n; j++) grad[j] = Math.cos(j * 0.11 + i) * 1e-2;
        return { value, grad, m: null, v: null };
      });
      const target = { tensors, step: 0 };
      const norms = [1, 2].map(
        () =>
          adamStep(
            target,
            { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClipNorm: 0.5 },
            k,
          ).gradNorm,
      );
      const state = tensors.flatMap((t) => [bits(t.value), bits(t.m!), bits(t.v!)]);
      const zeroed = tensors.every((t) => !t.grad || t.grad.every((g) => g === 0));
      const runs = spy.mock.calls.map(([job]) => TASK_NAMES[job.task]);
      spy.mockRestore();
      for (const t of tensors) for (const a of [t.value, t.grad, t.m, t.v]) if (a) k.free(a);
      return { norms, state, zeroed, runs };
    });
    expect(results[0].runs).toEqual([]);
    expect(results[1].runs).toEqual(["adam-norm", "adam-update", "adam-norm", "adam-update"]);
    expect(results[0].norms[0]).toBeGreaterThan(0);
    for (const r of results) expect(r.zeroed).toBe(true);
    for (const r of results.slice(1)) {
      expect(r.norms).toEqual(results[0].norms);
      expect(r.state).toEqual(results[0].state);
    }
  });
});

describe("the task table", () => {
  it("has one function per task name, at the name's id", () => {
    expect(TASKS).toHaveLength(TASK_NAMES.length);
    for (const name of TASK_NAMES) expect(typeof TASKS[taskId(name)]).toBe("function");
  });
});
