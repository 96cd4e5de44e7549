import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { exitCodeOf, INTERRUPTED } from "./child";

function sleeper() {
  return spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
}

describe("exitCodeOf", () => {
  it("passes our Ctrl-C on to the child and reports it as a shell would (130)", async () => {
    const before = process.listenerCount("SIGINT");
    const child = sleeper();
    const exited = exitCodeOf(child);
    await new Promise((resolve) => child.once("spawn", resolve));
    process.emit("SIGINT", "SIGINT");
    expect(await exited).toBe(INTERRUPTED);
    // Forwarding stops with the child: a later Ctrl-C is no longer ours to pass on.
    expect(process.listenerCount("SIGINT")).toBe(before);
  });

  it("hands back the child's own exit code", async () => {
    const child = spawn(process.execPath, ["-e", "process.exit(3)"], { stdio: "ignore" });
    expect(await exitCodeOf(child)).toBe(3);
  });
});
