/**
 * Causal grouped-query attention over a key/value store, forward and backward. The query heads
 * that share one key/value head are stacked into one matrix (copied into a small scratch), so each
 * block of queries costs one product per step for the whole group instead of one per head: fewer,
 * larger sgemm calls (the helper thread is woken a third as often for Qwen3's 3:1 grouping).
 * Keys live at absolute positions 0..TK-1; the T queries sit at positions pos0..pos0+T-1
 * (training: pos0 = 0, TK = T, or after a shared prefix of pos0 positions; decoding: T = 1).
 * With a thread pool, the forward pass runs its (query block, KV group) pairs and the backward
 * pass its KV groups on every thread: each unit owns whole outputs (its rows of `out` and its block
 * of weights; its group's columns of dq, dk, dv, summed over query blocks in the same order as on
 * one thread), so the result is bit for bit the same on any number of threads.
 */
import type { Kernels, TaskContext, ThreadPool } from "./kernels/types";
import { causalSoftmax } from "./ops";
import { taskId } from "./threads";

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
 * Floats of the attention-weights buffer for T queries over TK keys. Weights are stored by query
 * block, then KV group: one (group·rows, TK) matrix per (block, group), row j·rows + i holding
 * query head g·group + j at block row i.
 */
export function attentionProbsSize(NH: number, T: number, TK: number): number {
  return NH * Math.ceil(T / QUERY_BLOCK) * Math.min(QUERY_BLOCK, T) * TK;
}

/** Floats of the scratch that holds a group's stacked queries and their gradients (three matrices). */
export function attentionScratchSize(NH: number, NKV: number, HD: number): number {
  return 3 * (NH / NKV) * QUERY_BLOCK * HD;
}

/** Rows of the (·, TK) score-gradient scratch the backward pass needs. */
export function attentionGradRows(NH: number, NKV: number, T: number): number {
  return (NH / NKV) * Math.min(QUERY_BLOCK, T);
}

/** Offset of block (r0)'s weights for KV group g (blocks hold min(QUERY_BLOCK, T) rows per head, so decoding stays small). */
function blockOffset(r0: number, g: number, group: number, NH: number, T: number, TK: number): number {
  return ((r0 / QUERY_BLOCK) * NH + g * group) * Math.min(QUERY_BLOCK, T) * TK;
}

/** dst[off + (j·rows + i)·HD + d] = src[(r0 + i)·QD + (h0 + j)·HD + d]: a group's heads stacked by rows. */
function stack(
  dst: Float32Array,
  off: number,
  src: Float32Array,
  r0: number,
  rows: number,
  h0: number,
  group: number,
  QD: number,
  HD: number,
): void {
  for (let j = 0; j < group; j++) {
    for (let i = 0; i < rows; i++) {
      const s = (r0 + i) * QD + (h0 + j) * HD;
      dst.set(src.subarray(s, s + HD), off + (j * rows + i) * HD);
    }
  }
}

/** The inverse of stack: writes the stacked rows back to their heads' columns. */
function unstack(
  dst: Float32Array,
  src: Float32Array,
  off: number,
  r0: number,
  rows: number,
  h0: number,
  group: number,
  QD: number,
  HD: number,
): void {
  for (let j = 0; j < group; j++) {
    for (let i = 0; i < rows; i++) {
      const s = off + (j * rows + i) * HD;
      dst.set(src.subarray(s, s + HD), (r0 + i) * QD + (h0 + j) * HD);
    }
  }
}

/** Below this many multiply-adds in a pass, waking the threads costs more than they save (decoding stays on one). */
const PARALLEL_MIN_MACS = 1 << 20;

/** Arrays that travel to a task as (byteOffset, length) pairs. */
function addresses(arrays: Float32Array[]): number[] {
  return arrays.flatMap((a) => [a.byteOffset, a.length]);
}

/** The pool when it can take this pass: more than one thread, enough work, every array in its memory. */
function poolFor(k: Kernels, macs: number, arrays: Float32Array[]): ThreadPool | null {
  const pool = k.pool;
  if (!pool || pool.threads < 2 || macs < PARALLEL_MIN_MACS) return null;
  return arrays.every((a) => pool.shares(a)) ? pool : null;
}

/** Multiply-adds of the forward's two products per (block, group): about 2·NH·HD per visible key. */
function forwardMacs(d: AttentionDims): number {
  let visible = 0;
  for (let r0 = 0; r0 < d.T; r0 += QUERY_BLOCK)
    visible += Math.min(QUERY_BLOCK, d.T - r0) * (d.pos0 + r0 + Math.min(QUERY_BLOCK, d.T - r0));
  return 2 * d.NH * d.HD * visible;
}

/**
 * out = softmax(q kᵀ / sqrt(HD), causal) v. `probs` (attentionProbsSize) receives the attention
 * weights, zero above the causal diagonal within each query block's visible keys; columns past
 * them are never written or read (kept for the backward pass when training, scratch otherwise).
 */
export function attentionForward(
  k: Kernels,
  out: Float32Array, // (T, NH*HD)
  probs: Float32Array, // see attentionProbsSize
  q: Float32Array, // (T, NH*HD)
  keys: Float32Array, // (TK, NKV*HD)
  values: Float32Array, // (TK, NKV*HD)
  scratch: Float32Array, // attentionScratchSize
  d: AttentionDims,
): void {
  const units = Math.ceil(d.T / QUERY_BLOCK) * d.NKV;
  const macs = forwardMacs(d);
  const arrays = [out, probs, q, keys, values];
  const pool = units > 1 ? poolFor(k, macs, arrays) : null;
  if (pool) {
    const args = [...addresses(arrays), d.T, d.TK, d.pos0, d.NH, d.NKV, d.HD];
    const scratchFloats = attentionScratchSize(d.NH, d.NKV, d.HD);
    pool.run({ task: taskId("attention-forward"), args, units, scratchFloats, flops: 2 * macs });
    return;
  }
  for (let unit = 0; unit < units; unit++) forwardUnit(k, out, probs, q, keys, values, scratch, d, unit);
}

/** Unit u of the forward pass: query block ⌊u / NKV⌋ against KV group u mod NKV. */
function forwardUnit(
  k: Kernels,
  out: Float32Array,
  probs: Float32Array,
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  scratch: Float32Array,
  d: AttentionDims,
  unit: number,
): void {
  const { T, TK, pos0, NH, NKV, HD } = d;
  const QD = NH * HD,
    KVD = NKV * HD;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  const r0 = Math.floor(unit / NKV) * QUERY_BLOCK;
  const g = unit % NKV;
  const rows = Math.min(QUERY_BLOCK, T - r0);
  const stacked = group * rows;
  const visible = pos0 + r0 + rows; // keys 0..visible-1 are seen by some row of the block
  const pOff = blockOffset(r0, g, group, NH, T, TK);
  stack(scratch, 0, q, r0, rows, g * group, group, QD, HD);
  // S = Q_g k_gᵀ (group·rows, visible)
  k.sgemm({
    transA: false,
    transB: true,
    M: stacked,
    N: visible,
    K: HD,
    alpha: 1,
    A: scratch,
    lda: HD,
    B: keys,
    bOffset: g * HD,
    ldb: KVD,
    beta: 0,
    C: probs,
    cOffset: pOff,
    ldc: TK,
  });
  for (let j = 0; j < group; j++) causalSoftmax(probs, pOff + j * rows * TK, rows, TK, pos0 + r0, scale, visible);
  // O_g = P v_g (group·rows, HD), then back to each head's columns
  k.sgemm({
    transA: false,
    transB: false,
    M: stacked,
    N: HD,
    K: visible,
    alpha: 1,
    A: probs,
    aOffset: pOff,
    lda: TK,
    B: values,
    bOffset: g * HD,
    ldb: KVD,
    beta: 0,
    C: scratch,
    ldc: HD,
  });
  unstack(out, scratch, 0, r0, rows, g * group, group, QD, HD);
}

/** The forward as a pool task: args are (out, probs, q, keys, values) as address pairs, then T, TK, pos0, NH, NKV, HD. */
export function attentionForwardTask(ctx: TaskContext, args: readonly number[], unit: number): void {
  const [out, probs, q, keys, values] = views(ctx, args, 5);
  const [T, TK, pos0, NH, NKV, HD] = args.slice(10);
  forwardUnit(ctx.kernels, out, probs, q, keys, values, ctx.scratch, { T, TK, pos0, NH, NKV, HD }, unit);
}

function views(ctx: TaskContext, args: readonly number[], count: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => ctx.f32(args[2 * i], args[2 * i + 1]));
}

/**
 * Backward of attentionForward (any pos0, TK = pos0 + T), group by group and
 * block by block on stacked heads: dP = dO v_gᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)) / sqrt(HD);
 * dQ = dS k_g; dk_g += dSᵀ Q; dv_g += Pᵀ dO. dq, dk, dv are overwritten; dk and dv hold all TK
 * key positions, the first pos0 of them the gradient of keys and values the queries only read
 * (a shared prefix's, which a caller holding them fixed ignores).
 */
export function attentionBackward(
  k: Kernels,
  dq: Float32Array, // (T, NH*HD)
  dk: Float32Array, // (TK, NKV*HD)
  dv: Float32Array, // (TK, NKV*HD)
  dP: Float32Array, // (attentionGradRows, TK) scratch
  dout: Float32Array, // (T, NH*HD)
  probs: Float32Array, // as attentionForward left it
  q: Float32Array, // (T, NH*HD)
  keys: Float32Array, // (TK, NKV*HD)
  values: Float32Array, // (TK, NKV*HD)
  scratch: Float32Array, // attentionScratchSize
  d: AttentionDims,
): void {
  const KVD = d.NKV * d.HD;
  if (d.TK !== d.pos0 + d.T)
    throw new Error(`attention backward needs TK = pos0 + T, got ${d.TK} ≠ ${d.pos0} + ${d.T}`);
  dk.fill(0, 0, d.TK * KVD);
  dv.fill(0, 0, d.TK * KVD);
  // Four products per block and group, each about as large as one of the forward's two.
  const macs = 2 * forwardMacs(d);
  const arrays = [dq, dk, dv, dout, probs, q, keys, values];
  const pool = d.NKV > 1 ? poolFor(k, macs, arrays) : null;
  if (pool) {
    const args = [...addresses(arrays), d.T, d.TK, d.pos0, d.NH, d.NKV, d.HD];
    const scratchSize = attentionScratchSize(d.NH, d.NKV, d.HD);
    const scratchFloats = scratchSize + attentionGradRows(d.NH, d.NKV, d.T) * d.TK;
    pool.run({ task: taskId("attention-backward"), args, units: d.NKV, scratchFloats, flops: 2 * macs });
    return;
  }
  for (let g = 0; g < d.NKV; g++) backwardGroup(k, dq, dk, dv, dP, dout, probs, q, keys, values, scratch, d, g);
}

/** The backward as a pool task, one KV group per unit: args are the eight arrays as address pairs, then T, TK, pos0, NH, NKV, HD. */
export function attentionBackwardTask(ctx: TaskContext, args: readonly number[], unit: number): void {
  const [dq, dk, dv, dout, probs, q, keys, values] = views(ctx, args, 8);
  const [T, TK, pos0, NH, NKV, HD] = args.slice(16);
  const scratchSize = attentionScratchSize(NH, NKV, HD);
  const scratch = ctx.scratch.subarray(0, scratchSize);
  const dP = ctx.scratch.subarray(scratchSize);
  const d = { T, TK, pos0, NH, NKV, HD };
  backwardGroup(ctx.kernels, dq, dk, dv, dP, dout, probs, q, keys, values, scratch, d, unit);
}

/** KV group g of the backward pass: its heads' columns of dq and its columns of dk and dv. */
function backwardGroup(
  k: Kernels,
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
  dP: Float32Array,
  dout: Float32Array,
  probs: Float32Array,
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  scratch: Float32Array,
  d: AttentionDims,
  g: number,
): void {
  const { T, TK, pos0, NH, NKV, HD } = d;
  const QD = NH * HD,
    KVD = NKV * HD;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  const QS = 0,
    DOS = group * QUERY_BLOCK * HD,
    DQS = 2 * DOS; // offsets of stacked Q, dO, dQ in scratch
  for (let r0 = 0; r0 < T; r0 += QUERY_BLOCK) {
    const rows = Math.min(QUERY_BLOCK, T - r0);
    const stacked = group * rows;
    const visible = pos0 + r0 + rows;
    const pOff = blockOffset(r0, g, group, NH, T, TK);
    stack(scratch, QS, q, r0, rows, g * group, group, QD, HD);
    stack(scratch, DOS, dout, r0, rows, g * group, group, QD, HD);
    // dv_g[0:visible] += Pᵀ dO (visible, HD)
    k.sgemm({
      transA: true,
      transB: false,
      M: visible,
      N: HD,
      K: stacked,
      alpha: 1,
      A: probs,
      aOffset: pOff,
      lda: TK,
      B: scratch,
      bOffset: DOS,
      ldb: HD,
      beta: 1,
      C: dv,
      cOffset: g * HD,
      ldc: KVD,
    });
    // dP = dO v_gᵀ (group·rows, visible)
    k.sgemm({
      transA: false,
      transB: true,
      M: stacked,
      N: visible,
      K: HD,
      alpha: 1,
      A: scratch,
      aOffset: DOS,
      lda: HD,
      B: values,
      bOffset: g * HD,
      ldb: KVD,
      beta: 0,
      C: dP,
      ldc: TK,
    });
    // dS = P ⊙ (dP − Σ_j dP_j P_j) · scale, written into dP (entries past the diagonal are 0)
    for (let s = 0; s < stacked; s++) {
      const t = pos0 + r0 + (s % rows);
      const o = s * TK;
      const po = pOff + o;
      let dot = 0;
      for (let j = 0; j <= t; j++) dot += dP[o + j] * probs[po + j];
      for (let j = 0; j <= t; j++) dP[o + j] = probs[po + j] * (dP[o + j] - dot) * scale;
      for (let j = t + 1; j < visible; j++) dP[o + j] = 0;
    }
    // dQ = dS k_g (group·rows, HD), back to each head's columns
    k.sgemm({
      transA: false,
      transB: false,
      M: stacked,
      N: HD,
      K: visible,
      alpha: 1,
      A: dP,
      lda: TK,
      B: keys,
      bOffset: g * HD,
      ldb: KVD,
      beta: 0,
      C: scratch,
      cOffset: DQS,
      ldc: HD,
    });
    unstack(dq, scratch, DQS, r0, rows, g * group, group, QD, HD);
    // dk_g[0:visible] += dSᵀ Q (visible, HD)
    k.sgemm({
      transA: true,
      transB: false,
      M: visible,
      N: HD,
      K: stacked,
      alpha: 1,
      A: dP,
      lda: TK,
      B: scratch,
      bOffset: QS,
      ldb: HD,
      beta: 1,
      C: dk,
      cOffset: g * HD,
      ldc: KVD,
    });
  }
}
