/**
 * The element-wise parts of Qwen3, each forward paired with its backward (llm.c style): RMSNorm
 * (also applied per head to q and k), rotate-half rotary embeddings, SwiGLU, log-softmax. They are
 * linear in the activations; sums run in float64. Backward functions read what the forward cached.
 * Exponentials go through expNonPositive (about four times as fast as Math.exp, 1e-9 accurate).
 */

/** 2^(−i/32) for i in 0..4095: the table behind expNonPositive. */
const EXP_TABLE = Float64Array.from({ length: 4096 }, (_, i) => Math.pow(2, -i / 32));
const STEPS_PER_UNIT = 32 / Math.LN2;
const STEP = Math.LN2 / 32;

/**
 * e^x for x ≤ 0, about four times as fast as Math.exp, relative error below 1e-9: x = −k·ln2/32 + r
 * with |r| ≤ ln2/64, e^x = 2^(−k/32) (table) · e^r (cubic Taylor, remainder r⁴/24 < 6e-10).
 * Below −88 (under float32's smallest normal) it returns 0; NaN stays NaN. Softmax arguments
 * (x − max) are never positive, and sigmoids are written in terms of e^(−|g|).
 */
export function expNonPositive(x: number): number {
  if (!(x > -88)) return Number.isNaN(x) ? x : 0;
  const k = Math.floor(0.5 - x * STEPS_PER_UNIT);
  const r = x + k * STEP;
  return EXP_TABLE[k] * (1 + r * (1 + r * (0.5 + r * (1 / 6))));
}

/** 2^(i/32) for i in −4100..4099 (index i + 4100): e^x on both sides of 0 without a branch. */
const EXP_TABLE_SIGNED = Float64Array.from({ length: 8200 }, (_, i) => Math.pow(2, -(i - 4100) / 32));

/**
 * σ(g) = 1 / (1 + e^(−g)) with e^(−g) computed as expNonPositive does but over −g clamped to
 * ±87 (where σ is already 0 or 1 in float32), so there is no branch on the sign of g: gate values
 * are positive or negative at random, and a mispredicted branch costs more than the exponential.
 */
function sigmoid(g: number): number {
  const x = Math.min(87, Math.max(-87, -g));
  const k = Math.floor(0.5 - x * STEPS_PER_UNIT);
  const r = x + k * STEP;
  return 1 / (1 + EXP_TABLE_SIGNED[k + 4100] * (1 + r * (1 + r * (0.5 + r * (1 / 6)))));
}

/**
 * y = w · x / sqrt(mean(x²) + eps) over rows of D values. Caches 1/rms per row in `rstd`.
 * x and y may be the same array (in-place) when the backward is not needed.
 */
export function rmsnormForward(
  y: Float32Array,
  rstd: Float32Array | null,
  x: Float32Array,
  w: Float32Array,
  rows: number,
  D: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x[o + i] * x[o + i];
    const s = 1 / Math.sqrt(ss / D + eps);
    if (rstd) rstd[r] = s;
    for (let i = 0; i < D; i++) y[o + i] = w[i] * (x[o + i] * s);
  }
}

/**
 * dx (+)= dL/dx of rmsnorm given dy: dx_i = s·w_i·dy_i − s³/D · x_i · Σ_j w_j·dy_j·x_j.
 * With `accumulate` the result is added to dx (residual stream), else written. With `dw`, the
 * weight's gradient Σ_rows dy_i·x_i·s is added to it (summed in float64 first).
 */
export function rmsnormBackward(
  dx: Float32Array,
  dy: Float32Array,
  x: Float32Array,
  w: Float32Array,
  rstd: Float32Array,
  rows: number,
  D: number,
  accumulate: boolean,
  dw: Float32Array | null = null,
): void {
  const dwSum = dw ? new Float64Array(D) : null;
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    const s = rstd[r];
    let dot = 0;
    for (let i = 0; i < D; i++) dot += w[i] * dy[o + i] * x[o + i];
    const c = (s * s * s * dot) / D;
    if (accumulate) for (let i = 0; i < D; i++) dx[o + i] += s * w[i] * dy[o + i] - c * x[o + i];
    else for (let i = 0; i < D; i++) dx[o + i] = s * w[i] * dy[o + i] - c * x[o + i];
    if (dwSum) for (let i = 0; i < D; i++) dwSum[i] += dy[o + i] * x[o + i] * s;
  }
  if (dw && dwSum) for (let i = 0; i < D; i++) dw[i] += dwSum[i];
}

/** cos/sin tables (P, HD/2) for positions 0..P-1: inv_freq_i = theta^(−2i/HD), as transformers computes them. */
export function ropeTables(maxPos: number, HD: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = HD / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  const invFreq = new Float32Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / HD);
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      const f = Math.fround(p * invFreq[i]);
      cos[p * half + i] = Math.cos(f);
      sin[p * half + i] = Math.sin(f);
    }
  }
  return { cos, sin };
}

/**
 * Rotate-half RoPE in place on x (T, H·HD) for tokens at positions pos0..pos0+T-1:
 * out[i] = x[i]·cos − x[i+h]·sin, out[i+h] = x[i+h]·cos + x[i]·sin.
 * With `inverse` it applies the transpose rotation, which is the backward pass.
 */
export function rope(
  x: Float32Array,
  T: number,
  H: number,
  HD: number,
  pos0: number,
  cos: Float32Array,
  sin: Float32Array,
  inverse: boolean,
): void {
  const half = HD / 2;
  const sign = inverse ? -1 : 1;
  for (let t = 0; t < T; t++) {
    const tab = (pos0 + t) * half;
    for (let h = 0; h < H; h++) {
      const o = (t * H + h) * HD;
      for (let i = 0; i < half; i++) {
        const c = cos[tab + i];
        const s = sign * sin[tab + i];
        const a = x[o + i];
        const b = x[o + i + half];
        x[o + i] = a * c - b * s;
        x[o + i + half] = b * c + a * s;
      }
    }
  }
}

/** h = silu(gate) · up over n values. */
export function swigluForward(h: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    h[i] = g * sigmoid(g) * up[i];
  }
}

/** dgate = dh · up · silu'(gate), dup = dh · silu(gate); silu'(g) = σ(g)·(1 + g·(1 − σ(g))). */
export function swigluBackward(
  dgate: Float32Array,
  dup: Float32Array,
  dh: Float32Array,
  gate: Float32Array,
  up: Float32Array,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const sg = sigmoid(g);
    dup[i] = dh[i] * g * sg;
    dgate[i] = dh[i] * up[i] * sg * (1 + g * (1 - sg));
  }
}

/**
 * Writes the log-softmax of `rows` rows of V logits in place (float64 sums); with `probs`, also
 * the probabilities, computed from the same exponentials (one exp per entry).
 */
export function logSoftmaxRows(z: Float32Array, rows: number, V: number, probs: Float32Array | null = null): void {
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (z[o + i] > max) max = z[o + i];
    let sum = 0;
    if (probs) {
      for (let i = 0; i < V; i++) {
        const e = expNonPositive(z[o + i] - max);
        probs[o + i] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let i = 0; i < V; i++) probs[o + i] *= inv;
    } else {
      for (let i = 0; i < V; i++) sum += expNonPositive(z[o + i] - max);
    }
    const lse = max + Math.log(sum);
    for (let i = 0; i < V; i++) z[o + i] = z[o + i] - lse;
  }
}

/**
 * Softmax of each row of logits z (rows, V) in place, and each row's log-prob of its target token
 * into `lp` (log p = z_y − logsumexp(z)), from one exponential per entry. This is all that losses
 * on target log-probs need, so the (rows, V) buffer is reused for the probabilities and then for
 * dL/dlogits. Probabilities are written only where `probRows` is non-zero (true: every row, false:
 * none); other rows keep their logits and cost one pass for the log-sum-exp.
 */
export function softmaxRowsWithTargets(
  z: Float32Array,
  rows: number,
  V: number,
  targets: ArrayLike<number>,
  lp: number[],
  probRows: boolean | ArrayLike<number>,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    const y = targets[r];
    if (!(y >= 0 && y < V)) throw new Error(`target token ${y} at position ${r} is outside the vocabulary`);
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (z[o + i] > max) max = z[o + i];
    let sum = 0;
    const zy = z[o + y];
    if (probRows === true || (probRows !== false && probRows[r] !== 0)) {
      for (let i = 0; i < V; i++) {
        const e = expNonPositive(z[o + i] - max);
        z[o + i] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let i = 0; i < V; i++) z[o + i] *= inv;
    } else {
      for (let i = 0; i < V; i++) sum += expNonPositive(z[o + i] - max);
    }
    lp[r] = Math.fround(zy - (max + Math.log(sum)));
  }
}

/**
 * Row-wise causal softmax of scores S (T, TK) at `off` in place, scaled by `scale`, query t at
 * absolute position pos0+t. Entries past the diagonal are zeroed up to column `zeroUntil` only:
 * callers read no further (attention multiplies each query block by the keys it can see).
 */
export function causalSoftmax(
  s: Float32Array,
  off: number,
  T: number,
  TK: number,
  pos0: number,
  scale: number,
  zeroUntil = TK,
): void {
  for (let t = 0; t < T; t++) {
    const o = off + t * TK;
    const last = pos0 + t; // keys 0..last are visible
    let max = -Infinity;
    for (let j = o; j <= o + last; j++) if (s[j] > max) max = s[j];
    let sum = 0;
    for (let j = o; j <= o + last; j++) {
      const e = expNonPositive((s[j] - max) * scale);
      s[j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = o; j <= o + last; j++) s[j] *= inv;
    for (let j = o + last + 1; j < o + zeroUntil; j++) s[j] = 0;
  }
}
