/**
 * The client against a scripted server that misbehaves on purpose: every retry, resend and
 * give-up path of the SDK's rules, with the backoff delays recorded through the injected sleep.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createTinkerBackend, tinkerOptionsFromEnv, type TinkerBackend } from "./client";
import { TinkerPromiseExpiredError, TinkerRequestFailedError, TinkerStatusError } from "./errors";
import { TinkerHttp, staticCredential } from "./http";
import type { RetryTiming } from "./retry";
import { forwardBackwardBodyFromProto } from "./proto/convert";

type Reply = { status?: number; body?: unknown; headers?: Record<string, string>; drop?: boolean; hang?: boolean };
type Handler = (body: Record<string, unknown>) => Reply | Promise<Reply>;

interface Seen {
  path: string;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

/** A server answering each path from a script; paths not scripted get a sensible default. */
async function scriptedServer(script: Record<string, Handler>) {
  const seen: Seen[] = [];
  let next = 0;
  const defaults: Record<string, Handler> = {
    "/api/v1/client/config": () => ({ body: {} }),
    "/api/v1/create_session": () => ({ body: { type: "create_session", session_id: "s1" } }),
    "/api/v1/session_heartbeat": () => ({ body: { type: "session_heartbeat" } }),
    "/api/v1/get_server_capabilities": () => ({ body: { supported_models: [{ model_name: "m" }] } }),
    "/api/v1/create_model": () => ({ body: { request_id: "create", model_id: "s1:train:0" } }),
    "/api/v1/create_sampling_session": () => ({ body: { sampling_session_id: "s1:sample:0" } }),
    "/api/v1/forward_backward": () => ({ body: { request_id: `fb-${++next}` } }),
    "/api/v1/optim_step": () => ({ body: { request_id: `opt-${++next}` } }),
    "/api/v1/asample": () => ({ body: { request_id: `sample-${++next}` } }),
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    // forward_backward comes as protobuf (as SDK 0.25 sends it); read it into its JSON shape.
    const protobuf = req.headers["content-type"] === "application/x-protobuf";
    const text = bytes.toString();
    const body = protobuf
      ? (forwardBackwardBodyFromProto(bytes) as unknown as Record<string, unknown>)
      : text
        ? (JSON.parse(text) as Record<string, unknown>)
        : {};
    const path = req.url ?? "";
    seen.push({ path, body, headers: req.headers });
    const handler = script[path] ?? defaults[path] ?? (() => ({ status: 404, body: { detail: "no route" } }));
    const reply = await handler(body);
    if (reply.drop) return void req.socket.destroy();
    if (reply.hang) return; // never answered; close() cuts the connection
    res.writeHead(reply.status ?? 200, { "Content-Type": "application/json", ...reply.headers });
    res.end(JSON.stringify(reply.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return { url, seen, close, calls: (path: string) => seen.filter((s) => s.path === path) };
}

/** Sleeps return at once and advance a fake clock; jitter is fixed at random() = 0.5. */
function fakeTiming(): { timing: RetryTiming; sleeps: number[] } {
  const sleeps: number[] = [];
  let now = 0;
  return {
    sleeps,
    timing: {
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      random: () => 0.5,
      now: () => now,
    },
  };
}

/** A poll script: one reply per poll, in order; the last one repeats. */
function polls(...replies: Reply[]): Handler {
  let i = 0;
  return () => replies[Math.min(i++, replies.length - 1)];
}

const RESULT_FB = {
  loss_fn_output_type: "ArrayRecord",
  loss_fn_outputs: [{ logprobs: { data: [-1], dtype: "float32" } }],
  metrics: { "loss:sum": 1 },
};
const DATUM = { modelInput: [1], lossFnInputs: { targetTokens: [2], weights: [1] } };
const CREATED = { body: { model_id: "s1:train:0", type: "create_model" } };

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(script: Record<string, Handler>) {
  const server = await scriptedServer(script);
  const { timing, sleeps } = fakeTiming();
  const backend: TinkerBackend = createTinkerBackend({
    apiKey: "tml-test",
    baseUrl: server.url,
    timing,
    log: () => {},
  });
  cleanup.push(server.close, () => backend.close());
  return { server, backend, sleeps };
}

/** Routes create_model's future to `created` and everything else to `rest`. */
function byRequest(rest: Handler): Handler {
  return (body) => (body.request_id === "create" ? CREATED : rest(body));
}

describe("polling a future", () => {
  it("try_again, 408 and 5xx answers are re-polled at once until the result arrives", async () => {
    const { server, backend, sleeps } = await setup({
      "/api/v1/retrieve_future": byRequest(
        polls(
          { body: { type: "try_again", request_id: "fb-1", queue_state: "active" } },
          { status: 408, body: { queue_state: "paused_capacity" } },
          { status: 503, body: { detail: "busy" } },
          { body: RESULT_FB },
        ),
      ),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    const result = await client.forwardBackward([DATUM], "cross_entropy");
    expect(result).toEqual({ lossFnOutputs: [{ logprobs: [-1] }], metrics: { "loss:sum": 1 } });
    const fbPolls = server.calls("/api/v1/retrieve_future").filter((c) => c.body.request_id === "fb-1");
    expect(fbPolls.map((c) => c.headers["x-tinker-request-iteration"])).toEqual(["0", "1", "2", "3"]);
    expect(fbPolls.every((c) => c.headers["x-tinker-request-type"] === "ForwardBackward")).toBe(true);
    expect(sleeps).toEqual([]);
  });

  it("429 while polling backs off 1 s, 2 s, and the exponent resets after any other HTTP answer", async () => {
    const { backend, sleeps } = await setup({
      "/api/v1/retrieve_future": byRequest(
        polls({ status: 429 }, { status: 429 }, { status: 500 }, { status: 429 }, { body: RESULT_FB }),
      ),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    await client.forwardBackward([DATUM], "cross_entropy");
    expect(sleeps).toEqual([1000, 2000, 1000]);
  });

  it("connection errors while polling back off min(2^k, 30) s", async () => {
    const { backend, sleeps } = await setup({
      "/api/v1/retrieve_future": byRequest(polls({ drop: true }, { drop: true }, { drop: true }, { body: RESULT_FB })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    await client.forwardBackward([DATUM], "cross_entropy");
    expect(sleeps).toEqual([1000, 2000, 4000]);
  });

  it("a 400 while polling is retried at most 3 times, then fails", async () => {
    const { server, backend, sleeps } = await setup({
      "/api/v1/retrieve_future": byRequest(polls({ status: 400, body: { detail: "proxy glitch" } })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    const failure = await client.forwardBackward([DATUM], "cross_entropy").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TinkerStatusError);
    expect((failure as TinkerStatusError).status).toBe(400);
    expect(server.calls("/api/v1/retrieve_future").filter((c) => c.body.request_id === "fb-1")).toHaveLength(4);
    expect(sleeps).toEqual([]);
  });

  it("three 400s then a result still succeeds", async () => {
    const bad = { status: 400, body: { detail: "proxy glitch" } };
    const { backend } = await setup({
      "/api/v1/retrieve_future": byRequest(polls(bad, bad, bad, { body: RESULT_FB })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    expect((await client.forwardBackward([DATUM], "cross_entropy")).metrics).toEqual({ "loss:sum": 1 });
  });

  it("a user-category future error is terminal: no re-poll, no resubmit", async () => {
    const { server, backend } = await setup({
      "/api/v1/retrieve_future": byRequest(polls({ body: { error: "NonFiniteInTensor: weights", category: "user" } })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    const failure = await client.forwardBackward([DATUM], "cross_entropy").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TinkerRequestFailedError);
    expect(failure).toMatchObject({ requestId: "fb-1", category: "user", serverMessage: "NonFiniteInTensor: weights" });
    expect(server.calls("/api/v1/forward_backward")).toHaveLength(1);
    expect(server.calls("/api/v1/retrieve_future").filter((c) => c.body.request_id === "fb-1")).toHaveLength(1);
  });

  it("410 on a training future is surfaced, not resubmitted: re-running a seq_id is the SDK's call to avoid", async () => {
    const { server, backend } = await setup({
      "/api/v1/retrieve_future": byRequest(polls({ status: 410, body: { detail: "gone" } })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    await expect(client.forwardBackward([DATUM], "cross_entropy")).rejects.toBeInstanceOf(TinkerPromiseExpiredError);
    expect(server.calls("/api/v1/forward_backward")).toHaveLength(1);
  });

  it("a 401 while polling is fatal at once", async () => {
    const { server, backend } = await setup({
      "/api/v1/retrieve_future": byRequest(polls({ status: 401, body: { detail: "Invalid JWT" } })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    await expect(client.forwardBackward([DATUM], "cross_entropy")).rejects.toMatchObject({ status: 401 });
    expect(server.calls("/api/v1/retrieve_future").filter((c) => c.body.request_id === "fb-1")).toHaveLength(1);
  });
});

describe("sampling", () => {
  const SAMPLE = { body: { type: "sample", sequences: [{ stop_reason: "length", tokens: [3], logprobs: [-0.5] }] } };

  it("410 while polling re-sends the sample with a fresh seq_id and polls the new request id", async () => {
    const { server, backend, sleeps } = await setup({
      "/api/v1/retrieve_future": (body) =>
        body.request_id === "sample-1" ? { status: 410, body: { detail: "expired" } } : SAMPLE,
    });
    const sampler = await backend.createSamplingClient({ baseModel: "m" });
    const result = await sampler.sample([1, 2], { maxTokens: 1, temperature: 1 });
    expect(result.sequences).toEqual([{ tokens: [3], logprobs: [-0.5], stopReason: "length" }]);
    expect(server.calls("/api/v1/asample").map((c) => c.body.seq_id)).toEqual([0, 1]);
    expect(server.calls("/api/v1/retrieve_future").map((c) => c.body.request_id)).toEqual(["sample-1", "sample-2"]);
    expect(sleeps).toEqual([500]); // 0.5 s · 2^0, jitter 0 at random() = 0.5
  });

  it("429 on a sample submit is backpressure: wait 1 s and resubmit the same seq_id", async () => {
    const { server, backend, sleeps } = await setup({
      "/api/v1/asample": polls({ status: 429 }, { status: 429 }, { body: { request_id: "sample-x" } }),
      "/api/v1/retrieve_future": () => SAMPLE,
    });
    const sampler = await backend.createSamplingClient({ baseModel: "m" });
    await sampler.sample([1], { maxTokens: 1, temperature: 0 });
    const submits = server.calls("/api/v1/asample");
    expect(submits.map((c) => c.body.seq_id)).toEqual([0, 0, 0]);
    expect(submits.every((c) => c.headers["x-tinker-sampling-backpressure"] === "1")).toBe(true);
    expect(sleeps).toEqual([1000, 1000]);
  });

  it("computeLogprobs is a one-token sample asking for prompt log-probs", async () => {
    const { server, backend } = await setup({
      "/api/v1/retrieve_future": () => ({ body: { ...SAMPLE.body, prompt_logprobs: [null, -1.5, -0.25] } }),
    });
    const sampler = await backend.createSamplingClient({ baseModel: "m" });
    expect(await sampler.computeLogprobs([5, 6, 7])).toEqual([null, -1.5, -0.25]);
    expect(server.calls("/api/v1/asample")[0].body).toMatchObject({
      num_samples: 1,
      prompt: { chunks: [{ type: "encoded_text", tokens: [5, 6, 7] }] },
      sampling_params: { max_tokens: 1, temperature: 1, top_k: -1, top_p: 1 },
      prompt_logprobs: true,
    });
  });
});

describe("direct calls and submits", () => {
  it("429 with retry-after waits what the server asked, then retries", async () => {
    const { backend, sleeps } = await setup({
      "/api/v1/create_session": polls(
        { status: 429, headers: { "retry-after": "3" } },
        { status: 429, headers: { "retry-after-ms": "250" } },
        { body: { session_id: "s1" } },
      ),
    });
    await backend.connect();
    expect(sleeps).toEqual([3000, 250]);
  });

  it("500s are retried at the transport level with 0.5·2^n s backoff and jitter", async () => {
    const { backend, sleeps } = await setup({
      "/api/v1/create_session": polls(
        { status: 500 },
        { status: 502 },
        { status: 503 },
        { body: { session_id: "s1" } },
      ),
    });
    await backend.connect();
    expect(sleeps).toEqual([437.5, 875, 1750]); // min(0.5·2^n, 10) s × (1 − 0.25·0.5)
  });

  it("a submit that keeps failing with 503 gives up once the 300 s operation budget is spent", async () => {
    const { server, backend, sleeps } = await setup({
      "/api/v1/create_model": () => ({ status: 503, body: { detail: "down" } }),
    });
    await expect(backend.createTrainingClient({ baseModel: "m", rank: 4 })).rejects.toMatchObject({ status: 503 });
    const attempts = server.calls("/api/v1/create_model").length;
    expect(attempts % 11).toBe(0); // each operation attempt = 1 try + 10 transport retries
    const transportSleeps = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => Math.min(0.5 * 2 ** n, 10) * 875);
    expect(sleeps.slice(0, 11)).toEqual([...transportSleeps, 1000]); // then the operation backs off 1 s
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(300_000);
  });

  it("401 is not retried at any level", async () => {
    const { server, backend, sleeps } = await setup({
      "/api/v1/create_session": () => ({ status: 401, body: { detail: "Invalid API key" } }),
    });
    await expect(backend.connect()).rejects.toMatchObject({ status: 401, detail: "Invalid API key" });
    expect(server.calls("/api/v1/create_session")).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("402 on a submit pauses 5 s at a time until billing resumes", async () => {
    const { backend, sleeps } = await setup({
      "/api/v1/create_session": polls(
        { status: 402, body: { detail: "billing" } },
        { status: 402 },
        { body: { session_id: "s1" } },
      ),
    });
    await backend.connect();
    expect(sleeps).toEqual([5000, 5000]);
  });

  it("a training submit that fails for good blocks later requests instead of leaving a seq_id gap", async () => {
    const { server, backend } = await setup({
      "/api/v1/forward_backward": () => ({ status: 422, body: { detail: "bad datum" } }),
      "/api/v1/retrieve_future": byRequest(() => ({ body: { metrics: {} } })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    const fb = client.forwardBackward([DATUM], "cross_entropy");
    const step = client.optimStep({ learningRate: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    await expect(fb).rejects.toMatchObject({ status: 422 });
    await expect(step).rejects.toThrow(/seq_id 1 could not be submitted/);
    expect(server.calls("/api/v1/optim_step")).toHaveLength(0);
  });

  it("training requests issued together are submitted in seq_id order", async () => {
    let releaseFirst = () => {};
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const { server, backend } = await setup({
      "/api/v1/forward_backward": async () => {
        setTimeout(releaseFirst, 20);
        await firstHeld;
        return { body: { request_id: "fb-1" } };
      },
      "/api/v1/optim_step": () => ({ body: { request_id: "opt-2" } }),
      "/api/v1/retrieve_future": byRequest((b) => ({
        body: b.request_id === "fb-1" ? RESULT_FB : { metrics: { "step:max": 1 } },
      })),
    });
    const client = await backend.createTrainingClient({ baseModel: "m", rank: 4 });
    const [, step] = await Promise.all([
      client.forwardBackward([DATUM], "cross_entropy"),
      client.optimStep({ learningRate: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8 }),
    ]);
    expect(step.metrics).toEqual({ "step:max": 1 });
    const order = server.seen.filter((s) => s.path === "/api/v1/forward_backward" || s.path === "/api/v1/optim_step");
    expect(order.map((s) => [s.path, s.body.seq_id])).toEqual([
      ["/api/v1/forward_backward", 1],
      ["/api/v1/optim_step", 2],
    ]);
  });
});

describe("transport", () => {
  it("a response slower than the call's timeout is retried like a connection error", async () => {
    const server = await scriptedServer({ "/api/v1/slow": polls({ hang: true }, { body: { ok: true } }) });
    cleanup.push(server.close);
    const { timing, sleeps } = fakeTiming();
    const http = new TinkerHttp({
      baseUrl: `${server.url}/`,
      credential: staticCredential("k"),
      timing,
      userAgent: "t",
    });
    expect(await http.post("/api/v1/slow", {}, { timeoutMs: 50, maxRetries: 1 })).toEqual({ ok: true });
    expect(server.calls("/api/v1/slow")).toHaveLength(2);
    expect(sleeps).toEqual([437.5]);
  });

  it("the base URL keeps its path and the SDK's environment variables become options", () => {
    expect(
      tinkerOptionsFromEnv({
        TINKER_API_KEY: "tml-x",
        TINKER_BASE_URL: "http://h:1/svc",
        TINKER_TAGS: "a,b",
        CLOUDFLARE_ACCESS_CLIENT_ID: "id",
      }),
    ).toEqual({
      apiKey: "tml-x",
      baseUrl: "http://h:1/svc",
      tags: ["a", "b"],
      headers: { "CF-Access-Client-Id": "id" },
    });
  });
});

describe("session", () => {
  it("heartbeats run on an unref'd timer and stop at close", async () => {
    const server = await scriptedServer({});
    cleanup.push(server.close);
    const backend = createTinkerBackend({ apiKey: "k", baseUrl: server.url, heartbeatIntervalMs: 10, log: () => {} });
    const session = await backend.connect();
    while (server.calls("/api/v1/session_heartbeat").length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(server.calls("/api/v1/session_heartbeat")[0].body).toEqual({ session_id: "s1", type: "session_heartbeat" });
    await backend.close();
    expect(session.heartbeatRunning).toBe(false);
    const beats = server.calls("/api/v1/session_heartbeat").length;
    await new Promise((r) => setTimeout(r, 50));
    expect(server.calls("/api/v1/session_heartbeat").length).toBeLessThanOrEqual(beats + 1); // at most one already in flight
  });

  it("the API key travels in X-API-Key with a fresh idempotency key per call", async () => {
    const { server, backend } = await setup({});
    await backend.connect();
    const [config, create] = server.seen;
    expect(config.headers["x-api-key"]).toBe("tml-test");
    expect(create.headers["x-api-key"]).toBe("tml-test");
    expect(config.headers["x-idempotency-key"]).not.toBe(create.headers["x-idempotency-key"]);
    expect(create.body).toMatchObject({ tags: [], user_metadata: {}, type: "create_session" });
  });
});
