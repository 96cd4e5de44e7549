/**
 * A Tinker sampling client over one sampling session. Each attempt takes the session's next
 * `seq_id` (from 0, never reused), submits with backpressure (a 429 or a billing 402 on submit is
 * "wait 1 s, or 5 s for prompts over 128 KiB, and resubmit the same seq_id"), then polls. Like the
 * SDK's sampling retry handler, a whole sample is re-run with a fresh seq_id after an expired
 * promise (410), a timeout, a connection error or a retryable status, backing off 0.5·2^n s.
 */
import type { SampleResult, SamplingClient, SamplingParams } from "../types";
import { isRetryableSampleError, sampleRetryDelayMs, type RetryTiming } from "./retry";
import type { TinkerSession } from "./session";
import {
  promptToWire,
  sampleFromWire,
  samplingParamsToWire,
  type WireSampleResponse,
  type WireSamplingParams,
} from "./wire";

const BACKPRESSURE_SMALL_MS = 1_000;
const BACKPRESSURE_LARGE_MS = 5_000;
const LARGE_PROMPT_BYTES = 128 * 1024;
/** Like the SDK's stuck detection: stop re-running a sample after two hours without a result. */
const SAMPLE_PROGRESS_TIMEOUT_MS = 7_200_000;

export class TinkerSamplingClient implements SamplingClient {
  private nextSeqId = 0;

  constructor(
    private readonly session: TinkerSession,
    readonly samplingSessionId: string,
    readonly modelPath: string | null,
    /** From the server's capabilities; prompt + maxTokens must fit in it. */
    private readonly maxContextLength?: number,
  ) {}

  /** Opens a sampling session over a saved sampler checkpoint or the base model. */
  static async open(
    session: TinkerSession,
    options: { baseModel?: string; modelPath?: string; maxContextLength?: number },
  ): Promise<TinkerSamplingClient> {
    if (options.modelPath !== undefined && !options.modelPath.startsWith("tinker://")) {
      throw new Error(`a Tinker sampler path must start with tinker:// (got "${options.modelPath}")`);
    }
    const created = await session.call<{ sampling_session_id: string }>("POST", "/api/v1/create_sampling_session", {
      session_id: session.sessionId,
      sampling_session_seq_id: session.nextSamplingSessionSeqId(),
      ...(options.modelPath !== undefined ? { model_path: options.modelPath } : {}),
      ...(options.baseModel !== undefined ? { base_model: options.baseModel } : {}),
      type: "create_sampling_session",
    });
    return new TinkerSamplingClient(
      session,
      created.sampling_session_id,
      options.modelPath ?? null,
      options.maxContextLength,
    );
  }

  /**
   * Tinker's API answers a sample whole, so this takes no SampleObserver: one passed by a caller is
   * never called, and the caller shows the result.
   */
  async sample(promptTokens: number[], params: SamplingParams): Promise<SampleResult> {
    if (this.maxContextLength !== undefined && promptTokens.length + params.maxTokens > this.maxContextLength) {
      throw new Error(
        `prompt (${promptTokens.length} tokens) + maxTokens (${params.maxTokens}) exceeds the model's context of ${this.maxContextLength} tokens`,
      );
    }
    const wire = await this.withRetries(() =>
      this.sampleOnce(promptTokens, params.numSamples ?? 1, samplingParamsToWire(params), false),
    );
    return sampleFromWire(wire);
  }

  /** The SDK's way: a one-token sample that asks for prompt log-probs. */
  async computeLogprobs(tokens: number[]): Promise<(number | null)[]> {
    const wire = await this.withRetries(() =>
      this.sampleOnce(tokens, 1, { max_tokens: 1, temperature: 1, top_k: -1, top_p: 1 }, true),
    );
    if (!wire.prompt_logprobs) throw new Error("Tinker sample answered without prompt_logprobs");
    return wire.prompt_logprobs;
  }

  private get timing(): RetryTiming {
    return this.session.timing;
  }

  private async withRetries(run: () => Promise<WireSampleResponse>): Promise<WireSampleResponse> {
    if (this.session.config.sample_no_retries) return run();
    const start = this.timing.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!isRetryableSampleError(error) || this.timing.now() - start > SAMPLE_PROGRESS_TIMEOUT_MS) throw error;
        await this.timing.sleep(sampleRetryDelayMs(attempt, this.timing.random()));
      }
    }
  }

  private async sampleOnce(
    prompt: number[],
    numSamples: number,
    samplingParams: WireSamplingParams,
    promptLogprobs: boolean,
  ): Promise<WireSampleResponse> {
    const seqId = this.nextSeqId++;
    const body = {
      sampling_session_id: this.samplingSessionId,
      seq_id: seqId,
      num_samples: numSamples,
      prompt: promptToWire(prompt),
      sampling_params: samplingParams,
      prompt_logprobs: promptLogprobs,
      topk_prompt_logprobs: 0,
      type: "sample",
    };
    const backoffMs = prompt.length * 10 <= LARGE_PROMPT_BYTES ? BACKPRESSURE_SMALL_MS : BACKPRESSURE_LARGE_MS;
    for (;;) {
      const future = await this.session.submitSample(body);
      if (future !== null) return this.session.poll<WireSampleResponse>(future, "Sample");
      await this.timing.sleep(backoffMs);
    }
  }
}
