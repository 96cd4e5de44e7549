/**
 * The numeric kernels the engine is built on. Everything heavy in a forward or backward pass is a
 * matrix product, so one `sgemm` carries almost all of the FLOPs; the rest (norms, rotary,
 * softmax) is linear in the activations and stays in TypeScript.
 *
 * Tensors are plain row-major Float32Arrays. A kernel set may keep them in its own memory
 * (a WebAssembly heap shared with helper threads): `alloc` returns such a view, and products whose
 * operands live there run without copies. Arrays from elsewhere still work, only slower.
 */
export interface Kernels {
  /** Human-readable name for benchmarks ("wasm-simd x4", "js"). */
  readonly name: string;

  /** A zero-filled array of n floats in this kernel set's memory. Release it with `free`. */
  alloc(n: number): Float32Array;

  /** Returns memory from `alloc`; the view must not be used afterwards. Other arrays are ignored. */
  free(array: Float32Array): void;

  /**
   * C = alpha · op(A) · op(B) + beta · C, row-major, where op(X) is X or Xᵀ.
   * op(A) is (M, K), op(B) is (K, N), C is (M, N). lda/ldb/ldc are the row strides of A, B, C as
   * stored (A is (M, K) with lda ≥ K when not transposed, (K, M) with lda ≥ M when transposed).
   * Offsets let callers address sub-matrices (one attention head, one sequence) without copies.
   * With beta = 0, C's previous contents are ignored (NaN in C does not leak through).
   */
  sgemm(args: SgemmArgs): void;

  /** The threads that share work beyond single products; absent where there is only one thread. */
  readonly pool?: ThreadPool;
}

/**
 * Threads over one shared memory that run a task (a function of lib/engine/threads.ts, named by
 * its index there) over units 0..units-1, each unit on exactly one thread. A task writes only the
 * outputs its unit owns, so the result is the same whichever thread runs which unit and however
 * many threads there are.
 */
export interface ThreadPool {
  /** Threads that take part, the caller included. */
  readonly threads: number;
  /** Whether the array lives in the memory every thread shares (only such arrays may be passed to a task). */
  shares(array: Float32Array): boolean;
  run(job: PoolJob): void;
}

export interface PoolJob {
  task: number;
  /** Numbers only (at most 32); arrays travel as their byteOffset and length. */
  args: readonly number[];
  units: number;
  /** Floats of private scratch each thread gets for the job (TaskContext.scratch). */
  scratchFloats: number;
  /** Floating-point operations of the products the task issues (2·M·N·K each), for counting kernels. */
  flops: number;
}

/** What a task's unit runs with, on whichever thread claimed it. */
export interface TaskContext {
  /** This thread's kernels: their products run on this thread alone. */
  kernels: Kernels;
  /** A view of `length` floats at byte `address` of the shared memory. */
  f32(address: number, length: number): Float32Array;
  /** This thread's scratch for the job (PoolJob.scratchFloats floats). */
  scratch: Float32Array;
}

export type TaskFunction = (ctx: TaskContext, args: readonly number[], unit: number) => void;

/**
 * How a 16-bit B operand's bits are read: bfloat16 or IEEE half. Model weights keep their
 * checkpoint's precision in memory and are widened to float32 inside the kernels.
 */
export type HalfType = "bf16" | "f16";

export interface SgemmArgs {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  A: Float32Array;
  aOffset?: number;
  lda: number;
  /** float32, or 16-bit bits (a Uint16Array) of the type `bType` names. */
  B: Float32Array | Uint16Array;
  bType?: HalfType;
  bOffset?: number;
  ldb: number;
  beta: number;
  C: Float32Array;
  cOffset?: number;
  ldc: number;
}
