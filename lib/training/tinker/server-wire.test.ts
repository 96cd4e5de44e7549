/**
 * What the protocol server reads and answers beyond the core calls, over real HTTP: Python's NaN
 * in a JSON body (SDK 0.24's json.dumps writes it bare), stop strings, the RestClient listings and
 * a checkpoint delete, telemetry; and the pieces they rest on (the tolerant JSON reader, the stop
 * string cut) on their own.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BIGRAM_MODEL, BigramBackend } from "./bigram-backend.fixture";
import { parseJsonWithNonFinite } from "./server-body";
import { createTinkerProtocolServer, type TinkerProtocolServerOptions } from "./server";
import { cutAtStopStrings, type TokenDecoder } from "./stop-strings";

const KEY = "tml-wire";
/** The bigram model's 8 tokens spelled a–h: a real tokenizer for that vocabulary. */
const LETTERS: TokenDecoder = { decode: (ids) => ids.map((id) => String.fromCharCode(97 + id)).join("") };

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function serve(options: TinkerProtocolServerOptions = {}) {
  const server: http.Server = createTinkerProtocolServer(new BigramBackend(), {
    apiKey: KEY,
    longPollMs: 2_000,
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanup.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const call = async (method: string, path: string, body?: unknown | string) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { "X-API-Key": KEY, "Content-Type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const result = async (submitted: { body: Record<string, unknown> }) =>
    (await call("POST", "/api/v1/retrieve_future", { request_id: submitted.body.request_id })).body;
  const session = (await call("POST", "/api/v1/create_session", {})).body.session_id as string;
  const created = await call("POST", "/api/v1/create_model", {
    session_id: session,
    model_seq_id: 0,
    base_model: BIGRAM_MODEL,
    lora_config: { rank: 2 },
  });
  const modelId = (await result(created)).model_id as string;
  return { call, result, session, modelId };
}

describe("the protocol server's wire", () => {
  it("reads Python's bare NaN in a JSON loss input and fails that request in the user category, naming it; the next request runs", async () => {
    const { call, result, modelId } = await serve();
    const datum =
      '{"model_input":{"chunks":[{"type":"encoded_text","tokens":[1,2]}]},"loss_fn_inputs":{"target_tokens":{"data":[2,3],"dtype":"int64"},"weights":{"data":[1.0, NaN],"dtype":"float32"}}}';
    const refused = await call(
      "POST",
      "/api/v1/forward_backward",
      `{"model_id":"${modelId}","seq_id":1,"forward_backward_input":{"data":[${datum}],"loss_fn":"cross_entropy"}}`,
    );
    expect(refused.status).toBe(200);
    expect(await result(refused)).toEqual({
      error: "datum 0: loss_fn_inputs.weights must hold finite numbers; got NaN at index 1",
      category: "user",
    });
    const next = await call("POST", "/api/v1/optim_step", {
      model_id: modelId,
      seq_id: 2,
      adam_params: { learning_rate: 0.01 },
    });
    expect(await result(next)).toMatchObject({ type: "optim_step" });
  });

  it("ends a sample after the token that completes a stop string, and refuses stop strings without the model's tokenizer", async () => {
    const withTokenizer = await serve({ decoderFor: async () => LETTERS });
    const sampler = await withTokenizer.call("POST", "/api/v1/create_sampling_session", {
      session_id: withTokenizer.session,
      sampling_session_seq_id: 0,
      base_model: BIGRAM_MODEL,
    });
    const id = sampler.body.sampling_session_id;
    const sample = async (stop: unknown, seq: number) =>
      withTokenizer.result(
        await withTokenizer.call("POST", "/api/v1/asample", {
          sampling_session_id: id,
          seq_id: seq,
          prompt: { chunks: [{ type: "encoded_text", tokens: [0] }] },
          sampling_params: { max_tokens: 12, temperature: 1, seed: 5, ...(stop ? { stop } : {}) },
        }),
      );
    const free = ((await sample(null, 0)).sequences as Array<{ tokens: number[] }>)[0]!.tokens;
    const text = LETTERS.decode(free);
    const stop = text.slice(2, 4); // a two-letter string the free sample contains
    const cut = ((await sample([stop], 1)).sequences as Array<{ tokens: number[]; stop_reason: string }>)[0]!;
    const end = text.indexOf(stop) + stop.length;
    expect(LETTERS.decode(cut.tokens)).toBe(text.slice(0, end));
    expect(cut.stop_reason).toBe("stop");

    const without = await serve();
    const bare = await without.call("POST", "/api/v1/create_sampling_session", {
      session_id: without.session,
      sampling_session_seq_id: 0,
      base_model: BIGRAM_MODEL,
    });
    const refused = await without.call("POST", "/api/v1/asample", {
      sampling_session_id: bare.body.sampling_session_id,
      seq_id: 0,
      prompt: { chunks: [{ type: "encoded_text", tokens: [0] }] },
      sampling_params: { max_tokens: 4, stop: "ab" },
    });
    expect(refused).toMatchObject({
      status: 400,
      body: { detail: expect.stringMatching(/stop strings need .*tokenizer/) },
    });
  });

  it("lists training runs and checkpoints page by page, and a deleted checkpoint no longer resolves", async () => {
    const { call, result, modelId } = await serve();
    for (const [seq, name] of [
      [1, "a"],
      [2, "b"],
    ] as const) {
      await result(await call("POST", "/api/v1/save_weights", { model_id: modelId, seq_id: seq, path: name }));
    }
    const runs = await call("GET", "/api/v1/training_runs?limit=1&offset=0");
    expect(runs.body).toMatchObject({
      training_runs: [{ training_run_id: modelId, base_model: BIGRAM_MODEL, lora_rank: 2 }],
      cursor: { offset: 0, limit: 1, total_count: 1 },
    });
    const listed = await call("GET", `/api/v1/training_runs/${modelId}/checkpoints`);
    const paths = (listed.body.checkpoints as Array<{ tinker_path: string; checkpoint_type: string }>).map(
      (c) => c.tinker_path,
    );
    expect(paths.sort()).toEqual([`tinker://${modelId}/weights/a`, `tinker://${modelId}/weights/b`]);
    const page = await call("GET", "/api/v1/checkpoints?limit=1&offset=1");
    expect(page.body).toMatchObject({ cursor: { offset: 1, limit: 1, total_count: 2 } });
    expect(page.body.checkpoints).toHaveLength(1);

    expect((await call("DELETE", `/api/v1/training_runs/${modelId}/checkpoints/weights/a`)).status).toBe(200);
    expect((await call("POST", "/api/v1/weights_info", { tinker_path: `tinker://${modelId}/weights/a` })).status).toBe(
      404,
    );
    const load = await call("POST", "/api/v1/load_weights", {
      model_id: modelId,
      seq_id: 3,
      path: `tinker://${modelId}/weights/a`,
    });
    expect(load.status).toBe(404);
    expect((await call("DELETE", `/api/v1/training_runs/${modelId}/checkpoints/weights/.hidden`)).status).toBe(400);
    expect((await call("GET", "/api/v1/training_runs?limit=-1")).status).toBe(400);
  });

  it("refuses with 415 a protobuf body where the SDK sends JSON, and a compressed body", async () => {
    const server = createTinkerProtocolServer(new BigramBackend(), { apiKey: KEY });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "X-API-Key": KEY, ...headers },
        body: new Uint8Array([10, 1, 109]),
      });
    const protobufOptim = await post("/api/v1/optim_step", { "Content-Type": "application/x-protobuf" });
    expect(protobufOptim.status).toBe(415);
    expect(await protobufOptim.json()).toEqual({ detail: "/api/v1/optim_step takes JSON, not application/x-protobuf" });
    const zstd = await post("/api/v1/forward_backward", {
      "Content-Type": "application/x-protobuf",
      "Content-Encoding": "zstd",
    });
    expect(zstd.status).toBe(415);
  });

  it("accepts telemetry and drops it", async () => {
    const { call } = await serve();
    expect(await call("POST", "/api/v1/telemetry", { events: [{ event: "x" }] })).toEqual({
      status: 200,
      body: { status: "accepted" },
    });
  });
});

describe("reading JSON with Python's non-finite numbers", () => {
  it("reads bare NaN, Infinity and -Infinity as numbers and leaves the same words inside strings alone", () => {
    const value = parseJsonWithNonFinite('{"a":[NaN, Infinity, -Infinity, 1],"s":"NaN and -Infinity \\" NaN"}') as {
      a: number[];
      s: string;
    };
    expect(value.a[0]).toBeNaN();
    expect(value.a.slice(1)).toEqual([Infinity, -Infinity, 1]);
    expect(value.s).toBe('NaN and -Infinity " NaN');
  });

  it("still refuses what is not JSON, with JSON.parse's own error", () => {
    expect(() => parseJsonWithNonFinite("{NaN: 1")).toThrow(SyntaxError);
    expect(() => parseJsonWithNonFinite("[Nonsense]")).toThrow(SyntaxError);
  });
});

describe("cutting a sample at a stop string", () => {
  const seq = { tokens: [0, 1, 2, 3, 4], logprobs: [-1, -2, -3, -4, -5], stopReason: "length" as const };

  it("keeps the tokens through the one that completes the string, with their log-probs", () => {
    expect(cutAtStopStrings(seq, ["zz", "cd"], LETTERS)).toEqual({
      tokens: [0, 1, 2, 3],
      logprobs: [-1, -2, -3, -4],
      stopReason: "stop",
    });
  });

  it("leaves a sample that never spells a stop string as it was", () => {
    expect(cutAtStopStrings(seq, ["ba"], LETTERS)).toBe(seq);
  });
});
