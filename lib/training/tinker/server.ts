/**
 * A Tinker-protocol HTTP server over any TrainingBackend, so a Tinker client (ours or the Python
 * SDK on its JSON surface) can train on our engine: session → create_model → forward_backward /
 * optim_step / save & load weights (futures, in seq_id order per model) → sampling sessions and
 * asample (futures, backpressure via 429). Futures live in memory and answer `try_again` while
 * running; checkpoints get `tinker://<model_id>/<weights|sampler_weights>/<name>` paths, and only
 * paths this server issued resolve (looked up in its index, never passed on as a file name).
 * Sessions, training runs, checkpoints and sampling sessions are kept in a ServerStore, so with a
 * data directory they survive a restart; a model's weights do not (they live in the engine), so a
 * request to a model from before a restart is told to load its last saved state.
 * Every request is authenticated from its headers before a byte of its body is read, a body past
 * `maxBodyBytes` is refused with 413, and optimizer, LoRA and sampling parameters are checked
 * (server-limits.ts) before they reach the backend.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { z } from "zod";
import {
  canScoreDistributions,
  type DistributionSamplingClient,
  type SamplingClient,
  type TrainingBackend,
  type TrainingClient,
} from "../types";
import { ServerAuth, type ServerAuthOptions } from "./server-auth";
import {
  checkAdamParams,
  checkFiniteInputs,
  checkLoraRank,
  checkLossFn,
  checkSamplingParams,
  checkTopkPromptLogprobs,
  DEFAULT_MAX_NUM_SAMPLES,
} from "./server-limits";
import * as schema from "./server-schemas";
import { forwardBackwardOutputToProto, sampleResponseToProto } from "./proto/convert";
import { acceptsProtobuf, decodeBody, PROTOBUF_CONTENT_TYPE } from "./server-body";
import { answerRest } from "./server-rest";
import { cutAtStopStrings, type TokenDecoder } from "./stop-strings";
import { clientConfig } from "./client-config";
import { seqAddressOfUnreadable } from "./seq-address";
import { FutureStore, HttpError, SeqQueue, type SeqQueueOptions, UserError } from "./server-state";
import { ServerStore, type StoredTrainingRun } from "./server-store";
import { checkCheckpointName, formatTinkerPath, parseTinkerPath, quotePath } from "./tinker-path";
import {
  adamFromWire,
  datumFromWire,
  forwardBackwardToWire,
  lossConfigFromWire,
  sampleToWire,
  samplingParamsFromWire,
  stopStringsFromWire,
  type WireForwardBackwardOutput,
  type WireSampleResponse,
  type WireTopkPromptLogprobs,
} from "./wire";

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

/**
 * Routes whose requests carry a model's `model_id` and `seq_id`. A request to one of them that is
 * refused before it is queued (malformed, out of range, an unknown path) still uses up its seq_id,
 * so the model's later requests are not held waiting for it (SeqQueue.refuse).
 */
const ORDERED_ROUTES = new Set([
  "/api/v1/forward_backward",
  "/api/v1/forward",
  "/api/v1/optim_step",
  "/api/v1/save_weights",
  "/api/v1/load_weights",
  "/api/v1/save_weights_for_sampler",
]);

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

export function createTinkerProtocolServer(
  backend: TrainingBackend,
  options: TinkerProtocolServerOptions = {},
): http.Server {
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
  let samplesRunning = 0;

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

  /**
   * forward_backward, or with `forward_only` a forward pass that accumulates no gradient. The loss
   * and the inputs are checked in the model's queue, so a refused pass is a "user" failure of its
   * seq_id and the model's later requests run.
   */
  const lossPass = (req: schema.ForwardBackwardBody) => {
    const { data, loss_fn, loss_fn_config } = req.forward_backward_input;
    const datums = data.map((d, i) => badRequestOnThrow(() => datumFromWire(d), `datum ${i}: `));
    return ordered(requireModel(req.model_id), req.seq_id, async (client) => {
      const lossFn = checkLossFn(loss_fn, backend.capabilities?.losses);
      checkFiniteInputs(data);
      const config = lossConfigFromWire(loss_fn_config);
      if (!req.forward_only) return forwardBackwardToWire(await client.forwardBackward(datums, lossFn, config));
      if (!client.forward) throw new UserError("this server's backend cannot run a forward pass without gradients");
      return forwardBackwardToWire(await client.forward(datums, lossFn, config));
    });
  };

  const routes: Record<string, (body: unknown, backpressure: boolean) => Promise<unknown> | unknown> = {
    "/api/v1/get_server_capabilities": async () => ({
      supported_models: (await backend.listModels()).map((m) => ({
        model_name: m.modelName,
        ...(m.maxContextLength ? { max_context_length: m.maxContextLength } : {}),
      })),
    }),

    "/api/v1/create_session": (body) => {
      schema.createSessionBody.parse(body);
      const sessionId = `session-${randomBytes(6).toString("hex")}`;
      store.putSession({
        sessionId,
        createdAt: new Date().toISOString(),
        tags: schema.createSessionBody.parse(body).tags ?? [],
      });
      return { type: "create_session", session_id: sessionId };
    },

    "/api/v1/session_heartbeat": (body) => {
      // Sessions do not expire here; a heartbeat only has to name a live one.
      requireSession(schema.heartbeatBody.parse(body).session_id);
      return { type: "session_heartbeat" };
    },

    "/api/v1/create_model": async (body) => {
      const req = schema.createModelBody.parse(body);
      requireSession(req.session_id);
      // Tinker answers a bad rank with a 400 (tinker-api.md §9); an unserved model fails the future below.
      const served = await servedModel(req.base_model);
      if (served) badRequestOnThrow(() => checkLoraRank(req.lora_config.rank, served));
      const modelId = `${req.session_id}:train:${req.model_seq_id}`;
      const created = async (client: Promise<TrainingClient>) => (
        await client, { type: "create_model", model_id: modelId }
      );
      // A retried submit (its answer was lost) names the same model: hand back the same work.
      const existing = models.get(modelId);
      if (existing) return { request_id: futures.create(created(existing.client)), model_id: modelId };
      const queue = new SeqQueue(0, queueOptions);
      const client = queue.submit(0, async () => {
        await requireServed(req.base_model);
        const created = await backend.createTrainingClient({
          baseModel: req.base_model,
          rank: req.lora_config.rank,
          seed: req.lora_config.seed,
        });
        const now = new Date().toISOString();
        store.putTrainingRun({
          modelId,
          sessionId: req.session_id,
          baseModel: req.base_model,
          rank: req.lora_config.rank,
          seed: req.lora_config.seed ?? null,
          step: 0,
          createdAt: now,
          lastRequestAt: now,
          unloaded: false,
          lastCheckpoint: null,
          lastSamplerCheckpoint: null,
        });
        return created;
      });
      client.catch(() => models.delete(modelId));
      models.set(modelId, {
        sessionId: req.session_id,
        baseModel: req.base_model,
        rank: req.lora_config.rank,
        client,
        queue,
      });
      return { request_id: futures.create(created(client)), model_id: modelId };
    },

    "/api/v1/get_info": async (body) => {
      const { model_id } = schema.modelIdBody.parse(body);
      // A model from before a restart still has its shape (and its weights are one load away).
      const live = models.get(model_id);
      const run = store.trainingRun(model_id);
      const shape = live ? (await live.client, live) : run && !run.unloaded ? run : requireModel(model_id);
      return {
        type: "get_info",
        model_id,
        model_data: { model_name: shape.baseModel, tokenizer_id: shape.baseModel },
        is_lora: true,
        lora_rank: shape.rank,
        model_name: shape.baseModel,
      };
    },

    "/api/v1/unload_model": (body) => {
      const { model_id } = schema.modelIdBody.parse(body);
      const run = store.trainingRun(model_id);
      if (!models.has(model_id) && run && !run.unloaded) {
        store.updateTrainingRun(model_id, { unloaded: true });
        return { request_id: futures.create(Promise.resolve({ type: "unload_model", model_id })), model_id };
      }
      const model = requireModel(model_id);
      models.delete(model_id);
      store.updateTrainingRun(model_id, { unloaded: true });
      // The future resolves once the model's running work has finished and its memory is freed.
      const unloaded = model.queue.close().then(async () => {
        const client = await model.client.catch(() => null);
        await client?.release?.();
        return { type: "unload_model", model_id };
      });
      return { request_id: futures.create(unloaded), model_id };
    },

    "/api/v1/forward_backward": (body) => lossPass(schema.forwardBackwardBody.parse(body)),

    // SDK 0.24's forward (0.25 sends forward_backward with forward_only instead).
    "/api/v1/forward": (body) => {
      const { forward_input, ...addressed } = schema.forwardBody.parse(body);
      return lossPass({ ...addressed, forward_backward_input: forward_input, forward_only: true });
    },

    // The SDK reports its own errors and timings here; this server keeps no telemetry.
    "/api/v1/telemetry": () => ({ status: "accepted" }),

    // SDK 0.25 refreshes these flags every refresh_interval_sec; none of them changes at run time here.
    "/api/v1/client/dynamic_config": () => ({ refresh_interval_sec: 3600 }),

    "/api/v1/optim_step": (body) => {
      const req = schema.optimStepBody.parse(body);
      const adam = adamFromWire(req.adam_params);
      // Refused inside the queue, as a "user" failure of this seq_id: a 400 at submit would leave a
      // gap that stalls every later request of the model. The weights are never touched.
      return ordered(requireModel(req.model_id), req.seq_id, async (client) => {
        checkAdamParams(adam);
        const { metrics } = await client.optimStep(adam);
        const step = (store.trainingRun(req.model_id)?.step ?? 0) + 1;
        store.updateTrainingRun(req.model_id, { step, lastRequestAt: new Date().toISOString() });
        return { type: "optim_step", metrics };
      });
    },

    "/api/v1/save_weights": (body) => {
      const req = schema.saveWeightsBody.parse(body);
      checkCheckpointName(req.path);
      const model = requireModel(req.model_id);
      const path = formatTinkerPath({ runId: req.model_id, kind: "weights", name: req.path });
      return ordered(model, req.seq_id, async (client) => {
        if (store.checkpoint(path) && !req.overwrite) throw new UserError(`ResourceAlreadyExists: ${path}`);
        const backendPath = await client.saveState(backendName(req.model_id, req.path));
        const step = store.trainingRun(req.model_id)?.step ?? 0;
        store.putCheckpoint({
          tinkerPath: path,
          modelId: req.model_id,
          kind: "weights",
          name: req.path,
          backendPath,
          baseModel: model.baseModel,
          rank: model.rank,
          step,
          createdAt: new Date().toISOString(),
        });
        return { type: "save_weights", path };
      });
    },

    "/api/v1/load_weights": (body) => {
      const req = schema.loadWeightsBody.parse(body);
      const stored = requireCheckpoint(req.path, "weights");
      const live = models.get(req.model_id);
      const model = live ?? revive(req.model_id, req.seq_id);
      return ordered(model, req.seq_id, async (client) => {
        try {
          if (stored.baseModel !== model.baseModel)
            throw new UserError(`${req.path} was trained on ${stored.baseModel}, not ${model.baseModel}`);
          if (stored.backendPath === null)
            throw new HttpError(404, `${req.path} lived in memory only and was lost when the server restarted`);
          await client
            .loadState(stored.backendPath, { weightsOnly: !(req.optimizer ?? false) })
            .catch(unreadable(req.path));
        } catch (error) {
          // A revived model that did not get its weights back is not a model to train on.
          if (!live) forgetModel(req.model_id, model);
          throw error;
        }
        store.updateTrainingRun(req.model_id, { step: stored.step, lastRequestAt: new Date().toISOString() });
        return { type: "load_weights", path: req.path, model_id: req.model_id };
      });
    },

    "/api/v1/save_weights_for_sampler": (body) => {
      const req = schema.saveWeightsForSamplerBody.parse(body);
      const model = requireModel(req.model_id);
      if (req.path) {
        const name = req.path;
        checkCheckpointName(name);
        const path = formatTinkerPath({ runId: req.model_id, kind: "sampler_weights", name });
        return ordered(model, req.seq_id, async (client) => {
          const sampler = await client.saveWeightsForSampler(backendName(req.model_id, name));
          openSamplerCheckpoints.set(path, sampler);
          const step = store.trainingRun(req.model_id)?.step ?? 0;
          const saved = {
            tinkerPath: path,
            modelId: req.model_id,
            name,
            backendPath: sampler.modelPath,
            baseModel: model.baseModel,
            rank: model.rank,
            step,
          };
          store.putCheckpoint({ ...saved, kind: "sampler_weights", createdAt: new Date().toISOString() });
          return { type: "save_weights_for_sampler", path };
        });
      }
      if (req.sampling_session_seq_id === undefined || req.sampling_session_seq_id === null) {
        throw new HttpError(400, "save_weights_for_sampler needs a path or a sampling_session_seq_id");
      }
      const samplerId = `${model.sessionId}:sample:${req.sampling_session_seq_id}`;
      return ordered(model, req.seq_id, async (client) => {
        if (samplers.has(samplerId)) throw new UserError(`sampling session ${samplerId} already exists`);
        const sampler = client.saveWeightsForSampler();
        registerSampler(samplerId, { baseModel: model.baseModel, modelPath: null, client: sampler });
        await sampler;
        store.putSampler({ samplerId, baseModel: model.baseModel, modelPath: null, ephemeral: true });
        return { type: "save_weights_for_sampler", path: null, sampling_session_id: samplerId };
      });
    },

    "/api/v1/weights_info": (body) => {
      const { tinker_path } = schema.weightsInfoBody.parse(body);
      const parsed = parseTinkerPath(tinker_path);
      const stored = parsed ? store.checkpoint(tinker_path) : undefined;
      if (!parsed)
        throw new HttpError(
          400,
          "not a checkpoint path: checkpoints are named tinker://<training run>/<weights|sampler_weights>/<name>",
        );
      if (!stored) throw new HttpError(404, `unknown checkpoint ${quotePath(tinker_path)}`);
      return {
        base_model: stored.baseModel,
        is_lora: true,
        lora_rank: stored.rank,
        train_unembed: true,
        train_mlp: true,
        train_attn: true,
      };
    },

    "/api/v1/create_sampling_session": async (body) => {
      const req = schema.createSamplingSessionBody.parse(body);
      requireSession(req.session_id);
      const id = `${req.session_id}:sample:${req.sampling_session_seq_id}`;
      // A retried create (its answer was lost) gets the session it already made.
      if (samplers.has(id) || store.sampler(id)) return { type: "create_sampling_session", sampling_session_id: id };
      if (req.model_path !== undefined) {
        const stored = requireCheckpoint(req.model_path, "sampler_weights");
        const client = openSamplerCheckpoint(req.model_path);
        await client;
        registerSampler(id, { baseModel: stored.baseModel, modelPath: req.model_path, client });
        store.putSampler({ samplerId: id, baseModel: stored.baseModel, modelPath: req.model_path, ephemeral: false });
      } else if (req.base_model !== undefined) {
        await requireServed(req.base_model).catch((error: Error) => {
          throw new HttpError(400, error.message);
        });
        registerSampler(id, {
          baseModel: req.base_model,
          modelPath: null,
          client: backend.createSamplingClient({ baseModel: req.base_model }),
        });
        store.putSampler({ samplerId: id, baseModel: req.base_model, modelPath: null, ephemeral: false });
      } else {
        throw new HttpError(400, "create_sampling_session needs model_path or base_model");
      }
      return { type: "create_sampling_session", sampling_session_id: id };
    },

    "/api/v1/asample": async (body, backpressure) => {
      const req = schema.sampleBody.parse(body);
      const sampler = requireSampler(req.sampling_session_id);
      // The (session, seq_id) pair names the request: a resubmit gets the same future.
      const known = sampler.requestsBySeqId.get(req.seq_id);
      if (known) return { request_id: known };
      if (backpressure && samplesRunning >= maxConcurrentSamples)
        throw new HttpError(429, "sampling capacity reached; back off and resubmit");
      const prompt = req.prompt.chunks.flatMap((c) => c.tokens);
      const params = badRequestOnThrow(() => samplingParamsFromWire(req.sampling_params, req.num_samples ?? 1));
      const limits = (sampler.baseModel && (await servedModel(sampler.baseModel))) || {};
      badRequestOnThrow(() => checkSamplingParams(params, prompt.length, limits, maxNumSamples));
      const topk = req.topk_prompt_logprobs ?? 0;
      badRequestOnThrow(() => checkTopkPromptLogprobs(topk));
      const stopStrings = stopStringsFromWire(req.sampling_params.stop);
      const decoder = stopStrings.length > 0 ? await options.decoderFor?.(sampler.baseModel) : null;
      if (stopStrings.length > 0 && !decoder) {
        throw new HttpError(
          400,
          `stop strings need ${sampler.baseModel}'s tokenizer, which this server was not given; send stop token ids`,
        );
      }
      samplesRunning += 1;
      const work = (async (): Promise<WireSampleResponse> => {
        const client = await sampler.client;
        if (topk > 0 && !canScoreDistributions(client))
          throw new UserError("topk_prompt_logprobs: this sampler gives no next-token distributions");
        const result = await client.sample(prompt, params);
        if (decoder) result.sequences = result.sequences.map((seq) => cutAtStopStrings(seq, stopStrings, decoder));
        const wire = sampleToWire(result, req.prompt_logprobs ? await client.computeLogprobs(prompt) : undefined);
        if (topk > 0 && canScoreDistributions(client))
          return { ...wire, topk_prompt_logprobs: await topkPromptLogprobs(client, prompt, topk) };
        return wire;
      })().finally(() => (samplesRunning -= 1));
      const requestId = futures.create(work);
      sampler.requestsBySeqId.set(req.seq_id, requestId);
      return { request_id: requestId };
    },

    "/api/v1/retrieve_future": async (body) => {
      const { request_id } = schema.retrieveFutureBody.parse(body);
      const answer = await futures.answer(request_id, longPollMs);
      switch (answer.state) {
        case "pending":
          return { type: "try_again", request_id, queue_state: "active" };
        case "expired":
          throw new HttpError(410, `promise for ${request_id} expired; resubmit the request`);
        case "before_restart":
          throw new HttpError(
            410,
            `request ${request_id} was made before the server restarted and its outcome is gone; resubmit it`,
          );
        case "unknown":
          throw new HttpError(404, `unknown request ${request_id}`);
        case "done":
          return answer.value;
        case "failed":
          return { error: answer.error, category: answer.category };
        default: {
          const unreachable: never = answer;
          throw new Error(`unhandled future state ${JSON.stringify(unreachable)}`);
        }
      }
    },
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const key = headerValue(req.headers["x-api-key"]);
    if (path === "/api/v1/healthz") return send(res, 200, { status: "ok" });

    // 1. Credentials come from the headers alone: a caller without them never gets its body read.
    const keyEndpoint = path === "/api/v1/client/config" || path === "/api/v1/auth/token";
    if (!(keyEndpoint ? auth.acceptsKey(key) : auth.accepts(key))) {
      return refuseUnread(req, res, 401, {
        detail: !keyEndpoint && auth.jwtEnabled ? "Invalid JWT" : "Invalid API key",
      });
    }
    // 2. A declared length past the cap is refused before reading; an undeclared one while reading.
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) return refuseUnread(req, res, 413, { detail: tooLarge(maxBodyBytes) });
    const bytes = req.method === "GET" ? undefined : await readBody(req, maxBodyBytes);
    let body: unknown;
    try {
      body =
        bytes === undefined
          ? undefined
          : decodeBody(
              path,
              bytes,
              headerValue(req.headers["content-type"]),
              headerValue(req.headers["content-encoding"]),
              protobuf,
            );
    } catch (error) {
      // An ordered request whose body cannot be read still uses up its seq_id, when it can be found.
      // A 415 refuses the encoding, not the request: the client sends it again, as JSON, under the same seq_id.
      const encodingRefused = error instanceof HttpError && error.status === 415;
      if (bytes !== undefined && ORDERED_ROUTES.has(path) && !encodingRefused)
        refuseSeqId(seqAddressOfUnreadable(bytes, headerValue(req.headers["content-type"])), error);
      throw error;
    }

    if (keyEndpoint) {
      options.onRequest?.(path, body);
      if (path === "/api/v1/client/config") return send(res, 200, clientConfig({ jwtEnabled: auth.jwtEnabled }));
      if (!auth.jwtEnabled) return send(res, 404, { detail: "JWT auth is not enabled on this server" });
      return send(res, 200, { jwt: auth.issue() });
    }
    options.onRequest?.(path, body);

    const samplerInfo = /^\/api\/v1\/samplers\/(.+)$/.exec(path);
    if (samplerInfo && req.method === "GET") {
      const id = decodeURIComponent(samplerInfo[1]);
      const sampler = samplers.get(id) ?? store.sampler(id);
      if (!sampler) return send(res, 404, { detail: `unknown sampler ${quotePath(id)}` });
      return send(res, 200, {
        sampler_id: id,
        base_model: sampler.baseModel,
        ...(sampler.modelPath ? { model_path: sampler.modelPath } : {}),
      });
    }
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    const samplerIdsOf = (sessionId: string) =>
      store
        .samplers()
        .map((s) => s.samplerId)
        .filter((id) => id.startsWith(`${sessionId}:sample:`));
    const rest = answerRest(store, { method: req.method ?? "GET", path, query }, samplerIdsOf);
    if (rest) return send(res, rest.status, rest.body);
    const route = routes[path];
    if (!route) return send(res, 404, { detail: `no endpoint ${req.method} ${path}` });
    const backpressure = headerValue(req.headers["x-tinker-sampling-backpressure"]) === "1";
    let answer: unknown;
    try {
      answer = await route(body, backpressure);
    } catch (error) {
      if (ORDERED_ROUTES.has(path)) refuseSeqId(body, error);
      throw error;
    }
    // The SDK asks for sample and forward_backward results as protobuf (0.25 accepts nothing else).
    if (protobuf && path === "/api/v1/retrieve_future" && acceptsProtobuf(headerValue(req.headers.accept))) {
      const bytes = resultAsProtobuf(answer);
      if (bytes) return sendBytes(res, bytes, PROTOBUF_CONTENT_TYPE);
    }
    return send(res, 200, answer);
  };

  return http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError && error.status === 413)
        return refuseUnread(req, res, 413, { detail: error.message });
      if (error instanceof HttpError) return send(res, error.status, { detail: error.message });
      if (error instanceof z.ZodError) return send(res, 400, { detail: `invalid request: ${z.prettifyError(error)}` });
      if (error instanceof SyntaxError) return send(res, 400, { detail: `invalid JSON: ${error.message}` });
      if (error instanceof UserError) return send(res, 400, { detail: error.message });
      send(res, 500, { detail: error instanceof Error ? error.message : String(error) });
    });
  });
}

/**
 * The k most likely tokens at each prompt position, best first, as Tinker returns them: position
 * 0 has no context and is null; row i (i ≥ 1) is the distribution after prompt[0..i).
 */
async function topkPromptLogprobs(
  client: DistributionSamplingClient,
  prompt: number[],
  k: number,
): Promise<WireTopkPromptLogprobs> {
  if (prompt.length < 2) return prompt.map(() => null);
  const positions = Array.from({ length: prompt.length - 1 }, (_, i) => i);
  const { ids, logprobs } = await client.topkLogprobs(prompt, positions, k);
  const rows: WireTopkPromptLogprobs = [null];
  for (let r = 0; r < positions.length; r++) {
    rows.push(Array.from({ length: k }, (_, j): [number, number] => [ids[r * k + j]!, logprobs[r * k + j]!]));
  }
  return rows;
}

/** Malformed-but-parseable input found while converting a body is the caller's 400, not our 500. */
function badRequestOnThrow<T>(convert: () => T, prefix = ""): T {
  try {
    return convert();
  } catch (error) {
    throw new HttpError(400, `${prefix}${error instanceof Error ? error.message : String(error)}`);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function tooLarge(maxBytes: number): string {
  return `request body over ${maxBytes} bytes (trainer serve --max-body-mib raises the limit)`;
}

/** The body's bytes; past `maxBytes` it stops reading (leaving the socket to refuseUnread) and throws 413. */
function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      if (size <= maxBytes) return void parts.push(part);
      req.off("data", onData);
      reject(new HttpError(413, tooLarge(maxBytes)));
    };
    req.on("data", onData);
    req.once("error", reject);
    req.once("end", () => {
      if (size <= maxBytes) resolve(Buffer.concat(parts));
    });
  });
}

/**
 * Answers without reading (the rest of) the body, then closes the connection once the answer is
 * out, so the unread bytes are neither buffered nor drained for a next request on the same socket.
 */
function refuseUnread(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
  const socket = req.socket;
  req.pause();
  res.setHeader("Connection", "close");
  res.once("finish", () => socket?.destroySoon());
  send(res, status, body);
}

/**
 * A finished future's value as its protobuf message, for the two results the SDK reads that way;
 * null for every other answer (try_again, errors, the other operations), which stays JSON.
 */
function resultAsProtobuf(answer: unknown): Uint8Array | null {
  if (answer === null || typeof answer !== "object") return null;
  const value = answer as Record<string, unknown>;
  if (value.type === "sample" && Array.isArray(value.sequences))
    return sampleResponseToProto(value as unknown as WireSampleResponse);
  if (Array.isArray(value.loss_fn_outputs) && !("type" in value))
    return forwardBackwardOutputToProto(value as unknown as WireForwardBackwardOutput);
  return null;
}

function sendBytes(res: http.ServerResponse, bytes: Uint8Array, contentType: string): void {
  if (res.headersSent) return;
  res.writeHead(200, { "Content-Type": contentType, "Content-Length": bytes.length });
  res.end(bytes);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
