/**
 * The protocol server's defences, over real sockets: credentials are checked before a body is
 * read, bodies past the cap get 413, and out-of-range optimizer, LoRA and sampling parameters are
 * refused before they reach the backend, a refused optimizer step leaving the weights bit for bit
 * as they were (hashed from a saved state of the real embedded engine).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import type http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FIXTURE_DIR } from "../contract-suite";
import { createEmbeddedBackend } from "../embedded";
import type { Datum, TrainingBackend } from "../types";
import { BIGRAM_MODEL, BigramBackend } from "./bigram-backend.fixture";
import { createTinkerBackend } from "./client";
import { TinkerRequestFailedError } from "./errors";
import { createTinkerProtocolServer, type TinkerProtocolServerOptions } from "./server";

const KEY = "secret";
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function serve(options: TinkerProtocolServerOptions = {}, backend: TrainingBackend = new BigramBackend()) {
  const handled: string[] = [];
  const server: http.Server = createTinkerProtocolServer(backend, {
    apiKey: KEY,
    longPollMs: 20,
    ...options,
    onRequest: (p) => handled.push(p),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  cleanup.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { url: `http://127.0.0.1:${port}`, port, handled };
}

/**
 * Sends a request head declaring `declaredBytes` and then only `sentBytes` of body, and resolves
 * with the server's status line. A server that reads the body first never answers: it waits for
 * bytes that are not coming, and the test times out.
 */
function answerToPartialBody(
  port: number,
  headers: Record<string, string>,
  declaredBytes: number,
  sentBytes: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      if (received.includes("\r\n")) {
        resolve(received.slice(0, received.indexOf("\r\n")));
        socket.destroy();
      }
    });
    socket.on("error", reject);
    const head = Object.entries({
      ...headers,
      "content-type": "application/json",
      "content-length": String(declaredBytes),
    })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.write(`POST /api/v1/forward_backward HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}\r\n`);
    socket.write(Buffer.alloc(sentBytes, 0x20));
  });
}

const post = async (url: string, route: string, body: unknown, key = KEY) => {
  const res = await fetch(`${url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("trainer serve request bodies", () => {
  it("answers a request without the API key with 401 before reading its body", async () => {
    const { port, handled } = await serve();
    const declared = 200 * 1024 * 1024;
    expect(await answerToPartialBody(port, {}, declared, 1024)).toBe("HTTP/1.1 401 Unauthorized");
    expect(await answerToPartialBody(port, { "x-api-key": "wrong" }, declared, 1024)).toBe("HTTP/1.1 401 Unauthorized");
    expect(handled).toEqual([]);
  });

  it("answers a declared body past the cap with 413 before reading it", async () => {
    const { port, handled } = await serve({ maxBodyBytes: 1024 * 1024 });
    expect(await answerToPartialBody(port, { "x-api-key": KEY }, 1024 * 1024 + 1, 1024)).toBe(
      "HTTP/1.1 413 Payload Too Large",
    );
    expect(handled).toEqual([]);
  });

  it("answers a streamed body with 413 once it passes the cap, naming the flag that raises it", async () => {
    const { url, handled } = await serve({ maxBodyBytes: 64 * 1024 });
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        controller.close();
      },
    });
    const res = await fetch(`${url}/api/v1/create_session`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": KEY },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 413,
      body: { detail: "request body over 65536 bytes (trainer serve --max-body-mib raises the limit)" },
    });
    expect(handled).toEqual([]);
  });

  it("still takes a body within the cap", async () => {
    const { url } = await serve({ maxBodyBytes: 64 * 1024 });
    expect((await post(url, "/api/v1/create_session", { tags: [], sdk_version: "t" })).status).toBe(200);
  });
});

describe("trainer serve parameters", () => {
  async function session(url: string) {
    const { body } = await post(url, "/api/v1/create_session", { tags: [], sdk_version: "t" });
    return String(body.session_id);
  }

  it("refuses a LoRA rank that is not a power of two or is past the model's cap, with 400", async () => {
    const { url } = await serve();
    const sessionId = await session(url);
    const create = (rank: number, seq: number) =>
      post(url, "/api/v1/create_model", {
        session_id: sessionId,
        model_seq_id: seq,
        base_model: BIGRAM_MODEL,
        lora_config: { rank },
      });
    expect(await create(3, 0)).toEqual({
      status: 400,
      body: { detail: "lora_config.rank must be a power of two from 1 to 16; got 3" },
    });
    expect(await create(32, 1)).toEqual({
      status: 400,
      body: { detail: "lora_config.rank must be a power of two from 1 to 16; got 32" },
    });
    expect((await create(16, 2)).status).toBe(200);
  });

  it("refuses sampling past the model's context, unbounded sample counts and bad temperatures, with 400", async () => {
    const bigram = new BigramBackend();
    let sampled = 0;
    const open = bigram.createSamplingClient.bind(bigram);
    bigram.createSamplingClient = async (o) => {
      const client = await open(o);
      const sample = client.sample.bind(client);
      return Object.assign(client, { sample: (...args: Parameters<typeof sample>) => (sampled++, sample(...args)) });
    };
    const { url } = await serve({ maxNumSamples: 8 }, bigram);
    const sessionId = await session(url);
    const { body } = await post(url, "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: 0,
      base_model: BIGRAM_MODEL,
    });
    let seq = 0;
    const sample = (extra: Record<string, unknown>, params: Record<string, unknown> = {}) =>
      post(url, "/api/v1/asample", {
        sampling_session_id: body.sampling_session_id,
        seq_id: seq++,
        prompt: { chunks: [{ type: "encoded_text", tokens: [1, 2, 3, 4] }] },
        sampling_params: { max_tokens: 4, temperature: 1, ...params },
        ...extra,
      });
    expect(await sample({ num_samples: 10_000 })).toEqual({
      status: 400,
      body: { detail: "num_samples must be a whole number from 1 to 8; got 10000" },
    });
    expect(await sample({}, { max_tokens: 61 })).toEqual({
      status: 400,
      body: {
        detail:
          "sampling_params.max_tokens must be a whole number from 1 to 60 (the model's context of 64 less the prompt's 4 tokens); got 61",
      },
    });
    expect(await sample({}, { temperature: -1 })).toEqual({
      status: 400,
      body: { detail: "sampling_params.temperature must be a finite number ≥ 0 (0 = greedy); got -1" },
    });
    expect(await sample({}, { top_p: 0 })).toEqual({
      status: 400,
      body: { detail: "sampling_params.top_p must be in (0, 1]; got 0" },
    });
    expect(sampled).toBe(0);
    expect((await sample({ num_samples: 8 }, { max_tokens: 60 })).status).toBe(200);
  });
});

describe("a refused optimizer step", () => {
  const SEQUENCE = [1, 5, 9, 5, 9, 2, 7, 3];
  const DATUM: Datum = {
    modelInput: SEQUENCE.slice(0, -1),
    lossFnInputs: { targetTokens: SEQUENCE.slice(1), weights: [0, 1, 1, 1, 1, 1, 1] },
  };
  const GOOD = { learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 };

  /** SHA-256 over every file of a saved state (LoRA weights, Adam moments, step count). */
  function hashState(dir: string): string {
    const hash = createHash("sha256");
    const walk = (d: string) => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const full = path.join(d, entry.name);
        if (entry.isDirectory()) walk(full);
        else hash.update(entry.name).update(fs.readFileSync(full));
      }
    };
    walk(dir);
    return hash.digest("hex");
  }

  it("fails with Tinker's user category and leaves the weights bit for bit unchanged; the next good step trains", async () => {
    const statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-refused-step-"));
    const embedded = createEmbeddedBackend({ models: { "test/tiny": { dir: FIXTURE_DIR } }, kernels: "js", statesDir });
    cleanup.push(async () => (await embedded.close(), fs.rmSync(statesDir, { recursive: true, force: true })));
    const { url } = await serve({}, embedded);
    const remote = createTinkerBackend({ apiKey: KEY, baseUrl: url, log: () => {} });
    cleanup.push(() => remote.close());
    const trainer = await remote.createTrainingClient({ baseModel: "test/tiny", rank: 4, seed: 1 });
    await trainer.forwardBackward([DATUM], "cross_entropy");
    await trainer.optimStep(GOOD);
    await trainer.forwardBackward([DATUM], "cross_entropy");
    const savedPath = (name: string) =>
      fs
        .readdirSync(statesDir, { recursive: true, withFileTypes: true })
        .find((e) => e.isDirectory() && e.name.endsWith(name));
    await trainer.saveState("before");
    const before = hashState(path.join(savedPath("before")!.parentPath, savedPath("before")!.name));

    const refusals: string[] = [];
    for (const bad of [{ learningRate: 1e30 }, { learningRate: -1 }, { beta1: 5 }, { eps: 0 }, { weightDecay: -0.1 }]) {
      const failure = await trainer.optimStep({ ...GOOD, ...bad }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TinkerRequestFailedError);
      expect((failure as TinkerRequestFailedError).category).toBe("user");
      refusals.push((failure as TinkerRequestFailedError).serverMessage);
    }
    expect(refusals).toEqual([
      "adam_params.learning_rate must be a finite number in (0, 1]; got 1e+30",
      "adam_params.learning_rate must be a finite number in (0, 1]; got -1",
      "adam_params.beta1 must be in [0, 1); got 5",
      "adam_params.eps must be a finite number above 0; got 0",
      "adam_params.weight_decay must be in [0, 1]; got -0.1",
    ]);
    await trainer.saveState("after");
    expect(hashState(path.join(savedPath("after")!.parentPath, savedPath("after")!.name))).toBe(before);

    // The refusals took their seq_ids without stalling the model: the pending gradient still steps.
    const lossBefore = (await trainer.forwardBackward([DATUM], "cross_entropy")).metrics["loss:sum"]!;
    await trainer.optimStep(GOOD);
    const lossAfter = (await trainer.forwardBackward([DATUM], "cross_entropy")).metrics["loss:sum"]!;
    expect(Number.isFinite(lossAfter) && lossAfter < lossBefore).toBe(true);
  }, 60_000);
});
