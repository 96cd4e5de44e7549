/**
 * A tiny but real TrainingBackend for protocol tests: a bigram language model whose logits are a
 * fixed base table plus a rank-r LoRA product A·B (B starts at zero, as LoRA does), trained by
 * exact gradients of Tinker's losses and Adam. Numbers through the Tinker protocol can then be
 * checked against the same backend called in-process. Samplers snapshot the weights.
 */
import type {
  AdamParams,
  CreateTrainingClientOptions,
  Datum,
  ForwardBackwardResult,
  LossFnConfig,
  LossFnName,
  SampleResult,
  SamplingClient,
  SamplingParams,
  TrainingBackend,
  TrainingClient,
} from "../types";

export const BIGRAM_MODEL = "test/bigram-8";
const V = 8;

/** Deterministic PRNG (mulberry32) so every run and every process agrees. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE: number[][] = (() => {
  const r = rng(7);
  return Array.from({ length: V }, () => Array.from({ length: V }, () => r() * 2 - 1));
})();

type Table = number[][];

function logSoftmaxRow(row: number[]): number[] {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row.map((x) => x - lse);
}

/** Weights of one adapter: logits[p][t] = BASE[p][t] + Σ_k A[p][k]·B[k][t]. */
interface Lora {
  A: Table; // (V, r)
  B: Table; // (r, V)
}

function logitsOf(lora: Lora): Table {
  return BASE.map((row, p) => row.map((base, t) => base + lora.A[p].reduce((s, a, k) => s + a * lora.B[k][t], 0)));
}

const clone = (t: Table): Table => t.map((row) => [...row]);
const zeros = (rows: number, cols: number): Table =>
  Array.from({ length: rows }, () => new Array<number>(cols).fill(0));

class BigramSampler implements SamplingClient {
  private readonly logprobs: Table;
  constructor(
    lora: Lora,
    readonly modelPath: string | null,
    private readonly gate: () => Promise<void>,
  ) {
    this.logprobs = logitsOf(lora).map(logSoftmaxRow);
  }

  async sample(prompt: number[], params: SamplingParams): Promise<SampleResult> {
    await this.gate();
    const r = rng(params.seed ?? 1);
    const sequences = Array.from({ length: params.numSamples ?? 1 }, () => {
      const tokens: number[] = [];
      const logprobs: number[] = [];
      let prev = prompt[prompt.length - 1];
      for (let i = 0; i < params.maxTokens; i++) {
        const row = this.logprobs[prev];
        let next = row.indexOf(Math.max(...row));
        if (params.temperature > 0) {
          const weights = row.map((lp) => Math.exp(lp / params.temperature));
          let u = r() * weights.reduce((a, b) => a + b, 0);
          next = weights.findIndex((w) => {
            u -= w;
            return u <= 0;
          });
          if (next < 0) next = V - 1;
        }
        tokens.push(next);
        logprobs.push(row[next]);
        prev = next;
        if (params.stop?.includes(next)) return { tokens, logprobs, stopReason: "stop" as const };
      }
      return { tokens, logprobs, stopReason: "length" as const };
    });
    return { sequences };
  }

  async computeLogprobs(tokens: number[]): Promise<(number | null)[]> {
    return tokens.map((t, i) => (i === 0 ? null : this.logprobs[tokens[i - 1]][t]));
  }
}

class BigramTrainer implements TrainingClient {
  readonly baseModel = BIGRAM_MODEL;
  private lora: Lora;
  private grad: Lora;
  private m: Lora;
  private v: Lora;
  private step = 0;

  constructor(
    readonly rank: number,
    seed: number,
    private readonly store: BigramBackend,
  ) {
    const r = rng(seed);
    this.lora = {
      A: Array.from({ length: V }, () => Array.from({ length: rank }, () => (r() * 2 - 1) * 0.5)),
      B: zeros(rank, V),
    };
    this.grad = { A: zeros(V, rank), B: zeros(rank, V) };
    this.m = { A: zeros(V, rank), B: zeros(rank, V) };
    this.v = { A: zeros(V, rank), B: zeros(rank, V) };
  }

  async forwardBackward(datums: Datum[], lossFn: LossFnName, config?: LossFnConfig): Promise<ForwardBackwardResult> {
    return this.lossPass(datums, lossFn, config, true);
  }

  async forward(datums: Datum[], lossFn: LossFnName, config?: LossFnConfig): Promise<ForwardBackwardResult> {
    return this.lossPass(datums, lossFn, config, false);
  }

  private lossPass(
    datums: Datum[],
    lossFn: LossFnName,
    config: LossFnConfig | undefined,
    accumulate: boolean,
  ): ForwardBackwardResult {
    const logprobs = logitsOf(this.lora).map(logSoftmaxRow);
    const dLogits = zeros(V, V);
    let loss = 0;
    const lossFnOutputs = datums.map((datum) => {
      const out: number[] = [];
      datum.modelInput.forEach((prev, i) => {
        const target = datum.lossFnInputs.targetTokens[i];
        const lp = logprobs[prev][target];
        out.push(lp);
        // dLoss/dlp for this position, per Tinker's definitions (sums, no normalisation).
        let dlp: number;
        switch (lossFn) {
          case "cross_entropy": {
            const w = datum.lossFnInputs.weights?.[i] ?? 1;
            loss += -w * lp;
            dlp = -w;
            break;
          }
          case "importance_sampling": {
            const ratio = Math.min(Math.exp(lp - datum.lossFnInputs.logprobs![i]), config?.clipRatio ?? Infinity);
            const adv = datum.lossFnInputs.advantages![i];
            loss += -ratio * adv;
            dlp = -ratio * adv;
            break;
          }
          default:
            throw new Error(`bigram backend: loss ${lossFn} not implemented`);
        }
        // d lp[prev][target] / d logits[prev][t] = 1[t = target] − p(t | prev)
        for (let t = 0; t < V; t++) dLogits[prev][t] += dlp * ((t === target ? 1 : 0) - Math.exp(logprobs[prev][t]));
      });
      return { logprobs: out };
    });
    for (let p = 0; p < V && accumulate; p++) {
      for (let k = 0; k < this.rank; k++) {
        for (let t = 0; t < V; t++) {
          this.grad.A[p][k] += dLogits[p][t] * this.lora.B[k][t];
          this.grad.B[k][t] += this.lora.A[p][k] * dLogits[p][t];
        }
      }
    }
    return { lossFnOutputs, metrics: { "loss:sum": loss } };
  }

  async optimStep(adam: AdamParams): Promise<{ metrics: Record<string, number> }> {
    this.step += 1;
    const c1 = 1 - adam.beta1 ** this.step;
    const c2 = 1 - adam.beta2 ** this.step;
    for (const key of ["A", "B"] as const) {
      for (const [i, row] of this.lora[key].entries()) {
        for (const [j, w] of row.entries()) {
          const g = this.grad[key][i][j];
          this.m[key][i][j] = adam.beta1 * this.m[key][i][j] + (1 - adam.beta1) * g;
          this.v[key][i][j] = adam.beta2 * this.v[key][i][j] + (1 - adam.beta2) * g * g;
          row[j] = w - (adam.learningRate * (this.m[key][i][j] / c1)) / (Math.sqrt(this.v[key][i][j] / c2) + adam.eps);
          this.grad[key][i][j] = 0;
        }
      }
    }
    return { metrics: { "step:max": this.step } };
  }

  async saveWeightsForSampler(name?: string): Promise<SamplingClient> {
    const sampler = new BigramSampler(this.snapshot().lora, name ? `bigram://sampler/${name}` : null, () =>
      this.store.sampleGate(),
    );
    if (name) this.store.samplers.set(sampler.modelPath!, sampler);
    return sampler;
  }

  async saveState(name: string): Promise<string> {
    const path = `bigram://state/${name}`;
    this.store.states.set(path, this.snapshot());
    return path;
  }

  async loadState(path: string, options?: { weightsOnly?: boolean }): Promise<void> {
    const state = this.store.states.get(path);
    if (!state) throw new Error(`no saved state at ${path}`);
    this.lora = { A: clone(state.lora.A), B: clone(state.lora.B) };
    if (!options?.weightsOnly) {
      this.m = { A: clone(state.m.A), B: clone(state.m.B) };
      this.v = { A: clone(state.v.A), B: clone(state.v.B) };
      this.step = state.step;
    }
  }

  private snapshot() {
    const copy = (l: Lora): Lora => ({ A: clone(l.A), B: clone(l.B) });
    return { lora: copy(this.lora), m: copy(this.m), v: copy(this.v), step: this.step };
  }
}

export class BigramBackend implements TrainingBackend {
  readonly kind = "embedded" as const;
  readonly states = new Map<string, { lora: Lora; m: Lora; v: Lora; step: number }>();
  readonly samplers = new Map<string, SamplingClient>();
  /** Tests hold samples here to create sampling backpressure. */
  gate: Promise<void> | null = null;

  sampleGate(): Promise<void> {
    return this.gate ?? Promise.resolve();
  }

  async createTrainingClient(options: CreateTrainingClientOptions): Promise<TrainingClient> {
    if (options.baseModel !== BIGRAM_MODEL) throw new Error(`unknown model ${options.baseModel}`);
    const trainer = new BigramTrainer(options.rank, options.seed ?? 0, this);
    if (options.fromState) await trainer.loadState(options.fromState);
    return trainer;
  }

  async createSamplingClient(options: { baseModel?: string; modelPath?: string }): Promise<SamplingClient> {
    if (options.modelPath !== undefined) {
      const sampler = this.samplers.get(options.modelPath);
      if (!sampler) throw new Error(`no sampler weights at ${options.modelPath}`);
      return sampler;
    }
    return new BigramSampler({ A: zeros(V, 1), B: zeros(1, V) }, null, () => this.sampleGate());
  }

  async listModels() {
    return [{ modelName: BIGRAM_MODEL, maxContextLength: 64, maxLoraRank: 16 }];
  }

  async close(): Promise<void> {}
}
