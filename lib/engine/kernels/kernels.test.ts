import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { projectPath } from "../../paths";
import { startTsWorker } from "../../worker-threads";
import os from "node:os";
import { MAX_THREADS, createKernels } from "./index";
import { sgemmReference } from "./js-kernels";
import type { Kernels, SgemmArgs } from "./types";
import { createWasmKernels, type WasmKernels } from "./wasm-kernels";

/** Deterministic values in [-1, 1) so failures reproduce. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}

interface Case {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha?: number;
  beta?: number;
  /** Extra floats per stored row (leading dimension minus logical width). */
  pad?: number;
  /** Floats before each operand. */
  offset?: number;
  /** Operands allocated by the kernels (true) or plain arrays (false). */
  inHeap?: boolean;
  /** Initial value of every element of C, e.g. NaN. */
  cFill?: number;
}

/** Runs one case through `kernels` and the reference; returns both C arrays and the tolerance. */
function runCase(kernels: Kernels, c: Case, seed = 1) {
  const { transA, transB, M, N, K, alpha = 1, beta = 0, pad = 0, offset = 0, inHeap = true } = c;
  const next = random(seed);
  const make = (n: number) => (inHeap ? kernels.alloc(n) : new Float32Array(n));
  const lda = (transA ? M : K) + pad;
  const ldb = (transB ? K : N) + pad;
  const ldc = N + pad;
  const A = make(offset + (transA ? K : M) * lda).map(next);
  const B = make(offset + (transB ? N : K) * ldb).map(next);
  const C = make(offset + M * ldc).map(c.cFill === undefined ? next : () => c.cFill!);
  const expected = C.slice();
  const args: Omit<SgemmArgs, "C"> = {
    transA,
    transB,
    M,
    N,
    K,
    alpha,
    A,
    aOffset: offset,
    lda,
    B,
    bOffset: offset,
    ldb,
    beta,
    cOffset: offset,
    ldc,
  };
  kernels.sgemm({ ...args, C });
  sgemmReference({ ...args, C: expected });
  let magnitude = 1;
  for (const v of expected) if (Number.isFinite(v)) magnitude = Math.max(magnitude, Math.abs(v));
  const actual = C.slice();
  if (inHeap) for (const array of [A, B, C]) kernels.free(array);
  return { actual, expected, tolerance: 1e-4 * magnitude };
}

function expectMatch(kernels: Kernels, c: Case, seed = 1): void {
  const { actual, expected, tolerance } = runCase(kernels, c, seed);
  let worst = 0;
  let where = -1;
  for (let i = 0; i < expected.length; i++) {
    const error =
      Number.isNaN(expected[i]) !== Number.isNaN(actual[i]) ? Infinity : Math.abs(expected[i] - actual[i]) || 0;
    if (error > worst) [worst, where] = [error, i];
  }
  expect(
    worst,
    `${JSON.stringify(c)}: element ${where} is ${actual[where]}, expected ${expected[where]}`,
  ).toBeLessThanOrEqual(tolerance);
}

const TRANSPOSES = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;
const SIZES = [1, 3, 17, 64, 129, 300];

let oneThread: WasmKernels;
let twoThreads: WasmKernels;
let alwaysSplit: WasmKernels;
let fourAlwaysSplit: WasmKernels;

beforeAll(async () => {
  oneThread = await createWasmKernels({ threads: 1 });
  twoThreads = await createWasmKernels({ threads: 2 });
  // Split even the smallest products, so the threaded path sees every ragged edge.
  alwaysSplit = await createWasmKernels({ threads: 2, parallelMinMacs: 0 });
  fourAlwaysSplit = await createWasmKernels({ threads: 4, parallelMinMacs: 0 });
});
afterAll(() => {
  for (const kernels of [oneThread, twoThreads, alwaysSplit, fourAlwaysSplit]) kernels.dispose();
});

describe("wasm sgemm", () => {
  it("matches the reference for every transpose combination on square sizes from 1 to 300", () => {
    for (const kernels of [oneThread, twoThreads])
      for (const [transA, transB] of TRANSPOSES)
        for (const n of SIZES) expectMatch(kernels, { transA, transB, M: n, N: n, K: n });
  });

  it("matches the reference on rectangular shapes with ragged edges in every dimension", () => {
    const shapes = [
      [3, 17, 129],
      [129, 3, 17],
      [17, 300, 64],
      [300, 64, 3],
      [64, 129, 300],
      [5, 9, 1],
    ];
    for (const kernels of [oneThread, alwaysSplit])
      for (const [transA, transB] of TRANSPOSES)
        for (const [M, N, K] of shapes) expectMatch(kernels, { transA, transB, M, N, K });
  });

  it("computes matrix-vector products (M = 1, 2, 3) and single-column outputs (N = 1)", () => {
    for (const kernels of [oneThread, alwaysSplit])
      for (const [transA, transB] of TRANSPOSES) {
        for (const M of [1, 2, 3])
          for (const [N, K] of [
            [1, 1],
            [17, 3],
            [300, 129],
            [2049, 256],
          ])
            expectMatch(kernels, { transA, transB, M, N, K });
        expectMatch(kernels, { transA, transB, M: 129, N: 1, K: 300 });
      }
  });

  it("addresses sub-matrices through offsets and leading dimensions wider than the rows, leaving the gaps untouched", () => {
    for (const kernels of [oneThread, alwaysSplit])
      for (const [transA, transB] of TRANSPOSES)
        for (const [M, N, K] of [
          [1, 300, 17],
          [17, 64, 129],
          [129, 17, 64],
        ])
          expectMatch(kernels, { transA, transB, M, N, K, pad: 5, offset: 7, beta: 0.5 });
  });

  it("scales by alpha and accumulates into C when beta is 1 or any other value", () => {
    for (const kernels of [oneThread, alwaysSplit])
      for (const [transA, transB] of TRANSPOSES)
        for (const [alpha, beta] of [
          [-0.5, 1],
          [2, 1],
          [1.5, -0.25],
        ]) {
          expectMatch(kernels, { transA, transB, M: 129, N: 64, K: 300, alpha, beta });
          expectMatch(kernels, { transA, transB, M: 1, N: 129, K: 17, alpha, beta });
        }
  });

  it("ignores C when beta is 0, so NaN already in C never reaches the result", () => {
    for (const kernels of [oneThread, alwaysSplit])
      for (const [transA, transB] of TRANSPOSES)
        for (const [M, N, K] of [
          [1, 17, 3],
          [64, 64, 64],
          [129, 300, 17],
          [17, 17, 0],
        ]) {
          const { actual } = runCase(kernels, { transA, transB, M, N, K, cFill: NaN, pad: 2 });
          const ldc = N + 2;
          // One assertion over the whole matrix: an expect per element made this test the slowest of
          // the file by far (600 000 calls), long enough to run out of time on a loaded machine.
          const nanAt: number[] = [];
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) if (Number.isNaN(actual[i * ldc + j])) nanAt.push(i * N + j);
          expect(nanAt, `${M}x${N}x${K}: NaN at elements ${nanAt.slice(0, 5).join(", ")}`).toEqual([]);
          expectMatch(kernels, { transA, transB, M, N, K, cFill: NaN });
        }
  });

  it("gives the same results for plain arrays (copied in and out) as for arrays from alloc", () => {
    for (const kernels of [oneThread, alwaysSplit])
      for (const [transA, transB] of TRANSPOSES) {
        expectMatch(kernels, { transA, transB, M: 129, N: 64, K: 17, inHeap: false, pad: 3, offset: 2, beta: 1 });
        expectMatch(kernels, { transA, transB, M: 1, N: 300, K: 64, inHeap: false });
      }
  });

  it("gives bit-identical products on 1, 2 and 4 threads, since each element is computed whole by one thread", () => {
    const shapes = [
      [300, 129, 64],
      [129, 300, 257],
      [1, 2049, 256],
      [3, 1024, 129],
      [1030, 64, 300],
    ];
    for (const [transA, transB] of TRANSPOSES)
      for (const [M, N, K] of shapes) {
        const [one, two, four] = [oneThread, alwaysSplit, fourAlwaysSplit].map(
          (kernels) => runCase(kernels, { transA, transB, M, N, K, beta: 0.5 }, 7).actual,
        );
        expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer)), `${M}x${N}x${K} on 2 threads`).toBe(true);
        expect(Buffer.from(four.buffer).equals(Buffer.from(one.buffer)), `${M}x${N}x${K} on 4 threads`).toBe(true);
      }
  });

  it("runs four threads' products like the reference on every transpose and ragged shape", () => {
    for (const [transA, transB] of TRANSPOSES)
      for (const [M, N, K] of [
        [129, 3, 17],
        [17, 300, 64],
        [300, 64, 3],
        [2, 2049, 256],
      ])
        expectMatch(fourAlwaysSplit, { transA, transB, M, N, K, beta: 1 });
  });

  it("keeps every product right when one pool runs hundreds of split products in a row, NaN in C with beta 0 included", () => {
    // Back-to-back jobs on one mailbox are where a worker still inside the previous job, or one
    // reading a job before it is published, would show: ragged shapes on 4 threads, split always.
    const next = random(99);
    const pick = (values: readonly number[]) => values[Math.floor(((next() + 1) / 2) * values.length)];
    for (let round = 0; round < 200; round++) {
      const c: Case = {
        transA: next() > 0,
        transB: next() > 0,
        M: pick([1, 3, 4, 17, 129, 131, 260]),
        N: pick([1, 16, 17, 129, 160, 300]),
        K: pick([0, 1, 17, 64]),
        beta: pick([0, 0, 1, 0.5]),
        pad: pick([0, 2]),
      };
      expectMatch(fourAlwaysSplit, c.beta === 0 ? { ...c, cFill: Number.NaN } : c, round);
    }
  });

  it("refuses a thread count that is not a whole number from 1 up", async () => {
    await expect(createWasmKernels({ threads: 0 })).rejects.toThrow(RangeError);
    await expect(createWasmKernels({ threads: 2.5 })).rejects.toThrow(/2.5 threads/);
  });

  it("rejects operands too short for their shape instead of touching neighbouring memory", () => {
    const A = oneThread.alloc(10);
    const B = oneThread.alloc(12);
    const C = oneThread.alloc(12);
    const args = { transA: false, transB: false, M: 3, N: 4, K: 4, alpha: 1, A, lda: 4, B, ldb: 4, beta: 0, C, ldc: 4 };
    expect(() => oneThread.sgemm(args)).toThrow(RangeError);
    expect(() => oneThread.sgemm({ ...args, K: 3, lda: 2 })).toThrow(RangeError);
    expect(() => oneThread.sgemm({ ...args, K: 3, cOffset: 1 })).toThrow(RangeError);
    expect(() => oneThread.sgemm({ ...args, M: -1 })).toThrow(RangeError);
  });
});

describe("wasm kernel memory", () => {
  it("hands out zero-filled, 16-byte-aligned arrays and reuses freed blocks", () => {
    const first = oneThread.alloc(100).fill(7);
    const other = oneThread.alloc(3);
    expect(first.byteOffset % 16).toBe(0);
    expect(other.byteOffset % 16).toBe(0);
    const address = first.byteOffset;
    oneThread.free(first);
    const again = oneThread.alloc(90);
    expect(again.byteOffset).toBe(address);
    expect(again.every((v) => v === 0)).toBe(true);
    oneThread.free(again);
    oneThread.free(other);
    oneThread.free(new Float32Array(4));
  });

  it("grows the shared memory on demand while earlier arrays keep their contents and still work as operands", () => {
    const kernels = oneThread;
    const before = kernels.memoryBytes;
    const A = kernels.alloc(64 * 64).map((_, i) => (i % 13) - 6);
    const big = kernels.alloc(before / 4 + 1_000_000);
    expect(kernels.memoryBytes).toBeGreaterThan(before);
    expect(A[13 * 5 + 3]).toBe(((13 * 5 + 3) % 13) - 6);
    expectMatch(kernels, { transA: true, transB: false, M: 64, N: 64, K: 64 });
    const B = kernels.alloc(64 * 64).fill(1);
    const C = kernels.alloc(64 * 64);
    kernels.sgemm({
      transA: false,
      transB: false,
      M: 64,
      N: 64,
      K: 64,
      alpha: 1,
      A,
      lda: 64,
      B,
      ldb: 64,
      beta: 0,
      C,
      ldc: 64,
    });
    let rowSum = 0;
    for (let k = 0; k < 64; k++) rowSum += A[k];
    expect(C[5]).toBe(rowSum);
    for (const array of [A, big, B, C]) kernels.free(array);
  });
});

describe("createKernels", () => {
  it("returns wasm kernels on one thread per available core by default, which fall back to one thread after dispose", async () => {
    const kernels = await createKernels();
    expect(kernels.name).toBe(`wasm-simd x${Math.min(MAX_THREADS, os.availableParallelism())}`);
    kernels.dispose();
    expect(kernels.name).toBe("wasm-simd x1");
  });

  it("starts the number of threads asked for, and the products stay right after dispose", async () => {
    const kernels = await createKernels({ threads: 3 });
    expect(kernels.name).toBe("wasm-simd x3");
    expectMatch(kernels, { transA: false, transB: true, M: 300, N: 129, K: 64 });
    kernels.dispose();
    expectMatch(kernels, { transA: false, transB: true, M: 300, N: 129, K: 64 });
    kernels.dispose();
  });

  it("falls back to the TypeScript reference where WebAssembly SIMD is missing", async () => {
    const validate = vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
    try {
      const kernels = await createKernels();
      expect(kernels.name).toBe("js");
      expectMatch(kernels, { transA: true, transB: false, M: 17, N: 3, K: 64, beta: 1 });
      kernels.dispose();
    } finally {
      validate.mockRestore();
    }
  });

  it("runs inside a worker thread", async () => {
    const worker = startTsWorker("lib/engine/kernels/fixtures/product-check.ts");
    const report = await new Promise<{ name: string; maxError: number; isMainThread: boolean }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(report).toMatchObject({ name: "wasm-simd x2", isMainThread: false });
    expect(report.maxError).toBeLessThan(1e-3);
  });

  it("lets a program that never calls dispose exit on its own", () => {
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", projectPath("lib/engine/kernels/fixtures/product-check.ts")],
      {
        cwd: projectPath(),
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    expect(child.status, child.stderr).toBe(0);
    const report = JSON.parse(child.stdout.trim());
    expect(report).toMatchObject({ name: "wasm-simd x2", isMainThread: true });
    expect(report.maxError).toBeLessThan(1e-3);
  });
});
