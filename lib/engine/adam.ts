/**
 * Adam / AdamW on a set of trainable tensors (a LoRA adapter's, or every base weight in
 * full-parameter training), step for step as torch.optim.Adam(W) computes it: optional
 * global gradient-norm clip (torch.nn.utils.clip_grad_norm_), decoupled weight decay, moments
 * m ← m + (1−β1)(g − m), v ← β2 v + (1−β2) g², p ← p − lr/(1−β1ᵗ) · m / (sqrt(v)/sqrt(1−β2ᵗ) + ε).
 * Gradients are zeroed after the step, as Tinker's optim_step does.
 * The tensors are cut into spans of at most SPAN floats; the gradient norm is the sum of the
 * spans' sums of squares in span order, so it is the same bits whether the spans run on one
 * thread or, for large sets of tensors, on every thread of the kernels' pool.
 */
import type { Kernels, TaskContext, ThreadPool } from "./kernels/types";
import type { AdamParams } from "../training/types";
import { taskId } from "./threads";

/** A tensor with its gradient and Adam moments (moments allocated at the first step). */
export interface TrainableTensor {
  value: Float32Array;
  grad: Float32Array | null;
  m: Float32Array | null;
  v: Float32Array | null;
}

/** What one optimizer acts on: distinct tensors (no array listed twice) and the steps taken. */
export interface AdamTarget {
  tensors: TrainableTensor[];
  step: number;
}

/** Floats per span: large enough that claiming one costs nothing next to its arithmetic. */
const SPAN = 1 << 15;
/** Below this many parameters the pool is not worth waking (the whole step takes about a millisecond). */
const PARALLEL_MIN_PARAMS = 1 << 18;

/** One span of one tensor: [from, to) of its arrays. */
interface Span {
  tensor: TrainableTensor;
  from: number;
  to: number;
}

/** Per-span constants of one step. */
interface StepConstants {
  gradScale: number;
  lr: number;
  wd: number;
  beta1: number;
  beta2: number;
  eps: number;
  stepSize: number;
  bc2Sqrt: number;
}

export function adamStep(adapter: AdamTarget, params: AdamParams, kernels: Kernels): { gradNorm: number } {
  const { learningRate: lr, beta1, beta2, eps } = params;
  const wd = params.weightDecay ?? 0;
  for (const t of adapter.tensors) {
    if (!t.m) t.m = kernels.alloc(t.value.length);
    if (!t.v) t.v = kernels.alloc(t.value.length);
  }
  const spans = spansOf(adapter.tensors);
  const pool = poolFor(kernels, adapter.tensors);
  const table = pool ? spanTable(kernels, spans) : null;
  try {
    // 1. Global gradient norm, and the clip coefficient (torch adds 1e-6 to the norm).
    const partial = new Float64Array(spans.length);
    if (pool && table) {
      pool.run({
        task: taskId("adam-norm"),
        args: [table.byteOffset, spans.length],
        units: spans.length,
        scratchFloats: 0,
        flops: 0,
      });
      partial.set(new Float64Array(table.buffer, table.byteOffset + 5 * 8 * spans.length, spans.length));
    } else {
      spans.forEach((s, i) => {
        partial[i] = s.tensor.grad ? sumSquares(s.tensor.grad, s.from, s.to) : 0;
      });
    }
    let sq = 0;
    for (const x of partial) sq += x;
    const gradNorm = Math.sqrt(sq);
    const clip = params.gradClipNorm ?? 0;
    const gradScale = clip > 0 ? Math.min(1, clip / (gradNorm + 1e-6)) : 1;
    // 2. Moments and update with bias correction.
    const step = adapter.step + 1;
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
    const c: StepConstants = { gradScale, lr, wd, beta1, beta2, eps, stepSize: lr / bc1, bc2Sqrt };
    if (pool && table) {
      const args = [table.byteOffset, spans.length, gradScale, lr, wd, beta1, beta2, eps, c.stepSize, bc2Sqrt];
      pool.run({ task: taskId("adam-update"), args, units: spans.length, scratchFloats: 0, flops: 0 });
    } else {
      for (const s of spans) updateSpan(s.tensor.value, s.tensor.grad, s.tensor.m!, s.tensor.v!, s.from, s.to, c);
    }
    adapter.step = step;
    return { gradNorm };
  } finally {
    if (table) kernels.free(table);
  }
}

function spansOf(tensors: TrainableTensor[]): Span[] {
  const spans: Span[] = [];
  for (const tensor of tensors)
    for (let from = 0; from < tensor.value.length; from += SPAN)
      spans.push({ tensor, from, to: Math.min(tensor.value.length, from + SPAN) });
  return spans;
}

function poolFor(kernels: Kernels, tensors: TrainableTensor[]): ThreadPool | null {
  const pool = kernels.pool;
  if (!pool || pool.threads < 2) return null;
  let params = 0;
  for (const t of tensors) params += t.value.length;
  if (params < PARALLEL_MIN_PARAMS) return null;
  const shared = (a: Float32Array | null) => a === null || pool.shares(a);
  return tensors.every((t) => shared(t.value) && shared(t.grad) && shared(t.m) && shared(t.v)) ? pool : null;
}

/**
 * The spans as the pool's threads read them, in the shared memory: five float64 per span (byte
 * addresses of its value, gradient (0: none), m and v, then its length), followed by one float64
 * per span for its sum of squares.
 */
function spanTable(kernels: Kernels, spans: Span[]): Float32Array {
  const table = kernels.alloc(2 * 6 * spans.length);
  const f64 = new Float64Array(table.buffer, table.byteOffset, 6 * spans.length);
  spans.forEach((s, i) => {
    const at = (a: Float32Array) => a.byteOffset + s.from * 4;
    f64.set(
      [at(s.tensor.value), s.tensor.grad ? at(s.tensor.grad) : 0, at(s.tensor.m!), at(s.tensor.v!), s.to - s.from],
      5 * i,
    );
  });
  return table;
}

function sumSquares(g: Float32Array, from: number, to: number): number {
  let sq = 0;
  for (let i = from; i < to; i++) sq += g[i] * g[i];
  return sq;
}

/** The step on [from, to) of one tensor; its gradient is zeroed there. */
function updateSpan(
  p: Float32Array,
  g: Float32Array | null,
  m: Float32Array,
  v: Float32Array,
  from: number,
  to: number,
  c: StepConstants,
): void {
  const { gradScale, lr, wd, beta1, beta2, eps, stepSize, bc2Sqrt } = c;
  for (let i = from; i < to; i++) {
    const gi = g ? g[i] * gradScale : 0;
    if (wd !== 0) p[i] *= 1 - lr * wd;
    m[i] += (1 - beta1) * (gi - m[i]);
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    p[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
  }
  g?.fill(0, from, to);
}

function spanEntry(ctx: TaskContext, tableAt: number, unit: number) {
  const row = new Float64Array(ctx.f32(tableAt + 40 * unit, 10).buffer, tableAt + 40 * unit, 5);
  const [value, grad, m, v, length] = row;
  return { value, grad, m, v, length };
}

/** Pool task: span `unit`'s sum of squares of its gradient, into the table's sums. */
export function adamNormTask(ctx: TaskContext, args: readonly number[], unit: number): void {
  const [tableAt, count] = args;
  const s = spanEntry(ctx, tableAt, unit);
  const sums = new Float64Array(ctx.f32(tableAt, 12 * count).buffer, tableAt + 40 * count, count);
  sums[unit] = s.grad ? sumSquares(ctx.f32(s.grad, s.length), 0, s.length) : 0;
}

/** Pool task: the step on span `unit`; args are the table, its length and the step's constants. */
export function adamUpdateTask(ctx: TaskContext, args: readonly number[], unit: number): void {
  const [tableAt, , gradScale, lr, wd, beta1, beta2, eps, stepSize, bc2Sqrt] = args;
  const s = spanEntry(ctx, tableAt, unit);
  const c = { gradScale, lr, wd, beta1, beta2, eps, stepSize, bc2Sqrt };
  const f = (address: number) => ctx.f32(address, s.length);
  updateSpan(f(s.value), s.grad ? f(s.grad) : null, f(s.m), f(s.v), 0, s.length, c);
}
