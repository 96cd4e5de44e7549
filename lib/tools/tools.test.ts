import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { grepWithLimit } from "./grep";
import { executeTool, READONLY_TOOLS, TOOL_NAMES, TOOL_SPECS, type ToolContext } from "./index";

let ws: string;
let ctx: ToolContext;
const file = (rel: string) => fs.readFileSync(path.join(ws, rel), "utf8");
const put = (rel: string, content: string) => {
  fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  fs.writeFileSync(path.join(ws, rel), content);
};
const run = (name: string, args: unknown) => executeTool(name, args, ctx);

beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cc-tools-"));
  ctx = { workspace: ws, sandbox: { mode: "bwrap" } };
});
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

describe("the original's tool cases", () => {
  it("edit strips read-style line-number prefixes when every line of old carries one", async () => {
    put("a.py", "def f():\n    return 1\n");
    const result = await run("edit", {
      path: "a.py",
      old: "1| def f():\n2|     return 1",
      new: "1| def f():\n2|     return 2",
    });
    expect(result).toEqual({ output: "ok", success: true });
    expect(file("a.py")).toBe("def f():\n    return 2\n");
  });

  it("edit rejects an ambiguous old string unless all=true", async () => {
    put("a.txt", "x = 1\nx = 1\n");
    const result = await run("edit", { path: "a.txt", old: "x = 1", new: "x = 2" });
    expect(result.success).toBe(false);
    expect(result.output).toContain("matches 2 times");
    expect(result.output).toContain("use all=true");
    expect(result.feedback).toContain("edit_lines");
    expect(await run("edit", { path: "a.txt", old: "x = 1", new: "x = 2", all: true })).toEqual({
      output: "ok (2 replacements)",
      success: true,
    });
    expect(file("a.txt")).toBe("x = 2\nx = 2\n");
  });

  it("edit_lines rejects a bad range", async () => {
    put("a.txt", "1\n2\n3\n");
    for (const [s, e] of [
      [0, 1],
      [3, 2],
      [-1, 2],
    ]) {
      const result = await run("edit_lines", { path: "a.txt", start_line: s, end_line: e, content: "x" });
      expect(result.success).toBe(false);
      expect(result.output).toContain("bad range");
      expect(result.feedback).toContain("Read the file first");
    }
    expect(file("a.txt")).toBe("1\n2\n3\n");
  });

  it("edit_lines rejects a start past the end of the file plus one", async () => {
    put("a.txt", "1\n2\n3\n");
    const result = await run("edit_lines", { path: "a.txt", start_line: 5, end_line: 5, content: "x" });
    expect(result.success).toBe(false);
    expect(result.output).toContain("start_line 5 is past the end");
  });

  it("edit_lines rejects an end past the end of the file", async () => {
    put("a.txt", "1\n2\n3\n");
    const result = await run("edit_lines", { path: "a.txt", start_line: 2, end_line: 4, content: "x" });
    expect(result.success).toBe(false);
    expect(result.output).toContain("end_line 4 is past the end");
  });

  it("grep explains a bad regular expression as JavaScript syntax", async () => {
    const result = await run("grep", { pat: "(unclosed" });
    expect(result.success).toBe(false);
    expect(result.output).toMatch(/^invalid regular expression \(JavaScript syntax\): /);
  });

  it("glob refuses an absolute base path outside the workspace", async () => {
    const result = await run("glob", { pat: "*", path: "/etc" });
    expect(result.success).toBe(false);
    expect(result.output).toContain("outside the workspace");
  });

  it("read of a missing file fails with a hint to use glob", async () => {
    const result = await run("read", { path: "nope.txt" });
    expect(result).toEqual({
      output: "file not found: nope.txt",
      success: false,
      feedback: expect.stringContaining("glob"),
    });
  });

  it("an unknown tool fails and lists the valid tools", async () => {
    const result = await run("execute", { cmd: "ls" });
    expect(result.success).toBe(false);
    expect(result.feedback).toBe(`There is no tool named execute. Valid tools: ${TOOL_NAMES.join(", ")}.`);
  });

  it("edit_lines appends at end of file with start = end = last line + 1", async () => {
    put("a.txt", "1\n2\n");
    expect(await run("edit_lines", { path: "a.txt", start_line: 3, end_line: 3, content: "3" })).toEqual({
      output: "ok",
      success: true,
    });
    expect(file("a.txt")).toBe("1\n2\n3\n");
  });

  it("edit_lines rejects a partial range past the end of the file", async () => {
    put("a.txt", "1\n2\n");
    const result = await run("edit_lines", { path: "a.txt", start_line: 3, end_line: 4, content: "x" });
    expect(result.success).toBe(false);
    expect(file("a.txt")).toBe("1\n2\n");
  });
});

describe("the original's bugs, fixed", () => {
  it("an append onto a last line without a newline does not join the lines", async () => {
    put("a.txt", "1\n2");
    await run("edit_lines", { path: "a.txt", start_line: 3, end_line: 3, content: "3" });
    expect(file("a.txt")).toBe("1\n2\n3\n");
  });

  it("read's offset is the same 1-based line number that edit_lines takes", async () => {
    put("a.txt", "one\ntwo\nthree\nfour\n");
    const shown = await run("read", { path: "a.txt", offset: 2, limit: 2 });
    expect(shown).toEqual({ output: "2| two\n3| three", success: true });
    await run("edit_lines", { path: "a.txt", start_line: 2, end_line: 3, content: "TWO\nTHREE" });
    expect(file("a.txt")).toBe("one\nTWO\nTHREE\nfour\n");
  });

  it("edit does not strip numbers from old when only some lines carry a prefix", async () => {
    put("a.txt", "1 - 2\nx\n");
    const result = await run("edit", { path: "a.txt", old: "1 - 2\ny", new: "z" });
    expect(result.success).toBe(false);
    expect(file("a.txt")).toBe("1 - 2\nx\n");
  });

  it("edit leaves new untouched when its lines carry no prefixes", async () => {
    put("a.txt", "alpha\nbeta\n");
    await run("edit", { path: "a.txt", old: "2| beta", new: "3 + 4 = 7" });
    expect(file("a.txt")).toBe("alpha\n3 + 4 = 7\n");
  });

  it("edit not-found names the lines holding old's first line and suggests edit_lines", async () => {
    put("a.txt", "def f():\n  pass\n");
    const result = await run("edit", { path: "a.txt", old: "def f():\n    pass", new: "x" });
    expect(result.output).toBe("old_string not found in a.txt (its first line appears at line 1)");
    expect(result.feedback).toContain("edit_lines on line 1");
  });

  it("edit keeps a CRLF file CRLF", async () => {
    put("a.txt", "a\r\nb\r\n");
    await run("edit", { path: "a.txt", old: "a\nb", new: "A\nB" });
    expect(file("a.txt")).toBe("A\r\nB\r\n");
  });

  it("edit treats $ patterns in new literally", async () => {
    put("a.txt", "price\n");
    await run("edit", { path: "a.txt", old: "price", new: "$& $1 $$" });
    expect(file("a.txt")).toBe("$& $1 $$\n");
  });

  it("edit_lines with empty content deletes the range", async () => {
    put("a.txt", "1\n2\n3\n");
    await run("edit_lines", { path: "a.txt", start_line: 2, end_line: 2, content: "" });
    expect(file("a.txt")).toBe("1\n3\n");
  });

  it("edit_lines replacing the last line keeps a file without a final newline that way", async () => {
    put("a.txt", "1\n2");
    await run("edit_lines", { path: "a.txt", start_line: 2, end_line: 2, content: "two" });
    expect(file("a.txt")).toBe("1\ntwo");
  });

  it("edit_lines writes new lines with the file's CRLF terminators", async () => {
    put("a.txt", "1\r\n2\r\n");
    await run("edit_lines", { path: "a.txt", start_line: 1, end_line: 1, content: "a\nb" });
    expect(file("a.txt")).toBe("a\r\nb\r\n2\r\n");
  });

  it("text that is not valid UTF-8 is shown with replacement characters but never edited", async () => {
    fs.writeFileSync(path.join(ws, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    expect((await run("read", { path: "latin1.txt" })).output).toBe(
      "(not valid UTF-8: undecodable bytes shown as \ufffd)\n1| caf\ufffd",
    );
    const edited = await run("edit_lines", { path: "latin1.txt", start_line: 1, end_line: 1, content: "x" });
    expect(edited.output).toBe("latin1.txt is not valid UTF-8; editing it would corrupt it");
  });

  it("write refuses to replace a folder, and read says a folder is not a file", async () => {
    fs.mkdirSync(path.join(ws, "dir"));
    expect((await run("write", { path: "dir", content: "x" })).output).toBe("dir is a directory");
    expect((await run("read", { path: "dir" })).output).toBe("dir is a directory, not a file");
  });

  it("write creates parent folders and returns ok", async () => {
    expect(await run("write", { path: "a/b/c.txt", content: "x" })).toEqual({ output: "ok", success: true });
    expect(file("a/b/c.txt")).toBe("x");
  });

  it("edit_lines appends to an empty file", async () => {
    put("e.txt", "");
    await run("edit_lines", { path: "e.txt", start_line: 1, end_line: 1, content: "first" });
    expect(file("e.txt")).toBe("first\n");
  });

  it("read detects binary files instead of dumping them", async () => {
    fs.writeFileSync(path.join(ws, "b.bin"), Buffer.from([0x89, 0x50, 0x00, 0x01]));
    const result = await run("read", { path: "b.bin" });
    expect(result).toEqual({ output: "b.bin is a binary file (4 bytes); not shown", success: false });
  });

  it("read refuses files over the size limit and says what to use instead", async () => {
    fs.writeFileSync(path.join(ws, "big.txt"), "x".repeat(3 * 1024 * 1024));
    const result = await run("read", { path: "big.txt" });
    expect(result.success).toBe(false);
    expect(result.output).toContain("up to 2097152 bytes");
  });

  it("read caps long files and says how to continue", async () => {
    put("long.txt", Array.from({ length: 2500 }, (_, i) => `line ${i + 1}`).join("\n"));
    const lines = (await run("read", { path: "long.txt" })).output.split("\n");
    const [, more, offset] = lines.at(-1)!.match(/^\.\.\. (\d+) more lines \(continue with offset=(\d+)\)$/)!;
    expect(lines.length - 1).toBe(Number(offset) - 1);
    expect(Number(more) + Number(offset) - 1).toBe(2500);
    expect(lines.join("\n").length).toBeLessThanOrEqual(30_000);
  });

  it("glob includes dotfiles, skips .git and .gitignored files, and lists newest first", async () => {
    put(".gitignore", "*.log\nbuild/\n!keep.log\n");
    put(".env.example", "A=1");
    put("src/old.ts", "");
    put("src/new.ts", "");
    put("debug.log", "");
    put("keep.log", "");
    put("build/out.ts", "");
    put(".git/config", "");
    fs.utimesSync(path.join(ws, "src/old.ts"), new Date(1_000_000), new Date(1_000_000));
    const ts = await run("glob", { pat: "**/*.ts" });
    expect(ts).toEqual({ output: "src/new.ts\nsrc/old.ts", success: true });
    const all = (await run("glob", { pat: "**/*" })).output.split("\n").sort();
    expect(all).toEqual([".env.example", ".gitignore", "keep.log", "src/new.ts", "src/old.ts"]);
  });

  it("glob honours nested .gitignore files and anchored patterns", async () => {
    put(".gitignore", "/top.txt\n");
    put("top.txt", "");
    put("sub/top.txt", "");
    put("sub/.gitignore", "secret/**\n*.tmp\n");
    put("sub/secret/a.txt", "");
    put("sub/x.tmp", "");
    put("y.tmp", "");
    const all = (await run("glob", { pat: "**/*" })).output.split("\n").sort();
    expect(all).toEqual([".gitignore", "sub/.gitignore", "sub/top.txt", "y.tmp"]);
  });

  it("glob caps its list at 50 with a line saying how many more", async () => {
    for (let i = 0; i < 60; i++) put(`f${i}.txt`, "");
    const lines = (await run("glob", { pat: "*.txt" })).output.split("\n");
    expect(lines).toHaveLength(51);
    expect(lines[50]).toBe("... 10 more");
  });

  it("glob refuses patterns that are absolute or climb with ..", async () => {
    expect((await run("glob", { pat: "/etc/*" })).success).toBe(false);
    expect((await run("glob", { pat: "../**/*" })).output).toBe("pat may not contain '..'");
  });

  it("grep prints file:line:text, skips binaries and ignored files, and caps hits", async () => {
    put(".gitignore", "dist/\n");
    put("a.ts", "const needle = 1;\nother\n");
    put("dist/a.js", "needle");
    fs.writeFileSync(path.join(ws, "bin.dat"), Buffer.from("needle\0binary"));
    expect(await run("grep", { pat: "needle" })).toEqual({ output: "a.ts:1:const needle = 1;", success: true });
    put("many.txt", Array.from({ length: 55 }, () => "hit").join("\n"));
    const lines = (await run("grep", { pat: "^hit$", path: "many.txt" })).output.split("\n");
    expect(lines.at(-1)).toBe("... 5 more");
    expect(lines[0]).toBe("many.txt:1:hit");
  });

  it("grep stops a pattern that backtracks catastrophically instead of stalling the server", async () => {
    put("a.txt", `${"a".repeat(40)}!\n`);
    const result = await grepWithLimit({ pat: "^(a+)+$" }, ctx, 500);
    expect(result).toEqual({
      output: "grep stopped after 0.5 s",
      success: false,
      feedback: expect.stringContaining("nested quantifiers"),
    });
  });

  it("grep says none when nothing matches", async () => {
    put("a.txt", "abc");
    expect(await run("grep", { pat: "zzz" })).toEqual({ output: "none", success: true });
  });
});

describe("links and special files", () => {
  it("glob and grep do not follow a .gitignore that is a symlink, as git does not", async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "cc-tools-outside-"));
    try {
      fs.writeFileSync(path.join(outside, "rules"), "*.txt\n");
      fs.symlinkSync(path.join(outside, "rules"), path.join(ws, ".gitignore"));
      put("kept.txt", "hit\n");
      expect((await run("glob", { pat: "*.txt" })).output).toBe("kept.txt");
      expect((await run("grep", { pat: "hit" })).output).toBe("kept.txt:1:hit");
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("a .gitignore that is a FIFO does not stall glob, and read refuses a FIFO at once", async () => {
    execFileSync("mkfifo", [path.join(ws, ".gitignore")]);
    put("a.txt", "a\n");
    expect((await run("glob", { pat: "*" })).output).toBe("a.txt");
    expect(await run("read", { path: ".gitignore" })).toEqual({
      output: ".gitignore is not a regular file",
      success: false,
    });
  });

  it("reads and writes through symlinks that stay inside, absolute /workspace ones included", async () => {
    put("src/a.txt", "a\n");
    fs.symlinkSync("/workspace/src", path.join(ws, "abs"));
    fs.symlinkSync("src/a.txt", path.join(ws, "rel.txt"));
    expect((await run("read", { path: "abs/a.txt" })).output).toBe("1| a");
    expect(await run("write", { path: "rel.txt", content: "b\n" })).toEqual({ output: "ok", success: true });
    expect(file("src/a.txt")).toBe("b\n");
    expect(fs.lstatSync(path.join(ws, "rel.txt")).isSymbolicLink()).toBe(true);
  });

  it("write keeps an existing file's mode", async () => {
    put("run.sh", "#!/bin/sh\n");
    fs.chmodSync(path.join(ws, "run.sh"), 0o755);
    expect((await run("edit", { path: "run.sh", old: "#!/bin/sh", new: "#!/bin/bash" })).success).toBe(true);
    expect(fs.statSync(path.join(ws, "run.sh")).mode & 0o777).toBe(0o755);
  });

  it("write makes no folder inside .git, even through a symlink to it", async () => {
    fs.mkdirSync(path.join(ws, ".git"));
    fs.symlinkSync(".git", path.join(ws, "g"));
    const result = await run("write", { path: "g/hooks/pre-commit", content: "evil" });
    expect(result.success).toBe(false);
    expect(result.output).toMatch(/protected/);
    expect(fs.readdirSync(path.join(ws, ".git"))).toEqual([]);
  });
});

describe("the registry", () => {
  it("validates arguments and names the bad one", async () => {
    const result = await run("edit_lines", { path: "a", start_line: "2", end_line: 2, content: "" });
    expect(result.success).toBe(false);
    expect(result.output).toMatch(/^invalid arguments for edit_lines: start_line: /);
    expect((await run("read", {})).output).toBe("invalid arguments for read: path: required argument missing");
    expect((await run("read", { file_path: "a" })).output).toContain("unexpected argument(s): file_path");
  });

  it("turns a thrown error into Tool crashed", async () => {
    put("a.txt", "x");
    const crashing = { ...ctx, sandbox: { mode: "bwrap" as const, policy: { type: "no-such-policy" } as never } };
    const result = await executeTool("edit", { path: "a.txt", old: "x", new: "y" }, crashing);
    expect(result.success).toBe(false);
    expect(result.output).toMatch(/^Tool crashed: /);
  });

  it("marks read, glob and grep as the read-only tools", () => {
    expect([...READONLY_TOOLS].sort()).toEqual(["glob", "grep", "read"]);
  });

  it("publishes a compact JSON schema per tool for the chat renderer", () => {
    const read = TOOL_SPECS.find((s) => s.name === "read")!;
    expect(read.parameters).toEqual({
      type: "object",
      properties: {
        path: { type: "string" },
        offset: { type: "integer", description: "first line to show (1-based, default 1)" },
        limit: { type: "integer", description: "number of lines (default: to the end)" },
      },
      required: ["path"],
    });
    expect(TOOL_SPECS.map((s) => s.name)).toEqual(["read", "write", "edit", "edit_lines", "glob", "grep", "bash"]);
    expect(TOOL_SPECS.find((s) => s.name === "grep")!.description).toContain("JavaScript regex");
  });
});
