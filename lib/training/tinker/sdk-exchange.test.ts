/**
 * The official Python SDK's wire, recorded once (fixtures/sdk-0.25.0-exchange.json: SDK 0.25.0
 * running scripts/tinker-sdk-check.py against `trainer serve`, through
 * scripts/tinker-record-exchange.mjs) and checked here without the SDK: our encoder writes the
 * SDK's forward_backward bytes exactly, our client reads every protobuf answer the SDK read, and
 * the SDK's requests replayed in order against a fresh server get the statuses and encodings the
 * SDK got.
 */
import fs from "node:fs";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend } from "../embedded";
import { EMBEDDED_MODEL, defaultCatalogue } from "../models";
import recording from "./fixtures/sdk-0.25.0-exchange.json";
import {
  forwardBackwardBodyFromProto,
  forwardBackwardBodyToProto,
  forwardBackwardOutputFromProto,
  sampleResponseFromProto,
} from "./proto/convert";
import { decoderForModels } from "./model-decoder";
import { createTinkerProtocolServer } from "./server";

interface Recorded {
  method: string;
  path: string;
  request: { contentType: string | null; accept: string | null; body?: unknown; base64?: string; text?: string };
  response: { status: number; contentType: string | null; body?: unknown; base64?: string; text?: string };
}

const exchanges = recording.exchanges as Recorded[];
const bytes = (base64: string) => Uint8Array.from(Buffer.from(base64, "base64"));
const isProtobuf = (contentType: string | null) => contentType === "application/x-protobuf";

/** Which submit each request id came from, so a protobuf answer can be read as its message. */
function submitPaths(): Map<string, string> {
  const byId = new Map<string, string>();
  for (const e of exchanges) {
    const id = (e.response.body as { request_id?: string } | null)?.request_id;
    if (id && e.path !== "/api/v1/retrieve_future") byId.set(id, e.path);
  }
  return byId;
}

describe("the SDK 0.25.0 exchange, recorded", () => {
  it("holds the SDK's protobuf forward_backward bodies and protobuf answers (the recording is what it claims)", () => {
    expect(
      exchanges.filter((e) => e.path === "/api/v1/forward_backward" && isProtobuf(e.request.contentType)).length,
    ).toBeGreaterThanOrEqual(5);
    expect(exchanges.filter((e) => isProtobuf(e.response.contentType)).length).toBeGreaterThanOrEqual(10);
    expect(exchanges.filter((e) => e.path === "/api/v1/retrieve_future").every((e) => e.request.accept !== null)).toBe(
      true,
    );
  });

  it("our encoder writes every forward_backward body the SDK sent, byte for byte", () => {
    const sent = exchanges.filter((e) => isProtobuf(e.request.contentType));
    for (const e of sent) {
      const body = forwardBackwardBodyFromProto(bytes(e.request.base64!));
      expect(body.forward_backward_input.data.length).toBeGreaterThan(0);
      expect(Buffer.from(forwardBackwardBodyToProto(body)).toString("base64")).toBe(e.request.base64);
    }
    // Both kinds went as protobuf: training passes and forward-only ones.
    const forwardOnly = sent.map((e) => forwardBackwardBodyFromProto(bytes(e.request.base64!)).forward_only);
    expect(new Set(forwardOnly)).toEqual(new Set([true, false]));
  });

  it("our client reads every protobuf answer the SDK read: forward_backward outputs and samples", () => {
    const from = submitPaths();
    let read = 0;
    for (const e of exchanges.filter((x) => isProtobuf(x.response.contentType))) {
      const submit = from.get((e.request.body as { request_id: string }).request_id);
      const answer = bytes(e.response.base64!);
      if (submit === "/api/v1/forward_backward") {
        const out = forwardBackwardOutputFromProto(answer);
        for (const record of out.loss_fn_outputs)
          expect(record.logprobs!.data.every((v) => Number.isFinite(v) && v <= 0)).toBe(true);
      } else if (submit === "/api/v1/asample") {
        const sample = sampleResponseFromProto(answer);
        expect(sample.sequences.length).toBeGreaterThan(0);
        for (const seq of sample.sequences) expect(seq.logprobs).toHaveLength(seq.tokens.length);
      } else {
        throw new Error(`protobuf answer for a request from ${submit}`);
      }
      read += 1;
    }
    expect(read).toBeGreaterThanOrEqual(10);
  });
});

describe("the SDK 0.25.0 exchange, replayed against a fresh server", () => {
  let backend: EmbeddedBackend;
  let server: http.Server;
  let url: string;
  let statesDir: string;

  beforeAll(async () => {
    statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-sdk-replay-"));
    const models = { [EMBEDDED_MODEL]: defaultCatalogue()[EMBEDDED_MODEL]! };
    backend = createEmbeddedBackend({ models, kernels: "js", statesDir });
    server = createTinkerProtocolServer(backend, {
      apiKey: "tml-replay",
      longPollMs: 30_000,
      decoderFor: decoderForModels(models),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
    await backend.close();
    fs.rmSync(statesDir, { recursive: true, force: true });
  });

  it("answers each of the SDK's requests, in order, with the status and encoding the SDK got", {
    timeout: 120_000,
  }, async () => {
    // Ids the fresh server issues differ from the recorded ones: map each as it is issued.
    const ids = new Map<string, string>();
    // One pass over whole ids ("req-1-1" is not part of "req-1-12"), so a renamed id is never renamed again.
    const rename = (text: string) => {
      if (ids.size === 0) return text;
      const alternatives = [...ids.keys()]
        .sort((a, b) => b.length - a.length)
        .map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      return text.replace(new RegExp(`(${alternatives.join("|")})(?![0-9a-f])`, "g"), (id) => ids.get(id)!);
    };
    const learn = (recorded: unknown, fresh: unknown, key: "session_id" | "request_id") => {
      const a = (recorded as Record<string, unknown> | null)?.[key];
      const b = (fresh as Record<string, unknown> | null)?.[key];
      if (typeof a === "string" && typeof b === "string") ids.set(a, b);
    };
    // Polls that found the result still running are left out: a replay sends them after it finished.
    const replayed = exchanges.filter(
      (e) =>
        !(e.path === "/api/v1/retrieve_future" && (e.response.body as { type?: string } | null)?.type === "try_again"),
    );
    for (const e of replayed) {
      let body: BodyInit | undefined;
      if (e.request.base64 !== undefined) {
        const decoded = forwardBackwardBodyFromProto(bytes(e.request.base64));
        body = Buffer.from(forwardBackwardBodyToProto({ ...decoded, model_id: rename(decoded.model_id) }));
      } else if (e.request.text !== undefined) body = rename(e.request.text);
      else if (e.method !== "GET" && e.request.body !== null && e.request.body !== undefined)
        body = rename(JSON.stringify(e.request.body));
      const headers: Record<string, string> = { "X-API-Key": "tml-replay" };
      if (e.request.contentType) headers["Content-Type"] = e.request.contentType;
      if (e.request.accept) headers.Accept = e.request.accept;
      const response = await fetch(`${url}${rename(e.path)}`, { method: e.method, headers, body });
      const answer = Buffer.from(await response.arrayBuffer());
      const where = `${e.method} ${e.path}`;
      expect(response.status, where).toBe(e.response.status);
      expect(response.headers.get("content-type"), where).toBe(e.response.contentType);
      if (!isProtobuf(e.response.contentType) && answer.length > 0) {
        const fresh = JSON.parse(answer.toString("utf8")) as unknown;
        learn(e.response.body, fresh, "session_id");
        learn(e.response.body, fresh, "request_id");
        if ((e.response.body as { error?: string } | null)?.error)
          expect(fresh, where).toMatchObject({ category: (e.response.body as { category: string }).category });
      }
    }
  });
});
