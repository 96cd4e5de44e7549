/**
 * Adapter persistence. Training state: `lora_state.safetensors` (each LoRA tensor under its PEFT key,
 * plus `<key>.exp_avg` / `<key>.exp_avg_sq` Adam moments) and `lora_state.json` (rank, alpha,
 * targets, step). PEFT: `adapter_config.json` + `adapter_model.safetensors` with PEFT's on-disk
 * keys and shapes (A (r, in), B (out, r)), readable by `PeftModel.from_pretrained`.
 */
import fs from "node:fs";
import path from "node:path";
import type { Kernels } from "./kernels/types";
import type { ModelConfig } from "./config";
import { readSafetensors, writeSafetensors, type TensorToWrite } from "./safetensors";
import { ALL_TARGETS, createLora, type LoraAdapter, type LoraConfig, type TargetModule } from "./lora";

const STATE_TENSORS = "lora_state.safetensors";
const STATE_JSON = "lora_state.json";

interface StateJson {
  format: "continualcode-lora-state";
  version: 1;
  rank: number;
  alpha: number;
  targetModules: TargetModule[];
  useRslora: boolean;
  step: number;
}

export function saveLoraState(adapter: LoraAdapter, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const tensors: Record<string, TensorToWrite> = {};
  for (const t of adapter.tensors) {
    tensors[t.name] = { shape: t.shape, data: t.value };
    if (t.m && t.v) {
      tensors[`${t.name}.exp_avg`] = { shape: t.shape, data: t.m };
      tensors[`${t.name}.exp_avg_sq`] = { shape: t.shape, data: t.v };
    }
  }
  writeSafetensors(path.join(dir, STATE_TENSORS), tensors);
  const meta: StateJson = {
    format: "continualcode-lora-state",
    version: 1,
    rank: adapter.config.rank,
    alpha: adapter.config.alpha,
    targetModules: adapter.config.targetModules,
    useRslora: adapter.config.useRslora ?? false,
    step: adapter.step,
  };
  fs.writeFileSync(path.join(dir, STATE_JSON), JSON.stringify(meta, null, 2));
}

export function readLoraStateConfig(dir: string): LoraConfig {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, STATE_JSON), "utf8")) as StateJson;
  if (meta.format !== "continualcode-lora-state") throw new Error(`${dir} is not a saved LoRA training state`);
  return { rank: meta.rank, alpha: meta.alpha, targetModules: meta.targetModules, useRslora: meta.useRslora };
}

/** Loads weights (and, unless weightsOnly, Adam moments and the step count) into a matching adapter. */
export function loadLoraState(adapter: LoraAdapter, dir: string, weightsOnly: boolean, kernels: Kernels): void {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, STATE_JSON), "utf8")) as StateJson;
  const tensors = readSafetensors(path.join(dir, STATE_TENSORS));
  for (const t of adapter.tensors) {
    copyInto(t.value, tensors.get(t.name)?.data, t.name, t.shape);
    if (weightsOnly) {
      t.m?.fill(0);
      t.v?.fill(0);
      continue;
    }
    const m = tensors.get(`${t.name}.exp_avg`)?.data;
    const v = tensors.get(`${t.name}.exp_avg_sq`)?.data;
    if (m && v) {
      t.m ??= kernels.alloc(t.value.length);
      t.v ??= kernels.alloc(t.value.length);
      copyInto(t.m, m, `${t.name}.exp_avg`, t.shape);
      copyInto(t.v, v, `${t.name}.exp_avg_sq`, t.shape);
    } else {
      t.m?.fill(0);
      t.v?.fill(0);
    }
  }
  adapter.step = weightsOnly ? 0 : meta.step;
}

function copyInto(dst: Float32Array, src: ArrayLike<number> | undefined, name: string, shape: number[]): void {
  if (!src) throw new Error(`saved adapter is missing tensor ${name}`);
  if (src.length !== dst.length)
    throw new Error(`saved tensor ${name} has ${src.length} values, expected shape [${shape}]`);
  dst.set(src);
}

/** Writes a PEFT LoRA adapter directory. */
export function exportPeft(adapter: LoraAdapter, dir: string, baseModelName: string | null = null): void {
  fs.mkdirSync(dir, { recursive: true });
  const tensors: Record<string, TensorToWrite> = {};
  for (const t of [...adapter.tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    tensors[t.name] = { shape: t.shape, data: t.value };
  }
  writeSafetensors(path.join(dir, "adapter_model.safetensors"), tensors);
  const config = {
    base_model_name_or_path: baseModelName,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    lora_alpha: adapter.config.alpha,
    lora_dropout: 0.0,
    modules_to_save: null,
    peft_type: "LORA",
    r: adapter.config.rank,
    rank_pattern: {},
    alpha_pattern: {},
    target_modules: adapter.config.targetModules,
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: adapter.config.useRslora ?? false,
  };
  fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify(config, null, 2));
}

/** Reads a PEFT LoRA adapter directory into a new adapter for `model`. */
export function importPeft(model: ModelConfig, dir: string, kernels: Kernels): LoraAdapter {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
  if (cfg.peft_type !== undefined && cfg.peft_type !== "LORA")
    throw new Error(`adapter ${dir}: peft_type ${String(cfg.peft_type)} is not LORA`);
  if (cfg.use_dora === true) throw new Error(`adapter ${dir}: DoRA is not supported`);
  for (const key of ["rank_pattern", "alpha_pattern"]) {
    const v = cfg[key];
    if (v && typeof v === "object" && Object.keys(v).length > 0)
      throw new Error(`adapter ${dir}: ${key} is not supported`);
  }
  if (cfg.layers_to_transform !== undefined && cfg.layers_to_transform !== null)
    throw new Error(`adapter ${dir}: layers_to_transform is not supported`);
  const rawTargets = cfg.target_modules;
  if (!Array.isArray(rawTargets)) throw new Error(`adapter ${dir}: target_modules must be a list of module names`);
  const targets = ALL_TARGETS.filter((t) => rawTargets.includes(t));
  const unknown = rawTargets.filter((t) => !(ALL_TARGETS as readonly string[]).includes(t as string));
  if (unknown.length > 0) throw new Error(`adapter ${dir}: unsupported target modules ${unknown.join(", ")}`);
  const config: LoraConfig = {
    rank: Number(cfg.r),
    alpha: Number(cfg.lora_alpha ?? cfg.r),
    targetModules: targets,
    useRslora: cfg.use_rslora === true,
  };
  const adapter = createLora(model, config, 0, kernels);
  const tensors = readSafetensors(path.join(dir, "adapter_model.safetensors"));
  const expected = new Set<string>();
  for (const t of adapter.tensors) {
    const found = tensors.get(t.name) ?? tensors.get(t.name.replace(/\.weight$/, ".default.weight"));
    if (!found) throw new Error(`adapter ${dir} is missing tensor ${t.name}`);
    if (found.shape.length !== 2 || found.shape[0] !== t.shape[0] || found.shape[1] !== t.shape[1]) {
      throw new Error(`adapter tensor ${t.name} has shape [${found.shape}], expected [${t.shape}]`);
    }
    t.value.set(found.data);
    expected.add(t.name);
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name) && !expected.has(name.replace(/\.default\.weight$/, ".weight")))
      throw new Error(`adapter ${dir} has unexpected tensor ${name}`);
  }
  return adapter;
}
