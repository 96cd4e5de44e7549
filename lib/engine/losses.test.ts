/**
 * The loss definitions on hand-made distributions (no model): Tinker's sums, the ratio cap, and
 * how the top-k KL relates to the full one.
 */
import { describe, expect, it } from "vitest";
import { datumLoss } from "./losses";
import { logSoftmaxRows } from "./ops";
import { Rng } from "./sampling";
import type { LossFnInputs } from "../training/types";

const N = 4,
  V = 7;

function rows(seed: number): { logp: Float32Array; probs: Float32Array } {
  const rng = new Rng(seed);
  const logp = Float32Array.from({ length: N * V }, () => rng.normal() * 2);
  const probs = new Float32Array(N * V);
  logSoftmaxRows(logp, N, V, probs);
  return { logp, probs };
}

const targets = [1, 5, 0, 6];

describe("loss definitions", () => {
  it("cross_entropy is −Σ w·lp over the returned target log-probs", () => {
    const { logp, probs } = rows(1);
    const weights = [0, 1, 0.5, 2];
    const out = datumLoss("cross_entropy", {}, { targetTokens: targets, weights }, logp, probs, N, V, false);
    expect(out.logprobs).toEqual(targets.map((y, t) => logp[t * V + y]));
    expect(out.loss).toBeCloseTo(-weights.reduce((s, w, t) => s + w * out.logprobs[t], 0), 10);
  });

  it("importance_sampling sums −exp(lp − q)·A; with clipRatio a capped token adds −clip·A and no gradient", () => {
    const { logp, probs } = rows(2);
    const lp = targets.map((y, t) => logp[t * V + y]);
    const q = [lp[0], lp[1] - 1, lp[2] + 1, lp[3]]; // ratios 1, e, 1/e, 1
    const inputs: LossFnInputs = { targetTokens: targets, logprobs: q, advantages: [0, 2, -1, 0.5] };
    const plain = datumLoss("importance_sampling", {}, inputs, logp, Float32Array.from(probs), N, V, true);
    expect(plain.loss).toBeCloseTo(-(Math.E * 2 + Math.exp(-1) * -1 + 0.5), 5);
    expect(plain.rows).toEqual([1, 2, 3]);
    const capped = datumLoss(
      "importance_sampling",
      { clipRatio: 2 },
      inputs,
      logp,
      Float32Array.from(probs),
      N,
      V,
      true,
    );
    expect(capped.loss).toBeCloseTo(-(2 * 2 + Math.exp(-1) * -1 + 0.5), 5);
    expect(capped.rows).toEqual([2, 3]);
  });

  it("top-k reverse KL over every id equals the full-vocabulary reverse KL, gradients included", () => {
    const { logp, probs } = rows(3);
    const teacher = rows(4).logp;
    const weights = [1, 0, 0.5, 1];
    const ids = new Int32Array(N * V);
    const topLp = new Float32Array(N * V);
    for (let t = 0; t < N; t++)
      for (let j = 0; j < V; j++) {
        const id = (j * 3 + t) % V; // a different order per row
        ids[t * V + j] = id;
        topLp[t * V + j] = teacher[t * V + id];
      }
    const fullGrad = Float32Array.from(probs);
    const topGrad = Float32Array.from(probs);
    const full = datumLoss(
      "reverse_kl",
      {},
      { targetTokens: targets, weights, teacherLogprobs: teacher },
      logp,
      fullGrad,
      N,
      V,
      true,
    );
    const top = datumLoss(
      "topk_reverse_kl",
      {},
      { targetTokens: targets, weights, teacherTopkIds: ids, teacherTopkLogprobs: topLp },
      logp,
      topGrad,
      N,
      V,
      true,
    );
    expect(top.loss).toBeCloseTo(full.loss, 5);
    expect(top.rows).toEqual(full.rows);
    for (let i = 0; i < full.rows.length * V; i++) expect(topGrad[i]).toBeCloseTo(fullGrad[i], 5);
    expect(full.loss).toBeGreaterThan(0);
  });

  it("a top-k KL renormalises both distributions over the teacher's ids", () => {
    const { logp, probs } = rows(5);
    const ids = new Int32Array(N * 2);
    const topLp = new Float32Array(N * 2);
    for (let t = 0; t < N; t++) {
      ids.set([2, 4], t * 2);
      topLp.set([Math.log(0.3), Math.log(0.1)], t * 2); // renormalised: 0.75, 0.25
    }
    const out = datumLoss(
      "topk_reverse_kl",
      {},
      { targetTokens: targets, weights: [1, 0, 0, 0], teacherTopkIds: ids, teacherTopkLogprobs: topLp },
      logp,
      probs,
      N,
      V,
      false,
    );
    const a = Math.exp(logp[2]),
      b = Math.exp(logp[4]);
    const ps = [a / (a + b), b / (a + b)];
    expect(out.loss).toBeCloseTo(ps[0] * Math.log(ps[0] / 0.75) + ps[1] * Math.log(ps[1] / 0.25), 5);
  });

  it("teacher rows over a window of positions give the loss and gradients of the full layout with zero rows outside it", () => {
    const { logp, probs } = rows(7);
    const teacher = rows(8).logp;
    const weights = [0, 0, 0.5, 1]; // weighted positions 2..3; the window starts at 1
    const start = 1;
    const K = 3;
    const ids = new Int32Array(N * K);
    const topLp = new Float32Array(N * K);
    for (let t = start; t < N; t++)
      for (let s = 0; s < K; s++) {
        ids[t * K + s] = (s * 2 + t) % V;
        topLp[t * K + s] = -1 - s;
      }
    const windowed = (inputs: LossFnInputs): LossFnInputs => ({
      ...inputs,
      teacherRowsStart: start,
      teacherLogprobs: inputs.teacherLogprobs?.slice(start * V), // rows for positions 1..3
      teacherTopkIds: inputs.teacherTopkIds?.slice(start * K),
      teacherTopkLogprobs: inputs.teacherTopkLogprobs?.slice(start * K),
    });
    const zeroed = Float32Array.from(teacher).fill(0, 0, start * V);
    const cases: Array<["reverse_kl" | "topk_reverse_kl", LossFnInputs]> = [
      ["reverse_kl", { targetTokens: targets, weights, teacherLogprobs: zeroed }],
      ["topk_reverse_kl", { targetTokens: targets, weights, teacherTopkIds: ids, teacherTopkLogprobs: topLp }],
    ];
    for (const [name, inputs] of cases) {
      const fullGrad = Float32Array.from(probs);
      const windowGrad = Float32Array.from(probs);
      const full = datumLoss(name, {}, inputs, logp, fullGrad, N, V, true);
      const win = datumLoss(name, {}, windowed(inputs), logp, windowGrad, N, V, true);
      expect(win).toEqual(full);
      expect(windowGrad.subarray(0, full.rows.length * V)).toEqual(fullGrad.subarray(0, full.rows.length * V));
      expect(full.loss).toBeGreaterThan(0);
    }
    // R may stop short of the last position when no weight lies beyond it.
    const short = datumLoss(
      "reverse_kl",
      {},
      { targetTokens: targets, weights: [0, 1, 0, 0], teacherLogprobs: teacher.slice(V, 2 * V), teacherRowsStart: 1 },
      logp,
      Float32Array.from(probs),
      N,
      V,
      false,
    );
    expect(short.loss).toBeCloseTo(
      datumLoss(
        "reverse_kl",
        {},
        { targetTokens: targets, weights: [0, 1, 0, 0], teacherLogprobs: teacher },
        logp,
        Float32Array.from(probs),
        N,
        V,
        false,
      ).loss,
      10,
    );
  });

  it("a weighted position outside the teacher rows' window is refused, naming the position", () => {
    const { logp, probs } = rows(9);
    const teacher = rows(10).logp;
    const run =
      (inputs: Partial<LossFnInputs>, name: "reverse_kl" | "topk_reverse_kl" = "reverse_kl") =>
      () =>
        datumLoss(
          name,
          {},
          { targetTokens: targets, weights: [0, 1, 1, 1], ...inputs },
          logp,
          Float32Array.from(probs),
          N,
          V,
          false,
        );
    expect(run({ teacherRowsStart: 2, teacherLogprobs: teacher.slice(2 * V) })).toThrow(
      "position 1 has weight 1 but teacherLogprobs covers only positions [2, 4)",
    );
    expect(run({ teacherRowsStart: 1, teacherLogprobs: teacher.slice(V, 3 * V) })).toThrow(
      "position 3 has weight 1 but teacherLogprobs covers only positions [1, 3)",
    );
    expect(
      run(
        { teacherRowsStart: 3, teacherTopkIds: new Int32Array(2), teacherTopkLogprobs: new Float32Array(2) },
        "topk_reverse_kl",
      ),
    ).toThrow(/position 1 has weight 1 but teacherTopkIds covers only positions \[3, 4\)/);
  });

  it("teacher rows of the wrong length or from a position outside the datum are refused", () => {
    const { logp, probs } = rows(11);
    const teacher = rows(12).logp;
    const run =
      (inputs: Partial<LossFnInputs>, name: "reverse_kl" | "topk_reverse_kl" = "reverse_kl") =>
      () =>
        datumLoss(
          name,
          {},
          { targetTokens: targets, weights: [0, 0, 1, 1], ...inputs },
          logp,
          Float32Array.from(probs),
          N,
          V,
          false,
        );
    expect(run({ teacherLogprobs: teacher.slice(1) })).toThrow(
      `teacherLogprobs has ${N * V - 1} entries, not whole rows of ${V}`,
    );
    expect(run({ teacherRowsStart: 1, teacherLogprobs: teacher })).toThrow(
      "teacherLogprobs has 4 rows from position 1, more than the 3 positions left of 4",
    );
    expect(run({ teacherRowsStart: 5, teacherLogprobs: teacher.slice(0, V) })).toThrow(
      "teacherRowsStart 5 is not a position in [0, 4]",
    );
    expect(run({ teacherRowsStart: 0.5, teacherLogprobs: teacher.slice(0, V) })).toThrow(/teacherRowsStart 0.5/);
    expect(
      run(
        { teacherRowsStart: 2, teacherTopkIds: new Int32Array(5), teacherTopkLogprobs: new Float32Array(5) },
        "topk_reverse_kl",
      ),
    ).toThrow("teacherTopkIds has 5 entries, not (2, k) for positions [2, 4)");
    expect(
      run(
        { teacherRowsStart: 2, teacherTopkIds: new Int32Array(4), teacherTopkLogprobs: new Float32Array(6) },
        "topk_reverse_kl",
      ),
    ).toThrow("teacherTopkIds has 4 entries but teacherTopkLogprobs 6");
  });

  it("inputs of the wrong length are rejected with the field's name", () => {
    const { logp, probs } = rows(6);
    expect(() =>
      datumLoss("cross_entropy", {}, { targetTokens: targets, weights: [1, 1] }, logp, probs, N, V, false),
    ).toThrow(/weights/);
    expect(() =>
      datumLoss(
        "importance_sampling",
        {},
        { targetTokens: targets, advantages: [1, 1, 1, 1] },
        logp,
        probs,
        N,
        V,
        false,
      ),
    ).toThrow(/logprobs/);
  });
});
