/**
 * Starts the real `bin/continualcode trainer serve` process for tests: on a free port, over the
 * reference fixture model with the reference kernels, resolving once it logs the URL it serves.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { FIXTURE_DIR } from "@/lib/training/contract-suite";
import { projectPath } from "../paths";

export interface RunningTrainer {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

export function startTrainerServe(dataDir: string, apiKey: string, extraArgs: string[] = []): Promise<RunningTrainer> {
  const args = [projectPath("bin/continualcode"), "trainer", "serve", "--port", "0", "--api-key", apiKey];
  args.push("--model", FIXTURE_DIR, "--kernels", "js", "--data-dir", dataDir, ...extraArgs);
  const child = spawn(process.execPath, args, { cwd: projectPath(), stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
      if (url) resolve({ child, url, output: () => output, exited });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`trainer serve exited with ${code} before listening:\n${output}`)));
  });
}
