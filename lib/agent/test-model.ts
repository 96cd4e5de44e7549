/**
 * A real model for the agent's tests: a small random Qwen3 (the Qwen3 vocabulary, hidden 32, two
 * layers) written as a Hugging Face directory, then taught with real cross-entropy LoRA steps
 * through the embedded backend to reply to given prompts with given completions (a tool call, two
 * calls, plain text), checked by greedy sampling. The lm_head is drawn wider than the engine's
 * default (std 2, not 0.02) so that a LoRA can make one token the clear argmax at all.
 * Taught states are cached on disk, keyed by the examples and settings, and checked again on use,
 * so test files share one teaching run.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Message, Renderer, ToolSpec } from "@/lib/chat/types";
import { toHfConfig, type ModelConfig } from "@/lib/engine/config";
import { createJsKernels } from "@/lib/engine/kernels/js-kernels";
import type { Matrix } from "@/lib/engine/matrix";
import { type TensorToWrite, writeSafetensors } from "@/lib/engine/safetensors";
import { tinyConfig } from "@/lib/engine/testing";
import { namedBaseTensors, randomBaseModel } from "@/lib/engine/weights";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import type { Datum, SamplingClient } from "@/lib/training/types";
import type { AssistantMessage } from "@/lib/chat/types";

export const TEST_MODEL_CONFIG: ModelConfig = tinyConfig({
  vocabSize: 151_669,
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  maxPositionEmbeddings: 4096,
  ropeTheta: 10_000,
});
const LM_HEAD_STD = 2;
const WEIGHT_SEED = 7;

/** The tensors as float32 for writing: randomBaseModel draws float32 weights, never 16-bit ones. */
function float32Tensors(named: Record<string, { shape: number[]; data: Matrix }>): Record<string, TensorToWrite> {
  return Object.fromEntries(
    Object.entries(named).map(([name, t]) => {
      if (!(t.data instanceof Float32Array)) throw new Error(`the random test model's ${name} is not float32`);
      return [name, { shape: t.shape, data: t.data }];
    }),
  );
}

/** Writes the random model as config.json + model.safetensors (once per directory). */
export function writeTestModel(dir: string, config: ModelConfig = TEST_MODEL_CONFIG): string {
  if (fs.existsSync(path.join(dir, "model.safetensors"))) return dir;
  const model = randomBaseModel(config, WEIGHT_SEED, createJsKernels(), 0.02);
  const lmHead = model.lm_head;
  if (!(lmHead instanceof Float32Array)) throw new Error("the random test model's lm_head is not float32");
  for (let i = 0; i < lmHead.length; i++) lmHead[i]! *= LM_HEAD_STD / 0.02;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, "config.json"), JSON.stringify(toHfConfig(config)));
  writeSafetensors(path.join(tmp, "model.safetensors"), float32Tensors(namedBaseTensors(model)));
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process wrote it first
  }
  return dir;
}

/** One prompt and the reply the model must give to it. */
export type TeachExample = { messages: Message[]; reply: AssistantMessage };

export type TeachSpec = {
  /** The model name the backend serves the test model under (the renderer is picked by it). */
  modelName: string;
  examples: TeachExample[];
  tools: ToolSpec[];
  rank: number;
  learningRate: number;
  maxSteps: number;
  seed: number;
};

/** Where taught states and the model are cached (a temp directory, never the repository). */
export function testModelCacheDir(): string {
  return process.env.CONTINUALCODE_TEST_MODEL_CACHE ?? path.join(os.tmpdir(), "continualcode-agent-test-model");
}

export type Taught = { modelDir: string; statePath: string; steps: number };

type Prepared = { prompt: number[]; completion: number[]; datum: Datum };

function prepare(spec: TeachSpec, renderer: Renderer): Prepared[] {
  return spec.examples.map((ex) => {
    const prompt = renderer.renderPrompt(ex.messages, spec.tools, { addGenerationPrompt: true }).tokens;
    const full = renderer.renderPrompt([...ex.messages, ex.reply], spec.tools, { addGenerationPrompt: false });
    if (!prompt.every((t, i) => full.tokens[i] === t)) throw new Error("a teaching reply does not extend its prompt");
    return {
      prompt,
      completion: full.tokens.slice(prompt.length),
      datum: {
        modelInput: full.tokens.slice(0, -1),
        lossFnInputs: { targetTokens: full.tokens.slice(1), weights: full.weights.slice(1) },
      },
    };
  });
}

/** Does greedy sampling give every example's completion exactly? */
async function answersAll(sampler: SamplingClient, prepared: Prepared[], renderer: Renderer): Promise<boolean> {
  for (const d of prepared) {
    const out = await sampler.sample(d.prompt, {
      maxTokens: d.completion.length + 1,
      temperature: 0,
      stop: renderer.stopTokens,
    });
    const got = out.sequences[0]!.tokens;
    if (got.length !== d.completion.length || got.some((t, i) => t !== d.completion[i])) return false;
  }
  return true;
}

/**
 * A LoRA state that makes the test model answer every example exactly (greedy): from the cache
 * when the cached state still does (engine changes can shift numbers), else trained now. Throws
 * if `maxSteps` steps were not enough.
 */
export async function taughtTestModel(spec: TeachSpec, renderer: Renderer): Promise<Taught> {
  const root = testModelCacheDir();
  const modelKey = createHash("sha256")
    .update(JSON.stringify({ config: TEST_MODEL_CONFIG, std: LM_HEAD_STD, seed: WEIGHT_SEED }))
    .digest("hex")
    .slice(0, 16);
  const modelDir = writeTestModel(path.join(root, `model-${modelKey}`));
  const key = createHash("sha256").update(JSON.stringify({ spec, modelKey })).digest("hex").slice(0, 20);
  const done = path.join(root, `taught-${key}`);
  const marker = path.join(done, "taught.json");
  const prepared = prepare(spec, renderer);

  const release = await lock(`${done}.lock`);
  const statesDir = fs.mkdtempSync(path.join(root, "teach-"));
  const backend = createEmbeddedBackend({ models: { [spec.modelName]: { dir: modelDir } }, statesDir });
  try {
    if (fs.existsSync(marker)) {
      const cached: Taught = {
        modelDir,
        statePath: path.join(done, "state"),
        steps: (JSON.parse(fs.readFileSync(marker, "utf8")) as Taught).steps,
      };
      const sampler = await backend.createSamplingClient({ baseModel: spec.modelName, modelPath: cached.statePath });
      if (await answersAll(sampler, prepared, renderer)) return cached;
      fs.rmSync(done, { recursive: true, force: true });
    }
    const trainer = await backend.createTrainingClient({ baseModel: spec.modelName, rank: spec.rank, seed: spec.seed });
    for (let step = 1; step <= spec.maxSteps; step++) {
      await trainer.forwardBackward(
        prepared.map((d) => d.datum),
        "cross_entropy",
      );
      await trainer.optimStep({ learningRate: spec.learningRate, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
      if (step % 5 !== 0 && step !== spec.maxSteps) continue;
      if (!(await answersAll(await trainer.saveWeightsForSampler(), prepared, renderer))) continue;
      const tmp = `${done}.tmp-${process.pid}`;
      fs.cpSync(await trainer.saveState("taught"), path.join(tmp, "state"), { recursive: true });
      fs.writeFileSync(
        path.join(tmp, "taught.json"),
        JSON.stringify({ modelDir, statePath: path.join(done, "state"), steps: step } satisfies Taught),
      );
      fs.rmSync(done, { recursive: true, force: true });
      try {
        fs.renameSync(tmp, done);
      } catch {
        fs.rmSync(tmp, { recursive: true, force: true }); // another process finished first
      }
      return {
        modelDir,
        statePath: path.join(done, "state"),
        steps: (JSON.parse(fs.readFileSync(marker, "utf8")) as Taught).steps,
      };
    }
    throw new Error(`the test model did not learn its ${prepared.length} examples in ${spec.maxSteps} steps`);
  } finally {
    await backend.close();
    fs.rmSync(statesDir, { recursive: true, force: true });
    release();
  }
}

/**
 * A lock directory holding the owner's pid: test files starting together teach once, the others
 * wait and then find the cached state. A lock whose process is gone is taken over.
 */
async function lock(dir: string): Promise<() => void> {
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "pid"), String(process.pid));
      return () => fs.rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(fs.readFileSync(path.join(dir, "pid"), "utf8"));
    } catch {
      // Not written yet: the owner is between mkdir and writeFile.
    }
    if (Number.isInteger(owner) && !isAlive(owner)) fs.rmSync(dir, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
