/**
 * Entry point of the numeric kernels: the WebAssembly SIMD kernels on every core by default where
 * the runtime has SIMD128 and shared memory, else the plain TypeScript reference. Both satisfy
 * `Kernels`; `dispose()` stops any worker thread (a forgotten dispose never blocks process exit).
 */
import os from "node:os";
import { createJsKernels } from "./js-kernels";
import type { Kernels } from "./types";
import { wasmKernelsSupported } from "./wasm-module";
import { MAX_THREADS, createWasmKernels } from "./wasm-kernels";

export type { Kernels, SgemmArgs } from "./types";
export { sgemmReference, createJsKernels } from "./js-kernels";
export { MAX_THREADS } from "./wasm-kernels";

export interface CreateKernelsOptions {
  /** Threads in all, the caller included; default: one per core this process may use (1 keeps everything on the caller). */
  threads?: number;
}

/** One thread per core the process may use (os.availableParallelism), at most MAX_THREADS. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, os.availableParallelism()));
}

export async function createKernels(options: CreateKernelsOptions = {}): Promise<Kernels & { dispose(): void }> {
  if (!wasmKernelsSupported()) return { ...createJsKernels(), dispose: () => {} };
  const threads = options.threads ?? defaultThreads();
  try {
    return await createWasmKernels({ threads });
  } catch (error) {
    if (threads === 1 || error instanceof RangeError) throw error;
    // Worker threads that cannot start (no worker support in this runtime) cost speed, not function.
    console.warn(`kernels: running on one thread, the worker threads did not start: ${String(error)}`);
    return createWasmKernels({ threads: 1 });
  }
}
