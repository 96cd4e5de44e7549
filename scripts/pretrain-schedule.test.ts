/**
 * Pretraining's batches and schedule: a batch's loss weights sum to one over its assistant
 * tokens, datums are shifted by one token, the learning rate warms up linearly and decays by a
 * cosine to its floor, and the seeded shuffle is a reproducible permutation.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "@/lib/curriculum/prng";
import { commonPrefixLength, firstPrompt, learningRate, shuffle, toDatums } from "./pretrain-schedule";

describe("pretraining batches", () => {
  it("a batch's weights sum to one over its assistant tokens, whatever the batch holds", () => {
    const { datums, weighted, tokens } = toDatums([
      { tokens: [1, 2, 3, 4], weights: [0, 0, 1, 1] },
      { tokens: [5, 6, 7], weights: [0, 1, 1] },
    ]);
    expect(weighted).toBe(4);
    expect(tokens).toBe(7);
    expect(datums[0]).toEqual({
      modelInput: [1, 2, 3],
      lossFnInputs: { targetTokens: [2, 3, 4], weights: [0, 0.25, 0.25] },
    });
    expect(datums[1]!.lossFnInputs.weights).toEqual([0.25, 0.25]);
  });

  it("a context loss weighs the other tokens from its start on the assistant tokens' scale", () => {
    const { datums } = toDatums(
      [
        { tokens: [1, 2, 3, 4, 5], weights: [0, 0, 0, 1, 0] },
        { tokens: [1, 2, 6, 7], weights: [0, 0, 1, 1] },
      ],
      { from: 2, weight: 0.5 },
    );
    // Three assistant tokens: each weighs 1/3, each other token from index 2 on half that.
    expect(datums[0]!.lossFnInputs.weights).toEqual([0, 1 / 6, 1 / 3, 1 / 6]);
    expect(datums[1]!.lossFnInputs.weights).toEqual([0, 1 / 3, 1 / 3]);
  });

  it("the tokens every episode starts with end at the first one that differs", () => {
    const e = (tokens: number[]) => ({ tokens, weights: tokens.map(() => 0) });
    expect(commonPrefixLength([e([1, 2, 3, 4]), e([1, 2, 3, 9]), e([1, 2, 5])])).toBe(2);
    expect(commonPrefixLength([e([1, 2]), e([1, 2, 3])])).toBe(2);
    expect(commonPrefixLength([])).toBe(0);
  });

  it("the first assistant turn's prompt is everything before its first weighted token", () => {
    expect(firstPrompt({ tokens: [9, 8, 7, 6, 5, 4], weights: [0, 0, 1, 1, 0, 1] })).toEqual({
      prompt: [9, 8],
      answer: [7, 6],
    });
  });

  it("the same seed shuffles to the same permutation", () => {
    const a = [...Array(20).keys()];
    const b = [...a];
    shuffle(a, new Rng(5));
    shuffle(b, new Rng(5));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    expect(a).not.toEqual([...Array(20).keys()]);
  });
});

describe("the learning-rate schedule", () => {
  it("warms up linearly, peaks, and decays by a cosine to its floor", () => {
    expect(learningRate(0, 0, 1e-2, 10, 0.1)).toBeCloseTo(1e-3);
    expect(learningRate(9, 0.05, 1e-2, 10, 0.1)).toBeCloseTo(1e-2);
    expect(learningRate(10, 0, 1e-2, 10, 0.1)).toBeCloseTo(1e-2);
    expect(learningRate(500, 0.5, 1e-2, 10, 0.1)).toBeCloseTo(5.5e-3);
    expect(learningRate(999, 1, 1e-2, 10, 0.1)).toBeCloseTo(1e-3);
    expect(learningRate(999, 2, 1e-2, 10, 0.1)).toBeCloseTo(1e-3);
  });
});
