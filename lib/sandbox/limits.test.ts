/**
 * Whole-call limits on the real sandbox (bubblewrap, and the host's cgroups): memory and processes
 * for all of a call's processes together, and the workspace's disk quota for bash. Each workload
 * is sized to stay small on a shared machine: at most about 1.2 GiB of memory for a second.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { executeTool } from "@/lib/tools";
import { workspaceUsage } from "@/lib/workspaces/quota";
import { createCallCgroup } from "./cgroup";
import { DEFAULT_POLICY, type SandboxLimits, type SandboxPolicy } from "./policy";
import { runCommand } from "./run";

const MiB = 1024 * 1024;

let ws: string;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cc-limits-"));
});
afterEach(() => {
  fs.rmSync(ws, { recursive: true, force: true });
});

const withLimits = (limits: Partial<SandboxLimits>): SandboxPolicy => ({
  ...DEFAULT_POLICY,
  limits: { ...DEFAULT_POLICY.limits, ...limits },
});

async function timed<T>(work: Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = Date.now();
  const result = await work;
  return { result, seconds: (Date.now() - started) / 1000 };
}

// Which cgroups this host lets us make decides what can be asserted; the fallback's rules are
// pure functions, tested in policy.test.ts.
const probe = await createCallCgroup({ memoryBytes: 64 * MiB, maxProcesses: 64 });
await probe?.cleanup();
const enforces = probe?.enforces ?? { memory: null, processes: null };

describe.runIf(enforces.memory !== null)("the memory limit holds for the whole call", () => {
  // Each python process fills 600 MiB (a string of that many bytes, so every page is touched)
  // and then waits 4 s; under 1 GiB for the call, two of them cannot both exist.
  const threeOf600MiB = `for i in 1 2 3; do python3 -c 'import time; s = "x" * (600 << 20); time.sleep(4)' & done; wait; echo all three finished`;

  it("stops three processes of 600 MiB each under a 1 GiB limit for the call, and says so", async () => {
    const policy = withLimits({ callMemoryBytes: 1024 * MiB });
    const { result, seconds } = await timed(
      runCommand({ command: threeOf600MiB, workspace: ws, policy, mode: "bwrap" }),
    );
    expect(result).toMatchObject({
      status: "limit",
      limit: { kind: "memory", limitBytes: 1024 * MiB, enforcedBy: enforces.memory },
    });
    expect(result.status === "limit" && result.output).not.toContain("all three finished");
    // The survivors were stopped too, not left to sleep out their 4 s.
    expect(seconds).toBeLessThan(4);
  });

  it("the bash tool's result names the memory limit that stopped the call", async () => {
    const policy = withLimits({ callMemoryBytes: 256 * MiB });
    const result = await executeTool(
      "bash",
      { cmd: `python3 -c 's = "x" * (400 << 20)'; echo survived` },
      { workspace: ws, sandbox: { mode: "bwrap", policy } },
    );
    expect(result).toMatchObject({ success: false });
    expect(result.output).toContain(
      `[stopped: out of memory: the command's processes together reached the 256 MiB limit for one command (cgroup v${enforces.memory})]`,
    );
    expect(result.output).not.toContain("survived");
  });

  it("lets a call that stays under the limit finish", async () => {
    const policy = withLimits({ callMemoryBytes: 256 * MiB });
    const result = await runCommand({
      command: `python3 -c 's = "x" * (100 << 20)' && echo fine`,
      workspace: ws,
      policy,
      mode: "bwrap",
    });
    expect(result).toMatchObject({ status: "exited", exitCode: 0, output: "fine\n" });
  });
});

describe.runIf(enforces.processes !== null)("the process limit holds for the whole call", () => {
  it("stops a fork bomb at the call's process limit", async () => {
    const policy = withLimits({ maxProcesses: 64 });
    const { result, seconds } = await timed(
      runCommand({
        command: "bomb() { bomb | bomb & }; bomb; sleep 20",
        workspace: ws,
        policy,
        mode: "bwrap",
        timeoutS: 20,
      }),
    );
    expect(result).toMatchObject({
      status: "limit",
      limit: { kind: "processes", max: 64, enforcedBy: enforces.processes },
    });
    expect(seconds).toBeLessThan(5);
    const viaTool = await executeTool(
      "bash",
      { cmd: "for i in $(seq 100); do sleep 5 & done; wait" },
      { workspace: ws, sandbox: { mode: "bwrap", policy } },
    );
    expect(viaTool.output).toContain(
      `[stopped: the command reached its limit of 64 processes and threads at once (cgroup v${enforces.processes})]`,
    );
  });

  it("holds the unsandboxed mode to the same limit", async () => {
    const policy = withLimits({ maxProcesses: 64 });
    const result = await runCommand({
      command: "for i in $(seq 100); do sleep 5 & done; wait",
      workspace: ws,
      policy,
      mode: "unsandboxed",
    });
    expect(result).toMatchObject({ status: "limit", limit: { kind: "processes", max: 64 } });
  });

  it("lets a call run as many processes as the limit allows", async () => {
    const policy = withLimits({ maxProcesses: 64 });
    const result = await runCommand({
      command: "for i in $(seq 40); do sleep 0.5 & done; wait; echo done",
      workspace: ws,
      policy,
      mode: "bwrap",
    });
    expect(result).toMatchObject({ status: "exited", exitCode: 0, output: "done\n" });
  });
});

describe("the workspace's disk quota in bash", () => {
  const quota = 20 * MiB;
  const policy = withLimits({ workspaceQuotaBytes: quota });

  it("stops dd filling the disk at what is left of the quota", async () => {
    const result = await runCommand({
      command: "dd if=/dev/zero of=fill bs=1M count=500 status=none",
      workspace: ws,
      policy,
      mode: "bwrap",
    });
    expect(result).toMatchObject({ status: "exited", fileLimitFromQuota: { quotaBytes: quota } });
    expect(result.status === "exited" && result.exitCode).toBe(128 + 25); // SIGXFSZ
    expect(fs.statSync(path.join(ws, "fill")).size).toBeLessThanOrEqual(quota);
    expect(await workspaceUsage(ws)).toBeLessThanOrEqual(quota);
  });

  it("the bash tool's result says the quota capped the file", async () => {
    const result = await executeTool(
      "bash",
      { cmd: "dd if=/dev/zero of=fill bs=1M count=500 status=none" },
      { workspace: ws, sandbox: { mode: "bwrap", policy } },
    );
    expect(result.success).toBe(false);
    expect(result.output).toMatch(
      /no file could grow past 19.9 MiB in this call: what was left of the workspace's 20 MiB disk quota\]$/,
    );
  });

  it("stops a call writing many files once the workspace passes its quota", async () => {
    const command = "for i in $(seq 200); do head -c 4000000 /dev/zero > f$i; sleep 0.02; done; echo wrote them all";
    const result = await runCommand({ command, workspace: ws, policy, mode: "bwrap" });
    expect(result).toMatchObject({ status: "limit", limit: { kind: "disk_quota", quotaBytes: quota } });
    expect(result.status === "limit" && result.output).not.toContain("wrote them all");
    const used = await workspaceUsage(ws);
    expect(used).toBeGreaterThan(quota);
    // Overshoot: what the loop wrote between two measurements (about 4 MB every 30 ms, one per 250 ms).
    expect(used).toBeLessThan(quota + 100 * MiB);
  });

  it("in a workspace over its quota, bash cannot grow a file but can delete them, and then write again", async () => {
    fs.writeFileSync(path.join(ws, "big.bin"), Buffer.alloc(21 * MiB, 1));
    const bash = (cmd: string) => executeTool("bash", { cmd }, { workspace: ws, sandbox: { mode: "bwrap", policy } });
    const refused = await bash("echo more > notes.txt");
    expect(refused.success).toBe(false);
    expect(refused.output).toContain("no file could grow past 0 MiB in this call");
    expect(fs.readFileSync(path.join(ws, "notes.txt"), "utf8")).toBe("");
    expect(await bash("rm big.bin")).toMatchObject({ success: true });
    expect(await bash("echo more > notes.txt && cat notes.txt")).toMatchObject({ success: true, output: "more" });
  });

  it("with no quota, the same dd writes all it asks for", async () => {
    const result = await runCommand({
      command: "dd if=/dev/zero of=fill bs=1M count=30 status=none",
      workspace: ws,
      policy: withLimits({ workspaceQuotaBytes: null }),
      mode: "bwrap",
    });
    expect(result).toEqual({ status: "exited", exitCode: 0, output: "", timeoutS: 30 });
    expect(fs.statSync(path.join(ws, "fill")).size).toBe(30 * MiB);
  });
});
