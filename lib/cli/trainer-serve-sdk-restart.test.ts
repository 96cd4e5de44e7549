/**
 * The official Tinker Python SDK, unmodified, across a kill and restart of `trainer serve` on the
 * same port and data directory (scripts/tinker-sdk-restart.py drives it, one client process).
 * Needs a checkout of the SDK in TINKER_SDK_DIR (and Python with its dependencies); without one
 * the suite is skipped and says so in its name.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { describe, expect, it } from "vitest";
import { FIXTURE_DIR as FIXTURE_MODEL } from "@/lib/training/contract-suite";
import { projectPath } from "../paths";
import { type RunningTrainer, startTrainerServe } from "./trainer-serve.fixture";

const SDK_DIR = process.env.TINKER_SDK_DIR;
const KEY = "tml-sdk-restart";

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe.skipIf(!SDK_DIR)(
  `the official SDK across a restart of trainer serve (${SDK_DIR ? `SDK at ${SDK_DIR}` : "skipped: set TINKER_SDK_DIR to a checkout of thinking-machines-lab/tinker"})`,
  () => {
    it("goes on past a refused save, loads its state and sampler weights back by path with the same log-probs, tells the old client its model was lost, and resumes it exactly", async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-sdk-restart-"));
      const port = String(await freePort());
      const trainers: RunningTrainer[] = [];
      const script = spawn(
        "python3",
        [
          projectPath("scripts/tinker-sdk-restart.py"),
          "--base-url",
          `http://127.0.0.1:${port}`,
          "--api-key",
          KEY,
          "--base-model",
          FIXTURE_MODEL,
        ],
        {
          env: { ...process.env, TINKER_SDK_DIR: SDK_DIR },
          stdio: ["pipe", "pipe", "pipe"],
        },
      );
      let stderr = "";
      script.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => script.once("exit", resolve));
      try {
        trainers.push(await startTrainerServe(dataDir, KEY, ["--port", port]));
        let results: Record<string, unknown> | null = null;
        for await (const line of readline.createInterface({ input: script.stdout! })) {
          if (line === "restart now") {
            // A crash, then a new process on the same port and directory.
            const first = trainers.pop()!;
            first.child.kill("SIGKILL");
            await first.exited;
            trainers.push(await startTrainerServe(dataDir, KEY, ["--port", port]));
            script.stdin!.write("go\n");
          } else if (line.startsWith("{")) {
            results = JSON.parse(line) as Record<string, unknown>;
          }
        }
        expect(await exited, stderr).toBe(0);
        expect(results).toMatchObject({
          old_sampler_same: true,
          new_sampler_same: true,
          from_state_same: true,
          resumed_same: true,
          pyqwest_imported: false,
        });
        expect(results!.refused_save).toMatch(/400.*checkpoint name must be/);
        expect(results!.lost_model_error).toMatch(
          /lost its weights when the server restarted; its last saved state is tinker:\/\/.*\/weights\/step2 \(step 2\)/,
        );
      } finally {
        script.kill("SIGKILL");
        for (const trainer of trainers) trainer.child.kill("SIGKILL");
        await Promise.all(trainers.map((t) => t.exited));
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }, 180_000);
  },
);
