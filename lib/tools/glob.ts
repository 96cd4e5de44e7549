/**
 * glob(pat, path): files under a workspace folder whose path (relative to that folder) matches
 * `pat`, newest first. Dotfiles are included; .git and .gitignored files are not. At most 50
 * are listed, followed by a "N more" line.
 */
import fs from "node:fs/promises";
import { z } from "zod";
import { fail, ok, type Tool } from "./types";
import { resolveFor } from "./text-file";
import { globToRegExp } from "./glob-match";
import { walkFiles } from "./walk";

export const MAX_GLOB_RESULTS = 50;

const inputSchema = z.strictObject({
  pat: z.string().describe("glob, e.g. **/*.ts (** recurses)"),
  path: z.string().optional().describe("folder to search, relative to the workspace (default .)"),
});

/** Why a pattern cannot be used, or null: patterns stay relative and never climb with `..`. */
export function badPattern(pat: string): string | null {
  if (pat === "") return "pat is empty";
  if (pat.startsWith("/")) return `pat must be relative (got ${pat}); put the folder in path`;
  if (pat.split("/").includes("..")) return "pat may not contain '..'";
  return null;
}

/** Resolve a search folder for glob/grep, with the same errors for both. */
export async function resolveSearchBase(ctx: Parameters<Tool["run"]>[1], input: string) {
  const resolved = await resolveFor(ctx, input, "list");
  if (!resolved.ok) return { ok: false as const, error: resolved.error, feedback: "Search inside the workspace with a relative path such as '.' or 'src'." };
  if (!resolved.stat) return { ok: false as const, error: `directory not found: ${input}`, feedback: "Check the folder, or search the whole workspace with path='.' and pat='**/*'." };
  return { ok: true as const, resolved };
}

export const globTool: Tool<typeof inputSchema> = {
  name: "glob",
  description: "List files matching a glob (e.g. **/*.py), newest first.",
  inputSchema,
  readOnly: true,
  async run(args, ctx) {
    const problem = badPattern(args.pat);
    if (problem) return fail(problem, "Use a relative pattern such as '**/*.py' and give the folder in path.");
    const base = await resolveSearchBase(ctx, args.path ?? ".");
    if (!base.ok) return fail(base.error, base.feedback);
    const { root, rel, stat } = base.resolved;
    if (!stat!.isDirectory()) return fail(`${args.path} is not a directory`, "Give a folder in path, or read the file directly.");
    const matcher = globToRegExp(args.pat);
    const walked = await walkFiles(root, rel);
    const prefix = rel === "" ? "" : `${rel}/`;
    const matches = walked.files.filter((f) => matcher.test(f.rel.slice(prefix.length)));
    const withTimes = await Promise.all(
      matches.map(async (f) => ({ rel: f.rel, mtime: (await fs.lstat(f.abs).catch(() => null))?.mtimeMs ?? 0 })),
    );
    withTimes.sort((a, b) => b.mtime - a.mtime || a.rel.localeCompare(b.rel));
    const lines = withTimes.slice(0, MAX_GLOB_RESULTS).map((f) => f.rel);
    if (withTimes.length > MAX_GLOB_RESULTS) lines.push(`... ${withTimes.length - MAX_GLOB_RESULTS} more`);
    if (walked.truncated) lines.push("(search stopped early: too many files; narrow path)");
    return ok(lines.length === 0 ? "none" : lines.join("\n"));
  },
};
