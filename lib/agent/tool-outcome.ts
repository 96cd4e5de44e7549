/**
 * What an executed call's result means for the conversation. A call that ran as asked and
 * exited non-zero (tests failing on the very bug the agent is fixing) is an observation: its
 * output goes back to the agent, which samples again. A call that could not run as asked
 * (invalid arguments, a missing file, a sandbox refusal, a limit or timeout, a command the shell
 * could not find or execute) is a failure: the conversation waits for the person's correction.
 */
import type { ToolResult } from "@/lib/tools/types";

export type ToolOutcome = { kind: "succeeded" } | { kind: "observation"; exitCode: number } | { kind: "failed" };

/**
 * The shell's own exit codes for a command it could not start: 126 found but not executable,
 * 127 not found. The command never ran, so the agent's call did not run as asked.
 */
const SHELL_COULD_NOT_RUN = new Set([126, 127]);

export function classifyToolResult(result: Pick<ToolResult, "success" | "exitCode">): ToolOutcome {
  if (result.success) return { kind: "succeeded" };
  if (result.exitCode !== undefined && !SHELL_COULD_NOT_RUN.has(result.exitCode))
    return { kind: "observation", exitCode: result.exitCode };
  return { kind: "failed" };
}
