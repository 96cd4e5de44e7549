/**
 * A model over a trimmed vocabulary still speaks Qwen3 ids through the embedded backend: ids are
 * translated on the way in and out, an id the model lacks is a clear error, and a model directory
 * with a vocab.json gets the translation without the caller asking for it. Log-softmax rows stay
 * in the model's own vocabulary both ways, never widened to Qwen3's 151,936 columns: a caller
 * finds a Qwen3 id's column with rowColumns.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine/engine";
import { createJsKernels } from "../engine/kernels/js-kernels";
import { tinyConfig } from "../engine/testing";
import { meanRowEntropy } from "@/lib/sdpo/metrics";
import { projectPath } from "@/lib/paths";
import { createEmbeddedBackend } from "./embedded";
import { EMBEDDED_MODEL } from "./models";
import { canScoreDistributions, type Datum } from "./types";
import { QWEN3_ROWS, SAME_IDS, VocabMap } from "./vocab-map";

/** Twelve kept Qwen3 ids, ascending: compact id i is KEPT[i]. */
const KEPT = [0, 5, 17, 42, 99, 198, 1000, 77091, 151643, 151644, 151645, 151668];
const IM_END = 151645;
const map = VocabMap.fromIds(KEPT);

describe("VocabMap", () => {
  it("maps kept Qwen3 ids to their positions and back", () => {
    expect(map.modelSize).toBe(12);
    expect(map.toModel([151644, 77091, 198, 42])).toEqual([9, 7, 5, 3]);
    expect(map.fromModel([9, 7, 5, 3])).toEqual([151644, 77091, 198, 42]);
  });

  it("refuses an id outside the vocabulary with a message that says how to avoid it", () => {
    expect(() => map.toModel([5, 6])).toThrow(
      /token 6 is outside the model's vocabulary of 12 tokens; .*withTrimmedVocab/,
    );
    expect(() => map.fromModel([12])).toThrow(/model token 12 is outside its vocabulary of 12/);
  });

  it("maps a datum's inputs, targets and teacher top-k ids, and passes teacher rows on as they are", () => {
    const rows = Float32Array.from([...KEPT.map((_, c) => -1 - c), ...KEPT.map((_, c) => -2 - 2 * c)]);
    const datum: Datum = {
      modelInput: [151644, 42],
      lossFnInputs: {
        targetTokens: [42, IM_END],
        weights: [0, 1],
        teacherTopkIds: Int32Array.from([42, 99, IM_END, 0]),
        teacherRowsStart: 0,
        teacherLogprobs: rows,
      },
    };
    const inner = map.datumToModel(datum);
    expect(inner.modelInput).toEqual([9, 3]);
    expect(inner.lossFnInputs.targetTokens).toEqual([3, 10]);
    expect(inner.lossFnInputs.weights).toEqual([0, 1]);
    expect([...inner.lossFnInputs.teacherTopkIds!]).toEqual([3, 4, 10, 0]);
    expect(inner.lossFnInputs.teacherRowsStart).toBe(0);
    // Rows are already in the model's vocabulary: the same buffer, neither copied nor widened.
    expect(inner.lossFnInputs.teacherLogprobs).toBe(rows);
    expect(datum.modelInput).toEqual([151644, 42]);
  });

  it("drops stop tokens the model lacks, maps the rest, and maps sampled tokens back", () => {
    expect(map.samplingToModel({ maxTokens: 4, temperature: 0, stop: [IM_END, 151657] }).stop).toEqual([10]);
    const out = map.sampleFromModel({ sequences: [{ tokens: [3, 10], logprobs: [-1, -2], stopReason: "stop" }] });
    expect(out.sequences[0]!.tokens).toEqual([42, IM_END]);
    expect(map.topkFromModel({ ids: Int32Array.from([10, 0]), logprobs: Float32Array.from([-0.1, -3]) }).ids).toEqual(
      Int32Array.from([IM_END, 0]),
    );
  });

  it("reads vocab.json from a model directory, and finds none where there is none", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-vocab-"));
    try {
      expect(VocabMap.read(dir)).toBeNull();
      fs.writeFileSync(path.join(dir, "vocab.json"), JSON.stringify({ tokenizer: "qwen3", ids: KEPT }));
      expect(VocabMap.read(dir)!.toModel([IM_END])).toEqual([10]);
      fs.writeFileSync(path.join(dir, "vocab.json"), JSON.stringify({ tokenizer: "qwen3", ids: [5, 5] }));
      expect(() => VocabMap.read(dir)).toThrow(/strictly ascending/);
      fs.writeFileSync(path.join(dir, "vocab.json"), JSON.stringify({ tokenizer: "llama", ids: KEPT }));
      expect(() => VocabMap.read(dir)).toThrow(/not qwen3/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("SAME_IDS leaves ids as they are", () => {
    expect(SAME_IDS.toModel([151644, 7])).toEqual([151644, 7]);
    expect(SAME_IDS.modelSize).toBeNull();
  });
});

describe("the embedded backend over a trimmed-vocabulary model", () => {
  const config = tinyConfig({ vocabSize: KEPT.length, maxPositionEmbeddings: 64 });
  let dir: string;
  let direct: Engine;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-trimmed-model-"));
    direct = Engine.fromConfig(config, createJsKernels(), { seed: 3, initializerRange: 0.5 });
    direct.saveBaseModel(dir);
    fs.writeFileSync(path.join(dir, "vocab.json"), JSON.stringify({ tokenizer: "qwen3", ids: KEPT }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("hands out log-softmax rows in the model's own vocabulary, each Qwen3 id at its compact column", async () => {
    const backend = createEmbeddedBackend({ models: {}, kernels: "js", statesDir: path.join(dir, "states-rows") });
    try {
      const sampler = await backend.createSamplingClient({ baseModel: dir });
      const sequence = [151644, 77091, 198, 42];
      const rows = await sampler.logSoftmaxRows(sequence, [2, 3]);
      expect(sampler.rowWidth).toBe(KEPT.length);
      expect(rows.length).toBe(2 * KEPT.length);
      expect(Array.from(rows)).toEqual(Array.from(direct.logSoftmaxRows(null, map.toModel(sequence), [2, 3])));
      expect(sampler.rowColumns([IM_END, 42])).toEqual([10, 3]);
      // Row 2 predicts the token after 198, which is 42: its column holds computeLogprobs' value.
      const [column] = sampler.rowColumns([42]);
      expect(rows[column!]).toBeCloseTo((await sampler.computeLogprobs(sequence))[3]!, 5);
    } finally {
      await backend.close();
    }
  });

  it("samples, scores and trains in Qwen3 ids, matching the engine run on compact ids", async () => {
    const backend = createEmbeddedBackend({ models: {}, kernels: "js", statesDir: path.join(dir, "states") });
    try {
      const prompt = [151644, 77091, 198, 42];
      const sampler = await backend.createSamplingClient({ baseModel: dir });
      const params = { maxTokens: 6, temperature: 0, seed: 1, stop: [IM_END] };
      const sampled = (await sampler.sample(prompt, params)).sequences[0]!;
      const inner = direct.sample(null, map.toModel(prompt), { ...params, stop: [10] }).sequences[0]!;
      expect(sampled.tokens).toEqual(map.fromModel(inner.tokens));
      expect(sampled.tokens.every((id) => KEPT.includes(id))).toBe(true);

      const logprobs = await sampler.computeLogprobs([...prompt, IM_END]);
      expect(logprobs).toEqual(direct.computeLogprobs(null, map.toModel([...prompt, IM_END])));
      await expect(sampler.sample([151644, 6], params)).rejects.toThrow(/token 6 is outside the model's vocabulary/);

      const trainer = await backend.createTrainingClient({ baseModel: dir, rank: 2, seed: 0 });
      const datum: Datum = {
        modelInput: prompt,
        lossFnInputs: { targetTokens: [77091, 198, 42, IM_END], weights: [0, 0, 1, 1] },
      };
      const result = await trainer.forwardBackward([datum], "cross_entropy");
      const expected = direct.forward(null, [map.datumToModel(datum)], "cross_entropy");
      expect(result.metrics["loss:sum"]).toBeCloseTo(expected.metrics["loss:sum"]!, 5);
      await expect(
        trainer.forwardBackward([{ ...datum, modelInput: [151644, 77091, 198, 7] }], "cross_entropy"),
      ).rejects.toThrow(/token 7 is outside/);
    } finally {
      await backend.close();
    }
  });

  it("trains reverse_kl on windowed teacher rows as the engine does, and as on rows over every position", async () => {
    const backend = createEmbeddedBackend({ models: {}, kernels: "js", statesDir: path.join(dir, "states-kl") });
    try {
      const sequence = [151644, 77091, 198, 42, IM_END, 5];
      const P = 4;
      const sampler = await backend.createSamplingClient({ baseModel: dir });
      const positions = [P - 1, P]; // the completion's two rows
      const teacher = await sampler.logSoftmaxRows([151644, 17, 198, 42, IM_END, 5], positions);
      expect(teacher.length).toBe(2 * KEPT.length);
      const N = sequence.length - 1;
      const base = {
        modelInput: sequence.slice(0, -1),
        lossFnInputs: { targetTokens: sequence.slice(1), weights: [0, 0, 0, 1, 1] },
      };
      const windowed = (): Datum => ({
        ...base,
        lossFnInputs: { ...base.lossFnInputs, teacherRowsStart: P - 1, teacherLogprobs: Float32Array.from(teacher) },
      });
      const spread = new Float32Array(N * KEPT.length);
      spread.set(teacher, (P - 1) * KEPT.length);
      const trainer = await backend.createTrainingClient({ baseModel: dir, rank: 2, seed: 0 });
      const win = await trainer.forwardBackward([windowed()], "reverse_kl");
      const full = await trainer.forwardBackward(
        [{ ...base, lossFnInputs: { ...base.lossFnInputs, teacherLogprobs: spread } }],
        "reverse_kl",
      );
      const expected = direct.forward(null, [map.datumToModel(windowed())], "reverse_kl");
      expect(win).toEqual(full);
      expect(win.metrics["loss:sum"]).toBeGreaterThan(0);
      expect(win.metrics["loss:sum"]).toBeCloseTo(expected.metrics["loss:sum"]!, 5);
    } finally {
      await backend.close();
    }
  });

  it("refuses a vocab.json whose size differs from the model's vocabulary", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "cc-trimmed-bad-"));
    direct.saveBaseModel(other);
    fs.writeFileSync(path.join(other, "vocab.json"), JSON.stringify({ tokenizer: "qwen3", ids: KEPT.slice(1) }));
    const backend = createEmbeddedBackend({ models: {}, kernels: "js", statesDir: path.join(other, "states") });
    try {
      await expect(backend.createSamplingClient({ baseModel: other })).rejects.toThrow(
        /vocab.json keeps 11 tokens but the model has 12/,
      );
    } finally {
      await backend.close();
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

const BUNDLED_DIR = projectPath("models", "qwen3-tiny-coder");

describe.skipIf(!fs.existsSync(path.join(BUNDLED_DIR, "model.safetensors")))(
  "entropies from the bundled trimmed-vocabulary model",
  () => {
    it("forward_backward's entropies in Qwen3 ids equal those of the sampler's rows, which are the model's width", async () => {
      const backend = createEmbeddedBackend({
        statesDir: fs.mkdtempSync(path.join(os.tmpdir(), "cc-entropy-states-")),
      });
      try {
        const bundled = VocabMap.read(BUNDLED_DIR)!;
        const sequence = bundled.fromModel([3, 40, 200, 7, 512, 90, 1001, 64, 300, 12]);
        const P = 5;
        const N = sequence.length - 1;
        const positions = Array.from({ length: N - (P - 1) }, (_, i) => P - 1 + i);
        const weights = Array.from({ length: N }, (_, t) => (t >= P - 1 ? 1 : 0));
        const trainer = await backend.createTrainingClient({ baseModel: EMBEDDED_MODEL, rank: 2, seed: 0 });
        const sampler = await trainer.saveWeightsForSampler();
        const logprobs = (await sampler.computeLogprobs(sequence)).slice(1).map((lp) => lp ?? 0);
        const datum: Datum = {
          modelInput: sequence.slice(0, -1),
          lossFnInputs: { targetTokens: sequence.slice(1), weights, logprobs, advantages: weights },
        };
        const out = (await trainer.forwardBackward([datum], "importance_sampling")).lossFnOutputs[0]!.entropies!;
        if (!canScoreDistributions(sampler)) throw new Error("the embedded sampler gives distributions");
        const rows = await sampler.logSoftmaxRows(sequence, positions);
        const V = sampler.rowWidth;
        expect(V).toBe(bundled.modelSize);
        expect(V).toBeLessThan(QWEN3_ROWS);
        expect(rows.length).toBe(positions.length * V);
        for (const [i, t] of positions.entries())
          expect(out[t]).toBeCloseTo(meanRowEntropy(rows.subarray(i * V, (i + 1) * V), V), 5);
        expect(out.slice(0, P - 1)).toEqual([0, 0, 0, 0]);
      } finally {
        await backend.close();
      }
    });
  },
);
