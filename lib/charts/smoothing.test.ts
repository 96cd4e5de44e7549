import { describe, expect, it } from "vitest";
import { debiasedEma } from "./smoothing";

// Reference values from TensorBoard's smoothing (tf-line-chart resmoothDataset), written out by hand:
// last = last·w + (1-w)·v; smoothed = last / (1 - w^n) over the n finite values seen so far.
describe("debiasedEma", () => {
  it("matches TensorBoard's debiased EMA on a table of values", () => {
    const raw = [1, 2, 3, 4, 10];
    const w = 0.6;
    const expected = [
      1,
      (0.4 * 1 * 0.6 + 0.4 * 2) / (1 - 0.6 ** 2),
      ((0.4 * 1 * 0.6 + 0.4 * 2) * 0.6 + 0.4 * 3) / (1 - 0.6 ** 3),
      (((0.4 * 1 * 0.6 + 0.4 * 2) * 0.6 + 0.4 * 3) * 0.6 + 0.4 * 4) / (1 - 0.6 ** 4),
      ((((0.4 * 1 * 0.6 + 0.4 * 2) * 0.6 + 0.4 * 3) * 0.6 + 0.4 * 4) * 0.6 + 0.4 * 10) / (1 - 0.6 ** 5),
    ];
    const got = debiasedEma(raw, w);
    expect(got).toHaveLength(expected.length);
    for (const [i, v] of got.entries()) expect(v).toBeCloseTo(expected[i]!, 12);
    expect(got.map((v) => Number(v.toFixed(6)))).toEqual([1, 1.625, 2.326531, 3.095588, 6.090215]);
  });

  it("the first smoothed point equals the first raw point at any weight", () => {
    for (const w of [0.1, 0.5, 0.9, 0.99]) expect(debiasedEma([7.5, 0, 0], w)[0]).toBeCloseTo(7.5, 12);
  });

  it("weight 0 returns the raw values", () => {
    expect(debiasedEma([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
  });

  it("a constant series stays exactly constant", () => {
    expect(debiasedEma([0.3, 0.3, 0.3], 0.9)).toEqual([0.3, 0.3, 0.3]);
  });

  it("non-finite values pass through and do not enter the average", () => {
    const got = debiasedEma([1, Number.NaN, 3], 0.5);
    expect(got[0]).toBe(1);
    expect(got[1]).toBeNaN();
    expect(got[2]).toBeCloseTo((0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25), 12);
  });

  it("weights above the slider's maximum are clamped to 0.99", () => {
    expect(debiasedEma([1, 2], 1.5)).toEqual(debiasedEma([1, 2], 0.99));
  });
});
