/**
 * bash(cmd, timeout): one shell command in the workspace, inside the sandbox (bubblewrap: no
 * network, only the workspace writable, resource limits). Output is stdout and stderr together,
 * capped to head + tail; a non-zero exit fails with the exit code, a timeout exits 124.
 */
import { z } from "zod";
import { runCommand } from "@/lib/sandbox/run";
import { fail, ok, type Tool } from "./types";
import { policyOf } from "./text-file";

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
        return fail(`${output}\n[exit code ${result.exitCode}]`, `The command exited with code ${result.exitCode}. Fix the command and retry.`);
      }
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
