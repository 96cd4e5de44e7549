/**
 * Client ↔ createTinkerProtocolServer over a real (tiny) backend: every number that crosses the
 * protocol is checked against the same backend driven in-process, and the protocol's rules
 * (seq_id order, sampling seq ids, ephemeral samplers, checkpoints, capabilities, JWT) are
 * checked on the wire. Everything runs twice: with the server speaking protobuf where SDK 0.25
 * does (the client's first choice), and with a server that reads only JSON (the client falls back).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AdamParams, Datum, ForwardBackwardResult, SampleResult, TrainingBackend } from "../types";
import { BIGRAM_MODEL, BigramBackend } from "./bigram-backend.fixture";
import { createTinkerBackend } from "./client";
import { TinkerStatusError } from "./errors";
import type { RetryTiming } from "./retry";
import { createTinkerProtocolServer, type TinkerProtocolServerOptions } from "./server";

const ADAM: AdamParams = { learningRate: 0.05, beta1: 0.9, beta2: 0.95, eps: 1e-8 };
const SEQUENCE = [0, 3, 5, 3, 5, 3, 1, 2];
const DATUM: Datum = {
  modelInput: SEQUENCE.slice(0, -1),
  lossFnInputs: { targetTokens: SEQUENCE.slice(1), weights: [0, 0, 1, 1, 1, 1, 1] },
};

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

interface Logged {
  path: string;
  body: Record<string, unknown>;
}

/** The two ways the server can speak; each test runs under both. */
const FORMS = [
  { form: "protobuf", protobuf: true },
  { form: "JSON only", protobuf: false },
] as const;
let protobuf = true;

/** A float as it crosses the wire: float32 bytes in protobuf (as Tinker sends it), a double in JSON. */
const onWire = (values: ReadonlyArray<number | null>) =>
  values.map((v) => (v === null || !protobuf ? v : Math.fround(v)));
const forwardBackwardOnWire = (r: ForwardBackwardResult) => ({
  ...r,
  lossFnOutputs: r.lossFnOutputs.map((o) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, onWire(Array.from(v))])),
  ),
});
const sampleOnWire = (r: SampleResult) => ({
  sequences: r.sequences.map((seq) => ({ ...seq, logprobs: onWire(seq.logprobs) })),
});

async function serve(options: TinkerProtocolServerOptions = {}, backend = new BigramBackend()) {
  const log: Logged[] = [];
  const server: http.Server = createTinkerProtocolServer(backend, {
    longPollMs: 20,
    protobuf,
    ...options,
    onRequest: (path, body) => log.push({ path, body: body as Record<string, unknown> }),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanup.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { url, log, backend, bodies: (path: string) => log.filter((l) => l.path === path).map((l) => l.body) };
}

function client(url: string, apiKey = "secret", timing?: Partial<RetryTiming>) {
  const backend = createTinkerBackend({ apiKey, baseUrl: url, timing, log: () => {} });
  cleanup.push(() => backend.close());
  return backend;
}

/** The same operations on any backend, returning every number they produce. */
async function trainTwoSteps(backend: TrainingBackend) {
  const trainer = await backend.createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2, seed: 3 });
  const first = await trainer.forwardBackward([DATUM], "cross_entropy");
  await trainer.optimStep(ADAM);
  const second = await trainer.forwardBackward([DATUM], "cross_entropy");
  await trainer.optimStep(ADAM);
  const sampler = await trainer.saveWeightsForSampler();
  return { trainer, sampler, first, second, after: await sampler.computeLogprobs(SEQUENCE) };
}

/** Forwards to `target`, noting each request's and answer's Content-Type, to see which encoding was spoken. */
async function contentTypeTap(target: string) {
  const seen: Array<{ path: string; sent: string; answered: string }> = [];
  const tap = http.createServer((req, res) => {
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      seen.push({
        path: req.url ?? "",
        sent: String(req.headers["content-type"] ?? ""),
        answered: String(answer.headers["content-type"] ?? ""),
      });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => tap.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise<void>((resolve) => (tap.closeAllConnections(), tap.close(() => resolve()))));
  return { url: `http://127.0.0.1:${(tap.address() as AddressInfo).port}`, seen };
}

describe.each(FORMS)("a Tinker client against the protocol server ($form)", (form) => {
  protobuf = form.protobuf;
  beforeEach(() => {
    protobuf = form.protobuf;
  });

  it("sends forward_backward and reads its result and a sample's in the server's encoding", async () => {
    const { url } = await serve();
    const tap = await contentTypeTap(url);
    const trainer = await client(tap.url).createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2 });
    await trainer.forwardBackward([DATUM], "cross_entropy");
    await trainer.forward!([DATUM], "cross_entropy");
    await (await trainer.saveWeightsForSampler()).sample([1], { maxTokens: 2, temperature: 1 });
    const types = (path: string, side: "sent" | "answered") => [
      ...new Set(tap.seen.filter((s) => s.path === path).map((s) => s[side])),
    ];
    if (form.protobuf) {
      expect(types("/api/v1/forward_backward", "sent")).toEqual(["application/x-protobuf"]);
      expect(types("/api/v1/retrieve_future", "answered")).toContain("application/x-protobuf");
    } else {
      // The first protobuf submit is refused (415); it and every later one go as JSON.
      expect(types("/api/v1/forward_backward", "sent")).toEqual(["application/x-protobuf", "application/json"]);
      expect(
        tap.seen.filter((s) => s.path === "/api/v1/forward_backward" && s.sent === "application/x-protobuf"),
      ).toHaveLength(1);
      expect(types("/api/v1/forward", "sent")).toEqual(["application/json"]);
      expect(types("/api/v1/retrieve_future", "answered")).toEqual(["application/json"]);
    }
  });

  it("forward gives forward_backward's outputs and leaves no gradient for the next step", async () => {
    const { url } = await serve();
    const backend = client(url);
    const [withForward, without] = await Promise.all(
      [1, 2].map(() => backend.createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2, seed: 3 })),
    );
    const forwarded = await withForward!.forward!([DATUM], "cross_entropy");
    expect(forwarded.lossFnOutputs).toEqual((await without!.forwardBackward([DATUM], "cross_entropy")).lossFnOutputs);
    await withForward!.forwardBackward([DATUM], "cross_entropy");
    await Promise.all([withForward!.optimStep(ADAM), without!.optimStep(ADAM)]);
    const logprobsOf = async (t: typeof without) => (await t!.saveWeightsForSampler()).computeLogprobs(SEQUENCE);
    expect(await logprobsOf(withForward)).toEqual(await logprobsOf(without));
  });

  it("trains to the same numbers as the backend in-process, and the loss falls", async () => {
    const { url } = await serve({ apiKey: "secret" });
    const remote = await trainTwoSteps(client(url));
    const local = await trainTwoSteps(new BigramBackend());
    expect(remote.first).toEqual(forwardBackwardOnWire(local.first));
    expect(remote.second).toEqual(forwardBackwardOnWire(local.second));
    expect(remote.after).toEqual(onWire(local.after));
    expect(remote.second.metrics["loss:sum"]).toBeLessThan(remote.first.metrics["loss:sum"]);
    expect(remote.first.lossFnOutputs[0].logprobs).toHaveLength(DATUM.modelInput.length);
  });

  it("importance_sampling round-trips its inputs; KL losses and clipRatio are refused before sending", async () => {
    const { url, bodies } = await serve();
    const backend = client(url);
    const trainer = await backend.createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2 });
    const datum: Datum = {
      modelInput: [1, 2, 3],
      lossFnInputs: { targetTokens: [2, 3, 4], logprobs: [-2, -2, -2], advantages: [0, 1, -1], weights: [9, 9, 9] },
    };
    const local = await (
      await new BigramBackend().createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2 })
    ).forwardBackward([datum], "importance_sampling");
    expect(await trainer.forwardBackward([datum], "importance_sampling")).toEqual(forwardBackwardOnWire(local));
    const sent = bodies("/api/v1/forward_backward")[0] as {
      forward_backward_input: { data: Array<{ loss_fn_inputs: object }> };
    };
    expect(Object.keys(sent.forward_backward_input.data[0].loss_fn_inputs).sort()).toEqual([
      "advantages",
      "logprobs",
      "target_tokens",
    ]);
    await expect(trainer.forwardBackward([datum], "reverse_kl")).rejects.toThrow(/only on the embedded backend/);
    await expect(trainer.forwardBackward([datum], "importance_sampling", { clipRatio: 2 })).rejects.toThrow(
      /clipRatio/,
    );
    expect(bodies("/api/v1/forward_backward")).toHaveLength(1);
  });

  it("training requests carry seq_ids 1, 2, 3 … per model, with create_model taking none", async () => {
    const { url, bodies } = await serve();
    const backend = client(url);
    const a = await backend.createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2 });
    const b = await backend.createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2 });
    await Promise.all([
      a.forwardBackward([DATUM], "cross_entropy"),
      a.optimStep(ADAM),
      b.forwardBackward([DATUM], "cross_entropy"),
    ]);
    await a.saveState("x");
    expect(bodies("/api/v1/create_model").map((m) => m.model_seq_id)).toEqual([0, 1]);
    const seqs = (model: string) =>
      ["/api/v1/forward_backward", "/api/v1/optim_step", "/api/v1/save_weights"].flatMap((p) =>
        bodies(p)
          .filter((x) => x.model_id === model)
          .map((x) => x.seq_id),
      );
    const [idA, idB] = bodies("/api/v1/create_model").map((m) => `${m.session_id}:train:${m.model_seq_id}`);
    expect(seqs(idA).sort()).toEqual([1, 2, 3]);
    expect(seqs(idB)).toEqual([1]);
  });

  it("the server holds a request until the missing smaller seq_id arrives", async () => {
    const { url } = await serve();
    const post = async (path: string, body: object) =>
      (
        await fetch(`${url}${path}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json();
    const { session_id } = await post("/api/v1/create_session", {
      tags: [],
      user_metadata: {},
      sdk_version: "t",
      type: "create_session",
    });
    const created = await post("/api/v1/create_model", {
      session_id,
      model_seq_id: 0,
      base_model: BIGRAM_MODEL,
      lora_config: { rank: 2 },
    });
    expect(await post("/api/v1/retrieve_future", { request_id: created.request_id })).toEqual({
      type: "create_model",
      model_id: `${session_id}:train:0`,
    });
    const step = await post("/api/v1/optim_step", {
      model_id: created.model_id,
      seq_id: 2,
      adam_params: { learning_rate: 0.05 },
    });
    expect(await post("/api/v1/retrieve_future", { request_id: step.request_id })).toMatchObject({ type: "try_again" });
    const wireDatum = {
      model_input: { chunks: [{ type: "encoded_text", tokens: [0, 3] }] },
      loss_fn_inputs: { target_tokens: { data: [3, 5], dtype: "int64" } },
    };
    const fb = await post("/api/v1/forward_backward", {
      model_id: created.model_id,
      seq_id: 1,
      forward_backward_input: { data: [wireDatum], loss_fn: "cross_entropy" },
    });
    expect(await post("/api/v1/retrieve_future", { request_id: fb.request_id })).toMatchObject({
      metrics: { "loss:sum": expect.any(Number) },
    });
    expect(await post("/api/v1/retrieve_future", { request_id: step.request_id })).toEqual({
      type: "optim_step",
      metrics: { "step:max": 1 },
    });
    const again = await post("/api/v1/optim_step", { model_id: created.model_id, seq_id: 2, adam_params: {} });
    expect(await post("/api/v1/retrieve_future", { request_id: again.request_id })).toEqual({
      type: "optim_step",
      metrics: { "step:max": 1 },
    });
    // A resubmitted create_model names the same model: its optimizer state carries on.
    const recreated = await post("/api/v1/create_model", {
      session_id,
      model_seq_id: 0,
      base_model: BIGRAM_MODEL,
      lora_config: { rank: 2 },
    });
    expect(await post("/api/v1/retrieve_future", { request_id: recreated.request_id })).toEqual({
      type: "create_model",
      model_id: created.model_id,
    });
    const third = await post("/api/v1/optim_step", { model_id: created.model_id, seq_id: 3, adam_params: {} });
    expect(await post("/api/v1/retrieve_future", { request_id: third.request_id })).toEqual({
      type: "optim_step",
      metrics: { "step:max": 2 },
    });
  });

  it("a sampling session numbers its requests 0, 1, 2 and the ephemeral save consumes the session's sampling counter", async () => {
    const { url, bodies } = await serve();
    const backend = client(url);
    const base = await backend.createSamplingClient({ baseModel: BIGRAM_MODEL });
    const trainer = await backend.createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2 });
    const ephemeral = await trainer.saveWeightsForSampler();
    expect(ephemeral.modelPath).toBeNull();
    const params = { maxTokens: 5, temperature: 1, seed: 11, stop: [7], numSamples: 2 };
    const local = await (
      await new BigramBackend().createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2 })
    ).saveWeightsForSampler();
    expect(await ephemeral.sample([0, 3], params)).toEqual(sampleOnWire(await local.sample([0, 3], params)));
    await ephemeral.sample([1], { maxTokens: 2, temperature: 0 });
    await ephemeral.computeLogprobs([1, 2, 3]);
    await base.sample([1], { maxTokens: 1, temperature: 0 });
    expect(bodies("/api/v1/create_sampling_session").map((b) => b.sampling_session_seq_id)).toEqual([0]);
    expect(bodies("/api/v1/save_weights_for_sampler").map((b) => b.sampling_session_seq_id)).toEqual([1]);
    const seqIds = (id: string) =>
      bodies("/api/v1/asample")
        .filter((b) => b.sampling_session_id === id)
        .map((b) => b.seq_id);
    const [ephemeralId, baseId] = [
      String(bodies("/api/v1/asample")[0].sampling_session_id),
      String(bodies("/api/v1/asample")[3].sampling_session_id),
    ];
    expect(ephemeralId).toMatch(/:sample:1$/);
    expect(seqIds(ephemeralId)).toEqual([0, 1, 2]);
    expect(seqIds(baseId)).toEqual([0]);
  });

  it("named sampler weights open by their tinker:// path; a saved state restores weights and opens a new client", async () => {
    const { url } = await serve();
    const backend = client(url);
    const { trainer, after } = await trainTwoSteps(backend);
    const named = await trainer.saveWeightsForSampler("two-steps");
    expect(named.modelPath).toMatch(/^tinker:\/\/.+:train:0\/sampler_weights\/two-steps$/);
    const reopened = await backend.createSamplingClient({ modelPath: named.modelPath! });
    expect(await reopened.computeLogprobs(SEQUENCE)).toEqual(after);

    const state = await trainer.saveState("ckpt");
    expect(state).toMatch(/\/weights\/ckpt$/);
    await trainer.forwardBackward([DATUM], "cross_entropy");
    await trainer.optimStep(ADAM);
    const moved = await (await trainer.saveWeightsForSampler()).computeLogprobs(SEQUENCE);
    expect(moved).not.toEqual(after);
    await trainer.loadState(state);
    expect(await (await trainer.saveWeightsForSampler()).computeLogprobs(SEQUENCE)).toEqual(after);

    const resumed = await backend.createTrainingClient({ baseModel: BIGRAM_MODEL, rank: 2, fromState: state });
    expect(await (await resumed.saveWeightsForSampler()).computeLogprobs(SEQUENCE)).toEqual(after);
  });

  it("a model the server does not serve is refused with the list it does serve", async () => {
    const { url, bodies } = await serve();
    const backend = client(url);
    expect(await backend.listModels()).toEqual([{ modelName: BIGRAM_MODEL, maxContextLength: 64 }]);
    await expect(backend.createTrainingClient({ baseModel: "Qwen/Qwen3-8B", rank: 8 })).rejects.toThrow(
      `does not serve "Qwen/Qwen3-8B"; it serves: ${BIGRAM_MODEL}`,
    );
    expect(bodies("/api/v1/create_model")).toHaveLength(0);
  });

  it("a prompt plus maxTokens past the model's context is refused before sending", async () => {
    const { url, bodies } = await serve();
    const sampler = await client(url).createSamplingClient({ baseModel: BIGRAM_MODEL });
    await expect(sampler.sample(Array(60).fill(1), { maxTokens: 5, temperature: 0 })).rejects.toThrow(
      "prompt (60 tokens) + maxTokens (5) exceeds the model's context of 64 tokens",
    );
    expect(bodies("/api/v1/asample")).toHaveLength(0);
  });

  it("with JWT auth on, the client exchanges its key and the server refuses the raw key elsewhere", async () => {
    const { url, log } = await serve({ apiKey: "secret", jwt: { ttlSeconds: 600 } });
    const backend = client(url);
    await trainTwoSteps(backend);
    expect(log.map((l) => l.path).slice(0, 3)).toEqual([
      "/api/v1/client/config",
      "/api/v1/auth/token",
      "/api/v1/create_session",
    ]);
    const raw = await fetch(`${url}/api/v1/get_server_capabilities`, { headers: { "X-API-Key": "secret" } });
    expect(raw.status).toBe(401);
  });

  it("a wrong API key is a 401 that is not retried", async () => {
    const { url, log } = await serve({ apiKey: "secret" });
    const sleeps: number[] = [];
    const backend = client(url, "wrong", { sleep: async (ms) => void sleeps.push(ms) });
    const failure = await backend.connect().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TinkerStatusError);
    expect((failure as TinkerStatusError).status).toBe(401);
    expect(sleeps).toEqual([]);
    expect(log).toHaveLength(0);
  });

  it("sampling past the server's capacity gets 429s that the client waits out and resubmits", async () => {
    const bigram = new BigramBackend();
    let release = () => {};
    bigram.gate = new Promise<void>((resolve) => (release = resolve));
    const { url, bodies } = await serve({ maxConcurrentSamples: 1 }, bigram);
    const sleeps: number[] = [];
    const backend = client(url, "k", {
      sleep: async (ms) => (sleeps.push(ms), release(), new Promise((r) => setTimeout(r, 5))),
    });
    const sampler = await backend.createSamplingClient({ baseModel: BIGRAM_MODEL });
    const first = sampler.sample([1], { maxTokens: 2, temperature: 0 });
    while (bodies("/api/v1/asample").length < 1) await new Promise((r) => setTimeout(r, 2));
    const second = sampler.sample([2], { maxTokens: 2, temperature: 0 });
    const [a, b] = await Promise.all([first, second]);
    expect(a.sequences[0].tokens).toHaveLength(2);
    expect(b.sequences[0].tokens).toHaveLength(2);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    expect(sleeps.every((ms) => ms === 1000)).toBe(true);
    expect(
      bodies("/api/v1/asample")
        .slice(1)
        .every((body) => body.seq_id === 1),
    ).toBe(true);
  });

  it("unload_model waits for the model's running work, refuses what waits behind a gap, and frees the client", async () => {
    const backend = new BigramBackend();
    const released: string[] = [];
    const create = backend.createTrainingClient.bind(backend);
    backend.createTrainingClient = async (options) =>
      Object.assign(await create(options), { release: async () => void released.push("released") });
    const { url } = await serve({}, backend);
    const post = async (path: string, body: object) =>
      (
        await fetch(`${url}${path}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json();
    const { session_id } = await post("/api/v1/create_session", {
      tags: [],
      user_metadata: {},
      sdk_version: "t",
      type: "create_session",
    });
    const created = await post("/api/v1/create_model", {
      session_id,
      model_seq_id: 0,
      base_model: BIGRAM_MODEL,
      lora_config: { rank: 2 },
    });
    await post("/api/v1/retrieve_future", { request_id: created.request_id });
    const waiting = await post("/api/v1/optim_step", {
      model_id: created.model_id,
      seq_id: 2,
      adam_params: { learning_rate: 0.05 },
    });
    const unload = await post("/api/v1/unload_model", { model_id: created.model_id });
    expect(await post("/api/v1/retrieve_future", { request_id: unload.request_id })).toEqual({
      type: "unload_model",
      model_id: created.model_id,
    });
    expect(released).toEqual(["released"]);
    expect(JSON.stringify(await post("/api/v1/retrieve_future", { request_id: waiting.request_id }))).toMatch(
      /unloaded/,
    );
  });
});
