/**
 * The tokenizer each served model's token ids belong to, for stop strings. A model directory with
 * its own tokenizer.json (Qwen3.5) uses it; every other model here (Qwen3 directories, the
 * embedded tiny model, whose ids are a subset of Qwen3's) speaks Qwen3's vocabulary. Each is
 * loaded once, on the first sample that asks for stop strings.
 */
import fs from "node:fs";
import path from "node:path";
import { loadQwen3Tokenizer, loadTokenizerFromDir } from "@/lib/chat/tokenizer";
import type { ModelSource } from "@/lib/training/models";
import type { TokenDecoder } from "./stop-strings";

export function decoderForModels(
  models: Record<string, ModelSource>,
): (baseModel: string) => Promise<TokenDecoder | null> {
  const loaded = new Map<string, Promise<TokenDecoder>>();
  return (baseModel) => {
    if (!Object.hasOwn(models, baseModel)) return Promise.resolve(null);
    let decoder = loaded.get(baseModel);
    if (!decoder) {
      const source = models[baseModel]!;
      const dir = "dir" in source ? source.dir : null;
      decoder =
        dir && fs.existsSync(path.join(dir, "tokenizer.json"))
          ? loadTokenizerFromDir(baseModel, dir)
          : loadQwen3Tokenizer();
      loaded.set(baseModel, decoder);
    }
    return decoder;
  };
}
