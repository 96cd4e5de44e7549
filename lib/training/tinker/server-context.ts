/**
 * What every route of the Tinker-protocol server shares: the backend, the store of sessions, runs
 * and checkpoints, the futures, the models and sampling sessions in memory, and the lookups that
 * turn a request's ids into them (each refusing an unknown or lost one with the status Tinker
 * gives). Built once per server by createTinkerProtocolServer and handed to the route modules.
 */
import { z } from "zod";
import type { SamplingClient, TrainingBackend, TrainingClient } from "../types";
import { ServerAuth, type ServerAuthOptions } from "./server-auth";
import { DEFAULT_MAX_NUM_SAMPLES } from "./server-limits";
import { FutureStore, HttpError, SeqQueue, type SeqQueueOptions, UserError } from "./server-state";
import { ServerStore, type StoredTrainingRun } from "./server-store";
import type { TokenDecoder } from "./stop-strings";
import { parseTinkerPath, quotePath } from "./tinker-path";

export interface TinkerProtocolServerOptions extends ServerAuthOptions {
  /** How long one retrieve_future call waits for a running operation before `try_again`. */
  longPollMs?: number;
  /** Samples running at once; a submit beyond it that asks for backpressure gets 429. */
  maxConcurrentSamples?: number;
  /** Finished futures kept for polling; older ones answer 410. */
  maxFutures?: number;
  /** Request bodies past this size get 413 (default DEFAULT_MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** The most samples one asample call may ask for (default DEFAULT_MAX_NUM_SAMPLES). */
  maxNumSamples?: number;
  /**
   * Whether forward_backward bodies and sample / forward_backward results may be protobuf, as SDK
   * 0.25 needs (default true). Off, the server speaks only JSON, as before SDK 0.25 and as some
   * Tinker-protocol servers still do: a protobuf body is refused with 415.
   */
  protobuf?: boolean;
  /** The tokenizer of a served model, for stop strings; without one a sample with stop strings is refused. */
  decoderFor?: (baseModel: string) => Promise<TokenDecoder | null>;
  /** Called for every authenticated request, before it is handled (logging, tests). */
  onRequest?: (path: string, body: unknown) => void;
  /** Where sessions, runs and checkpoints are kept (default: in memory, lost with the process). */
  store?: ServerStore;
  /** How long a model's queued requests wait for a missing seq_id (SeqQueue, default 60 s). */
  seqGapTimeoutMs?: SeqQueueOptions["gapTimeoutMs"];
  /** Where failures the client is not shown in full (host paths) are reported. */
  logError?: (message: string, error: unknown) => void;
}

const addressing = z.object({ model_id: z.string(), seq_id: z.number().int() });

interface ModelRecord {
  sessionId: string;
  baseModel: string;
  rank: number;
  client: Promise<TrainingClient>;
  queue: SeqQueue;
}

interface SamplerRecord {
  baseModel: string;
  modelPath: string | null;
  client: Promise<SamplingClient>;
  requestsBySeqId: Map<number, string>;
}

/**
 * 64 MiB: the SDK splits forward_backward into requests of about 5 MB (fwdbwd_max_chunk_bytes_count,
 * tinker-api.md §1), so this is over ten times the largest body a Tinker client sends, while parsing
 * it as JSON still costs well under a GiB of memory.
 */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export type ProtocolContext = ReturnType<typeof createProtocolContext>;

/** A route: the parsed body (and whether the client asked for backpressure) → the JSON answer. */
export type Route = (body: unknown, backpressure: boolean) => Promise<unknown> | unknown;

export function createProtocolContext(backend: TrainingBackend, options: TinkerProtocolServerOptions) {
  const auth = new ServerAuth(options);
  const store = options.store ?? ServerStore.open(null);
  const futures = new FutureStore(options.maxFutures ?? 1024, store.boot);
  const queueOptions: SeqQueueOptions = { gapTimeoutMs: options.seqGapTimeoutMs };
  const logError = options.logError ?? (() => {});
  const longPollMs = options.longPollMs ?? 5_000;
  const maxConcurrentSamples = options.maxConcurrentSamples ?? 64;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const protobuf = options.protobuf ?? true;
  const maxNumSamples = options.maxNumSamples ?? DEFAULT_MAX_NUM_SAMPLES;
  /** Models whose weights are in the engine now; the store also knows those from before a restart. */
  const models = new Map<string, ModelRecord>();
  const samplers = new Map<string, SamplerRecord>();
  /** Sampler checkpoints saved by this process, still open: sampling them needs no reload. */
  const openSamplerCheckpoints = new Map<string, SamplingClient>();
  /** Samples running now, for the backpressure check (asample). */
  const samples = { running: 0 };

  const requireSession = (id: string) => {
    if (!store.session(id)) throw new HttpError(404, `unknown session ${quotePath(id)}`);
  };
  const lostModel = (id: string, run: StoredTrainingRun): HttpError => {
    if (run.unloaded) return new HttpError(404, `model ${id} was unloaded`);
    const resume = run.lastCheckpoint
      ? `its last saved state is ${run.lastCheckpoint} (step ${store.checkpoint(run.lastCheckpoint)?.step ?? "?"}): load it (load_state) to resume from there`
      : "it saved no state (save_state), so create a new training client";
    return new HttpError(404, `model ${id} lost its weights when the server restarted; ${resume}`);
  };
  const requireModel = (id: string) => {
    const model = models.get(id);
    if (model) return model;
    const run = store.trainingRun(id);
    throw run ? lostModel(id, run) : new HttpError(404, `unknown model ${quotePath(id)}`);
  };
  /** The checkpoint a client names, if this server issued it: never a path on its filesystem. */
  const requireCheckpoint = (tinkerPath: string, kind: "weights" | "sampler_weights") => {
    const parsed = parseTinkerPath(tinkerPath);
    // Not echoed: a malformed path may be a host path, and the answer should not confirm one.
    if (!parsed)
      throw new HttpError(400, `not a checkpoint path: checkpoints are named tinker://<training run>/${kind}/<name>`);
    const stored = store.checkpoint(tinkerPath);
    if (!stored) throw new HttpError(404, `unknown checkpoint ${quotePath(tinkerPath)}`);
    if (stored.kind !== kind) {
      throw new HttpError(
        400,
        kind === "weights"
          ? `${tinkerPath} is a sampler checkpoint; load_weights needs a weights one`
          : `${tinkerPath} is a training checkpoint; sample from sampler_weights`,
      );
    }
    return stored;
  };
  /** A backend failure on the server's own files: the client hears what failed, the log hears where. */
  const unreadable = (tinkerPath: string) => (error: unknown) => {
    logError(`checkpoint ${tinkerPath} could not be read`, error);
    throw new HttpError(
      404,
      `checkpoint ${tinkerPath} could not be read: its files on the server are missing or damaged`,
    );
  };
  const servedModel = async (baseModel: string) => (await backend.listModels()).find((m) => m.modelName === baseModel);
  const requireServed = async (baseModel: string) => {
    const served = await backend.listModels();
    if (!served.some((m) => m.modelName === baseModel)) {
      throw new UserError(
        `base model ${baseModel} is not served; served: ${served.map((m) => m.modelName).join(", ")}`,
      );
    }
  };
  /** Checkpoint names in the backend's store must not collide between models. */
  const backendName = (modelId: string, name: string) => `${modelId.replace(/[^A-Za-z0-9_-]/g, "_")}-${name}`;

  /** Queue `work` at the model's seq_id and hand back a future for it. */
  const ordered = (model: ModelRecord, seqId: number, work: (client: TrainingClient) => Promise<unknown>) => {
    if (seqId < 1) throw new HttpError(400, `seq_id starts at 1 (create_model is 0); got ${seqId}`);
    const outcome = model.queue.submit(seqId, async () => work(await model.client));
    return { request_id: futures.create(outcome) };
  };

  /**
   * A model from before a restart comes back on a load_weights: a fresh adapter of its shape whose
   * queue starts at this request's seq_id (the client kept counting while the server was down).
   */
  const revive = (modelId: string, seqId: number): ModelRecord => {
    const run = store.trainingRun(modelId);
    if (!run || run.unloaded) return requireModel(modelId);
    const client = backend.createTrainingClient({
      baseModel: run.baseModel,
      rank: run.rank,
      seed: run.seed ?? undefined,
    });
    const record: ModelRecord = {
      sessionId: run.sessionId,
      baseModel: run.baseModel,
      rank: run.rank,
      client,
      queue: new SeqQueue(seqId, queueOptions),
    };
    models.set(modelId, record);
    client.catch(() => forgetModel(modelId, record));
    return record;
  };
  const forgetModel = (modelId: string, record: ModelRecord) => {
    if (models.get(modelId) === record) models.delete(modelId);
  };

  /** Uses up the seq_id of an ordered request that was refused before it was queued. */
  const refuseSeqId = (body: unknown, error: unknown) => {
    const parsed = addressing.safeParse(body);
    if (!parsed.success) return;
    models
      .get(parsed.data.model_id)
      ?.queue.refuse(parsed.data.seq_id, error instanceof Error ? error : new Error(String(error)));
  };

  const registerSampler = (id: string, record: Omit<SamplerRecord, "requestsBySeqId">) => {
    const registered = { ...record, requestsBySeqId: new Map() };
    samplers.set(id, registered);
    record.client.catch(() => samplers.get(id) === registered && samplers.delete(id));
    return registered;
  };
  const openSamplerCheckpoint = (tinkerPath: string): Promise<SamplingClient> => {
    const stored = requireCheckpoint(tinkerPath, "sampler_weights");
    const open = openSamplerCheckpoints.get(tinkerPath);
    if (open) return Promise.resolve(open);
    if (stored.backendPath === null) {
      return Promise.reject(
        new HttpError(
          404,
          `sampler weights ${tinkerPath} lived in memory only and were lost when the server restarted`,
        ),
      );
    }
    return backend.createSamplingClient({ modelPath: stored.backendPath }).catch(unreadable(tinkerPath));
  };
  /** A live sampling session, or one from before a restart reopened from what it read. */
  const requireSampler = (id: string): SamplerRecord => {
    const live = samplers.get(id);
    if (live) return live;
    const stored = store.sampler(id);
    if (!stored) throw new HttpError(404, `unknown sampling session ${quotePath(id)}`);
    if (stored.ephemeral) {
      throw new HttpError(
        404,
        `sampling session ${id} held weights in memory only and lost them when the server restarted; save_weights_for_sampler with a name keeps weights across restarts`,
      );
    }
    const client = stored.modelPath
      ? openSamplerCheckpoint(stored.modelPath)
      : backend.createSamplingClient({ baseModel: stored.baseModel });
    return registerSampler(id, { baseModel: stored.baseModel, modelPath: stored.modelPath, client });
  };

  return {
    backend,
    options,
    auth,
    store,
    futures,
    queueOptions,
    logError,
    longPollMs,
    maxConcurrentSamples,
    maxBodyBytes,
    protobuf,
    maxNumSamples,
    models,
    samplers,
    openSamplerCheckpoints,
    samples,
    requireSession,
    requireModel,
    requireCheckpoint,
    unreadable,
    servedModel,
    requireServed,
    backendName,
    ordered,
    revive,
    forgetModel,
    refuseSeqId,
    registerSampler,
    openSamplerCheckpoint,
    requireSampler,
  };
}
