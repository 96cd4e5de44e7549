/**
 * What the Tinker-protocol server accepts as optimizer, LoRA and sampling parameters. Each check
 * throws a UserError naming the field, its range and the value sent, so a bad request ends in
 * Tinker's "user" category (or a 400 where Tinker answers one) before any weight, optimizer moment
 * or engine buffer is touched: a learning rate of 1e30 once left a model's loss NaN for good.
 */
import type { AdamParams, LossFnName, SamplingParams } from "../types";
import { TINKER_LOSS_SUPPORT } from "./wire";
import { UserError } from "./server-state";

/**
 * Adam moves every weight by about the learning rate per step, so past 1 one step swamps LoRA
 * weights of order 1e-2 and the model does not recover. It also bounds `lr · weight_decay` by 1,
 * so decoupled decay can shrink a weight to 0 but never flip its sign.
 */
export const MAX_LEARNING_RATE = 1;
export const MAX_WEIGHT_DECAY = 1;

/** Samples per asample call. Tinker recipes draw groups of 4–64; more is one caller hogging the engine. */
export const DEFAULT_MAX_NUM_SAMPLES = 64;

/** Rank cap for a model that does not state its own (the largest rank the settings offer). */
export const DEFAULT_MAX_LORA_RANK = 256;

/** Generation cap for a model that does not state its context length. */
export const DEFAULT_MAX_SAMPLE_TOKENS = 32_768;

export interface ServedModelLimits {
  maxContextLength?: number;
  maxLoraRank?: number;
}

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

function refuse(field: string, rule: string, value: unknown): never {
  throw new UserError(`${field} must be ${rule}; got ${String(value)}`);
}

/** Refuses an optimizer step whose parameters would leave non-finite or runaway weights. */
export function checkAdamParams(params: AdamParams): void {
  const { learningRate, beta1, beta2, eps, weightDecay = 0, gradClipNorm = 0 } = params;
  const finite = Number.isFinite;
  if (!(finite(learningRate) && learningRate > 0 && learningRate <= MAX_LEARNING_RATE)) {
    refuse("adam_params.learning_rate", `a finite number in (0, ${MAX_LEARNING_RATE}]`, learningRate);
  }
  // A beta of 1 never forgets the first moment and divides the bias correction by zero.
  if (!(finite(beta1) && beta1 >= 0 && beta1 < 1)) refuse("adam_params.beta1", "in [0, 1)", beta1);
  if (!(finite(beta2) && beta2 >= 0 && beta2 < 1)) refuse("adam_params.beta2", "in [0, 1)", beta2);
  // eps = 0 divides by the second moment, which is 0 for any weight whose gradient was 0.
  if (!(finite(eps) && eps > 0)) refuse("adam_params.eps", "a finite number above 0", eps);
  if (!(finite(weightDecay) && weightDecay >= 0 && weightDecay <= MAX_WEIGHT_DECAY)) {
    refuse("adam_params.weight_decay", `in [0, ${MAX_WEIGHT_DECAY}]`, weightDecay);
  }
  if (!(finite(gradClipNorm) && gradClipNorm >= 0))
    refuse("adam_params.grad_clip_norm", "a finite number ≥ 0 (0 = off)", gradClipNorm);
}

/** Tinker's rule (a positive power of two), capped at what the base model supports. */
export function checkLoraRank(rank: number, model: ServedModelLimits): void {
  const max = model.maxLoraRank ?? DEFAULT_MAX_LORA_RANK;
  if (!isPowerOfTwo(rank) || rank > max) refuse("lora_config.rank", `a power of two from 1 to ${max}`, rank);
}

/** Refuses a sample that would run past the model's context or ask for unbounded work. */
export function checkSamplingParams(
  params: SamplingParams,
  promptLength: number,
  model: ServedModelLimits,
  maxNumSamples = DEFAULT_MAX_NUM_SAMPLES,
): void {
  const numSamples = params.numSamples ?? 1;
  if (!(Number.isInteger(numSamples) && numSamples >= 1 && numSamples <= maxNumSamples)) {
    refuse("num_samples", `a whole number from 1 to ${maxNumSamples}`, numSamples);
  }
  if (promptLength < 1) refuse("prompt", "at least one token", `${promptLength} tokens`);
  const context = model.maxContextLength;
  const maxTokensCap = context === undefined ? DEFAULT_MAX_SAMPLE_TOKENS : context - promptLength;
  if (context !== undefined && promptLength > context) {
    throw new UserError(`PromptTooLong: the prompt has ${promptLength} tokens; the model's context is ${context}`);
  }
  if (!(Number.isInteger(params.maxTokens) && params.maxTokens >= 1 && params.maxTokens <= maxTokensCap)) {
    const where =
      context === undefined ? "" : ` (the model's context of ${context} less the prompt's ${promptLength} tokens)`;
    refuse("sampling_params.max_tokens", `a whole number from 1 to ${maxTokensCap}${where}`, params.maxTokens);
  }
  if (!(Number.isFinite(params.temperature) && params.temperature >= 0)) {
    refuse("sampling_params.temperature", "a finite number ≥ 0 (0 = greedy)", params.temperature);
  }
  const topP = params.topP ?? 1;
  if (!(Number.isFinite(topP) && topP > 0 && topP <= 1)) refuse("sampling_params.top_p", "in (0, 1]", topP);
  const topK = params.topK ?? -1;
  if (!(Number.isInteger(topK) && (topK === -1 || topK >= 1)))
    refuse("sampling_params.top_k", "-1 (off) or a whole number ≥ 1", topK);
}

/**
 * Top-k prompt log-probs per position: vLLM, which serves Tinker's samplers, caps log-probs at 20
 * per position by default (max_logprobs); more would be one caller's request growing k × prompt.
 */
export const MAX_TOPK_PROMPT_LOGPROBS = 20;

export function checkTopkPromptLogprobs(k: number): void {
  if (!(Number.isInteger(k) && k >= 0 && k <= MAX_TOPK_PROMPT_LOGPROBS)) {
    refuse("topk_prompt_logprobs", `a whole number from 0 (off) to ${MAX_TOPK_PROMPT_LOGPROBS}`, k);
  }
}

/** A loss the backend computes (Tinker's own four when it does not say). */
export function checkLossFn(name: string, supported: readonly LossFnName[] = TINKER_LOSS_SUPPORT.losses): LossFnName {
  return (
    supported.find((loss) => loss === name) ?? refuse("loss_fn", `one of ${supported.join(", ")}`, JSON.stringify(name))
  );
}

/**
 * Refuses a loss input holding NaN or ±Infinity: one such value makes the loss and every gradient
 * it reaches NaN, and an optimizer step would then write NaN into the weights for good.
 */
export function checkFiniteInputs(
  data: ReadonlyArray<{ loss_fn_inputs: Record<string, { data: readonly number[] }> }>,
): void {
  data.forEach((datum, i) => {
    for (const [name, tensor] of Object.entries(datum.loss_fn_inputs)) {
      const at = tensor.data.findIndex((v) => !Number.isFinite(v));
      if (at >= 0) {
        throw new UserError(
          `datum ${i}: loss_fn_inputs.${name} must hold finite numbers; got ${String(tensor.data[at])} at index ${at}`,
        );
      }
    }
  });
}
