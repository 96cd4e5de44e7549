/**
 * The fast `Kernels`: WebAssembly SIMD sgemm (wasm/sgemm.c) over one shared memory, optionally
 * with a worker thread that shares every large product. `sgemm` stays synchronous: the caller
 * posts the product through a mailbox in shared memory, both threads claim chunks of C until none
 * are left, and the caller waits for the worker's last chunk with Atomics.wait, so it works on the
 * main thread and in worker threads.
 * Arrays from `alloc` are passed by address; other arrays are copied in and out.
 */
import type { Worker } from "node:worker_threads";
import { projectPath } from "../../paths";
import { startTsWorker } from "../../worker-threads";
import { WasmHeap } from "./heap";
import {
  MAILBOX_BYTES,
  Mailbox,
  OP_SGEMM,
  OP_STOP,
  partition,
  runClaimedChunks,
  runSgemmJob,
  type SgemmWorkerData,
  type SgemmJob,
} from "./sgemm-protocol";
import type { Kernels, SgemmArgs } from "./types";
import { KERNELS_WASM_PATH, createSharedMemory, instantiateKernels, kernelsModule } from "./wasm-module";

export interface WasmKernels extends Kernels {
  /** Threads a large product runs on now: 2 while the worker thread is running, else 1. */
  readonly threads: 1 | 2;
  /** Bytes the shared memory currently holds (for tests and diagnostics). */
  readonly memoryBytes: number;
  /** Stops the worker thread; later products run on the calling thread alone. */
  dispose(): void;
}

export interface WasmKernelsOptions {
  threads?: 1 | 2;
  /** Products with fewer multiply-adds than this stay on one thread (waking the worker costs more). */
  parallelMinMacs?: number;
}

/** Below about this many multiply-adds, waking the worker costs more than it saves (measured). */
const DEFAULT_PARALLEL_MIN_MACS = 1 << 20;
const WORKER_ENTRY = "lib/engine/kernels/sgemm-worker.ts";

export async function createWasmKernels(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const wasmPath = projectPath(KERNELS_WASM_PATH);
  const memory = createSharedMemory(64);
  const exports = instantiateKernels(kernelsModule(wasmPath), memory);
  const heap = new WasmHeap(memory, exports.__heap_base.value as number);
  const workBytes = exports.sgemm_work_bytes();
  const work = heap.allocBytes(workBytes);
  const parallelMinMacs = options.parallelMinMacs ?? DEFAULT_PARALLEL_MIN_MACS;

  let partner: { worker: Worker; mailbox: Mailbox } | undefined;
  if ((options.threads ?? 2) === 2) {
    const mailboxAddr = heap.allocBytes(MAILBOX_BYTES);
    new Int32Array(memory.buffer, mailboxAddr, MAILBOX_BYTES / 4).fill(0);
    const data: SgemmWorkerData = { memory, wasmPath, mailbox: mailboxAddr, work: heap.allocBytes(workBytes) };
    partner = { worker: await startWorker(data), mailbox: new Mailbox(memory.buffer, mailboxAddr) };
  }

  function run(job: SgemmJob): void {
    const part = partner && job.M * job.N * job.K >= parallelMinMacs ? partition(job) : null;
    if (!partner || !part) {
      runSgemmJob(exports, job, work);
      return;
    }
    const seq = partner.mailbox.post(OP_SGEMM, job, part);
    let ok = false;
    try {
      runClaimedChunks(exports, job, part, partner.mailbox, work);
    } finally {
      ok = partner.mailbox.settle(seq);
    }
    if (!ok) throw new Error("sgemm failed in the worker thread");
  }

  return {
    name: partner ? "wasm-simd x2" : "wasm-simd x1",
    get threads() {
      return partner ? 2 : 1;
    },
    get memoryBytes() {
      return heap.capacity;
    },
    alloc: (n) => heap.alloc(n),
    free: (array) => heap.free(array),
    sgemm(args: SgemmArgs) {
      const { M, N, K } = args;
      checkDims(M, N, K);
      if (M === 0 || N === 0) return;
      const scratch: number[] = [];
      try {
        const a = resolve(
          heap,
          "A",
          args.A,
          args.aOffset ?? 0,
          args.lda,
          args.transA ? K : M,
          args.transA ? M : K,
          scratch,
        );
        const b = resolve(
          heap,
          "B",
          args.B,
          args.bOffset ?? 0,
          args.ldb,
          args.transB ? N : K,
          args.transB ? K : N,
          scratch,
        );
        const cOffset = args.cOffset ?? 0;
        const c = resolve(heap, "C", args.C, cOffset, args.ldc, M, N, scratch);
        const job: SgemmJob = {
          transA: args.transA,
          transB: args.transB,
          M,
          N,
          K,
          alpha: args.alpha,
          a,
          lda: args.lda,
          b,
          ldb: args.ldb,
          beta: args.beta,
          c,
          ldc: args.ldc,
        };
        run(job);
        if (!heap.owns(args.C)) args.C.set(heap.view(c, span(M, N, args.ldc)), cOffset);
      } finally {
        for (const addr of scratch) heap.freeBytes(addr);
      }
    },
    dispose() {
      if (!partner) return;
      const { worker, mailbox } = partner;
      partner = undefined;
      mailbox.post(OP_STOP);
      void worker.terminate().catch(() => {});
    },
  };
}

async function startWorker(data: SgemmWorkerData): Promise<Worker> {
  const worker = startTsWorker(WORKER_ENTRY, data);
  try {
    await new Promise<void>((resolvePromise, reject) => {
      worker.once("message", () => resolvePromise());
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`sgemm worker thread exited with code ${code} while starting`)));
    });
  } catch (error) {
    void worker.terminate().catch(() => {});
    throw error;
  }
  worker.removeAllListeners("exit");
  // The worker never keeps the process alive: a program that forgets dispose() still exits.
  worker.unref();
  return worker;
}

function checkDims(M: number, N: number, K: number): void {
  for (const [name, value] of [
    ["M", M],
    ["N", N],
    ["K", K],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)
      throw new RangeError(`sgemm: ${name} = ${value} is not a valid dimension`);
  }
}

/** Floats a (rows, cols) matrix with row stride ld spans. */
function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

/**
 * The byte address of a stored (rows, cols) operand: in place when it lives in the heap, else a
 * scratch copy (recorded in `scratch` for release). Bounds are checked here because the kernels
 * would otherwise read or write other tensors of the shared memory without complaint.
 */
function resolve(
  heap: WasmHeap,
  name: string,
  array: Float32Array,
  offset: number,
  ld: number,
  rows: number,
  cols: number,
  scratch: number[],
): number {
  const n = span(rows, cols, ld);
  if (n === 0) return 0;
  if (!Number.isInteger(ld) || ld < cols || (rows > 1 && ld < 1))
    throw new RangeError(`sgemm: leading dimension of ${name} (${ld}) is below its ${cols} columns`);
  if (!Number.isInteger(offset) || offset < 0 || offset + n > array.length) {
    throw new RangeError(`sgemm: ${name} needs ${n} floats from offset ${offset} but has ${array.length}`);
  }
  if (heap.owns(array)) return array.byteOffset + offset * 4;
  const addr = heap.allocBytes(n * 4);
  scratch.push(addr);
  heap.view(addr, n).set(array.subarray(offset, offset + n));
  return addr;
}
