/**
 * Which base models the embedded backend can serve and where their weights come from. Names map to
 * a Hugging Face Qwen3 directory or a seeded random model (tests, benchmarks); any other name that
 * is itself a directory holding config.json and safetensors (a downloaded checkpoint) loads from
 * there. An unknown name fails with the list of what is available, so a typo names its fix.
 */
import fs from "node:fs";
import path from "node:path";
import type { ModelConfig } from "../engine/config";
import { projectPath } from "../paths";

/** The bundled model, trained for this product. */
export const EMBEDDED_MODEL = "continualcode/qwen3-tiny-coder";

export type ModelSource = { dir: string } | { random: ModelConfig; seed: number };

/** A fixed table of names, or a function answering for any name (undefined = unknown). */
export type ModelCatalogue = Record<string, ModelSource> | ((name: string) => ModelSource | undefined);

export function defaultCatalogue(): Record<string, ModelSource> {
  return { [EMBEDDED_MODEL]: { dir: projectPath("models/qwen3-tiny-coder") } };
}

/** A directory with config.json and at least one .safetensors file. */
export function isModelDirectory(dir: string): boolean {
  try {
    return fs.existsSync(path.join(dir, "config.json")) && fs.readdirSync(dir).some((f) => f.endsWith(".safetensors"));
  } catch {
    return false;
  }
}

function isAvailable(source: ModelSource): boolean {
  return "random" in source || isModelDirectory(source.dir);
}

function listed(catalogue: ModelCatalogue): Array<[string, ModelSource]> {
  return typeof catalogue === "function" ? [] : Object.entries(catalogue);
}

/** The catalogue's entry for `name`, installed or not; undefined for a name it does not list. */
export function catalogueEntry(catalogue: ModelCatalogue, name: string): ModelSource | undefined {
  return typeof catalogue === "function"
    ? catalogue(name)
    : Object.hasOwn(catalogue, name)
      ? catalogue[name]
      : undefined;
}

/** The source for `name`, or an error that says what exists and what is missing. */
export function resolveModel(catalogue: ModelCatalogue, name: string): ModelSource {
  const known = catalogueEntry(catalogue, name);
  if (known) {
    if (!isAvailable(known)) {
      const dir = (known as { dir: string }).dir;
      throw new Error(`model ${name} is not installed: ${dir} has no config.json and .safetensors weights`);
    }
    return known;
  }
  if (isModelDirectory(name)) return { dir: path.resolve(name) };
  if (fs.existsSync(name)) throw new Error(`model directory ${name} needs config.json and .safetensors weights`);
  const available = listed(catalogue)
    .filter(([, s]) => isAvailable(s))
    .map(([n]) => n);
  throw new Error(
    `unknown model ${name}; available: ${available.length > 0 ? available.join(", ") : "none installed"}` +
      " (or pass a directory holding a Hugging Face Qwen3 checkpoint)",
  );
}

/** The names in the catalogue whose weights are present, with their context lengths and LoRA rank caps. */
export function availableModels(catalogue: ModelCatalogue): ServedModel[] {
  return listed(catalogue)
    .filter(([, s]) => isAvailable(s))
    .map(([modelName, s]) => ({ modelName, ...modelLimits(s) }));
}

export interface ServedModel {
  modelName: string;
  maxContextLength?: number;
  /**
   * The largest LoRA rank worth training: the model's width, the smaller side of every matrix an
   * adapter wraps; past it the low-rank product can express nothing more and only costs memory.
   */
  maxLoraRank?: number;
}

function modelLimits(source: ModelSource): Omit<ServedModel, "modelName"> {
  if ("random" in source)
    return { maxContextLength: source.random.maxPositionEmbeddings, maxLoraRank: source.random.hiddenSize };
  try {
    const json = JSON.parse(fs.readFileSync(path.join(source.dir, "config.json"), "utf8")) as {
      max_position_embeddings?: unknown;
      hidden_size?: unknown;
    };
    return {
      ...(typeof json.max_position_embeddings === "number" ? { maxContextLength: json.max_position_embeddings } : {}),
      ...(typeof json.hidden_size === "number" ? { maxLoraRank: json.hidden_size } : {}),
    };
  } catch {
    return {};
  }
}
