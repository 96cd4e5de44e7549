/**
 * Only tinker:// paths the server issued resolve. A state directory that exists on the server but
 * was never issued to a client (here: one the engine saved for somebody else) must not load by
 * its file path, by a `..` walk from an issued path, or by a made-up tinker:// path, and no error
 * may tell the client where the server keeps its files. Real HTTP, real engine; the backend is
 * watched (every checkpoint it is asked to open is recorded) but does all its own work.
 */
import fs from "node:fs";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_DIR } from "../contract-suite";
import { createEmbeddedBackend, type EmbeddedBackend } from "../embedded";
import type { TrainingBackend } from "../types";
import { ADAM, RawTinker } from "./raw-http.fixture";
import { createTinkerProtocolServer } from "./server";

const MODEL = "test/qwen3-tiny-a";
const KEY = "tml-paths";

let statesDir: string;
let embedded: EmbeddedBackend;
let server: http.Server;
let tinker: RawTinker;
/** Every path the server asked the backend to open. */
const opened: string[] = [];
/** A real state directory on the server that no client was ever given. */
let planted: string;

/** The embedded backend, recording the checkpoint paths it is asked to read. */
function watched(backend: EmbeddedBackend): TrainingBackend {
  return {
    ...backend,
    listModels: () => backend.listModels(),
    close: () => backend.close(),
    createSamplingClient: (open) => {
      if (open.modelPath !== undefined) opened.push(open.modelPath);
      return backend.createSamplingClient(open);
    },
    createTrainingClient: async (create) => {
      const client = await backend.createTrainingClient(create);
      const loadState = client.loadState.bind(client);
      client.loadState = (statePath, options) => (opened.push(statePath), loadState(statePath, options));
      return client;
    },
  };
}

beforeAll(async () => {
  statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-paths-"));
  embedded = createEmbeddedBackend({ models: { [MODEL]: { dir: FIXTURE_DIR } }, kernels: "js", statesDir });
  const other = await embedded.createTrainingClient({ baseModel: MODEL, rank: 4, seed: 1 });
  planted = await other.saveState("someone-elses");
  expect(fs.existsSync(planted)).toBe(true);
  server = createTinkerProtocolServer(watched(embedded), { apiKey: KEY, longPollMs: 50 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  tinker = new RawTinker(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, KEY);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await embedded.close();
  fs.rmSync(statesDir, { recursive: true, force: true });
});

describe("checkpoint paths a client sends", () => {
  it("a state directory on the server loads by no path the server did not issue, and no answer names a host path", async () => {
    const sessionId = await tinker.session();
    const modelId = await tinker.model(sessionId, MODEL);
    const issued = (await tinker.call("/api/v1/save_weights", { model_id: modelId, seq_id: 1, path: "mine" }))
      .path as string;
    const relative = path.relative(statesDir, planted);
    const attempts: Array<[string, number]> = [
      [planted, 400],
      [`file://${planted}`, 400],
      [`tinker://${modelId}/weights/../../${relative}`, 400],
      [`${issued}/../../../${relative}`, 400],
      [`tinker://${modelId}/weights/someone-elses`, 404],
      [`tinker://${relative.replace(/\//g, "-")}/weights/someone-elses`, 404],
    ];
    let seqId = 2;
    for (const [attempt, status] of attempts) {
      const load = await tinker.post("/api/v1/load_weights", {
        model_id: modelId,
        seq_id: seqId++,
        path: attempt,
        optimizer: true,
      });
      const info = await tinker.post("/api/v1/weights_info", { tinker_path: attempt });
      const sample = await tinker.post("/api/v1/create_sampling_session", {
        session_id: sessionId,
        sampling_session_seq_id: seqId,
        model_path: attempt,
      });
      for (const answer of [load, info, sample]) {
        expect(answer.status, `${attempt}: ${answer.text}`).toBe(status);
        expect(answer.text).not.toContain(statesDir);
        expect(answer.text).not.toMatch(/ENOENT|EACCES|no such file/i);
      }
    }
    // The backend was never asked to open anything but what the server itself saved.
    expect(opened).toEqual([]);
    // The issued path still loads, and the refusals above did not stall the model.
    await tinker.call(
      "/api/v1/load_weights",
      { model_id: modelId, seq_id: seqId++, path: issued, optimizer: true },
      5_000,
    );
    await tinker.call("/api/v1/optim_step", { model_id: modelId, seq_id: seqId++, adam_params: ADAM }, 5_000);
    expect(opened).toHaveLength(1);
    expect(path.dirname(path.dirname(opened[0]))).toBe(statesDir);
  });

  it("a failure to read an issued checkpoint says which checkpoint, not where its files were", async () => {
    const modelId = await tinker.model(await tinker.session(), MODEL);
    const issued = (await tinker.call("/api/v1/save_weights", { model_id: modelId, seq_id: 1, path: "gone" }))
      .path as string;
    // Its files vanish behind the server's back (a volume not mounted, a clean-up script).
    const saved = fs
      .readdirSync(statesDir, { recursive: true, withFileTypes: true })
      .find((d) => d.isDirectory() && d.name.endsWith("-gone"));
    expect(saved).toBeDefined();
    fs.rmSync(path.join(saved!.parentPath, saved!.name), { recursive: true });
    const failed = await tinker.result(
      await tinker.post("/api/v1/load_weights", { model_id: modelId, seq_id: 2, path: issued, optimizer: false }),
    );
    expect(failed.body).toEqual({
      error: `checkpoint ${issued} could not be read: its files on the server are missing or damaged`,
      category: "server",
    });
    expect(failed.text).not.toContain(statesDir);
  });
});
