import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "@/lib/sandbox/policy";
import { withRoot } from "@/lib/workspaces/safe-fs";
import { toolRelativePath } from "./tool-path";

let ws: string;
beforeAll(() => {
  ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "cc-tool-path-")));
});
afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

describe("toolRelativePath", () => {
  const cases: Array<[string, string | null]> = [
    ["src/a.ts", "src/a.ts"],
    ["./src/../src/a.ts", "src/a.ts"],
    ["/workspace/src/a.ts", "src/a.ts"],
    ["/workspace", ""],
    [".", ""],
    ["", ""],
    ["..", null],
    ["../src/a.ts", null],
    ["new/../../x.txt", null],
    ["/etc/passwd", null],
    ["/proc/self/root/etc/passwd", null],
    ["/workspace/../etc/passwd", null],
    ["a\0b", null],
  ];
  it.each(cases)("%j → %j", async (input, expected) => {
    const where = await withRoot(ws, [], async (root) => toolRelativePath(DEFAULT_POLICY, root, ws, input));
    expect(where.ok ? where.rel : null).toBe(expected);
  });

  it("accepts the workspace's own absolute host path", async () => {
    const where = await withRoot(ws, [], async (root) =>
      toolRelativePath(DEFAULT_POLICY, root, ws, path.join(ws, "src/a.ts")),
    );
    expect(where).toEqual({ ok: true, rel: "src/a.ts" });
  });

  it("says why a /proc path is refused", async () => {
    const where = await withRoot(ws, [], async (root) =>
      toolRelativePath(DEFAULT_POLICY, root, ws, "/proc/self/environ"),
    );
    expect(where).toEqual({ ok: false, error: "/proc/self/environ: paths under /proc are not allowed" });
  });
});
