/**
 * read(path, offset, limit): a text file with 1-based line numbers, exactly the numbers
 * edit_lines takes. `offset` is the 1-based first line. Output is bounded in lines, line length
 * and characters, and says how to continue when it stops early.
 */
import { z } from "zod";
import { fail, ok, type Tool } from "./types";
import { readTextFile, splitLines, stripEol } from "./text-file";

const MAX_LINES = 2000;
const MAX_LINE_CHARS = 2000;
const MAX_OUTPUT_CHARS = 30_000;

const inputSchema = z.strictObject({
  path: z.string(),
  offset: z.number().int().min(1).optional().describe("first line to show (1-based, default 1)"),
  limit: z.number().int().min(1).optional().describe("number of lines (default: to the end)"),
});

/** `   7| text`: the number right-aligned to the widest number shown. */
function numberLines(lines: string[], firstLine: number): string {
  const width = String(firstLine + lines.length - 1).length;
  return lines.map((line, i) => `${String(firstLine + i).padStart(width)}| ${line}`).join("\n");
}

export const readTool: Tool<typeof inputSchema> = {
  name: "read",
  description: "Read a text file. Lines are shown as `N| text`, numbered from 1 (the numbers edit_lines takes).",
  inputSchema,
  readOnly: true,
  async run(args, ctx) {
    const loaded = await readTextFile(ctx, args.path);
    if (!loaded.ok) {
      return fail(
        loaded.error,
        loaded.missing
          ? `The file ${args.path} does not exist. Check the path, or find it with glob (e.g. pat='**/*${args.path.split("/").pop()}').`
          : undefined,
      );
    }
    const lines = splitLines(loaded.file.text);
    if (lines.length === 0) return ok("(empty file)");
    const start = args.offset ?? 1;
    if (start > lines.length) {
      return fail(
        `offset ${start} is past the end of ${args.path} (${lines.length} lines)`,
        `Use an offset between 1 and ${lines.length}.`,
      );
    }
    const end = Math.min(lines.length, start - 1 + Math.min(args.limit ?? MAX_LINES, MAX_LINES));
    const shown: string[] = [];
    let chars = 0;
    for (let n = start; n <= end; n++) {
      let text = stripEol(lines[n - 1]!);
      if (text.length > MAX_LINE_CHARS)
        text = `${text.slice(0, MAX_LINE_CHARS)}… [line cut at ${MAX_LINE_CHARS} characters]`;
      chars += text.length + 8;
      if (chars > MAX_OUTPUT_CHARS && shown.length > 0) break;
      shown.push(text);
    }
    const last = start + shown.length - 1;
    let output = numberLines(shown, start);
    if (!loaded.file.validUtf8) output = `(not valid UTF-8: undecodable bytes shown as �)\n${output}`;
    const wantedEnd = args.limit === undefined ? lines.length : Math.min(lines.length, start - 1 + args.limit);
    if (last < wantedEnd) output += `\n... ${lines.length - last} more lines (continue with offset=${last + 1})`;
    return ok(output);
  },
};
