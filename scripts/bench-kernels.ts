/**
 * Measures sgemm throughput (GFLOP/s, median of several timed runs) of the JS reference, the wasm
 * kernels on one thread and on two, for square sizes and for the engine's typical shapes, and
 * prints one JSON object. Usage: npm run bench:kernels
 */
import os from "node:os";
import { createJsKernels } from "../lib/engine/kernels/js-kernels";
import type { Kernels } from "../lib/engine/kernels/types";
import { createWasmKernels } from "../lib/engine/kernels/wasm-kernels";

interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
}

const SHAPES: Shape[] = [
  { name: "square-128", M: 128, N: 128, K: 128 },
  { name: "square-256", M: 256, N: 256, K: 256 },
  { name: "square-512", M: 512, N: 512, K: 512 },
  { name: "square-1024", M: 1024, N: 1024, K: 1024 },
  { name: "proj-512x256x768", M: 512, N: 768, K: 256 },
  { name: "proj-512x256x768-gradW (Aᵀ·B)", M: 256, N: 768, K: 512, transA: true },
  { name: "proj-512x768x256-gradX (A·Bᵀ)", M: 512, N: 256, K: 768, transB: true },
  { name: "vocab-head-512x256x8192 (A·Bᵀ)", M: 512, N: 8192, K: 256, transB: true },
  { name: "vocab-head-512x256x8192", M: 512, N: 8192, K: 256 },
  { name: "decode-1x256x8192 (A·Bᵀ)", M: 1, N: 8192, K: 256, transB: true },
  { name: "decode-1x256x8192", M: 1, N: 8192, K: 256 },
  { name: "decode-1x256x768", M: 1, N: 768, K: 256 },
];

/** Median GFLOP/s over `runs` timed runs, each repeating the product for at least `minMs`. */
function measure(kernels: Kernels, shape: Shape, runs: number, minMs: number): number {
  const { M, N, K, transA = false, transB = false } = shape;
  const fill = (a: Float32Array) => a.map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const A = fill(kernels.alloc(M * K));
  const B = fill(kernels.alloc(K * N));
  const C = kernels.alloc(M * N);
  const args = { transA, transB, M, N, K, alpha: 1, A, lda: transA ? M : K, B, ldb: transB ? K : N, beta: 0, C, ldc: N };
  kernels.sgemm(args); // warm-up (also lets V8 tier the wasm up)
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    let reps = 0;
    const start = performance.now();
    let now = start;
    do {
      kernels.sgemm(args);
      reps++;
      now = performance.now();
    } while (now - start < minMs);
    rates.push((2 * M * N * K * reps) / ((now - start) / 1000) / 1e9);
  }
  for (const array of [A, B, C]) kernels.free(array);
  rates.sort((a, b) => a - b);
  return Math.round(rates[Math.floor(runs / 2)] * 10) / 10;
}

async function main(): Promise<void> {
  // Other processes on the two cores take the helper thread's core away; report how busy they were.
  const loadBefore = os.loadavg()[0];
  const js = createJsKernels();
  const wasm1 = await createWasmKernels({ threads: 1 });
  const wasm2 = await createWasmKernels({ threads: 2 });
  // Give V8 time to replace the baseline wasm code with optimised code before timing anything.
  for (const kernels of [wasm1, wasm2]) measure(kernels, { name: "warm-up", M: 256, N: 256, K: 256 }, 3, 100);

  const results: Record<string, { js: number; "wasm x1": number; "wasm x2": number }> = {};
  for (const shape of SHAPES) {
    const jsFlops = 2 * shape.M * shape.N * shape.K;
    results[shape.name] = {
      // The reference needs seconds per large product; one run says enough about it there.
      js: measure(js, shape, jsFlops > 3e8 ? 1 : 3, 0),
      "wasm x1": measure(wasm1, shape, 7, 60),
      "wasm x2": measure(wasm2, shape, 7, 60),
    };
  }
  wasm1.dispose();
  wasm2.dispose();
  const cpu = os.cpus()[0]?.model ?? "unknown";
  const load = { before: round(loadBefore), after: round(os.loadavg()[0]) };
  console.log(JSON.stringify({ unit: "GFLOP/s", node: process.version, cpu, cores: os.cpus().length, loadAverage1m: load, results }, null, 2));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
