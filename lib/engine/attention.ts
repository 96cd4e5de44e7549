/**
 * Causal grouped-query attention over a key/value store, forward and backward, one head at a time
 * through the kernels' sgemm (offsets address one head's columns, no copies). Query head h reads
 * key/value head h / (NH / NKV). Keys live at absolute positions 0..TK-1; the T queries sit at
 * positions pos0..pos0+T-1 (training: pos0 = 0, TK = T; decoding: T = 1).
 */
import type { Kernels } from "./kernels/types";
import { causalSoftmax } from "./ops";

export interface AttentionDims {
  T: number;
  TK: number;
  pos0: number;
  NH: number;
  NKV: number;
  HD: number;
}

/**
 * Query rows per block. Each block of queries only multiplies against the keys it can see, which
 * skips most of the masked upper triangle (about 44% fewer attention FLOPs at T = 512) while the
 * products stay large enough for the kernels to run near full speed.
 */
const QUERY_BLOCK = 64;

/**
 * out = softmax(q kᵀ / sqrt(HD), causal) v. `probs` (NH, T, TK) receives the attention weights,
 * zero above the causal diagonal (kept for the backward pass when training, scratch otherwise).
 */
export function attentionForward(
  k: Kernels,
  out: Float32Array, // (T, NH*HD)
  probs: Float32Array, // (NH, T, TK)
  q: Float32Array, // (T, NH*HD)
  keys: Float32Array, // (TK, NKV*HD)
  values: Float32Array, // (TK, NKV*HD)
  d: AttentionDims,
): void {
  const { T, TK, pos0, NH, NKV, HD } = d;
  const QD = NH * HD, KVD = NKV * HD;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  for (let h = 0; h < NH; h++) {
    const g = Math.floor(h / group);
    for (let r0 = 0; r0 < T; r0 += QUERY_BLOCK) {
      const rows = Math.min(QUERY_BLOCK, T - r0);
      const visible = pos0 + r0 + rows; // keys 0..visible-1 are seen by some row of the block
      const pOff = h * T * TK + r0 * TK;
      // S = q_h k_gᵀ (rows, visible)
      k.sgemm({ transA: false, transB: true, M: rows, N: visible, K: HD, alpha: 1, A: q, aOffset: r0 * QD + h * HD, lda: QD, B: keys, bOffset: g * HD, ldb: KVD, beta: 0, C: probs, cOffset: pOff, ldc: TK });
      causalSoftmax(probs, pOff, rows, TK, pos0 + r0, scale);
      // out_h = P v_g (rows, HD)
      k.sgemm({ transA: false, transB: false, M: rows, N: HD, K: visible, alpha: 1, A: probs, aOffset: pOff, lda: TK, B: values, bOffset: g * HD, ldb: KVD, beta: 0, C: out, cOffset: r0 * QD + h * HD, ldc: QD });
    }
  }
}

/**
 * Backward of attentionForward for a full causal sequence (pos0 = 0, TK = T), block by block:
 * dP = dout_h v_gᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)) / sqrt(HD); dq_h = dS k_g; dk_g += dSᵀ q_h; dv_g += Pᵀ dout_h.
 * dq, dk, dv are overwritten.
 */
export function attentionBackward(
  k: Kernels,
  dq: Float32Array, // (T, NH*HD)
  dk: Float32Array, // (T, NKV*HD)
  dv: Float32Array, // (T, NKV*HD)
  dP: Float32Array, // (T, T) scratch
  dout: Float32Array, // (T, NH*HD)
  probs: Float32Array, // (NH, T, T)
  q: Float32Array, // (T, NH*HD)
  keys: Float32Array, // (T, NKV*HD)
  values: Float32Array, // (T, NKV*HD)
  d: AttentionDims,
): void {
  const { T, NH, NKV, HD } = d;
  const QD = NH * HD, KVD = NKV * HD;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  dk.fill(0, 0, T * KVD);
  dv.fill(0, 0, T * KVD);
  for (let h = 0; h < NH; h++) {
    const g = Math.floor(h / group);
    for (let r0 = 0; r0 < T; r0 += QUERY_BLOCK) {
      const rows = Math.min(QUERY_BLOCK, T - r0);
      const visible = r0 + rows;
      const pOff = h * T * T + r0 * T;
      // dv_g[0:visible] += P_bᵀ dout_b (visible, HD)
      k.sgemm({ transA: true, transB: false, M: visible, N: HD, K: rows, alpha: 1, A: probs, aOffset: pOff, lda: T, B: dout, bOffset: r0 * QD + h * HD, ldb: QD, beta: 1, C: dv, cOffset: g * HD, ldc: KVD });
      // dP_b = dout_b v_gᵀ (rows, visible)
      k.sgemm({ transA: false, transB: true, M: rows, N: visible, K: HD, alpha: 1, A: dout, aOffset: r0 * QD + h * HD, lda: QD, B: values, bOffset: g * HD, ldb: KVD, beta: 0, C: dP, ldc: T });
      // dS = P ⊙ (dP − Σ_j dP_j P_j) · scale, written into dP (entries past the diagonal are 0)
      for (let i = 0; i < rows; i++) {
        const t = r0 + i;
        const o = i * T;
        const po = pOff + o;
        let dot = 0;
        for (let j = 0; j <= t; j++) dot += dP[o + j] * probs[po + j];
        for (let j = 0; j <= t; j++) dP[o + j] = probs[po + j] * (dP[o + j] - dot) * scale;
        for (let j = t + 1; j < visible; j++) dP[o + j] = 0;
      }
      // dq_b = dS_b k_g (rows, HD)
      k.sgemm({ transA: false, transB: false, M: rows, N: HD, K: visible, alpha: 1, A: dP, lda: T, B: keys, bOffset: g * HD, ldb: KVD, beta: 0, C: dq, cOffset: r0 * QD + h * HD, ldc: QD });
      // dk_g[0:visible] += dS_bᵀ q_b (visible, HD)
      k.sgemm({ transA: true, transB: false, M: visible, N: HD, K: rows, alpha: 1, A: dP, lda: T, B: q, bOffset: r0 * QD + h * HD, ldb: QD, beta: 1, C: dk, cOffset: g * HD, ldc: KVD });
    }
  }
}
