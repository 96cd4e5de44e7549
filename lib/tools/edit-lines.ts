/**
 * edit_lines(path, start_line, end_line, content): replace lines start..end (1-based, inclusive,
 * the numbers read shows). start = end = last line + 1 appends; a last line without a newline
 * gets one first, so appended text never joins it. Empty content deletes the range. The text
 * rules are applyEditLines's (text-edits.ts); failures here say how to get the call right.
 */
import { z } from "zod";
import { fail, ok, type Tool } from "./types";
import { readTextFile, writeTextFile } from "./text-file";
import { applyEditLines } from "./text-edits";

const inputSchema = z.strictObject({
  path: z.string(),
  start_line: z.number().int().describe("first line to replace (1-based, as read shows)"),
  end_line: z.number().int().describe("last line to replace (inclusive); start=end=last+1 appends"),
  content: z.string().describe("new lines ('' deletes the range)"),
});

const READ_FIRST = "Read the file first and use the line numbers it shows.";

export const editLinesTool: Tool<typeof inputSchema> = {
  name: "edit_lines",
  description:
    "Replace lines start_line..end_line (1-based, inclusive) with content. To append, use start_line=end_line=last line+1.",
  inputSchema,
  readOnly: false,
  async run(args, ctx) {
    const loaded = await readTextFile(ctx, args.path);
    if (!loaded.ok)
      return fail(
        loaded.error,
        loaded.missing ? `The file ${args.path} does not exist; create it with write.` : READ_FIRST,
      );
    if (!loaded.file.validUtf8)
      return fail(`${args.path} is not valid UTF-8; editing it would corrupt it`, "Edit this file with bash instead.");
    const { start_line: start, end_line: end } = args;
    const edited = applyEditLines(loaded.file.text, start, end, args.content);
    if (!edited.ok) {
      const n = edited.lines;
      switch (edited.reason) {
        case "bad_range":
          return fail(`bad range ${start}-${end}: need 1 <= start_line <= end_line`, READ_FIRST);
        case "start_past_end":
          return fail(`start_line ${start} is past the end of ${args.path} (${n} lines)`, READ_FIRST);
        case "append_range":
          return fail(
            `end_line ${end} is past the end of ${args.path} (${n} lines); to append use start_line=end_line=${n + 1}`,
            READ_FIRST,
          );
        case "end_past_end":
          return fail(`end_line ${end} is past the end of ${args.path} (${n} lines)`, READ_FIRST);
      }
    }
    const written = await writeTextFile(ctx, args.path, edited.text);
    if (!written.ok) return fail(written.error, "Edit a file you may change (not under .git/).");
    return ok("ok");
  },
};
