import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryBeneath, normalizeBeneath, openBeneath, readFileIn, replaceFile, withRoot, type Root } from "./safe-fs";

let base: string;
let ws: string;

beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "cc-safe-fs-")));
  ws = path.join(base, "ws");
  fs.mkdirSync(path.join(ws, "src/deep"), { recursive: true });
  fs.writeFileSync(path.join(ws, "src/a.ts"), "a\n");
  fs.writeFileSync(path.join(base, "outside.txt"), "outside\n");
  fs.symlinkSync("src", path.join(ws, "inner"));
  fs.symlinkSync("../a.ts", path.join(ws, "src/deep/up.ts"));
  fs.symlinkSync("/workspace/src/a.ts", path.join(ws, "sandbox-abs"));
  fs.symlinkSync(path.join(ws, "src/a.ts"), path.join(ws, "host-abs"));
  fs.symlinkSync("../outside.txt", path.join(ws, "out-rel"));
  fs.symlinkSync(path.join(base, "outside.txt"), path.join(ws, "out-abs"));
  fs.symlinkSync("src/../../outside.txt", path.join(ws, "out-through-inside"));
  fs.symlinkSync("new/made.txt", path.join(ws, "dangling-in"));
  fs.symlinkSync("../created-outside.txt", path.join(ws, "dangling-out"));
  fs.symlinkSync("loop-b", path.join(ws, "loop-a"));
  fs.symlinkSync("loop-a", path.join(ws, "loop-b"));
  execFileSync("mkfifo", [path.join(ws, "pipe")]);
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const inRoot = <T>(use: (root: Root) => Promise<T>) => withRoot(ws, ["/workspace"], use);

async function openRel(rel: string): Promise<string> {
  return inRoot(async (root) => {
    const opened = await openBeneath(root, rel);
    if (!opened.ok) return opened.reason;
    await opened.handle.close();
    return opened.rel;
  });
}

describe("normalizeBeneath", () => {
  it.each([
    ["src/./a.ts", "src/a.ts"],
    ["src/deep/../a.ts", "src/a.ts"],
    ["", ""],
    [".", ""],
    ["src/", "src"],
    ["..", null],
    ["src/../../x", null],
    ["a/../../a/b", null],
  ])("%j → %j", (input, expected) => expect(normalizeBeneath(input)).toBe(expected));
});

describe("openBeneath", () => {
  it.each([
    ["src/a.ts", "src/a.ts"],
    ["inner/a.ts", "src/a.ts"],
    ["src/deep/up.ts", "src/a.ts"],
    ["sandbox-abs", "src/a.ts"],
    ["host-abs", "src/a.ts"],
    ["", ""],
    ["inner", "src"],
  ])("follows a link that stays inside: %s → %s", async (rel, expected) => {
    expect(await openRel(rel)).toBe(expected);
  });

  it.each(["out-rel", "out-abs", "out-through-inside"])("refuses %s, a link that leaves the workspace", async (rel) => {
    expect(await openRel(rel)).toBe("outside");
  });

  it("stops at a symlink loop", async () => {
    expect(await openRel("loop-a")).toBe("too_many_links");
  });

  it("reports a missing file, and a file used as a folder, without opening anything else", async () => {
    expect(await openRel("missing.txt")).toBe("not_found");
    expect(await openRel("src/a.ts/x")).toBe("not_a_directory");
  });

  it("opens a FIFO without blocking, so the caller can refuse it", async () => {
    const kind = await inRoot(async (root) => {
      const opened = await openBeneath(root, "pipe");
      if (!opened.ok) return opened.reason;
      await opened.handle.close();
      return opened.stat.isFIFO() ? "fifo" : "other";
    });
    expect(kind).toBe("fifo");
  });
});

describe("readFileIn", () => {
  it("reads a regular file and refuses a symlink, a FIFO and a file over the limit", async () => {
    const got = await inRoot(async (root) => [
      await readFileIn(root.handle, "host-abs", 100),
      await readFileIn(root.handle, "pipe", 100),
      await readFileIn(root.handle, "missing", 100),
    ]);
    expect(got.map((r) => (r.ok ? "ok" : r.reason))).toEqual(["not_a_file", "not_a_file", "missing"]);
    const src = await inRoot(async (root) => {
      const opened = await openBeneath(root, "src");
      if (!opened.ok) throw new Error(opened.error);
      try {
        const small = await readFileIn(opened.handle, "a.ts", 1);
        const whole = await readFileIn(opened.handle, "a.ts", 100);
        return [small.ok ? "ok" : small.reason, whole.ok ? whole.bytes.toString() : whole.reason];
      } finally {
        await opened.handle.close();
      }
    });
    expect(src).toEqual(["too_large", "a\n"]);
  });
});

describe("entryBeneath and replaceFile", () => {
  async function write(rel: string, text: string, mayCreateDir?: (rel: string) => boolean): Promise<string> {
    return inRoot(async (root) => {
      const entry = await entryBeneath(root, rel, { mayCreateDir });
      if (!entry.ok) return entry.reason;
      try {
        await replaceFile(entry, Buffer.from(text), entry.stat ? entry.stat.mode & 0o7777 : 0o644);
        return entry.rel;
      } finally {
        await entry.dir.close();
      }
    });
  }

  it("writes through a link that stays inside, to where it points", async () => {
    expect(await write("inner/b.ts", "b\n")).toBe("src/b.ts");
    expect(fs.readFileSync(path.join(ws, "src/b.ts"), "utf8")).toBe("b\n");
  });

  it("creates the target of a dangling link inside, making its folder", async () => {
    expect(await write("dangling-in", "made\n", () => true)).toBe("new/made.txt");
    expect(fs.readFileSync(path.join(ws, "new/made.txt"), "utf8")).toBe("made\n");
  });

  it("refuses a dangling link that points outside, and creates nothing there", async () => {
    expect(await write("dangling-out", "pwned")).toBe("outside");
    expect(fs.existsSync(path.join(base, "created-outside.txt"))).toBe(false);
  });

  it("makes no folder the caller does not allow", async () => {
    expect(await write("forbidden/x.txt", "x", (rel) => rel !== "forbidden")).toBe("not_found");
    expect(fs.existsSync(path.join(ws, "forbidden"))).toBe(false);
  });

  it("keeps an existing file's mode and leaves no temporary file behind", async () => {
    fs.writeFileSync(path.join(ws, "run.sh"), "#!/bin/sh\n");
    fs.chmodSync(path.join(ws, "run.sh"), 0o755);
    expect(await write("run.sh", "#!/bin/sh\necho hi\n")).toBe("run.sh");
    expect(fs.statSync(path.join(ws, "run.sh")).mode & 0o777).toBe(0o755);
    expect(fs.readdirSync(ws).filter((n) => n.startsWith(".cc-write-"))).toEqual([]);
  });

  it("never replaces a folder, and cleans up after the refused rename", async () => {
    expect(await write("", "x")).toBe("not_a_file");
    await expect(write("src/deep", "x")).rejects.toThrow(/EISDIR/);
    expect(fs.statSync(path.join(ws, "src/deep")).isDirectory()).toBe(true);
    expect(fs.readdirSync(path.join(ws, "src")).filter((n) => n.startsWith(".cc-write-"))).toEqual([]);
  });
});
