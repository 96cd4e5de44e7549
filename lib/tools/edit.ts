/**
 * edit(path, old, new, all): replace an exact string (the rules, prefix stripping and CRLF
 * matching included, are applyEdit's in text-edits.ts); failures say how to get the call right.
 */
import { z } from "zod";
import { fail, ok, type Tool } from "./types";
import { readTextFile, splitLines, writeTextFile } from "./text-file";
import { applyEdit } from "./text-edits";

const inputSchema = z.strictObject({
  path: z.string(),
  old: z.string().describe("exact text to replace"),
  new: z.string().describe("replacement text"),
  all: z.boolean().optional().describe("replace every occurrence (default: old must be unique)"),
});

/** Up to 3 line numbers whose text contains the first non-blank line of `old`. */
function nearLines(text: string, old: string): number[] {
  const probe = old
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
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
    if (!loaded.ok)
      return fail(
        loaded.error,
        loaded.missing
          ? `The file ${args.path} does not exist; find it with glob, or create it with write.`
          : undefined,
      );
    if (!loaded.file.validUtf8)
      return fail(`${args.path} is not valid UTF-8; editing it would corrupt it`, "Edit this file with bash instead.");
    const edited = applyEdit(loaded.file.text, args.old, args.new, args.all === true);
    if (!edited.ok) {
      switch (edited.reason) {
        case "empty_old":
          return fail("old must not be empty", "Give the exact text to replace, or use edit_lines to insert lines.");
        case "not_found": {
          const near = nearLines(loaded.file.text, args.old);
          const where = near.length > 0 ? ` (its first line appears at line ${near.join(", ")})` : "";
          return fail(
            `old_string not found in ${args.path}${where}`,
            `old must match the file exactly, whitespace included. Read the file first${near.length > 0 ? `, or use edit_lines on line ${near.join(", ")}` : ", or use edit_lines"}.`,
          );
        }
        case "ambiguous":
          return fail(
            `old_string matches ${edited.count} times in ${args.path}; it must be unique (use all=true)`,
            "Add surrounding lines to old so it matches once, or use edit_lines with line numbers from read.",
          );
        case "unchanged":
          return fail("old and new are the same; nothing would change", "Give the text that should replace old.");
      }
    }
    const { text: updated, count } = edited;
    const written = await writeTextFile(ctx, args.path, updated);
    if (!written.ok) return fail(written.error, "Edit a file you may change (not under .git/).");
    return ok(count > 1 ? `ok (${count} replacements)` : "ok");
  },
};
