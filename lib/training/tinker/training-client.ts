/**
 * A Tinker LoRA training client. Every training-state request takes the model's next `seq_id`
 * (from 1) at call time and is submitted strictly in that order, one submit after the previous
 * one was accepted; results are then polled concurrently, so forward_backward and optim_step can
 * be in flight together as the SDK intends (tinker-api.md §4.1). A submit that fails for good
 * leaves a gap the server would wait on forever, so the client refuses later requests instead.
 */
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossFnConfig,
  LossFnName,
  SamplingClient,
  TrainingClient,
} from "../types";
import { combineForwardBackward, chunkDatums } from "./chunks";
import type { RequestType, UntypedFuture } from "./futures";
import { TinkerSamplingClient } from "./sampling-client";
import type { TinkerSession } from "./session";
import {
  adamToWire,
  datumToWire,
  forwardBackwardFromWire,
  lossConfigToWire,
  toTinkerLoss,
  type WireForwardBackwardOutput,
} from "./wire";

export class TinkerTrainingClient implements TrainingClient {
  private lastSeqId = 0;
  private submitQueue: Promise<unknown> = Promise.resolve();
  private broken: Error | null = null;

  private constructor(
    private readonly session: TinkerSession,
    readonly modelId: string,
    readonly baseModel: string,
    readonly rank: number,
    private readonly maxContextLength?: number,
  ) {}

  static async create(
    session: TinkerSession,
    options: { baseModel: string; rank: number; seed?: number; maxContextLength?: number },
  ): Promise<TinkerTrainingClient> {
    const modelSeqId = session.nextModelSeqId();
    const body = {
      session_id: session.sessionId,
      model_seq_id: modelSeqId,
      base_model: options.baseModel,
      lora_config: {
        rank: options.rank,
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        train_unembed: true,
        train_mlp: true,
        train_attn: true,
      },
      type: "create_model",
    };
    const future = await session.submit("/api/v1/create_model", body);
    const result = await session.poll<{ model_id: string }>(future, "CreateModel");
    return new TinkerTrainingClient(
      session,
      result.model_id,
      options.baseModel,
      options.rank,
      options.maxContextLength,
    );
  }

  async forwardBackward(
    datums: Datum[],
    lossFn: LossFnName,
    lossFnConfig?: LossFnConfig,
  ): Promise<ForwardBackwardResult> {
    return this.lossPass(datums, lossFn, lossFnConfig, false);
  }

  /** The same outputs without accumulating gradients (Tinker's forward). */
  async forward(datums: Datum[], lossFn: LossFnName, lossFnConfig?: LossFnConfig): Promise<ForwardBackwardResult> {
    return this.lossPass(datums, lossFn, lossFnConfig, true);
  }

  private async lossPass(
    datums: Datum[],
    lossFn: LossFnName,
    lossFnConfig: LossFnConfig | undefined,
    forwardOnly: boolean,
  ): Promise<ForwardBackwardResult> {
    const loss = toTinkerLoss(lossFn);
    const config = lossConfigToWire(loss, lossFnConfig);
    if (datums.length === 0) throw new Error("forwardBackward needs at least one datum");
    const wire = datums.map((d, i) => datumToWire(d, loss, i));
    const { fwdbwd_max_chunk_len, fwdbwd_max_chunk_bytes_count } = this.session.config;
    const chunks = chunkDatums(wire, fwdbwd_max_chunk_len, fwdbwd_max_chunk_bytes_count);
    const results = await Promise.all(
      chunks.map((data) =>
        this.ordered<WireForwardBackwardOutput>(forwardOnly ? "Forward" : "ForwardBackward", (seqId) =>
          this.session.submitLossPass({
            forward_backward_input: { data, loss_fn: loss, loss_fn_config: config ?? null },
            model_id: this.modelId,
            seq_id: seqId,
            forward_only: forwardOnly,
          }),
        ),
      ),
    );
    return combineForwardBackward(results.map(forwardBackwardFromWire));
  }

  async optimStep(params: AdamParams): Promise<{ metrics: Record<string, number> }> {
    const result = await this.orderedPost<{ metrics?: Record<string, number> | null }>(
      "/api/v1/optim_step",
      "OptimStep",
      (seqId) => ({
        adam_params: adamToWire(params),
        model_id: this.modelId,
        seq_id: seqId,
        type: "optim_step",
      }),
    );
    return { metrics: result.metrics ?? {} };
  }

  async saveWeightsForSampler(name?: string): Promise<SamplingClient> {
    if (name !== undefined) {
      const result = await this.orderedPost<{ path: string }>(
        "/api/v1/save_weights_for_sampler",
        "SaveWeightsForSampler",
        (seqId) => ({ model_id: this.modelId, path: name, seq_id: seqId, type: "save_weights_for_sampler" }),
        { maxRetries: 0 },
      );
      return TinkerSamplingClient.open(this.session, {
        modelPath: result.path,
        baseModel: this.baseModel,
        maxContextLength: this.maxContextLength,
      });
    }
    // Ephemeral: no checkpoint name; the save also opens the sampling session, consuming the
    // session's sampling counter exactly like create_sampling_session does.
    const result = await this.orderedPost<{ sampling_session_id?: string | null }>(
      "/api/v1/save_weights_for_sampler",
      "SaveWeightsForSampler",
      (seqId) => ({
        model_id: this.modelId,
        seq_id: seqId,
        sampling_session_seq_id: this.session.nextSamplingSessionSeqId(),
        type: "save_weights_for_sampler",
      }),
      { maxRetries: 0 },
    );
    if (!result.sampling_session_id)
      throw new Error("ephemeral save_weights_for_sampler answered without a sampling_session_id");
    return new TinkerSamplingClient(this.session, result.sampling_session_id, null, this.maxContextLength);
  }

  async saveState(name: string): Promise<string> {
    const result = await this.orderedPost<{ path: string }>(
      "/api/v1/save_weights",
      "SaveWeights",
      (seqId) => ({ model_id: this.modelId, path: name, seq_id: seqId, overwrite: false, type: "save_weights" }),
      { maxRetries: 0 },
    );
    return result.path;
  }

  async loadState(path: string, options?: { weightsOnly?: boolean }): Promise<void> {
    await this.orderedPost("/api/v1/load_weights", "LoadWeights", (seqId) => ({
      model_id: this.modelId,
      path,
      seq_id: seqId,
      optimizer: !(options?.weightsOnly ?? false),
      type: "load_weights",
    }));
  }

  /** An ordered request that is one JSON POST. */
  private orderedPost<T>(
    path: string,
    requestType: RequestType,
    body: (seqId: number) => unknown,
    callOptions?: { maxRetries: number },
  ): Promise<T> {
    return this.ordered<T>(requestType, (seqId) => this.session.submit(path, body(seqId), callOptions));
  }

  /**
   * Take the next seq_id now, submit after every earlier submit was accepted, then poll.
   * `body` is built at submit time so lazily drawn counters (the sampling one) stay in order too.
   */
  private async ordered<T>(requestType: RequestType, submit: (seqId: number) => Promise<UntypedFuture>): Promise<T> {
    if (this.broken) throw this.broken;
    const seqId = ++this.lastSeqId;
    const submitted = this.submitQueue.then(() => {
      if (this.broken) throw this.broken;
      return submit(seqId);
    });
    this.submitQueue = submitted.catch((error: unknown) => {
      this.broken ??= new Error(
        `Tinker model ${this.modelId}: request seq_id ${seqId} could not be submitted, so the server would wait for it forever; ` +
          `create a new training client (cause: ${error instanceof Error ? error.message : String(error)})`,
      );
    });
    const future = await submitted;
    return this.session.poll<T>(future, requestType);
  }
}
