/**
 * The backend contract against the embedded backend called directly, on the reference fixture
 * model registered under a test name.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { backendContract, type ContractTarget, FIXTURE_DIR } from "./contract-suite";
import { createEmbeddedBackend } from "./embedded";

let target: ContractTarget;
let statesDir: string;

beforeAll(() => {
  statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-embedded-contract-"));
  const baseModel = "test/qwen3-tiny-a";
  target = {
    backend: createEmbeddedBackend({ models: { [baseModel]: { dir: FIXTURE_DIR } }, kernels: "js", statesDir }),
    baseModel,
  };
});

afterAll(async () => {
  await target.backend.close();
  fs.rmSync(statesDir, { recursive: true, force: true });
});

backendContract("embedded, in-process", () => target);
