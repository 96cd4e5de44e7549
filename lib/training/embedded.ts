/**
 * The embedded training backend, the default: the TrainingBackend contract over the engine's worker
 * thread. One engine per base model starts on first use and is shared by every training client of
 * that model, so many users' adapters live in one engine and one copy of the base weights. States
 * are written under a states directory; samplers are frozen snapshots (see embedded-clients.ts).
 * A model directory with a vocab.json (a trimmed vocabulary) gets a VocabMap, so callers keep
 * using Qwen3 ids.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { FIELDS } from "../config/fields";
import { EngineClient, type EngineWorkerData } from "../engine/client";
import { EmbeddedSamplingClient, EmbeddedTrainingClient, fixedAdapter, readMeta } from "./embedded-clients";
import { availableModels, defaultCatalogue, type ModelCatalogue, type ModelSource, resolveModel } from "./models";
import {
  type BackendCapabilities,
  type CreateTrainingClientOptions,
  LOSS_FN_NAMES,
  TEACHER_MODES,
  type TrainingBackend,
} from "./types";
import { SAME_IDS, VocabMap, type TokenSpace } from "./vocab-map";

export const EMBEDDED_CAPABILITIES: BackendCapabilities = {
  losses: LOSS_FN_NAMES,
  importanceSamplingClipRatio: true,
  teacherModes: TEACHER_MODES,
};

export interface EmbeddedBackendOptions {
  /** Model names → weights; default: the bundled model. Directory paths always work as names. */
  models?: ModelCatalogue;
  /** Engine kernels: "fast" (WebAssembly where available, the default) or the reference "js". */
  kernels?: EngineWorkerData["kernels"];
  /** Threads of each engine's kernels (the engineThreads setting); default: one per core. */
  threads?: number;
  /** Starts an engine (default EngineClient.start); tests and embedders may share or wrap one. */
  engine?: (data: EngineWorkerData) => Promise<EngineClient>;
  /** Default `<CONTINUALCODE_DATA_DIR or ./.data>/states`. */
  statesDir?: string;
  /** Sampler snapshots each training client keeps in memory (default 2: the newest and the one before). */
  samplersInMemory?: number;
}

export interface EmbeddedBackend extends TrainingBackend {
  readonly kind: "embedded";
  readonly capabilities: BackendCapabilities;
  createTrainingClient(options: CreateTrainingClientOptions): Promise<EmbeddedTrainingClient>;
  createSamplingClient(options: { baseModel?: string; modelPath?: string }): Promise<EmbeddedSamplingClient>;
  /** Can `model` be served: its weights exist and, once started, its engine answers. */
  probe(model: string, timeoutMs?: number): Promise<{ reachable: boolean; detail: string }>;
}

export function defaultStatesDir(env: Record<string, string | undefined> = process.env): string {
  return path.resolve(env.CONTINUALCODE_DATA_DIR ?? FIELDS.dataDir.default, "states");
}

interface RunningEngine {
  engine: EngineClient;
  source: ModelSource;
  ids: TokenSpace;
}

/** The token space of a started engine: its directory's vocab.json, which must match its vocabulary. */
async function tokenSpace(source: ModelSource, engine: EngineClient): Promise<TokenSpace> {
  if (!("dir" in source)) return SAME_IDS;
  try {
    const map = VocabMap.read(source.dir);
    if (!map) return SAME_IDS;
    if (map.modelSize !== engine.config.vocabSize) {
      throw new Error(
        `${source.dir}: vocab.json keeps ${map.modelSize} tokens but the model has ${engine.config.vocabSize}`,
      );
    }
    return map;
  } catch (error) {
    await engine.close();
    throw error;
  }
}

export function createEmbeddedBackend(options: EmbeddedBackendOptions = {}): EmbeddedBackend {
  const catalogue = options.models ?? defaultCatalogue();
  const start = options.engine ?? ((data: EngineWorkerData) => EngineClient.start(data));
  const statesDir = options.statesDir ?? defaultStatesDir();
  const samplersInMemory = options.samplersInMemory ?? 2;
  /** Ids are unique per backend and distinct between processes sharing a states directory. */
  const tag = randomBytes(3).toString("hex");
  const engines = new Map<string, Promise<RunningEngine>>();
  let clients = 0;
  let loaded = 0;
  let closed = false;

  const engineFor = (model: string): Promise<RunningEngine> => {
    if (closed) return Promise.reject(new Error("the embedded backend is closed"));
    let running = engines.get(model);
    if (!running) {
      let source: ModelSource;
      try {
        source = resolveModel(catalogue, model);
      } catch (error) {
        return Promise.reject(error);
      }
      running = start({ model: source, kernels: options.kernels ?? "fast", threads: options.threads }).then(
        async (engine) => ({
          engine,
          source,
          ids: await tokenSpace(source, engine),
        }),
      );
      // A failed start is not remembered: the next call tries again (weights may have appeared).
      running.catch(() => engines.delete(model));
      engines.set(model, running);
    }
    return running;
  };

  return {
    kind: "embedded",
    capabilities: EMBEDDED_CAPABILITIES,

    async createTrainingClient(create) {
      const { engine, ids } = await engineFor(create.baseModel);
      const clientId = `${tag}-${++clients}`;
      let rank = create.rank;
      if (create.fromState !== undefined) {
        const meta = readMeta(create.fromState);
        if (meta && meta.baseModel !== create.baseModel) {
          throw new Error(`state ${create.fromState} was trained on ${meta.baseModel}, not ${create.baseModel}`);
        }
        // Weights and optimizer state; the adapter takes the saved rank.
        await engine.loadState(clientId, create.fromState);
        rank = (await engine.adapterInfo(clientId)).rank;
      } else {
        if (!(Number.isInteger(rank) && rank > 0)) throw new Error(`LoRA rank must be a positive integer; got ${rank}`);
        await engine.createAdapter(clientId, { rank, seed: create.seed });
      }
      return new EmbeddedTrainingClient({
        engine,
        clientId,
        baseModel: create.baseModel,
        rank,
        statesDir,
        samplersInMemory,
        ids,
      });
    },

    async createSamplingClient(open) {
      if (open.modelPath === undefined) {
        if (open.baseModel === undefined) throw new Error("createSamplingClient needs a baseModel or a modelPath");
        const { engine, ids } = await engineFor(open.baseModel);
        return new EmbeddedSamplingClient(engine, fixedAdapter(null), null, ids);
      }
      const baseModel = open.baseModel ?? readMeta(open.modelPath)?.baseModel;
      if (baseModel === undefined)
        throw new Error(`${open.modelPath} is not a checkpoint saved here; name its baseModel`);
      const { engine, ids } = await engineFor(baseModel);
      const id = `${tag}-path-${++loaded}`;
      await engine.loadState(id, open.modelPath, { weightsOnly: true });
      return new EmbeddedSamplingClient(engine, fixedAdapter(id), open.modelPath, ids);
    },

    async listModels() {
      const models = availableModels(catalogue);
      // Directory models that were loaded by path are served too.
      for (const name of engines.keys())
        if (!models.some((m) => m.modelName === name)) models.push({ modelName: name });
      return models;
    },

    async probe(model, timeoutMs = 2_000) {
      let source: ModelSource;
      try {
        source = resolveModel(catalogue, model);
      } catch (error) {
        return { reachable: false, detail: error instanceof Error ? error.message : String(error) };
      }
      const where = "dir" in source ? source.dir : "a random model";
      const running = engines.get(model);
      if (!running) return { reachable: true, detail: `${model} from ${where} (engine starts on first use)` };
      const answer = running
        .then(({ engine }) => engine.hasAdapter("__probe__"))
        .then(
          () => ({ reachable: true, detail: `${model} from ${where}, engine running` }),
          (error: unknown) => ({
            reachable: false,
            detail: `engine for ${model} failed: ${error instanceof Error ? error.message : String(error)}`,
          }),
        );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<{ reachable: boolean; detail: string }>((resolve) => {
        // The engine runs one call at a time: a slow answer means a long step or a load in
        // progress, not a dead worker (a dead one rejects at once).
        timer = setTimeout(
          () => resolve({ reachable: true, detail: `${model}: engine busy (no answer within ${timeoutMs} ms)` }),
          timeoutMs,
        );
      });
      return Promise.race([answer, late]).finally(() => clearTimeout(timer));
    },

    async close() {
      closed = true;
      const running = [...engines.values()];
      engines.clear();
      await Promise.all(
        running.map((r) =>
          r.then(
            ({ engine }) => engine.close(),
            () => undefined,
          ),
        ),
      );
    },
  };
}
