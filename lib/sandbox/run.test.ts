import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type SandboxPolicy } from "./policy";
import { runCommand } from "./run";
import { executeTool } from "@/lib/tools";

let ws: string;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cc-run-"));
});
afterEach(() => {
  delete process.env.CONTINUALCODE_BWRAP;
  fs.rmSync(ws, { recursive: true, force: true });
});

const run = (command: string, extra: Partial<Parameters<typeof runCommand>[0]> = {}) =>
  runCommand({ command, workspace: ws, policy: DEFAULT_POLICY, mode: "bwrap", ...extra });

describe("runCommand", () => {
  it("without bubblewrap, bash is refused with the install command", async () => {
    process.env.CONTINUALCODE_BWRAP = "/nonexistent/bwrap";
    expect(await run("true")).toEqual({
      status: "unavailable",
      error: "bash is disabled: bubblewrap is not installed (install it with `apt-get install -y bubblewrap`)",
    });
    const viaTool = await executeTool("bash", { cmd: "true" }, { workspace: ws, sandbox: { mode: "bwrap" } });
    expect(viaTool.success).toBe(false);
    expect(viaTool.output).toContain("apt-get install -y bubblewrap");
  });

  it("the unsandboxed mode, chosen by an administrator, runs in the workspace with a minimal environment", async () => {
    process.env.CC_RUN_TEST_SECRET = "hidden";
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expands it, with a default when the variable is absent.
    const result = await run("pwd; echo ${CC_RUN_TEST_SECRET:-none}", { mode: "unsandboxed" });
    delete process.env.CC_RUN_TEST_SECRET;
    expect(result).toEqual({ status: "exited", exitCode: 0, output: `${fs.realpathSync(ws)}\nnone\n`, timeoutS: 30 });
  });

  it("the unsandboxed mode still times out with exit code 124", async () => {
    expect(await run("sleep 5", { mode: "unsandboxed", timeoutS: 0.3 })).toEqual({
      status: "timed_out",
      exitCode: 124,
      output: "",
      timeoutS: 0.3,
    });
  });

  it("the unsandboxed mode does not wait for a background job that holds the pipe", async () => {
    const result = await run("sleep 5 & echo started", { mode: "unsandboxed" });
    expect(result).toMatchObject({ status: "exited", exitCode: 0, output: "started\n" });
  });

  it("an abort signal stops the command", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    expect(await run("sleep 5", { signal: controller.signal })).toMatchObject({ status: "aborted" });
  });

  it("a read-only policy leaves the workspace unwritable to bash", async () => {
    const policy: SandboxPolicy = { ...DEFAULT_POLICY, type: "read-only" };
    const result = await run("echo x > f.txt", { policy });
    expect(result).toMatchObject({ status: "exited", exitCode: 1 });
    expect(fs.existsSync(path.join(ws, "f.txt"))).toBe(false);
  });

  it("the read-only subpaths bash sees are the policy's: switching the policy changes what it may write", async () => {
    fs.mkdirSync(path.join(ws, "docs"));
    fs.writeFileSync(path.join(ws, "docs/a.md"), "kept\n");
    const write = "echo changed > docs/a.md; echo new > b.txt";
    const guarded: SandboxPolicy = { ...DEFAULT_POLICY, readOnlySubpaths: [".git", "docs"] };
    expect(await run(write, { policy: guarded })).toMatchObject({ status: "exited", exitCode: 0 });
    expect([
      fs.readFileSync(path.join(ws, "docs/a.md"), "utf8"),
      fs.readFileSync(path.join(ws, "b.txt"), "utf8"),
    ]).toEqual(["kept\n", "new\n"]);
    // Positive control: under the default policy docs/ is writable.
    expect(await run(write)).toMatchObject({ status: "exited", exitCode: 0 });
    expect(fs.readFileSync(path.join(ws, "docs/a.md"), "utf8")).toBe("changed\n");
  });

  it("the file-size limit stops a command writing a file larger than allowed", async () => {
    const policy: SandboxPolicy = {
      ...DEFAULT_POLICY,
      limits: { ...DEFAULT_POLICY.limits, maxFileBytes: 1024 * 1024 },
    };
    const result = await run("head -c 5000000 /dev/zero > big.bin", { policy });
    expect(result).toMatchObject({ status: "exited" });
    expect(result.status === "exited" && result.exitCode).not.toBe(0);
    expect(fs.statSync(path.join(ws, "big.bin")).size).toBe(1024 * 1024);
  });

  it("a missing workspace is reported, not run elsewhere", async () => {
    expect(
      await runCommand({ command: "true", workspace: path.join(ws, "nope"), policy: DEFAULT_POLICY, mode: "bwrap" }),
    ).toMatchObject({ status: "unavailable" });
  });
});
