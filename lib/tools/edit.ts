/**
 * edit(path, old, new, all): replace an exact string. When `old` is not found and EVERY one of
 * its lines carries a read-style line-number prefix ("12| ", "12- ", "12+ "), the prefixes are
 * stripped and the search is retried (and `new` is stripped the same way when all its lines carry
 * them); a real code line that merely starts with a number is never touched this way.
 */
import { z } from "zod";
import { fail, ok, type Tool } from "./types";
import { readTextFile, splitLines, writeTextFile } from "./text-file";

const inputSchema = z.strictObject({
  path: z.string(),
  old: z.string().describe("exact text to replace"),
  new: z.string().describe("replacement text"),
  all: z.boolean().optional().describe("replace every occurrence (default: old must be unique)"),
});

/** read's "12| " (also "12|" on a blank line) or a diff preview's "12- " / "12+ "; never "3 + 4". */
const LINE_PREFIX = /^\s*\d+(?:\| ?|[+-](?: |$))/;

/** `text` without line-number prefixes, or null unless every line has one (a final empty line aside). */
export function stripLinePrefixes(text: string): string | null {
  const lines = text.split("\n");
  const considered = lines.at(-1) === "" ? lines.slice(0, -1) : lines;
  if (considered.length === 0 || !considered.every((line) => LINE_PREFIX.test(line))) return null;
  return lines.map((line) => line.replace(LINE_PREFIX, "")).join("\n");
}

function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Up to 3 line numbers whose text contains the first non-blank line of `old`. */
function nearLines(text: string, old: string): number[] {
  const probe = old.split("\n").map((l) => l.trim()).find((l) => l !== "");
  if (!probe) return [];
  const hits: number[] = [];
  splitLines(text).forEach((line, i) => {
    if (hits.length < 3 && line.includes(probe)) hits.push(i + 1);
  });
  return hits;
}

export const editTool: Tool<typeof inputSchema> = {
  name: "edit",
  description: "Replace exact text `old` with `new` in a file. `old` must match exactly and be unique unless all=true.",
  inputSchema,
  readOnly: false,
  async run(args, ctx) {
    const loaded = await readTextFile(ctx, args.path);
    if (!loaded.ok) return fail(loaded.error, loaded.missing ? `The file ${args.path} does not exist; find it with glob, or create it with write.` : undefined);
    if (!loaded.file.validUtf8) return fail(`${args.path} is not valid UTF-8; editing it would corrupt it`, "Edit this file with bash instead.");
    if (args.old === "") return fail("old must not be empty", "Give the exact text to replace, or use edit_lines to insert lines.");
    const text = loaded.file.text;
    let oldText = args.old;
    let newText = args.new;
    let count = countOf(text, oldText);
    if (count === 0) {
      const stripped = stripLinePrefixes(oldText);
      if (stripped !== null && countOf(text, stripped) > 0) {
        oldText = stripped;
        newText = stripLinePrefixes(newText) ?? newText;
        count = countOf(text, oldText);
      }
    }
    if (count === 0 && text.includes("\r\n") && !oldText.includes("\r")) {
      const crlf = oldText.replace(/\n/g, "\r\n");
      if (countOf(text, crlf) > 0) {
        oldText = crlf;
        newText = newText.replace(/\r?\n/g, "\r\n");
        count = countOf(text, oldText);
      }
    }
    if (count === 0) {
      const near = nearLines(text, args.old);
      const where = near.length > 0 ? ` (its first line appears at line ${near.join(", ")})` : "";
      return fail(
        `old_string not found in ${args.path}${where}`,
        `old must match the file exactly, whitespace included. Read the file first${near.length > 0 ? `, or use edit_lines on line ${near.join(", ")}` : ", or use edit_lines"}.`,
      );
    }
    if (count > 1 && !args.all) {
      return fail(
        `old_string matches ${count} times in ${args.path}; it must be unique (use all=true)`,
        "Add surrounding lines to old so it matches once, or use edit_lines with line numbers from read.",
      );
    }
    if (oldText === newText) return fail("old and new are the same; nothing would change", "Give the text that should replace old.");
    const updated = args.all ? text.split(oldText).join(newText) : text.replace(oldText, () => newText);
    const written = await writeTextFile(ctx, args.path, updated);
    if (!written.ok) return fail(written.error, "Edit a file you may change (not under .git/).");
    return ok(count > 1 ? `ok (${count} replacements)` : "ok");
  },
};
