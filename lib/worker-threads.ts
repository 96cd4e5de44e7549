/**
 * Starts a worker thread from a TypeScript entry file of this project. Workers run the source
 * directly through tsx's loader (registered by lib/workers/boot.mjs), so the Next.js server, vitest
 * and the CLI share one code path and nothing needs a separate compile step.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { projectPath } from "./paths";

/**
 * @param relativeEntry the entry file relative to the project root, e.g. "lib/engine/worker.ts"
 * @param data the value the entry reads as `workerData.data`
 */
export function startTsWorker(relativeEntry: string, data?: unknown, options: WorkerOptions = {}): Worker {
  return new Worker(projectPath("lib/workers/boot.mjs"), {
    ...options,
    workerData: { entry: pathToFileURL(projectPath(relativeEntry)).href, data },
  });
}
