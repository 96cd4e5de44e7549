/**
 * LoRA adapters on the seven Qwen3 projections: y = x Wᵀ + scaling · (x Aᵀ) Bᵀ, A (r, in), B (out, r),
 * scaling = alpha / r (alpha / sqrt(r) with rsLoRA). Initialised as PEFT does: A kaiming-uniform
 * (U(±1/sqrt(in)), from a seed), B zero, so a fresh adapter leaves the base model unchanged.
 * linearForward/linearBackward pair the base product with the adapter's; A and B get gradients, and
 * the base weight too only in full-parameter training.
 */
import type { Kernels } from "./kernels/types";
import type { ModelConfig } from "./config";
import { Rng } from "./sampling";
import { weightOperand, type Matrix } from "./matrix";

export const ALL_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type TargetModule = (typeof ALL_TARGETS)[number];

export interface LoraConfig {
  rank: number;
  alpha: number;
  targetModules: TargetModule[];
  useRslora?: boolean;
}

/** One trainable tensor with its gradient and Adam moments (allocated when first needed). */
export interface LoraTensor {
  /** PEFT's on-disk key, e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight */
  name: string;
  shape: [number, number];
  value: Float32Array;
  grad: Float32Array | null;
  m: Float32Array | null;
  v: Float32Array | null;
}

export interface LoraPair {
  A: LoraTensor; // (r, in)
  B: LoraTensor; // (out, r)
}

export interface LoraAdapter {
  config: LoraConfig;
  scaling: number;
  /** Per layer, the pairs of the targeted projections. */
  layers: Array<Partial<Record<TargetModule, LoraPair>>>;
  /** Every tensor, in a fixed order (layer, target, A then B). */
  tensors: LoraTensor[];
  /** Optimizer steps taken. */
  step: number;
}

export function moduleOf(target: TargetModule): "self_attn" | "mlp" {
  return target === "gate_proj" || target === "up_proj" || target === "down_proj" ? "mlp" : "self_attn";
}

/** (in, out) features of a projection. */
export function projectionDims(c: ModelConfig, target: TargetModule): [number, number] {
  const C = c.hiddenSize,
    Q = c.numHeads * c.headDim,
    KV = c.numKvHeads * c.headDim,
    I = c.intermediateSize;
  switch (target) {
    case "q_proj":
      return [C, Q];
    case "k_proj":
      return [C, KV];
    case "v_proj":
      return [C, KV];
    case "o_proj":
      return [Q, C];
    case "gate_proj":
      return [C, I];
    case "up_proj":
      return [C, I];
    case "down_proj":
      return [I, C];
    default: {
      const never: never = target;
      throw new Error(`unknown LoRA target ${String(never)}`);
    }
  }
}

export function peftKey(layer: number, target: TargetModule, which: "A" | "B"): string {
  return `base_model.model.model.layers.${layer}.${moduleOf(target)}.${target}.lora_${which}.weight`;
}

/** PEFT's in-memory parameter name for an on-disk key (adds the adapter name "default"). */
export function peftInMemoryName(diskKey: string): string {
  return diskKey.replace(/\.weight$/, ".default.weight");
}

export function loraScaling(config: LoraConfig): number {
  return config.useRslora ? config.alpha / Math.sqrt(config.rank) : config.alpha / config.rank;
}

export function createLora(model: ModelConfig, config: LoraConfig, seed: number, kernels: Kernels): LoraAdapter {
  for (const t of config.targetModules)
    if (!ALL_TARGETS.includes(t)) throw new Error(`unknown LoRA target module ${t}`);
  if (!(config.rank >= 1)) throw new Error(`LoRA rank must be ≥ 1, got ${config.rank}`);
  const rng = new Rng(seed);
  const adapter: LoraAdapter = { config, scaling: loraScaling(config), layers: [], tensors: [], step: 0 };
  const r = config.rank;
  for (let l = 0; l < model.numLayers; l++) {
    const pairs: Partial<Record<TargetModule, LoraPair>> = {};
    for (const target of ALL_TARGETS) {
      if (!config.targetModules.includes(target)) continue;
      const [inF, outF] = projectionDims(model, target);
      const A: LoraTensor = {
        name: peftKey(l, target, "A"),
        shape: [r, inF],
        value: kernels.alloc(r * inF),
        grad: null,
        m: null,
        v: null,
      };
      const B: LoraTensor = {
        name: peftKey(l, target, "B"),
        shape: [outF, r],
        value: kernels.alloc(outF * r),
        grad: null,
        m: null,
        v: null,
      };
      // kaiming_uniform_(a=√5) on an (r, in) matrix: bound = gain·sqrt(3/in) with gain = sqrt(2/6), i.e. 1/sqrt(in).
      const bound = 1 / Math.sqrt(inF);
      for (let i = 0; i < A.value.length; i++) A.value[i] = (2 * rng.uniform() - 1) * bound;
      pairs[target] = { A, B };
      adapter.tensors.push(A, B);
    }
    adapter.layers.push(pairs);
  }
  return adapter;
}

/** A copy of the weights only (no gradients, no optimizer state): a frozen snapshot or EMA target. */
export function cloneLoraWeights(src: LoraAdapter, kernels: Kernels): LoraAdapter {
  const byName = new Map<string, LoraTensor>();
  const tensors = src.tensors.map((t) => {
    const value = kernels.alloc(t.value.length);
    value.set(t.value);
    const copy: LoraTensor = {
      name: t.name,
      shape: [...t.shape] as [number, number],
      value,
      grad: null,
      m: null,
      v: null,
    };
    byName.set(t.name, copy);
    return copy;
  });
  const layers = src.layers.map((pairs) => {
    const out: Partial<Record<TargetModule, LoraPair>> = {};
    for (const [target, pair] of Object.entries(pairs) as Array<[TargetModule, LoraPair]>) {
      out[target] = { A: byName.get(pair.A.name)!, B: byName.get(pair.B.name)! };
    }
    return out;
  });
  return {
    config: { ...src.config, targetModules: [...src.config.targetModules] },
    scaling: src.scaling,
    layers,
    tensors,
    step: src.step,
  };
}

/** target ← target + rate · (source − target), tensor by tensor (an exponential moving average). */
export function emaLoraWeights(target: LoraAdapter, source: LoraAdapter, rate: number): void {
  if (target.tensors.length !== source.tensors.length)
    throw new Error("EMA update between adapters of different layouts");
  target.tensors.forEach((t, i) => {
    const s = source.tensors[i];
    if (s.name !== t.name || s.value.length !== t.value.length)
      throw new Error(`EMA update: tensor ${t.name} does not match ${s.name}`);
    for (let j = 0; j < t.value.length; j++) t.value[j] += rate * (s.value[j] - t.value[j]);
  });
}

export function freeLora(adapter: LoraAdapter, kernels: Kernels): void {
  for (const t of adapter.tensors) {
    kernels.free(t.value);
    if (t.grad) kernels.free(t.grad);
    if (t.m) kernels.free(t.m);
    if (t.v) kernels.free(t.v);
    t.grad = t.m = t.v = null;
  }
  adapter.tensors = [];
  adapter.layers = [];
}

export function ensureGrads(adapter: LoraAdapter, kernels: Kernels): void {
  for (const t of adapter.tensors) if (!t.grad) t.grad = kernels.alloc(t.value.length);
}

export function zeroGrads(adapter: LoraAdapter): void {
  for (const t of adapter.tensors) t.grad?.fill(0);
}

/** y = x Wᵀ (+ scaling · (x Aᵀ) Bᵀ, caching x Aᵀ in `xa` (T, r) for the backward pass). */
export function linearForward(
  k: Kernels,
  y: Float32Array, // (T, out)
  x: Float32Array, // (T, in)
  T: number,
  W: Matrix, // (out, in)
  inF: number,
  outF: number,
  lora: LoraPair | undefined,
  scaling: number,
  xa: Float32Array | null, // (T, r)
): void {
  k.sgemm({
    transA: false,
    transB: true,
    M: T,
    N: outF,
    K: inF,
    alpha: 1,
    A: x,
    lda: inF,
    ...weightOperand(W),
    ldb: inF,
    beta: 0,
    C: y,
    ldc: outF,
  });
  if (!lora || !xa) return;
  const r = lora.A.shape[0];
  k.sgemm({
    transA: false,
    transB: true,
    M: T,
    N: r,
    K: inF,
    alpha: 1,
    A: x,
    lda: inF,
    B: lora.A.value,
    ldb: inF,
    beta: 0,
    C: xa,
    ldc: r,
  });
  k.sgemm({
    transA: false,
    transB: true,
    M: T,
    N: outF,
    K: r,
    alpha: scaling,
    A: xa,
    lda: r,
    B: lora.B.value,
    ldb: r,
    beta: 1,
    C: y,
    ldc: outF,
  });
}

/**
 * Backward of linearForward: dx (+)= dy W (+ the adapter's path), gB += scaling · dyᵀ (x Aᵀ),
 * gA += (scaling · dy B)ᵀ x. The base weight W gets a gradient only when `dW` is given
 * (full-parameter training): dW += dyᵀ x. dx null skips the input gradient.
 */
export function linearBackward(
  k: Kernels,
  dx: Float32Array | null, // (T, in)
  accumulate: boolean,
  dy: Float32Array, // (T, out)
  x: Float32Array, // (T, in)
  T: number,
  W: Matrix, // (out, in)
  inF: number,
  outF: number,
  lora: LoraPair | undefined,
  scaling: number,
  xa: Float32Array | null, // (T, r) from the forward
  dxa: Float32Array | null, // (T, r) scratch
  dW: Float32Array | null = null, // (out, in)
): void {
  if (dW)
    k.sgemm({
      transA: true,
      transB: false,
      M: outF,
      N: inF,
      K: T,
      alpha: 1,
      A: dy,
      lda: outF,
      B: x,
      ldb: inF,
      beta: 1,
      C: dW,
      ldc: inF,
    });
  if (dx)
    k.sgemm({
      transA: false,
      transB: false,
      M: T,
      N: inF,
      K: outF,
      alpha: 1,
      A: dy,
      lda: outF,
      ...weightOperand(W),
      ldb: inF,
      beta: accumulate ? 1 : 0,
      C: dx,
      ldc: inF,
    });
  if (!lora || !xa || !dxa) return;
  const r = lora.A.shape[0];
  const gA = lora.A.grad!,
    gB = lora.B.grad!;
  k.sgemm({
    transA: true,
    transB: false,
    M: outF,
    N: r,
    K: T,
    alpha: scaling,
    A: dy,
    lda: outF,
    B: xa,
    ldb: r,
    beta: 1,
    C: gB,
    ldc: r,
  }); // (out, r)
  k.sgemm({
    transA: false,
    transB: false,
    M: T,
    N: r,
    K: outF,
    alpha: scaling,
    A: dy,
    lda: outF,
    B: lora.B.value,
    ldb: r,
    beta: 0,
    C: dxa,
    ldc: r,
  }); // (T, r)
  k.sgemm({
    transA: true,
    transB: false,
    M: r,
    N: inF,
    K: T,
    alpha: 1,
    A: dxa,
    lda: r,
    B: x,
    ldb: inF,
    beta: 1,
    C: gA,
    ldc: inF,
  }); // (r, in)
  if (dx)
    k.sgemm({
      transA: false,
      transB: false,
      M: T,
      N: inF,
      K: r,
      alpha: 1,
      A: dxa,
      lda: r,
      B: lora.A.value,
      ldb: inF,
      beta: 1,
      C: dx,
      ldc: inF,
    });
}
