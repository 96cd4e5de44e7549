/**
 * The fast `Kernels`: WebAssembly SIMD sgemm (wasm/sgemm.c) over one shared memory, with any
 * number of worker threads that share every large product and run tasks (../threads.ts) for the
 * TypeScript parts of a pass. `sgemm` stays synchronous: the caller posts the product through a
 * mailbox in shared memory, every thread claims chunks of C until none are left, and the caller
 * waits for the workers that joined with Atomics.wait, so it works on the main thread and in
 * worker threads. Arrays from `alloc` are passed by address; other arrays are copied in and out.
 */
import type { Worker } from "node:worker_threads";
import { projectPath } from "../../paths";
import { startTsWorker } from "../../worker-threads";
import { TASKS } from "../threads-table";
import { bKindOf } from "./half";
import { WasmHeap } from "./heap";
import {
  MAILBOX_BYTES,
  MAX_WORKERS,
  Mailbox,
  OP_SGEMM,
  OP_TASK,
  partition,
  runClaimedChunks,
  runSgemmJob,
  type SgemmWorkerData,
  type SgemmJob,
} from "./sgemm-protocol";
import type { Kernels, PoolJob, SgemmArgs, TaskContext, ThreadPool } from "./types";
import {
  KERNELS_WASM_PATH,
  type KernelExports,
  createSharedMemory,
  instantiateKernels,
  kernelsModule,
} from "./wasm-module";

export interface WasmKernels extends Kernels {
  /** Threads a large product runs on now: the requested count while the workers run, 1 after dispose. */
  readonly threads: number;
  /** Bytes the shared memory currently holds (for tests and diagnostics). */
  readonly memoryBytes: number;
  readonly pool: ThreadPool;
  /** Stops the worker threads; later products and tasks run on the calling thread alone. */
  dispose(): void;
}

export interface WasmKernelsOptions {
  /** Threads in all, the caller included (default 1): threads − 1 workers are started. */
  threads?: number;
  /** Products with fewer multiply-adds than this stay on one thread (waking a worker costs more). */
  parallelMinMacs?: number;
}

/** Below about this many multiply-adds, waking the worker costs more than it saves (measured). */
const DEFAULT_PARALLEL_MIN_MACS = 1 << 20;
const WORKER_ENTRY = "lib/engine/kernels/sgemm-worker.ts";
/** One caller thread plus the workers one mailbox can count. */
export const MAX_THREADS = MAX_WORKERS + 1;

export async function createWasmKernels(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
    throw new RangeError(`kernels: ${threads} threads is not a whole number from 1 to ${MAX_THREADS}`);
  const wasmPath = projectPath(KERNELS_WASM_PATH);
  const memory = createSharedMemory(64);
  const exports = instantiateKernels(kernelsModule(wasmPath), memory);
  const heap = new WasmHeap(memory, exports.__heap_base.value as number);
  const workBytes = exports.sgemm_work_bytes();
  const work = heap.allocBytes(workBytes);
  const parallelMinMacs = options.parallelMinMacs ?? DEFAULT_PARALLEL_MIN_MACS;
  const local = threadContext(exports, memory, work);

  let team: { workers: Worker[]; mailbox: Mailbox } | undefined;
  if (threads > 1) {
    const mailboxAddr = heap.allocBytes(MAILBOX_BYTES);
    new Int32Array(memory.buffer, mailboxAddr, MAILBOX_BYTES / 4).fill(0);
    const mailbox = new Mailbox(memory.buffer, mailboxAddr);
    const started = await Promise.allSettled(
      Array.from({ length: threads - 1 }, (_, i) =>
        startWorker({ memory, wasmPath, mailbox: mailboxAddr, work: heap.allocBytes(workBytes), index: i + 1 }),
      ),
    );
    const workers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      mailbox.stop();
      for (const worker of workers) void worker.terminate().catch(() => {});
      throw (failed as PromiseRejectedResult).reason;
    }
    team = { workers, mailbox };
  }

  function run(job: SgemmJob): void {
    const part = team && job.M * job.N * job.K >= parallelMinMacs ? partition(job, threads) : null;
    if (!team || !part) {
      runSgemmJob(exports, job, work);
      return;
    }
    const { mailbox, workers } = team;
    mailbox.post(OP_SGEMM, job, Math.min(workers.length, part.count - 1), part);
    let ok = false;
    try {
      runClaimedChunks(exports, job, part, mailbox, work);
    } finally {
      ok = mailbox.settle();
    }
    if (!ok) throw new Error("sgemm failed in a worker thread");
  }

  // Each thread's scratch for tasks: one block of `threads` equal parts, grown when a job needs more.
  let scratch = { address: 0, stride: 0 };
  function scratchFor(floats: number, count: number): { address: number; stride: number } {
    const stride = Math.ceil((floats * 4) / 16) * 16;
    if (stride > scratch.stride) {
      if (scratch.stride > 0) heap.freeBytes(scratch.address);
      scratch = { address: heap.allocBytes(stride * count), stride };
    }
    return scratch;
  }

  const pool: ThreadPool = {
    get threads() {
      return team ? threads : 1;
    },
    shares: (array) => heap.owns(array),
    run(job: PoolJob) {
      const fn = TASKS[job.task];
      if (!fn) throw new Error(`kernels: no task ${job.task}`);
      const { address, stride } = scratchFor(job.scratchFloats, team ? threads : 1);
      const ctx = { ...local, scratch: heap.view(address, job.scratchFloats) };
      if (!team || job.units < 2) {
        for (let unit = 0; unit < job.units; unit++) fn(ctx, job.args, unit);
        return;
      }
      const { mailbox, workers } = team;
      const task = { task: job.task, units: job.units, args: job.args, scratch: address, scratchStride: stride };
      mailbox.post(OP_TASK, task, Math.min(workers.length, job.units - 1));
      let ok = false;
      try {
        for (let unit = mailbox.claim(); unit < job.units; unit = mailbox.claim()) fn(ctx, job.args, unit);
      } finally {
        ok = mailbox.settle();
      }
      if (!ok) throw new Error(`task ${job.task} failed in a worker thread`);
    },
  };

  return {
    get name() {
      return `wasm-simd x${team ? threads : 1}`;
    },
    get threads() {
      return team ? threads : 1;
    },
    get memoryBytes() {
      return heap.capacity;
    },
    pool,
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
          args.B.BYTES_PER_ELEMENT,
        );
        const cOffset = args.cOffset ?? 0;
        const c = resolve(heap, "C", args.C, cOffset, args.ldc, M, N, scratch);
        run(jobOf(args, a, b, c));
        if (!heap.owns(args.C)) args.C.set(heap.view(c, span(M, N, args.ldc)), cOffset);
      } finally {
        for (const addr of scratch) heap.freeBytes(addr);
      }
    },
    dispose() {
      if (!team) return;
      const { workers, mailbox } = team;
      team = undefined;
      mailbox.stop();
      for (const worker of workers) void worker.terminate().catch(() => {});
    },
  };
}

function jobOf(args: SgemmArgs, a: number, b: number, c: number): SgemmJob {
  const { transA, transB, M, N, K, alpha, lda, ldb, beta, ldc } = args;
  const bKind = bKindOf(args.bType, args.B instanceof Uint16Array);
  return { transA, transB, M, N, K, alpha, a, lda, b, ldb, bKind, beta, c, ldc };
}

/**
 * What a task runs with on one thread: views of the shared memory, and kernels whose products run
 * on this thread alone with this thread's workspace (the other threads are busy with the same job).
 * Task arguments are views of the shared memory, so products on them need no copies; they cannot
 * allocate (allocation belongs to the caller's heap).
 */
export function threadContext(
  exports: KernelExports,
  memory: WebAssembly.Memory,
  work: number,
): Omit<TaskContext, "scratch"> {
  const f32 = (address: number, length: number) => new Float32Array(memory.buffer, address, length);
  const kernels: Kernels = {
    name: "wasm-simd thread",
    alloc() {
      throw new Error("a task cannot allocate");
    },
    free() {},
    sgemm(args) {
      const { M, N, K } = args;
      checkDims(M, N, K);
      if (M === 0 || N === 0) return;
      const a = inPlace("A", args.A, args.aOffset ?? 0, args.lda, args.transA ? K : M, args.transA ? M : K);
      const b = inPlace("B", args.B, args.bOffset ?? 0, args.ldb, args.transB ? N : K, args.transB ? K : N);
      const c = inPlace("C", args.C, args.cOffset ?? 0, args.ldc, M, N);
      runSgemmJob(exports, jobOf(args, a, b, c), work);
    },
  };
  return { kernels, f32 };
}

/** The byte address of an operand that is a view of the shared memory, after the same checks as `resolve`. */
function inPlace(
  name: string,
  array: Float32Array | Uint16Array,
  offset: number,
  ld: number,
  rows: number,
  cols: number,
): number {
  checkOperand(name, array, offset, ld, rows, cols);
  return array.byteOffset + offset * array.BYTES_PER_ELEMENT;
}

async function startWorker(data: SgemmWorkerData): Promise<Worker> {
  const worker = startTsWorker(WORKER_ENTRY, data);
  try {
    await new Promise<void>((resolvePromise, reject) => {
      worker.once("message", () => resolvePromise());
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`kernels worker thread exited with code ${code} while starting`)));
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

/** Floats a stored (rows, cols) operand spans, after checking it fits its array. */
function checkOperand(
  name: string,
  array: Float32Array | Uint16Array,
  offset: number,
  ld: number,
  rows: number,
  cols: number,
): number {
  const n = span(rows, cols, ld);
  if (n === 0) return 0;
  if (!Number.isInteger(ld) || ld < cols || (rows > 1 && ld < 1))
    throw new RangeError(`sgemm: leading dimension of ${name} (${ld}) is below its ${cols} columns`);
  if (!Number.isInteger(offset) || offset < 0 || offset + n > array.length) {
    throw new RangeError(`sgemm: ${name} needs ${n} floats from offset ${offset} but has ${array.length}`);
  }
  return n;
}

/**
 * The byte address of a stored (rows, cols) operand: in place when it lives in the heap, else a
 * scratch copy (recorded in `scratch` for release). Bounds are checked here because the kernels
 * would otherwise read or write other tensors of the shared memory without complaint.
 */
function resolve(
  heap: WasmHeap,
  name: string,
  array: Float32Array | Uint16Array,
  offset: number,
  ld: number,
  rows: number,
  cols: number,
  scratch: number[],
  bytes = 4,
): number {
  const n = checkOperand(name, array, offset, ld, rows, cols);
  if (n === 0) return 0;
  if (heap.owns(array)) return array.byteOffset + offset * bytes;
  const addr = heap.allocBytes(n * bytes);
  scratch.push(addr);
  const dst = heap.view(addr, Math.ceil((n * bytes) / 4));
  if (array instanceof Uint16Array) new Uint16Array(dst.buffer, addr, n).set(array.subarray(offset, offset + n));
  else dst.set(array.subarray(offset, offset + n));
  return addr;
}
