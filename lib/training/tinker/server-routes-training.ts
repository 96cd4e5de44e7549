/**
 * The training routes of the Tinker-protocol server: create_model, get_info, unload_model, the
 * loss passes (forward_backward, forward), optim_step, and saving and loading weights. Each
 * operation on a model is queued at its seq_id (ctx.ordered) and answered with a future; checks
 * that depend on the model run inside the queue, so a refused request uses up its seq_id.
 */
import type { TrainingClient } from "../types";
import type { ProtocolContext, Route } from "./server-context";
import { checkAdamParams, checkFiniteInputs, checkLoraRank, checkLossFn } from "./server-limits";
import * as schema from "./server-schemas";
import { badRequestOnThrow, HttpError, SeqQueue, UserError } from "./server-state";
import { checkCheckpointName, formatTinkerPath, parseTinkerPath, quotePath } from "./tinker-path";
import { adamFromWire, datumFromWire, forwardBackwardToWire, lossConfigFromWire } from "./wire";

export function trainingRoutes(ctx: ProtocolContext): Record<string, Route> {
  const {
    backend,
    store,
    futures,
    queueOptions,
    models,
    samplers,
    openSamplerCheckpoints,
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
    registerSampler,
  } = ctx;
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

  return {
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
  };
}
