/**
 * Waiting on a Tinker future: poll `retrieve_future` until the result arrives, following the SDK's
 * rules (tinker-api.md §3). `try_again` and 408 mean pending (poll again at once); 5xx re-polls at
 * once; 429 and connection errors back off min(2^k, 30) s, k reset by any HTTP answer; 400 is
 * retried at most 3 times; 402 pauses for billing; 410 means the submit must be redone; an
 * `{error, category}` body is terminal; any other 4xx is fatal.
 */
import {
  TinkerConnectionError,
  TinkerPromiseExpiredError,
  TinkerRequestFailedError,
  TinkerStatusError,
  TinkerTimeoutError,
  type RequestErrorCategory,
} from "./errors";
import { ProtobufBody, PROTOBUF_CONTENT_TYPE, type TinkerHttp } from "./http";
import { forwardBackwardOutputFromProto, sampleResponseFromProto } from "./proto/convert";
import { exponentialBackoffMs, BILLING_PAUSE_STEP_MS, type BillingPause, type RetryTiming } from "./retry";

/** The handle every submit endpoint answers with. */
export interface UntypedFuture {
  request_id: string;
  model_id?: string;
}

export type RequestType =
  | "CreateModel"
  | "ForwardBackward"
  | "Forward"
  | "OptimStep"
  | "SaveWeights"
  | "LoadWeights"
  | "SaveWeightsForSampler"
  | "Sample";

export const POLL_TIMEOUT_MS = 45_000;

/**
 * Results the SDK reads as protobuf, and how to read them into their JSON shape. For these the
 * poll asks for protobuf first and JSON second, as SDK 0.24 does, so a server that only speaks
 * JSON still answers in a form this client reads.
 */
const PROTOBUF_RESULTS: Partial<Record<RequestType, (bytes: Uint8Array) => unknown>> = {
  ForwardBackward: forwardBackwardOutputFromProto,
  Forward: forwardBackwardOutputFromProto,
  Sample: sampleResponseFromProto,
};
export const MAX_BAD_REQUEST_RETRIES = 3;

export interface PollContext {
  http: TinkerHttp;
  timing: RetryTiming;
  billing: BillingPause;
}

export async function pollFuture<T>(ctx: PollContext, future: UntypedFuture, requestType: RequestType): Promise<T> {
  let backoffExponent = 0;
  let badRequestRetries = 0;
  const fromProtobuf = PROTOBUF_RESULTS[requestType];
  const accept: Record<string, string> = fromProtobuf ? { Accept: `${PROTOBUF_CONTENT_TYPE}, application/json` } : {};
  for (let iteration = 0; ; iteration++) {
    let body: Record<string, unknown> | ProtobufBody;
    try {
      body = await ctx.http.post<Record<string, unknown> | ProtobufBody>(
        "/api/v1/retrieve_future",
        { request_id: future.request_id, allow_metadata_only: false },
        {
          maxRetries: 0,
          timeoutMs: POLL_TIMEOUT_MS,
          headers: { "X-Tinker-Request-Iteration": String(iteration), "X-Tinker-Request-Type": requestType, ...accept },
        },
      );
    } catch (error) {
      if (error instanceof TinkerConnectionError || error instanceof TinkerTimeoutError) {
        await ctx.timing.sleep(exponentialBackoffMs(backoffExponent));
        backoffExponent += 1;
        continue;
      }
      if (!(error instanceof TinkerStatusError)) throw error;
      if (error.status !== 429) backoffExponent = 0;
      if (error.status === 402 && ctx.billing.shouldPause(error)) {
        await ctx.timing.sleep(BILLING_PAUSE_STEP_MS);
        continue;
      }
      if (error.status === 408) {
        badRequestRetries = 0;
        continue;
      }
      if (error.status >= 500) continue;
      if (error.status === 429) {
        await ctx.timing.sleep(exponentialBackoffMs(backoffExponent));
        backoffExponent += 1;
        continue;
      }
      if (error.status === 400 && badRequestRetries < MAX_BAD_REQUEST_RETRIES) {
        badRequestRetries += 1;
        continue;
      }
      if (error.status === 410) throw new TinkerPromiseExpiredError(future.request_id);
      throw error;
    }
    backoffExponent = 0;
    if (body instanceof ProtobufBody) {
      if (!fromProtobuf)
        throw new Error(
          `Tinker retrieve_future for ${future.request_id} answered protobuf for a ${requestType}, which has no protobuf form`,
        );
      return fromProtobuf(body.bytes) as T;
    }
    if (body === null || typeof body !== "object") {
      throw new Error(`Tinker retrieve_future for ${future.request_id} answered a non-object: ${JSON.stringify(body)}`);
    }
    if (body.type === "try_again") continue;
    if ("error" in body) {
      throw new TinkerRequestFailedError(future.request_id, toCategory(body.category), String(body.error));
    }
    return body as T;
  }
}

function toCategory(value: unknown): RequestErrorCategory {
  return value === "user" || value === "server" ? value : "unknown";
}
