/**
 * Picks the chat renderer for a model name: the Qwen3 JSON tool-call format for Qwen3 instruct,
 * thinking and hybrid models and for the embedded model, the Qwen3.5 XML format for Qwen3.5.
 * An unknown name is an error that lists the known ones, rather than a silently wrong prompt.
 * The embedded model knows only a trimmed Qwen3 vocabulary: its renderer spells text outside it
 * in byte tokens (withTrimmedVocab), so its prompts are Qwen3 prompts it can read.
 */
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { projectPath } from "@/lib/paths";
import { createQwen3Renderer } from "./qwen3";
import { createQwen3_5Renderer } from "./qwen3_5";
import { loadQwen3Tokenizer, loadTokenizerFromDir, type Tokenizer } from "./tokenizer";
import { TrimmedVocab, withTrimmedVocab } from "./trimmed-vocab";
import type { Renderer, RendererName } from "./types";
import { rendererNameFor, UnknownModelError } from "./models";

export type * from "./types";
export type { Tokenizer } from "./tokenizer";
export { loadQwen3Tokenizer } from "./tokenizer";
export { KNOWN_MODELS, UnknownModelError, rendererNameFor } from "./models";

/**
 * Where the Qwen3.5 tokenizer files are read from. Qwen3.5 has its own, larger vocabulary
 * (`<|im_end|>` is 248046 there, 151645 in Qwen3), and no npm package bundles it.
 */
export function qwen3_5TokenizerDir(): string {
  return process.env.QWEN3_5_TOKENIZER_DIR ?? projectPath("models", "qwen3.5-tokenizer");
}

const qwen3_5Tokenizers = new Map<string, Promise<Tokenizer>>();

async function loadQwen3_5Tokenizer(): Promise<Tokenizer> {
  const dir = qwen3_5TokenizerDir();
  try {
    await access(path.join(dir, "tokenizer.json"));
  } catch {
    throw new Error(
      `Qwen3.5 models need the Qwen3.5 tokenizer: put tokenizer.json and tokenizer_config.json ` +
        `from a Qwen/Qwen3.5-* checkpoint in ${dir} (or set QWEN3_5_TOKENIZER_DIR)`,
    );
  }
  let loading = qwen3_5Tokenizers.get(dir);
  if (!loading) {
    loading = loadTokenizerFromDir("qwen3_5", dir);
    qwen3_5Tokenizers.set(dir, loading);
    loading.catch(() => qwen3_5Tokenizers.delete(dir));
  }
  return loading;
}

/**
 * Models trained over a trimmed Qwen3 vocabulary, and where that vocabulary is kept: the bundled
 * model's, or a model directory's own vocab.json when it is one (a copy of the bundled model, a
 * model pretrained with `npm run model:pretrain`). A Hugging Face vocab.json maps token → id and
 * is not one; loadTrimmedVocab tells them apart.
 */
export function trimmedVocabFile(modelName: string): string | null {
  if (modelName === "continualcode/qwen3-tiny-coder") return projectPath("models", "qwen3-tiny-coder", "vocab.json");
  // Any other name may be a directory; a name that is none has no such file and gets null.
  return path.join(modelName, "vocab.json");
}

/** Qwen3-family `model_type`s in a Hugging Face config.json, by the chat format they use. */
const MODEL_TYPES: Record<string, RendererName> = {
  qwen3: "qwen3",
  qwen3_moe: "qwen3",
  qwen3_5: "qwen3_5",
  qwen3_5_moe: "qwen3_5",
  qwen3_next: "qwen3",
};

/**
 * The renderer of a model given as a directory (`--model /models/Qwen3-8B`), from its config.json's
 * model_type; null when the name is no such directory, so the caller reports the unknown name.
 */
export async function rendererNameForDirectory(dir: string): Promise<RendererName | null> {
  let config: { model_type?: unknown };
  try {
    config = JSON.parse(await readFile(path.join(dir, "config.json"), "utf8")) as { model_type?: unknown };
  } catch {
    return null;
  }
  const type = typeof config.model_type === "string" ? config.model_type : "";
  const name = MODEL_TYPES[type];
  if (!name)
    throw new Error(
      `${dir}: model_type "${type}" has no chat format here (known: ${Object.keys(MODEL_TYPES).join(", ")})`,
    );
  return name;
}

const trimmedVocabs = new Map<string, Promise<TrimmedVocab | null>>();

/** The model's trimmed vocabulary, or null when it has none (or its weights are not installed). */
function loadTrimmedVocab(modelName: string): Promise<TrimmedVocab | null> {
  const file = trimmedVocabFile(modelName);
  if (file === null) return Promise.resolve(null);
  let loading = trimmedVocabs.get(file);
  if (!loading) {
    // A missing file is not remembered: the model may be installed later. The hint keeps the
    // bundler from tracing a run-time model directory (and with it the whole project) into the build.
    loading = readFile(/*turbopackIgnore: true*/ file, "utf8").then(
      (text) => (isTrimmedVocab(text) ? TrimmedVocab.load(file) : null),
      () => {
        trimmedVocabs.delete(file);
        return null;
      },
    );
    trimmedVocabs.set(file, loading);
    loading.catch(() => trimmedVocabs.delete(file));
  }
  return loading;
}

/** Our vocabulary files list the kept Qwen3 ids; a Hugging Face vocab.json is a token → id map. */
function isTrimmedVocab(text: string): boolean {
  try {
    return Array.isArray((JSON.parse(text) as { ids?: unknown }).ids);
  } catch {
    return false;
  }
}

/** The renderer for a model (a known name or a model directory), with its tokenizer loaded once per process or worker thread. */
export async function getRenderer(modelName: string): Promise<Renderer> {
  const name = await rendererName(modelName);
  switch (name) {
    case "qwen3": {
      const renderer = createQwen3Renderer(await loadQwen3Tokenizer());
      const vocab = await loadTrimmedVocab(modelName);
      return vocab ? withTrimmedVocab(renderer, vocab) : renderer;
    }
    case "qwen3_5":
      return createQwen3_5Renderer(await loadQwen3_5Tokenizer());
    default: {
      const never: never = name;
      throw new Error(`unknown renderer ${String(never)}`);
    }
  }
}

async function rendererName(modelName: string): Promise<RendererName> {
  try {
    return rendererNameFor(modelName);
  } catch (error) {
    if (!(error instanceof UnknownModelError)) throw error;
    const fromDir = await rendererNameForDirectory(modelName);
    if (fromDir === null) throw error;
    return fromDir;
  }
}
