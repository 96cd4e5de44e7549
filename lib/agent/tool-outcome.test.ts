/**
 * Each case runs the real tool in the real sandbox (bubblewrap) on a scratch workspace and
 * classifies what came back, so the line between "ran and exited non-zero" and "could not run as
 * asked" is drawn on the results the agent actually gets.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { executeTool, type ToolContext } from "@/lib/tools";
import { classifyToolResult } from "./tool-outcome";

let ws: string;
let ctx: ToolContext;
const outcomeOf = async (name: string, args: unknown) => classifyToolResult(await executeTool(name, args, ctx));

beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cc-outcome-"));
  fs.writeFileSync(
    path.join(ws, "test_calc.py"),
    "import unittest\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(1 + 1, 3)\nunittest.main()\n",
  );
  ctx = { workspace: ws, sandbox: { mode: "bwrap" } };
});
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

describe("an executed call's outcome", () => {
  it("a test run that fails on the bug is an observation carrying its exit code, with the failing output", async () => {
    const result = await executeTool("bash", { cmd: "python3 test_calc.py" }, ctx);
    expect(result.output).toContain("AssertionError");
    expect(classifyToolResult(result)).toEqual({ kind: "observation", exitCode: 1 });
  });

  it("a command that succeeds is a success", async () => {
    expect(await outcomeOf("bash", { cmd: "echo ok" })).toEqual({ kind: "succeeded" });
    expect(await outcomeOf("read", { path: "test_calc.py" })).toEqual({ kind: "succeeded" });
  });

  it("a command the shell cannot find or execute did not run as asked: a failure", async () => {
    expect(await outcomeOf("bash", { cmd: "pytest -q" })).toEqual({ kind: "failed" });
    fs.writeFileSync(path.join(ws, "run.sh"), "echo hi\n", { mode: 0o644 });
    expect(await outcomeOf("bash", { cmd: "./run.sh" })).toEqual({ kind: "failed" });
  });

  it("a missing file, invalid arguments and an unknown tool are failures", async () => {
    expect(await outcomeOf("read", { path: "nope.py" })).toEqual({ kind: "failed" });
    expect(await outcomeOf("bash", { command: "ls" })).toEqual({ kind: "failed" });
    expect(await outcomeOf("run", { cmd: "ls" })).toEqual({ kind: "failed" });
  });

  it("a sandbox refusal and a timeout are failures, though the timeout's exit code is non-zero", async () => {
    expect(await outcomeOf("write", { path: ".git/hooks/pre-commit", content: "x" })).toEqual({ kind: "failed" });
    expect(await outcomeOf("write", { path: "../outside.txt", content: "x" })).toEqual({ kind: "failed" });
    const timedOut = await executeTool("bash", { cmd: "sleep 5", timeout: 0.5 }, ctx);
    expect(timedOut.output).toContain("exit code 124");
    expect(classifyToolResult(timedOut)).toEqual({ kind: "failed" });
  });
});
