/**
 * Which chat format each model name uses. Kept free of Node imports so that UI code can validate
 * a model name or list the known ones without loading a tokenizer.
 */
import type { RendererName } from "./types";

/** Named models with their renderer; the patterns below also accept their size siblings. */
export const KNOWN_MODELS: ReadonlyArray<{ model: string; renderer: RendererName }> = [
  { model: "continualcode/qwen3-tiny-coder", renderer: "qwen3" },
  { model: "Qwen/Qwen3-4B-Instruct-2507", renderer: "qwen3" },
  { model: "Qwen/Qwen3-30B-A3B-Instruct-2507", renderer: "qwen3" },
  { model: "Qwen/Qwen3-235B-A22B-Instruct-2507", renderer: "qwen3" },
  { model: "Qwen/Qwen3-8B", renderer: "qwen3" },
  { model: "Qwen/Qwen3-32B", renderer: "qwen3" },
  { model: "Qwen/Qwen3-30B-A3B", renderer: "qwen3" },
  { model: "Qwen/Qwen3.5-4B", renderer: "qwen3_5" },
  { model: "Qwen/Qwen3.5-27B", renderer: "qwen3_5" },
  { model: "Qwen/Qwen3.5-35B-A3B", renderer: "qwen3_5" },
  { model: "Qwen/Qwen3.5-397B-A17B", renderer: "qwen3_5" },
];

const FAMILY_PATTERNS: ReadonlyArray<{ pattern: RegExp; renderer: RendererName; shape: string }> = [
  {
    pattern: /^Qwen\/Qwen3-\d+(\.\d+)?B(-A\d+B)?(-Instruct-2507|-Thinking-2507|-Base)?$/,
    renderer: "qwen3",
    shape: "Qwen/Qwen3-<size>[-Instruct-2507|-Thinking-2507|-Base]",
  },
  {
    pattern: /^Qwen\/Qwen3\.5-\d+(\.\d+)?B(-A\d+B)?(-Base)?$/,
    renderer: "qwen3_5",
    shape: "Qwen/Qwen3.5-<size>[-Base]",
  },
];

export class UnknownModelError extends Error {
  constructor(readonly modelName: string) {
    super(
      `no chat format is known for model "${modelName}"; known models: ` +
        `${KNOWN_MODELS.map((m) => m.model).join(", ")} ` +
        `(and names shaped ${FAMILY_PATTERNS.map((f) => f.shape).join(" or ")})`,
    );
    this.name = "UnknownModelError";
  }
}

/** The renderer a model uses; throws UnknownModelError for a name no renderer covers. */
export function rendererNameFor(modelName: string): RendererName {
  const known = KNOWN_MODELS.find((m) => m.model === modelName);
  if (known) return known.renderer;
  const family = FAMILY_PATTERNS.find((f) => f.pattern.test(modelName));
  if (family) return family.renderer;
  throw new UnknownModelError(modelName);
}
