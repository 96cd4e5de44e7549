/**
 * Adam / AdamW on a set of trainable tensors (a LoRA adapter's, or every base weight in
 * full-parameter training), step for step as torch.optim.Adam(W) computes it: optional
 * global gradient-norm clip (torch.nn.utils.clip_grad_norm_), decoupled weight decay, moments
 * m ← m + (1−β1)(g − m), v ← β2 v + (1−β2) g², p ← p − lr/(1−β1ᵗ) · m / (sqrt(v)/sqrt(1−β2ᵗ) + ε).
 * Gradients are zeroed after the step, as Tinker's optim_step does.
 */
import type { Kernels } from "./kernels/types";
import type { AdamParams } from "../training/types";

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

export function adamStep(adapter: AdamTarget, params: AdamParams, kernels: Kernels): { gradNorm: number } {
  const { learningRate: lr, beta1, beta2, eps } = params;
  const wd = params.weightDecay ?? 0;
  // 1. Global gradient norm, and the clip coefficient (torch adds 1e-6 to the norm).
  let sq = 0;
  for (const t of adapter.tensors) if (t.grad) for (let i = 0; i < t.grad.length; i++) sq += t.grad[i] * t.grad[i];
  const gradNorm = Math.sqrt(sq);
  const clip = params.gradClipNorm ?? 0;
  const gradScale = clip > 0 ? Math.min(1, clip / (gradNorm + 1e-6)) : 1;
  // 2. Moments and update with bias correction.
  const step = adapter.step + 1;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  for (const t of adapter.tensors) {
    if (!t.m) t.m = kernels.alloc(t.value.length);
    if (!t.v) t.v = kernels.alloc(t.value.length);
    const p = t.value,
      m = t.m,
      v = t.v,
      g = t.grad;
    for (let i = 0; i < p.length; i++) {
      const gi = g ? g[i] * gradScale : 0;
      if (wd !== 0) p[i] *= 1 - lr * wd;
      m[i] += (1 - beta1) * (gi - m[i]);
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      p[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
    }
    g?.fill(0);
  }
  adapter.step = step;
  return { gradNorm };
}
