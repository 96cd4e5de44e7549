/**
 * Datums for the KL losses carry teacher rows for the completion's positions only: T rows from
 * position P-1, however long the prompt, and the engine reads them as the full (N, V) layout.
 */
import { describe, expect, it } from "vitest";
import { datumLoss } from "@/lib/engine/losses";
import { logSoftmaxRows } from "@/lib/engine/ops";
import { Rng } from "@/lib/engine/sampling";
import { assertDatumShape, buildDatum } from "./datum";

const QWEN3_V = 151_936;

describe("teacher rows in a datum", () => {
  it("a full_kl datum holds T rows from position P-1, the teacher's own array", () => {
    const rows = Float32Array.from([-1, -2, -3, -4, -5, -6]); // (T = 2, V = 3)
    const datum = buildDatum({
      promptTokens: [7, 8, 9, 10],
      completionTokens: [1, 2],
      samplingLogprobs: [-0.5, -0.25],
      weights: [0.5, 0.5],
      teacherRows: { logprobs: rows, vocabSize: 3 },
    });
    expect(datum).toEqual({
      modelInput: [7, 8, 9, 10, 1],
      lossFnInputs: {
        targetTokens: [8, 9, 10, 1, 2],
        logprobs: [0, 0, 0, -0.5, -0.25],
        weights: [0, 0, 0, 0.5, 0.5],
        teacherRowsStart: 3,
        teacherLogprobs: Float32Array.from([-1, -2, -3, -4, -5, -6]),
      },
    });
    expect(datum.lossFnInputs.teacherLogprobs).toBe(rows);
  });

  it("a topk_kl datum holds T rows of k ids and log-probs from position P-1", () => {
    const ids = Int32Array.from([4, 5, 6, 7]);
    const logprobs = Float32Array.from([-0.1, -2, -0.3, -1.5]);
    const datum = buildDatum({
      promptTokens: [7, 8, 9],
      completionTokens: [4, 7],
      samplingLogprobs: [-1, -1],
      teacherTopk: { ids, logprobs, k: 2 },
    });
    expect(datum.lossFnInputs).toEqual({
      targetTokens: [8, 9, 4, 7],
      logprobs: [0, 0, -1, -1],
      weights: [0, 0, 1, 1],
      teacherRowsStart: 2,
      teacherTopkIds: Int32Array.from([4, 5, 6, 7]),
      teacherTopkLogprobs: Float32Array.from([-0.1, -2, -0.3, -1.5]),
    });
  });

  it("for a 1,500-token prompt and a 40-token completion over Qwen3's vocabulary, the rows take 23 MiB instead of 892 MiB", () => {
    const P = 1500,
      T = 40;
    const datum = buildDatum({
      promptTokens: Array.from({ length: P }, (_, i) => i),
      completionTokens: Array.from({ length: T }, (_, i) => i),
      samplingLogprobs: new Array<number>(T).fill(-1),
      teacherRows: { logprobs: new Float32Array(T * QWEN3_V), vocabSize: QWEN3_V },
    });
    // 24,309,760 bytes; rows over all N = 1,539 positions took 935,318,016.
    expect(datum.lossFnInputs.teacherLogprobs!.byteLength).toBe(T * QWEN3_V * 4);
    expect(datum.lossFnInputs.teacherRowsStart).toBe(P - 1);
  });

  it("the windowed rows give the same reverse KL and gradient as the same rows spread over all N positions", () => {
    const V = 5,
      P = 3,
      T = 3;
    const rng = new Rng(4);
    const logSoftmax = (n: number) => {
      const z = Float32Array.from({ length: n * V }, () => rng.normal());
      const p = new Float32Array(n * V);
      logSoftmaxRows(z, n, V, p);
      return { logp: z, probs: p };
    };
    const teacher = logSoftmax(T).logp;
    const datum = buildDatum({
      promptTokens: [0, 1, 2],
      completionTokens: [3, 4, 0],
      samplingLogprobs: [-1, -1, -1],
      teacherRows: { logprobs: Float32Array.from(teacher), vocabSize: V },
    });
    const N = P + T - 1;
    const spread = new Float32Array(N * V);
    spread.set(teacher, (P - 1) * V);
    const { logp, probs } = logSoftmax(N);
    const win = Float32Array.from(probs);
    const full = Float32Array.from(probs);
    const a = datumLoss("reverse_kl", {}, datum.lossFnInputs, logp, win, N, V, true);
    const b = datumLoss(
      "reverse_kl",
      {},
      { ...datum.lossFnInputs, teacherRowsStart: undefined, teacherLogprobs: spread },
      logp,
      full,
      N,
      V,
      true,
    );
    expect(a).toEqual(b);
    expect(win.subarray(0, T * V)).toEqual(full.subarray(0, T * V));
  });

  it("teacher arrays that are not whole rows over [teacherRowsStart, N) are refused", () => {
    const base = { modelInput: [1, 2, 3, 4], lossFnInputs: { targetTokens: [2, 3, 4, 5] } };
    expect(() =>
      assertDatumShape({
        ...base,
        lossFnInputs: { ...base.lossFnInputs, teacherRowsStart: 1, teacherLogprobs: new Float32Array(7) },
      }),
    ).toThrow("teacher rows are not (3, V) from position 1");
    expect(() =>
      assertDatumShape({
        ...base,
        lossFnInputs: { ...base.lossFnInputs, teacherRowsStart: 4, teacherLogprobs: new Float32Array(3) },
      }),
    ).toThrow("datum teacherRowsStart 4 is not one of its 4 positions");
    expect(() =>
      assertDatumShape({
        ...base,
        lossFnInputs: {
          ...base.lossFnInputs,
          teacherRowsStart: 2,
          teacherTopkIds: new Int32Array(4),
          teacherTopkLogprobs: new Float32Array(2),
        },
      }),
    ).toThrow("teacher top-k arrays are not (2, k) from position 2");
    expect(() =>
      buildDatum({
        promptTokens: [1, 2],
        completionTokens: [3, 4],
        samplingLogprobs: [-1, -1],
        teacherRows: { logprobs: new Float32Array(5), vocabSize: 3 },
      }),
    ).toThrow("teacherRows has 5 entries for 2 completion tokens × 3");
  });
});
