/**
 * The Tinker protocol by hand, for tests that must control every field a client sends (a seq_id
 * it skips, a body it garbles, a path it makes up): JSON POSTs with fetch and a bounded poll of
 * retrieve_future. Nothing here retries, so what a test sees is what the server answered.
 */
import { expect } from "vitest";

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

export class RawTinker {
  constructor(
    readonly url: string,
    private readonly apiKey: string,
  ) {}

  async post(route: string, body: unknown, raw?: string): Promise<Answer> {
    const res = await fetch(`${this.url}${route}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": this.apiKey },
      body: raw ?? JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Kept as text for the assertion that reads it.
    }
    return { status: res.status, body: parsed, text };
  }

  /** The future's final answer; a test fails (instead of hanging) when it is still pending after `withinMs`. */
  async result(submitted: Answer, withinMs = 20_000): Promise<Answer> {
    expect(submitted.status, submitted.text).toBe(200);
    const requestId = submitted.body.request_id;
    const deadline = Date.now() + withinMs;
    for (;;) {
      const answer = await this.post("/api/v1/retrieve_future", { request_id: requestId });
      if (answer.body.type !== "try_again") return answer;
      if (Date.now() > deadline)
        throw new Error(`request ${String(requestId)} still pending after ${withinMs} ms: the model stalled`);
    }
  }

  /** Submits and waits; the value of a future that succeeded. */
  async call(route: string, body: unknown, withinMs?: number): Promise<Record<string, unknown>> {
    const answer = await this.result(await this.post(route, body), withinMs);
    expect(answer.body.error, answer.text).toBeUndefined();
    return answer.body;
  }

  async session(): Promise<string> {
    const answer = await this.post("/api/v1/create_session", { tags: [], user_metadata: {}, sdk_version: "test" });
    expect(answer.status, answer.text).toBe(200);
    return answer.body.session_id as string;
  }

  async model(sessionId: string, baseModel: string, modelSeqId = 0, rank = 4, seed = 3): Promise<string> {
    const created = await this.call("/api/v1/create_model", {
      session_id: sessionId,
      model_seq_id: modelSeqId,
      base_model: baseModel,
      lora_config: { rank, seed },
    });
    return created.model_id as string;
  }
}

/** Cross-entropy on the tail of `sequence` (position i predicts token i+1), as the SDK sends it. */
export function wireCeDatum(sequence: number[], trainedFrom: number) {
  const targets = sequence.slice(1);
  const weights = targets.map((_, i) => (i + 1 >= trainedFrom ? 1 : 0));
  return {
    model_input: { chunks: [{ type: "encoded_text", tokens: sequence.slice(0, -1) }] },
    loss_fn_inputs: {
      target_tokens: { data: targets, dtype: "int64", shape: [targets.length] },
      weights: { data: weights, dtype: "float32", shape: [weights.length] },
    },
  };
}

export const SEQUENCE = [5, 17, 42, 99, 7, 250, 3, 61, 12, 300, 44, 8, 190, 77];
export const ADAM = { learning_rate: 2e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 };
