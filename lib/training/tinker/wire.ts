/**
 * Our camelCase training shapes ↔ Tinker's snake_case JSON (tinker-api.md §4–§5). The client side
 * sends only the loss inputs the chosen loss reads and refuses what Tinker cannot do (the KL
 * losses, importance-sampling `clipRatio`); the server side reads every input key our backends
 * know, so a Tinker-protocol server over the embedded engine loses nothing.
 */
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossFnConfig,
  LossFnInputs,
  LossFnName,
  SampleResult,
  SamplingParams,
  StopReason,
} from "../types";
import { TinkerUnsupportedError } from "./errors";

export interface WireTensor {
  data: number[];
  dtype: "int64" | "float32";
  shape?: number[];
}

export interface WireDatum {
  model_input: { chunks: Array<{ type: "encoded_text"; tokens: number[] }> };
  loss_fn_inputs: Record<string, WireTensor>;
}

export interface WireForwardBackwardOutput {
  loss_fn_output_type?: string;
  loss_fn_outputs: Array<Record<string, WireTensor>>;
  metrics: Record<string, number>;
}

export interface WireAdamParams {
  learning_rate: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  grad_clip_norm: number;
}

export interface WireSamplingParams {
  max_tokens?: number;
  seed?: number;
  stop?: number[] | string[] | string;
  temperature: number;
  top_k: number;
  top_p: number;
}

export interface WireSampleResponse {
  type?: "sample";
  sequences: Array<{ stop_reason: StopReason; tokens: number[]; logprobs?: number[] | null }>;
  prompt_logprobs?: Array<number | null> | null;
  topk_prompt_logprobs?: WireTopkPromptLogprobs | null;
}

/** Top-k prompt log-probs per position as [token id, log-prob] pairs, best first; null where none were computed (position 0). */
export type WireTopkPromptLogprobs = Array<Array<[number, number]> | null>;

/** The losses the Tinker service itself computes. */
export type TinkerLossFnName = "cross_entropy" | "importance_sampling" | "ppo" | "cispo";

/** What a Tinker service can train with, for callers that choose a loss or config by backend. */
export const TINKER_LOSS_SUPPORT = {
  losses: ["cross_entropy", "importance_sampling", "ppo", "cispo"] as const,
  /** Tinker's importance_sampling has no ratio clip; `clipRatio` is refused, not silently dropped. */
  importanceSamplingClipRatio: false,
  /** Teachers need weight arithmetic for EMA, which the service does not offer. */
  teacherModes: ["student", "frozen"] as const,
} as const;

type NumericInputKey = "targetTokens" | "weights" | "logprobs" | "advantages";

const LOSS_INPUTS: Record<TinkerLossFnName, NumericInputKey[]> = {
  cross_entropy: ["targetTokens", "weights"],
  importance_sampling: ["targetTokens", "logprobs", "advantages"],
  ppo: ["targetTokens", "logprobs", "advantages"],
  cispo: ["targetTokens", "logprobs", "advantages"],
};

const LOSS_CONFIG_KEYS: Record<TinkerLossFnName, string[]> = {
  cross_entropy: [],
  importance_sampling: [],
  ppo: ["clipLowThreshold", "clipHighThreshold"],
  cispo: ["clipLowThreshold", "clipHighThreshold"],
};

const WIRE_INPUT_NAMES = {
  targetTokens: "target_tokens",
  weights: "weights",
  logprobs: "logprobs",
  advantages: "advantages",
  teacherLogprobs: "teacher_logprobs",
  teacherTopkIds: "teacher_topk_ids",
  teacherTopkLogprobs: "teacher_topk_logprobs",
  teacherRowsStart: "teacher_rows_start",
} as const satisfies Record<keyof LossFnInputs, string>;

function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Narrows our loss name to Tinker's, refusing the embedded-only distillation losses. */
export function toTinkerLoss(lossFn: LossFnName): TinkerLossFnName {
  switch (lossFn) {
    case "cross_entropy":
    case "importance_sampling":
    case "ppo":
    case "cispo":
      return lossFn;
    case "reverse_kl":
    case "topk_reverse_kl":
      throw new TinkerUnsupportedError(
        `loss "${lossFn}" is not a Tinker loss: full-distribution distillation runs only on the embedded backend`,
      );
    default: {
      const unreachable: never = lossFn;
      throw new Error(`unknown loss ${String(unreachable)}`);
    }
  }
}

export function lossConfigToWire(
  lossFn: TinkerLossFnName,
  config: LossFnConfig | undefined,
): Record<string, number> | undefined {
  if (config === undefined || Object.keys(config).length === 0) return undefined;
  const wire: Record<string, number> = {};
  for (const [key, value] of Object.entries(config)) {
    if (lossFn === "importance_sampling" && key === "clipRatio") {
      throw new TinkerUnsupportedError(
        "importance_sampling clipRatio is not a Tinker loss_fn_config key (Tinker does not clip the ratio); " +
          "ratio clipping runs only on the embedded backend; use ppo/cispo thresholds on Tinker",
      );
    }
    if (!LOSS_CONFIG_KEYS[lossFn].includes(key)) {
      throw new TinkerUnsupportedError(
        `loss_fn_config key "${key}" is not accepted by Tinker's ${lossFn} (accepted: ${LOSS_CONFIG_KEYS[lossFn].join(", ") || "none"})`,
      );
    }
    wire[camelToSnake(key)] = value;
  }
  return wire;
}

export function datumToWire(datum: Datum, lossFn: TinkerLossFnName, index: number): WireDatum {
  const n = datum.modelInput.length;
  const inputs: Record<string, WireTensor> = {};
  for (const key of LOSS_INPUTS[lossFn]) {
    const values = datum.lossFnInputs[key];
    if (values === undefined) throw new Error(`datum ${index}: ${lossFn} needs lossFnInputs.${key}`);
    if (values.length !== n) {
      throw new Error(`datum ${index}: lossFnInputs.${key} has ${values.length} entries, modelInput has ${n}`);
    }
    inputs[WIRE_INPUT_NAMES[key]] = {
      data: Array.from(values),
      dtype: key === "targetTokens" ? "int64" : "float32",
      shape: [n],
    };
  }
  return {
    model_input: { chunks: [{ type: "encoded_text", tokens: Array.from(datum.modelInput) }] },
    loss_fn_inputs: inputs,
  };
}

/**
 * Server side: every known input key back to our shape; typed arrays for the (R, V)/(R, k) teacher
 * rows, and teacher_rows_start (their first position) as a one-element int64 tensor.
 */
export function datumFromWire(wire: WireDatum): Datum {
  const modelInput = wire.model_input.chunks.flatMap((chunk) => {
    if (chunk.type !== "encoded_text") throw new Error(`model_input chunk type "${chunk.type}" is not supported`);
    return chunk.tokens;
  });
  const inputs = wire.loss_fn_inputs;
  const read = (name: string) => inputs[name]?.data;
  const targetTokens = read("target_tokens");
  if (targetTokens === undefined) throw new Error("loss_fn_inputs.target_tokens is required");
  const lossFnInputs: LossFnInputs = { targetTokens };
  const weights = read("weights");
  const logprobs = read("logprobs");
  const advantages = read("advantages");
  const teacherLogprobs = read("teacher_logprobs");
  const teacherTopkIds = read("teacher_topk_ids");
  const teacherTopkLogprobs = read("teacher_topk_logprobs");
  const teacherRowsStart = read("teacher_rows_start");
  if (weights) lossFnInputs.weights = weights;
  if (logprobs) lossFnInputs.logprobs = logprobs;
  if (advantages) lossFnInputs.advantages = advantages;
  if (teacherLogprobs) lossFnInputs.teacherLogprobs = Float32Array.from(teacherLogprobs);
  if (teacherTopkIds) lossFnInputs.teacherTopkIds = Int32Array.from(teacherTopkIds);
  if (teacherTopkLogprobs) lossFnInputs.teacherTopkLogprobs = Float32Array.from(teacherTopkLogprobs);
  if (teacherRowsStart) {
    const [start] = teacherRowsStart;
    if (teacherRowsStart.length !== 1 || !Number.isInteger(start) || start! < 0) {
      throw new Error(
        `loss_fn_inputs.teacher_rows_start must hold one non-negative integer, got [${teacherRowsStart.join(", ")}]`,
      );
    }
    lossFnInputs.teacherRowsStart = start;
  }
  return { modelInput, lossFnInputs };
}

export function lossConfigFromWire(wire: Record<string, number> | undefined | null): LossFnConfig | undefined {
  if (!wire) return undefined;
  return Object.fromEntries(Object.entries(wire).map(([key, value]) => [snakeToCamel(key), value]));
}

export function forwardBackwardFromWire(wire: WireForwardBackwardOutput): ForwardBackwardResult {
  const lossFnOutputs = wire.loss_fn_outputs.map((record, i) => {
    const out: Record<string, number[]> = {};
    for (const [name, tensor] of Object.entries(record)) out[name] = tensor.data;
    if (out.logprobs === undefined) throw new Error(`forward_backward output ${i} has no logprobs`);
    return out as { logprobs: number[] } & Record<string, number[]>;
  });
  return { lossFnOutputs, metrics: wire.metrics ?? {} };
}

export function forwardBackwardToWire(result: ForwardBackwardResult): WireForwardBackwardOutput {
  return {
    loss_fn_output_type: "ArrayRecord",
    loss_fn_outputs: result.lossFnOutputs.map((record) =>
      Object.fromEntries(
        Object.entries(record).map(([name, data]) => [
          name,
          { data: Array.from(data), dtype: "float32", shape: [data.length] },
        ]),
      ),
    ),
    metrics: result.metrics,
  };
}

export function adamToWire(params: AdamParams): WireAdamParams {
  return {
    learning_rate: params.learningRate,
    beta1: params.beta1,
    beta2: params.beta2,
    eps: params.eps,
    weight_decay: params.weightDecay ?? 0,
    grad_clip_norm: params.gradClipNorm ?? 0,
  };
}

export function adamFromWire(wire: Partial<WireAdamParams>): AdamParams {
  return {
    learningRate: wire.learning_rate ?? 1e-4,
    beta1: wire.beta1 ?? 0.9,
    beta2: wire.beta2 ?? 0.95,
    eps: wire.eps ?? 1e-12,
    weightDecay: wire.weight_decay ?? 0,
    gradClipNorm: wire.grad_clip_norm ?? 0,
  };
}

export function samplingParamsToWire(params: SamplingParams): WireSamplingParams {
  const wire: WireSamplingParams = {
    max_tokens: params.maxTokens,
    temperature: params.temperature,
    top_k: params.topK ?? -1,
    top_p: params.topP ?? 1,
  };
  if (params.stop !== undefined && params.stop.length > 0) wire.stop = params.stop;
  if (params.seed !== undefined) wire.seed = params.seed;
  return wire;
}

/**
 * Server side; null and absent fields take Tinker's defaults. Only stop token ids go into the
 * params: stop strings (stopStringsFromWire) are applied to the sampled text by the server.
 */
export function samplingParamsFromWire(
  wire: { [K in keyof WireSamplingParams]?: WireSamplingParams[K] | null },
  numSamples: number,
): SamplingParams {
  const stopTokens = wire.stop ?? undefined;
  const stop =
    stopTokens !== undefined && typeof stopTokens !== "string" && stopTokens.every((s) => typeof s === "number")
      ? stopTokens
      : undefined;
  return {
    maxTokens: wire.max_tokens ?? 16,
    temperature: wire.temperature ?? 1,
    topK: wire.top_k ?? -1,
    topP: wire.top_p ?? 1,
    ...(stop !== undefined && stop.length > 0 ? { stop: stop as number[] } : {}),
    ...(wire.seed !== undefined && wire.seed !== null ? { seed: wire.seed } : {}),
    numSamples,
  };
}

/** The stop strings of a sample request: Tinker takes one string, a list of strings, or token ids. */
export function stopStringsFromWire(stop: WireSamplingParams["stop"] | null | undefined): string[] {
  if (typeof stop === "string") return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === "string"))
    return (stop as string[]).filter((s) => s.length > 0);
  return [];
}

export function sampleFromWire(wire: WireSampleResponse): SampleResult {
  return {
    sequences: wire.sequences.map((seq, i) => {
      if (!seq.logprobs) throw new Error(`sampled sequence ${i} came back without logprobs`);
      return { tokens: seq.tokens, logprobs: seq.logprobs, stopReason: seq.stop_reason };
    }),
  };
}

export function sampleToWire(result: SampleResult, promptLogprobs?: Array<number | null>): WireSampleResponse {
  const wire: WireSampleResponse = {
    type: "sample",
    sequences: result.sequences.map((seq) => ({
      stop_reason: seq.stopReason,
      tokens: seq.tokens,
      logprobs: seq.logprobs,
    })),
  };
  if (promptLogprobs !== undefined) wire.prompt_logprobs = promptLogprobs;
  return wire;
}

export function promptToWire(tokens: number[]): WireDatum["model_input"] {
  return { chunks: [{ type: "encoded_text", tokens: Array.from(tokens) }] };
}
