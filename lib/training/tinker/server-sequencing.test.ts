/**
 * A model's requests run in seq_id order, and a client numbers them before it sends them: these
 * tests send, over real HTTP to the server over the embedded engine, requests that are refused or
 * never arrive, and check that the requests after them still complete.
 */
import fs from "node:fs";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_DIR } from "../contract-suite";
import { createEmbeddedBackend, type EmbeddedBackend } from "../embedded";
import { ADAM, RawTinker, SEQUENCE, wireCeDatum } from "./raw-http.fixture";
import { createTinkerProtocolServer } from "./server";

const MODEL = "test/qwen3-tiny-a";
const KEY = "tml-sequencing";
/** Long enough that a stalled request cannot pass for one that was merely slow. */
const GAP_TIMEOUT_MS = 1_500;

let statesDir: string;
let backend: EmbeddedBackend;
let server: http.Server;
let tinker: RawTinker;

beforeAll(async () => {
  statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-seq-"));
  backend = createEmbeddedBackend({ models: { [MODEL]: { dir: FIXTURE_DIR } }, kernels: "js", statesDir });
  server = createTinkerProtocolServer(backend, { apiKey: KEY, longPollMs: 50, seqGapTimeoutMs: GAP_TIMEOUT_MS });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  tinker = new RawTinker(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, KEY);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await backend.close();
  fs.rmSync(statesDir, { recursive: true, force: true });
});

const forwardBackward = (modelId: string, seqId: number, data: unknown[] = [wireCeDatum(SEQUENCE, 8)]) => ({
  model_id: modelId,
  seq_id: seqId,
  forward_backward_input: { data, loss_fn: "cross_entropy" },
});

describe("seq_ids of refused requests", () => {
  it("a forward_backward refused at submit uses up its seq_id: the optim_step after it completes at once", async () => {
    const modelId = await tinker.model(await tinker.session(), MODEL);
    const refused = await tinker.post("/api/v1/forward_backward", forwardBackward(modelId, 1, []));
    expect(refused.status).toBe(400);
    const started = Date.now();
    const step = await tinker.call(
      "/api/v1/optim_step",
      { model_id: modelId, seq_id: 2, adam_params: ADAM },
      GAP_TIMEOUT_MS / 2,
    );
    expect(step.type).toBe("optim_step");
    expect(Date.now() - started).toBeLessThan(GAP_TIMEOUT_MS / 2);
    // The model trains on as before.
    const trained = await tinker.call("/api/v1/forward_backward", forwardBackward(modelId, 3), GAP_TIMEOUT_MS / 2);
    expect(trained.metrics).toHaveProperty(["loss:sum"]);
  });

  it("a save under a name that is not one path segment is refused, and the save after it completes", async () => {
    const modelId = await tinker.model(await tinker.session(), MODEL);
    const refused = await tinker.post("/api/v1/save_weights", { model_id: modelId, seq_id: 1, path: "../../outside" });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/checkpoint name must be/);
    const saved = await tinker.call(
      "/api/v1/save_weights",
      { model_id: modelId, seq_id: 2, path: "inside" },
      GAP_TIMEOUT_MS / 2,
    );
    expect(saved.path).toBe(`tinker://${modelId}/weights/inside`);
  });

  it("a load of a path the server never issued is refused, and the request after it completes", async () => {
    const modelId = await tinker.model(await tinker.session(), MODEL);
    const refused = await tinker.post("/api/v1/load_weights", {
      model_id: modelId,
      seq_id: 1,
      path: `tinker://${modelId}/weights/never-saved`,
      optimizer: false,
    });
    expect(refused.status).toBe(404);
    const step = await tinker.call(
      "/api/v1/optim_step",
      { model_id: modelId, seq_id: 2, adam_params: ADAM },
      GAP_TIMEOUT_MS / 2,
    );
    expect(step.type).toBe("optim_step");
  });

  it("requests behind a seq_id whose body could not be read fail after the gap timeout with the reason, and the model takes new ids", async () => {
    const modelId = await tinker.model(await tinker.session(), MODEL);
    const garbled = await tinker.post(
      "/api/v1/forward_backward",
      undefined,
      `{"model_id": "${modelId}", "seq_id": 1, "forward_backward_input": `,
    );
    expect(garbled.status).toBe(400);
    const started = Date.now();
    const waited = await tinker.result(
      await tinker.post("/api/v1/optim_step", { model_id: modelId, seq_id: 2, adam_params: ADAM }),
      GAP_TIMEOUT_MS * 4,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(GAP_TIMEOUT_MS - 100);
    expect(waited.body).toEqual({
      error: `seq_id 1 never arrived: the requests after it waited ${GAP_TIMEOUT_MS / 1000} s for it and were dropped (seq_ids 1–2); the model is as seq_id 0 left it, and takes seq_id 3 next`,
      category: "user",
    });
    const next = await tinker.call("/api/v1/forward_backward", forwardBackward(modelId, 3), GAP_TIMEOUT_MS / 2);
    expect(next.metrics).toHaveProperty(["loss:sum"]);
  });

  it("a protobuf forward_backward whose data cannot be decoded still uses up its seq_id", async () => {
    const modelId = await tinker.model(await tinker.session(), MODEL);
    const id = Buffer.from(modelId);
    // Field 1 (model_id) and field 2 (seq_id = 1), then field 3 (a datum) claiming 100 bytes it lacks.
    const body = Buffer.concat([Buffer.from([0x0a, id.length]), id, Buffer.from([0x10, 1, 0x1a, 100, 1, 2])]);
    const res = await fetch(`${tinker.url}/api/v1/forward_backward`, {
      method: "POST",
      headers: { "Content-Type": "application/x-protobuf", "X-API-Key": KEY },
      body,
    });
    expect(res.status).toBe(400);
    const step = await tinker.call(
      "/api/v1/optim_step",
      { model_id: modelId, seq_id: 2, adam_params: ADAM },
      GAP_TIMEOUT_MS / 2,
    );
    expect(step.type).toBe("optim_step");
  });
});
