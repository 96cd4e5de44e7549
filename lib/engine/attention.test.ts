/**
 * Blocked, head-stacked attention against a direct float64 implementation of causal GQA softmax
 * attention and its gradients, over several query blocks with a partial last one, and for
 * queries that start past position 0 (prefill after a cache, decoding one token, and training
 * after a shared prefix, whose keys and values get gradients too).
 */
import { describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import {
  attentionBackward,
  attentionForward,
  attentionGradRows,
  attentionProbsSize,
  attentionScratchSize,
  type AttentionDims,
} from "./attention";
import { Rng } from "./sampling";

const k = createJsKernels();

function randomArray(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** out, and dq, dk, dv (every key position) of Σ out ⊙ dout, computed head by head in float64. */
function reference(q: Float32Array, keys: Float32Array, values: Float32Array, dout: Float32Array, d: AttentionDims) {
  const { T, TK, pos0, NH, NKV, HD } = d;
  const QD = NH * HD,
    KVD = NKV * HD,
    group = NH / NKV,
    scale = 1 / Math.sqrt(HD);
  const out = new Float64Array(T * QD),
    dq = new Float64Array(T * QD),
    dk = new Float64Array(TK * KVD),
    dv = new Float64Array(TK * KVD);
  for (let h = 0; h < NH; h++) {
    const g = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const last = pos0 + t;
      const p = new Float64Array(last + 1);
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let x = 0; x < HD; x++) s += q[t * QD + h * HD + x] * keys[j * KVD + g * HD + x];
        p[j] = s * scale;
        max = Math.max(max, p[j]);
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) sum += p[j] = Math.exp(p[j] - max);
      for (let j = 0; j <= last; j++) p[j] /= sum;
      const dp = new Float64Array(last + 1);
      let dot = 0;
      for (let j = 0; j <= last; j++) {
        for (let x = 0; x < HD; x++) {
          out[t * QD + h * HD + x] += p[j] * values[j * KVD + g * HD + x];
          dp[j] += dout[t * QD + h * HD + x] * values[j * KVD + g * HD + x];
          dv[j * KVD + g * HD + x] += p[j] * dout[t * QD + h * HD + x];
        }
        dot += dp[j] * p[j];
      }
      for (let j = 0; j <= last; j++) {
        const ds = p[j] * (dp[j] - dot) * scale;
        for (let x = 0; x < HD; x++) {
          dq[t * QD + h * HD + x] += ds * keys[j * KVD + g * HD + x];
          dk[j * KVD + g * HD + x] += ds * q[t * QD + h * HD + x];
        }
      }
    }
  }
  return { out, dq, dk, dv };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("blocked grouped-query attention", () => {
  const NH = 6,
    NKV = 2,
    HD = 4;

  /**
   * Forward then backward on random inputs (every output buffer starts as NaN, so an entry the
   * pass leaves unwritten fails), each output checked against the float64 reference; returns dk.
   */
  function checkAgainstReference(d: AttentionDims, seed: number): Float32Array {
    const { T, TK } = d;
    const rng = new Rng(seed);
    const q = randomArray(T * NH * HD, rng),
      keys = randomArray(TK * NKV * HD, rng),
      values = randomArray(TK * NKV * HD, rng),
      dout = randomArray(T * NH * HD, rng);
    const probs = new Float32Array(attentionProbsSize(NH, T, TK)).fill(NaN);
    const scratch = new Float32Array(attentionScratchSize(NH, NKV, HD));
    const out = new Float32Array(T * NH * HD).fill(NaN);
    attentionForward(k, out, probs, q, keys, values, scratch, d);
    const dq = new Float32Array(T * NH * HD).fill(NaN),
      dk = new Float32Array(TK * NKV * HD).fill(NaN),
      dv = new Float32Array(TK * NKV * HD).fill(NaN);
    const dP = new Float32Array(attentionGradRows(NH, NKV, T) * TK).fill(NaN);
    attentionBackward(k, dq, dk, dv, dP, dout, probs, q, keys, values, scratch, d);
    const ref = reference(q, keys, values, dout, d);
    expect(maxDiff(out, ref.out, out.length)).toBeLessThan(1e-5);
    expect(maxDiff(dq, ref.dq, dq.length)).toBeLessThan(1e-4);
    expect(maxDiff(dk, ref.dk, dk.length)).toBeLessThan(1e-4);
    expect(maxDiff(dv, ref.dv, dv.length)).toBeLessThan(1e-4);
    return dk;
  }

  it("forward and backward match the direct computation over three query blocks (the last partial)", () => {
    checkAgainstReference({ T: 150, TK: 150, pos0: 0, NH, NKV, HD }, 1);
  });

  it("queries after cached positions (a 70-token chunk at position 30, one token at position 99) see every earlier key", () => {
    const rng = new Rng(2);
    const TK = 100;
    const keys = randomArray(TK * NKV * HD, rng),
      values = randomArray(TK * NKV * HD, rng);
    for (const [T, pos0] of [
      [70, 30],
      [1, 99],
    ]) {
      const d: AttentionDims = { T, TK, pos0, NH, NKV, HD };
      const q = randomArray(T * NH * HD, rng);
      const out = new Float32Array(T * NH * HD);
      attentionForward(
        k,
        out,
        new Float32Array(attentionProbsSize(NH, T, TK)),
        q,
        keys,
        values,
        new Float32Array(attentionScratchSize(NH, NKV, HD)),
        d,
      );
      expect(maxDiff(out, reference(q, keys, values, new Float32Array(T * NH * HD), d).out, out.length)).toBeLessThan(
        1e-5,
      );
    }
  });

  it("backward after a shared prefix (100 queries at position 70) gives every key's and value's gradient", () => {
    const pos0 = 70;
    const dk = checkAgainstReference({ T: 100, TK: pos0 + 100, pos0, NH, NKV, HD }, 3);
    // The prefix's keys are read by every query, so their gradient is not zero.
    expect(Math.max(...dk.subarray(0, pos0 * NKV * HD).map(Math.abs))).toBeGreaterThan(1e-3);
  });
});
