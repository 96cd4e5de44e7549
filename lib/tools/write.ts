/**
 * write(path, content): create or overwrite a text file, making parent folders. Refused outside
 * the workspace, in protected folders (.git) and for multiply-linked files.
 */
import { z } from "zod";
import { fail, ok, type Tool } from "./types";
import { MAX_TEXT_BYTES, writeTextFile } from "./text-file";

const inputSchema = z.strictObject({
  path: z.string(),
  content: z.string().describe("the whole new content"),
});

export const writeTool: Tool<typeof inputSchema> = {
  name: "write",
  description: "Create or overwrite a file with the given content.",
  inputSchema,
  readOnly: false,
  async run(args, ctx) {
    const bytes = Buffer.byteLength(args.content, "utf8");
    if (bytes > MAX_TEXT_BYTES) {
      return fail(
        `content is ${bytes} bytes; write accepts up to ${MAX_TEXT_BYTES}`,
        "Write a smaller file, or generate it with bash.",
      );
    }
    const written = await writeTextFile(ctx, args.path, args.content);
    if (!written.ok)
      return fail(
        written.error,
        "Write inside the workspace, to a path you may change (not .git/), or choose another path.",
      );
    return ok("ok");
  },
};
