import { describe, expect, it } from "vitest";
import type { AdamParams, SamplingParams } from "../types";
import {
  checkAdamParams,
  checkFiniteInputs,
  checkLoraRank,
  checkLossFn,
  checkSamplingParams,
  checkTopkPromptLogprobs,
} from "./server-limits";
import { UserError } from "./server-state";

const ADAM: AdamParams = { learningRate: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-12 };
const SAMPLE: SamplingParams = { maxTokens: 16, temperature: 1 };

/** The refusal message, or "ok"; every refusal is a UserError (Tinker's "user" category). */
function outcome(check: () => void): string {
  try {
    check();
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
}

describe("optimizer parameter limits", () => {
  it.each<[Partial<AdamParams>, string]>([
    [{}, "ok"],
    [{ learningRate: 1 }, "ok"],
    [{ learningRate: 1.5 }, "adam_params.learning_rate must be a finite number in (0, 1]; got 1.5"],
    [{ learningRate: 0 }, "adam_params.learning_rate must be a finite number in (0, 1]; got 0"],
    [{ learningRate: Number.NaN }, "adam_params.learning_rate must be a finite number in (0, 1]; got NaN"],
    [{ beta1: 0 }, "ok"],
    [{ beta2: 1 }, "adam_params.beta2 must be in [0, 1); got 1"],
    [{ eps: Number.POSITIVE_INFINITY }, "adam_params.eps must be a finite number above 0; got Infinity"],
    [{ weightDecay: 1 }, "ok"],
    [{ weightDecay: 2 }, "adam_params.weight_decay must be in [0, 1]; got 2"],
    [{ gradClipNorm: -1 }, "adam_params.grad_clip_norm must be a finite number ≥ 0 (0 = off); got -1"],
  ])("%o → %s", (change, expected) => {
    expect(outcome(() => checkAdamParams({ ...ADAM, ...change }))).toBe(expected);
  });
});

describe("LoRA rank limits", () => {
  it("takes powers of two up to the model's cap, and 256 where the model states none", () => {
    expect([1, 2, 64, 128].map((r) => outcome(() => checkLoraRank(r, { maxLoraRank: 128 })))).toEqual([
      "ok",
      "ok",
      "ok",
      "ok",
    ]);
    expect(outcome(() => checkLoraRank(256, { maxLoraRank: 128 }))).toBe(
      "lora_config.rank must be a power of two from 1 to 128; got 256",
    );
    expect(outcome(() => checkLoraRank(0, {}))).toBe("lora_config.rank must be a power of two from 1 to 256; got 0");
    expect(outcome(() => checkLoraRank(24, {}))).toBe("lora_config.rank must be a power of two from 1 to 256; got 24");
    expect(outcome(() => checkLoraRank(1.5, {}))).toBe(
      "lora_config.rank must be a power of two from 1 to 256; got 1.5",
    );
  });
});

describe("sampling limits", () => {
  it("refuse a prompt longer than the context as PromptTooLong, and an empty one", () => {
    expect(outcome(() => checkSamplingParams(SAMPLE, 65, { maxContextLength: 64 }))).toBe(
      "PromptTooLong: the prompt has 65 tokens; the model's context is 64",
    );
    expect(outcome(() => checkSamplingParams(SAMPLE, 0, {}))).toBe("prompt must be at least one token; got 0 tokens");
  });

  it("bound max_tokens by the context left after the prompt, or by 32768 without a stated context", () => {
    expect(outcome(() => checkSamplingParams({ ...SAMPLE, maxTokens: 60 }, 4, { maxContextLength: 64 }))).toBe("ok");
    expect(outcome(() => checkSamplingParams({ ...SAMPLE, maxTokens: 32_769 }, 4, {}))).toBe(
      "sampling_params.max_tokens must be a whole number from 1 to 32768; got 32769",
    );
    expect(outcome(() => checkSamplingParams({ ...SAMPLE, maxTokens: 0 }, 4, {}))).toBe(
      "sampling_params.max_tokens must be a whole number from 1 to 32768; got 0",
    );
  });

  it("bound num_samples, top_k and top_p", () => {
    expect(outcome(() => checkSamplingParams({ ...SAMPLE, numSamples: 64 }, 4, {}))).toBe("ok");
    expect(outcome(() => checkSamplingParams({ ...SAMPLE, numSamples: 65 }, 4, {}))).toBe(
      "num_samples must be a whole number from 1 to 64; got 65",
    );
    expect(outcome(() => checkSamplingParams({ ...SAMPLE, topK: 0 }, 4, {}))).toBe(
      "sampling_params.top_k must be -1 (off) or a whole number ≥ 1; got 0",
    );
    expect(outcome(() => checkSamplingParams({ ...SAMPLE, topP: 1.5 }, 4, {}))).toBe(
      "sampling_params.top_p must be in (0, 1]; got 1.5",
    );
  });
});

describe("loss, loss input and top-k limits", () => {
  it("takes a loss the backend computes and refuses any other by name", () => {
    expect(checkLossFn("ppo")).toBe("ppo");
    expect(outcome(() => checkLossFn("reverse_kl"))).toBe(
      'loss_fn must be one of cross_entropy, importance_sampling, ppo, cispo; got "reverse_kl"',
    );
    expect(outcome(() => checkLossFn("reverse_kl", ["cross_entropy", "reverse_kl"]))).toBe("ok");
  });

  it.each<[number[], string]>([
    [[0, 1.5, -2], "ok"],
    [[0, Number.NaN], "datum 0: loss_fn_inputs.advantages must hold finite numbers; got NaN at index 1"],
    [
      [Number.NEGATIVE_INFINITY],
      "datum 0: loss_fn_inputs.advantages must hold finite numbers; got -Infinity at index 0",
    ],
  ])("loss inputs %j: %s", (data, expected) => {
    expect(outcome(() => checkFiniteInputs([{ loss_fn_inputs: { advantages: { data } } }]))).toBe(expected);
  });

  it.each<[number, string]>([
    [0, "ok"],
    [20, "ok"],
    [21, "topk_prompt_logprobs must be a whole number from 0 (off) to 20; got 21"],
    [1.5, "topk_prompt_logprobs must be a whole number from 0 (off) to 20; got 1.5"],
  ])("topk_prompt_logprobs %d: %s", (k, expected) => {
    expect(outcome(() => checkTopkPromptLogprobs(k))).toBe(expected);
  });
});
