/**
 * The training-backend contract. Names mirror Tinker's verbs so that the embedded engine and a
 * Tinker(-protocol) service are interchangeable: nothing above this interface knows which one it
 * talks to. Shapes follow Tinker's wire semantics (tinker-api.md §4–§7), in camelCase.
 */

/** Loss functions. The first two are Tinker's own; the KL losses exist only on the embedded backend. */
export const LOSS_FN_NAMES = [
  "cross_entropy",
  "importance_sampling",
  "ppo",
  "cispo",
  "reverse_kl",
  "topk_reverse_kl",
] as const;
export type LossFnName = (typeof LOSS_FN_NAMES)[number];

/**
 * One training example, already shifted: `modelInput` is S[0..n-2] and every per-position input
 * has the same length N = n-1, position i predicting S[i+1].
 */
export interface Datum {
  modelInput: number[];
  lossFnInputs: LossFnInputs;
}

export interface LossFnInputs {
  /** S[1..n-1]: the token each position predicts. */
  targetTokens: number[];
  /** cross_entropy: per-position weight (0 on prompt positions). */
  weights?: number[];
  /** importance_sampling / ppo / cispo: the sampler's log-prob of each target token. */
  logprobs?: number[];
  /** importance_sampling / ppo / cispo: per-position advantage (0 on prompt positions). */
  advantages?: number[];
  /**
   * reverse_kl: teacher log-probabilities over the whole vocabulary, row-major (R, V), one row per
   * position from `teacherRowsStart`, as a DistributionSamplingClient gives them (V its rowWidth,
   * the model's own vocabulary); rows whose `weights` entry is 0 are ignored and may be zero-filled.
   */
  teacherLogprobs?: Float32Array;
  /**
   * topk_reverse_kl: the teacher's top-k token ids and log-probs per position, row-major (R, k)
   * with R = N − teacherRowsStart: they run to the last position, since k is read from their length.
   */
  teacherTopkIds?: Int32Array;
  teacherTopkLogprobs?: Float32Array;
  /**
   * The position of the first teacher row: teacher rows (teacherLogprobs (R, V), teacherTopkIds
   * and teacherTopkLogprobs (R, k)) cover positions [teacherRowsStart, teacherRowsStart + R),
   * R ≤ N − teacherRowsStart. Absent = 0, so rows over all N positions read as they always did.
   * A position with non-zero weight outside the window is an error. Only the completion's
   * positions carry weight, and full-vocabulary rows over a long prompt would cost N·V floats.
   */
  teacherRowsStart?: number;
}

/**
 * Loss options. importance_sampling: `clipRatio` caps the ratio exp(lp − q) from above (the
 * original product's `is_clip`); ppo/cispo: `clipLowThreshold`/`clipHighThreshold`.
 */
export type LossFnConfig = Record<string, number>;

export interface ForwardBackwardResult {
  /**
   * One record per datum, in order; each has the learner's log-prob of every target token, and
   * `entropies`: the natural-log entropy of the learner's untempered next-token distribution at
   * each model-input position with a non-zero weight (a datum without weights: its non-zero
   * advantages), 0 at the others, from the same forward pass. Embedded only; absent from backends
   * that do not return it (Tinker).
   */
  lossFnOutputs: Array<{ logprobs: number[]; entropies?: number[] } & Record<string, number[]>>;
  /** Tinker-style `name:reduction` keys, at least `loss:sum`. */
  metrics: Record<string, number>;
}

export interface AdamParams {
  learningRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled (AdamW) weight decay; 0 = off. */
  weightDecay?: number;
  /** Global gradient-norm clip; 0 or absent = off. */
  gradClipNorm?: number;
}

export const STOP_REASONS = ["stop", "length"] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export interface SamplingParams {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP?: number;
  /** -1 or absent = off. */
  topK?: number;
  /** Stop token ids; the stop token is included at the end of `tokens` when it fires. */
  stop?: number[];
  seed?: number;
  numSamples?: number;
}

export interface SampledSequence {
  tokens: number[];
  /** The sampler's log-prob of each returned token under the sampling distribution's model. */
  logprobs: number[];
  stopReason: StopReason;
}

export interface SampleResult {
  sequences: SampledSequence[];
}

/**
 * Sees a sample's tokens while it runs: the tokens of sequence 0 (the only one when numSamples is
 * 1), in order, as ids of the same vocabulary as the result's. It may be called zero or more times
 * and only before the sample resolves; backends that cannot stream (the Tinker HTTP API) call it
 * never, and the caller uses the result.
 */
export interface SampleObserver {
  onTokens(tokens: number[]): void;
}

export interface SamplingClient {
  /** The checkpoint path these weights came from, if they were saved under a name. */
  readonly modelPath: string | null;
  sample(promptTokens: number[], params: SamplingParams, observer?: SampleObserver): Promise<SampleResult>;
  /** log p(token i | tokens < i) for every position; entry 0 is null. */
  computeLogprobs(tokens: number[]): Promise<(number | null)[]>;
}

export interface TrainingClient {
  readonly baseModel: string;
  readonly rank: number;
  forwardBackward(datums: Datum[], lossFn: LossFnName, lossFnConfig?: LossFnConfig): Promise<ForwardBackwardResult>;
  /** The same outputs as forwardBackward without accumulating gradients (Tinker's forward). */
  forward?(datums: Datum[], lossFn: LossFnName, lossFnConfig?: LossFnConfig): Promise<ForwardBackwardResult>;
  optimStep(params: AdamParams): Promise<{ metrics: Record<string, number> }>;
  /** Fresh sampling weights reflecting every optimizer step so far. */
  saveWeightsForSampler(name?: string): Promise<SamplingClient>;
  /** Saves LoRA weights and optimizer state; returns a path `loadState` accepts. */
  saveState(name: string): Promise<string>;
  /** Restores LoRA weights and, unless `weightsOnly`, the optimizer state and step count. */
  loadState(path: string, options?: { weightsOnly?: boolean }): Promise<void>;
  /**
   * Frees what the client holds in memory (adapter, optimizer state, sampler snapshots); later
   * calls on it and on its samplers fail. Backends whose memory lives elsewhere may omit it.
   */
  release?(): Promise<void>;
}

/**
 * Optional training-client operations, used by the SDPO step's non-finite guard where a backend
 * offers them (the embedded one does; Tinker has no way to drop accumulated gradients).
 */
export interface GradientControl {
  /** Zeroes the gradients accumulated since the last optimizer step. */
  discardGradients(): Promise<void>;
  /** Global L2 norm of the accumulated gradients (non-finite if any entry is). */
  gradientNorm(): Promise<number>;
}

export interface CreateTrainingClientOptions {
  baseModel: string;
  rank: number;
  /** LoRA initialisation seed. */
  seed?: number;
  /** A saved state to start from (weights and optimizer). */
  fromState?: string;
}

/**
 * Where an SDPO teacher's log-probs come from: the current student, its EMA, or frozen weights.
 * The one list of teacher modes: the settings table, the backends' capabilities and the learning
 * benchmark all read it, so a new mode is one entry here.
 */
/** Where training runs: the engine in this process, or a Tinker(-protocol) server (policy.backend). */
export const BACKEND_KINDS = ["embedded", "tinker"] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export const TEACHER_MODES = ["student", "ema", "frozen"] as const;
export type TeacherMode = (typeof TEACHER_MODES)[number];

/**
 * What a backend can train with, for callers that choose a loss, its options or a teacher by
 * backend. Tinker computes only its own losses, has no importance-sampling ratio clip, and cannot
 * average weights (no EMA teacher); the embedded engine can do all of it.
 */
export interface BackendCapabilities {
  readonly losses: readonly LossFnName[];
  /** importance_sampling accepts `lossFnConfig.clipRatio`. */
  readonly importanceSamplingClipRatio: boolean;
  readonly teacherModes: readonly TeacherMode[];
}

/**
 * A sampler that also gives whole next-token distributions (embedded only), as full-vocabulary
 * distillation needs from its teacher. Positions follow Engine.logSoftmaxRows: row i is the
 * distribution over the token after tokens[positions[i]].
 */
export interface DistributionSamplingClient extends SamplingClient {
  /** Columns of a row: the model's own vocabulary size, which a trimmed vocabulary keeps below its tokenizer's. */
  readonly rowWidth: number;
  /** Log-softmax rows, row-major (positions.length, rowWidth), in the model's own vocabulary (see rowColumns). */
  logSoftmaxRows(tokens: number[], positions: number[]): Promise<Float32Array>;
  /** The row column holding each token id: the id itself unless the model numbers a trimmed vocabulary of its own. */
  rowColumns(ids: readonly number[]): number[];
  /** The k most likely next tokens per position, best first, row-major (positions.length, k). */
  topkLogprobs(tokens: number[], positions: number[], k: number): Promise<{ ids: Int32Array; logprobs: Float32Array }>;
}

/** Teachers a training client can make besides its own sampler (embedded only). */
export interface TeacherOperations {
  /**
   * Moves the client's EMA teacher toward the current weights, teacher ← teacher + rate·(student −
   * teacher), creating it from the current weights on first use, and returns it. The returned
   * client reads the EMA weights as they are at each call.
   */
  emaTeacher(rate: number): Promise<DistributionSamplingClient>;
  /** A frozen copy of the current weights that later steps do not change. */
  snapshotTeacher(): Promise<DistributionSamplingClient>;
}

export function canScoreDistributions(client: SamplingClient): client is DistributionSamplingClient {
  const c = client as Partial<DistributionSamplingClient>;
  return typeof c.logSoftmaxRows === "function" && typeof c.topkLogprobs === "function";
}

export function hasTeacherOperations(client: TrainingClient): client is TrainingClient & TeacherOperations {
  const c = client as Partial<TeacherOperations>;
  return typeof c.emaTeacher === "function" && typeof c.snapshotTeacher === "function";
}

export interface TrainingBackend {
  readonly kind: BackendKind;
  /** Absent: assume only what Tinker offers. */
  readonly capabilities?: BackendCapabilities;
  createTrainingClient(options: CreateTrainingClientOptions): Promise<TrainingClient>;
  /** A sampler over the base model (no LoRA) or over a saved sampler checkpoint. */
  createSamplingClient(options: { baseModel?: string; modelPath?: string }): Promise<SamplingClient>;
  /** Models this backend can serve; `maxLoraRank` where the backend knows the model's cap. */
  listModels(): Promise<Array<{ modelName: string; maxContextLength?: number; maxLoraRank?: number }>>;
  /** Releases sessions, heartbeats, workers. */
  close(): Promise<void>;
}
