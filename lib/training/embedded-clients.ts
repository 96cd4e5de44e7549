/**
 * The embedded backend's clients: a training client is one LoRA adapter in a shared engine; a
 * sampling client reads the base model, a frozen snapshot, or a teacher adapter. Samplers handed out
 * by saveWeightsForSampler are snapshots, so later steps never change them (Tinker's semantics);
 * only the newest few per training client stay in memory, and an older one that was saved under a
 * name reloads from disk, while an unnamed one says it was released. Token ids cross through the
 * model's TokenSpace, so a model over a trimmed vocabulary still takes and gives Qwen3 ids; its
 * log-softmax rows stay in its own vocabulary (rowColumns says where a Qwen3 id sits).
 */
import fs from "node:fs";
import path from "node:path";
import type { EngineClient } from "../engine/client";
import { SAME_IDS, type TokenSpace } from "./vocab-map";
import type {
  GradientControl,
  AdamParams,
  Datum,
  DistributionSamplingClient,
  ForwardBackwardResult,
  LossFnConfig,
  LossFnName,
  SampleObserver,
  SampleResult,
  SamplingParams,
  TeacherOperations,
  TrainingClient,
} from "./types";

const META_FILE = "checkpoint.json";

/** What a saved directory was made from, written beside the engine's own files. */
export interface CheckpointMeta {
  format: "continualcode-checkpoint";
  kind: "state" | "sampler_weights";
  baseModel: string;
}

export function writeMeta(dir: string, meta: Omit<CheckpointMeta, "format">): void {
  fs.writeFileSync(path.join(dir, META_FILE), JSON.stringify({ format: "continualcode-checkpoint", ...meta }, null, 2));
}

/** The meta of a directory this backend saved, or null for one it did not. */
export function readMeta(dir: string): CheckpointMeta | null {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, META_FILE), "utf8")) as CheckpointMeta;
    return meta.format === "continualcode-checkpoint" ? meta : null;
  } catch {
    return null;
  }
}

/** Checkpoint names become directory names: one path segment of plain characters. */
export function checkName(name: string, what: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === "." || name === "..") {
    throw new Error(`${what} name "${name}" must be letters, digits, '.', '_' or '-'`);
  }
}

/** Runs engine calls against an adapter id that may need (re)loading first; null = base model. */
interface AdapterRef {
  run<T>(call: (id: string | null) => Promise<T>): Promise<T>;
}

export class EmbeddedSamplingClient implements DistributionSamplingClient {
  constructor(
    private readonly engine: EngineClient,
    private readonly adapter: AdapterRef,
    readonly modelPath: string | null,
    private readonly ids: TokenSpace = SAME_IDS,
  ) {}

  async sample(promptTokens: number[], params: SamplingParams, observer?: SampleObserver): Promise<SampleResult> {
    const prompt = this.ids.toModel(promptTokens);
    const modelParams = this.ids.samplingToModel(params);
    // The observer hears Qwen3 ids, like the result, whatever the model's own numbering.
    const modelObserver = observer && { onTokens: (tokens: number[]) => observer.onTokens(this.ids.fromModel(tokens)) };
    return this.ids.sampleFromModel(
      await this.adapter.run((id) => this.engine.sample(id, prompt, modelParams, modelObserver)),
    );
  }

  async computeLogprobs(tokens: number[]): Promise<(number | null)[]> {
    const modelTokens = this.ids.toModel(tokens);
    return this.adapter.run((id) => this.engine.computeLogprobs(id, modelTokens));
  }

  get rowWidth(): number {
    return this.engine.config.vocabSize;
  }

  /** Rows come back as the engine computed them, in the model's own vocabulary. */
  async logSoftmaxRows(tokens: number[], positions: number[]): Promise<Float32Array> {
    const modelTokens = this.ids.toModel(tokens);
    return this.adapter.run((id) => this.engine.logSoftmaxRows(id, modelTokens, positions));
  }

  rowColumns(ids: readonly number[]): number[] {
    return this.ids.toModel(ids);
  }

  async topkLogprobs(
    tokens: number[],
    positions: number[],
    k: number,
  ): Promise<{ ids: Int32Array; logprobs: Float32Array }> {
    const modelTokens = this.ids.toModel(tokens);
    return this.ids.topkFromModel(
      await this.adapter.run((id) => this.engine.topkLogprobs(id, modelTokens, positions, k)),
    );
  }
}

/** An adapter that is always present (the base model, a teacher, a loaded checkpoint). */
export function fixedAdapter(id: string | null): AdapterRef {
  return { run: (call) => call(id) };
}

/**
 * A sampler snapshot whose memory the owning training client may release. The engine runs calls
 * in the order they are posted, so a call posted before the release still sees the adapter.
 */
class Snapshot implements AdapterRef {
  private live: string | null;
  private reloads = 0;
  private reloading: Promise<void> | null = null;

  constructor(
    private readonly owner: SnapshotRing,
    private readonly id: string,
    private readonly savedAt: string | null,
  ) {
    this.live = id;
  }

  run<T>(call: (id: string | null) => Promise<T>): Promise<T> {
    if (this.live !== null) return call(this.live);
    if (this.owner.isClosed)
      return Promise.reject(new Error("the training client that made this sampler was released"));
    if (this.savedAt === null) {
      return Promise.reject(
        new Error(
          "these sampler weights were released after newer ones were saved; call saveWeightsForSampler() again",
        ),
      );
    }
    // Calls arriving during a reload share it; each continuation posts its call synchronously,
    // before anything could release the reloaded copy.
    this.reloading ??= this.reload(this.savedAt).finally(() => (this.reloading = null));
    return this.reloading.then(() => (this.live !== null ? call(this.live) : this.run(call)));
  }

  private async reload(savedAt: string): Promise<void> {
    const id = `${this.id}-r${++this.reloads}`;
    await this.owner.engine.loadState(id, savedAt, { weightsOnly: true });
    this.live = id;
    this.owner.keep(this);
  }

  release(): void {
    if (this.live === null) return;
    void this.owner.engine.dropAdapter(this.live).catch(() => undefined);
    this.live = null;
  }
}

/** The newest `capacity` snapshots of one training client stay in memory. */
class SnapshotRing {
  private readonly held: Snapshot[] = [];
  private closed = false;

  constructor(
    readonly engine: EngineClient,
    private readonly capacity: number,
  ) {}

  keep(snapshot: Snapshot): void {
    if (this.closed) {
      snapshot.release();
      return;
    }
    this.held.push(snapshot);
    while (this.held.length > this.capacity) this.held.shift()!.release();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  releaseAll(): void {
    this.closed = true;
    for (const snapshot of this.held.splice(0)) snapshot.release();
  }

  add(id: string, savedAt: string | null): Snapshot {
    const snapshot = new Snapshot(this, id, savedAt);
    this.keep(snapshot);
    return snapshot;
  }
}

export interface EmbeddedTrainingClientOptions {
  engine: EngineClient;
  /** Unique within the engine; the adapter's id and the states subdirectory. */
  clientId: string;
  baseModel: string;
  rank: number;
  /** Root of saved states: this client writes under `<statesDir>/<clientId>/`. */
  statesDir: string;
  /** Sampler snapshots kept in memory (at least 2, so the previous sampler outlives one refresh). */
  samplersInMemory: number;
  /** How token ids map to the model's (default: the same ids). */
  ids?: TokenSpace;
}

export class EmbeddedTrainingClient implements TrainingClient, TeacherOperations, GradientControl {
  readonly baseModel: string;
  readonly rank: number;
  readonly clientId: string;
  private readonly engine: EngineClient;
  private readonly ring: SnapshotRing;
  private readonly dir: string;
  private readonly ids: TokenSpace;
  private snapshots = 0;
  private emaCreated = false;
  /** Teacher adapters this client made, freed by release(). */
  private readonly teachers: string[] = [];

  constructor(options: EmbeddedTrainingClientOptions) {
    this.engine = options.engine;
    this.clientId = options.clientId;
    this.baseModel = options.baseModel;
    this.rank = options.rank;
    this.dir = path.join(options.statesDir, options.clientId);
    this.ring = new SnapshotRing(options.engine, Math.max(2, options.samplersInMemory));
    this.ids = options.ids ?? SAME_IDS;
  }

  /**
   * Runs one forward/backward pass and accumulates gradients. Typed arrays in the datums (teacher
   * rows) move to the engine's thread: the caller's copies are unusable afterwards.
   */
  forwardBackward(datums: Datum[], lossFn: LossFnName, lossFnConfig?: LossFnConfig): Promise<ForwardBackwardResult> {
    let modelDatums: Datum[];
    try {
      modelDatums = datums.map((d) => this.ids.datumToModel(d));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.engine.forwardBackward(this.clientId, modelDatums, lossFn, lossFnConfig);
  }

  forward(datums: Datum[], lossFn: LossFnName, lossFnConfig?: LossFnConfig): Promise<ForwardBackwardResult> {
    let modelDatums: Datum[];
    try {
      modelDatums = datums.map((d) => this.ids.datumToModel(d));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.engine.forward(this.clientId, modelDatums, lossFn, lossFnConfig);
  }

  optimStep(params: AdamParams): Promise<{ metrics: Record<string, number> }> {
    return this.engine.optimStep(this.clientId, params);
  }

  discardGradients(): Promise<void> {
    return this.engine.zeroGrad(this.clientId);
  }

  async gradientNorm(): Promise<number> {
    const grads = await this.engine.adapterTensors(this.clientId, "grad");
    let sq = 0;
    for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
    return Math.sqrt(sq);
  }

  async saveWeightsForSampler(name?: string): Promise<EmbeddedSamplingClient> {
    const id = `${this.clientId}/sampler-${++this.snapshots}`;
    let savedAt: string | null = null;
    if (name !== undefined) {
      checkName(name, "sampler");
      savedAt = path.join(this.dir, "sampler_weights", name);
    }
    await this.engine.snapshotAdapter(this.clientId, id);
    if (savedAt !== null) {
      await this.engine.saveState(id, savedAt);
      writeMeta(savedAt, { kind: "sampler_weights", baseModel: this.baseModel });
    }
    return new EmbeddedSamplingClient(this.engine, this.ring.add(id, savedAt), savedAt, this.ids);
  }

  async saveState(name: string): Promise<string> {
    checkName(name, "state");
    if (name === "sampler_weights") throw new Error(`state name "${name}" is reserved`);
    const dir = path.join(this.dir, name);
    await this.engine.saveState(this.clientId, dir);
    writeMeta(dir, { kind: "state", baseModel: this.baseModel });
    return dir;
  }

  async loadState(dir: string, options: { weightsOnly?: boolean } = {}): Promise<void> {
    const meta = readMeta(dir);
    if (meta && meta.baseModel !== this.baseModel)
      throw new Error(`${dir} was trained on ${meta.baseModel}, not ${this.baseModel}`);
    await this.engine.loadState(this.clientId, dir, options);
  }

  async emaTeacher(rate: number): Promise<EmbeddedSamplingClient> {
    if (!(rate >= 0 && rate <= 1)) throw new Error(`EMA rate must be in [0, 1]; got ${rate}`);
    const id = `${this.clientId}/ema`;
    // Decided before awaiting: the engine runs calls in posting order, so a second call made
    // while the first is in flight updates the copy the first one creates.
    if (this.emaCreated) await this.engine.emaUpdate(id, this.clientId, rate);
    else {
      this.emaCreated = true;
      this.teachers.push(id);
      await this.engine.snapshotAdapter(this.clientId, id).catch((error: unknown) => {
        this.emaCreated = false;
        throw error;
      });
    }
    return new EmbeddedSamplingClient(this.engine, fixedAdapter(id), null, this.ids);
  }

  async snapshotTeacher(): Promise<EmbeddedSamplingClient> {
    const id = `${this.clientId}/teacher-${++this.snapshots}`;
    await this.engine.snapshotAdapter(this.clientId, id);
    this.teachers.push(id);
    return new EmbeddedSamplingClient(this.engine, fixedAdapter(id), null, this.ids);
  }

  /**
   * Frees this client's adapter, gradients, optimizer state, sampler snapshots and teachers (a
   * user's policy leaving memory). Samplers and teachers it handed out stop working; saved states
   * stay on disk.
   */
  async release(): Promise<void> {
    this.ring.releaseAll();
    for (const id of this.teachers.splice(0)) void this.engine.dropAdapter(id);
    await this.engine.dropAdapter(this.clientId);
  }
}
