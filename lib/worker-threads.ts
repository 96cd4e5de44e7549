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
    execArgv: inheritableExecArgv(),
    ...options,
    workerData: { entry: pathToFileURL(projectPath(relativeEntry)).href, data },
  });
}

/**
 * The process's Node flags that a worker accepts: a worker inherits them all by default, and one
 * started from `node --input-type=module -e ...` (a script given as text) fails at once on that flag.
 */
function inheritableExecArgv(): string[] {
  const argv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const flag = process.execArgv[i];
    if (flag.startsWith("--input-type")) {
      if (flag === "--input-type") i++;
      continue;
    }
    argv.push(flag);
  }
  return argv;
}
