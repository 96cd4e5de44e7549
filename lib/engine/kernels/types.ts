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
  /** Human-readable name for benchmarks ("wasm-simd x2", "js"). */
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
}

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
  B: Float32Array;
  bOffset?: number;
  ldb: number;
  beta: number;
  C: Float32Array;
  cOffset?: number;
  ldc: number;
}
