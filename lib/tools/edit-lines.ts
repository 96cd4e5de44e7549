/**
 * edit_lines(path, start_line, end_line, content): replace lines start..end (1-based, inclusive,
 * the numbers read shows). start = end = last line + 1 appends; a last line without a newline
 * gets one first, so appended text never joins it. Empty content deletes the range.
 */
import { z } from "zod";
import { fail, ok, type Tool } from "./types";
import { eolOf, readTextFile, splitLines, writeTextFile } from "./text-file";

const inputSchema = z.strictObject({
  path: z.string(),
  start_line: z.number().int().describe("first line to replace (1-based, as read shows)"),
  end_line: z.number().int().describe("last line to replace (inclusive); start=end=last+1 appends"),
  content: z.string().describe("new lines ('' deletes the range)"),
});

const READ_FIRST = "Read the file first and use the line numbers it shows.";

export const editLinesTool: Tool<typeof inputSchema> = {
  name: "edit_lines",
  description: "Replace lines start_line..end_line (1-based, inclusive) with content. To append, use start_line=end_line=last line+1.",
  inputSchema,
  readOnly: false,
  async run(args, ctx) {
    const loaded = await readTextFile(ctx, args.path);
    if (!loaded.ok) return fail(loaded.error, loaded.missing ? `The file ${args.path} does not exist; create it with write.` : READ_FIRST);
    if (!loaded.file.validUtf8) return fail(`${args.path} is not valid UTF-8; editing it would corrupt it`, "Edit this file with bash instead.");
    const lines = splitLines(loaded.file.text);
    const n = lines.length;
    const { start_line: start, end_line: end } = args;
    if (start < 1 || end < start) return fail(`bad range ${start}-${end}: need 1 <= start_line <= end_line`, READ_FIRST);
    if (start > n + 1) return fail(`start_line ${start} is past the end of ${args.path} (${n} lines)`, READ_FIRST);
    const appending = start === n + 1;
    if (appending && end !== start) return fail(`end_line ${end} is past the end of ${args.path} (${n} lines); to append use start_line=end_line=${n + 1}`, READ_FIRST);
    if (!appending && end > n) return fail(`end_line ${end} is past the end of ${args.path} (${n} lines)`, READ_FIRST);
    const eol = eolOf(lines);
    const replacement = args.content === "" ? [] : splitLines(args.content.replace(/\r?\n/g, eol));
    const last = replacement.length - 1;
    if (last >= 0 && !replacement[last]!.endsWith("\n")) replacement[last] += eol;
    const before = lines.slice(0, start - 1);
    // Appending after a last line that has no newline: end that line first.
    if (appending && n > 0 && !before[n - 1]!.endsWith("\n")) before[n - 1] += eol;
    const after = appending ? [] : lines.slice(end);
    // Replacing the last line of a file that had no final newline keeps it that way.
    const hadFinalNewline = n === 0 || lines[n - 1]!.endsWith("\n");
    if (!appending && after.length === 0 && !hadFinalNewline && replacement.length > 0) {
      replacement[last] = replacement[last]!.replace(/\r?\n$/, "");
    }
    const written = await writeTextFile(ctx, args.path, [...before, ...replacement, ...after].join(""));
    if (!written.ok) return fail(written.error, "Edit a file you may change (not under .git/).");
    return ok("ok");
  },
};
