/**
 * One HTTP call to a Tinker(-protocol) server (JSON, or a ProtobufBody each way where the SDK uses protobuf), with the generated SDK client's transport
 * retries: up to 10 retries on connection errors, timeouts and 408/409/429/5xx (or whatever
 * `x-should-retry` says), waiting `retry-after[-ms]` or min(0.5·2^n, 10) s with jitter. Every
 * call carries the credential in `X-API-Key` and, for non-GET calls, one idempotency key shared
 * by its retries.
 */
import { randomUUID } from "node:crypto";
import { TinkerConnectionError, TinkerStatusError, TinkerTimeoutError } from "./errors";
import { parseRetryAfterSeconds, shouldRetryResponse, transportRetryDelayMs, type RetryTiming } from "./retry";

export const DEFAULT_BASE_URL = "https://tinker.thinkingmachines.dev/services/tinker-prod";
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 10;
/** A 400 with an empty body is an edge proxy dropping the request; the SDK allows 16 such retries per client. */
const EMPTY_400_BUDGET = 16;

/** Where the `X-API-Key` value comes from: the raw key, or a JWT obtained with it. */
export interface Credential {
  get(): Promise<string>;
  close(): void;
}

export function staticCredential(value: string): Credential {
  return { get: async () => value, close: () => {} };
}

export interface CallOptions {
  /** Transport retries; 0 for calls whose caller does its own retrying (polls, sample submits). */
  maxRetries?: number;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Overrides the client's credential (the config fetch and JWT exchange use the raw key). */
  credential?: Credential;
}

export interface TinkerHttpOptions {
  baseUrl: string;
  credential: Credential;
  timing: RetryTiming;
  userAgent: string;
  /** Extra headers on every call (for example Cloudflare Access ids). */
  headers?: Record<string, string>;
}

export const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";

/** A protobuf message as a request body, or as an answer whose Content-Type was protobuf. */
export class ProtobufBody {
  constructor(readonly bytes: Uint8Array) {}
}

/** `https://host/base` + `/api/v1/x` → `https://host/base/api/v1/x` (the base keeps its path). */
function joinUrl(baseUrl: string, path: string): string {
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return new URL(path.replace(/^\/+/, ""), base).toString();
}

export class TinkerHttp {
  private credential: Credential;
  private empty400Left = EMPTY_400_BUDGET;

  constructor(private readonly options: TinkerHttpOptions) {
    this.credential = options.credential;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  setCredential(credential: Credential): void {
    this.credential = credential;
  }

  async get<T>(path: string, options: CallOptions = {}): Promise<T> {
    return this.call<T>("GET", path, undefined, options);
  }

  async post<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.call<T>("POST", path, body, options);
  }

  private async call<T>(method: "GET" | "POST", path: string, body: unknown, options: CallOptions): Promise<T> {
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    const idempotencyKey = `stainless-retry-${randomUUID()}`;
    for (let retry = 0; ; retry++) {
      try {
        return await this.once<T>(method, path, body, options, idempotencyKey, retry);
      } catch (error) {
        const retryable =
          error instanceof TinkerStatusError
            ? shouldRetryResponse(error.status, error.headers)
            : error instanceof TinkerConnectionError || error instanceof TinkerTimeoutError;
        if (!retryable || retry >= maxRetries) throw error;
        const hint = error instanceof TinkerStatusError ? parseRetryAfterSeconds(error.headers, Date.now()) : null;
        await this.options.timing.sleep(transportRetryDelayMs(retry, hint, this.options.timing.random()));
      }
    }
  }

  private async once<T>(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    options: CallOptions,
    idempotencyKey: string,
    retry: number,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const key = await (options.credential ?? this.credential).get();
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": this.options.userAgent,
      "X-API-Key": key,
      "x-stainless-retry-count": String(retry),
      ...this.options.headers,
      ...options.headers,
    };
    if (method !== "GET") {
      headers["Content-Type"] = body instanceof ProtobufBody ? PROTOBUF_CONTENT_TYPE : "application/json";
      headers["X-Idempotency-Key"] = idempotencyKey;
    }
    let response: Response;
    try {
      response = await fetch(joinUrl(this.options.baseUrl, path), {
        method,
        headers,
        body:
          method === "GET"
            ? undefined
            : body instanceof ProtobufBody
              ? Buffer.from(body.bytes)
              : JSON.stringify(body ?? {}),
        signal: AbortSignal.timeout(timeoutMs),
        // Next.js patches fetch with a data cache; answers from a training service must never be cached.
        cache: "no-store",
      });
    } catch (error) {
      if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
        throw new TinkerTimeoutError(path, timeoutMs);
      }
      throw new TinkerConnectionError(path, error);
    }
    if (response.ok && (response.headers.get("content-type") ?? "").startsWith(PROTOBUF_CONTENT_TYPE)) {
      return new ProtobufBody(new Uint8Array(await response.arrayBuffer())) as T;
    }
    const text = await response.text();
    if (response.status === 400 && text.length === 0 && this.empty400Left > 0) {
      this.empty400Left -= 1;
      throw new TinkerConnectionError(path, new Error("empty HTTP 400 from an edge proxy"));
    }
    const parsed = parseBody(text);
    if (!response.ok) {
      throw new TinkerStatusError(response.status, describeDetail(parsed, text), path, response.headers, parsed);
    }
    return parsed as T;
  }
}

function parseBody(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeDetail(parsed: unknown, text: string): string {
  if (parsed !== null && typeof parsed === "object") {
    const detail = (parsed as Record<string, unknown>).detail ?? (parsed as Record<string, unknown>).error;
    if (typeof detail === "string") return detail;
    if (detail !== undefined) return JSON.stringify(detail);
  }
  return text.slice(0, 500) || "(empty body)";
}
