/**
 * The backend contract through the Tinker protocol: our Tinker client talking to
 * createTinkerProtocolServer over the embedded backend on 127.0.0.1, and once to the real
 * `continualcode trainer serve` process. Every path must produce the numbers the embedded backend
 * produces when called directly.
 */
import fs from "node:fs";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTrainerServe } from "../cli/trainer-serve.fixture";
import { backendContract, type ContractTarget, expectSameNumbers, FIXTURE_DIR, referenceRun } from "./contract-suite";
import { createEmbeddedBackend, type EmbeddedBackend } from "./embedded";
import { createTinkerBackend } from "./tinker/client";
import { createTinkerProtocolServer } from "./tinker/server";
import { canScoreDistributions } from "./types";

const MODEL = "test/qwen3-tiny-a";
const API_KEY = "tml-contract-key";

let statesDir: string;
let embedded: EmbeddedBackend;
let server: http.Server;
let target: ContractTarget;

beforeAll(async () => {
  statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-tinker-contract-"));
  embedded = createEmbeddedBackend({ models: { [MODEL]: { dir: FIXTURE_DIR } }, kernels: "js", statesDir });
  server = createTinkerProtocolServer(embedded, { apiKey: API_KEY, longPollMs: 50 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target = { backend: createTinkerBackend({ apiKey: API_KEY, baseUrl, log: () => {} }), baseModel: MODEL };
});

afterAll(async () => {
  await target.backend.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await embedded.close();
  fs.rmSync(statesDir, { recursive: true, force: true });
});

backendContract("Tinker client → protocol server → embedded", () => target);

describe("the embedded backend and the Tinker paths to it", () => {
  it("a reverse_kl datum with windowed teacher rows, posted as JSON, trains over the protocol as it does in-process", async () => {
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = async (route: string, body: object) =>
      (
        await fetch(`${baseUrl}${route}`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-API-Key": API_KEY },
          body: JSON.stringify(body),
        })
      ).json();
    const result = async (pending: { request_id: string }) => {
      for (;;) {
        const answer = await post("/api/v1/retrieve_future", { request_id: pending.request_id });
        if (answer.type !== "try_again") return answer;
      }
    };
    const sequence = [5, 17, 42, 99, 7, 12, 300, 44];
    const P = 5;
    const sampler = await embedded.createSamplingClient({ baseModel: MODEL });
    if (!canScoreDistributions(sampler)) throw new Error("the embedded sampler scores distributions");
    const teacher = await sampler.logSoftmaxRows([5, 17, 42, 99, 7, 250, 3, 12, 300, 44], [P + 1, P + 2, P + 3]); // (3, V), a different context
    const weights = [0, 0, 0, 0, 1, 1, 1];
    const datum = {
      modelInput: sequence.slice(0, -1),
      lossFnInputs: {
        targetTokens: sequence.slice(1),
        weights,
        teacherRowsStart: P - 1,
        teacherLogprobs: Float32Array.from(teacher),
      },
    };
    const inProcess = await (
      await embedded.createTrainingClient({ baseModel: MODEL, rank: 4, seed: 3 })
    ).forwardBackward([datum], "reverse_kl");

    const { session_id } = await post("/api/v1/create_session", { tags: [], user_metadata: {}, sdk_version: "test" });
    const model = await post("/api/v1/create_model", {
      session_id,
      model_seq_id: 0,
      base_model: MODEL,
      lora_config: { rank: 4, seed: 3 },
    });
    await result(model);
    const tensor = (data: number[], dtype: "int64" | "float32", shape: number[]) => ({ data, dtype, shape });
    const wireDatum = {
      model_input: { chunks: [{ type: "encoded_text", tokens: sequence.slice(0, -1) }] },
      loss_fn_inputs: {
        target_tokens: tensor(sequence.slice(1), "int64", [7]),
        weights: tensor(weights, "float32", [7]),
        teacher_logprobs: tensor(Array.from(teacher), "float32", [3, teacher.length / 3]),
        teacher_rows_start: tensor([P - 1], "int64", []),
      },
    };
    const fb = await post("/api/v1/forward_backward", {
      model_id: model.model_id,
      seq_id: 1,
      forward_backward_input: { data: [wireDatum], loss_fn: "reverse_kl" },
    });
    const remote = await result(fb);
    expect(inProcess.metrics["loss:sum"]).toBeGreaterThan(0);
    expect(remote.metrics["loss:sum"]).toBeCloseTo(inProcess.metrics["loss:sum"]!, 6);
    const remoteLp: number[] = remote.loss_fn_outputs[0].logprobs.data;
    expect(remoteLp).toHaveLength(7);
    for (const [i, lp] of remoteLp.entries()) expect(lp).toBeCloseTo(inProcess.lossFnOutputs[0]!.logprobs[i]!, 5);
  });

  it("give the same sampled tokens, log-probs and losses in-process and over HTTP", async () => {
    const direct = await referenceRun({ backend: embedded, baseModel: MODEL });
    const remote = await referenceRun(target);
    expectSameNumbers(remote, direct);
    expect(direct.sampled[0].tokens).toHaveLength(6);
  });

  it("`continualcode trainer serve` serves the same numbers and stops on SIGINT", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-trainer-serve-"));
    const { child, url, output, exited } = await startTrainerServe(dataDir, API_KEY);
    try {
      const backend = createTinkerBackend({ apiKey: API_KEY, baseUrl: url, log: () => {} });
      try {
        const remote = await referenceRun({ backend, baseModel: FIXTURE_DIR });
        expectSameNumbers(remote, await referenceRun({ backend: embedded, baseModel: MODEL }));
        // The key is checked.
        const denied = createTinkerBackend({ apiKey: "wrong", baseUrl: url, log: () => {} });
        await expect(denied.listModels()).rejects.toThrow(/401|API key/i);
        await denied.close();
      } finally {
        await backend.close();
      }
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(output()).toContain("trainer stopping");
    } finally {
      child.kill("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
