/**
 * What the embedded backend adds to the contract: model names and directories, one engine shared
 * by every client of a model, a bounded number of sampler snapshots in memory, EMA and frozen
 * teachers, releasing a client's memory, where states are written, health probes, and close().
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EngineClient, type EngineWorkerData } from "../engine/client";
import { ADAM, ceDatum, FIXTURE_DIR } from "./contract-suite";
import { createEmbeddedBackend, type EmbeddedBackend, type EmbeddedBackendOptions } from "./embedded";
import { EMBEDDED_MODEL } from "./models";

const MODEL = "test/qwen3-tiny-a";
const SEQUENCE = [5, 17, 42, 99, 7, 250, 3, 61, 12, 300, 44, 8];

let statesDir: string;
let open: EmbeddedBackend[] = [];
let engines: EngineClient[] = [];

beforeAll(() => {
  statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-embedded-"));
});
afterEach(async () => {
  await Promise.all(open.map((b) => b.close()));
  open = [];
  engines = [];
});
afterAll(() => fs.rmSync(statesDir, { recursive: true, force: true }));

/** A backend over the fixture whose engine starts are recorded. */
function backend(options: EmbeddedBackendOptions = {}): EmbeddedBackend {
  const b = createEmbeddedBackend({
    models: { [MODEL]: { dir: FIXTURE_DIR } },
    kernels: "js",
    statesDir,
    engine: async (data: EngineWorkerData) => {
      const engine = await EngineClient.start(data);
      engines.push(engine);
      return engine;
    },
    ...options,
  });
  open.push(b);
  return b;
}

describe("the embedded backend", () => {
  it("an unknown model name fails with the models that are available", async () => {
    await expect(backend().createTrainingClient({ baseModel: "Qwen/Qwen3-8B", rank: 4 })).rejects.toThrow(
      `unknown model Qwen/Qwen3-8B; available: ${MODEL}`,
    );
  });

  it("the bundled model's name says it is not installed when its directory is missing", async () => {
    const b = backend({ models: { [EMBEDDED_MODEL]: { dir: path.join(statesDir, "no-model-here") } } });
    await expect(b.createTrainingClient({ baseModel: EMBEDDED_MODEL, rank: 4 })).rejects.toThrow(
      /continualcode\/qwen3-tiny-coder is not installed/,
    );
    expect(await b.listModels()).toEqual([]);
    expect(await b.probe(EMBEDDED_MODEL)).toMatchObject({ reachable: false });
  });

  it("a Hugging Face directory works as a model name and is then listed", async () => {
    const b = backend({ models: {} });
    const trainer = await b.createTrainingClient({ baseModel: FIXTURE_DIR, rank: 2 });
    expect(trainer.rank).toBe(2);
    expect((await b.listModels()).map((m) => m.modelName)).toEqual([FIXTURE_DIR]);
  });

  it("every training client of one model shares one engine, with its own adapter", async () => {
    const b = backend();
    const [one, two] = await Promise.all([
      b.createTrainingClient({ baseModel: MODEL, rank: 4, seed: 1 }),
      b.createTrainingClient({ baseModel: MODEL, rank: 4, seed: 1 }),
    ]);
    expect(engines).toHaveLength(1);
    expect(one.clientId).not.toBe(two.clientId);
    const before = await (await two.saveWeightsForSampler()).computeLogprobs(SEQUENCE);
    for (let i = 0; i < 2; i++) {
      await one.forwardBackward([ceDatum()], "cross_entropy");
      await one.optimStep(ADAM);
    }
    expect(await (await two.saveWeightsForSampler()).computeLogprobs(SEQUENCE)).toEqual(before);
    expect(await (await one.saveWeightsForSampler()).computeLogprobs(SEQUENCE)).not.toEqual(before);
    expect(await b.probe(MODEL)).toEqual({ reachable: true, detail: `${MODEL} from ${FIXTURE_DIR}, engine running` });
  });

  it("keeps only the newest sampler snapshots in memory; an older named one reloads from disk", async () => {
    const b = backend({ samplersInMemory: 2 });
    const trainer = await b.createTrainingClient({ baseModel: MODEL, rank: 4 });
    const train = async () => {
      await trainer.forwardBackward([ceDatum()], "cross_entropy");
      await trainer.optimStep(ADAM);
    };
    await train();
    const named = await trainer.saveWeightsForSampler("kept");
    const namedLogprobs = await named.computeLogprobs(SEQUENCE);
    const unnamed = await trainer.saveWeightsForSampler();
    await train();
    await trainer.saveWeightsForSampler();
    const memory = (await engines[0].memoryStats())!.liveBytes;
    await train();
    await trainer.saveWeightsForSampler();
    await trainer.saveWeightsForSampler();
    expect((await engines[0].memoryStats())!.liveBytes).toBe(memory);
    await expect(unnamed.computeLogprobs(SEQUENCE)).rejects.toThrow(/released/);
    // Concurrent calls share one reload, so memory stays at two snapshots (plus the engine's
    // prefix cache, which now holds the scored sequence's keys and values).
    const together = await Promise.all([1, 2, 3].map(() => named.computeLogprobs(SEQUENCE)));
    expect(together).toEqual([namedLogprobs, namedLogprobs, namedLogprobs]);
    const c = engines[0].config;
    const kvBytes = 2 * c.numLayers * SEQUENCE.length * c.numKvHeads * c.headDim * 4;
    expect((await engines[0].memoryStats())!.liveBytes).toBe(memory + kvBytes);
  });

  it("an EMA teacher starts at the current weights and moves toward the student by the rate", async () => {
    const trainer = await backend().createTrainingClient({ baseModel: MODEL, rank: 4, seed: 2 });
    const frozen = await trainer.snapshotTeacher();
    const start = await (await trainer.emaTeacher(0.5)).computeLogprobs(SEQUENCE);
    expect(start).toEqual(await frozen.computeLogprobs(SEQUENCE));
    for (let i = 0; i < 2; i++) {
      await trainer.forwardBackward([ceDatum()], "cross_entropy");
      await trainer.optimStep(ADAM);
    }
    const student = await (await trainer.saveWeightsForSampler()).computeLogprobs(SEQUENCE);
    expect(await (await trainer.emaTeacher(0)).computeLogprobs(SEQUENCE)).toEqual(start);
    const half = await (await trainer.emaTeacher(0.5)).computeLogprobs(SEQUENCE);
    expect(half).not.toEqual(start);
    expect(half).not.toEqual(student);
    expect(await (await trainer.emaTeacher(1)).computeLogprobs(SEQUENCE)).toEqual(student);
    expect(await frozen.computeLogprobs(SEQUENCE)).toEqual(start);
    await expect(trainer.emaTeacher(2)).rejects.toThrow(/rate/);
  });

  it("saves states under <statesDir>/<clientId>/<name> and refuses names that are not one path segment", async () => {
    const trainer = await backend().createTrainingClient({ baseModel: MODEL, rank: 4 });
    const saved = await trainer.saveState("after-step-1");
    expect(saved).toBe(path.join(statesDir, trainer.clientId, "after-step-1"));
    expect(fs.readdirSync(saved).sort()).toEqual(["checkpoint.json", "lora_state.json", "lora_state.safetensors"]);
    await expect(trainer.saveState("../escape")).rejects.toThrow(/must be letters/);
    await expect(trainer.saveWeightsForSampler("a/b")).rejects.toThrow(/must be letters/);
  });

  it("a state from another base model is refused", async () => {
    const b = backend({ models: { [MODEL]: { dir: FIXTURE_DIR }, other: { dir: FIXTURE_DIR } } });
    const saved = await (await b.createTrainingClient({ baseModel: MODEL, rank: 4 })).saveState("mine");
    await expect(b.createTrainingClient({ baseModel: "other", rank: 4, fromState: saved })).rejects.toThrow(
      /trained on test\/qwen3-tiny-a, not other/,
    );
  });

  it("releasing a training client returns the engine's memory to where it was before the client", async () => {
    const b = backend();
    await b.createTrainingClient({ baseModel: MODEL, rank: 4 });
    const baseline = (await engines[0].memoryStats())!.liveBytes;
    const trainer = await b.createTrainingClient({ baseModel: MODEL, rank: 8 });
    await trainer.forwardBackward([ceDatum()], "cross_entropy");
    await trainer.optimStep(ADAM);
    const sampler = await trainer.saveWeightsForSampler("released");
    await trainer.saveWeightsForSampler();
    await trainer.emaTeacher(0.1);
    await trainer.snapshotTeacher();
    expect((await engines[0].memoryStats())!.liveBytes).toBeGreaterThan(baseline);
    await trainer.release();
    expect((await engines[0].memoryStats())!.liveBytes).toBe(baseline);
    await expect(sampler.computeLogprobs(SEQUENCE)).rejects.toThrow(/released/);
  });

  it("close() stops its engines and refuses new work", async () => {
    const b = backend();
    await b.createTrainingClient({ baseModel: MODEL, rank: 4 });
    await b.close();
    await expect(engines[0].hasAdapter("x")).rejects.toThrow(/closed/);
    await expect(b.createTrainingClient({ baseModel: MODEL, rank: 4 })).rejects.toThrow(/closed/);
  });
});
