import { describe, expect, it } from "vitest";
import { completionRowPositions, sliceCompletionLogprobs } from "./align";
import { buildDatum } from "./datum";

describe("pairing teacher log-probs with completion tokens", () => {
  // A teacher sequence of 4 prompt tokens and 3 completion tokens; entry i scores token i.
  const teacherSequence = [10, 11, 12, 13, 20, 21, 22];
  const computeLogprobs = [null, -1.1, -1.2, -1.3, -2.0, -2.1, -2.2];

  it("the completion's T log-probs are entries N..N+T-1 for a prompt of N tokens", () => {
    expect(sliceCompletionLogprobs(computeLogprobs, 4, 3)).toEqual([-2.0, -2.1, -2.2]);
    // Each value scores the token at the same index of the sequence.
    expect(sliceCompletionLogprobs(computeLogprobs, 4, 3).map((_, t) => teacherSequence[4 + t])).toEqual([20, 21, 22]);
  });

  it("a vector of the wrong length is refused rather than sliced", () => {
    expect(() => sliceCompletionLogprobs(computeLogprobs, 4, 4)).toThrow(/expected 8 log-probs/);
  });

  it("the rows that predict completion token t sit at position N-1+t", () => {
    expect(completionRowPositions(4, 3)).toEqual([3, 4, 5]);
  });

  it("the student datum puts the same token's teacher-derived advantage where that token is the target", () => {
    const teacher = sliceCompletionLogprobs(computeLogprobs, 4, 3);
    const student = [-1.5, -2.5, -1.0];
    const advantages = teacher.map((tau, t) => tau - student[t]!);
    const datum = buildDatum({
      promptTokens: [1, 2],
      completionTokens: [20, 21, 22],
      samplingLogprobs: student,
      advantages,
    });
    expect(datum).toEqual({
      modelInput: [1, 2, 20, 21],
      lossFnInputs: {
        targetTokens: [2, 20, 21, 22],
        logprobs: [0, -1.5, -2.5, -1.0],
        weights: [0, 1, 1, 1],
        advantages: [0, advantages[0], advantages[1], advantages[2]],
      },
    });
    // Position 1 predicts token 20, and carries token 20's advantage (−2.0 − −1.5).
    expect(datum.lossFnInputs.targetTokens[1]).toBe(20);
    expect(datum.lossFnInputs.advantages![1]).toBeCloseTo(-0.5, 12);
  });
});

describe("building datums", () => {
  it("a datum with mismatched advantages is refused", () => {
    expect(() =>
      buildDatum({ promptTokens: [1], completionTokens: [2, 3], samplingLogprobs: [-1, -1], advantages: [0.1] }),
    ).toThrow(/advantages has 1 entries for 2 completion tokens/);
  });

  it("teacher rows land on the completion positions: row t is position P-1+t, the one predicting completion token t", () => {
    const V = 3;
    const rows = Float32Array.from([-1, -2, -3, -4, -5, -6]);
    const datum = buildDatum({
      promptTokens: [0, 1, 2],
      completionTokens: [1, 2],
      samplingLogprobs: [-1, -1],
      teacherRows: { logprobs: rows, vocabSize: V },
    });
    expect(datum.lossFnInputs.teacherRowsStart).toBe(2);
    expect(Array.from(datum.lossFnInputs.teacherLogprobs!)).toEqual([-1, -2, -3, -4, -5, -6]);
    expect(datum.lossFnInputs.weights).toEqual([0, 0, 1, 1]);
    expect(datum.lossFnInputs.targetTokens[2]).toBe(1);
  });
});
