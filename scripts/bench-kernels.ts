/**
 * Measures sgemm throughput (GFLOP/s, median and best of several timed runs) of the JS reference
 * and the wasm kernels on each thread count of --threads (default: 1 and one per core), for square
 * sizes and the engine's typical shapes, and prints one JSON object with the load average, since
 * other processes on the cores decide how much each extra thread can add. --quick skips the
 * reference and the largest shapes.
 * With --engine, also one LoRA forward_backward (importance_sampling, 512 tokens) of the embedded
 * default's size on each thread count, timed in alternation (medians, speed-up against the first
 * count, CPU-seconds per pass), and the share of a one-thread pass spent in work the pool splits
 * (products large enough to split, and the pool's tasks run in order on one thread), from which
 * Amdahl's law bounds what N threads can reach. Usage: npm run bench:kernels -- --threads 1,2,4 --engine
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { defaultThreads } from "../lib/engine/kernels/index";
import { createJsKernels } from "../lib/engine/kernels/js-kernels";
import type { Kernels } from "../lib/engine/kernels/types";
import { createWasmKernels, type WasmKernels } from "../lib/engine/kernels/wasm-kernels";
import { Engine } from "../lib/engine/engine";
import { embeddedDefaultConfig, randomTokens } from "../lib/engine/testing";
import { randomBaseModel } from "../lib/engine/weights";
import type { Datum } from "../lib/training/types";
import { logToStderr } from "@/lib/log";

// Stdout carries the one JSON result; the app's log lines go to stderr.
logToStderr();

const { values: flags } = parseArgs({
  options: {
    threads: { type: "string", default: `1,${defaultThreads()}` },
    runs: { type: "string", default: "9" },
    quick: { type: "boolean", default: false },
    engine: { type: "boolean", default: false },
  },
});
const threadCounts = [...new Set(flags.threads.split(",").map((t) => Number(t.trim())))];
if (threadCounts.some((t) => !Number.isInteger(t) || t < 1))
  throw new Error(`--threads: "${flags.threads}" is not a list of whole numbers from 1`);

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
  const wasm = await Promise.all(threadCounts.map((threads) => createWasmKernels({ threads })));
  // Give V8 time to replace the baseline wasm code with optimised code before timing anything.
  measure(wasm, { name: "warm-up", M: 256, N: 256, K: 256 }, 3, 100);

  const runs = Number(flags.runs);
  const results: Record<string, Record<string, number>> = {};
  for (const shape of SHAPES) {
    const flops = 2 * shape.M * shape.N * shape.K;
    if (flags.quick && flops > 1.1e9) continue;
    const row: Record<string, number> = {};
    if (!flags.quick) {
      // The reference needs seconds per large product; one run says enough about it there.
      row.js = measure([js], shape, flops > 3e8 ? 1 : 3, 0)[0].median;
    }
    const rates = measure(wasm, shape, runs, 60);
    threadCounts.forEach((threads, i) => {
      row[`wasm x${threads}`] = rates[i].median;
      row[`wasm x${threads} best`] = rates[i].best;
      row[`wasm x${threads} per cpu-second`] = rates[i].perCpuSecond;
    });
    results[shape.name] = row;
  }
  const engine = flags.engine ? engineScaling(wasm, runs) : null;
  for (const kernels of wasm) kernels.dispose();
  const cpu = os.cpus()[0]?.model ?? "unknown";
  const load = { before: round(loadBefore), after: round(os.loadavg()[0]) };
  console.log(
    JSON.stringify(
      {
        unit: "GFLOP/s",
        node: process.version,
        cpu,
        cores: os.availableParallelism(),
        threads: threadCounts,
        loadAverage1m: load,
        results,
        forward_backward: engine,
      },
      null,
      2,
    ),
  );
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Multiply-adds from which a product is split (the kernels' default) and its longer side of C that allows a split. */
const SPLIT_MIN_MACS = 1 << 20;
const SPLIT_MIN_LENGTH = 128;

function fbEngine(kernels: Kernels): { engine: Engine; datum: Datum } {
  const config = embeddedDefaultConfig();
  const engine = new Engine(randomBaseModel(config, 1, kernels, 0.05), kernels);
  engine.createAdapter("bench", { rank: 16, seed: 1 });
  const seq = randomTokens(513, config.vocabSize, 4);
  const lps = engine.computeLogprobs("bench", seq).slice(1) as number[];
  const datum: Datum = {
    modelInput: seq.slice(0, -1),
    lossFnInputs: { targetTokens: seq.slice(1), logprobs: lps, advantages: lps.map((_, i) => (i % 2 ? 1 : -1)) },
  };
  engine.forwardBackward("bench", [datum], "importance_sampling");
  return { engine, datum };
}

/**
 * The first kernel set (one thread) seen as a pool of two that runs its tasks in order on the
 * caller, timing every task and every product large enough to split: the work more threads share.
 */
function splitWorkTimer(inner: WasmKernels): { kernels: Kernels; seconds: () => number } {
  let ms = 0;
  const timed = (fn: () => void, counted: boolean) => {
    if (!counted) return fn();
    const t0 = performance.now();
    fn();
    ms += performance.now() - t0;
  };
  const kernels: Kernels = {
    name: inner.name,
    alloc: (n) => inner.alloc(n),
    free: (a) => inner.free(a),
    sgemm: (args) =>
      timed(
        () => inner.sgemm(args),
        args.M * args.N * args.K >= SPLIT_MIN_MACS && Math.max(args.M, args.N) >= SPLIT_MIN_LENGTH,
      ),
    pool: { threads: 2, shares: (a) => inner.pool.shares(a), run: (job) => timed(() => inner.pool.run(job), true) },
  };
  return { kernels, seconds: () => ms / 1000 };
}

function engineScaling(wasm: WasmKernels[], runs: number): Record<string, unknown> {
  const engines = wasm.map((kernels) => fbEngine(kernels));
  const seconds: number[][] = wasm.map(() => []);
  const cpuSeconds: number[][] = wasm.map(() => []);
  for (let run = 0; run < runs; run++) {
    engines.forEach(({ engine, datum }, i) => {
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      engine.forwardBackward("bench", [datum], "importance_sampling");
      seconds[i].push((performance.now() - t0) / 1000);
      const used = process.cpuUsage(cpu);
      cpuSeconds[i].push((used.user + used.system) / 1e6);
    });
  }
  for (const { engine } of engines) engine.dispose();
  // The share of a one-thread pass that the pool splits, measured on the one-thread kernels.
  const one = wasm[threadCounts.indexOf(1)] ?? null;
  let splitShare: number | null = null;
  if (one) {
    const timer = splitWorkTimer(one);
    const { engine, datum } = fbEngine(timer.kernels);
    const shares: number[] = [];
    for (let run = 0; run < runs; run++) {
      const before = timer.seconds();
      const t0 = performance.now();
      engine.forwardBackward("bench", [datum], "importance_sampling");
      shares.push((timer.seconds() - before) / ((performance.now() - t0) / 1000));
    }
    engine.dispose();
    splitShare = median(shares);
  }
  const medians = seconds.map(median);
  const amdahl = (n: number) => (splitShare === null ? null : round(1 / (1 - splitShare + splitShare / n)));
  return {
    shape: "6 layers, hidden 192, 6 heads of 32, 2 KV heads, intermediate 512, vocab 6144, LoRA 16, 512 tokens",
    seconds: Object.fromEntries(threadCounts.map((t, i) => [`x${t}`, round(medians[i])])),
    speedup: Object.fromEntries(threadCounts.map((t, i) => [`x${t}`, round(medians[0] / medians[i])])),
    cpu_seconds: Object.fromEntries(threadCounts.map((t, i) => [`x${t}`, round(median(cpuSeconds[i]))])),
    split_work_share_one_thread: splitShare === null ? null : round(splitShare),
    amdahl_bound: { x2: amdahl(2), x4: amdahl(4), x16: amdahl(16), x32: amdahl(32) },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

await main();
