/**
 * glob(pat, path): files under a workspace folder whose path (relative to that folder) matches
 * `pat`, newest first. Dotfiles are included; .git and .gitignored files are not. At most 50
 * are listed, followed by a "N more" line.
 */
import { z } from "zod";
import type { SandboxPolicy } from "@/lib/sandbox/policy";
import { lstatIn, openBeneath, type Root } from "@/lib/workspaces/safe-fs";
import { fail, ok, type Tool, type ToolContext } from "./types";
import { toolRelativePath, withToolRoot } from "./tool-path";
import { globToRegExp } from "./glob-match";
import { walkFiles } from "./walk";

export const MAX_GLOB_RESULTS = 50;

const inputSchema = z.strictObject({
  pat: z.string().describe("glob, e.g. **/*.ts (** recurses)"),
  path: z.string().optional().describe("folder to search, relative to the workspace (default .)"),
});

/** Why a pattern cannot be used, or null: patterns stay relative and never climb with `..`. */
function badPattern(pat: string): string | null {
  if (pat === "") return "pat is empty";
  if (pat.startsWith("/")) return `pat must be relative (got ${pat}); put the folder in path`;
  if (pat.split("/").includes("..")) return "pat may not contain '..'";
  return null;
}

export type SearchBase = { ok: true; rel: string; isDir: boolean } | { ok: false; error: string; feedback: string };

/** The search folder (or file) for glob/grep as a real workspace-relative path, with the same errors for both. */
export async function resolveSearchBase(
  root: Root,
  policy: SandboxPolicy,
  ctx: ToolContext,
  input: string,
): Promise<SearchBase> {
  const feedback = "Search inside the workspace with a relative path such as '.' or 'src'.";
  const where = toolRelativePath(policy, root, ctx.workspace, input);
  if (!where.ok) return { ok: false, error: where.error, feedback };
  const opened = await openBeneath(root, where.rel);
  if (!opened.ok) {
    if (opened.reason === "outside" || opened.reason === "too_many_links")
      return { ok: false, error: `${input} ${opened.error}`, feedback };
    return {
      ok: false,
      error: `directory not found: ${input}`,
      feedback: "Check the folder, or search the whole workspace with path='.' and pat='**/*'.",
    };
  }
  await opened.handle.close();
  return { ok: true, rel: opened.rel, isDir: opened.stat.isDirectory() };
}

export const globTool: Tool<typeof inputSchema> = {
  name: "glob",
  description: "List files matching a glob (e.g. **/*.py), newest first.",
  inputSchema,
  readOnly: true,
  async run(args, ctx) {
    const problem = badPattern(args.pat);
    if (problem) return fail(problem, "Use a relative pattern such as '**/*.py' and give the folder in path.");
    return withToolRoot(ctx, async (root, policy) => {
      const base = await resolveSearchBase(root, policy, ctx, args.path ?? ".");
      if (!base.ok) return fail(base.error, base.feedback);
      if (!base.isDir)
        return fail(`${args.path} is not a directory`, "Give a folder in path, or read the file directly.");
      const matcher = globToRegExp(args.pat);
      const prefix = base.rel === "" ? "" : `${base.rel}/`;
      const withTimes: Array<{ rel: string; mtime: number }> = [];
      const walked = await walkFiles(root, base.rel, async (file, dir) => {
        if (!matcher.test(file.rel.slice(prefix.length))) return;
        withTimes.push({ rel: file.rel, mtime: (await lstatIn(dir, file.name).catch(() => null))?.mtimeMs ?? 0 });
      });
      withTimes.sort((a, b) => b.mtime - a.mtime || a.rel.localeCompare(b.rel));
      const lines = withTimes.slice(0, MAX_GLOB_RESULTS).map((f) => f.rel);
      if (withTimes.length > MAX_GLOB_RESULTS) lines.push(`... ${withTimes.length - MAX_GLOB_RESULTS} more`);
      if (walked.truncated) lines.push("(search stopped early: too many files; narrow path)");
      return ok(lines.length === 0 ? "none" : lines.join("\n"));
    });
  },
};
