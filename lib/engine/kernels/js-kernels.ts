/**
 * Reference kernels in plain TypeScript: always available, used to check the fast kernels and as
 * the fallback where WebAssembly SIMD is missing. Loop order keeps the innermost loop contiguous.
 */
import { widenHalf } from "./half";
import type { Kernels, SgemmArgs } from "./types";

export function sgemmReference(args: SgemmArgs): void {
  const { transA, transB, M, N, K, alpha, A, lda, ldb, beta, C, ldc } = args;
  const B = args.B instanceof Uint16Array ? widenHalf(args.B, args.bType) : args.B;
  const aOff = args.aOffset ?? 0;
  const bOff = args.bOffset ?? 0;
  const cOff = args.cOffset ?? 0;
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let k = 0; k < K; k++) {
      const a = transA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
      if (a === 0) continue;
      if (transB) {
        for (let j = 0; j < N; j++) row[j] += a * B[bOff + j * ldb + k];
      } else {
        const base = bOff + k * ldb;
        for (let j = 0; j < N; j++) row[j] += a * B[base + j];
      }
    }
    const cBase = cOff + i * ldc;
    for (let j = 0; j < N; j++) {
      C[cBase + j] = beta === 0 ? alpha * row[j] : alpha * row[j] + beta * C[cBase + j];
    }
  }
}

export function createJsKernels(): Kernels {
  return {
    name: "js",
    alloc: (n) => new Float32Array(n),
    free: () => {},
    sgemm: sgemmReference,
  };
}
