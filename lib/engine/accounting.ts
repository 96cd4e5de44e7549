/**
 * A kernel set wrapped to count what passes through it: live and peak bytes of `alloc`ed memory
 * (so tests can see that dropping an adapter returns its memory) and the FLOPs of every sgemm
 * (2·M·N·K, what benchmarks divide by time). Counting costs one Map update per alloc/free.
 */
import type { Kernels, SgemmArgs } from "./kernels/types";

export interface KernelStats {
  liveBytes: number;
  peakBytes: number;
  liveArrays: number;
  sgemmFlops: number;
}

export interface CountingKernels extends Kernels {
  stats(): KernelStats;
  resetFlops(): void;
}

export function countingKernels(inner: Kernels): CountingKernels {
  const live = new Map<Float32Array, number>();
  let liveBytes = 0;
  let peakBytes = 0;
  let flops = 0;
  return {
    name: inner.name,
    alloc(n: number): Float32Array {
      const a = inner.alloc(n);
      live.set(a, a.byteLength);
      liveBytes += a.byteLength;
      peakBytes = Math.max(peakBytes, liveBytes);
      return a;
    },
    free(array: Float32Array): void {
      const bytes = live.get(array);
      if (bytes !== undefined) {
        live.delete(array);
        liveBytes -= bytes;
      }
      inner.free(array);
    },
    sgemm(args: SgemmArgs): void {
      flops += 2 * args.M * args.N * args.K;
      inner.sgemm(args);
    },
    // Products a pool task issues run on the task's threads, past this wrapper: the task states their FLOPs.
    pool: inner.pool && {
      get threads() {
        return inner.pool!.threads;
      },
      shares: (array) => inner.pool!.shares(array),
      run(job) {
        flops += job.flops;
        inner.pool!.run(job);
      },
    },
    stats: () => ({ liveBytes, peakBytes, liveArrays: live.size, sgemmFlops: flops }),
    resetFlops: () => {
      flops = 0;
    },
  };
}
