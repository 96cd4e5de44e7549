/**
 * Entry point of the numeric kernels: the WebAssembly SIMD kernels (two threads by default) where
 * the runtime has SIMD128 and shared memory, else the plain TypeScript reference. Both satisfy
 * `Kernels`; `dispose()` stops any worker thread (a forgotten dispose never blocks process exit).
 */
import { createJsKernels } from "./js-kernels";
import type { Kernels } from "./types";
import { wasmKernelsSupported } from "./wasm-module";
import { createWasmKernels } from "./wasm-kernels";

export type { Kernels, SgemmArgs } from "./types";
export { sgemmReference, createJsKernels } from "./js-kernels";

export interface CreateKernelsOptions {
  /** 2 (default) splits large products with one worker thread; 1 keeps everything on the caller. */
  threads?: 1 | 2;
}

export async function createKernels(options: CreateKernelsOptions = {}): Promise<Kernels & { dispose(): void }> {
  if (!wasmKernelsSupported()) return { ...createJsKernels(), dispose: () => {} };
  const threads = options.threads ?? 2;
  try {
    return await createWasmKernels({ threads });
  } catch (error) {
    if (threads === 1) throw error;
    // A worker thread that cannot start (no worker support in this runtime) costs speed, not function.
    console.warn(`kernels: running on one thread, the worker thread did not start: ${String(error)}`);
    return createWasmKernels({ threads: 1 });
  }
}
