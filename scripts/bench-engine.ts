/**
 * Engine benchmark: prints one JSON object with the kernels' peak matmul GFLOP/s (measured here),
 * sampling tokens/s after a long prompt, the next turn's first token with and without the prefix
 * cache, and forward_backward tokens/s and GFLOP/s on one sequence,
 * for a random model of the embedded default's size (flags change every size). FLOPs are counted,
 * not estimated: 2·M·N·K of every sgemm the pass issues (attention multiplies each block of 64
 * queries by the keys it can see, so the masked upper triangle is mostly skipped and not counted;
 * element-wise work is excluded). Every rate is the median of --runs runs, except the peak, which
 * is the fastest run of several product shapes, measured before and after the model runs.
 * full_training times one full-parameter step (cross_entropy forward_backward over every base
 * weight, then AdamW) on a small pretraining model (4 layers, hidden 128, 4 heads of 32, 2 KV heads,
 * intermediate 384, vocab 4096, tied embeddings) with --full-tokens tokens; --full-tokens 0 skips it.
 *
 *   npm run bench:engine -- --runs 5 --kernels fast --context 1024 --train-tokens 512 --full-tokens 1024
 *
 * --preset qwen3-0.6b / qwen3-1.7b measures a real model's shape instead (Hugging Face's Qwen3
 * configs, random weights stored as bfloat16): the random model is written as a safetensors
 * directory and loaded back (load_seconds), then prefill of --context tokens, decode of
 * --sample-tokens, and one LoRA forward_backward of --train-tokens (see benchPreset); peak resident
 * memory is the process's maximum RSS. --dtype f32|bf16|f16 picks how the default shape's weights are held.
 *
 *   npm run bench:engine -- --preset qwen3-0.6b --context 512 --train-tokens 512
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { type BlasCeiling, measureBlasCeiling } from "../lib/engine/bench/blas-ceiling";
import { createKernels } from "../lib/engine/kernels/index";
import { createJsKernels } from "../lib/engine/kernels/js-kernels";
import type { Kernels } from "../lib/engine/kernels/types";
import { countingKernels, type CountingKernels } from "../lib/engine/accounting";
import { Engine } from "../lib/engine/engine";
import { checkpointTensors, parameterCount, randomBaseModel } from "../lib/engine/weights";
import { toHfConfig, type ModelConfig } from "../lib/engine/config";
import { writeSafetensors } from "../lib/engine/safetensors";
import type { WeightDtype } from "../lib/engine/matrix";
import { createMemoryGroups, formatBytes, memoriesFor } from "../lib/engine/kernels/memory-groups";
import { embeddedDefaultConfig, randomTokens } from "../lib/engine/testing";
import { allocActivations, forward, freeActivations, logits } from "../lib/engine/model";
import { createKvCache, freeKvCache } from "../lib/engine/kv-cache";
import { ropeTables } from "../lib/engine/ops";
import { Rng, TokenChooser } from "../lib/engine/sampling";
import { logToStderr } from "@/lib/log";

// Stdout carries the one JSON result; the app's log lines go to stderr.
logToStderr();

const { values: flags } = parseArgs({
  options: {
    layers: { type: "string", default: "6" },
    hidden: { type: "string", default: "192" },
    heads: { type: "string", default: "6" },
    "kv-heads": { type: "string", default: "2" },
    "head-dim": { type: "string", default: "32" },
    intermediate: { type: "string", default: "512" },
    vocab: { type: "string", default: "6144" },
    rank: { type: "string", default: "16" },
    // Defaults: 1024 and 5 for the default shape, 512 and 1 for a preset (see benchPreset).
    context: { type: "string" },
    "sample-tokens": { type: "string", default: "64" },
    "train-tokens": { type: "string", default: "512" },
    runs: { type: "string" },
    kernels: { type: "string", default: "fast" },
    "full-tokens": { type: "string", default: "1024" },
    preset: { type: "string" },
    dtype: { type: "string", default: "f32" },
    // Kernel threads (default: one per core) and whether to measure the native BLAS ceiling ("off" skips it).
    threads: { type: "string" },
    blas: { type: "string", default: "on" },
  },
});
const int = (k: keyof typeof flags): number => Number(flags[k]);
/** A numeric flag, or its default when not given. */
const intOr = (k: keyof typeof flags, fallback: number): number => (flags[k] === undefined ? fallback : int(k));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

/** Peak sgemm rate over square sizes and the model's own linear-layer shape. */
function peakGflops(k: Kernels, runs: number, T: number, C: number, I: number): { gflops: number; shape: string } {
  let best = { gflops: 0, shape: "" };
  const shapes: Array<[number, number, number, boolean]> = [
    [256, 256, 256, false],
    [512, 512, 512, false],
    [T, I, C, true],
    [T, C, I, true],
  ];
  for (const [M, N, K, transB] of shapes) {
    const A = k.alloc(M * K),
      B = k.alloc(K * N),
      Cm = k.alloc(M * N);
    A.fill(0.5);
    B.fill(0.25);
    const run = (): void =>
      k.sgemm({ transA: false, transB, M, N, K, alpha: 1, A, lda: K, B, ldb: transB ? K : N, beta: 0, C: Cm, ldc: N });
    run();
    const reps = Math.max(1, Math.round(2e8 / (2 * M * N * K)));
    // Peak = the fastest run: other processes on a shared machine only ever slow a run down.
    const t = Math.min(
      ...Array.from(
        { length: runs },
        () =>
          timeIt(() => {
            for (let r = 0; r < reps; r++) run();
          }) / reps,
      ),
    );
    const g = (2 * M * N * K) / t / 1e9;
    if (g > best.gflops) best = { gflops: g, shape: `${M}x${N}x${K}${transB ? " (B transposed)" : ""}` };
    k.free(A);
    k.free(B);
    k.free(Cm);
  }
  return best;
}

/** Prefill time, then the time of n decode steps at temperature 1 (what sample does per token). */
function timeDecode(engine: Engine, id: string, prompt: number[], n: number): { prefill: number; decode: number } {
  const { kernels, model, config } = engine;
  const lora = engine.loraAdapter(id);
  const rope = ropeTables(prompt.length + n + 1, config.headDim, config.ropeTheta);
  const cache = createKvCache(config, prompt.length + n, kernels);
  const pre = allocActivations(kernels, config, prompt.length, prompt.length, lora.config.rank, false, rope);
  const step = allocActivations(kernels, config, 1, prompt.length + n, lora.config.rank, false, rope);
  const row = kernels.alloc(config.vocabSize);
  const chooser = new TokenChooser(config.vocabSize);
  const rng = new Rng(3);
  const token = new Int32Array(1);
  const prefill = timeIt(() => {
    forward(kernels, model, lora, prompt, cache, pre, rope);
    logits(kernels, model, pre, prompt.length, [prompt.length - 1], row);
  });
  const decode = timeIt(() => {
    for (let i = 0; i < n; i++) {
      token[0] = chooser.choose(row, 0, { temperature: 1 }, rng).token;
      forward(kernels, model, lora, token, cache, step, rope);
      logits(kernels, model, step, 1, null, row);
    }
  });
  kernels.free(row);
  freeActivations(kernels, pre);
  freeActivations(kernels, step);
  freeKvCache(cache, kernels);
  return { prefill, decode };
}

async function main(): Promise<void> {
  if (flags.preset !== undefined) return benchPreset(flags.preset);
  const runs = intOr("runs", 5);
  const context = intOr("context", 1024);
  const config = embeddedDefaultConfig({
    numLayers: int("layers"),
    hiddenSize: int("hidden"),
    numHeads: int("heads"),
    numKvHeads: int("kv-heads"),
    headDim: int("head-dim"),
    intermediateSize: int("intermediate"),
    vocabSize: int("vocab"),
    maxPositionEmbeddings: Math.max(4096, context + int("sample-tokens") + 1),
  });
  const threads = flags.threads === undefined ? undefined : Number(flags.threads);
  const inner = flags.kernels === "js" ? { ...createJsKernels(), dispose: () => {} } : await createKernels({ threads });
  const kernels = countingKernels(inner);
  const T = int("train-tokens");
  let peak = peakGflops(kernels, runs, T, config.hiddenSize, config.intermediateSize);

  const engine = new Engine(randomBaseModel(config, 1, kernels, 0.05, weightDtype(flags.dtype)), kernels);
  engine.createAdapter("bench", { rank: int("rank"), seed: 1 });

  // Sampling: the decode loop Engine.sample runs (one position through the stack, lm_head on it,
  // choose a token), timed after prefilling --context tokens; prefill is timed on its own.
  const prompt = randomTokens(context, config.vocabSize, 2);
  const n = int("sample-tokens");
  engine.sample("bench", prompt.slice(0, 64), { maxTokens: 8, temperature: 1, seed: 3 });
  const prefillTimes: number[] = [];
  const decodeTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    const { prefill, decode } = timeDecode(engine, "bench", prompt, n);
    prefillTimes.push(prefill);
    decodeTimes.push(decode);
  }
  const decodeTokensPerSecond = n / median(decodeTimes);
  const prefill = median(prefillTimes);

  // The next turn: the same prompt with 64 tokens appended (a tool's result), first token timed
  // with the prefix cache holding the last turn and with it emptied; same weights, same tokens.
  const appended = [...prompt, ...randomTokens(64, config.vocabSize, 5)];
  const firstToken = { maxTokens: 1, temperature: 0 };
  const cachedTimes: number[] = [];
  const freshTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    engine.sample("bench", prompt, firstToken);
    cachedTimes.push(timeIt(() => engine.sample("bench", appended, firstToken)));
    engine.prefix.invalidate();
    freshTimes.push(timeIt(() => engine.sample("bench", appended, firstToken)));
  }
  const nextTurn = {
    context_tokens: appended.length,
    appended_tokens: 64,
    first_token_seconds_cached: round(median(cachedTimes)),
    first_token_seconds_fresh: round(median(freshTimes)),
    speedup: round(median(freshTimes) / median(cachedTimes)),
  };

  // forward_backward: one datum of T tokens, every position carrying gradient.
  const seq = randomTokens(T + 1, config.vocabSize, 4);
  const lps = engine.computeLogprobs("bench", seq).slice(1) as number[];
  const datum = {
    modelInput: seq.slice(0, -1),
    lossFnInputs: { targetTokens: seq.slice(1), logprobs: lps, advantages: lps.map((_, i) => (i % 2 ? 1 : -1)) },
  };
  engine.forwardBackward("bench", [datum], "importance_sampling");
  const times: number[] = [];
  let flops = 0;
  for (let r = 0; r < runs; r++) {
    kernels.resetFlops();
    times.push(timeIt(() => engine.forwardBackward("bench", [datum], "importance_sampling")));
    flops = kernels.stats().sgemmFlops;
  }
  engine.zeroGrad("bench");
  const fbTime = median(times);
  // Measured again after the model runs, so that a busy moment at the start does not lower the peak.
  const peakAfter = peakGflops(kernels, runs, T, config.hiddenSize, config.intermediateSize);
  if (peakAfter.gflops > peak.gflops) peak = peakAfter;
  const achieved = flops / fbTime / 1e9;
  engine.dispose();
  const full = int("full-tokens") > 0 ? timeFullTraining(kernels, int("full-tokens"), runs) : null;
  // The machine's own BLAS in the same run, after the engine's timings (it uses every core).
  const blas: BlasCeiling = flags.blas === "off" ? { available: false, reason: "--blas off" } : measureBlasCeiling();
  // Its fastest run at any size, as peak_matmul is the kernels' fastest: both are what the machine
  // gives while nothing else competes, and load only ever slows a run down.
  const blasBest = blas.available ? Math.max(...Object.values(blas.gflops).map((g) => g.best)) : null;

  console.log(
    JSON.stringify({
      kernels: kernels.name,
      model: {
        layers: config.numLayers,
        hidden: config.hiddenSize,
        heads: config.numHeads,
        kvHeads: config.numKvHeads,
        headDim: config.headDim,
        intermediate: config.intermediateSize,
        vocab: config.vocabSize,
        loraRank: int("rank"),
      },
      runs,
      peak_matmul_gflops: round(peak.gflops),
      peak_matmul_shape: peak.shape,
      sampling: {
        context_tokens: prompt.length,
        new_tokens: n,
        prefill_seconds: round(prefill),
        tokens_per_second: round(decodeTokensPerSecond),
        next_turn: nextTurn,
      },
      forward_backward: {
        tokens: T,
        seconds: round(fbTime),
        tokens_per_second: round(T / fbTime),
        sgemm_gflop: round(flops / 1e9),
        gflops: round(achieved),
      },
      ratio_achieved_to_peak: round(achieved / peak.gflops),
      native_blas: blas,
      share_of_native_blas:
        blasBest === null
          ? null
          : { peak_matmul: round(peak.gflops / blasBest), forward_backward: round(achieved / blasBest) },
      load_average: os.loadavg().map((x) => Math.round(x * 100) / 100),
      full_training: full,
      flops_counted_as:
        "2*M*N*K per sgemm call issued; attention only over the keys each 64-query block can see; norms, rotary, softmax and loss not counted",
    }),
  );
  inner.dispose();
}

/** One full-parameter training step (forward_backward on every base weight, then AdamW) on the pretraining model. */
function timeFullTraining(kernels: CountingKernels, T: number, runs: number): Record<string, unknown> {
  const config = embeddedDefaultConfig({
    numLayers: 4,
    hiddenSize: 128,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 32,
    intermediateSize: 384,
    vocabSize: 4096,
    tieWordEmbeddings: true,
    maxPositionEmbeddings: Math.max(4096, T),
  });
  const engine = Engine.fromConfig(config, kernels, { seed: 1 });
  engine.createFullTraining();
  const seq = randomTokens(T + 1, config.vocabSize, 6);
  const datum = {
    modelInput: seq.slice(0, -1),
    lossFnInputs: { targetTokens: seq.slice(1), weights: seq.slice(1).map(() => 1) },
  };
  const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClipNorm: 1 };
  engine.fullForwardBackward([datum], "cross_entropy");
  engine.fullOptimStep(adam);
  const fb: number[] = [];
  const step: number[] = [];
  let flops = 0;
  for (let r = 0; r < runs; r++) {
    kernels.resetFlops();
    const t = timeIt(() => engine.fullForwardBackward([datum], "cross_entropy"));
    flops = kernels.stats().sgemmFlops;
    fb.push(t);
    step.push(t + timeIt(() => engine.fullOptimStep(adam)));
  }
  engine.dispose();
  const fbTime = median(fb),
    stepTime = median(step);
  return {
    model: {
      layers: config.numLayers,
      hidden: config.hiddenSize,
      heads: config.numHeads,
      kvHeads: config.numKvHeads,
      headDim: config.headDim,
      intermediate: config.intermediateSize,
      vocab: config.vocabSize,
      tied: true,
    },
    tokens: T,
    forward_backward_seconds: round(fbTime),
    step_seconds: round(stepTime),
    tokens_per_second: round(T / stepTime),
    sgemm_gflop: round(flops / 1e9),
    gflops: round(flops / fbTime / 1e9),
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

function weightDtype(name: string | undefined): WeightDtype {
  if (name === "f32" || name === "bf16" || name === "f16") return name;
  throw new Error(`--dtype must be f32, bf16 or f16, not ${name}`);
}

/** Hugging Face's Qwen3-0.6B and Qwen3-1.7B configs (the fields the engine reads). */
const PRESETS: Record<string, Partial<ModelConfig>> = {
  "qwen3-0.6b": { numLayers: 28, hiddenSize: 1024, intermediateSize: 3072 },
  "qwen3-1.7b": { numLayers: 28, hiddenSize: 2048, intermediateSize: 6144 },
};

/**
 * A real model's shape: build random bf16 weights, save them as a Hugging Face directory, load
 * that directory (timed), then prefill, decode and one LoRA forward_backward, each timed once
 * (--runs times, median). The kernels span as many wasm memories as the model needs.
 */
async function benchPreset(name: string): Promise<void> {
  const shape = PRESETS[name];
  if (!shape) throw new Error(`unknown preset ${name}; known: ${Object.keys(PRESETS).join(", ")}`);
  const context = intOr("context", 512);
  const n = int("sample-tokens");
  const T = int("train-tokens");
  const runs = intOr("runs", 1);
  const dtype: WeightDtype = flags.dtype === "f32" ? "bf16" : weightDtype(flags.dtype);
  const config = embeddedDefaultConfig({
    ...shape,
    vocabSize: 151936,
    numHeads: 16,
    numKvHeads: 8,
    headDim: 128,
    tieWordEmbeddings: true,
    ropeTheta: 1e6,
    maxPositionEmbeddings: 40960,
  });
  const threads = flags.threads === undefined ? undefined : Number(flags.threads);
  const modelBytes = parameterCount(config) * (dtype === "f32" ? 4 : 2);
  const memories = memoriesFor(modelBytes);
  const inner = await createMemoryGroups({ create: () => createKernels({ threads }), memories });
  const kernels = countingKernels(inner);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  try {
    // 1. Random weights in the real shape, written as a checkpoint (not timed), then loaded back.
    const built = randomBaseModel(config, 1, kernels, 0.02, dtype);
    writeSafetensors(path.join(dir, "model.safetensors"), checkpointTensors(built));
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(toHfConfig(config, "bfloat16")));
    new Engine(built, kernels).dispose();
    const t0 = performance.now();
    const engine = Engine.fromDirectory(dir, kernels);
    const loadSeconds = (performance.now() - t0) / 1000;
    fs.rmSync(dir, { recursive: true, force: true });
    engine.createAdapter("bench", { rank: int("rank"), seed: 1 });

    // 2. Prefill and decode, as Engine.sample runs them.
    const prompt = randomTokens(context, config.vocabSize, 2);
    // Core-seconds (CPU time of every thread) beside wall time: on a shared machine they show the
    // work a phase took, which wall time hides under other processes' load.
    const prefills: number[] = [];
    const decodes: number[] = [];
    const sampleCpu: number[] = [];
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      const { prefill, decode } = timeDecode(engine, "bench", prompt, n);
      sampleCpu.push(cpuSeconds(c0));
      prefills.push(prefill);
      decodes.push(decode);
    }
    // 3. One LoRA forward_backward of T tokens, every position carrying gradient.
    const seq = randomTokens(T + 1, config.vocabSize, 4);
    const datum = {
      modelInput: seq.slice(0, -1),
      lossFnInputs: { targetTokens: seq.slice(1), weights: seq.slice(1).map(() => 1) },
    };
    const fb: number[] = [];
    const fbCpu: number[] = [];
    let flops = 0;
    for (let r = 0; r < runs; r++) {
      kernels.resetFlops();
      const c0 = process.cpuUsage();
      fb.push(timeIt(() => engine.forwardBackward("bench", [datum], "cross_entropy")));
      fbCpu.push(cpuSeconds(c0));
      flops = kernels.stats().sgemmFlops;
    }
    engine.optimStep("bench", { learningRate: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    const live = inner.liveBytes();
    engine.dispose();
    const fbTime = median(fb);
    console.log(
      JSON.stringify({
        preset: name,
        kernels: kernels.name,
        model: {
          layers: config.numLayers,
          hidden: config.hiddenSize,
          heads: config.numHeads,
          kvHeads: config.numKvHeads,
          headDim: config.headDim,
          intermediate: config.intermediateSize,
          vocab: config.vocabSize,
          tied: true,
          parameters: parameterCount(config),
          weights: dtype,
          loraRank: int("rank"),
        },
        runs,
        kernel_memories: memories,
        weight_bytes: modelBytes,
        kernel_bytes_at_end_of_training: live,
        load_seconds: round(loadSeconds),
        peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
        peak_rss: formatBytes(process.resourceUsage().maxRSS * 1024),
        sampling: {
          context_tokens: context,
          new_tokens: n,
          prefill_seconds: round(median(prefills)),
          prefill_tokens_per_second: round(context / median(prefills)),
          decode_tokens_per_second: round(n / median(decodes)),
          prefill_and_decode_core_seconds: round(median(sampleCpu)),
        },
        forward_backward: {
          tokens: T,
          seconds: round(fbTime),
          tokens_per_second: round(T / fbTime),
          sgemm_gflop: round(flops / 1e9),
          gflops: round(flops / fbTime / 1e9),
          core_seconds: round(median(fbCpu)),
        },
        load_average: os.loadavg().map((x) => Math.round(x * 100) / 100),
      }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    inner.dispose();
  }
}

void main();
