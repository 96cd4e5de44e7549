/**
 * Messages between EngineClient (any thread) and the engine's worker thread. A request names an
 * Engine method and its arguments; the reply carries the result or an error message. Typed arrays
 * that own their whole buffer are transferred, not copied. A sample request may ask for progress:
 * the worker then posts the tokens of its first sequence in batches while it samples, all of them
 * before the result (one port delivers messages in order).
 */
import type { Engine } from "./engine";
import type { ModelConfig } from "./config";

/** Engine methods callable through the worker. */
export type EngineMethod =
  | "createAdapter"
  | "snapshotAdapter"
  | "emaUpdate"
  | "dropAdapter"
  | "hasAdapter"
  | "adapterInfo"
  | "adapterTensors"
  | "setAdapterTensors"
  | "forwardBackward"
  | "forward"
  | "optimStep"
  | "zeroGrad"
  | "computeLogprobs"
  | "logSoftmaxRows"
  | "topkLogprobs"
  | "sample"
  | "saveState"
  | "loadState"
  | "exportPeft"
  | "importPeft"
  | "memoryStats"
  | "createFullTraining"
  | "fullForwardBackward"
  | "fullOptimStep"
  | "saveBaseModel";

/** Arguments that can cross postMessage: sample's token callback stays in the worker (see progress). */
export type MethodArgs<M extends EngineMethod> = M extends "sample"
  ? SampleArgs
  : M extends keyof Engine
    ? Engine[M] extends (...args: infer A) => unknown
      ? A
      : never
    : [];
type SampleArgs =
  Parameters<Engine["sample"]> extends [infer Id, infer Prompt, infer Params, ...unknown[]]
    ? [Id, Prompt, Params]
    : never;
export type MethodResult<M extends EngineMethod> = M extends keyof Engine
  ? Engine[M] extends (...args: never[]) => infer R
    ? R
    : never
  : never;

export interface EngineWorkerData {
  /** A Hugging Face Qwen3 directory, or a random model (tests, benchmarks). */
  model: { dir: string } | { random: ModelConfig; seed: number };
  /** "fast" uses the WebAssembly kernels where available; "js" the reference kernels. */
  kernels?: "fast" | "js";
  /** Threads of the fast kernels, this one included (default: one per core). */
  threads?: number;
}

export interface EngineRequest {
  seq: number;
  method: EngineMethod;
  args: unknown[];
  /** Sample only: post "progress" replies with the sampled tokens as they come. */
  progress?: boolean;
}

export type EngineReply =
  | { type: "ready"; config: ModelConfig; kernels: string }
  | { type: "init-error"; error: string }
  | { type: "progress"; seq: number; tokens: number[] }
  | { type: "result"; seq: number; value: unknown }
  | { type: "error"; seq: number; error: string };

/**
 * Progress batches are posted at most this often (the first token goes at once): a sample of a few
 * hundred tokens costs a few dozen messages, while a reader waiting on tokens waits at most this.
 */
export const PROGRESS_INTERVAL_MS = 15;

/** Buffers of the typed arrays inside `value` that can be moved to the other thread. */
export function transferables(value: unknown, out: ArrayBuffer[] = [], depth = 0): ArrayBuffer[] {
  if (value === null || typeof value !== "object" || depth > 4) return out;
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    if (
      buf instanceof ArrayBuffer &&
      value.byteOffset === 0 &&
      value.byteLength === buf.byteLength &&
      !out.includes(buf)
    )
      out.push(buf);
    return out;
  }
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && typeof v === "object") transferables(v, out, depth + 1);
    return out;
  }
  for (const v of Object.values(value as Record<string, unknown>)) transferables(v, out, depth + 1);
  return out;
}
