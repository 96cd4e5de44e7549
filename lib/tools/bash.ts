/**
 * bash(cmd, timeout): one shell command in the workspace, inside the sandbox (bubblewrap: no
 * network, only the workspace writable, resource limits). Output is stdout and stderr together,
 * capped to head + tail; a non-zero exit fails with the exit code, a timeout exits 124, and a
 * call stopped at a whole-call limit (memory, processes, the workspace's disk quota) says which.
 */
import { z } from "zod";
import { runCommand, type CallLimit } from "@/lib/sandbox/run";
import { formatMiB, overQuotaSentence } from "@/lib/workspaces/quota";
import { fail, ok, type Tool, type ToolResult } from "./types";
import { policyOf } from "./tool-path";

const inputSchema = z.strictObject({
  cmd: z.string().describe("shell command, run in the workspace"),
  timeout: z.number().positive().max(600).optional().describe("seconds (default 30, max 600)"),
});

export const bashTool: Tool<typeof inputSchema> = {
  name: "bash",
  description: "Run a shell command in the workspace (sandboxed, no network).",
  inputSchema,
  readOnly: false,
  async run(args, ctx) {
    const result = await runCommand({
      command: args.cmd,
      workspace: ctx.workspace,
      policy: policyOf(ctx),
      mode: ctx.sandbox.mode,
      timeoutS: args.timeout,
      signal: ctx.signal,
    });
    switch (result.status) {
      case "unavailable":
        return fail(result.error, "bash cannot run here; use read, glob, grep, edit and write instead.");
      case "exited": {
        const output = result.output.trim() || "(empty output)";
        if (result.exitCode === 0) return ok(output);
        const quota = result.fileLimitFromQuota;
        if (quota) {
          return fail(
            `${output}\n[exit code ${result.exitCode}; no file could grow past ${formatMiB(quota.leftBytes, "down")} in this call: what was left of the workspace's ${formatMiB(quota.quotaBytes)} disk quota]`,
            "Delete files the task no longer needs (build output, caches), then retry.",
          );
        }
        return {
          ...fail(
            `${output}\n[exit code ${result.exitCode}]`,
            `The command exited with code ${result.exitCode}. Fix the command and retry.`,
          ),
          exitCode: result.exitCode,
        };
      }
      case "limit":
        return limitResult(result.output, result.limit);
      case "timed_out":
        return fail(
          `${result.output.trim()}\n[timed out after ${result.timeoutS} s; exit code 124]`.trim(),
          `The command was stopped after ${result.timeoutS} s. Pass a larger timeout (seconds, up to 600) or run something quicker.`,
        );
      case "output_limit":
        return fail(
          `${result.output.trim()}\n[stopped after ${result.bytes} bytes of output]`,
          "The command printed too much. Filter its output (grep, head, tail) or redirect it to a file.",
        );
      case "aborted":
        return fail(`${result.output.trim()}\n[stopped]`.trim());
      default: {
        const never: never = result;
        throw new Error(`unknown command result ${String(never)}`);
      }
    }
  },
};

/** The result of a call stopped at a whole-call limit: which limit, its size, and what enforced it. */
function limitResult(output: string, limit: CallLimit): ToolResult {
  const shown = output.trim();
  const withNote = (note: string) => `${shown}\n[${note}]`.trim();
  switch (limit.kind) {
    case "memory":
      return fail(
        withNote(
          `stopped: out of memory: the command's processes together reached the ${formatMiB(limit.limitBytes)} limit for one command (cgroup v${limit.enforcedBy})`,
        ),
        "Use less memory at once: fewer parallel jobs or workers, smaller inputs.",
      );
    case "processes":
      return fail(
        withNote(
          `stopped: the command reached its limit of ${limit.max} processes and threads at once (cgroup v${limit.enforcedBy})`,
        ),
        "Run fewer processes at once (for example make -j4 or fewer test workers), and never start processes in an unbounded loop.",
      );
    case "disk_quota":
      return fail(
        withNote(
          `stopped: ${overQuotaSentence(limit.usedBytes, limit.quotaBytes, "now")}; until files are deleted, no file can grow`,
        ),
        "Delete files the task no longer needs (build output, caches, large downloads), then retry with a command that writes less.",
      );
    default: {
      const never: never = limit;
      throw new Error(`unknown call limit ${String(never)}`);
    }
  }
}
