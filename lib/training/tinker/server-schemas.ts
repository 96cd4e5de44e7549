/**
 * Request bodies the Tinker-protocol server accepts, as zod schemas (tinker-api.md §2–§6). Unknown
 * fields are ignored, as the hosted service ignores telemetry-only fields; a malformed body is a
 * 400 naming the field.
 */
import { z } from "zod";

const tensor = z.object({
  // NaN and ±Infinity pass here (z.number() refuses them) so the loss pass can name the input that holds one.
  data: z.array(z.custom<number>((v) => typeof v === "number", "expected a number")),
  dtype: z.enum(["int64", "float32"]),
  shape: z.array(z.number().int()).optional(),
});

const modelInput = z.object({
  chunks: z.array(z.object({ type: z.literal("encoded_text"), tokens: z.array(z.number().int()) })),
});

export const createSessionBody = z.object({
  tags: z.array(z.string()).optional(),
  user_metadata: z.record(z.string(), z.unknown()).optional(),
  sdk_version: z.string().optional(),
});

export const heartbeatBody = z.object({ session_id: z.string() });

export const createModelBody = z.object({
  session_id: z.string(),
  model_seq_id: z.number().int().nonnegative(),
  base_model: z.string(),
  lora_config: z.object({ rank: z.number().int().positive(), seed: z.number().int().optional() }),
});

export const modelIdBody = z.object({ model_id: z.string() });

export const createSamplingSessionBody = z.object({
  session_id: z.string(),
  sampling_session_seq_id: z.number().int().nonnegative(),
  model_path: z.string().optional(),
  base_model: z.string().optional(),
});

const forwardBackwardInput = z.object({
  data: z.array(z.object({ model_input: modelInput, loss_fn_inputs: z.record(z.string(), tensor) })).min(1),
  loss_fn: z.string(),
  loss_fn_config: z.record(z.string(), z.number()).nullish(),
});

/** JSON from SDK 0.24 and our fallback; protobuf bodies are read into this shape (proto/convert.ts). */
export const forwardBackwardBody = z.object({
  model_id: z.string(),
  seq_id: z.number().int(),
  forward_backward_input: forwardBackwardInput,
  forward_only: z.boolean().optional(),
});

export type ForwardBackwardBody = z.infer<typeof forwardBackwardBody>;

/** SDK 0.24's /api/v1/forward. */
export const forwardBody = z.object({
  model_id: z.string(),
  seq_id: z.number().int(),
  forward_input: forwardBackwardInput,
});

export const optimStepBody = z.object({
  model_id: z.string(),
  seq_id: z.number().int(),
  adam_params: z.object({
    learning_rate: z.number().optional(),
    beta1: z.number().optional(),
    beta2: z.number().optional(),
    eps: z.number().optional(),
    weight_decay: z.number().optional(),
    grad_clip_norm: z.number().optional(),
  }),
});

export const saveWeightsBody = z.object({
  model_id: z.string(),
  seq_id: z.number().int(),
  path: z.string().min(1),
  overwrite: z.boolean().optional(),
});

export const loadWeightsBody = z.object({
  model_id: z.string(),
  seq_id: z.number().int(),
  path: z.string().min(1),
  optimizer: z.boolean().optional(),
});

export const saveWeightsForSamplerBody = z.object({
  model_id: z.string(),
  seq_id: z.number().int(),
  path: z.string().min(1).nullish(),
  sampling_session_seq_id: z.number().int().nonnegative().nullish(),
});

export const weightsInfoBody = z.object({ tinker_path: z.string() });

export const sampleBody = z.object({
  sampling_session_id: z.string(),
  seq_id: z.number().int(),
  num_samples: z.number().int().positive().optional(),
  prompt: modelInput,
  sampling_params: z.object({
    max_tokens: z.number().int().nonnegative().nullish(),
    seed: z.number().int().nullish(),
    stop: z.union([z.string(), z.array(z.string()), z.array(z.number().int())]).nullish(),
    temperature: z.number().optional(),
    top_k: z.number().int().optional(),
    top_p: z.number().optional(),
  }),
  prompt_logprobs: z.boolean().nullish(),
  topk_prompt_logprobs: z.number().int().nonnegative().optional(),
});

export const retrieveFutureBody = z.object({ request_id: z.string() });
