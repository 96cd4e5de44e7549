/**
 * Measures sgemm throughput (GFLOP/s, median and best of several timed runs) of the JS reference
 * and the wasm kernels on one thread and on two, for square sizes and the engine's typical shapes,
 * and prints one JSON object with the load average, since other processes on the two cores decide
 * how much the second thread can add. Usage: npm run bench:kernels
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

interface Rates {
  median: number;
  best: number;
  /** Median GFLOP per CPU-second of this process (both threads): the work done, whoever waited. */
  perCpuSecond: number;
}

/**
 * GFLOP/s of each kernel set over `runs` timed runs, each repeating the product for at least
 * `minMs`: the median, and the best run (what a kernel set reaches while no other process
 * competes for the cores), plus GFLOP per CPU-second, which stays put under load: two threads
 * matching one thread's figure there means splitting a product wastes no work. Runs of the kernel
 * sets alternate, so a burst of load elsewhere hits all of them alike.
 */
function measure(kernelSets: Kernels[], shape: Shape, runs: number, minMs: number): Rates[] {
  const { M, N, K, transA = false, transB = false } = shape;
  const fill = (a: Float32Array) => a.map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const operands = kernelSets.map((kernels) => {
    const A = fill(kernels.alloc(M * K));
    const B = fill(kernels.alloc(K * N));
    const C = kernels.alloc(M * N);
    const args = {
      transA,
      transB,
      M,
      N,
      K,
      alpha: 1,
      A,
      lda: transA ? M : K,
      B,
      ldb: transB ? K : N,
      beta: 0,
      C,
      ldc: N,
    };
    kernels.sgemm(args); // warm-up
    return args;
  });
  const rates: number[][] = kernelSets.map(() => []);
  const perCpu: number[][] = kernelSets.map(() => []);
  for (let run = 0; run < runs; run++) {
    kernelSets.forEach((kernels, index) => {
      let reps = 0;
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      let now = start;
      do {
        kernels.sgemm(operands[index]);
        reps++;
        now = performance.now();
      } while (now - start < minMs);
      const cpu = process.cpuUsage(cpuStart);
      rates[index].push((2 * M * N * K * reps) / ((now - start) / 1000) / 1e9);
      perCpu[index].push((2 * M * N * K * reps) / ((cpu.user + cpu.system) / 1e6) / 1e9);
    });
  }
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return kernelSets.map((kernels, index) => {
    for (const array of [operands[index].A, operands[index].B, operands[index].C]) kernels.free(array);
    const sorted = rates[index].sort((a, b) => a - b);
    const cpuSorted = perCpu[index].sort((a, b) => a - b);
    const middle = Math.floor(runs / 2);
    return { median: round1(sorted[middle]), best: round1(sorted[runs - 1]), perCpuSecond: round1(cpuSorted[middle]) };
  });
}

async function main(): Promise<void> {
  // Other processes on the two cores take the worker thread's core away; report how busy they were.
  const loadBefore = os.loadavg()[0];
  const js = createJsKernels();
  const wasm1 = await createWasmKernels({ threads: 1 });
  const wasm2 = await createWasmKernels({ threads: 2 });
  // Give V8 time to replace the baseline wasm code with optimised code before timing anything.
  measure([wasm1, wasm2], { name: "warm-up", M: 256, N: 256, K: 256 }, 3, 100);

  const results: Record<string, Record<string, number>> = {};
  for (const shape of SHAPES) {
    const jsFlops = 2 * shape.M * shape.N * shape.K;
    // The reference needs seconds per large product; one run says enough about it there.
    const [reference] = measure([js], shape, jsFlops > 3e8 ? 1 : 3, 0);
    const [one, two] = measure([wasm1, wasm2], shape, 9, 60);
    results[shape.name] = {
      js: reference.median,
      "wasm x1": one.median,
      "wasm x2": two.median,
      "wasm x1 best": one.best,
      "wasm x2 best": two.best,
      "wasm x1 per cpu-second": one.perCpuSecond,
      "wasm x2 per cpu-second": two.perCpuSecond,
    };
  }
  wasm1.dispose();
  wasm2.dispose();
  const cpu = os.cpus()[0]?.model ?? "unknown";
  const load = { before: round(loadBefore), after: round(os.loadavg()[0]) };
  console.log(
    JSON.stringify(
      { unit: "GFLOP/s", node: process.version, cpu, cores: os.cpus().length, loadAverage1m: load, results },
      null,
      2,
    ),
  );
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
