/**
 * The Python SDK's retry rules as pure delay functions plus the operation-level wrapper
 * (`executeWithRetries`). Time is injected through `RetryTiming` so tests record every requested
 * delay and run instantly; the defaults are real time and equal the SDK's constants
 * (tinker-api.md §1, §3, §5.1).
 */
import { TinkerConnectionError, TinkerPromiseExpiredError, TinkerStatusError, TinkerTimeoutError } from "./errors";

export interface RetryTiming {
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1), for jitter. */
  random(): number;
  /** Milliseconds, monotonic enough for elapsed-time budgets. */
  now(): number;
}

export const realTiming: RetryTiming = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: () => performance.now(),
};

/** Transport level: the generated HTTP client retries these statuses (plus connection errors). */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** `x-should-retry: true|false` overrides the status rule. */
export function shouldRetryResponse(status: number, headers: Headers): boolean {
  const override = headers.get("x-should-retry");
  if (override === "true") return true;
  if (override === "false") return false;
  return isRetryableStatus(status);
}

/** Seconds the server asked us to wait (`retry-after-ms`, then `retry-after` seconds or date). */
export function parseRetryAfterSeconds(headers: Headers, nowEpochMs: number): number | null {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Number(ms) / 1000;
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return null;
  if (Number.isFinite(Number(value))) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : (date - nowEpochMs) / 1000;
}

/** Transport retry n (0-based): the server's hint if 0 < d ≤ 60 s, else min(0.5·2^n, 10) s × (0.75, 1]. */
export function transportRetryDelayMs(retryIndex: number, retryAfterSeconds: number | null, random: number): number {
  if (retryAfterSeconds !== null && retryAfterSeconds > 0 && retryAfterSeconds <= 60) return retryAfterSeconds * 1000;
  const base = Math.min(0.5 * 2 ** Math.min(retryIndex, 1000), 10);
  return base * (1 - 0.25 * random) * 1000;
}

/** Operation-level backoff k (0-based): min(2^k, 30) s; the same shape polls use for 429/connection errors. */
export function exponentialBackoffMs(k: number): number {
  return Math.min(2 ** Math.min(k, 30), 30) * 1000;
}

/** Whole-sample re-runs: 0.5·2^n s capped at 10 s with ±25% jitter, never above the cap. */
export function sampleRetryDelayMs(attempt: number, random: number): number {
  const delay = Math.min(0.5 * 2 ** Math.min(attempt, 1000), 10);
  const jitter = delay * 0.25 * (2 * random - 1);
  return Math.max(0, Math.min(delay + jitter, 10)) * 1000;
}

/** Errors the operation wrapper retries: timeouts, connection errors, 408/409/429/5xx. */
function isRetryableError(error: unknown): boolean {
  if (error instanceof TinkerTimeoutError || error instanceof TinkerConnectionError) return true;
  return error instanceof TinkerStatusError && isRetryableStatus(error.status);
}

/** The sampling wrapper also re-runs a sample whose promise expired (HTTP 410). */
export function isRetryableSampleError(error: unknown): boolean {
  return error instanceof TinkerPromiseExpiredError || isRetryableError(error);
}

export const OPERATION_RETRY_BUDGET_MS = 300_000;
export const BILLING_PAUSE_STEP_MS = 5_000;

/** Tracks one billing incident (HTTP 402): pause silently until the configured window has passed. */
export class BillingPause {
  private firstSeenMs: number | null = null;
  constructor(
    private readonly maxPauseMs: () => number,
    private readonly timing: RetryTiming,
  ) {}

  /** True while a 402 should be slept through; false once the window is exceeded. */
  shouldPause(error: unknown): boolean {
    if (!(error instanceof TinkerStatusError) || error.status !== 402) return false;
    const now = this.timing.now();
    if (this.firstSeenMs === null) this.firstSeenMs = now;
    return now - this.firstSeenMs <= this.maxPauseMs();
  }

  reset(): void {
    this.firstSeenMs = null;
  }
}

/**
 * The SDK's `execute_with_retries`: retry retryable errors with min(2^k, 30) s backoff until
 * 300 s have passed since the first attempt (the last wait is cut to fit), pause on 402.
 */
export async function executeWithRetries<T>(
  fn: () => Promise<T>,
  timing: RetryTiming,
  billing: BillingPause,
): Promise<T> {
  const start = timing.now();
  let attempt = 0;
  for (;;) {
    try {
      const result = await fn();
      billing.reset();
      return result;
    } catch (error) {
      if (billing.shouldPause(error)) {
        await timing.sleep(BILLING_PAUSE_STEP_MS);
        continue;
      }
      const elapsed = timing.now() - start;
      if (!isRetryableError(error) || elapsed >= OPERATION_RETRY_BUDGET_MS) throw error;
      const wait = Math.min(exponentialBackoffMs(attempt), start + OPERATION_RETRY_BUDGET_MS - timing.now());
      attempt += 1;
      await timing.sleep(wait);
    }
  }
}
