import { describe, expect, it } from "vitest";
import { TinkerStatusError } from "./errors";
import {
  BillingPause,
  executeWithRetries,
  exponentialBackoffMs,
  parseRetryAfterSeconds,
  sampleRetryDelayMs,
  shouldRetryResponse,
  transportRetryDelayMs,
  type RetryTiming,
} from "./retry";

const status = (code: number, headers: Record<string, string> = {}) =>
  new TinkerStatusError(code, "x", "/p", new Headers(headers), null);

function clock(): RetryTiming & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0,
    now: () => now,
  };
}

describe("retry rules", () => {
  it("transport backoff doubles from 0.5 s, caps at 10 s, and jitters down by at most a quarter", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => transportRetryDelayMs(n, null, 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 10000, 10000,
    ]);
    expect(transportRetryDelayMs(0, null, 0.999)).toBeCloseTo(375.125, 3);
  });

  it("a retry-after hint between 0 and 60 s wins; outside that range it is ignored", () => {
    expect(transportRetryDelayMs(3, 2.5, 0)).toBe(2500);
    expect(transportRetryDelayMs(3, 61, 0)).toBe(4000);
    expect(transportRetryDelayMs(3, 0, 0)).toBe(4000);
  });

  it("retry-after-ms beats retry-after, and retry-after may be an HTTP date", () => {
    expect(parseRetryAfterSeconds(new Headers({ "retry-after-ms": "1500", "retry-after": "9" }), 0)).toBe(1.5);
    expect(parseRetryAfterSeconds(new Headers({ "retry-after": "9" }), 0)).toBe(9);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfterSeconds(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" }), now)).toBe(7);
    expect(parseRetryAfterSeconds(new Headers(), now)).toBeNull();
  });

  it("x-should-retry overrides the status rule", () => {
    expect(shouldRetryResponse(500, new Headers({ "x-should-retry": "false" }))).toBe(false);
    expect(shouldRetryResponse(400, new Headers({ "x-should-retry": "true" }))).toBe(true);
    expect([408, 409, 429, 500, 599, 400, 401, 404].map((s) => shouldRetryResponse(s, new Headers()))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it("operation and poll backoff is min(2^k, 30) s; sample re-runs stay within ±25% of 0.5·2^n, capped at 10 s", () => {
    expect([0, 1, 4, 5, 6, 40].map(exponentialBackoffMs)).toEqual([1000, 2000, 16000, 30000, 30000, 30000]);
    expect(sampleRetryDelayMs(0, 0)).toBe(375);
    expect(sampleRetryDelayMs(0, 1)).toBe(625);
    expect(sampleRetryDelayMs(10, 1)).toBe(10000);
  });

  it("executeWithRetries cuts its last wait so the total stays within 300 s, then rethrows", async () => {
    const t = clock();
    const failure = await executeWithRetries(
      () => Promise.reject(status(503)),
      t,
      new BillingPause(() => 3_600_000, t),
    ).catch((e) => e);
    expect(failure).toMatchObject({ status: 503 });
    expect(t.sleeps.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 16000, 30000]);
    expect(t.sleeps.reduce((a, b) => a + b, 0)).toBe(300_000);
  });

  it("a billing pause gives up once the window has passed", async () => {
    const t = clock();
    const failure = await executeWithRetries(
      () => Promise.reject(status(402)),
      t,
      new BillingPause(() => 20_000, t),
    ).catch((e) => e);
    expect(failure).toMatchObject({ status: 402 });
    expect(t.sleeps).toEqual([5000, 5000, 5000, 5000, 5000]); // 402s at 0, 5 … 20 s pause; the one at 25 s fails
  });
});
