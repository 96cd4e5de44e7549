/**
 * Loading Hugging Face directories: single-file and sharded checkpoints, tied embeddings,
 * bfloat16/float16 tensors, rope theta from either config field, and errors that name the tensor.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import { Engine } from "./engine";
import { parseHfConfig, toHfConfig } from "./config";
import { checkpointTensors, randomBaseModel } from "./weights";
import { readSafetensors, writeSafetensors } from "./safetensors";
import { randomTokens, tinyConfig } from "./testing";
import { createMemoryGroups } from "./kernels/memory-groups";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qwen3-dir-"));
afterAll(() => fs.rmSync(tmp, { recursive: true }));

function saveModel(dir: string, tied: boolean, shards = 1): Engine {
  const config = tinyConfig({ tieWordEmbeddings: tied });
  const model = randomBaseModel(config, 12, createJsKernels(), 0.2);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(toHfConfig(config)));
  const tensors = checkpointTensors(model);
  if (shards === 1) writeSafetensors(path.join(dir, "model.safetensors"), tensors);
  else {
    const names = Object.keys(tensors);
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const file = `model-0000${s + 1}-of-0000${shards}.safetensors`;
      const part = names.filter((_, i) => i % shards === s);
      writeSafetensors(path.join(dir, file), Object.fromEntries(part.map((n) => [n, tensors[n]])));
      for (const n of part) weightMap[n] = file;
    }
    fs.writeFileSync(
      path.join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
  }
  return new Engine(model, createJsKernels());
}

/** Writes one tensor with a 16-bit dtype by hand (the engine's writer only writes float32). */
function write16(file: string, name: string, dtype: "BF16" | "F16", bits: number[]): void {
  const header = JSON.stringify({ [name]: { dtype, shape: [bits.length], data_offsets: [0, bits.length * 2] } });
  const buf = Buffer.alloc(8 + header.length + bits.length * 2);
  buf.writeBigUInt64LE(BigInt(header.length), 0);
  buf.write(header, 8);
  for (let i = 0; i < bits.length; i++) buf.writeUInt16LE(bits[i], 8 + header.length + 2 * i);
  fs.writeFileSync(file, buf);
}

describe("loading Hugging Face Qwen3 directories", () => {
  const tokens = randomTokens(12, tinyConfig().vocabSize, 2);

  it("a saved random model loads back with identical log-probs (untied, tied, sharded)", () => {
    for (const [name, tied, shards] of [
      ["untied", false, 1],
      ["tied", true, 1],
      ["sharded", false, 3],
    ] as const) {
      const dir = path.join(tmp, name);
      const original = saveModel(dir, tied, shards);
      const loaded = Engine.fromDirectory(dir, createJsKernels());
      expect(loaded.computeLogprobs(null, tokens), name).toEqual(original.computeLogprobs(null, tokens));
      expect(loaded.model.lm_head === loaded.model.embed_tokens).toBe(tied);
    }
  });

  it("a missing or misshapen tensor is named in the error", () => {
    const dir = path.join(tmp, "broken");
    saveModel(dir, false);
    const file = path.join(dir, "model.safetensors");
    const tensors = readSafetensors(file);
    const keep = Object.fromEntries(
      [...tensors]
        .filter(([n]) => n !== "model.layers.1.self_attn.k_norm.weight")
        .map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }]),
    );
    writeSafetensors(file, keep);
    expect(() => Engine.fromDirectory(dir, createJsKernels())).toThrow("model.layers.1.self_attn.k_norm.weight");
    keep["model.layers.1.self_attn.k_norm.weight"] = { shape: [3], data: new Float32Array(3) };
    writeSafetensors(file, keep);
    expect(() => Engine.fromDirectory(dir, createJsKernels())).toThrow(
      /model\.layers\.1\.self_attn\.k_norm\.weight has shape \[3\]/,
    );
  });

  it("bfloat16 and float16 tensors widen to the same float32 values", () => {
    const bf = path.join(tmp, "bf16.safetensors");
    const f16 = path.join(tmp, "f16.safetensors");
    write16(bf, "w", "BF16", [0x3f80, 0xc040, 0x3e80, 0x0000]); // 1, -3, 0.25, 0
    write16(f16, "w", "F16", [0x3c00, 0xc200, 0x3400, 0x0000]); // 1, -3, 0.25, 0
    expect(Array.from(readSafetensors(bf).get("w")!.data)).toEqual([1, -3, 0.25, 0]);
    expect(Array.from(readSafetensors(f16).get("w")!.data)).toEqual([1, -3, 0.25, 0]);
  });

  it("16-bit checkpoints stay 16-bit (or convert when asked) and compute what their float32 widening does", () => {
    const config = tinyConfig({ tieWordEmbeddings: true });
    for (const dtype of ["bf16", "f16"] as const) {
      const dir = path.join(tmp, `stored-${dtype}`);
      const model = randomBaseModel(config, 4, createJsKernels(), 0.2, dtype);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(toHfConfig(config, "bfloat16")));
      writeSafetensors(path.join(dir, "model.safetensors"), checkpointTensors(model));
      const stored = Engine.fromDirectory(dir, createJsKernels());
      const widened = Engine.fromDirectory(dir, createJsKernels(), { dtype: "f32" });
      expect(stored.weightDtype).toBe(dtype);
      expect(widened.weightDtype).toBe("f32");
      expect(stored.computeLogprobs(null, tokens)).toEqual(widened.computeLogprobs(null, tokens));
      // Base-weight training needs float32: the 16-bit matrices are widened first, values unchanged.
      const before = stored.baseTensors();
      stored.createFullTraining();
      expect(stored.weightDtype).toBe("f32");
      expect(stored.baseTensors()).toEqual(before);
    }
  });

  it("a model that does not fit its kernel memories fails naming the sizes", async () => {
    const dir = path.join(tmp, "too-large");
    saveModel(dir, false);
    const groups = await createMemoryGroups({
      create: async () => ({ ...createJsKernels(), dispose() {} }),
      memories: 2,
      bytesPerMemory: 4096,
    });
    expect(() => Engine.fromDirectory(dir, groups)).toThrow(
      /kernel memory is full: .* held in 2 memories of at most 4096 bytes each/,
    );
    expect(groups.liveBytes()).toEqual([0, 0]);
  });

  it("rope theta comes from rope_theta or rope_parameters, and head_dim may differ from hidden/heads", () => {
    const base = toHfConfig(tinyConfig());
    expect(parseHfConfig({ ...base, rope_theta: 5e5 }).ropeTheta).toBe(5e5);
    const { rope_theta: _unused, ...rest } = base;
    void _unused;
    expect(parseHfConfig({ ...rest, rope_parameters: { rope_theta: 1e6, rope_type: "default" } }).ropeTheta).toBe(1e6);
    expect(parseHfConfig(base).headDim).toBe(6);
    expect(() => parseHfConfig({ ...base, num_key_value_heads: 3 })).toThrow(/multiple/);
  });
});
