/**
 * Full-parameter training of the base model an engine holds (pretraining a small model from
 * scratch): a gradient for every base weight (embeddings, projections, q/k norms, layer norms,
 * final norm, lm_head), AdamW over all of them, the same losses as LoRA training, and the trained
 * model saved as a Hugging Face Qwen3 directory. A tied embedding gets its gradient from both of
 * its uses because the gradient of lm_head is the same array as the embedding's.
 */
import fs from "node:fs";
import path from "node:path";
import type { Kernels } from "./kernels/types";
import type { AdamParams, Datum, ForwardBackwardResult, LossFnConfig, LossFnName } from "../training/types";
import type { ModelConfig } from "./config";
import { toHfConfig } from "./config";
import { namedBaseTensors, type BaseWeights, type LayerWeights } from "./weights";
import { float32Values, isHalf, widenedCopy, type Matrix } from "./matrix";
import { adamStep, type TrainableTensor } from "./adam";
import { datumPass, type PassContext } from "./loss-pass";
import type { SharedPrefix } from "./shared-prefix";
import { writeSafetensors, type TensorToWrite } from "./safetensors";

export type SavedDtype = "float32" | "bfloat16";

/** Zero-filled tensors in the model's layout (lm_head shares embed_tokens' array when tied). */
export function allocBaseWeights(c: ModelConfig, kernels: Kernels): BaseWeights<Float32Array> {
  const C = c.hiddenSize,
    I = c.intermediateSize,
    HD = c.headDim,
    QD = c.numHeads * HD,
    KVD = c.numKvHeads * HD,
    V = c.vocabSize;
  const layer = (): LayerWeights<Float32Array> => ({
    input_layernorm: kernels.alloc(C),
    q_proj: kernels.alloc(QD * C),
    k_proj: kernels.alloc(KVD * C),
    v_proj: kernels.alloc(KVD * C),
    o_proj: kernels.alloc(C * QD),
    q_norm: kernels.alloc(HD),
    k_norm: kernels.alloc(HD),
    post_attention_layernorm: kernels.alloc(C),
    gate_proj: kernels.alloc(I * C),
    up_proj: kernels.alloc(I * C),
    down_proj: kernels.alloc(C * I),
  });
  const embed = kernels.alloc(V * C);
  return {
    embed_tokens: embed,
    layers: Array.from({ length: c.numLayers }, layer),
    norm: kernels.alloc(C),
    lm_head: c.tieWordEmbeddings ? embed : kernels.alloc(V * C),
  };
}

/** Gradients and Adam state for every base weight, by checkpoint name. */
export class FullTraining {
  readonly grads: BaseWeights<Float32Array>;
  private readonly optim: { step: number; tensors: Array<TrainableTensor & { name: string }> };

  constructor(private readonly ctx: PassContext) {
    const { model, kernels } = ctx;
    this.grads = allocBaseWeights(model.config, kernels);
    const values = namedBaseTensors(model);
    const grads = namedBaseTensors({ config: model.config, ...this.grads });
    this.optim = {
      step: 0,
      tensors: Object.keys(values).map((name) => ({
        name,
        value: float32Values(values[name].data, "full-parameter training"),
        grad: grads[name].data,
        m: null,
        v: null,
      })),
    };
  }

  get step(): number {
    return this.optim.step;
  }

  /**
   * Adds every datum's base-weight gradients (accumulating until optimStep) and returns losses and
   * log-probs; with a shared prefix, each datum runs after its fixed keys and values.
   */
  forwardBackward(
    datums: Datum[],
    lossFn: LossFnName,
    lossFnConfig: LossFnConfig = {},
    prefix: SharedPrefix | null = null,
  ): ForwardBackwardResult {
    const outputs: ForwardBackwardResult["lossFnOutputs"] = [];
    let lossSum = 0;
    for (const datum of datums) {
      const grads = { kind: "base" as const, grads: this.grads };
      const d = datumPass(this.ctx, null, datum, lossFn, lossFnConfig, grads, prefix);
      lossSum += d.loss;
      outputs.push({ logprobs: d.logprobs });
    }
    return { lossFnOutputs: outputs, metrics: { "loss:sum": lossSum } };
  }

  /** One AdamW step over every base weight (decay applies to all of them); gradients are zeroed after. */
  optimStep(params: AdamParams): { metrics: Record<string, number> } {
    const { gradNorm } = adamStep(this.optim, params, this.ctx.kernels);
    return { metrics: { "optim/grad_norm": gradNorm, "optim/lr": params.learningRate, "optim/step": this.optim.step } };
  }

  zeroGrad(): void {
    for (const t of this.optim.tensors) t.grad?.fill(0);
  }

  /** Copies of the base weights' gradients under their checkpoint names. */
  gradTensors(): Record<string, Float32Array> {
    return Object.fromEntries(this.optim.tensors.map((t) => [t.name, Float32Array.from(t.grad!)]));
  }

  free(): void {
    const k = this.ctx.kernels;
    for (const t of this.optim.tensors) {
      for (const a of [t.grad, t.m, t.v]) if (a) k.free(a);
      t.grad = t.m = t.v = null;
    }
    this.optim.tensors = [];
  }
}

/**
 * Writes a Hugging Face Qwen3 directory: config.json and model.safetensors with the checkpoint's
 * key names (no lm_head.weight when tied, as transformers saves them), float32 or bfloat16.
 */
export function saveHfModel(
  model: { config: ModelConfig } & BaseWeights<Matrix>,
  dir: string,
  dtype: SavedDtype = "float32",
  initializerRange = 0.02,
): void {
  fs.mkdirSync(dir, { recursive: true });
  const stored = dtype === "bfloat16" ? "BF16" : "F32";
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, { shape, data }] of Object.entries(namedBaseTensors(model))) {
    // bfloat16 matrices are written as they are; anything else goes through float32.
    if (isHalf(data) && data.type === "bf16" && stored === "BF16")
      tensors[name] = { shape, data: data.bits, dtype: stored };
    else tensors[name] = { shape, data: isHalf(data) ? widenedCopy(data) : data, dtype: stored };
  }
  writeSafetensors(path.join(dir, "model.safetensors"), tensors);
  fs.writeFileSync(
    path.join(dir, "config.json"),
    JSON.stringify(toHfConfig(model.config, dtype, initializerRange), null, 2),
  );
}
