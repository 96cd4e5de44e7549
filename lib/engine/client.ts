/**
 * The engine's async API: every call is posted to a worker thread that owns the model, so the
 * caller never blocks on a forward or backward pass. Calls queue in order (one runs at a time), so
 * the requests for one adapter run in the order they were made. Typed arrays inside arguments
 * (e.g. teacher log-prob rows) are transferred: the caller's copies become unusable after the call.
 * `sample` may take an observer that sees the first sequence's tokens while they are sampled; every
 * batch reaches it before the call resolves.
 */
import type { Worker } from "node:worker_threads";
import { startTsWorker } from "../worker-threads";
import type { SampleObserver, SampleResult, SamplingParams } from "../training/types";
import type { ModelConfig } from "./config";
import {
  transferables,
  type EngineMethod,
  type EngineReply,
  type EngineRequest,
  type EngineWorkerData,
  type MethodArgs,
  type MethodResult,
} from "./protocol";

export type { EngineWorkerData } from "./protocol";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; observer?: SampleObserver };

export class EngineClient {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly config: ModelConfig,
    readonly kernelsName: string,
  ) {
    worker.on("message", (msg: EngineReply) => {
      if (msg.type !== "result" && msg.type !== "error" && msg.type !== "progress") return;
      const p = this.pending.get(msg.seq);
      if (!p) return;
      if (msg.type === "progress") {
        try {
          p.observer?.onTokens(msg.tokens);
        } catch (e) {
          // A throwing observer fails its call; the worker's later result for it is dropped.
          this.pending.delete(msg.seq);
          p.reject(e instanceof Error ? e : new Error(String(e)));
        }
        return;
      }
      this.pending.delete(msg.seq);
      if (msg.type === "result") p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    });
    const failAll = (err: Error): void => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", (e) => failAll(e instanceof Error ? e : new Error(String(e))));
    worker.on("exit", (code) => {
      this.closed = true;
      failAll(new Error(`engine worker exited with code ${code}`));
    });
  }

  /** Starts a worker, loads the model there, and resolves once it is ready. */
  static start(data: EngineWorkerData): Promise<EngineClient> {
    const worker = startTsWorker("lib/engine/worker.ts", data);
    return new Promise((resolve, reject) => {
      const onMessage = (msg: EngineReply): void => {
        if (msg.type === "ready") {
          worker.off("message", onMessage);
          worker.off("error", reject);
          resolve(new EngineClient(worker, msg.config, msg.kernels));
        } else if (msg.type === "init-error") {
          void worker.terminate();
          reject(new Error(msg.error));
        }
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`engine worker exited with code ${code} before it was ready`)));
    });
  }

  /** Calls an Engine method in the worker (see engine.ts for what each does). */
  call<M extends EngineMethod>(method: M, ...args: MethodArgs<M>): Promise<MethodResult<M>> {
    return this.post(method, args);
  }

  /** Samples in the worker; `observer` sees the first sequence's tokens in batches as they come. */
  sample = (
    id: string | null,
    prompt: number[],
    params: SamplingParams,
    observer?: SampleObserver,
  ): Promise<SampleResult> => this.post("sample", [id, prompt, params], observer);

  private post<M extends EngineMethod>(
    method: M,
    args: MethodArgs<M>,
    observer?: SampleObserver,
  ): Promise<MethodResult<M>> {
    if (this.closed) return Promise.reject(new Error("engine client is closed"));
    const seq = ++this.seq;
    const req: EngineRequest = { seq, method, args, ...(observer ? { progress: true } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject, observer });
      this.worker.postMessage(req, transferables(args));
    });
  }

  createAdapter = (...a: MethodArgs<"createAdapter">) => this.call("createAdapter", ...a);
  snapshotAdapter = (...a: MethodArgs<"snapshotAdapter">) => this.call("snapshotAdapter", ...a);
  emaUpdate = (...a: MethodArgs<"emaUpdate">) => this.call("emaUpdate", ...a);
  dropAdapter = (...a: MethodArgs<"dropAdapter">) => this.call("dropAdapter", ...a);
  hasAdapter = (...a: MethodArgs<"hasAdapter">) => this.call("hasAdapter", ...a);
  adapterInfo = (...a: MethodArgs<"adapterInfo">) => this.call("adapterInfo", ...a);
  adapterTensors = (...a: MethodArgs<"adapterTensors">) => this.call("adapterTensors", ...a);
  setAdapterTensors = (...a: MethodArgs<"setAdapterTensors">) => this.call("setAdapterTensors", ...a);
  forwardBackward = (...a: MethodArgs<"forwardBackward">) => this.call("forwardBackward", ...a);
  forward = (...a: MethodArgs<"forward">) => this.call("forward", ...a);
  optimStep = (...a: MethodArgs<"optimStep">) => this.call("optimStep", ...a);
  zeroGrad = (...a: MethodArgs<"zeroGrad">) => this.call("zeroGrad", ...a);
  computeLogprobs = (...a: MethodArgs<"computeLogprobs">) => this.call("computeLogprobs", ...a);
  logSoftmaxRows = (...a: MethodArgs<"logSoftmaxRows">) => this.call("logSoftmaxRows", ...a);
  topkLogprobs = (...a: MethodArgs<"topkLogprobs">) => this.call("topkLogprobs", ...a);
  saveState = (...a: MethodArgs<"saveState">) => this.call("saveState", ...a);
  loadState = (...a: MethodArgs<"loadState">) => this.call("loadState", ...a);
  exportPeft = (...a: MethodArgs<"exportPeft">) => this.call("exportPeft", ...a);
  importPeft = (...a: MethodArgs<"importPeft">) => this.call("importPeft", ...a);
  memoryStats = (...a: MethodArgs<"memoryStats">) => this.call("memoryStats", ...a);
  createFullTraining = (...a: MethodArgs<"createFullTraining">) => this.call("createFullTraining", ...a);
  fullForwardBackward = (...a: MethodArgs<"fullForwardBackward">) => this.call("fullForwardBackward", ...a);
  fullOptimStep = (...a: MethodArgs<"fullOptimStep">) => this.call("fullOptimStep", ...a);
  saveBaseModel = (...a: MethodArgs<"saveBaseModel">) => this.call("saveBaseModel", ...a);

  /** Stops the worker; pending calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}
