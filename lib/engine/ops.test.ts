/**
 * The element-wise kernels' own contracts: the fast exponential's accuracy and edge cases, SwiGLU's
 * branch-free sigmoid, the fused softmax-with-targets against the plain log-softmax, causal softmax zeroing only what its
 * callers read, and the RMSNorm weight gradient against finite differences.
 */
import { describe, expect, it } from "vitest";
import {
  causalSoftmax,
  expNonPositive,
  logSoftmaxRows,
  rmsnormBackward,
  rmsnormForward,
  softmaxRowsWithTargets,
  swigluBackward,
  swigluForward,
} from "./ops";
import { Rng } from "./sampling";

describe("element-wise operations", () => {
  it("expNonPositive is within 1e-9 of Math.exp (relative) on (−88, 0], 0 from −88 down, and NaN for NaN", () => {
    let worst = 0;
    for (let i = 0; i < 200000; i++) {
      const x = -88 * (i / 200000) ** 2;
      worst = Math.max(worst, Math.abs(expNonPositive(x) - Math.exp(x)) / Math.exp(x));
    }
    expect(worst).toBeLessThan(1e-9);
    expect(expNonPositive(0)).toBe(1);
    expect(expNonPositive(-88.5)).toBe(0);
    expect(expNonPositive(-Infinity)).toBe(0);
    expect(expNonPositive(NaN)).toBeNaN();
  });

  it("SwiGLU and its backward match the definitions with Math.exp, for large gates of either sign too", () => {
    const gate = Float32Array.from([-120, -30, -2.5, -1e-3, 0, 1e-3, 0.7, 3, 40, 95]);
    const up = Float32Array.from(gate, (_, i) => 0.5 + i * 0.25);
    const dh = Float32Array.from(gate, (_, i) => 1 - i * 0.1);
    const n = gate.length;
    const h = new Float32Array(n),
      dgate = new Float32Array(n),
      dup = new Float32Array(n);
    swigluForward(h, gate, up, n);
    swigluBackward(dgate, dup, dh, gate, up, n);
    for (let i = 0; i < n; i++) {
      const g = gate[i],
        sg = 1 / (1 + Math.exp(-g));
      expect(h[i]).toBeCloseTo(g * sg * up[i], 6);
      expect(dup[i]).toBeCloseTo(dh[i] * g * sg, 6);
      expect(dgate[i]).toBeCloseTo(dh[i] * up[i] * sg * (1 + g * (1 - sg)), 6);
    }
  });

  it("softmax with targets gives log-softmax's target log-probs, and its probabilities in place on the rows asked for", () => {
    const rng = new Rng(1);
    const N = 5,
      V = 300;
    const z = Float32Array.from({ length: N * V }, () => rng.normal() * 4);
    const targets = [0, 17, 299, 150, 3];
    const logp = Float32Array.from(z);
    const probs = new Float32Array(N * V);
    logSoftmaxRows(logp, N, V, probs);
    const lp: number[] = new Array(N);
    const inPlace = Float32Array.from(z);
    softmaxRowsWithTargets(inPlace, N, V, targets, lp, true);
    for (const [t, y] of targets.entries()) expect(lp[t]).toBeCloseTo(logp[t * V + y], 6);
    for (let i = 0; i < N * V; i++) expect(inPlace[i]).toBeCloseTo(probs[i], 7);
    const untouched = Float32Array.from(z);
    softmaxRowsWithTargets(untouched, N, V, targets, lp, false);
    expect(untouched).toEqual(z);
    const some = Float32Array.from(z);
    const lpSome: number[] = new Array(N);
    softmaxRowsWithTargets(some, N, V, targets, lpSome, [0, 1, 0, 0, 2]);
    expect(lpSome).toEqual(lp);
    for (const [r, written] of [
      [0, false],
      [1, true],
      [4, true],
      [2, false],
    ] as const) {
      expect(some.subarray(r * V, (r + 1) * V)).toEqual((written ? inPlace : z).subarray(r * V, (r + 1) * V));
    }
    expect(() => softmaxRowsWithTargets(Float32Array.from(z), N, V, [0, 1, 2, 3, V], lp, true)).toThrow(
      /outside the vocabulary/,
    );
  });

  it("causal softmax normalises each visible prefix and zeroes past the diagonal only up to zeroUntil", () => {
    const T = 4,
      TK = 8;
    const s = new Float32Array(T * TK).fill(7);
    causalSoftmax(s, 0, T, TK, 2, 0.5, 6); // queries at positions 2..5
    for (let t = 0; t < T; t++) {
      const row = Array.from(s.subarray(t * TK, t * TK + TK));
      for (let j = 0; j <= 2 + t; j++) expect(row[j]).toBeCloseTo(1 / (3 + t), 6);
      for (let j = 3 + t; j < 6; j++) expect(row[j]).toBe(0);
      for (let j = Math.max(6, 3 + t); j < TK; j++) expect(row[j]).toBe(7);
    }
  });

  it("rmsnormBackward's weight gradient matches finite differences", () => {
    const rng = new Rng(2);
    const rows = 3,
      D = 5;
    const x = Float32Array.from({ length: rows * D }, () => rng.normal());
    const w = Float32Array.from({ length: D }, () => 1 + 0.3 * rng.normal());
    const dy = Float32Array.from({ length: rows * D }, () => rng.normal());
    const y = new Float32Array(rows * D),
      rstd = new Float32Array(rows);
    rmsnormForward(y, rstd, x, w, rows, D, 1e-6);
    const dw = new Float32Array(D);
    rmsnormBackward(new Float32Array(rows * D), dy, x, w, rstd, rows, D, false, dw);
    const loss = (wv: Float32Array): number => {
      const out = new Float32Array(rows * D);
      rmsnormForward(out, null, x, wv, rows, D, 1e-6);
      return out.reduce((s, v, i) => s + v * dy[i], 0);
    };
    for (let i = 0; i < D; i++) {
      const plus = Float32Array.from(w),
        minus = Float32Array.from(w);
      plus[i] += 1e-2;
      minus[i] -= 1e-2;
      expect(dw[i]).toBeCloseTo((loss(plus) - loss(minus)) / 2e-2, 3);
    }
  });
});
