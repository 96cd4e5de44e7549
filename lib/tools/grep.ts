/**
 * grep(pat, path): lines matching a JavaScript regular expression, as `file:line:text`, in the
 * text files under a folder (or in one file). Skips .git, .gitignored files, binaries, symlinks,
 * files over the size limit and multiply-linked files. At most 50 hits, then a "N more" line.
 * The search runs in a worker thread with a time limit, so a pathological pattern cannot stall
 * the server.
 */
import { z } from "zod";
import { startTsWorker } from "@/lib/worker-threads";
import { fail, ok, type Tool, type ToolContext, type ToolResult } from "./types";
import { resolveSearchBase } from "./glob";
import { policyOf, withToolRoot } from "./tool-path";
import { MAX_GREP_HITS, type GrepReport, type GrepRequest } from "./grep-search";

/** Long enough for a large tree on a busy machine; short enough that a runaway pattern is noticed. */
export const GREP_TIME_LIMIT_MS = 15_000;

const inputSchema = z.strictObject({
  pat: z.string().describe("JavaScript regular expression"),
  path: z.string().optional().describe("folder or file to search, relative to the workspace (default .)"),
});

function compilePattern(pat: string): { ok: true; regex: RegExp } | { ok: false; error: string } {
  try {
    return { ok: true, regex: new RegExp(pat) };
  } catch (error) {
    return { ok: false, error: `invalid regular expression (JavaScript syntax): ${(error as Error).message}` };
  }
}

type WorkerAnswer = { ok: true; report: GrepReport } | { ok: false; error: string } | { ok: false; timedOut: true };

function searchInWorker(request: GrepRequest, limitMs: number): Promise<WorkerAnswer> {
  return new Promise((resolve) => {
    const worker = startTsWorker("lib/tools/grep-worker.ts", request);
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ ok: false, timedOut: true });
    }, limitMs);
    worker.once("message", (answer: WorkerAnswer) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(answer);
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: error.message });
    });
  });
}

/** The grep tool's body, with the worker's time limit as a parameter. */
export async function grepWithLimit(
  args: z.infer<typeof inputSchema>,
  ctx: ToolContext,
  limitMs: number,
): Promise<ToolResult> {
  const compiled = compilePattern(args.pat);
  if (!compiled.ok)
    return fail(
      compiled.error,
      "Fix the pattern: it is a JavaScript RegExp (escape ( ) [ ] { } . * + ? with \\ to match them literally).",
    );
  const base = await withToolRoot(ctx, (root, policy) => resolveSearchBase(root, policy, ctx, args.path ?? "."));
  if (!base.ok) return fail(base.error, base.feedback);
  const answer = await searchInWorker(
    {
      pat: args.pat,
      workspace: ctx.workspace,
      aliases: [policyOf(ctx).sandboxWorkspace],
      rel: base.rel,
      isDir: base.isDir,
    },
    limitMs,
  );
  if (!answer.ok) {
    if ("timedOut" in answer) {
      return fail(
        `grep stopped after ${limitMs / 1000} s`,
        "Simplify the pattern (nested quantifiers such as (a+)+ backtrack badly) or narrow path.",
      );
    }
    throw new Error(answer.error);
  }
  const { hits, total, skippedLinked, truncated } = answer.report;
  const lines = [...hits];
  if (total > MAX_GREP_HITS) lines.push(`... ${total - MAX_GREP_HITS} more`);
  if (skippedLinked > 0) lines.push(`(${skippedLinked} multiply-linked file(s) skipped)`);
  if (truncated) lines.push("(search stopped early: too many files; narrow path)");
  return ok(lines.length === 0 ? "none" : lines.join("\n"));
}

export const grepTool: Tool<typeof inputSchema> = {
  name: "grep",
  description: "Search file contents with a JavaScript regex; prints file:line:text.",
  inputSchema,
  readOnly: true,
  run: (args, ctx) => grepWithLimit(args, ctx, GREP_TIME_LIMIT_MS),
};
