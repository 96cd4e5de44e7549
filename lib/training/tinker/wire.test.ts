import { describe, expect, it } from "vitest";
import type { Datum } from "../types";
import { chunkDatums, combineForwardBackward } from "./chunks";
import { datumFromWire, datumToWire, lossConfigToWire, samplingParamsToWire } from "./wire";

const datum: Datum = {
  modelInput: [10, 11, 12],
  lossFnInputs: { targetTokens: [11, 12, 13], weights: [0, 1, 1], logprobs: [-1, -2, -3], advantages: [0, 0.5, -0.5] },
};

describe("wire mapping", () => {
  it("cross_entropy sends only target_tokens and weights, typed and shaped", () => {
    expect(datumToWire(datum, "cross_entropy", 0)).toEqual({
      model_input: { chunks: [{ type: "encoded_text", tokens: [10, 11, 12] }] },
      loss_fn_inputs: {
        target_tokens: { data: [11, 12, 13], dtype: "int64", shape: [3] },
        weights: { data: [0, 1, 1], dtype: "float32", shape: [3] },
      },
    });
  });

  it("importance_sampling sends target_tokens, logprobs and advantages, and the server reads them back", () => {
    const wire = datumToWire(datum, "importance_sampling", 0);
    expect(Object.keys(wire.loss_fn_inputs).sort()).toEqual(["advantages", "logprobs", "target_tokens"]);
    const { weights: _dropped, ...rest } = datum.lossFnInputs;
    expect(datumFromWire(wire)).toEqual({ modelInput: datum.modelInput, lossFnInputs: rest });
  });

  it("the server reads windowed teacher rows and teacher_rows_start back into typed rows and their first position", () => {
    const tensor = (data: number[], dtype: "int64" | "float32", shape: number[]) => ({ data, dtype, shape });
    const wire = {
      model_input: { chunks: [{ type: "encoded_text" as const, tokens: [10, 11, 12] }] },
      loss_fn_inputs: {
        target_tokens: tensor([11, 12, 13], "int64", [3]),
        weights: tensor([0, 1, 1], "float32", [3]),
        teacher_logprobs: tensor([-1, -2, -3, -4], "float32", [2, 2]),
        teacher_topk_ids: tensor([5, 6], "int64", [2, 1]),
        teacher_topk_logprobs: tensor([-0.5, -0.25], "float32", [2, 1]),
        teacher_rows_start: tensor([1], "int64", []),
      },
    };
    expect(datumFromWire(wire)).toEqual({
      modelInput: [10, 11, 12],
      lossFnInputs: {
        targetTokens: [11, 12, 13],
        weights: [0, 1, 1],
        teacherLogprobs: Float32Array.from([-1, -2, -3, -4]),
        teacherTopkIds: Int32Array.from([5, 6]),
        teacherTopkLogprobs: Float32Array.from([-0.5, -0.25]),
        teacherRowsStart: 1,
      },
    });
    for (const bad of [[], [1, 2], [-1], [0.5]]) {
      expect(() =>
        datumFromWire({
          ...wire,
          loss_fn_inputs: { ...wire.loss_fn_inputs, teacher_rows_start: tensor(bad, "int64", []) },
        }),
      ).toThrow(/teacher_rows_start must hold one non-negative integer/);
    }
  });

  it("a missing or misaligned input names the datum and the key", () => {
    expect(() =>
      datumToWire({ modelInput: [1, 2], lossFnInputs: { targetTokens: [2, 3] } }, "importance_sampling", 4),
    ).toThrow("datum 4: importance_sampling needs lossFnInputs.logprobs");
    expect(() =>
      datumToWire({ modelInput: [1, 2], lossFnInputs: { targetTokens: [2], weights: [1] } }, "cross_entropy", 0),
    ).toThrow("lossFnInputs.targetTokens has 1 entries, modelInput has 2");
  });

  it("loss config keys go snake_case, and keys Tinker does not take are refused", () => {
    expect(lossConfigToWire("ppo", { clipLowThreshold: 0.8, clipHighThreshold: 1.2 })).toEqual({
      clip_low_threshold: 0.8,
      clip_high_threshold: 1.2,
    });
    expect(lossConfigToWire("importance_sampling", {})).toBeUndefined();
    expect(() => lossConfigToWire("cross_entropy", { beta: 1 })).toThrow(/not accepted by Tinker's cross_entropy/);
  });

  it("sampling params fill Tinker's defaults and send stop as token ids", () => {
    expect(samplingParamsToWire({ maxTokens: 8, temperature: 0.7, stop: [151645], seed: 3 })).toEqual({
      max_tokens: 8,
      temperature: 0.7,
      top_k: -1,
      top_p: 1,
      stop: [151645],
      seed: 3,
    });
  });
});

describe("forward_backward chunks", () => {
  const wire = (n: number) =>
    datumToWire(
      { modelInput: Array(n).fill(1), lossFnInputs: { targetTokens: Array(n).fill(1), weights: Array(n).fill(1) } },
      "cross_entropy",
      0,
    );

  it("split at the datum count and at the estimated byte budget, an oversized datum alone", () => {
    expect(chunkDatums([wire(1), wire(1), wire(1)], 2, 1e9).map((c) => c.length)).toEqual([2, 1]);
    // each datum of n tokens ≈ 30·n bytes (tokens, targets, weights)
    expect(chunkDatums([wire(10), wire(10), wire(100), wire(1)], 1024, 700).map((c) => c.length)).toEqual([2, 1, 1]);
  });

  it("combine outputs in order and metrics by suffix, weighted by datum count", () => {
    const out = (n: number) => Array.from({ length: n }, (_, i) => ({ logprobs: [i] }));
    const combined = combineForwardBackward([
      { lossFnOutputs: out(1), metrics: { "loss:sum": 1, "a:mean": 1, "b:max": 5, "c:min": 2, "only:sum": 1 } },
      { lossFnOutputs: out(3), metrics: { "loss:sum": 2, "a:mean": 3, "b:max": 4, "c:min": 1 } },
    ]);
    expect(combined).toEqual({
      lossFnOutputs: [...out(1), ...out(3)],
      metrics: { "loss:sum": 3, "a:mean": 2.5, "b:max": 5, "c:min": 1 },
    });
  });
});
