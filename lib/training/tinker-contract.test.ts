/**
 * The backend contract through the Tinker protocol: our Tinker client talking to
 * createTinkerProtocolServer over the embedded backend on 127.0.0.1, and once to the real
 * `continualcode trainer serve` process. Every path must produce the numbers the embedded backend
 * produces when called directly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectPath } from "../paths";
import { backendContract, type ContractTarget, expectSameNumbers, FIXTURE_DIR, referenceRun } from "./contract-suite";
import { createEmbeddedBackend, type EmbeddedBackend } from "./embedded";
import { createTinkerBackend } from "./tinker/client";
import { createTinkerProtocolServer } from "./tinker/server";

const MODEL = "test/qwen3-tiny-a";
const API_KEY = "contract-key";

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

/** Starts `bin/continualcode trainer serve` on a free port and resolves with its logged URL. */
function startTrainerServe(dataDir: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const args = [projectPath("bin/continualcode"), "trainer", "serve", "--port", "0", "--api-key", API_KEY];
  args.push("--model", FIXTURE_DIR, "--kernels", "js", "--data-dir", dataDir);
  const child = spawn(process.execPath, args, { cwd: projectPath(), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
      if (url) resolve({ child, url, output: () => output });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`trainer serve exited with ${code} before listening:\n${output}`)));
  });
}

describe("the embedded backend and the Tinker paths to it", () => {
  it("give the same sampled tokens, log-probs and losses in-process and over HTTP", async () => {
    const direct = await referenceRun({ backend: embedded, baseModel: MODEL });
    const remote = await referenceRun(target);
    expectSameNumbers(remote, direct);
    expect(direct.sampled[0].tokens).toHaveLength(6);
  });

  it("`continualcode trainer serve` serves the same numbers and stops on SIGINT", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-trainer-serve-"));
    const { child, url, output } = await startTrainerServe(dataDir);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
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
