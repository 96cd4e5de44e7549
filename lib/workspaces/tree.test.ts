import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listTree } from "./tree";
import { seedFromExample, examplePath } from "./seed";

let root: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "ws-tree-"));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("listTree", () => {
  it("lists folders before files at each level, skipping .git and node_modules", async () => {
    await fs.mkdir(path.join(root, "src"), { recursive: true });
    await fs.mkdir(path.join(root, ".git", "objects"), { recursive: true });
    await fs.mkdir(path.join(root, "node_modules", "left-pad"), { recursive: true });
    await fs.writeFile(path.join(root, "src", "main.ts"), "");
    await fs.writeFile(path.join(root, "README.md"), "");
    await fs.writeFile(path.join(root, ".gitignore"), "");
    expect(await listTree(root)).toEqual({
      entries: [
        { path: "src", name: "src", type: "dir", depth: 0 },
        { path: "src/main.ts", name: "main.ts", type: "file", depth: 1 },
        { path: ".gitignore", name: ".gitignore", type: "file", depth: 0 },
        { path: "README.md", name: "README.md", type: "file", depth: 0 },
      ],
      truncated: false,
    });
  });

  it("stops at the entry cap and says the listing was truncated", async () => {
    for (let i = 0; i < 30; i++) await fs.writeFile(path.join(root, `f${String(i).padStart(2, "0")}.txt`), "");
    const tree = await listTree(root, { maxEntries: 10 });
    expect(tree.truncated).toBe(true);
    expect(tree.entries.map((e) => e.name)).toEqual(Array.from({ length: 10 }, (_, i) => `f0${i}.txt`));
  });

  it("lists a symlinked folder without walking into it", async () => {
    await fs.symlink("/etc", path.join(root, "etc"));
    expect(await listTree(root)).toEqual({
      entries: [{ path: "etc", name: "etc", type: "symlink", depth: 0 }],
      truncated: false,
    });
  });
});

describe("seedFromExample", () => {
  it("copies every file of the calculator example, byte for byte", async () => {
    const dest = path.join(root, "ws");
    await seedFromExample(dest, "calculator");
    const expected = (await fs.readdir(examplePath("calculator"))).filter((n) => n !== "__pycache__").sort();
    expect((await fs.readdir(dest)).sort()).toEqual(expected);
    expect(expected).toEqual(expect.arrayContaining(["README.md", "calculator.py", "test_calculator.py"]));
    for (const name of expected) {
      expect(await fs.readFile(path.join(dest, name), "utf8")).toBe(
        await fs.readFile(path.join(examplePath("calculator"), name), "utf8"),
      );
    }
  });

  it("refuses to overwrite files already in the destination", async () => {
    const dest = path.join(root, "ws");
    await fs.mkdir(dest);
    await fs.writeFile(path.join(dest, "calculator.py"), "mine\n");
    await expect(seedFromExample(dest, "calculator")).rejects.toThrow();
    expect(await fs.readFile(path.join(dest, "calculator.py"), "utf8")).toBe("mine\n");
  });
});
