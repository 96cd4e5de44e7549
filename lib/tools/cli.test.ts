import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseToolArgv, runToolCommand } from "./cli";

afterEach(() => vi.restoreAllMocks());

function capture() {
  const out: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  return out;
}

describe("continualcode tool", () => {
  it("parses the name, --workspace and --args (spaced or with =)", () => {
    expect(parseToolArgv(["read", "--workspace", "/w", "--args", '{"path":"a"}'])).toEqual({
      name: "read",
      workspace: "/w",
      args: { path: "a" },
      unsandboxed: false,
    });
    expect(parseToolArgv(["bash", "--workspace=/w", "--args={}", "--unsandboxed"])).toEqual({
      name: "bash",
      workspace: "/w",
      args: {},
      unsandboxed: true,
    });
  });

  it("reports usage errors with exit code 2", async () => {
    expect(parseToolArgv(["read"])).toEqual({ error: "missing --workspace DIR" });
    expect(parseToolArgv(["read", "--workspace", "/w", "--args", "{bad"])).toMatchObject({
      error: expect.stringContaining("--args is not valid JSON"),
    });
    const out = capture();
    expect(await runToolCommand(["read", "--bogus"])).toBe(2);
    expect(out.join("")).toContain("unknown option --bogus");
  });

  it("prints the tool result as JSON and exits 0 on success, 1 on failure", async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), "cc-cli-"));
    fs.writeFileSync(path.join(ws, "a.txt"), "hi\n");
    const out = capture();
    expect(await runToolCommand(["read", "--workspace", ws, "--args", '{"path":"a.txt"}'])).toBe(0);
    expect(await runToolCommand(["read", "--workspace", ws, "--args", '{"path":"b.txt"}'])).toBe(1);
    vi.restoreAllMocks();
    fs.rmSync(ws, { recursive: true, force: true });
    expect(JSON.parse(out[0]!)).toEqual({ output: "1| hi", success: true });
    expect(JSON.parse(out[1]!)).toMatchObject({ output: "file not found: b.txt", success: false });
  });
});
