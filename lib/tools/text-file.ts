/**
 * Reading and writing workspace text files for the file tools and the diff preview. Each call
 * opens the workspace root once and walks to the file through lib/workspaces/safe-fs.ts: the
 * descriptor that was checked is the one read, and a write replaces the name inside the directory
 * descriptor that was checked, so a concurrent swap of a folder for a symlink redirects nothing.
 * Lines keep their own terminators, so an edit changes only what it names: CRLF files stay CRLF
 * and a last line without a newline is never joined to appended text.
 */
import { checkWriteQuota } from "@/lib/workspaces/quota";
import {
  allLinksInside,
  entryBeneath,
  openBeneath,
  readOpened,
  replaceFile,
  type Refusal,
} from "@/lib/workspaces/safe-fs";
import { toolRelativePath, withToolRoot, writeRules } from "./tool-path";
import type { ToolContext } from "./types";

export { MAX_TEXT_BYTES, isBinary, splitLines, stripEol } from "./limits";
export { policyOf } from "./tool-path";
import { MAX_TEXT_BYTES, isBinary } from "./limits";

export type TextFile = { text: string; validUtf8: boolean };
export type ReadText = { ok: true; file: TextFile } | { ok: false; error: string; missing?: boolean };
export type WriteText = { ok: true } | { ok: false; error: string };

/** Mode of a file write creates; an existing file keeps its own. */
const NEW_FILE_MODE = 0o644;

function readRefusal(input: string, refused: Refusal): ReadText {
  switch (refused.reason) {
    case "not_found":
    case "not_a_directory":
      return { ok: false, error: `file not found: ${input}`, missing: true };
    case "not_a_file":
      return { ok: false, error: `${input} is not a regular file` };
    case "outside":
    case "too_many_links":
      return { ok: false, error: `${input} ${refused.error}` };
  }
}

/** The file's text, or an error sentence (missing, a folder, binary, too large, outside). */
export function readTextFile(ctx: ToolContext, input: string): Promise<ReadText> {
  return withToolRoot(ctx, async (root, policy) => {
    const where = toolRelativePath(policy, root, ctx.workspace, input);
    if (!where.ok) return where;
    const opened = await openBeneath(root, where.rel);
    if (!opened.ok) return readRefusal(input, opened);
    try {
      const { stat } = opened;
      if (stat.isDirectory()) return { ok: false, error: `${input} is a directory, not a file` };
      if (!stat.isFile()) return { ok: false, error: `${input} is not a regular file` };
      if (stat.size > MAX_TEXT_BYTES) {
        return {
          ok: false,
          error: `${input} is ${stat.size} bytes; the file tools handle up to ${MAX_TEXT_BYTES} bytes (use grep, or bash with head/sed)`,
        };
      }
      if (stat.nlink > 1 && !(await allLinksInside(root, stat))) {
        return {
          ok: false,
          error: `cannot read ${input}: it has ${stat.nlink} hard links and not all of them are inside the workspace`,
        };
      }
      const bytes = await readOpened(opened.handle, stat.size);
      if (isBinary(bytes)) return { ok: false, error: `${input} is a binary file (${bytes.length} bytes); not shown` };
      let validUtf8 = true;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        validUtf8 = false;
      }
      return { ok: true, file: { text: bytes.toString("utf8"), validUtf8 } };
    } finally {
      await opened.handle.close();
    }
  });
}

/**
 * Write a text file (creating parent folders): refused outside the workspace, in protected
 * folders (.git, checked on the path as typed and on where it really lies) and for
 * multiply-linked files, whose other names might lie outside; and past the workspace's disk quota.
 */
export function writeTextFile(ctx: ToolContext, input: string, content: string): Promise<WriteText> {
  return withToolRoot(ctx, async (root, policy): Promise<WriteText> => {
    const where = toolRelativePath(policy, root, ctx.workspace, input);
    if (!where.ok) return where;
    const rules = await writeRules(policy, root);
    const typed = rules.refusal([where.rel]);
    if (typed) return { ok: false, error: `cannot write ${input}: ${typed}` };
    const entry = await entryBeneath(root, where.rel, { mayCreateDir: rules.mayCreateDir });
    if (!entry.ok) {
      switch (entry.reason) {
        case "outside":
        case "too_many_links":
          return { ok: false, error: `${input} ${entry.error}` };
        case "not_a_file":
          return { ok: false, error: `${input} is a directory` };
        case "not_found": {
          // A folder on the way was missing and not made: the policy refused it there.
          const why = entry.missing === undefined ? null : rules.refusal([entry.missing]);
          return { ok: false, error: `cannot write ${input}: ${why ?? "its folder does not exist"}` };
        }
        case "not_a_directory":
          return { ok: false, error: `cannot write ${input}: ${entry.error}` };
      }
    }
    try {
      const real = rules.refusal([entry.rel]);
      if (real) return { ok: false, error: `cannot write ${input}: ${real}` };
      const { stat } = entry;
      if (stat?.isDirectory()) return { ok: false, error: `${input} is a directory` };
      if (stat && !stat.isFile()) return { ok: false, error: `${input} is not a regular file` };
      if (stat && stat.nlink > 1) {
        return {
          ok: false,
          error: `cannot write ${input}: it has ${stat.nlink} hard links, which may lie outside the workspace`,
        };
      }
      const bytes = Buffer.from(content, "utf8");
      const quota = await checkWriteQuota({
        root: root.real,
        quotaBytes: policy.limits.workspaceQuotaBytes,
        replacing: stat,
        newBytes: bytes.length,
      });
      if (!quota.ok) return { ok: false, error: `cannot write ${input}: ${quota.error}` };
      await replaceFile(entry, bytes, stat ? stat.mode & 0o7777 : NEW_FILE_MODE);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: `write failed: ${(error as Error).message}` };
    } finally {
      await entry.dir.close();
    }
  });
}
