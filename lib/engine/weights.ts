/**
 * The frozen base model: loads a Hugging Face Qwen3 directory (config.json plus one
 * model.safetensors or a sharded index) into kernel memory, checking every tensor's shape, or
 * builds a random model of a given config for tests and benchmarks. Names are the checkpoint's.
 */
import fs from "node:fs";
import path from "node:path";
import type { Kernels } from "./kernels/types";
import { parseHfConfig, type ModelConfig } from "./config";
import { readSafetensors, type Tensor } from "./safetensors";
import { Rng } from "./sampling";

export interface LayerWeights {
  input_layernorm: Float32Array; // (C)
  q_proj: Float32Array; // (NH*HD, C)
  k_proj: Float32Array; // (NKV*HD, C)
  v_proj: Float32Array; // (NKV*HD, C)
  o_proj: Float32Array; // (C, NH*HD)
  q_norm: Float32Array; // (HD)
  k_norm: Float32Array; // (HD)
  post_attention_layernorm: Float32Array; // (C)
  gate_proj: Float32Array; // (I, C)
  up_proj: Float32Array; // (I, C)
  down_proj: Float32Array; // (C, I)
}

/** The model's tensors without its config (also the layout of their gradients and Adam moments). */
export interface BaseWeights {
  embed_tokens: Float32Array; // (V, C)
  layers: LayerWeights[];
  norm: Float32Array; // (C)
  /** Same array as embed_tokens when the embeddings are tied. */
  lm_head: Float32Array; // (V, C)
}

export interface BaseModel extends BaseWeights {
  config: ModelConfig;
}

/** Expected [checkpoint key suffix, shape] of every tensor of one decoder layer. */
function layerShapes(c: ModelConfig): Array<[keyof LayerWeights, string, number[]]> {
  const C = c.hiddenSize,
    I = c.intermediateSize,
    HD = c.headDim;
  return [
    ["input_layernorm", "input_layernorm.weight", [C]],
    ["q_proj", "self_attn.q_proj.weight", [c.numHeads * HD, C]],
    ["k_proj", "self_attn.k_proj.weight", [c.numKvHeads * HD, C]],
    ["v_proj", "self_attn.v_proj.weight", [c.numKvHeads * HD, C]],
    ["o_proj", "self_attn.o_proj.weight", [C, c.numHeads * HD]],
    ["q_norm", "self_attn.q_norm.weight", [HD]],
    ["k_norm", "self_attn.k_norm.weight", [HD]],
    ["post_attention_layernorm", "post_attention_layernorm.weight", [C]],
    ["gate_proj", "mlp.gate_proj.weight", [I, C]],
    ["up_proj", "mlp.up_proj.weight", [I, C]],
    ["down_proj", "mlp.down_proj.weight", [C, I]],
  ];
}

/** Reads all tensors of a model directory, following a sharded index when there is one. */
function readCheckpointTensors(dir: string): Map<string, Tensor> {
  const single = path.join(dir, "model.safetensors");
  if (fs.existsSync(single)) return readSafetensors(single);
  const indexPath = path.join(dir, "model.safetensors.index.json");
  if (!fs.existsSync(indexPath))
    throw new Error(`model directory ${dir} has neither model.safetensors nor model.safetensors.index.json`);
  const index = JSON.parse(fs.readFileSync(indexPath, "utf8")) as { weight_map: Record<string, string> };
  const all = new Map<string, Tensor>();
  for (const shard of new Set(Object.values(index.weight_map))) {
    for (const [name, t] of readSafetensors(path.join(dir, shard))) all.set(name, t);
  }
  return all;
}

export function loadBaseModel(dir: string, kernels: Kernels): BaseModel {
  const config = parseHfConfig(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
  const tensors = readCheckpointTensors(dir);
  const take = (name: string, shape: number[]): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw new Error(`checkpoint is missing tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`checkpoint tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    if (!(t.data instanceof Float32Array)) throw new Error(`checkpoint tensor ${name} has integer dtype ${t.dtype}`);
    const out = kernels.alloc(t.data.length);
    out.set(t.data);
    return out;
  };
  const C = config.hiddenSize,
    V = config.vocabSize;
  const embed = take("model.embed_tokens.weight", [V, C]);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const lw = {} as LayerWeights;
    for (const [field, key, shape] of layerShapes(config)) lw[field] = take(`model.layers.${l}.${key}`, shape);
    layers.push(lw);
  }
  const norm = take("model.norm.weight", [C]);
  // Tied models read the output projection from embed_tokens, as transformers does.
  const lmHead = config.tieWordEmbeddings ? embed : take("lm_head.weight", [V, C]);
  return { config, embed_tokens: embed, layers, norm, lm_head: lmHead };
}

/** A randomly initialised model (normal(0, 0.02) matrices, unit norms), deterministic in `seed`. */
export function randomBaseModel(config: ModelConfig, seed: number, kernels: Kernels, std = 0.02): BaseModel {
  const rng = new Rng(seed);
  const fill = (shape: number[], kind: "normal" | "ones"): Float32Array => {
    const a = kernels.alloc(shape.reduce((x, y) => x * y, 1));
    if (kind === "ones") a.fill(1);
    else for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std;
    return a;
  };
  const C = config.hiddenSize,
    V = config.vocabSize;
  const embed = fill([V, C], "normal");
  const layers = Array.from({ length: config.numLayers }, () => {
    const lw = {} as LayerWeights;
    for (const [field, , shape] of layerShapes(config)) lw[field] = fill(shape, shape.length === 1 ? "ones" : "normal");
    return lw;
  });
  const norm = fill([C], "ones");
  const lmHead = config.tieWordEmbeddings ? embed : fill([V, C], "normal");
  return { config, embed_tokens: embed, layers, norm, lm_head: lmHead };
}

/** Every tensor under its checkpoint name (for saving a random model as a Hugging Face directory). */
export function namedBaseTensors(model: BaseModel): Record<string, { shape: number[]; data: Float32Array }> {
  const c = model.config;
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  out["model.embed_tokens.weight"] = { shape: [c.vocabSize, c.hiddenSize], data: model.embed_tokens };
  model.layers.forEach((lw, l) => {
    for (const [field, key, shape] of layerShapes(c)) out[`model.layers.${l}.${key}`] = { shape, data: lw[field] };
  });
  out["model.norm.weight"] = { shape: [c.hiddenSize], data: model.norm };
  if (!c.tieWordEmbeddings) out["lm_head.weight"] = { shape: [c.vocabSize, c.hiddenSize], data: model.lm_head };
  return out;
}

export function freeBaseModel(model: BaseModel, kernels: Kernels): void {
  kernels.free(model.embed_tokens);
  for (const lw of model.layers) for (const a of Object.values(lw)) kernels.free(a);
  kernels.free(model.norm);
  if (model.lm_head !== model.embed_tokens) kernels.free(model.lm_head);
}
