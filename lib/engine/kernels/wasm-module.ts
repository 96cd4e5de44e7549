/**
 * Loads the committed kernels.wasm (built from wasm/sgemm.c by scripts/build-kernels.sh) and
 * instantiates it on a shared memory. The calling thread and its worker thread each hold one
 * instance of the same module over the same memory; the module keeps no state of its own.
 */
import fs from "node:fs";
import { projectPath } from "../../paths";

export const KERNELS_WASM_PATH = "lib/engine/kernels/wasm/kernels.wasm";

/** Bytes in one WebAssembly page. */
export const WASM_PAGE = 65536;
/** The module is linked for at most 4 GiB (the wasm32 limit); the memory is declared with this maximum. */
export const MAX_PAGES = 65536;

export interface KernelExports {
  /** Pointers are byte addresses in the shared memory; see wasm/sgemm.c. */
  sgemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    work: number,
  ): void;
  /** sgemm with B as 16-bit elements (b a byte address, ldb in elements): kind 1 bfloat16, 2 IEEE half. */
  sgemm_half(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    work: number,
    kind: number,
  ): void;
  /** Workspace bytes one concurrent caller of sgemm needs. */
  sgemm_work_bytes(): number;
  /** First address the module does not use itself; everything above belongs to the heap. */
  __heap_base: WebAssembly.Global;
}

const modules = new Map<string, WebAssembly.Module>();

/** Compiles the module once per thread and path. */
export function kernelsModule(wasmPath = projectPath(KERNELS_WASM_PATH)): WebAssembly.Module {
  let module = modules.get(wasmPath);
  if (!module) {
    module = new WebAssembly.Module(fs.readFileSync(wasmPath));
    modules.set(wasmPath, module);
  }
  return module;
}

export function createSharedMemory(initialPages: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
}

export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}

// (module (func (result v128) v128.const i32x4 0 0 0 0)): validates only where SIMD128 exists.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 11,
]);

/** True where WebAssembly SIMD128, shared memories and Atomics.wait are all available. */
export function wasmKernelsSupported(): boolean {
  try {
    if (typeof SharedArrayBuffer === "undefined" || typeof Atomics?.wait !== "function") return false;
    if (!WebAssembly.validate(SIMD_PROBE)) return false;
    createSharedMemory(1);
    return true;
  } catch {
    return false;
  }
}
