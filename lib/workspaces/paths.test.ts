import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relativeInWorkspace } from "./paths";
import { readWorkspaceFile, MAX_VIEW_BYTES } from "./read-file";

let base: string;
let root: string;

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "ws-paths-"));
  root = path.join(base, "ws");
  await fs.mkdir(path.join(root, "src"), { recursive: true });
  await fs.writeFile(path.join(root, "src", "a.py"), "print('a')\n");
  await fs.writeFile(path.join(base, "secret.txt"), "outside\n");
  await fs.symlink(path.join(base, "secret.txt"), path.join(root, "link-out"));
  await fs.symlink("/etc", path.join(root, "etc-dir"));
  await fs.symlink("src/a.py", path.join(root, "link-in"));
  await fs.writeFile(path.join(root, "image.bin"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
  await fs.writeFile(path.join(root, "big.txt"), "x".repeat(MAX_VIEW_BYTES + 1));
});

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

describe("relativeInWorkspace", () => {
  it("normalises a path inside the workspace without touching the disk", () => {
    expect(relativeInWorkspace("src/./lib/../a.py")).toEqual({ status: "ok", rel: "src/a.py" });
    expect(relativeInWorkspace("")).toEqual({ status: "ok", rel: "" });
  });

  it.each(["../secret.txt", "src/../../secret.txt", "/etc/passwd", "a\0b"])(
    "refuses %s before looking at the disk",
    (rel) => {
      expect(relativeInWorkspace(rel).status).toBe("outside");
    },
  );
});

describe("readWorkspaceFile", () => {
  it("returns the text of a source file", async () => {
    expect(await readWorkspaceFile(root, "src/a.py")).toEqual({
      kind: "text",
      path: "src/a.py",
      size: 11,
      content: "print('a')\n",
    });
  });

  it("never returns the content of a file a symlink points to outside", async () => {
    const view = await readWorkspaceFile(root, "link-out");
    expect(view.kind).toBe("outside");
    expect(JSON.stringify(view)).not.toContain("outside\\n");
  });

  it.each([
    ["../secret.txt", "outside"],
    [path.join(os.tmpdir(), "secret.txt"), "outside"],
    ["link-out", "outside"],
    ["etc-dir/passwd", "outside"],
    ["missing.txt", "not_found"],
  ])("refuses %s as %s", async (rel, kind) => {
    expect((await readWorkspaceFile(root, rel)).kind).toBe(kind);
  });

  it("follows a symlink that stays inside the workspace", async () => {
    expect(await readWorkspaceFile(root, "link-in")).toMatchObject({ kind: "text", content: "print('a')\n" });
  });

  it("refuses a file hard-linked to one outside, as the file tools do", async () => {
    await fs.link(path.join(base, "secret.txt"), path.join(root, "hard.txt"));
    const view = await readWorkspaceFile(root, "hard.txt");
    expect(view).toMatchObject({
      kind: "outside",
      error: "hard.txt has 2 hard links and not all of them are inside the workspace",
    });
    await fs.link(path.join(root, "src", "a.py"), path.join(root, "src", "twin.py"));
    expect(await readWorkspaceFile(root, "src/twin.py")).toMatchObject({ kind: "text", content: "print('a')\n" });
  });

  it("describes a binary file instead of dumping it", async () => {
    expect(await readWorkspaceFile(root, "image.bin")).toEqual({ kind: "binary", path: "image.bin", size: 7 });
  });

  it("describes a large file instead of dumping it", async () => {
    expect(await readWorkspaceFile(root, "big.txt")).toEqual({
      kind: "too_large",
      path: "big.txt",
      size: MAX_VIEW_BYTES + 1,
      limit: MAX_VIEW_BYTES,
    });
  });

  it("reports a folder as a folder", async () => {
    expect(await readWorkspaceFile(root, "src")).toEqual({ kind: "directory", path: "src" });
  });
});
