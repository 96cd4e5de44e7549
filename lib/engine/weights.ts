/**
 * The frozen base model: loads a Hugging Face Qwen3 directory (config.json plus one
 * model.safetensors or a sharded index) into kernel memory, checking every tensor's shape, or
 * builds a random model of a given config for tests and benchmarks. Names are the checkpoint's.
 */
import fs from "node:fs";
import path from "node:path";
import type { Kernels } from "./kernels/types";
import { parseHfConfig, type ModelConfig } from "./config";
import { openSafetensors, toBfloat16Bits, type SafetensorsFile, type TensorToWrite } from "./safetensors";
import { Rng } from "./sampling";
import { toHalfBits } from "./kernels/half";
import { allocMatrix, freeMatrix, isHalf, type Matrix, type WeightDtype } from "./matrix";
import { formatBytes } from "./kernels/memory-groups";

/** One decoder layer's tensors; M is how its projections are held (norm weights are always float32). */
export interface LayerWeights<M = Matrix> {
  input_layernorm: Float32Array; // (C)
  q_proj: M; // (NH*HD, C)
  k_proj: M; // (NKV*HD, C)
  v_proj: M; // (NKV*HD, C)
  o_proj: M; // (C, NH*HD)
  q_norm: Float32Array; // (HD)
  k_norm: Float32Array; // (HD)
  post_attention_layernorm: Float32Array; // (C)
  gate_proj: M; // (I, C)
  up_proj: M; // (I, C)
  down_proj: M; // (C, I)
}

/**
 * The model's tensors without its config. As weights, matrices are in their stored precision;
 * BaseWeights<Float32Array> is the layout of their gradients and Adam moments.
 */
export interface BaseWeights<M = Matrix> {
  embed_tokens: M; // (V, C)
  layers: LayerWeights<M>[];
  norm: Float32Array; // (C)
  /** Same array as embed_tokens when the embeddings are tied. */
  lm_head: M; // (V, C)
}

export interface BaseModel extends BaseWeights {
  config: ModelConfig;
}

/** The projection fields of a layer (the ones that may be 16-bit). */
export const MATRIX_FIELDS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;

/**
 * How loadBaseModel holds matrices: "stored" keeps each tensor's checkpoint precision (bfloat16
 * and float16 stay 16-bit, float32 stays float32); the others convert every matrix to that type.
 */
export type LoadDtype = "stored" | WeightDtype;

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

/** Opens every safetensors file of a model directory, following a sharded index when there is one. */
function openCheckpoint(dir: string): { files: SafetensorsFile[]; find(name: string): SafetensorsFile | undefined } {
  const single = path.join(dir, "model.safetensors");
  let files: SafetensorsFile[];
  if (fs.existsSync(single)) files = [openSafetensors(single)];
  else {
    const indexPath = path.join(dir, "model.safetensors.index.json");
    if (!fs.existsSync(indexPath))
      throw new Error(`model directory ${dir} has neither model.safetensors nor model.safetensors.index.json`);
    const index = JSON.parse(fs.readFileSync(indexPath, "utf8")) as { weight_map: Record<string, string> };
    files = [...new Set(Object.values(index.weight_map))].map((shard) => openSafetensors(path.join(dir, shard)));
  }
  return { files, find: (name) => files.find((f) => name in f.entries) };
}

/** Bytes of tensor data in the checkpoint's files. */
function checkpointBytes(files: SafetensorsFile[]): number {
  let bytes = 0;
  for (const f of files) for (const e of Object.values(f.entries)) bytes += e.data_offsets[1] - e.data_offsets[0];
  return bytes;
}

/** Bytes of tensor data a model directory stores (what loading it in its stored precision takes). */
export function modelDirectoryBytes(dir: string): number {
  // The config first, as loadBaseModel reads it: a directory that is not a model fails the same way.
  parseHfConfig(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
  const checkpoint = openCheckpoint(dir);
  try {
    return checkpointBytes(checkpoint.files);
  } finally {
    for (const f of checkpoint.files) f.close();
  }
}

/**
 * Loads a Hugging Face Qwen3 directory into kernel memory. Each tensor is read from its file
 * straight into its kernel allocation, so a loaded model takes about its file size (16-bit
 * matrices stay 16-bit unless `dtype` asks otherwise); norm weights are widened to float32.
 */
export function loadBaseModel(dir: string, kernels: Kernels, dtype: LoadDtype = "stored"): BaseModel {
  const config = parseHfConfig(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
  const checkpoint = openCheckpoint(dir);
  const taken: Matrix[] = [];
  let loadedBytes = 0;
  let current = "";
  const lookup = (name: string, shape: number[]): SafetensorsFile => {
    current = name;
    const file = checkpoint.find(name);
    if (!file) throw new Error(`checkpoint is missing tensor ${name}`);
    const e = file.entries[name];
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`checkpoint tensor ${name} has shape [${e.shape}], expected [${shape}]`);
    }
    return file;
  };
  const vector = (name: string, shape: number[]): Float32Array => {
    const out = lookup(name, shape).readFloat32(name, kernels.alloc(shape[0]));
    taken.push(out);
    loadedBytes += out.byteLength;
    return out;
  };
  const matrix = (name: string, shape: number[]): Matrix => {
    const file = lookup(name, shape);
    const stored = file.entries[name].dtype;
    const want: WeightDtype =
      dtype !== "stored" ? dtype : stored === "BF16" ? "bf16" : stored === "F16" ? "f16" : "f32";
    const m = allocMatrix(kernels, shape[0] * shape[1], want);
    taken.push(m);
    loadedBytes += isHalf(m) ? m.bits.byteLength : m.byteLength;
    if (!isHalf(m)) file.readFloat32(name, m);
    else if ((m.type === "bf16" && stored === "BF16") || (m.type === "f16" && stored === "F16"))
      file.readBits(name, m.bits);
    else {
      const wide = file.readFloat32(name, new Float32Array(m.bits.length));
      if (m.type === "bf16") m.bits.set(toBfloat16Bits(wide));
      else for (let i = 0; i < wide.length; i++) m.bits[i] = toHalfBits(wide[i]);
    }
    return m;
  };
  try {
    const C = config.hiddenSize,
      V = config.vocabSize;
    const embed = matrix("model.embed_tokens.weight", [V, C]);
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.numLayers; l++) {
      const lw = {} as Record<keyof LayerWeights, Matrix>;
      for (const [field, key, shape] of layerShapes(config)) {
        const name = `model.layers.${l}.${key}`;
        lw[field] = shape.length === 1 ? vector(name, shape) : matrix(name, shape);
      }
      layers.push(lw as LayerWeights);
    }
    const norm = vector("model.norm.weight", [C]);
    // Tied models read the output projection from embed_tokens, as transformers does.
    const lmHead = config.tieWordEmbeddings ? embed : matrix("lm_head.weight", [V, C]);
    return { config, embed_tokens: embed, layers, norm, lm_head: lmHead };
  } catch (error) {
    for (const m of taken) freeMatrix(kernels, m);
    // A memory that cannot grow reports only "Maximum memory size exceeded": say what did not fit.
    if (error instanceof RangeError)
      throw new Error(
        `the model in ${dir} does not fit the kernel memory (${kernels.name}): ${formatBytes(loadedBytes)} ` +
          `were loaded when ${current} could not be allocated; ${formatBytes(checkpointBytes(checkpoint.files))} ` +
          "are stored in its files",
        { cause: error },
      );
    throw error;
  } finally {
    for (const f of checkpoint.files) f.close();
  }
}

/**
 * A randomly initialised model (normal(0, std) matrices, unit norms), deterministic in `seed`.
 * With a 16-bit dtype each matrix holds the rounding of the same float32 draws.
 */
export function randomBaseModel(
  config: ModelConfig,
  seed: number,
  kernels: Kernels,
  std = 0.02,
  dtype: WeightDtype = "f32",
): BaseModel {
  const rng = new Rng(seed);
  const row = new Float32Array(config.hiddenSize);
  const vector = (n: number): Float32Array => kernels.alloc(n).fill(1);
  const matrix = (n: number): Matrix => {
    const m = allocMatrix(kernels, n, dtype);
    // One row at a time, so that a 16-bit model never needs its float32 draws all at once.
    for (let o = 0; o < n; o += row.length) {
      const part = row.subarray(0, Math.min(row.length, n - o));
      for (let i = 0; i < part.length; i++) part[i] = rng.normal() * std;
      if (!isHalf(m)) m.set(part, o);
      else if (m.type === "bf16") m.bits.set(toBfloat16Bits(part), o);
      else for (let i = 0; i < part.length; i++) m.bits[o + i] = toHalfBits(part[i]);
    }
    return m;
  };
  const C = config.hiddenSize,
    V = config.vocabSize;
  const embed = matrix(V * C);
  const layers = Array.from({ length: config.numLayers }, () => {
    const lw = {} as Record<keyof LayerWeights, Matrix>;
    for (const [field, , shape] of layerShapes(config))
      lw[field] = shape.length === 1 ? vector(shape[0]) : matrix(shape[0] * shape[1]);
    return lw as LayerWeights;
  });
  const norm = vector(C);
  const lmHead = config.tieWordEmbeddings ? embed : matrix(V * C);
  return { config, embed_tokens: embed, layers, norm, lm_head: lmHead };
}

/** Every tensor under its checkpoint name (for saving a model as a Hugging Face directory). */
export function namedBaseTensors<M>(
  model: BaseWeights<M> & { config: ModelConfig },
): Record<string, { shape: number[]; data: M | Float32Array }> {
  const c = model.config;
  const out: Record<string, { shape: number[]; data: M | Float32Array }> = {};
  out["model.embed_tokens.weight"] = { shape: [c.vocabSize, c.hiddenSize], data: model.embed_tokens };
  model.layers.forEach((lw, l) => {
    for (const [field, key, shape] of layerShapes(c)) out[`model.layers.${l}.${key}`] = { shape, data: lw[field] };
  });
  out["model.norm.weight"] = { shape: [c.hiddenSize], data: model.norm };
  if (!c.tieWordEmbeddings) out["lm_head.weight"] = { shape: [c.vocabSize, c.hiddenSize], data: model.lm_head };
  return out;
}

/** The model's tensors as a safetensors writer takes them, each in the precision it is held in. */
export function checkpointTensors(model: BaseModel): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, { shape, data }] of Object.entries(namedBaseTensors(model)))
    out[name] = isHalf(data)
      ? { shape, data: data.bits, dtype: data.type === "bf16" ? "BF16" : "F16" }
      : { shape, data };
  return out;
}

/** Values in a model of this shape (the tied lm_head once). */
export function parameterCount(c: ModelConfig): number {
  let n = c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2) + c.hiddenSize;
  for (const [, , shape] of layerShapes(c)) n += c.numLayers * shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Bytes the model's tensors take in kernel memory (the tied lm_head once). */
export function baseModelBytes(model: BaseModel): number {
  let bytes = 0;
  for (const { data } of Object.values(namedBaseTensors(model)))
    bytes += data instanceof Float32Array ? data.byteLength : data.bits.byteLength;
  return bytes;
}

export function freeBaseModel(model: BaseModel, kernels: Kernels): void {
  freeMatrix(kernels, model.embed_tokens);
  for (const lw of model.layers) for (const a of Object.values(lw)) freeMatrix(kernels, a);
  kernels.free(model.norm);
  if (model.lm_head !== model.embed_tokens) freeMatrix(kernels, model.lm_head);
}
