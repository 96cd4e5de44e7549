/**
 * The sampling routes of the Tinker-protocol server: create_sampling_session (from a sampler
 * checkpoint or a base model) and asample, which checks the parameters, applies backpressure
 * (429 past maxConcurrentSamples when the client asks for it) and answers with a future.
 */
import { canScoreDistributions, type DistributionSamplingClient } from "../types";
import type { ProtocolContext, Route } from "./server-context";
import { checkSamplingParams, checkTopkPromptLogprobs } from "./server-limits";
import * as schema from "./server-schemas";
import { badRequestOnThrow, HttpError, UserError } from "./server-state";
import { cutAtStopStrings } from "./stop-strings";
import {
  sampleToWire,
  samplingParamsFromWire,
  stopStringsFromWire,
  type WireSampleResponse,
  type WireTopkPromptLogprobs,
} from "./wire";

export function samplingRoutes(ctx: ProtocolContext): Record<string, Route> {
  const {
    samples,
    backend,
    options,
    store,
    futures,
    maxConcurrentSamples,
    maxNumSamples,
    samplers,
    requireSession,
    requireCheckpoint,
    servedModel,
    requireServed,
    registerSampler,
    openSamplerCheckpoint,
    requireSampler,
  } = ctx;
  return {
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
      if (backpressure && samples.running >= maxConcurrentSamples)
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
      samples.running += 1;
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
      })().finally(() => (samples.running -= 1));
      const requestId = futures.create(work);
      sampler.requestsBySeqId.set(req.seq_id, requestId);
      return { request_id: requestId };
    },
  };
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
