import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeTool, type ToolContext } from "@/lib/tools";
import { editedArgsFor, previewAfter, type DiffToolName } from "./preview";

let ws: string;
let ctx: ToolContext;

beforeAll(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cc-preview-"));
  ctx = { workspace: ws, sandbox: { mode: "unsandboxed" } };
});
afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

/** Runs the real tool on a file holding `before` and returns what it left there. */
async function applied(
  name: DiffToolName,
  before: string | null,
  args: Record<string, unknown>,
): Promise<{ success: boolean; text: string | null }> {
  const file = path.join(ws, String(args.path));
  fs.rmSync(file, { force: true });
  if (before !== null) fs.writeFileSync(file, before);
  const result = await executeTool(name, args, ctx);
  return { success: result.success, text: fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null };
}

type Case = { title: string; name: DiffToolName; before: string | null; args: Record<string, unknown> };

const CASES: Case[] = [
  { title: "write over a file", name: "write", before: "old\n", args: { path: "w.txt", content: "new\ncontent" } },
  { title: "write a new file", name: "write", before: null, args: { path: "n.txt", content: "fresh\n" } },
  { title: "edit once", name: "edit", before: "a = 1\nb = 2\n", args: { path: "e.py", old: "b = 2", new: "b = 3" } },
  {
    title: "edit every occurrence",
    name: "edit",
    before: "x x x\n",
    args: { path: "e.txt", old: "x", new: "yy", all: true },
  },
  {
    title: "edit with read's line-number prefixes",
    name: "edit",
    before: "def f():\n    return 1\n",
    args: { path: "p.py", old: "2|     return 1", new: "2|     return 2" },
  },
  {
    title: "edit in a CRLF file",
    name: "edit",
    before: "a\r\nb\r\nc\r\n",
    args: { path: "c.txt", old: "a\nb", new: "A\nB" },
  },
  {
    title: "edit with a $ pattern in new",
    name: "edit",
    before: "cost\n",
    args: { path: "d.txt", old: "cost", new: "$& $1 $$" },
  },
  {
    title: "edit_lines in the middle",
    name: "edit_lines",
    before: "1\n2\n3\n",
    args: { path: "l.txt", start_line: 2, end_line: 2, content: "two\nzwei" },
  },
  {
    title: "edit_lines appending after a last line without newline",
    name: "edit_lines",
    before: "1\n2",
    args: { path: "l.txt", start_line: 3, end_line: 3, content: "3" },
  },
  {
    title: "edit_lines replacing a last line without newline",
    name: "edit_lines",
    before: "1\n2",
    args: { path: "l.txt", start_line: 2, end_line: 2, content: "two\n" },
  },
  {
    title: "edit_lines deleting in a CRLF file",
    name: "edit_lines",
    before: "a\r\nb\r\nc\r\n",
    args: { path: "l.txt", start_line: 1, end_line: 2, content: "" },
  },
  {
    title: "edit_lines CRLF replacement",
    name: "edit_lines",
    before: "a\r\nb\r\n",
    args: { path: "l.txt", start_line: 1, end_line: 1, content: "x\ny" },
  },
];

describe("a preview equals what the tool writes", () => {
  for (const c of CASES) {
    it(c.title, async () => {
      const preview = previewAfter(c.name, c.before ?? "", c.args);
      const real = await applied(c.name, c.before, c.args);
      expect(real.success).toBe(true);
      expect(preview).toMatchObject({ ok: true, after: real.text });
    });
  }

  it("a call the tool refuses previews as an error, and the tool leaves the file as it was", async () => {
    for (const [name, args] of [
      ["edit", { path: "f.txt", old: "missing", new: "x" }],
      ["edit", { path: "f.txt", old: "a", new: "b" }],
      ["edit_lines", { path: "f.txt", start_line: 9, end_line: 9, content: "x" }],
    ] as const) {
      const preview = previewAfter(name, "a a\n", args);
      const real = await applied(name, "a a\n", args);
      expect(preview.ok).toBe(false);
      expect(real).toEqual({ success: false, text: "a a\n" });
    }
  });
});

describe("an edited right side becomes arguments that write exactly its bytes", () => {
  const edits: Array<{ name: DiffToolName; before: string; original: Record<string, unknown>; edited: string }> = [
    { name: "write", before: "a\n", original: { path: "x.txt", content: "b\n" }, edited: "c\nd" },
    { name: "edit", before: "a\nb\n", original: { path: "x.txt", old: "a", new: "A" }, edited: "A\nB\nC\n" },
    {
      name: "edit_lines",
      before: "1\n2\n3\n",
      original: { path: "x.txt", start_line: 2, end_line: 2, content: "two" },
      edited: "1\ntwo\n3\nfour\n",
    },
    {
      name: "edit_lines",
      before: "1\n2",
      original: { path: "x.txt", start_line: 1, end_line: 1, content: "one" },
      edited: "one\n2",
    },
  ];
  for (const e of edits) {
    it(`${e.name}: ${JSON.stringify(e.edited)}`, async () => {
      const out = editedArgsFor(e.name, e.original, e.before, e.edited);
      if (!out.ok) throw new Error(out.error);
      expect((await applied(e.name, e.before, out.args)).text).toBe(e.edited);
    });
  }

  it("an edited write can go to another path, and the tool writes the text there", async () => {
    const out = editedArgsFor("write", { path: "x.txt", content: "b\n" }, "", "c\n", "y.txt");
    expect(out).toEqual({ ok: true, args: { path: "y.txt", content: "c\n" } });
    if (out.ok) expect(await applied("write", null, out.args)).toEqual({ success: true, text: "c\n" });
  });

  it("edit and edit_lines keep the path their diff shows, and no edit takes an empty path", () => {
    expect(editedArgsFor("edit", { path: "x.txt", old: "a", new: "A" }, "a\n", "A\n", "y.txt")).toEqual({
      ok: false,
      error:
        "only a write can go to another path; edit changes the file its diff shows (deny with a correction instead)",
    });
    expect(
      editedArgsFor("edit_lines", { path: "x.txt", start_line: 1, end_line: 1, content: "A" }, "a\n", "A\n", "y.txt"),
    ).toMatchObject({ ok: false });
    expect(editedArgsFor("edit", { path: "x.txt", old: "a", new: "A" }, "a\n", "B\n", "x.txt")).toEqual({
      ok: true,
      args: { path: "x.txt", old: "a\n", new: "B\n" },
    });
    expect(editedArgsFor("write", { path: "x.txt", content: "b" }, "", "c", " ")).toEqual({
      ok: false,
      error: "the path is empty",
    });
  });

  it("an edit the tool could not write exactly is refused rather than applied differently", () => {
    // edit_lines always ends a replaced block with a newline when the file had one.
    expect(editedArgsFor("edit_lines", { path: "x" }, "1\n2\n", "1\n2")).toMatchObject({ ok: false });
    expect(editedArgsFor("edit", { path: "x" }, "", "new")).toMatchObject({ ok: false });
  });
});
