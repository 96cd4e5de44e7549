/**
 * The in-thread engine: one frozen base model shared by any number of named LoRA adapters (one per
 * policy, plus frozen or EMA teacher copies). Verbs mirror Tinker's: forwardBackward accumulates
 * LoRA gradients, optimStep applies Adam and zeroes them, sample / computeLogprobs / log-softmax
 * rows score text. A null adapter id means the base model alone. Full-parameter training
 * (createFullTraining, fullForwardBackward, fullOptimStep, saveBaseModel) trains the base weights
 * themselves, for pretraining. Calls are synchronous; the worker (worker.ts) runs them off the
 * caller's thread.
 */
import type { Kernels } from "./kernels/types";
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossFnConfig,
  LossFnName,
  SampleResult,
  SampledSequence,
  SamplingParams,
} from "../training/types";
import { validateConfig, type ModelConfig } from "./config";
import {
  MATRIX_FIELDS,
  loadBaseModel,
  freeBaseModel,
  namedBaseTensors,
  randomBaseModel,
  type BaseModel,
  type LoadDtype,
} from "./weights";
import { dtypeOf, toFloat32Matrix, widenedCopy, type WeightDtype } from "./matrix";
import { FullTraining, saveHfModel, type SavedDtype } from "./full-training";
import {
  ALL_TARGETS,
  cloneLoraWeights,
  createLora,
  emaLoraWeights,
  ensureGrads,
  freeLora,
  zeroGrads,
  type LoraAdapter,
  type TargetModule,
} from "./lora";
import { allocActivations, forward, freeActivations, logits, type RopeTables } from "./model";
import { freeKvCache } from "./kv-cache";
import { PrefixCache } from "./prefix-cache";
import { logSoftmaxRows, ropeTables } from "./ops";
import { Workspace } from "./workspace";
import { datumPass } from "./loss-pass";
import { prefillSharedPrefix, type SharedPrefix } from "./shared-prefix";
import { adamStep } from "./adam";
import { Rng, TokenChooser } from "./sampling";
import { exportPeft, importPeft, loadLoraState, readLoraStateConfig, saveLoraState } from "./state";
import { countingKernels, type KernelStats } from "./accounting";

export interface CreateAdapterOptions {
  rank: number;
  /** Default: 2 · rank. */
  alpha?: number;
  /** Default: all seven projections. */
  targetModules?: TargetModule[];
  seed?: number;
}

/** Rows of the lm_head computed at once when scoring long sequences (bounds the (rows, V) buffer). */
const SCORE_CHUNK = 128;

export class Engine {
  readonly config: ModelConfig;
  private readonly adapters = new Map<string, LoraAdapter>();
  readonly rope: RopeTables;
  /** forward_backward's buffers, kept between calls (freed when an adapter is dropped). */
  readonly workspace: Workspace;
  private full: FullTraining | null = null;
  /** The last scored or sampled sequence's keys and values; every weight change below invalidates it. */
  readonly prefix: PrefixCache;

  constructor(
    readonly model: BaseModel,
    readonly kernels: Kernels,
  ) {
    this.config = model.config;
    this.rope = ropeTables(
      Math.min(this.config.maxPositionEmbeddings, 1 << 16),
      this.config.headDim,
      this.config.ropeTheta,
    );
    this.workspace = new Workspace(kernels, this.config, this.rope);
    this.prefix = new PrefixCache(this.config, kernels);
  }

  /**
   * A freshly initialised model as transformers initialises Qwen3: normal(0, initializerRange) for
   * every linear and embedding, ones for every norm; deterministic in `seed`.
   */
  static fromConfig(
    config: ModelConfig,
    kernels: Kernels,
    options: { seed?: number; initializerRange?: number; dtype?: WeightDtype } = {},
  ): Engine {
    validateConfig(config);
    const model = randomBaseModel(config, options.seed ?? 0, kernels, options.initializerRange ?? 0.02, options.dtype);
    return new Engine(model, kernels);
  }

  /**
   * Loads a Hugging Face directory, matrices in their stored precision unless `dtype` says
   * otherwise (see LoadDtype); memory and FLOPs are counted (see memoryStats).
   */
  static fromDirectory(dir: string, kernels: Kernels, options: { dtype?: LoadDtype } = {}): Engine {
    const counted = countingKernels(kernels);
    return new Engine(loadBaseModel(dir, counted, options.dtype), counted);
  }

  /** How the base model's matrices are held (their embedding's type; a loaded checkpoint may mix). */
  get weightDtype(): WeightDtype {
    return dtypeOf(this.model.embed_tokens);
  }

  /**
   * Converts every 16-bit base matrix to float32 in place (twice their memory): what training or
   * setting the base weights needs, since their updates are not representable in 16 bits.
   */
  private widenBaseWeights(): void {
    const m = this.model;
    this.prefix.invalidate();
    const tied = m.lm_head === m.embed_tokens;
    m.embed_tokens = toFloat32Matrix(this.kernels, m.embed_tokens);
    m.lm_head = tied ? m.embed_tokens : toFloat32Matrix(this.kernels, m.lm_head);
    for (const lw of m.layers) for (const f of MATRIX_FIELDS) lw[f] = toFloat32Matrix(this.kernels, lw[f]);
  }

  /** Live kernel memory and sgemm FLOPs, when the kernel set counts them (fromDirectory's does). */
  memoryStats(): KernelStats | null {
    const k = this.kernels as Partial<{ stats: () => KernelStats }>;
    return typeof k.stats === "function" ? k.stats() : null;
  }

  // ---- adapters -------------------------------------------------------------------------------

  createAdapter(id: string, options: CreateAdapterOptions): void {
    this.assertFree(id);
    this.prefix.invalidate();
    const config = {
      rank: options.rank,
      alpha: options.alpha ?? 2 * options.rank,
      targetModules: options.targetModules ?? [...ALL_TARGETS],
    };
    this.adapters.set(id, createLora(this.config, config, options.seed ?? 0, this.kernels));
  }

  /** A frozen snapshot of `sourceId`'s weights under `id` (no gradients or optimizer state). */
  snapshotAdapter(sourceId: string, id: string): void {
    this.assertFree(id);
    this.prefix.invalidate();
    this.adapters.set(id, cloneLoraWeights(this.adapter(sourceId), this.kernels));
  }

  /** target ← target + rate · (source − target): an EMA teacher following its student. */
  emaUpdate(targetId: string, sourceId: string, rate: number): void {
    this.prefix.invalidate();
    emaLoraWeights(this.adapter(targetId), this.adapter(sourceId), rate);
  }

  dropAdapter(id: string): void {
    this.prefix.invalidate();
    const a = this.adapters.get(id);
    if (!a) return;
    freeLora(a, this.kernels);
    this.adapters.delete(id);
    this.workspace.free();
  }

  hasAdapter(id: string): boolean {
    return this.adapters.has(id);
  }

  adapterInfo(id: string): { rank: number; alpha: number; targetModules: TargetModule[]; step: number } {
    const a = this.adapter(id);
    return { rank: a.config.rank, alpha: a.config.alpha, targetModules: [...a.config.targetModules], step: a.step };
  }

  /** Copies of the LoRA weights (or gradients) under PEFT's on-disk keys. */
  adapterTensors(id: string, what: "value" | "grad" = "value"): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const t of this.adapter(id).tensors)
      out[t.name] = Float32Array.from(what === "value" ? t.value : (t.grad ?? new Float32Array(t.value.length)));
    return out;
  }

  setAdapterTensors(id: string, tensors: Record<string, ArrayLike<number>>): void {
    this.prefix.invalidate();
    for (const t of this.adapter(id).tensors) {
      const src = tensors[t.name];
      if (!src) continue;
      if (src.length !== t.value.length)
        throw new Error(`tensor ${t.name} has ${src.length} values, expected ${t.value.length}`);
      t.value.set(src);
    }
  }

  // ---- training -------------------------------------------------------------------------------

  forwardBackward(
    id: string,
    datums: Datum[],
    lossFn: LossFnName,
    lossFnConfig: LossFnConfig = {},
  ): ForwardBackwardResult {
    const lora = this.adapter(id);
    ensureGrads(lora, this.kernels);
    return this.runLoss(lora, datums, lossFn, lossFnConfig, true);
  }

  /** The same losses and log-probs without touching gradients (after a shared prefix's fixed keys, when given). */
  forward(
    id: string | null,
    datums: Datum[],
    lossFn: LossFnName,
    lossFnConfig: LossFnConfig = {},
    prefix: SharedPrefix | null = null,
  ): ForwardBackwardResult {
    return this.runLoss(this.adapterOrNull(id), datums, lossFn, lossFnConfig, false, prefix);
  }

  /**
   * The keys and values of `tokens` under the base model (or adapter `id`), for a batch whose
   * datums all start with them (see shared-prefix.ts). They are the current weights' and are held
   * fixed wherever they are passed: compute them again after the weights change.
   */
  prefillShared(id: string | null, tokens: readonly number[]): SharedPrefix {
    return prefillSharedPrefix(this, this.adapterOrNull(id), tokens);
  }

  optimStep(id: string, params: AdamParams): { metrics: Record<string, number> } {
    this.prefix.invalidate();
    const { gradNorm } = adamStep(this.adapter(id), params, this.kernels);
    return {
      metrics: { "optim/grad_norm": gradNorm, "optim/lr": params.learningRate, "optim/step": this.adapter(id).step },
    };
  }

  zeroGrad(id: string): void {
    zeroGrads(this.adapter(id));
  }

  private runLoss(
    lora: LoraAdapter | null,
    datums: Datum[],
    lossFn: LossFnName,
    lossFnConfig: LossFnConfig,
    withGrad: boolean,
    prefix: SharedPrefix | null = null,
  ): ForwardBackwardResult {
    const outputs: ForwardBackwardResult["lossFnOutputs"] = [];
    let lossSum = 0;
    for (const datum of datums) {
      const d = datumPass(
        this,
        lora,
        datum,
        lossFn,
        lossFnConfig,
        withGrad && lora ? { kind: "lora" } : { kind: "none" },
        prefix,
      );
      lossSum += d.loss;
      outputs.push({ logprobs: d.logprobs, entropies: d.entropies });
    }
    return { lossFnOutputs: outputs, metrics: { "loss:sum": lossSum } };
  }

  // ---- scoring --------------------------------------------------------------------------------

  /** log p(tokens[i] | tokens[<i]) for every i; entry 0 is null. */
  computeLogprobs(id: string | null, tokens: number[]): (number | null)[] {
    const positions = tokens.slice(0, -1).map((_, i) => i);
    const out: (number | null)[] = [null];
    this.scoreRows(id, tokens, positions, (_row, pos, buf, off) => out.push(buf[off + tokens[pos + 1]]));
    return out;
  }

  /**
   * Full log-softmax rows (P, V): row i is the distribution at `positions[i]`, i.e. over the token
   * that follows tokens[positions[i]].
   */
  logSoftmaxRows(id: string | null, tokens: number[], positions: number[]): Float32Array {
    const V = this.config.vocabSize;
    const out = new Float32Array(positions.length * V);
    this.scoreRows(id, tokens, positions, (row, _pos, buf, off) => out.set(buf.subarray(off, off + V), row * V));
    return out;
  }

  /** The k most likely next tokens at each position: ids and log-probs (P, k), best first. */
  topkLogprobs(
    id: string | null,
    tokens: number[],
    positions: number[],
    k: number,
  ): { ids: Int32Array; logprobs: Float32Array } {
    const V = this.config.vocabSize;
    const kk = Math.min(k, V);
    const ids = new Int32Array(positions.length * kk);
    const lps = new Float32Array(positions.length * kk);
    const order = new Int32Array(V);
    this.scoreRows(id, tokens, positions, (row, _pos, buf, off) => {
      for (let i = 0; i < V; i++) order[i] = i;
      const sorted = order.sort((a, b) => buf[off + b] - buf[off + a] || a - b);
      for (let j = 0; j < kk; j++) {
        ids[row * kk + j] = sorted[j];
        lps[row * kk + j] = buf[off + sorted[j]];
      }
    });
    return { ids, logprobs: lps };
  }

  private scoreRows(
    id: string | null,
    tokens: number[],
    positions: number[],
    visit: (row: number, pos: number, buf: Float32Array, off: number) => void,
  ): void {
    const V = this.config.vocabSize;
    for (const p of positions)
      if (!(p >= 0 && p < tokens.length))
        throw new Error(`position ${p} is outside a sequence of ${tokens.length} tokens`);
    if (tokens.length === 0 || positions.length === 0) return;
    this.checkLength(tokens.length);
    const lora = this.adapterOrNull(id);
    // Rows come from hidden states, which are not cached: reuse keys and values only before the first row.
    const first = positions.reduce((a, b) => Math.min(a, b), tokens.length);
    const cache = this.prefix.take(id, tokens, tokens.length, first);
    const pos0 = cache.length;
    const T = tokens.length - pos0;
    const acts = allocActivations(
      this.kernels,
      this.config,
      T,
      tokens.length,
      lora?.config.rank ?? 0,
      false,
      this.rope,
    );
    // At most T rows per chunk: the gather buffer holds (T, C).
    const chunk = Math.min(SCORE_CHUNK, T, positions.length);
    const buf = this.kernels.alloc(chunk * V); // (chunk, V)
    let complete = false;
    try {
      forward(this.kernels, this.model, lora, tokens.slice(pos0), cache, acts, this.rope);
      for (let start = 0; start < positions.length; start += chunk) {
        const rows = positions.slice(start, start + chunk);
        logits(
          this.kernels,
          this.model,
          acts,
          T,
          rows.map((p) => p - pos0),
          buf,
        );
        logSoftmaxRows(buf, rows.length, V);
        for (let i = 0; i < rows.length; i++) visit(start + i, rows[i], buf, i * V);
      }
      complete = true;
    } finally {
      this.kernels.free(buf);
      freeActivations(this.kernels, acts);
      if (complete) this.prefix.keep(id, tokens, cache);
      else freeKvCache(cache, this.kernels);
    }
  }

  // ---- sampling -------------------------------------------------------------------------------

  /**
   * Samples `numSamples` continuations of `prompt`. `onToken`, when given, sees each token of the
   * first sequence as soon as it is chosen, before the next position is computed (streaming).
   */
  sample(id: string | null, prompt: number[], params: SamplingParams, onToken?: (token: number) => void): SampleResult {
    const lora = this.adapterOrNull(id);
    const V = this.config.vocabSize;
    if (prompt.length === 0) throw new Error("sampling needs a non-empty prompt");
    const maxTokens = Math.max(0, Math.floor(params.maxTokens));
    const capacity = prompt.length + maxTokens;
    this.checkLength(capacity);
    const rank = lora?.config.rank ?? 0;
    // The prompt's last position is computed afresh: its hidden state gives the first token's logits.
    const cache = this.prefix.take(id, prompt, capacity, prompt.length - 1);
    const pos0 = cache.length;
    const prefill = allocActivations(
      this.kernels,
      this.config,
      prompt.length - pos0,
      prompt.length,
      rank,
      false,
      this.rope,
    );
    const step = allocActivations(this.kernels, this.config, 1, capacity, rank, false, this.rope);
    const promptLogits = this.kernels.alloc(V); // (V)
    const row = this.kernels.alloc(V); // (V)
    const stop = new Set(params.stop ?? []);
    const rng = new Rng(params.seed ?? Math.floor(Math.random() * 2 ** 32));
    const chooser = new TokenChooser(V);
    const choice = { temperature: params.temperature, topK: params.topK, topP: params.topP };
    const sequences: SampledSequence[] = [];
    const token = new Int32Array(1);
    let complete = false;
    try {
      // 1. Prefill once (what the prefix cache lacks); every sample restarts from the prompt's keys/values.
      forward(this.kernels, this.model, lora, prompt.slice(pos0), cache, prefill, this.rope);
      logits(this.kernels, this.model, prefill, prompt.length - pos0, [prompt.length - 1 - pos0], promptLogits);
      for (let s = 0; s < (params.numSamples ?? 1); s++) {
        cache.length = prompt.length;
        row.set(promptLogits);
        const tokens: number[] = [];
        const logprobs: number[] = [];
        let stopReason: SampledSequence["stopReason"] = "length";
        // 2. Decode: choose, append, stop on a stop token or at maxTokens, else run one position.
        while (tokens.length < maxTokens) {
          const c = chooser.choose(row, 0, choice, rng);
          tokens.push(c.token);
          logprobs.push(c.logprob);
          if (s === 0) onToken?.(c.token);
          if (stop.has(c.token)) {
            stopReason = "stop";
            break;
          }
          if (tokens.length === maxTokens) break;
          token[0] = c.token;
          forward(this.kernels, this.model, lora, token, cache, step, this.rope);
          logits(this.kernels, this.model, step, 1, null, row);
        }
        sequences.push({ tokens, logprobs, stopReason });
      }
      complete = true;
    } finally {
      this.kernels.free(promptLogits);
      this.kernels.free(row);
      freeActivations(this.kernels, prefill);
      freeActivations(this.kernels, step);
      // The cache holds the prompt and the last sequence up to its last token (never run through).
      if (complete) this.prefix.keep(id, [...prompt, ...(sequences.at(-1)?.tokens ?? [])], cache);
      else freeKvCache(cache, this.kernels);
    }
    return { sequences };
  }

  // ---- full-parameter training ------------------------------------------------------------------

  /** Starts training every base weight: gradients for all of them, AdamW state at step 0. */
  createFullTraining(): void {
    if (this.full) throw new Error("full-parameter training has already been created");
    this.widenBaseWeights();
    this.full = new FullTraining(this);
  }

  /**
   * Like forwardBackward, without an adapter: adds gradients for every base weight. With a shared
   * prefix (prefillShared), each datum runs only after it, the prefix's keys and values held fixed.
   */
  fullForwardBackward(
    datums: Datum[],
    lossFn: LossFnName,
    lossFnConfig: LossFnConfig = {},
    prefix: SharedPrefix | null = null,
  ): ForwardBackwardResult {
    return this.fullTraining().forwardBackward(datums, lossFn, lossFnConfig, prefix);
  }

  /** One AdamW step over every base weight; zeroes their gradients. */
  fullOptimStep(params: AdamParams): { metrics: Record<string, number> } {
    this.prefix.invalidate();
    return this.fullTraining().optimStep(params);
  }

  fullZeroGrad(): void {
    this.fullTraining().zeroGrad();
  }

  /** Copies of the base weights (or, in full-parameter training, their gradients) under checkpoint names. */
  baseTensors(what: "value" | "grad" = "value"): Record<string, Float32Array> {
    if (what === "grad") return this.fullTraining().gradTensors();
    return Object.fromEntries(
      Object.entries(namedBaseTensors(this.model)).map(([name, t]) => [name, widenedCopy(t.data)]),
    );
  }

  setBaseTensors(tensors: Record<string, ArrayLike<number>>): void {
    this.widenBaseWeights();
    for (const [name, t] of Object.entries(namedBaseTensors(this.model))) {
      const data = t.data as Float32Array;
      const src = tensors[name];
      if (!src) continue;
      if (src.length !== data.length)
        throw new Error(`tensor ${name} has ${src.length} values, expected ${data.length}`);
      data.set(src);
    }
  }

  /** Saves the base model (as trained so far) as a Hugging Face Qwen3 directory that fromDirectory and transformers load. */
  saveBaseModel(dir: string, dtype: SavedDtype = "float32"): void {
    saveHfModel(this.model, dir, dtype);
  }

  /** Frees the base weights' gradients and optimizer state (the weights keep their trained values). */
  dropFullTraining(): void {
    this.full?.free();
    this.full = null;
    this.workspace.free();
  }

  // ---- persistence ----------------------------------------------------------------------------

  saveState(id: string, dir: string): void {
    saveLoraState(this.adapter(id), dir);
  }

  /** Restores a saved state into `id`, creating the adapter when it does not exist yet. */
  loadState(id: string, dir: string, options: { weightsOnly?: boolean } = {}): void {
    this.prefix.invalidate();
    if (!this.adapters.has(id))
      this.adapters.set(id, createLora(this.config, readLoraStateConfig(dir), 0, this.kernels));
    loadLoraState(this.adapter(id), dir, options.weightsOnly ?? false, this.kernels);
  }

  exportPeft(id: string, dir: string, baseModelName: string | null = null): void {
    exportPeft(this.adapter(id), dir, baseModelName);
  }

  importPeft(id: string, dir: string): void {
    this.assertFree(id);
    this.prefix.invalidate();
    this.adapters.set(id, importPeft(this.config, dir, this.kernels));
  }

  /** Frees every adapter and the base weights; the engine is unusable afterwards. */
  dispose(): void {
    this.prefix.invalidate();
    for (const id of [...this.adapters.keys()]) this.dropAdapter(id);
    this.dropFullTraining();
    freeBaseModel(this.model, this.kernels);
  }

  /** The adapter's tensors themselves, for code that drives model.ts directly (benchmarks). */
  loraAdapter(id: string): LoraAdapter {
    // The caller may change the weights in place.
    this.prefix.invalidate();
    return this.adapter(id);
  }

  // ---- helpers --------------------------------------------------------------------------------

  private adapter(id: string): LoraAdapter {
    const a = this.adapters.get(id);
    if (!a) throw new Error(`no adapter named "${id}"`);
    return a;
  }

  private fullTraining(): FullTraining {
    if (!this.full) throw new Error("full-parameter training has not been created (createFullTraining)");
    return this.full;
  }

  private adapterOrNull(id: string | null): LoraAdapter | null {
    return id === null ? null : this.adapter(id);
  }

  private assertFree(id: string): void {
    if (this.adapters.has(id)) throw new Error(`an adapter named "${id}" already exists`);
  }

  private checkLength(n: number): void {
    if (n > this.rope.cos.length / (this.config.headDim / 2)) {
      throw new Error(`${n} positions exceed the model's context of ${this.config.maxPositionEmbeddings}`);
    }
  }
}
