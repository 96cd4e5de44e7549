import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type SandboxPolicy } from "@/lib/sandbox/policy";
import { executeTool } from "@/lib/tools";
import type { ToolContext } from "@/lib/tools/types";
import { checkWriteQuota, formatMiB, quotaLeft, workspaceUsage } from "./quota";

const MiB = 1024 * 1024;

let ws: string;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cc-quota-"));
});
afterEach(() => {
  fs.rmSync(ws, { recursive: true, force: true });
});

const withQuota = (quotaBytes: number | null): ToolContext => {
  const policy: SandboxPolicy = {
    ...DEFAULT_POLICY,
    limits: { ...DEFAULT_POLICY.limits, workspaceQuotaBytes: quotaBytes },
  };
  return { workspace: ws, sandbox: { mode: "bwrap", policy } };
};

describe("what the quota counts", () => {
  it("counts the blocks the workspace's files occupy, each hard-linked file once", async () => {
    const empty = await workspaceUsage(ws);
    fs.writeFileSync(path.join(ws, "a.bin"), Buffer.alloc(3 * MiB, 1));
    fs.linkSync(path.join(ws, "a.bin"), path.join(ws, "b.bin"));
    expect((await workspaceUsage(ws)) - empty).toBe(3 * MiB);
  });

  it("formats usage rounded up and space left rounded down, to a tenth of a MiB", () => {
    expect([
      formatMiB(100 * MiB),
      formatMiB(100 * MiB + 1),
      formatMiB(100 * MiB - 1, "down"),
      formatMiB(0, "down"),
    ]).toEqual(["100 MiB", "100.1 MiB", "99.9 MiB", "0 MiB"]);
    expect([quotaLeft(30, 100), quotaLeft(130, 100)]).toEqual([70, 0]);
  });
});

describe("the file tools under a workspace quota", () => {
  const quota = 1 * MiB;
  const fill = () => fs.writeFileSync(path.join(ws, "data.bin"), Buffer.alloc(900 * 1024, 1));

  it("refuses a write that would pass the quota and leaves the file unchanged", async () => {
    fill();
    fs.writeFileSync(path.join(ws, "notes.txt"), "original\n");
    const result = await executeTool("write", { path: "notes.txt", content: "x".repeat(200 * 1024) }, withQuota(quota));
    expect(result.success).toBe(false);
    expect(result.output).toMatch(
      /^cannot write notes\.txt: the workspace would use 1\.1 MiB of its 1 MiB quota; delete files the task no longer needs, or write less$/,
    );
    expect(fs.readFileSync(path.join(ws, "notes.txt"), "utf8")).toBe("original\n");
  });

  it("refuses a new file past the quota without creating it", async () => {
    fill();
    const result = await executeTool("write", { path: "new.txt", content: "y".repeat(200 * 1024) }, withQuota(quota));
    expect(result.success).toBe(false);
    expect(fs.existsSync(path.join(ws, "new.txt"))).toBe(false);
  });

  it("refuses edit and edit_lines that would grow a file past the quota, leaving it unchanged", async () => {
    fill();
    fs.writeFileSync(path.join(ws, "notes.txt"), "one\ntwo\n");
    const big = "z".repeat(200 * 1024);
    const edit = await executeTool("edit", { path: "notes.txt", old: "one", new: big }, withQuota(quota));
    const editLines = await executeTool(
      "edit_lines",
      { path: "notes.txt", start_line: 2, end_line: 2, content: big },
      withQuota(quota),
    );
    expect([edit.success, editLines.success]).toEqual([false, false]);
    expect(edit.output).toContain("of its 1 MiB quota");
    expect(editLines.output).toContain("of its 1 MiB quota");
    expect(fs.readFileSync(path.join(ws, "notes.txt"), "utf8")).toBe("one\ntwo\n");
  });

  it("allows a write that fits, and one that shrinks a file in a workspace already over its quota", async () => {
    fill();
    expect(await executeTool("write", { path: "small.txt", content: "fits\n" }, withQuota(quota))).toMatchObject({
      success: true,
    });
    fs.writeFileSync(path.join(ws, "log.txt"), "l".repeat(300 * 1024));
    expect(await executeTool("write", { path: "log.txt", content: "trimmed\n" }, withQuota(quota))).toMatchObject({
      success: true,
    });
    expect(fs.readFileSync(path.join(ws, "log.txt"), "utf8")).toBe("trimmed\n");
  });

  it("without a quota, the same write succeeds", async () => {
    fill();
    expect(
      await executeTool("write", { path: "notes.txt", content: "x".repeat(200 * 1024) }, withQuota(null)),
    ).toMatchObject({ success: true });
  });

  it("checkWriteQuota gives back the blocks of the file being replaced", async () => {
    fs.writeFileSync(path.join(ws, "a.bin"), Buffer.alloc(600 * 1024, 1));
    const stat = fs.statSync(path.join(ws, "a.bin"));
    expect(await checkWriteQuota({ root: ws, quotaBytes: quota, replacing: stat, newBytes: 700 * 1024 })).toEqual({
      ok: true,
    });
    expect(await checkWriteQuota({ root: ws, quotaBytes: quota, replacing: null, newBytes: 700 * 1024 })).toMatchObject(
      { ok: false },
    );
  });
});
