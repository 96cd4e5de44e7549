/**
 * The engine's worker-thread entry (started by EngineClient through startTsWorker). It builds the
 * kernels and the Engine once, reports "ready", then runs requests one at a time in arrival order,
 * so every adapter sees its calls in the order they were sent. Results' typed arrays are transferred.
 * A sample that asked for progress posts its tokens while it runs: the first at once, then batches
 * at most every PROGRESS_INTERVAL_MS, and whatever is left just before the result.
 */
import { parentPort, workerData } from "node:worker_threads";
import { lowerThisThreadsPriority } from "../thread-priority";
import type { Kernels } from "./kernels/types";
import { createJsKernels } from "./kernels/js-kernels";
import { countingKernels } from "./accounting";
import { Engine } from "./engine";
import { modelDirectoryBytes, parameterCount, randomBaseModel } from "./weights";
import { createMemoryGroups, memoriesFor } from "./kernels/memory-groups";
import {
  PROGRESS_INTERVAL_MS,
  transferables,
  type EngineReply,
  type EngineRequest,
  type EngineWorkerData,
} from "./protocol";

/** The fast kernels over as many wasm memories as the model needs (one below about 3 GB). */
async function makeKernels(
  kind: EngineWorkerData["kernels"],
  threads: number | undefined,
  modelBytes: number,
): Promise<Kernels> {
  if (kind === "js") return createJsKernels();
  const { createKernels } = await import("./kernels/index");
  const memories = memoriesFor(modelBytes);
  if (memories === 1) return createKernels({ threads });
  return createMemoryGroups({ create: () => createKernels({ threads }), memories });
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("lib/engine/worker.ts must run in a worker thread");
  // The engine yields the cores to the server's main thread, which answers requests (see thread-priority.ts).
  lowerThisThreadsPriority();
  const data = (workerData as { data: EngineWorkerData }).data;
  let engine: Engine;
  try {
    const modelBytes =
      "dir" in data.model ? modelDirectoryBytes(data.model.dir) : parameterCount(data.model.random) * 4;
    const kernels = countingKernels(await makeKernels(data.kernels ?? "fast", data.threads, modelBytes));
    engine =
      "dir" in data.model
        ? Engine.fromDirectory(data.model.dir, kernels)
        : new Engine(randomBaseModel(data.model.random, data.model.seed, kernels), kernels);
  } catch (e) {
    port.postMessage({ type: "init-error", error: e instanceof Error ? e.message : String(e) } satisfies EngineReply);
    return;
  }
  port.on("message", (req: EngineRequest) => {
    let reply: EngineReply;
    const progress = req.progress
      ? progressPoster((tokens) => port.postMessage({ type: "progress", seq: req.seq, tokens } satisfies EngineReply))
      : null;
    try {
      const fn = (engine as unknown as Record<string, (...args: unknown[]) => unknown>)[req.method];
      if (typeof fn !== "function") throw new Error(`unknown engine method ${req.method}`);
      const args = progress ? [...req.args, progress.onToken] : req.args;
      reply = { type: "result", seq: req.seq, value: fn.apply(engine, args) };
    } catch (e) {
      reply = { type: "error", seq: req.seq, error: e instanceof Error ? e.message : String(e) };
    }
    progress?.flush();
    port.postMessage(reply, reply.type === "result" ? transferables(reply.value) : []);
  });
  port.postMessage({ type: "ready", config: engine.config, kernels: engine.kernels.name } satisfies EngineReply);
}

/**
 * Batches tokens for "progress" messages. Sampling holds the thread, so no timer can fire: the
 * clock is read as each token arrives, and the first token goes out alone so a reader sees it at once.
 */
function progressPoster(post: (tokens: number[]) => void): { onToken: (token: number) => void; flush: () => void } {
  let batch: number[] = [];
  let lastPost = -Infinity;
  const flush = (): void => {
    if (batch.length === 0) return;
    post(batch);
    batch = [];
    lastPost = performance.now();
  };
  return {
    onToken(token) {
      batch.push(token);
      if (performance.now() - lastPost >= PROGRESS_INTERVAL_MS) flush();
    },
    flush,
  };
}

void main();
